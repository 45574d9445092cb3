"""What one import accumulates while it reads: the dictionaries, the accepted rows as integer arrays,
the rejections.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from journey_explorer.domain import ColumnMapping, Rejection
from journey_explorer.io.identity import IdentityLinks
from journey_explorer.store import properties as stored_properties
from journey_explorer.store.importer.encoding import Dictionary, Pseudonymizer
from journey_explorer.store.properties import PropertyDictionary

Progress = Callable[[float, int], None]     # (fraction done, rows read)
LINE_DTYPE = np.int32        # source line per accepted row (files of 2^31 lines are ~50 GB)
PROPERTY_KEY = stored_properties.CODES_PREFIX      # property columns sit beside the others in the plan



@dataclass
class EncodedRows:
    """Accepted rows of the file, in file order, as parallel integer arrays (+ optional text)."""

    user: list[np.ndarray] = field(default_factory=list)
    event: list[np.ndarray] = field(default_factory=list)
    ts: list[np.ndarray] = field(default_factory=list)
    session_key: list[np.ndarray] = field(default_factory=list)
    insert_hash: list[np.ndarray] = field(default_factory=list)
    insert_id: list[np.ndarray] = field(default_factory=list)
    line: list[np.ndarray] = field(default_factory=list)        # source line of each row
    sub_ms: list[np.ndarray | None] = field(default_factory=list)   # µs within the ms (None: all 0)
    # property name -> {chunk number: provisional codes}; a chunk without the property is absent
    properties: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    properties_json: list[np.ndarray | None] = field(default_factory=list)
    # property name -> {chunk number: int64 hash per row}, for properties with too many values
    value_hashes: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)

    lengths: list[int] = field(default_factory=list)   # rows per chunk, kept after the codes are taken

    def take(self, name: str, dtype) -> np.ndarray:
        """All chunks of one column as one array; the chunks are released."""
        parts = getattr(self, name)
        setattr(self, name, [])
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


@dataclass
class ImportState:
    mapping: ColumnMapping
    users: Dictionary
    events: Dictionary
    sessions: Dictionary
    pseudonymize: Pseudonymizer | None
    property_columns: list[str]
    user_property_columns: list[str]
    property_values: dict[str, PropertyDictionary] = field(default_factory=dict)
    existing_properties: dict[str, list] = field(default_factory=dict)
    insert_id_alone: bool = False
    keep_identical_rows: bool = False    # no duplicate check (ImportOptions.keep_identical_rows)
    source_columns: list[str] = field(default_factory=list)
    too_many_values: list[str] = field(default_factory=list)    # properties not stored (see MAX_PROPERTY_VALUES)
    rows: EncodedRows = field(default_factory=EncodedRows)
    rejections: list[Rejection] = field(default_factory=list)
    user_properties: dict[int, dict] = field(default_factory=dict)
    read: int = 0
    time_guess: object = None
    identity: IdentityLinks | None = None     # anonymous id -> user, when the mapping has an anonymous column
    # For the summary's advice: rows rejected for a missing user, and how many of them each other
    # column fills (the column that would have kept them).
    missing_user_filled: dict[str, int] = field(default_factory=dict)
    kept: dict[str, np.ndarray] = field(default_factory=dict)   # final codes of rows to insert
    lines: np.ndarray | None = None                             # source line of each accepted row


