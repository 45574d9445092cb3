"""Event properties in the project file: typed values, dictionary-encoded per event.

Every source column that is not the user, event, time, session or insert id is a property; nested
vendor objects are flattened with dotted names (``traits.plan``). Each property is stored as

* ``event_property_columns``: one row per property, its distinct values as a JSON list (code order,
  typed: str, int, float, bool);
* ``log_cache`` ``property:<name>``: int32 codes (-1 = the event does not carry it), aligned with the
  sorted event arrays of the cache.

These are the only copy of the properties (events rows do not repeat them as JSON text). Codes are
stable: a later import appends new values to a property's list and never renumbers old ones.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import MISSING, PropertyColumn
from journey_explorer.store.column_codec import encode_column, read_column
from journey_explorer.store.errors import ProjectDamaged, reads_project

CODES_PREFIX = "property:"      # log_cache name of a property's codes
_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)?\.[0-9]+(?:[eE][+-]?[0-9]+)?|[+-]?(?:0|[1-9][0-9]*)[eE][+-]?[0-9]+"
                    r"|[+-]?(?:0|[1-9][0-9]*)\.[0-9]*")
_DECIMAL_COMMA = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*),[0-9]{2}|[1-9][0-9]{0,2}(?:\.[0-9]{3})+,[0-9]+)")


class _Missing:
    """The marker of an empty cell (None, NaN, NaT, blank text)."""


ABSENT = _Missing()


def normalise_value(value: Any) -> Any:
    """A cell as a value we can store and compare: str, int, float or bool, else ``ABSENT``.

    Dates become ISO text, decimals floats, lists and dicts JSON text; text is stripped.

    >>> import pandas as pd
    >>> [normalise_value(v) for v in (" a ", 3, 2.5, pd.Timestamp("2024-01-02 03:04:05.000006"), [1, "x"])]
    ['a', 3, 2.5, '2024-01-02T03:04:05.000006', '[1, "x"]']
    >>> normalise_value(float("nan")) is ABSENT, normalise_value("  ") is ABSENT
    (True, True)
    """
    if value is None:
        return ABSENT
    if isinstance(value, str):
        return value.strip() or ABSENT
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return ABSENT if math.isnan(value) else float(value)
    if isinstance(value, decimal.Decimal):
        return ABSENT if value.is_nan() else float(value)
    if isinstance(value, (dict, list, tuple, np.ndarray)):
        plain = value.tolist() if isinstance(value, np.ndarray) else value
        return json.dumps(plain, ensure_ascii=False, default=_json_default)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip() or ABSENT
    if isinstance(value, np.datetime64):
        return ABSENT if np.isnat(value) else str(np.datetime_as_string(value))
    if isinstance(value, (dt.date, dt.time)):        # datetime and pandas.Timestamp included
        try:
            import pandas as pd
            if value is pd.NaT:
                return ABSENT
        except ImportError:  # pragma: no cover - pandas is a dependency
            pass
        return value.isoformat()
    try:
        import pandas as pd
        if value is pd.NA or value is pd.NaT:
            return ABSENT
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def _json_default(value: Any) -> Any:
    plain = normalise_value(value)
    return None if plain is ABSENT else plain


def value_key(value: Any) -> tuple:
    """Dictionary key that keeps ``True``, ``1`` and ``"1"`` apart (Python's ``1 == True``)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    return ("s", value)


def typed_text(values: list) -> list:
    """Numbers (or booleans) for a column of text that is all numbers (all true/false); anything
    else unchanged.

    A column decides as a whole, so "007" (not a canonical number) keeps a zip-code column as text.

    >>> typed_text(["1", "2.5", "-3"]), typed_text(["1", "x"]), typed_text(["007", "1"])
    ([1, 2.5, -3], ['1', 'x'], ['007', '1'])
    >>> typed_text(["true", "False"])
    [True, False]
    >>> typed_text(["12,50", "3", "1.234,5"])            # a European spreadsheet's decimal commas
    [12.5, 3, 1234.5]
    """
    if not values or not all(isinstance(v, str) for v in values):
        return values
    if all(v.lower() in ("true", "false") for v in values):
        return [v.lower() == "true" for v in values]
    if all(_INT.fullmatch(v) for v in values):
        return [int(v) for v in values]
    if all(_INT.fullmatch(v) or _FLOAT.fullmatch(v) for v in values):
        return [int(v) if _INT.fullmatch(v) else float(v) for v in values]
    if _decimal_commas(values):
        return [int(v) if _INT.fullmatch(v) else float(v.replace(".", "").replace(",", ".")) for v in values]
    return values


def _decimal_commas(values: list[str]) -> bool:
    """Whether a text column is money written with a decimal comma (European spreadsheets: "12,50",
    "1.234,56"): every value a whole number, two decimals after a comma, or thousands with dots. One
    decimal ("3,9") or three ("1,250": English thousands?) could be anything else: the column stays text.

    >>> _decimal_commas(["12,50", "3", "1.234,5"]), _decimal_commas(["1,250", "0,75"]), _decimal_commas(["17,42", "3,9"])
    (True, False, False)
    """
    commas = [v for v in values if not _INT.fullmatch(v)]
    return bool(commas) and all(_DECIMAL_COMMA.fullmatch(v) for v in commas)


def flatten(record: Mapping, prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names; lists stay values.

    >>> flatten({"traits": {"plan": "pro", "seats": {"max": 5}}, "page": "/"})
    {'traits.plan': 'pro', 'traits.seats.max': 5, 'page': '/'}
    """
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


class PropertyDictionary:
    """Values of one property -> integer codes, continuing the codes already in the project.

    While reading, each distinct cell value gets a provisional code (text not yet typed); ``finish``
    types this import's values as a column (``typed_text``), looks them up among the existing
    values, appends the new ones and gives the ``remap`` from provisional to final codes. Text is
    looked up in a plain ``str`` dict (the common case, and the fast one); other values by
    ``value_key``.
    """

    def __init__(self, existing: Iterable = ()):
        self.values: list = list(existing)
        self._final = _ValueIndex()
        for code, value in enumerate(self.values):
            self._final.add(value, code)
        self._raw: list = []
        self._raw_index = _ValueIndex()
        self.remap: np.ndarray | None = None

    @property
    def distinct_seen(self) -> int:
        """Distinct values met so far in this import."""
        return len(self._raw)

    def value_hashes(self) -> np.ndarray:
        """``text_hashes`` of the values met so far, by provisional code, and 0 last (for code -1)."""
        return np.append(text_hashes(np.array([str(v) for v in self._raw] + [None], dtype=object)[:-1]), 0)

    def encode_uniques(self, uniques) -> np.ndarray:
        """Provisional code of each distinct cell value (-1 for an empty one)."""
        out = np.empty(len(uniques), dtype=np.int64)
        text_index, raw = self._raw_index.text, self._raw
        for i, cell in enumerate(uniques):
            if type(cell) is str:                       # noqa: E721 - exact type: the fast path
                value = cell.strip()
                if not value:
                    out[i] = -1
                    continue
                code = text_index.get(value)
                if code is None:
                    code = text_index[value] = len(raw)
                    raw.append(value)
                out[i] = code
                continue
            value = normalise_value(cell)
            if value is ABSENT:
                out[i] = -1
                continue
            code = self._raw_index.get(value)
            if code is None:
                code = self._raw_index.add(value, len(raw))
                raw.append(value)
            out[i] = code
        return out

    def encode_indexed(self, indices: np.ndarray, uniques) -> np.ndarray:
        """Provisional int32 codes of cells given as indices into their distinct values (-1: empty)."""
        lookup = np.append(self.encode_uniques(uniques), -1).astype(np.int32)   # index -1 -> the trailing -1
        return lookup[np.where(indices < 0, len(lookup) - 1, indices)]

    def encode(self, cells: np.ndarray) -> np.ndarray:
        """Provisional codes of a column of cells (any Python values)."""
        import pandas as pd
        try:
            indices, uniques = pd.factorize(cells, use_na_sentinel=True)
        except TypeError:             # unhashable cells (lists, dicts): compare them as JSON text
            cells = np.array([_hashable(c) for c in cells], dtype=object)
            indices, uniques = pd.factorize(cells, use_na_sentinel=True)
        return self.encode_indexed(indices, uniques)

    def finish(self) -> None:
        typed = typed_text(self._raw)
        remap = np.empty(len(typed) + 1, dtype=np.int64)
        remap[-1] = MISSING
        final, values = self._final, self.values
        for provisional, value in enumerate(typed):
            code = final.get(value)
            if code is None:
                code = final.add(value, len(values))
                values.append(value)
            remap[provisional] = code
        self.remap = remap

    def final(self, provisional: np.ndarray) -> np.ndarray:
        return self.remap[provisional].astype(np.int32)


class _ValueIndex:
    """value -> code, text in a plain dict, other values keyed so ``True``, ``1`` and ``"1"`` differ."""

    def __init__(self):
        self.text: dict[str, int] = {}
        self.other: dict[tuple, int] = {}

    def get(self, value) -> int | None:
        return self.text.get(value) if type(value) is str else self.other.get(value_key(value))  # noqa: E721

    def add(self, value, code: int) -> int:
        if type(value) is str:           # noqa: E721
            self.text[value] = code
        else:
            self.other[value_key(value)] = code
        return code


def text_hashes(texts: np.ndarray) -> np.ndarray:
    """A stable 64-bit hash of each text (surrounding spaces ignored), 0 for None or blank: how a
    property with too many values to store still tells rows apart in the duplicate check.

    >>> hashes = text_hashes(np.array(["a", " a", None, "", "b"], dtype=object))
    >>> bool(hashes[0] == hashes[1] != hashes[4]), hashes[2:4].tolist()
    (True, [0, 0])
    """
    import pandas as pd
    text = pd.Series(texts, dtype=object).astype("string").str.strip()
    missing = (text.isna() | (text == "")).to_numpy(dtype=bool)
    hashed = pd.util.hash_array(text.fillna("").to_numpy(dtype=object)).view(np.int64)
    hashed[missing] = 0
    return hashed


def _hashable(cell: Any) -> Any:
    if isinstance(cell, (dict, list, np.ndarray)):
        return normalise_value(cell)
    return cell


# --- reading and writing the stored columns -------------------------------------------------------


@reads_project
def stored_names(conn: sqlite3.Connection) -> list[str]:
    """Property names in the order they first appeared."""
    return [name for (name,) in conn.execute("SELECT name FROM event_property_columns ORDER BY position")]


@reads_project
def stored_values(conn: sqlite3.Connection, names: Iterable[str] | None = None) -> dict[str, list]:
    rows = conn.execute("SELECT name, value_list FROM event_property_columns ORDER BY position")
    wanted = None if names is None else set(names)
    return {name: json.loads(text) for name, text in rows if wanted is None or name in wanted}


@reads_project
def stored_codes(conn: sqlite3.Connection, name: str, size: int) -> np.ndarray:
    """A property's int32 codes in cache order (all -1 when no stored event carries it)."""
    row = conn.execute("SELECT data FROM log_cache WHERE name = ?", (CODES_PREFIX + name,)).fetchone()
    if row is None:
        return np.full(size, MISSING, dtype=np.int32)
    return read_column(row[0])


def write_columns(conn: sqlite3.Connection, codes: Mapping[str, np.ndarray], values: Mapping[str, list],
                  encoded: Mapping[str, bytes] | None = None) -> None:
    """Store each property's codes (cache order) and value list; a property no event carries is dropped.

    One statement per kind of change (executemany), not per property: a file can have 100,000.
    ``encoded``: the codes' blobs (``encode_column(codes, np.int32)``) when already made."""
    known = {name for (name,) in conn.execute("SELECT name FROM event_property_columns")}
    position = conn.execute("SELECT coalesce(max(position), -1) + 1 FROM event_property_columns").fetchone()[0]
    dropped, blobs, updated, added = [], [], [], []
    for name, column in codes.items():
        if not len(column) or not (column >= 0).any():
            dropped.append(name)
            continue
        blob = encoded.get(name) if encoded is not None else None
        blobs.append((CODES_PREFIX + name, blob if blob is not None else encode_column(column, np.int32)))
        text = json.dumps(values[name], ensure_ascii=False)     # ±inf as Infinity, read back by json.loads
        if name in known:
            updated.append((text, name))
        else:
            added.append((name, position, text))
            position += 1
    conn.executemany("DELETE FROM event_property_columns WHERE name = ?", [(name,) for name in dropped])
    conn.executemany("DELETE FROM log_cache WHERE name = ?", [(CODES_PREFIX + name,) for name in dropped])
    conn.executemany("INSERT OR REPLACE INTO log_cache(name, data) VALUES (?, ?)", blobs)
    conn.executemany("UPDATE event_property_columns SET value_list = ? WHERE name = ?", updated)
    conn.executemany("INSERT INTO event_property_columns(name, position, value_list) VALUES (?, ?, ?)", added)


def rebuild_from_events(conn: sqlite3.Connection) -> None:
    """Build the property columns of a project written before they existed, from each stored event's
    raw properties JSON (``event_chunks.read_events``), aligned with the cached sorted arrays."""
    from journey_explorer.store.event_chunks import read_events
    row = conn.execute("SELECT data FROM log_cache WHERE name = 'id'").fetchone()
    if row is None:
        return
    ids = read_column(row[0])
    position_of = np.empty(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    position_of[ids] = np.arange(len(ids))
    columns: dict[str, tuple[list[int], list]] = {}
    stored = read_events(conn, ("id", "properties"))
    for event_id, text in zip(stored["id"].tolist(), stored["properties"]):
        if text is None or event_id >= len(position_of):
            continue
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        for name, value in flatten(record).items():
            positions, cells = columns.setdefault(name, ([], []))
            positions.append(int(position_of[event_id]))
            cells.append(value)
    codes, values = {}, {}
    for name, (positions, cells) in columns.items():
        dictionary = PropertyDictionary()
        provisional = dictionary.encode(np.array(cells + [None], dtype=object)[:-1])
        dictionary.finish()
        column = np.full(len(ids), MISSING, dtype=np.int32)
        column[np.array(positions, dtype=np.int64)] = dictionary.final(provisional)
        codes[name], values[name] = column, dictionary.values
    write_columns(conn, codes, values)


# --- loading into an EventLog ---------------------------------------------------------------------


class _PropertyFile:
    """Where a loaded log's properties live, and the full columns read so far (shared by subsets)."""

    def __init__(self, path: str, size: int, stamp: tuple):
        self.path, self.size, self.stamp = path, size, stamp
        self.read: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.values_read: dict[str, np.ndarray] = {}

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection to the project, refused when it changed since the log was loaded."""
        from pathlib import Path
        conn = sqlite3.connect(Path(self.path).as_uri() + "?mode=ro", uri=True)   # as_uri escapes ? and #
        try:
            if cache_stamp(conn) != self.stamp:
                raise JourneyError("The project changed since its events were loaded (a new import?); "
                                   "load it again to use its properties.")
            yield conn
        finally:
            conn.close()

    @reads_project
    def values(self, name: str) -> np.ndarray:
        """The distinct values of one property, without its per-event codes (a look at what a column
        holds — numbers? how many? — costs a small read, not one int32 per event)."""
        if name in self.read:
            return self.read[name][1]
        if name not in self.values_read:
            with self._connection() as conn:
                self.values_read[name] = _object_array(stored_values(conn, [name]).get(name, []))
        return self.values_read[name]

    @reads_project
    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes in cache order, values) of one property, read once."""
        if name not in self.read:
            with self._connection() as conn:
                codes = stored_codes(conn, name, self.size)
                values = stored_values(conn, [name]).get(name, [])
            if len(codes) != self.size or (len(codes) and (int(codes.max()) >= len(values) or int(codes.min()) < MISSING)):
                raise ProjectDamaged(self.path, f"the codes of the property '{name}' do not match its events")
            self.read[name] = (codes, _object_array(values))
        return self.read[name]


def _object_array(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class LazyPropertyColumn(PropertyColumn):
    """A ``PropertyColumn`` whose codes are read from the project file when first used.

    ``take`` (what filters call) only records the selection, so narrowing a log reads nothing.
    """

    def __init__(self, source: _PropertyFile, name: str, selections: tuple = ()):
        object.__setattr__(self, "_source", source)         # the dataclass is frozen
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_selections", selections)
        object.__setattr__(self, "_codes", None)

    @property
    def codes(self) -> np.ndarray:
        if self._codes is None:
            codes = self._source.column(self._name)[0]
            for keep in self._selections:
                codes = codes[keep]
            object.__setattr__(self, "_codes", codes)
        return self._codes

    @property
    def values(self) -> np.ndarray:
        return self._source.values(self._name)

    def take(self, keep) -> PropertyColumn:
        if self._codes is not None:
            return PropertyColumn(self._codes[keep], self.values)
        return LazyPropertyColumn(self._source, self._name, self._selections + (keep,))

    def __repr__(self) -> str:
        return f"LazyPropertyColumn({self._name!r}, read={self._codes is not None})"


class StoredProperties(Mapping):
    """Event properties of a loaded log, read from the project file when first used.

    Loading a log costs nothing for properties a view never touches, and a filtered log (``take``,
    or a dict of each column's ``take``) still reads nothing until a view asks for codes. Reading
    after the project changed (another import) raises ``JourneyError`` rather than returning codes
    of other events.
    """

    def __init__(self, path: str, names: list[str], size: int, stamp: tuple, selections: tuple = ()):
        self._file = _PropertyFile(path, size, stamp)
        self._names = list(names)
        self._columns = {name: LazyPropertyColumn(self._file, name, selections) for name in self._names}

    def __getitem__(self, name: str) -> PropertyColumn:
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def take(self, keep) -> dict[str, PropertyColumn]:
        return {name: column.take(keep) for name, column in self._columns.items()}


def cache_stamp(conn: sqlite3.Connection) -> tuple:
    """What identifies one state of the cached log: its sources (each import adds one)."""
    return tuple(conn.execute("SELECT count(*), coalesce(max(id), -1) FROM sources").fetchone())


@reads_project
def load_columns(conn: sqlite3.Connection, names: Iterable[str], size: int, keep) -> dict[str, PropertyColumn]:
    """Chosen properties now (unknown names are skipped), sliced by ``keep``."""
    values = stored_values(conn, names)
    out = {}
    for name, value_list in values.items():
        codes = stored_codes(conn, name, size)[keep]
        out[name] = PropertyColumn(codes, _object_array(value_list))
    return out
