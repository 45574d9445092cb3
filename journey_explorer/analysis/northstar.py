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
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import first_time_of, group_medians
from journey_explorer.analysis.change_series import draining_from
from journey_explorer.analysis.columns import Columns
from journey_explorer.analysis.lifecycle import DAY_MS, PERIODS, period_ordinals, period_starts
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
    """``columns``: the table per period as numpy columns (period, metric, breadth, depth, frequency,
    efficiency_days, complete); ``table`` is the same as a DataFrame, built when first asked (the
    command line's JSON does not need pandas)."""
    spec: Spec
    columns: Columns
    ppp: dict | None
    drains_from: str | None = None     # the Monday from which the log only drains out (None: it does not)

    @cached_property
    def table(self) -> pd.DataFrame:
        """The columns as a DataFrame, made when first asked (the CLI's JSON does without pandas)."""
        return self.columns.to_frame()

    def charted(self) -> pd.DataFrame:
        """The periods a trend chart draws: the complete ones (a partial first or last week would chart a
        rise or fall that is not there, under a headline that leaves it out); all when none is whole."""
        complete = self.table["complete"].astype(bool)
        return self.table[complete] if complete.any() else self.table

    @property
    def headline(self) -> dict | None:
        """The row tiles and headlines report: the last *complete* period (fully inside the data, so
        never the partial tail that would read "0") in which anyone did the event (a log whose last
        weeks only carry other events has an empty tail, not a north star of 0), and before the log
        drains out (an extract of the cases created until a date: its last weeks hold a few late steps,
        "1 user did it"); the last complete period when no one ever did it; the last period when none
        is complete."""
        if not len(self.columns):
            return None
        complete = self.columns["complete"].astype(bool)
        done = complete & (self.columns["metric"] > 0)
        before_drain = done & self.before_draining()
        rows = next((np.flatnonzero(rows) for rows in (before_drain, done, complete) if rows.any()), [])
        row = int(rows[-1]) if len(rows) else len(self.columns) - 1
        values = {name: column[row].item() if hasattr(column[row], "item") else column[row]
                  for name, column in self.columns.data.items()}
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in values.items()}

    def before_draining(self) -> np.ndarray:
        """Per period: whether it ends before the log drains out (a period the drain starts in does not)."""
        periods = np.asarray(self.columns["period"], dtype="datetime64[D]")
        if self.drains_from is None:
            return np.ones(len(periods), dtype=bool)
        ends = _period_ends(periods, self.spec.period)
        return ends <= np.datetime64(self.drains_from, "D")

    def to_json_dict(self) -> dict:
        return {"event": self.spec.event, "period": self.spec.period, "headline": self.headline,
                "drains_from": self.drains_from, "periods": json_records(self.columns), "ppp": self.ppp}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    if spec.period not in PERIODS:
        raise ChoiceError("period", spec.period, ("day", "week", "month"))
    code = log.event_code(spec.event)
    ordinals = period_ordinals(log.ts, spec.period)
    first = int(ordinals.min()) if len(ordinals) else 0
    size = int(ordinals.max()) - first + 1 if len(ordinals) else 0
    number = ordinals - first
    breadth, repeaters, events = critical_counts(log, code, number, size)
    first_critical = first_time_of(log, code)
    starts = np.flatnonzero(log.path_starts())
    first_event = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    first_event[log.user[starts]] = log.ts[starts]
    converted = np.flatnonzero(first_critical != np.iinfo(np.int64).max)
    days = (first_critical[converted] - first_event[converted]) / 86_400_000
    convert_period = period_ordinals(first_critical[converted], spec.period) - first
    efficiency = group_medians(convert_period, days, size)
    periods = np.arange(first, first + size, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = Columns({
            "period": np.array(period_starts(periods, spec.period), dtype=object), "metric": breadth,
            "breadth": breadth, "depth": np.round(repeaters / np.maximum(breadth, 1), 4),
            "frequency": np.round(np.where(breadth > 0, events / np.maximum(breadth, 1), np.nan), 3),
            "efficiency_days": np.round(np.array(efficiency, dtype=float), 2),
            "complete": whole_periods(periods, spec.period, log.ts)})
    return Result(spec=spec, columns=columns, ppp=_ppp(log, spec), drains_from=draining_from(log))


def _period_ends(starts: np.ndarray, period: str) -> np.ndarray:
    """The day after each period (starting on ``starts``, datetime64[D]) ends."""
    if period == "month":
        return (starts.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return starts + (7 if period == "week" else 1)


def whole_periods(ordinals: np.ndarray, period: str, ts: np.ndarray) -> np.ndarray:
    """True for periods (ordinals, ``period_ordinals``) that lie wholly between the first day of the
    data and its last day, both ends judged by whole days as ``lifecycle.covered_periods`` does (a
    week whose data end Sunday 23:58 is whole); pandas' Period.start_time arithmetic in integers.

    >>> whole_periods(np.array([2819, 2820, 2821]), "week", np.array([1704067200000, 1705536000000]))
    array([ True,  True, False])
    >>> sunday_late = 1705881480000          # 2024-01-21 23:58, the last minutes of the week of 15 Jan
    >>> whole_periods(np.array([2819, 2820, 2821]), "week", np.array([1704067200000, sunday_late]))
    array([ True,  True,  True])
    """
    if not len(ts):
        return np.zeros(len(ordinals), dtype=bool)
    first_day = int(ts.min()) // DAY_MS * DAY_MS
    day_after_last = (int(ts.max()) // DAY_MS + 1) * DAY_MS
    starts, ends = period_start_ms(ordinals, period), period_start_ms(ordinals + 1, period)
    return (starts >= first_day) & (ends <= day_after_last)


def period_start_ms(ordinals: np.ndarray, period: str) -> np.ndarray:
    """UTC milliseconds at which each period ordinal (``period_ordinals``) starts."""
    if period == "month":
        return ordinals.astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
    days = (ordinals - 1) * 7 - 3 if period == "week" else ordinals
    return days.astype(np.int64) * DAY_MS


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


def _ppp(log: EventLog, spec: Spec) -> dict | None:
    if not (spec.csat and spec.revenue):
        return None
    import pandas as pd
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
