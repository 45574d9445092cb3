"""Series per period for the "what changed" analysis: event rates, shares of active paths,
transitions P(next = B | A) and funnel-step conversions, each as counts ``x`` out of ``n``.

Periods are weeks starting on Monday (UTC), or days when the data covers less than eight weeks. A
first or last period that the data covers for less than half is left out: a few hours of a week
are not a week.

Conversions need time to happen: a path that reached payment an hour before the data ends has not
had the chance to pay. So transitions and funnel steps leave out the events, near the end of the
data, that are closer to the end than 99 % of conversions take ("censored"), at most a week; a
transition that itself takes longer (a monthly renewal → the next one) is censored for its own 90th
percentile gap.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import distinct_count, group_quantiles, median
from journey_explorer.analysis.common import median_path_duration_ms
from journey_explorer.domain import ChoiceError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    pass

DAY_MS = 86_400_000
WEEK_DAYS = 7
WEEK_MS = WEEK_DAYS * DAY_MS
MONDAY_OFFSET_MS = 3 * DAY_MS        # 1970-01-01 was a Thursday
DAILY_BELOW_DAYS = 56                # less data than this: daily periods
MIN_COVERAGE = 0.5                   # an edge period needs this share of its time covered by data
THIN_EDGE = 0.25                     # edge periods with fewer active paths than this share of the median
DRAINING = 0.5                       # last periods with fewer new paths than this share of the median...
DRIED_UP = 0.25                      # ...down to under this share in one of them (nobody new starts any more)...
DRAINING_ACTIVE = 0.9                # ...and fewer active paths than this share of the median: draining
SETTLE_QUANTILE = 0.99               # conversions this quick count; later events are censored
MAX_TRANSITION_SETTLE_MS = WEEK_MS   # ...but a transition is never censored for more than a week...
SLOW_SETTLE_QUANTILE = 0.9           # ...unless A → B's own 90th-percentile gap is longer: then that
END = "(path ended)"
DENSE_PAIRS = 1 << 22                # up to ~2,000 event types, transitions are counted in a dense table
NEW_PATHS = "(new paths)"            # the "new" series: share of active paths first seen in the period

KINDS = ("funnel", "transition", "share", "rate", "new")


@dataclass(frozen=True)
class Periods:
    """Consecutive periods [edges[i], edges[i + 1]) in UTC milliseconds."""

    unit: str                 # "week" or "day"
    edges: np.ndarray         # int64, len = periods + 1

    @property
    def count(self) -> int:
        return len(self.edges) - 1

    def index(self, ts: np.ndarray) -> np.ndarray:
        """The period of each time; -1 outside all periods."""
        width = self.edges[1] - self.edges[0]
        position = (ts - self.edges[0]) // width
        return np.where((ts >= self.edges[0]) & (ts < self.edges[-1]), position, -1).astype(np.int64)

    def dates(self) -> list[str]:
        """ISO date of each period's first day."""
        import pandas as pd
        return [pd.Timestamp(int(ms), unit="ms").date().isoformat() for ms in self.edges[:-1]]

    def days(self) -> "Periods":
        """The same span in days."""
        return Periods("day", np.arange(self.edges[0], self.edges[-1] + 1, DAY_MS, dtype=np.int64))


def choose_periods(ts_min: int, ts_max: int, unit: str = "auto") -> Periods:
    """Weeks (or days) covering [ts_min, ts_max], edge periods dropped when mostly empty.

    >>> monday = 1704067200000      # 2024-01-01
    >>> p = choose_periods(monday + 5 * DAY_MS, monday + 70 * DAY_MS)
    >>> p.unit, p.dates()[0], p.count
    ('week', '2024-01-08', 9)
    """
    if unit == "auto":
        unit = "day" if ts_max - ts_min < DAILY_BELOW_DAYS * DAY_MS else "week"
    if unit not in ("week", "day"):
        raise ChoiceError("period", unit, ("week", "day", "auto"))
    width = WEEK_MS if unit == "week" else DAY_MS
    offset = MONDAY_OFFSET_MS if unit == "week" else 0
    first = (ts_min + offset) // width * width - offset
    last = (ts_max + offset) // width * width - offset          # start of the period holding ts_max
    edges = np.arange(first, last + 2 * width, width, dtype=np.int64)
    if len(edges) > 2 and (edges[1] - ts_min) / width < MIN_COVERAGE:
        edges = edges[1:]
    if len(edges) > 2 and (ts_max + 1 - edges[-2]) / width < MIN_COVERAGE:
        edges = edges[:-1]
    return Periods(unit, edges)


