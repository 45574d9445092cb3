"""Process logs with a ``lifecycle:transition`` column (XES, or its CSV export).

Such logs record an activity several times: SCHEDULE, START and COMPLETE of "W_Call customer" are
three rows with the same name, so a directly-follows graph fills with self-loops. Modes
(``ImportOptions.lifecycle``, ``domain.LIFECYCLE_MODES``):

- ``complete``: keep completed rows only (and rows with no transition); the default ("auto") when
  the log has both start and complete rows.
- ``split``: keep every row, named "activity (start)", "activity (complete)", ...
- ``all``: keep the rows as they are (auto's choice when there are no start/complete pairs).

In ``complete`` and ``split`` a completed row paired with its start (same user, activity and, when
the log has one, ``concept:instance``; the earliest open start first) gets ``duration_s``. Rows
left out are counted as read but not events, and said in the summary's notes.
"""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Iterator

import numpy as np
import pandas as pd

from journey_explorer.domain import LIFECYCLE_MODES, ImportOptions, InputError
from journey_explorer.io.base import SourceChunk, frame_chunks

LIFECYCLE_COLUMNS = ("lifecycle:transition", "lifecycle_transition", "lifecycle transition", "lifecycle")
INSTANCE_COLUMNS = ("concept:instance",)
DURATION = "duration_s"


def lifecycle_column(columns: list[str]) -> str | None:
    """The column holding lifecycle transitions, by its standard name."""
    by_lower = {str(c).strip().lower(): c for c in columns}
    return next((by_lower[name] for name in LIFECYCLE_COLUMNS if name in by_lower), None)


def resolve_mode(mode: str, transitions: pd.Series) -> str:
    """``auto`` -> ``complete`` when the log has both start and complete rows, else ``all``.

    >>> resolve_mode("auto", pd.Series(["START", "complete"]))
    'complete'
    >>> resolve_mode("auto", pd.Series(["complete", None]))
    'all'
    """
    if mode not in LIFECYCLE_MODES:
        raise InputError(f"unknown lifecycle mode '{mode}' (choose from {', '.join(LIFECYCLE_MODES)})")
    if mode != "auto":
        return mode
    present = set(_normalised(transitions).unique())
    return "complete" if {"start", "complete"} <= present else "all"


def _normalised(transitions: pd.Series) -> pd.Series:
    return transitions.astype(object).where(transitions.notna(), "").astype(str).str.strip().str.lower()


