"""Lifecycle: per calendar period, new, returning, resurrected and dormant users.

The usual growth-accounting definition (as in Mixpanel's and Amplitude's lifecycle charts), with a
user active in a period when they have any event in it:
- new: active, and this is their first active period;
- returning: active now and in the previous period;
- resurrected: active now, not in the previous period, but active at some earlier period;
- dormant: active in the previous period but not now (reported as a negative count).

Events sent on a schedule rather than done by the user (a monthly renewal, ``automatic``) do not
make a user active unless ``count_scheduled``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.automatic import automatic_events, without_automatic
from journey_explorer.analysis.columns import Columns
from journey_explorer.analysis.common import subset
from journey_explorer.analysis.records import json_records
from journey_explorer.domain import ChoiceError, JourneyError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Spec:
    period: str = "week"
    count_scheduled: bool = False      # count scheduled events (a monthly renewal) as activity


@dataclass
class Result:
    """``columns``: per period, period (its first day), new, returning, resurrected, dormant
    (negative), active and quick_ratio as numpy columns; ``table`` is the same as a DataFrame, built
    when first asked (the command line's JSON does not need pandas: its import is ~0.5 s)."""
    spec: Spec
    columns: Columns
    first_ms: int | None = None     # the data's first and last event: which periods it covers whole
    last_ms: int | None = None
    scheduled: tuple = ()           # automatic.AutomaticEvent: not counted as activity

    @cached_property
    def table(self) -> pd.DataFrame:
        """The columns as a DataFrame, made when first asked (the CLI's JSON does without pandas)."""
        return self.columns.to_frame()

    def covered(self) -> np.ndarray:
        """Per period: whether the data covers it whole (a chart leaves the others out)."""
        if self.first_ms is None:
            return np.ones(len(self.columns), dtype=bool)
        return covered_periods(list(self.columns["period"]), self.spec.period, self.first_ms, self.last_ms)

    def to_json_dict(self) -> dict:
        return {"period": self.spec.period, "definition": __doc__.split("\n\n")[1].strip(),
                "not_counted_as_activity": [event.name for event in self.scheduled],
                "periods": json_records(self.columns)}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def period_ordinals(ts: np.ndarray, period: str) -> np.ndarray:
    """Calendar period (pandas ordinal) of each UTC millisecond timestamp, in integer arithmetic.

    Days since 1970, weeks ending on Sunday (1970-01-01 was a Thursday; pandas numbers the week
    ending Sunday 1970-01-04 as 1) or months since January 1970, the same numbers as
    ``pd.PeriodIndex.asi8`` without building timestamps.

    >>> period_ordinals(np.array([0, 4 * DAY_MS]), "week").tolist()      # Thu 1 Jan, Mon 5 Jan 1970
    [1, 2]
    """
    ts = np.asarray(ts, dtype=np.int64)
    if period == "month":
        return ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    days = ts // DAY_MS
    return days if period == "day" else (days + 3) // 7 + 1


def covered_periods(starts: list[str], period: str, first_ms: int, last_ms: int) -> np.ndarray:
    """Per period (its first day, as ``period_starts`` gives): whether the data covers it whole, from
    its first day to its last. A period the data starts or ends inside holds a few days' users and
    would chart a rise or fall that is not there. All True when none is whole (too little data).

    >>> day = 86_400_000
    >>> monday = 1_735_516_800_000          # 2024-12-30
    >>> covered_periods(["2024-12-30", "2025-01-06", "2025-01-13"], "week", monday + day, monday + 15 * day).tolist()
    [False, True, False]
    >>> covered_periods(["2024-12-30", "2025-01-06"], "week", monday, monday + 14 * day - 60_000).tolist()  # ends Sun 23:59
    [True, True]
    """
    begins = np.array(starts, dtype="datetime64[D]")
    unit = {"day": np.timedelta64(1, "D"), "week": np.timedelta64(7, "D")}.get(period)
    ends = (begins + unit if unit is not None else
            (begins.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[D]"))
    first_day = np.datetime64(int(first_ms) // DAY_MS, "D")
    day_after_last = np.datetime64(int(last_ms) // DAY_MS + 1, "D")
    whole = (begins >= first_day) & (ends <= day_after_last)     # both ends by whole days
    return whole if whole.any() else np.ones(len(starts), dtype=bool)


def period_starts(ordinals: np.ndarray, period: str) -> list[str]:
    """The first day (YYYY-MM-DD) of each period ordinal.

    >>> period_starts(np.array([1, 2]), "week"), period_starts(np.array([1]), "month")
    (['1969-12-29', '1970-01-05'], ['1970-02-01'])
    """
    if period == "month":
        return np.datetime_as_string(ordinals.astype("datetime64[M]").astype("datetime64[D]")).tolist()
    days = (ordinals - 1) * 7 - 3 if period == "week" else ordinals
    return np.datetime_as_string(days.astype("datetime64[D]")).tolist()


def period_index(ts: np.ndarray, period: str) -> tuple[np.ndarray, pd.PeriodIndex]:
    """Period number of each timestamp (0 = the first period of ``ts``), and the periods they stand for."""
    import pandas as pd
    ordinals = period_ordinals(ts, period)
    if not len(ordinals):
        return ordinals, pd.PeriodIndex([], freq=PERIODS[period])
    first, last = ordinals.min(), ordinals.max()
    labels = pd.period_range(start=pd.Period(ordinal=first, freq=PERIODS[period]),
                             end=pd.Period(ordinal=last, freq=PERIODS[period]))
    return ordinals - first, labels


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    scheduled = [] if spec.count_scheduled or not len(log) else automatic_events(log)
    done = subset(log, without_automatic(log, scheduled)) if scheduled else log
    table = counts(done if len(done) else log, spec.period)
    table["period"] = np.array(table["period"], dtype=object)
    table["quick_ratio"] = quick_ratio(table["new"], table["resurrected"], table["dormant"])
    return Result(spec=spec, columns=Columns(table), first_ms=int(log.ts.min()), last_ms=int(log.ts.max()),
                  scheduled=tuple(scheduled))


def quick_ratio(new: np.ndarray, resurrected: np.ndarray, dormant: np.ndarray) -> np.ndarray:
    """(new + resurrected) / dormant users per period, rounded to 3 places; NaN where none went dormant.

    >>> quick_ratio(np.array([3, 1]), np.array([1, 0]), np.array([-2, 0])).tolist()
    [2.0, nan]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        quick = (new + resurrected) / -dormant
    return np.round(np.where(dormant < 0, quick, np.nan), 3)


def counts(log: EventLog, period: str) -> dict:
    """The lifecycle table's columns without pandas (period start, new, returning, resurrected,
    dormant, active): the Overview on start-up draws these before pandas is imported."""
    if period not in PERIODS:
        raise ChoiceError("period", period, ("day", "week", "month"))
    if len(log) == 0:
        raise JourneyError("no events in the selection")
    ordinals = period_ordinals(log.ts, period)
    first = int(ordinals.min())
    size = int(ordinals.max()) - first + 1
    # The log is sorted by user and time, so a user's periods never go down: a (user, period) pair
    # starts wherever the user or the period differs from the previous event's.
    starts = np.empty(len(log), dtype=bool)
    starts[0] = True
    np.not_equal(ordinals[1:], ordinals[:-1], out=starts[1:])
    starts[1:] |= log.user[1:] != log.user[:-1]
    user, period_of = log.user[starts], ordinals[starts] - first
    same_user_before = np.append(False, user[1:] == user[:-1])
    gap = np.append(0, np.diff(period_of))
    new = ~same_user_before
    returning = same_user_before & (gap == 1)
    resurrected = same_user_before & (gap > 1)
    same_user_after = np.append(user[1:] == user[:-1], False)
    next_gap = np.append(np.diff(period_of), 0)
    goes_dormant = (~same_user_after | (next_gap > 1)) & (period_of + 1 < size)
    return {"period": period_starts(np.arange(first, first + size), period),
            "new": np.bincount(period_of[new], minlength=size),
            "returning": np.bincount(period_of[returning], minlength=size),
            "resurrected": np.bincount(period_of[resurrected], minlength=size),
            "dormant": -np.bincount(period_of[goes_dormant] + 1, minlength=size + 1)[:size],
            "active": np.bincount(period_of, minlength=size)}