def trim_thin_edges(periods: Periods, log: EventLog) -> tuple[Periods, int, int]:
    """Leave out the first and last periods with fewer active paths than ``THIN_EDGE`` of the
    median period: a case log fading in or out (its last weeks hold only the late steps of a
    few cases) is not a change. Returns the periods kept and how many were left out at each end.
    """
    period = periods.index(log.ts)
    inside = period >= 0
    active = distinct_count(period[inside], log.user[inside], periods.count)
    enough = active >= THIN_EDGE * median(active)
    if not enough.any():
        return periods, 0, 0
    head = int(np.argmax(enough))
    tail = int(np.argmax(enough[::-1]))
    return Periods(periods.unit, periods.edges[head:len(periods.edges) - tail]), head, tail


def trim_draining_tail(periods: Periods, log: EventLog) -> tuple[Periods, int]:
    """Leave out the last periods in which few paths start (fewer than ``DRAINING`` of the median
    period's new paths; the last period counted for the time it covers) while the active ones thin
    out (fewer than ``DRAINING_ACTIVE`` of the median active paths), as old ones finish: an extract of the cases created in a
    half-year drains out after it, its last weeks hold only late steps (payments, reminders) and every
    rate per active path or per event moves by construction. A web log keeps getting new users to its
    end, and one that stops getting them keeps its regulars (the share of new users falls: a change).
    Returns the periods kept and how many were left out.

    >>> cases = {"a": (0, 1), "b": (0, 1), "c": (1, 2), "d": (1, 2), "e": (2, 3), "f": (2, 2), "g": (2, 4)}
    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     [(case, "x", (day + 1) * DAY_MS - 1) for case, days in cases.items() for day in days],
    ...     columns=["user", "event", "time"]))        # active 2, 4, 5, 1, 1; new 2, 2, 3, 0, 0
    >>> kept, tail = trim_draining_tail(Periods("day", np.arange(6) * DAY_MS), log)
    >>> kept.count, tail
    (3, 2)
    """
    period = periods.index(log.ts)
    first = period[log.path_starts()]
    new = np.bincount(first[first >= 0], minlength=periods.count).astype(float)
    inside = period >= 0
    active = distinct_count(period[inside], log.user[inside], periods.count).astype(float)
    width = periods.edges[1] - periods.edges[0]
    covered = max(min(1.0, (int(log.ts.max()) + 1 - periods.edges[-2]) / width), MIN_COVERAGE)
    new[-1], active[-1] = new[-1] / covered, active[-1] / covered
    starting = (new >= DRAINING * median(new)) | (active >= DRAINING_ACTIVE * median(active))
    if not starting.any():
        return periods, 0
    tail = int(np.argmax(starting[::-1]))
    # a web log losing half its new users at its end keeps that change: the tail must dry up
    if tail and new[len(new) - tail:].min() >= DRIED_UP * median(new):
        return periods, 0
    return Periods(periods.unit, periods.edges[:len(periods.edges) - tail]), tail


_DRAINING_FROM: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()    # log -> draining_from's answer


def draining_from(log: EventLog) -> str | None:
    """The first day (a Monday, YYYY-MM-DD) of the weeks in which the log only drains out
    (``trim_draining_tail``), or None. Counted there, the active base "shrinks" and every weekly
    count falls by construction: headlines about "the last full week" look before it. Kept per log:
    the report asks for the lifecycle and the north star, each a pass over the whole log."""
    if log not in _DRAINING_FROM:
        _DRAINING_FROM[log] = _first_draining_day(log)
    return _DRAINING_FROM[log]


def _first_draining_day(log: EventLog) -> str | None:
    if not len(log):
        return None
    kept, tail = trim_draining_tail(choose_periods(int(log.ts.min()), int(log.ts.max()), "week"), log)
    if not tail or not kept.count:
        return None
    return str(np.datetime64(int(kept.edges[-1]), "ms").astype("datetime64[D]"))