def durations(keys: list[tuple], transitions: pd.Series, ms: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Seconds from each completed row's start (NaN where unpaired).

    Rows are visited by time (file order breaks ties); a start opens an instance of its key, a
    complete closes the earliest open one of the same key.

    >>> durations([("u", "A")] * 3, pd.Series(["start", "start", "complete"]),
    ...           np.array([0, 5000, 9000]), np.ones(3, bool)).tolist()
    [nan, nan, 9.0]
    """
    kinds = _normalised(transitions).to_numpy()
    out = np.full(len(kinds), np.nan)
    open_starts: dict[tuple, deque] = defaultdict(deque)
    for row in np.lexsort((np.arange(len(ms)), ms)):
        if not ok[row]:
            continue
        if kinds[row] == "start":
            open_starts[keys[row]].append(ms[row])
        elif kinds[row] == "complete" and open_starts[keys[row]]:
            out[row] = (ms[row] - open_starts[keys[row]].popleft()) / 1000.0
    return out


def transform(frame: pd.DataFrame, mode: str, event: str, transition: str,
              seconds: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray]:
    """(rows kept, renamed and with ``duration_s``; boolean mask of kept input rows)."""
    kinds = _normalised(frame[transition])
    out = frame.copy()
    if seconds is not None and not np.isnan(seconds).all():
        out[DURATION] = pd.Series(seconds, index=frame.index, dtype=object).where(~np.isnan(seconds), None)
    if mode == "split":
        named = kinds != ""
        out.loc[named, event] = out.loc[named, event].astype(str) + " (" + kinds[named] + ")"
        keep = np.ones(len(frame), dtype=bool)
    elif mode == "complete":
        keep = kinds.isin(["complete", ""]).to_numpy()
    else:
        keep = np.ones(len(frame), dtype=bool)
    return out[keep].reset_index(drop=True), keep


def wrap(reader, options: ImportOptions):
    """``reader`` itself, or a ``LifecycleReader`` over it when it has a lifecycle column and the
    chosen mode may change rows."""
    if options.lifecycle not in LIFECYCLE_MODES:
        raise InputError(f"unknown lifecycle mode '{options.lifecycle}' (choose from {', '.join(LIFECYCLE_MODES)})",
                         file=reader.path)
    if options.lifecycle == "all" or lifecycle_column(reader.columns()) is None:
        return reader
    return LifecycleReader(reader, options)


class LifecycleReader:
    """A reader whose rows pass through ``transform`` (read whole, once, on first use)."""

    def __init__(self, inner, options: ImportOptions):
        self.inner, self.options = inner, options
        self.path, self.format, self.fixed_mapping = inner.path, inner.format, inner.fixed_mapping
        self.transition = lifecycle_column(inner.columns())
        self._done = False

    # what the importer reads besides the rows
    @property
    def delimiter(self) -> str:
        return getattr(self.inner, "delimiter", ",")

    def raw_lines(self, wanted: set[int]) -> dict[int, str]:
        return self.inner.raw_lines(wanted) if hasattr(self.inner, "raw_lines") else {}

    def user_traits(self) -> dict[str, dict]:
        return self.inner.user_traits()

    def trait_columns(self) -> list[str]:
        return getattr(self.inner, "trait_columns", list)()

    @property
    def records_not_events(self) -> int:
        self._prepare()
        return getattr(self.inner, "records_not_events", 0) + self._left_out

    @property
    def notes(self) -> list[str]:
        self._prepare()
        return list(getattr(self.inner, "notes", [])) + self._notes

    def columns(self) -> list[str]:
        return [str(c) for c in self._prepare().columns]

    def preview(self, rows: int = 20) -> pd.DataFrame:
        return self._prepare().head(rows)

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        return frame_chunks(self._prepare(), self._lines, chunk_rows, self._rejected)

    def _prepare(self) -> pd.DataFrame:
        if self._done:
            return self._frame
        frames, lines, self._rejected = [], [], []
        for chunk in self.inner.chunks(self.options.chunk_rows):
            frames.append(chunk.frame)
            lines.append(np.asarray(chunk.lines, dtype=np.int64))
            self._rejected.extend(chunk.rejected)
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=self.inner.columns())
        all_lines = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
        mode = resolve_mode(self.options.lifecycle, frame[self.transition])
        self._frame, self._lines, self._left_out, self._notes = frame, all_lines, 0, []
        self._done = True
        if mode != "all":
            self._apply(frame, all_lines, mode)
        return self._frame

    def _apply(self, frame: pd.DataFrame, lines: np.ndarray, mode: str) -> None:
        from journey_explorer.io.mapping import guess_mapping, time_text
        from journey_explorer.io.timestamps import parse_times
        try:
            mapping = guess_mapping(self.inner, self.options, allow_content_only=True)
            times = parse_times(time_text(frame, mapping), time_format=mapping.time_format, timezone=mapping.timezone,
                                date_order=mapping.date_order, column=mapping.time)
        except InputError:
            return        # the import reports the same problem when it maps and parses the file
        instance = next((c for c in INSTANCE_COLUMNS if c in frame.columns), None)
        key_columns = [mapping.user, mapping.event] + ([instance] if instance else [])
        keys = list(frame[key_columns].astype(object).itertuples(index=False, name=None))
        seconds = durations(keys, frame[self.transition], times.ms, times.ok)
        self._frame, keep = transform(frame, mode, mapping.event, self.transition, seconds)
        self._lines = lines[keep]
        self._left_out = int((~keep).sum())
        paired = int(np.count_nonzero(~np.isnan(seconds)))
        if mode == "complete":
            self._notes.append(f"Kept completed rows only ({self.transition}): left out {self._left_out:,} "
                               "start/schedule/other rows ({lifecycle} can name them instead, or keep them).")
        else:
            self._notes.append(f"Events named by {self.transition}: 'activity (start)', 'activity (complete)'.")
        if paired:
            self._notes.append(f"{paired:,} completed events carry {DURATION}, the seconds since their start.")
