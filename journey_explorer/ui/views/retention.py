"""Retention: start event, period and mode."""
from __future__ import annotations

from journey_explorer.ui.views.base import AnalysisView, add_count_scheduled
from journey_explorer.ui.views.breakdown_choice import add_breakdown


class RetentionView(AnalysisView):
    def build_options(self) -> None:
        self.start = self.binder.bind("start_event", self.event_choice("Start", "(first event)", self.refresh))
        self.period = self.binder.bind("period", self.combo("Period", ["week", "day", "month"],
                                                            lambda _: self.refresh()))
        self.mode = self.binder.bind("mode", self.combo("Mode", ["on", "on-or-after"], lambda _: self.refresh()))
        self.count_scheduled = add_count_scheduled(self, "coming back")
        self.breakdown = add_breakdown(self)


VIEW_CLASS = RetentionView
