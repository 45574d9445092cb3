"""Compare: successful vs failing users, those who did an event vs those who did not, or two periods
(set from the What changed view: the weeks before a change against the change window)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from journey_explorer.analysis import compare
from journey_explorer.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.breakdown_choice import add_breakdown
from journey_explorer.ui.views.controls import blocked


class CompareView(AnalysisView):
    def build_options(self) -> None:
        self.periods: tuple[str, str] | None = None        # (period A, period B) as "START..END"
        self.did = self.event_choice("Groups", "(successful vs failing)", self._groups_chosen)
        self.breakdown = add_breakdown(self)       # the groups' shares of each value, under the chart
        self.periods_label = QLabel()
        self.periods_label.setTextFormat(Qt.TextFormat.PlainText)
        self.clear_periods = QPushButton("Back to successful vs failing")
        self.clear_periods.clicked.connect(lambda: self.set_periods(None))
        self.options.addWidget(self.periods_label)
        self.options.addWidget(self.clear_periods)
        self._show_periods()

    def current_spec(self, log: EventLog):
        default = self.entry.default_spec(log, self.explorer.filters)
        if self.periods:
            return compare.Spec(goal=default.goal, period_a=self.periods[0], period_b=self.periods[1])
        did = self.did.value()
        return self.binder.read(compare.Spec(did=did) if did else default)

    def show_spec(self, spec) -> None:
        with blocked(self.did):
            self.did.setCurrentText(spec.did or self.did.none_label)
        self.binder.show(spec)
        self.periods = (spec.period_a, spec.period_b) if spec.period_a and spec.period_b else None
        self._show_periods()

    def set_periods(self, periods: tuple[str, str] | None) -> None:
        """Compare period A with period B (None: back to the groups picker), and recompute."""
        self.show_spec(compare.Spec(goal=self.goal(), period_a=periods[0] if periods else None,
                                    period_b=periods[1] if periods else None))
        self.refresh()

    def _groups_chosen(self, *_) -> None:
        self.periods = None
        self._show_periods()
        self.refresh()

    def _show_periods(self) -> None:
        on = self.periods is not None
        self.periods_label.setText(f"Period A {_dates(self.periods[0])} vs period B {_dates(self.periods[1])}"
                                   if on else "")
        self.periods_label.setVisible(on)
        self.clear_periods.setVisible(on)
        self.did.setEnabled(not on)
        self.breakdown.setEnabled(not on)          # two periods hold the same paths: no breakdown


def _dates(period: str) -> str:
    """ "2024-05-01..2024-05-19" -> "2024-05-01 – 2024-05-18" (the end is exclusive; shown inclusive).

    >>> _dates("2024-05-01..2024-05-19")
    '2024-05-01 – 2024-05-18'
    """
    from datetime import date, timedelta
    start, _, end = period.partition("..")
    try:
        end = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
    except ValueError:
        pass
    return f"{start} – {end}"


VIEW_CLASS = CompareView
