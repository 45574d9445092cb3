"""Funnel: steps (default: the view's own choice), conversion window and order."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit

from journey_explorer.analysis import funnel
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView, blocked, duration_text


class FunnelView(AnalysisView):
    def build_options(self) -> None:
        self.steps_edit = QLineEdit()
        self.steps_edit.setPlaceholderText("comma-separated steps")
        self.steps_edit.setMinimumWidth(420)
        self.steps_edit.editingFinished.connect(self.refresh)
        self.options.addWidget(QLabel("Steps"))
        self.options.addWidget(self.steps_edit)
        self.window_choice = self.combo("Window", ["none", "1d", "7d", "30d", "90d"], lambda _: self.refresh(),
                                        funnel.DEFAULT_WINDOW)
        self.order = self.combo("Order", ["sequential", "strict", "any"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        names = [s.strip() for s in self.steps_edit.text().split(",") if s.strip()] or \
            funnel.default_steps(log, self.goal())
        window = self.window_choice.currentText()
        return funnel.Spec(steps=tuple(names), order=self.order.currentText(),
                           window_ms=None if window == "none" else funnel.parse_duration(window))

    def show_spec(self, spec) -> None:
        window = "none" if spec.window_ms is None else duration_text(spec.window_ms)
        with blocked(self.steps_edit, self.window_choice, self.order):
            self.steps_edit.setText(", ".join(spec.steps))
            if self.window_choice.findText(window) < 0:
                self.window_choice.addItem(window)
            self.window_choice.setCurrentText(window)
            self.order.setCurrentText(spec.order)

    def shown(self, result, spec) -> None:
        if not self.steps_edit.text():          # show the steps the view chose by itself
            self.steps_edit.setText(", ".join(result.spec.steps))


VIEW_CLASS = FunnelView
