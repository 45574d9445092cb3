"""Stuck points: the ranking, and one click to name an event by the property that carries its step
when the stuck point was found inside it ("lesson_started: Unit 3" inside lesson_started)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton

from journey_explorer.ui.views.base import AnalysisView


class StuckView(AnalysisView):
    name_requested = Signal(str, str)      # event, the property to name it by

    def build_options(self) -> None:
        self.name_button = QPushButton("Name by its step")
        self.name_button.setToolTip("Name the event by the property that tells its steps apart, in every view "
                                    "(Ctrl+Z undoes it)")
        self.name_button.clicked.connect(self.name_event)
        self.name_button.setVisible(False)
        self.options.addWidget(self.name_button)

    def shown(self, result, spec) -> None:
        inside = self.inside(result)
        self.name_button.setVisible(inside is not None)
        self.name_button.setEnabled(True)
        if inside:
            self.name_button.setText(f"Name {inside[0]} by {inside[1]}")

    @staticmethod
    def inside(result) -> tuple[str, str] | None:
        """(event, property) of the first stuck point found inside an event named by a property."""
        found = result.stuck if result is not None else None
        if found is None or found.empty or "inside_event" not in found:
            return None
        inside = found[found["inside_event"].notna()]
        return (inside.iloc[0]["inside_event"], inside.iloc[0]["inside_property"]) if len(inside) else None

    def name_event(self) -> None:
        inside = self.inside(self.drawn_result)
        if inside is not None:
            self.name_button.setEnabled(False)      # once: the view computes again, named, and says so
            self.name_requested.emit(*inside)


VIEW_CLASS = StuckView
