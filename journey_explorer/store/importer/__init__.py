"""Import one file into a project: read, map, validate, encode, de-duplicate, then commit in one go.

The pipeline is all-or-nothing. Rows are read and encoded in memory first (integers only: user id,
event type id, UTC ms and the µs within it, session key, insert-id hash, one code per property, see
``store.properties``); a row is a duplicate only when it is identical to an earlier one (or repeats its
insert id, by the vendor's rule: ``duplicate_pairs``). The project is written inside a single
``BEGIN IMMEDIATE`` ... ``COMMIT``. Any error, a cancel, or a crash before the commit leaves the file
as it was (SQLite's rollback journal restores it), and a project created by a failed import is removed.

The modules, in the order an import runs through them:

- ``run``: the entry points (``import_file``, ``import_user_properties``), the lock, a new project
  built aside, interrupts;
- ``reading``: the file into an ``ImportState`` (``state``) with the pandas path or the pyarrow fast
  path, sharing one rejection path; ``encoding``: the dictionaries that turn text into codes;
- ``planning``: final codes, sorted order, duplicates, sessions (``WritePlan``);
- ``writing``: the events (as ``store.event_chunks``) and the sorted cache, in one transaction.
"""
from __future__ import annotations

import secrets  # tests fix the pseudonym key through importer.secrets
import sys
import types

from journey_explorer.domain import JourneyError
from journey_explorer.store.importer import encoding, planning, reading, run, state, writing
from journey_explorer.store.importer.encoding import Dictionary, ObjectFactorizer, Pseudonymizer, _hash_text
from journey_explorer.store.importer.planning import (
    WritePlan,
    _plan_write,
    duplicate_pairs,
    duplicate_positions,
    session_number_within_user,
    sessions_with_keys,
    sort_order,
)
from journey_explorer.store.importer.reading import (
    MAX_PROPERTY_VALUES,
    SMALLEST_TIME_PIECE,
    _encode_arrow_parts,
    property_name,
    sub_milliseconds,
)
from journey_explorer.store.importer.run import (
    ImportInterrupted,
    file_sha256,
    import_file,
    import_user_properties,
    interrupted_import_message,
)
from journey_explorer.store.importer.writing import _write, _write_cache, storable_path

__all__ = [
    "import_file", "import_user_properties", "interrupted_import_message", "ImportInterrupted", "file_sha256",
    "storable_path", "sort_order", "sessions_with_keys", "session_number_within_user", "duplicate_pairs",
    "duplicate_positions", "property_name", "sub_milliseconds", "Dictionary", "Pseudonymizer", "WritePlan",
    "JourneyError",
    # used by store.repair and by tests that patch or wrap them
    "secrets", "ObjectFactorizer", "MAX_PROPERTY_VALUES", "SMALLEST_TIME_PIECE",
    "_hash_text", "_plan_write", "_encode_arrow_parts", "_write", "_write_cache",
]

_MODULES = (encoding, state, reading, planning, writing, run)


class _PatchThrough(types.ModuleType):
    """Setting a name here sets it in every module of the package that holds it.

    ``monkeypatch.setattr(importer, "MAX_PROPERTY_VALUES", 3)`` (tests, repair scripts) then reaches the
    code that reads the name, as it did when the importer was one module.
    """

    def __setattr__(self, name: str, value) -> None:
        for module in globals().get("_MODULES", ()):
            if name in vars(module):
                setattr(module, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PatchThrough