def warm_up_periods(log: EventLog, periods: Periods) -> int:
    """How many first periods paths are still starting up: the median path's duration (first to last
    event), in periods (none under half a period), at most a third of them. A case log whose orders take three weeks to be paid
    has no payments in its first weeks, only because its cases are new; shares of active paths and
    rates per event are not measured there. A web log's typical user is done in a day or a few.

    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     {"user": ["a", "a", "b", "b", "c"], "event": ["x"] * 5, "time": [0, 9 * DAY_MS, 0, 10 * DAY_MS, 0]}))
    >>> warm_up_periods(log, Periods("day", np.arange(40) * DAY_MS))    # durations 9, 10, 0 days: median 9
    9
    """
    if not len(log):
        return 0
    typical = median_path_duration_ms(log)
    width = float(periods.edges[1] - periods.edges[0])
    if typical < width / 2:                    # most paths are done within a period: no warm-up to speak of
        return 0
    return min(int(np.ceil(typical / width)), periods.count // 3)


def mask_periods(series: "SeriesSet", kinds: tuple[str, ...], first: int) -> None:
    """Series of ``kinds`` with their first ``first`` periods left out (no trials: not measured)."""
    for i in range(len(series)):
        if series.kind[i] in kinds:
            series.x[i][:first] = 0
            series.n[i][:first] = 0


@dataclass
class SeriesSet:
    """Rows are series; ``x`` out of ``n`` per period."""

    kind: list[str] = field(default_factory=list)          # one of KINDS
    source: list[str] = field(default_factory=list)        # the event (A for transitions and steps)
    target: list[str | None] = field(default_factory=list)  # B for transitions and funnel steps
    x: list[np.ndarray] = field(default_factory=list)
    n: list[np.ndarray] = field(default_factory=list)
    impact_scale: list[float] = field(default_factory=list)  # divides an impact to count it in paths

    def add(self, kind, source, target, x, n, scale=1.0) -> None:
        self.kind.append(kind)
        self.source.append(source)
        self.target.append(target)
        self.x.append(np.asarray(x, dtype=np.int64))
        self.n.append(np.asarray(n, dtype=np.int64))
        self.impact_scale.append(float(scale))

    def __len__(self) -> int:
        return len(self.kind)

    def coarsen(self, factor: int) -> "SeriesSet":
        """Counts summed over ``factor`` consecutive periods (days into weeks)."""
        out = SeriesSet()
        for i in range(len(self)):
            out.add(self.kind[i], self.source[i], self.target[i], self.x[i].reshape(-1, factor).sum(axis=1),
                    self.n[i].reshape(-1, factor).sum(axis=1), self.impact_scale[i])
        return out

    def find(self, kind: str, source: str, target: str | None) -> int | None:
        """The index of a series, None when absent."""
        for i in range(len(self)):
            if (self.kind[i], self.source[i], self.target[i]) == (kind, source, target):
                return i
        return None

    def label(self, i: int) -> str:
        return self.source[i] if self.target[i] is None else f"{self.source[i]} → {self.target[i]}"

    def matrices(self, periods: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not len(self):
            empty = np.zeros((0, periods), dtype=np.int64)
            return empty, empty, np.ones(0)
        return np.vstack(self.x), np.vstack(self.n), np.array(self.impact_scale)


def rate_series(log: EventLog, period: np.ndarray, periods: int, out: SeriesSet) -> None:
    """Per event type, its rate among all events ("rate"). Counts add up: weekly = sum of daily.
    ``period`` is each event's period (-1: outside)."""
    size = len(log.event_names)
    inside = period >= 0
    counts = np.bincount(period[inside] * size + log.event[inside], minlength=periods * size).reshape(periods, size)
    total = counts.sum(axis=1)
    for code in np.flatnonzero(counts.any(axis=0)):
        out.add("rate", log.event_names[code], None, counts[:, code], total)


def share_series(log: EventLog, period: np.ndarray, periods: int, out: SeriesSet,
                 sessions: bool = False) -> None:
    """Per event type, the share of active paths doing it ("share"); and the share of active paths
    that are new ("new": their first event is in the period; with ``sessions``, the first session of
    its user), which tells when something moved with the mix of new and returning users. Distinct
    paths do not add up over periods."""
    size = len(log.event_names)
    inside = period >= 0
    path, when = log.user[inside], period[inside]
    key = when * size + log.event[inside]
    doing = distinct_count(key, path, periods * size).reshape(periods, size)      # paths doing e
    active = distinct_count(when, path, periods)                                  # paths active at all
    for code in np.flatnonzero(doing.any(axis=0)):
        out.add("share", log.event_names[code], None, doing[:, code], active)
    starts = log.path_starts()
    first = period[starts]                              # the period of each path's first event
    if sessions:                                        # a session is new when its user is
        first = np.where(first_sessions(log.user_keys[log.user[starts]]), first, -1)
    out.add("new", NEW_PATHS, None, np.bincount(first[first >= 0], minlength=periods), active)


def first_sessions(keys: np.ndarray) -> np.ndarray:
    """Whether each per-session path key ("user#n", see ``common.sessions_as_paths``) is its user's
    first session.

    >>> first_sessions(np.array(["a#1", "a#2", "b#1", "c#11"], dtype=object)).tolist()
    [True, False, True, False]
    """
    return np.char.endswith(keys.astype(str), "#1")


def set_rate_scales(out: SeriesSet) -> None:
    """A rate's impact counts events; divided by the events per path doing it, it counts paths."""
    doing = {out.source[i]: out.x[i].sum() for i in range(len(out)) if out.kind[i] == "share"}
    for i in range(len(out)):
        if out.kind[i] == "rate":
            out.impact_scale[i] = float(out.x[i].sum() / max(doing.get(out.source[i], 1), 1))


def transition_series(log: EventLog, period: np.ndarray, periods: int, out: SeriesSet, *,
                      with_end: bool, min_count: int, limit: int) -> None:
    """P(next = B | A) per period of A's time: of the A events, how many are directly followed by B
    in the same path (with ``with_end``, also "the path ended after A"). The ``limit`` most frequent
    transitions seen at least ``min_count`` times are kept."""
    if len(log) < 2:
        return
    size = len(log.event_names)
    same = log.user[1:] == log.user[:-1]
    source = log.event[:-1]
    target = np.where(same, log.event[1:], size)                   # size stands for "path ended"
    gap = (log.ts[1:] - log.ts[:-1]).astype(float)
    settle = group_quantiles(source[same], gap[same], size, (SETTLE_QUANTILE,))[0]
    # At most a week: the next step after A in a later visit can be days away (the 99th percentile of a
    # per-user gap), and censoring that long would hide every week after a change.
    settle = np.minimum(np.nan_to_num(settle, nan=0.0), MAX_TRANSITION_SETTLE_MS)
    when = period[:-1]
    keep = (when >= 0) & (log.ts[:-1] <= log.ts.max() - settle[source])
    last = len(log) - 1                                             # the very last event ends its path
    if period[last] >= 0 and log.ts[last] <= log.ts.max() - settle[log.event[last]]:
        source = np.append(source, log.event[last])
        target = np.append(target, size)
        when = np.append(when, period[last])
        keep = np.append(keep, True)
    source, target, when = source[keep], target[keep], when[keep]
    trials = np.bincount(when * size + source, minlength=periods * size).reshape(periods, size)
    pair = source.astype(np.int64) * (size + 1) + target
    if size * (size + 1) <= DENSE_PAIRS:            # count every possible pair: no sort needed
        pair_index = pair
        totals = np.bincount(pair, minlength=size * (size + 1))
        pairs = np.arange(len(totals))
    else:
        pairs, pair_index, totals = np.unique(pair, return_inverse=True, return_counts=True)
    chosen = np.flatnonzero((totals >= min_count) & (with_end | (pairs % (size + 1) != size)))
    chosen = chosen[np.argsort(-totals[chosen], kind="stable")][:limit]
    position = np.full(len(pairs), -1)
    position[chosen] = np.arange(len(chosen))
    mine = position[pair_index] >= 0
    counts = np.bincount(position[pair_index][mine] * periods + when[mine],
                         minlength=len(chosen) * periods).reshape(len(chosen), periods)
    slow_from = slow_transition_cutoffs(log, period, pairs[chosen], size)
    for row, index in enumerate(chosen):
        a, b = divmod(int(pairs[index]), size + 1)
        x, n = counts[row], trials[:, a].copy()
        if row in slow_from:               # not measured where the data end before B could follow A
            x[slow_from[row]:], n[slow_from[row]:] = 0, 0
        out.add("transition", log.event_names[a], END if b == size else log.event_names[b], x, n)


def slow_transition_cutoffs(log: EventLog, period: np.ndarray, chosen_pairs: np.ndarray, size: int) -> dict[int, int]:
    """For each chosen transition A → B whose own 90th-percentile gap is longer than the week A's
    censoring horizon is capped at, the first period it cannot be measured in: the data end
    less than that gap after it. A monthly renewal → the next renewal (~30 days) cannot be seen in
    the last month, whatever A's other next steps take; a renewal → the user's next app open (90 %
    within three weeks) not in the last three weeks.
    Returns {row in ``chosen_pairs``: first censored period}."""
    if len(chosen_pairs) == 0:
        return {}
    same = log.user[1:] == log.user[:-1]
    pair = log.event[:-1].astype(np.int64) * (size + 1) + log.event[1:]
    order = np.argsort(chosen_pairs, kind="stable")
    found = np.minimum(np.searchsorted(chosen_pairs[order], pair), len(order) - 1)
    mine = same & (chosen_pairs[order][found] == pair)
    rows = order[found[mine]]
    gap = (log.ts[1:] - log.ts[:-1])[mine].astype(float)
    late = group_quantiles(rows, gap, len(chosen_pairs), (SLOW_SETTLE_QUANTILE,))[0]
    # Below the week cap A's own censoring (its 99th percentile over all next steps) already covers B.
    slow = np.flatnonzero(np.nan_to_num(late) > MAX_TRANSITION_SETTLE_MS)
    first = first_period_after(log.ts, period, log.ts.max() - late[slow])
    return {int(row): int(p) for row, p in zip(slow, first) if p >= 0}


def first_period_after(ts: np.ndarray, period: np.ndarray, moments: np.ndarray) -> np.ndarray:
    """For each moment, the first period (``period`` >= 0: in the periods) with an event after it, or
    -1. One sort of the late events for all moments: a pass over the log for each of 400 transitions
    took 20 s at 10M events. Periods follow time, so the k-th latest event's period is the k-th latest period.

    >>> first_period_after(np.array([5, 1, 9, 7]), np.array([1, 0, -1, 1]), np.array([0.0, 4.0, 7.0])).tolist()
    [0, 1, -1]
    """
    if len(moments) == 0:
        return np.zeros(0, dtype=np.int64)
    late = (period >= 0) & (ts > moments.min())
    if not late.any():
        return np.full(len(moments), -1, dtype=np.int64)
    times, periods = np.sort(ts[late]), np.sort(period[late])
    found = np.searchsorted(times, moments, side="right")
    return np.where(found < len(times), periods[np.minimum(found, len(times) - 1)], -1)


@dataclass
class StepTrials:
    """One funnel step's trials: per path that reached ``source`` (and was not censored), its path
    (user code), the event reaching the step (its row in the log), the period it reached the step in,
    and whether it went on to ``target``."""

    source: str
    target: str
    path: np.ndarray
    position: np.ndarray
    period: np.ndarray
    converted: np.ndarray


def funnel_trials(log: EventLog, period_of, steps: list[str]) -> list[StepTrials]:
    """Per funnel step (sequential, as the funnel view counts it), the paths reaching step k inside
    the periods and whether they went on to step k + 1; paths that reached it closer to the end of the
    data than 99 % of conversions took are left out (censored)."""
    from journey_explorer.analysis.funnel import _positions_sequential  # the funnel view's own rule
    if len(steps) < 2 or not len(log):
        return []
    codes = [log.event_code(s) for s in steps]
    position = _positions_sequential(log, codes, [], False, None)
    path = log.user[log.path_starts()]
    horizon = log.ts.max()
    out = []
    for k in range(len(steps) - 1):
        reached = position[:, k] >= 0
        at = log.ts[position[reached, k]]
        converted = position[reached, k + 1] >= 0
        took = log.ts[position[reached, k + 1][converted]] - at[converted]
        settle = np.quantile(took, SETTLE_QUANTILE) if len(took) else 0.0
        when = period_of(at)
        keep = (when >= 0) & (at <= horizon - settle)
        out.append(StepTrials(steps[k], steps[k + 1], path[reached][keep], position[reached, k][keep], when[keep],
                              converted[keep]))
    return out


def funnel_series(log: EventLog, period_of, periods: int, steps: list[str], out: SeriesSet,
                  trials: list[StepTrials] | None = None) -> None:
    """Per funnel step: of the paths reaching step k in a period, how many went on to step k + 1
    (``trials``: the steps' ``funnel_trials``, when counted already)."""
    for step in funnel_trials(log, period_of, steps) if trials is None else trials:
        n = np.bincount(step.period, minlength=periods)
        x = np.bincount(step.period[step.converted], minlength=periods)
        out.add("funnel", step.source, step.target, x, n)
