"""North star: the critical event per period, and the inputs that drive it.

Per period (calendar day/week/month):
- metric / breadth: users who did the critical event;
- depth: share of them who did it more than once in the period;
- frequency: critical events per such user in the period;
- efficiency: median days from a user's first event to their first critical event, for users whose
  first critical event falls in the period.
With ``--csat PROP --revenue PROP`` (user properties): PPP = CSAT × CLTV per user (revenue taken as
the customer lifetime value), with its quantiles and histogram — who gets value *and* pays for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import first_time_of
from journey_explorer.analysis.lifecycle import PERIODS, period_index, period_ordinals
from journey_explorer.analysis.records import json_records
from journey_explorer.domain import ChoiceError, JourneyError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

NEEDS_USER_PROPERTIES = True     # breakdowns / segments / CSAT and revenue are user properties


@dataclass(frozen=True)
class Spec:
    event: str
    period: str = "week"
    csat: str | None = None
    revenue: str | None = None


@dataclass
class Result:
    spec: Spec
    table: pd.DataFrame
    ppp: dict | None

    @property
    def headline(self) -> dict | None:
        """The row tiles and headlines report: the last *complete* period (fully inside the data, so
        never the partial tail that would read "0") in which anyone did the event (a log whose last
        weeks only carry other events has an empty tail, not a north star of 0); the last complete
        period when no one ever did it; the last period when none is complete."""
        if self.table.empty:
            return None
        complete = self.table[self.table["complete"]]
        active = complete[complete["metric"] > 0]
        row = (active if len(active) else complete if len(complete) else self.table).iloc[-1]
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.to_dict().items()}

    def to_json_dict(self) -> dict:
        return {"event": self.spec.event, "period": self.spec.period, "headline": self.headline,
                "periods": json_records(self.table), "ppp": self.ppp}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    import pandas as pd
    if spec.period not in PERIODS:
        raise ChoiceError("period", spec.period, ("day", "week", "month"))
    code = log.event_code(spec.event)
    number, labels = period_index(log.ts, spec.period)
    size = len(labels)
    breadth, repeaters, events = critical_counts(log, code, number, size)
    first_critical = first_time_of(log, code)
    starts = np.flatnonzero(log.path_starts())
    first_event = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    first_event[log.user[starts]] = log.ts[starts]
    converted = np.flatnonzero(first_critical != np.iinfo(np.int64).max)
    days = (first_critical[converted] - first_event[converted]) / 86_400_000
    convert_period = period_ordinals(first_critical[converted], spec.period) - labels[0].ordinal
    efficiency = [float(np.median(days[convert_period == p])) if np.any(convert_period == p) else np.nan
                  for p in range(size)]
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({"period": [str(p.start_time.date()) for p in labels], "metric": breadth,
                              "breadth": breadth, "depth": np.round(repeaters / np.maximum(breadth, 1), 4),
                              "frequency": np.round(np.where(breadth > 0, events / np.maximum(breadth, 1), np.nan), 3),
                              "efficiency_days": np.round(efficiency, 2)})
    table["complete"] = complete_periods(labels, log.ts)
    return Result(spec=spec, table=table, ppp=_ppp(log, spec))


def critical_counts(log: EventLog, code: int, number: np.ndarray, size: int):
    """Per period: users who did event ``code`` (breadth), those who did it more than once
    (repeaters), and its events. ``number``: each event's period, 0..size-1.

    The log is sorted by user and time, so the (user, period) pairs of the hits come in order: a pair
    starts where the user or the period changes (no sort, no ``np.unique``).
    """
    hits = log.event == code
    user, period = log.user[hits], number[hits]
    starts = np.ones(len(user), dtype=bool)
    starts[1:] = (user[1:] != user[:-1]) | (period[1:] != period[:-1])
    first = np.flatnonzero(starts)
    repeated = np.diff(np.append(first, len(user))) > 1
    pair_period = period[first]
    return (np.bincount(pair_period, minlength=size), np.bincount(pair_period[repeated], minlength=size),
            np.bincount(period, minlength=size))


def complete_periods(labels: pd.PeriodIndex, ts: np.ndarray) -> np.ndarray:
    """True for periods that lie wholly between the first and the last event of the data.

    >>> import pandas as pd
    >>> weeks = pd.period_range("2024-01-01", periods=3, freq="W-SUN")
    >>> complete_periods(weeks, np.array([1704067200000, 1705536000000])).tolist()   # Mon 1 Jan .. Thu 18 Jan
    [True, True, False]
    """
    import pandas as pd
    if not len(ts):
        return np.zeros(len(labels), dtype=bool)
    first = pd.Timestamp(int(ts.min()), unit="ms")
    last = pd.Timestamp(int(ts.max()), unit="ms")
    starts = labels.start_time
    ends = labels.end_time
    return np.asarray((starts >= first.floor("D")) & (ends <= last), dtype=bool)


def _ppp(log: EventLog, spec: Spec) -> dict | None:
    import pandas as pd
    if not (spec.csat and spec.revenue):
        return None
    names = log.user_property_names()          # only the two columns used are read
    missing = [p for p in (spec.csat, spec.revenue) if p not in names]
    if missing:
        raise JourneyError(f"Unknown user property {', '.join(missing)}")
    csat = pd.to_numeric(pd.Series(log.user_property(spec.csat)), errors="coerce")
    revenue = pd.to_numeric(pd.Series(log.user_property(spec.revenue)), errors="coerce")
    ppp = (csat * revenue).dropna()
    if ppp.empty:
        return {"users": 0}
    counts, edges = np.histogram(ppp, bins=20)
    return {"users": int(len(ppp)), "mean": round(float(ppp.mean()), 2),
            "quantiles": {f"p{int(q * 100)}": round(float(ppp.quantile(q)), 2) for q in (0.1, 0.25, 0.5, 0.75, 0.9)},
            "histogram": [{"from": round(float(a), 2), "to": round(float(b), 2), "users": int(c)}
                          for a, b, c in zip(edges[:-1], edges[1:], counts)]}


def property_columns(log: EventLog) -> tuple[str | None, str | None]:
    """The user properties holding CSAT and revenue, found by name (used unless others are named)."""
    names = log.user_property_names()          # the names alone: no property is read
    csat = next((c for c in names if c.lower() == "csat"), None)
    revenue = next((c for c in names if c.lower() in ("revenue", "cltv", "ltv")), None)
    return csat, revenue
