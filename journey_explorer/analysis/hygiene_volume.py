"""Daily counts per event name, and the counts each name *would* have at its usual share.

"An event stops" only means something relative to what else happens that day: at the end of a log
everything stops. And a plain share of the day's events is not enough either: a step users take on
their first day (sign up) vanishes when no new users arrive, and a step taken months in (a renewal)
is absent from the first months of any log. So the expected count of an event on a day is
standardised by *path age* (time since the user's first event):

    expected[e, day] = sum over age buckets a of  events[day, a] * share of e among all events at age a

The shares are taken over the whole log, which makes the expectation for an event that stopped a
little low (conservative: an alarm needs more evidence, never less).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    pass

DAY_MS = 86_400_000
MINUTE_MS = 60_000
# Path-age buckets: the first minutes, hour, day, week, month, quarter, year, beyond.
AGE_EDGES_MS = np.array([MINUTE_MS, 60 * MINUTE_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS, 91 * DAY_MS, 365 * DAY_MS])


@dataclass(frozen=True)
class DailyVolume:
    """``observed[e, d]``: events of name ``e`` on day ``d`` (UTC) counted from ``first_day_ms``;
    ``expected[e, d]``: the count at the name's usual share of events at the same path age."""

    first_day_ms: int
    observed: np.ndarray
    expected: np.ndarray

    @property
    def days(self) -> int:
        return self.observed.shape[1]

    def date(self, day: int) -> str:
        """The ISO date of day index ``day``."""
        import pandas as pd
        return pd.Timestamp(self.first_day_ms + int(day) * DAY_MS, unit="ms").date().isoformat()


def unique_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and their counts, for keys that are *nearly* sorted (a unit code times the
    number of names plus a name code, in log order): a stable sort (timsort) runs in about linear
    time there, several times faster than ``np.unique``.

    >>> [a.tolist() for a in unique_counts(np.array([3, 1, 3, 7, 7, 7]))]
    [[1, 3, 7], [1, 2, 3]]
    """
    ordered = np.sort(keys, kind="stable")
    if len(ordered) == 0:
        return ordered, np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return ordered[first], np.diff(np.append(first, len(ordered)))


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The median of ``values`` repeated ``weights`` times (of two middle values, the lower): the
    median of many counts from their few distinct values, without sorting every count.

    >>> weighted_median(np.array([3.0, 1.0, 2.0]), np.array([1, 1, 5]))
    2.0
    """
    order = np.argsort(values, kind="stable")
    below = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(below, below[-1] / 2)])


def median_count(counts: np.ndarray) -> float:
    """The median of non-negative integer counts, through their histogram.

    >>> median_count(np.array([1, 1, 4, 9, 2]))
    2.0
    """
    histogram = np.bincount(counts)
    present = np.flatnonzero(histogram)
    return weighted_median(present.astype(float), histogram[present])


def path_age_ms(log: EventLog) -> np.ndarray:
    """Milliseconds since the user's first event, per event.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "b"], "event": ["x", "y", "x"],
    ...                                         "time": [100, 250, 70]}))
    >>> path_age_ms(log).tolist()
    [0, 150, 0]
    """
    if len(log) == 0:
        return np.zeros(0, dtype=np.int64)
    first_index = np.maximum.accumulate(np.where(log.path_starts(), np.arange(len(log)), 0))
    return log.ts - log.ts[first_index]


def daily_volume(log: EventLog, keep: np.ndarray | None = None) -> DailyVolume:
    """Observed and age-standardised expected daily counts; ``keep`` leaves out events (such as
    timestamps far outside the rest) that would stretch the calendar."""
    n_names = len(log.event_names)
    keep = np.ones(len(log), dtype=bool) if keep is None else keep
    ts, event = log.ts[keep], log.event[keep].astype(np.int64)
    if len(ts) == 0:
        return DailyVolume(0, np.zeros((n_names, 0)), np.zeros((n_names, 0)))
    first_day = int(ts.min() // DAY_MS)
    day = ts // DAY_MS - first_day
    n_days = int(day.max()) + 1
    age = np.searchsorted(AGE_EDGES_MS, path_age_ms(log)[keep], side="right")
    n_ages = len(AGE_EDGES_MS) + 1
    observed = np.bincount(event * n_days + day, minlength=n_names * n_days).reshape(n_names, n_days)
    by_age = np.bincount(event * n_ages + age, minlength=n_names * n_ages).reshape(n_names, n_ages)
    share_at_age = by_age / np.maximum(by_age.sum(axis=0), 1)                      # (names, ages)
    day_by_age = np.bincount(day * n_ages + age, minlength=n_days * n_ages).reshape(n_days, n_ages)
    expected = share_at_age @ day_by_age.T                                          # (names, days)
    return DailyVolume(first_day * DAY_MS, observed, expected)
