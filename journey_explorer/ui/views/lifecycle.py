"""Lifecycle: the period of the stacked bars."""
from __future__ import annotations

from journey_explorer.ui.views.base import AnalysisView


class LifecycleView(AnalysisView):
    def build_options(self) -> None:
        self.period = self.binder.bind("period", self.combo("Period", ["week", "month", "day"],
                                                            lambda _: self.refresh()))


VIEW_CLASS = LifecycleView
