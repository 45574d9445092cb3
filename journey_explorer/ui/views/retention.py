"""Retention: start event, period and mode."""
from __future__ import annotations

from journey_explorer.analysis import retention
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView, blocked


class RetentionView(AnalysisView):
    def build_options(self) -> None:
        self.start = self.event_choice("Start", "(first event)", self.refresh)
        self.period = self.combo("Period", ["week", "day", "month"], lambda _: self.refresh())
        self.mode = self.combo("Mode", ["on", "on-or-after"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        return retention.Spec(start_event=self.start.value(), period=self.period.currentText(),
                              mode=self.mode.currentText())

    def show_spec(self, spec) -> None:
        with blocked(self.start, self.period, self.mode):
            self.start.setCurrentText(spec.start_event or self.start.none_label)
            self.period.setCurrentText(spec.period)
            self.mode.setCurrentText(spec.mode)


VIEW_CLASS = RetentionView
