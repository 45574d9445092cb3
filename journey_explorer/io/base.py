"""What every reader hands to the import pipeline.

A reader turns one file into chunks of rows (a pandas DataFrame each) plus the source line of every
row, so a bad row can be reported as ``file:line``. Tabular readers keep the file's own column names
and let ``io.mapping`` guess which column is the user, event and time. Vendor readers (Segment,
Amplitude, ...) know their fields, so they emit canonical columns and a ``fixed_mapping``.

Optional reader attributes the importer reads when present: ``notes`` (sentences for the summary),
``records_not_events`` (records read that are not events: Segment identify calls, lifecycle start
rows), ``trait_columns()`` (names of user traits, which ``--drop-columns`` may name).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

import numpy as np
import pandas as pd

from journey_explorer.domain import ColumnMapping, Rejection

# Canonical column names used by vendor readers (and by the pipeline after mapping). Every other
# column of a vendor reader's frame is a property, named as the vendor's docs name the field
# ("plan", "context.ip", "traits.email"), with its JSON type.
USER, EVENT, TIME, SESSION, INSERT_ID = ("user", "event", "time", "session", "insert_id")

VENDOR_MAPPING = ColumnMapping(user=USER, event=EVENT, time=TIME, session=SESSION, insert_id=INSERT_ID)


@dataclass
class SourceChunk:
    """Consecutive rows of a source.

    ``frame``: one row per record. ``lines``: int64 1-based line (or record) number of each row in
    the file, used in messages and stored with rejected rows. ``rejected``: records the reader could
    not even parse (e.g. a broken JSON line).
    """

    frame: pd.DataFrame
    lines: np.ndarray
    rejected: list[Rejection] = field(default_factory=list)


def frame_chunks(frame: pd.DataFrame, lines: np.ndarray, chunk_rows: int,
                 rejected: list[Rejection] | None = None) -> Iterator[SourceChunk]:
    """The chunks of a reader that holds its rows in memory; the reader's own rejections come with the
    first chunk (an empty source still yields one chunk, so they are not lost)."""
    rejected = list(rejected or [])
    if frame.empty:
        yield SourceChunk(frame, lines, rejected)
        return
    for start in range(0, len(frame), chunk_rows):
        end = start + chunk_rows
        yield SourceChunk(frame.iloc[start:end].reset_index(drop=True), lines[start:end],
                          rejected if start == 0 else [])


class InMemoryReader:
    """The reading half of a reader that parses the whole file first: subclasses set ``_frame`` (one
    row per record), ``_lines`` (their line or record numbers) and, when they have them, ``_rejected``
    (records that could not be parsed) and ``_traits`` (user properties apart from events)."""

    _frame: pd.DataFrame
    _lines: np.ndarray

    def columns(self) -> list[str]:
        return [str(c) for c in self._frame.columns]

    def preview(self, rows: int = 20) -> pd.DataFrame:
        return self._frame.head(rows)

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        return frame_chunks(self._frame, self._lines, chunk_rows, getattr(self, "_rejected", None))

    def user_traits(self) -> dict[str, dict]:
        return getattr(self, "_traits", {})


class SourceReader(Protocol):
    """A file opened for import."""

    path: str
    format: str                               # e.g. "csv", "segment", "xes"
    fixed_mapping: ColumnMapping | None       # set by readers that know their fields

    def columns(self) -> list[str]:
        """Column names as the user would see them (for mapping and the wizard)."""

    def preview(self, rows: int = 20) -> pd.DataFrame:
        """The first rows, as strings where the file has strings."""

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        """All rows in file order."""

    def user_traits(self) -> dict[str, dict]:
        """User properties the source carries apart from events (e.g. Segment identify calls).

        Valid after ``chunks`` was exhausted. Keyed by the same user id the events use.
        """
