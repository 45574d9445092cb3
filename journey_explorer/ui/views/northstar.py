"""North star: the critical event (default: the goal) and the period."""
from __future__ import annotations

from journey_explorer.ui.views.base import AnalysisView


class NorthStarView(AnalysisView):
    def build_options(self) -> None:
        # No event chosen: the view's default (the goal), with the CSAT/revenue columns it found.
        self.critical_event = self.binder.bind(
            "event", self.event_choice("Critical event", "(the goal)", self.refresh), none_keeps_base=True)
        self.period = self.binder.bind("period", self.combo("Period", ["week", "month", "day"],
                                                            lambda _: self.refresh()))


VIEW_CLASS = NorthStarView
