"""Compare: successful vs failing users, or those who did an event vs those who did not."""
from __future__ import annotations

from journey_explorer.analysis import compare
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.controls import blocked


class CompareView(AnalysisView):
    def build_options(self) -> None:
        self.did = self.event_choice("Groups", "(successful vs failing)", self.refresh)

    def current_spec(self, log: EventLog):
        did = self.did.value()
        return compare.Spec(did=did) if did else self.entry.default_spec(log, self.explorer.filters)

    def show_spec(self, spec) -> None:
        with blocked(self.did):
            self.did.setCurrentText(spec.did or self.did.none_label)


VIEW_CLASS = CompareView
