"""North star: the critical event (default: the goal when users repeat it, else the event users come
back to repeat — ``interval.default_event``) and the period."""
from __future__ import annotations

from journey_explorer.ui.views.base import AnalysisView


class NorthStarView(AnalysisView):
    default_on_worker = True         # its critical event: a search over the log (seconds at 10M events)

    def build_options(self) -> None:
        # No event chosen: the view's default (see the module's docstring), with the CSAT/revenue columns it found.
        self.critical_event = self.binder.bind(
            "event", self.event_choice("Critical event", "(automatic)", self.refresh), none_keeps_base=True)
        self.period = self.binder.bind("period", self.combo("Period", ["week", "month", "day"],
                                                            lambda _: self.refresh()))


VIEW_CLASS = NorthStarView
