"""Funnel: steps (default: the view's own choice), conversion window and order."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit

from journey_explorer.analysis import funnel
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.breakdown_choice import add_breakdown
from journey_explorer.ui.views.controls import duration_text


def steps_from_text(text: str) -> tuple[str, ...] | None:
    """ "Sign Up, Paid" -> ("Sign Up", "Paid"); nothing typed -> None (the view's own steps)."""
    return tuple(s.strip() for s in text.split(",") if s.strip()) or None


def window_from_text(text: str) -> int | None:
    return None if text == "none" else funnel.parse_duration(text)


def window_text(ms: int | None) -> str:
    return "none" if ms is None else duration_text(ms)


class FunnelView(AnalysisView):
    def build_options(self) -> None:
        self.steps_edit = QLineEdit()
        self.steps_edit.setPlaceholderText("comma-separated steps")
        self.steps_edit.setMinimumWidth(420)
        self.steps_edit.editingFinished.connect(self.refresh)
        self.options.addWidget(QLabel("Steps"))
        self.options.addWidget(self.steps_edit)
        self.binder.bind("steps", self.steps_edit, steps_from_text, ", ".join, none_keeps_base=True)
        self.window_choice = self.binder.bind(
            "window_ms", self.combo("Window", ["none", "1d", "7d", "30d", "90d"], lambda _: self.refresh(),
                                    funnel.DEFAULT_WINDOW), window_from_text, window_text)
        self.order = self.binder.bind("order", self.combo("Order", ["sequential", "strict", "any"],
                                                          lambda _: self.refresh()))
        self.breakdown = add_breakdown(self)

    def shown(self, result, spec) -> None:
        if not self.steps_edit.text():          # show the steps the view chose by itself
            self.steps_edit.setText(", ".join(result.spec.steps))


VIEW_CLASS = FunnelView
