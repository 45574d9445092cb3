"""Lifecycle: the period of the stacked bars."""
from __future__ import annotations

from journey_explorer.ui.views.base import AnalysisView, add_count_scheduled


class LifecycleView(AnalysisView):
    def build_options(self) -> None:
        self.period = self.binder.bind("period", self.combo("Period", ["week", "month", "day"],
                                                            lambda _: self.refresh()))
        self.count_scheduled = add_count_scheduled(self, "activity")


VIEW_CLASS = LifecycleView
