"""Usage interval: which event's repeats to measure (default: the registry's critical event)."""
from __future__ import annotations

from journey_explorer.ui.views.base import AnalysisView


class IntervalView(AnalysisView):
    default_on_worker = True         # its critical event: a search over the log (seconds at 10M events)

    def build_options(self) -> None:
        self.event = self.binder.bind("event", self.event_choice("Critical event", "(automatic)",
                                                                 lambda _: self.refresh()), none_keeps_base=True)


VIEW_CLASS = IntervalView
