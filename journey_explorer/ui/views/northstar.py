"""North star: the critical event (default: the goal) and the period."""
from __future__ import annotations

from dataclasses import replace

from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView, blocked


class NorthStarView(AnalysisView):
    def build_options(self) -> None:
        self.critical_event = self.event_choice("Critical event", "(the goal)", self.refresh)
        self.period = self.combo("Period", ["week", "month", "day"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        spec = self.entry.default_spec(log, self.explorer.filters)       # the goal, and CSAT/revenue columns
        return replace(spec, event=self.critical_event.value() or spec.event, period=self.period.currentText())

    def show_spec(self, spec) -> None:
        with blocked(self.critical_event, self.period):
            self.critical_event.setCurrentText(spec.event)
            self.period.setCurrentText(spec.period)


VIEW_CLASS = NorthStarView
