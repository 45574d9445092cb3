"""Lifecycle: the period of the stacked bars."""
from __future__ import annotations

from journey_explorer.analysis import lifecycle
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView, blocked


class LifecycleView(AnalysisView):
    def build_options(self) -> None:
        self.period = self.combo("Period", ["week", "month", "day"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        return lifecycle.Spec(period=self.period.currentText())

    def show_spec(self, spec) -> None:
        with blocked(self.period):
            self.period.setCurrentText(spec.period)


VIEW_CLASS = LifecycleView
