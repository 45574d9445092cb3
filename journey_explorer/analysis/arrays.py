"""Vectorised building blocks shared by the analyses: transitions, per-group counts and quantiles.

All functions take the sorted arrays of an ``EventLog`` (user, event, ts), so a path is a contiguous
run of equal ``user`` values.
"""
from __future__ import annotations

import numpy as np

from journey_explorer.eventlog import EventLog


def group_order(keys: np.ndarray, size: int) -> np.ndarray:
    """A stable order that groups equal keys. Keys below 65,536 use numpy's radix sort (O(n))."""
    if size <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


class Groups:
    """Rows grouped by an integer key in ``range(size)``, computed once and reused for several
    per-key statistics (the stable grouping order is the expensive part)."""

    def __init__(self, keys: np.ndarray, size: int):
        self.size = size
        self.unsorted_keys = keys
        self.order = group_order(keys, size)
        self.keys = keys[self.order]
        self.counts = np.bincount(keys, minlength=size)
        self.bounds = np.concatenate([[0], np.cumsum(self.counts)])

    def distinct(self, owners: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Distinct owners per key; ``owners`` must be non-decreasing in the original row order
        (true for users in a sorted log), so they stay sorted inside each group. ``rows``: a mask (in
        the original order) of the rows to count; the grouping is reused, not sorted again.

        >>> groups = Groups(np.array([1, 0, 1, 1, 0]), 2)
        >>> groups.distinct(np.array([4, 4, 5, 6, 6])).tolist()
        [2, 3]
        >>> groups.distinct(np.array([4, 4, 5, 6, 6]), rows=np.array([True, False, False, True, True])).tolist()
        [1, 2]
        """
        grouped, keys = owners[self.order], self.keys
        if rows is not None:
            kept = rows[self.order]
            grouped, keys = grouped[kept], keys[kept]
        first = np.ones(len(grouped), dtype=bool)
        first[1:] = (keys[1:] != keys[:-1]) | (grouped[1:] != grouped[:-1])
        return np.bincount(keys[first], minlength=self.size)

    def quantiles(self, values: np.ndarray, quantiles: tuple[float, ...], skip_last: bool = False) -> np.ndarray:
        """(len(quantiles), size) quantiles per key, linear interpolation; NaN for empty keys.
        ``skip_last`` leaves out the last key (a bucket for rows that belong nowhere)."""
        out = np.full((len(quantiles), self.size - (1 if skip_last else 0)), np.nan)
        keys = np.flatnonzero(self.counts[:out.shape[1]])
        if values.dtype.kind == "f" and np.isnan(values).any():     # np.quantile's NaN rules, key by key
            grouped = values[self.order]
            for key in keys:
                out[:, key] = np.quantile(grouped[self.bounds[key]:self.bounds[key + 1]], quantiles)
            return out
        counts, starts = self.counts[keys], self.bounds[keys]
        if len(keys) > PARTITION_KEYS:
            # Many small groups: one sort of all values, then a stable regroup by key.
            by_value = np.argsort(values)
            ordered = values[by_value[group_order(self.unsorted_keys[by_value], self.size)]]
        else:
            # A partial sort per key, at just the positions the quantiles read (np.quantile's own way,
            # without its per-call cost: ~0.3 ms a key, 0.5 s for 1,600 edges; a full sort ~0.1 s at 1M).
            ordered = values[self.order]
            read = np.column_stack([position for q in quantiles for position in linear_positions(counts, q)[:2]])
            for start, count, positions in zip(starts.tolist(), counts.tolist(), read):
                ordered[start:start + count].partition(positions)
        for row, q in enumerate(quantiles):
            out[row, keys] = sorted_quantile(ordered, starts, counts, q)
        return out


PARTITION_KEYS = 5_000          # above this many keys, Groups.quantiles sorts everything once


def linear_positions(counts: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For runs of ``counts`` sorted values, np.quantile's "linear" method: the positions (in each run)
    of the two values quantile ``q`` lies between, and its weight, computed as numpy does (same bits)."""
    q = np.float64(q)
    virtual = (counts - 1) * q                              # numpy's virtual index for "linear"
    previous = np.floor(virtual)
    above, below = virtual >= counts - 1, virtual < 0
    previous_local = np.where(above, counts - 1, np.where(below, 0, previous)).astype(np.intp)
    next_local = np.where(above, counts - 1, np.where(below, 0, previous + 1)).astype(np.intp)
    gamma = virtual - np.where(above, -1.0, np.where(below, 0.0, previous))   # as numpy's _get_gamma sees them
    return previous_local, next_local, gamma


def sorted_quantile(ordered: np.ndarray, starts: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` of each run ``ordered[start:start + count]`` (non-empty, no NaN, sorted at least
    at the positions ``linear_positions`` names), with exactly np.quantile's arithmetic: the same
    bits, not only close.

    >>> sorted_quantile(np.array([1.0, 2.0, 4.0, 5.0, 7.0]), np.array([0, 2]), np.array([2, 3]), 0.9).tolist()
    [1.9, 6.6]
    """
    previous_local, next_local, gamma = linear_positions(counts, q)
    low, high = ordered[starts + previous_local], ordered[starts + next_local]
    difference = high - low                                 # numpy's _lerp
    result = np.add(low, difference * gamma, dtype=np.float64)
    np.subtract(high, difference * (1 - gamma), out=result, where=gamma >= 0.5, casting="unsafe", dtype=np.float64)
    return result


def quantile(values: np.ndarray, q: float) -> float:
    """np.quantile(values, q) of a non-empty array without NaN, the same bits, by one partial sort:
    np.quantile's own call to np.unique imports numpy.ma (~40 ms of a command-line run).

    >>> quantile(np.array([4.0, 1.0, 3.0, 2.0]), 0.8), float(np.quantile(np.array([4.0, 1.0, 3.0, 2.0]), 0.8))
    (3.4000000000000004, 3.4000000000000004)
    """
    counts, starts = np.array([len(values)]), np.zeros(1, dtype=np.intp)
    previous, following, _ = linear_positions(counts, q)
    ordered = np.partition(values, (int(previous[0]), int(following[0])))
    return float(sorted_quantile(ordered, starts, counts, q)[0])


def group_medians(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """np.median of ``values`` (no NaN) per key in ``range(size)``, NaN for empty keys: the two middle
    values averaged, found by a partial sort per key (no np.median call per key, nor its numpy.ma import).

    >>> group_medians(np.array([0, 0, 1, 0, 0]), np.array([3.0, 1.0, 5.0, 2.0, 9.0]), 3).tolist()
    [2.5, 5.0, nan]
    """
    out = np.full(size, np.nan)
    if not len(keys):
        return out
    groups = Groups(keys, size)
    ordered = values[groups.order]
    for key in np.flatnonzero(groups.counts).tolist():
        out[key] = median(ordered[groups.bounds[key]:groups.bounds[key + 1]])
    return out


def median(values: np.ndarray) -> float:
    """np.median of a non-empty array without NaN (same bits), by a partial sort of a copy.

    >>> median(np.array([4.0, 1.0, 3.0, 2.0])), median(np.array([5, 1, 3]))
    (2.5, 3.0)
    """
    low, high = (len(values) - 1) // 2, len(values) // 2
    middle = np.partition(values, (low, high))
    return float((middle[low] + middle[high]) / 2)


def distinct_count(keys: np.ndarray, owners: np.ndarray, size: int) -> np.ndarray:
    """How many distinct owners (e.g. users) each key has: ``result[k]`` for k in range(size).

    >>> distinct_count(np.array([0, 1, 1, 0, 2]), np.array([5, 5, 5, 6, 6]), 3).tolist()     # rising per owner
    [2, 1, 1]
    >>> distinct_count(np.array([1, 0, 1, 0, 2]), np.array([5, 5, 5, 6, 6]), 3).tolist()     # not rising
    [2, 1, 1]
    >>> distinct_count(np.array([1, 0, 1, 0]), np.array([6, 5, 5, 6]), 2).tolist()          # owners unsorted
    [2, 2]
    """
    if len(keys) == 0:
        return np.zeros(size, dtype=np.int64)
    if np.all(owners[1:] >= owners[:-1]):
        same_owner = owners[1:] == owners[:-1]
        if not np.any(same_owner & (keys[1:] < keys[:-1])):
            # Keys that only rise along each owner's rows (periods of a sorted log's times): every
            # (owner, key) pair is one run of rows, counted where it starts; no sort (~0.1 s at 1M).
            starts = np.ones(len(keys), dtype=bool)
            starts[1:] = ~same_owner | (keys[1:] != keys[:-1])
            return np.bincount(keys[starts], minlength=size)
        return Groups(keys, size).distinct(owners)
    span = int(owners.max()) + 1
    pairs = keys.astype(np.int64) * span + owners.astype(np.int64)
    pairs.sort()
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    return np.bincount(pairs[first] // span, minlength=size)


def group_quantiles(keys: np.ndarray, values: np.ndarray, size: int, quantiles: tuple[float, ...]) -> np.ndarray:
    """Quantiles of ``values`` per key (linear interpolation, like numpy); NaN for empty keys.

    >>> group_quantiles(np.array([0, 0, 0, 1]), np.array([3.0, 1.0, 2.0, 5.0]), 3, (0.5,)).round(2).tolist()
    [[2.0, 5.0, nan]]
    """
    if len(keys) == 0:
        return np.full((len(quantiles), size), np.nan)
    return Groups(keys, size).quantiles(values, quantiles)


def path_bounds(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first and one-past-last event of each path (in path order)."""
    if len(log) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(log.path_starts())
    ends = np.append(starts[1:], len(log))
    return starts, ends


def step_index(log: EventLog) -> np.ndarray:
    """0-based position of every event within its path."""
    starts, _ = path_bounds(log)
    return np.arange(len(log)) - starts[run_numbers(starts, len(log))]


def run_numbers(starts: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` items cut into consecutive runs beginning at ``starts`` (increasing, the first
    0), the number of its run: ``np.repeat(np.arange(len(starts)), run lengths)`` by a cumulative sum.
    np.repeat holds the GIL throughout (~55 ms for 10M items), freezing the window while a view
    computes on a worker; the sum lets the GUI thread run meanwhile.

    >>> run_numbers(np.array([0, 2, 3]), 6).tolist()
    [0, 0, 1, 2, 2, 2]
    """
    marks = np.zeros(n, dtype=np.int64)
    marks[starts[1:]] = 1
    return np.cumsum(marks)            # not in place (out=marks): a sum over itself holds the GIL too


def running_count(marks: np.ndarray) -> np.ndarray:
    """How many of ``marks`` are true up to and including each position (int64): ``np.cumsum(marks)``.
    A sum that converts its items (bool, or any type but int64, to int64) holds the GIL throughout
    (~100-200 ms at 10M, the window frozen meanwhile); converted first, the sum releases it.

    >>> running_count(np.array([True, False, True, True])).tolist()
    [1, 1, 2, 3]
    """
    return np.cumsum(marks.astype(np.int64))


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` for a 1-D array, by a sort, which lets other threads run: numpy's own hashes
    integers while holding the GIL throughout (stuck's loop pairs at 10M events: 0.4-0.75 s in which the
    window could not paint).

    >>> distinct(np.array([7, 3, 7, 5])).tolist()
    [3, 5, 7]
    """
    ordered = np.sort(values)
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    return ordered[new]


def distinct_with_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for a 1-D array, by a sort. numpy's own numbers the
    distinct values with a converting sum (bool to int) that holds the GIL (~0.2 s at 10M).

    >>> [a.tolist() for a in distinct_with_inverse(np.array([7, 3, 7, 5]))]
    [[3, 5, 7], [2, 0, 2, 1]]
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[order] = running_count(new) - 1
    return ordered[new], inverse


def users_with_event(log: EventLog, code: int) -> np.ndarray:
    """Boolean mask over user codes: users who did event ``code`` at least once."""
    mask = np.zeros(log.n_users, dtype=bool)
    mask[log.user[log.event == code]] = True
    return mask


def first_rows_of(log: EventLog, code: int) -> np.ndarray:
    """Row of each path's first ``code`` event (events are sorted by path, then time)."""
    hits = np.flatnonzero(log.event == code)
    users = log.user[hits]
    is_first = np.ones(len(hits), dtype=bool)
    is_first[1:] = users[1:] != users[:-1]
    return hits[is_first]


def first_time_of(log: EventLog, code: int) -> np.ndarray:
    """Per user code, the time (ms) of their first ``code`` event; int64 max where never."""
    first = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    rows = first_rows_of(log, code)
    first[log.user[rows]] = log.ts[rows]
    return first
