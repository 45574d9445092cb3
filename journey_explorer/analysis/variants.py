"""Variants: the most common whole paths, as in process mining.

A path's variant is its sequence of event types with immediate repeats merged (``A A B`` reads
``A → B``: a refresh is not a new way through). For each of the most common variants: how many
paths follow it, their share of all paths, the median duration (first to last event) and whether
the variant contains the goal.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import median, path_bounds, run_numbers, running_count
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["variant", "steps", "paths", "share", "median_seconds", "reached_goal"]
ARROW = " → "


def variants(log: EventLog, goal: str | None = None, top: int = 10) -> pd.DataFrame:
    """The ``top`` most common variants of ``log``'s paths (see module doc), most common first."""
    import pandas as pd
    return pd.DataFrame(variant_rows(log, goal, top), columns=COLUMNS)


def variant_rows(log: EventLog, goal: str | None = None, top: int = 10) -> list[dict]:
    """``variants`` as rows of plain Python values, without pandas (the command line's JSON)."""
    if len(log) == 0:
        return []
    starts, ends = path_bounds(log)
    path_of = run_numbers(starts, len(log))
    first = np.ones(len(log), dtype=bool)
    first[1:] = (log.event[1:] != log.event[:-1]) | (path_of[1:] != path_of[:-1])
    merged, merged_path = log.event[first], path_of[first]
    # every path has a first event, so each path has its run of merged events, in path order
    bounds = np.append(np.flatnonzero(np.r_[True, merged_path[1:] != merged_path[:-1]]), len(merged))
    grouped = _grouped_as_bytes if _fits_bytes(log, bounds) else _grouped_as_text
    codes_of, group = grouped(merged, bounds)
    sizes = np.bincount(group)                  # per variant, in the sequences' order
    durations = (log.ts[ends - 1] - log.ts[starts]) / 1000.0
    goal_code = log.event_names.index(goal) if goal in log.event_names else None
    rows = []
    for rank in most_common(sizes)[:top]:
        codes, size = codes_of(rank), int(sizes[rank])
        middle = median(durations[group == rank])
        rows.append({"variant": ARROW.join(log.event_names[code] for code in codes), "steps": len(codes),
                     "paths": size, "share": size / len(starts), "median_seconds": round(middle, 3),
                     "reached_goal": None if goal_code is None else goal_code in codes})
    return rows


# Variants are grouped and ordered by their sequence of event codes, compared as text (pandas' groupby
# order): code by code, a shorter sequence before its continuations. Both ways below give that order.
BYTES_LIMIT = 1 << 26           # the byte matrix's size limit (64 MB)


def _fits_bytes(log: EventLog, bounds: np.ndarray) -> bool:
    longest = int(np.diff(bounds).max())
    return len(log.event_names) < 255 and (len(bounds) - 1) * longest <= BYTES_LIMIT


def _grouped_as_bytes(merged: np.ndarray, bounds: np.ndarray):
    """One row of bytes per path (code + 1, zero-padded: a shorter path sorts first), grouped by
    sorting the rows as big-endian 64-bit words (the bytes' order, without numpy's slow sort of byte
    strings). Returns a function giving the codes of the variant of each rank, and each path's rank."""
    lengths = np.diff(bounds)
    words = -(-int(lengths.max()) // 8)
    matrix = np.zeros((len(lengths), 8 * words), dtype=np.uint8)
    row = run_numbers(bounds[:-1], len(merged))          # not np.repeat: it holds the GIL (GUI stalls at 10M)
    # Each merged event's place in the flat matrix: its row's start, plus its place in its path
    # (one flat assignment: a two-index one costs ~2x).
    row_offset = np.arange(len(lengths), dtype=np.int64) * matrix.shape[1] - bounds[:-1]
    matrix.reshape(-1)[np.arange(len(merged)) + row_offset[row]] = merged + 1
    keys = matrix.view(">u8").astype(np.uint64)                 # (paths, words), numeric order = byte order
    order = word_order(keys)
    ordered = keys[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.empty(len(order), dtype=np.intp)
    group[order] = running_count(new) - 1
    example = order[new]                                        # a path of each variant, in rank order

    def codes_of(rank: int) -> list[int]:
        row = matrix[example[rank]]
        return [int(byte) - 1 for byte in row[row > 0]]
    return codes_of, group


def word_order(keys: np.ndarray) -> np.ndarray:
    """An order of the rows of ``keys`` (a path's codes as 64-bit words) by their words, first word
    first: ``np.lexsort(keys.T[::-1])``'s order, up to the order of equal rows. Most paths fit in the
    first word (8 events; ~98 % of a synthetic log's): those are sorted by it alone, the few longer ones
    by all their words (a lexsort of every path's words cost ~2x), and the two merged; at the same first
    word the path that fits (zeros after it) comes first.

    >>> keys = np.array([[5, 0], [3, 1], [3, 0], [5, 2], [3, 1], [1, 0]], dtype=np.uint64)
    >>> keys[word_order(keys)].tolist()
    [[1, 0], [3, 0], [3, 1], [3, 1], [5, 0], [5, 2]]
    """
    if keys.shape[1] == 1:
        return np.argsort(keys[:, 0])
    longer = keys[:, 1:].any(axis=1)
    fits, long_rows = np.flatnonzero(~longer), np.flatnonzero(longer)
    fits = fits[np.argsort(keys[fits, 0])]
    long_rows = long_rows[np.lexsort(keys[long_rows].T[::-1])]
    # a longer path's place: after every path that fits with a first word up to its own, and the longer ones before it
    places = np.searchsorted(keys[fits, 0], keys[long_rows, 0], side="right") + np.arange(len(long_rows))
    order = np.empty(len(keys), dtype=np.intp)
    is_long = np.zeros(len(keys), dtype=bool)
    is_long[places] = True
    order[places] = long_rows
    order[~is_long] = fits
    return order


def _grouped_as_text(merged: np.ndarray, bounds: np.ndarray):
    """Many event types or very long paths: one character per event type, a string per path cut
    from one joined string (a per-path join in pandas took ~10 s at 200k paths), grouped in a dict."""
    letters = np.array([chr(0x100 + code) for code in range(int(merged.max()) + 1)], dtype=object)
    text = "".join(letters[merged])
    cuts = bounds.tolist()
    group_of: dict[str, int] = {}
    first_seen = np.array([group_of.setdefault(text[a:b], len(group_of)) for a, b in zip(cuts[:-1], cuts[1:])])
    keys = sorted(group_of)
    rank_of = np.empty(len(keys), dtype=np.int64)
    rank_of[[group_of[key] for key in keys]] = np.arange(len(keys))
    return (lambda rank: [ord(letter) - 0x100 for letter in keys[rank]]), rank_of[first_seen]


def most_common(sizes: np.ndarray) -> np.ndarray:
    """Positions of ``sizes`` largest first; equal sizes in the order pandas' ``sort_values(ascending=
    False)`` gives them (its default quicksort is not stable: the same sort on the same reversed
    array, so the variants listed at a tie do not change).

    >>> most_common(np.array([1, 5, 3])).tolist()
    [1, 2, 0]
    """
    positions = np.arange(len(sizes))[::-1]
    return positions[sizes[::-1].argsort(kind="quicksort")][::-1]
