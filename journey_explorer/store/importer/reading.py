"""Reading a file into an ``ImportState``: the pandas path (one chunk at a time) and the pyarrow fast path
(whole columns at the end), each row accepted or rejected with its reason.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np
import pandas as pd

from journey_explorer.domain import ColumnMapping, ImportOptions, InputError, Rejection
from journey_explorer.io import arrow_csv
from journey_explorer.io.base import SourceChunk, SourceReader
from journey_explorer.io.identity import IdentityLinks
from journey_explorer.io.mapping import nested_field_hint, time_text
from journey_explorer.io.timestamps import (
    SAMPLE_SIZE,
    check_parse_options,
    detect_time_format,
    parse_times,
    settle_day_month,
)
from journey_explorer.store import properties as stored_properties
from journey_explorer.store.errors import ProjectDamaged
from journey_explorer.store.importer.encoding import (
    CleanText,
    Dictionary,
    Pseudonymizer,
    _hash_text,
    _json_or_none,
    _normalised_hashes,
    _object_values,
)
from journey_explorer.store.importer.state import LINE_DTYPE, ImportState, Progress
from journey_explorer.store.project import (
    Project,
)
from journey_explorer.store.properties import PropertyDictionary, flatten, text_hashes

# A time column pyarrow cannot cast whole is cut in TIME_PIECES pieces, again and again, down to
# SMALLEST_TIME_PIECE rows; what still fails goes to parse_times.
TIME_PIECES, SMALLEST_TIME_PIECE = 16, 256
USER_PROPERTY_PREFIX = "case:"       # process-mining case attributes describe the path's owner
# Vendors whose insert id alone identifies an event (Mixpanel's also needs event, user and time).
INSERT_ID_ALONE_FORMATS = ("amplitude", "segment", "posthog")
# A property with more distinct values than this in one file is an identifier or free text (an order
# id, a message): useless for segments and breakdowns, and ~150 bytes of memory per value. It is not
# stored as a property, and the summary says so.
MAX_PROPERTY_VALUES = 1_000_000
# From this many property columns, a batch's columns are dictionary-encoded together (wide files).
MANY_COLUMNS = 64


def _new_state(project: Project, reader: SourceReader, mapping: ColumnMapping,
               options: ImportOptions, identity: IdentityLinks | None = None) -> ImportState:
    users = Dictionary(_stored_user_keys(project))
    events = Dictionary(_stored_texts(project, "SELECT name FROM event_types ORDER BY id", "event names"))
    sessions = Dictionary([])
    pseudonymize = None
    if options.pseudonymize:
        key = project.get_setting("pseudonym_key") or secrets.token_hex(32)
        pseudonymize = Pseudonymizer(key)
    columns = reader.columns()
    traits = getattr(reader, "trait_columns", list)()    # vendor user traits (traits.email) may be dropped too
    unknown = [c for c in options.drop_columns if c not in columns and c not in traits]
    if unknown:
        raise InputError(f"{{drop_columns}} names {', '.join(unknown)}, not in the file"
                         f"{nested_field_hint(unknown, columns + traits)} (columns: {', '.join(columns + traits)})",
                         file=reader.path)
    if mapping.mapped_columns & set(options.drop_columns):
        raise InputError("cannot drop a column that holds the user, event, time or session: "
                         + ", ".join(sorted(mapping.mapped_columns & set(options.drop_columns))),
                         file=reader.path)
    free = [c for c in columns if c not in mapping.mapped_columns and c not in options.drop_columns
            and not _is_row_index(c)]
    user_props = [c for c in free if c.startswith(USER_PROPERTY_PREFIX)]
    return ImportState(mapping=mapping, users=users, events=events, sessions=sessions,
                       pseudonymize=pseudonymize, property_columns=free,
                       user_property_columns=user_props,
                       existing_properties=stored_properties.stored_values(project.conn),
                       insert_id_alone=_insert_id_alone(reader, mapping), source_columns=columns,
                       keep_identical_rows=options.keep_identical_rows, identity=identity)


def learn_identities(reader: SourceReader, mapping: ColumnMapping, chunk_rows: int,
                     progress: Progress = lambda fraction, rows: None) -> IdentityLinks | None:
    """With an anonymous id column, a first pass over the file: which user each anonymous id belongs
    to (an anonymous id's rows before login come before the row that tells). None without one.
    ``progress(0, rows)`` after each chunk lets the caller cancel."""
    if not mapping.anonymous:
        return None
    links, rows = IdentityLinks(), 0
    for chunk in reader.chunks(chunk_rows):
        links.add(chunk.frame[mapping.anonymous], chunk.frame[mapping.user])
        rows += len(chunk.frame)
        progress(0.0, rows)
    return links.finish()


def _owners(state: ImportState, frame: pd.DataFrame) -> np.ndarray:
    """Each row's user cell: the user column's, or stitched through the anonymous id."""
    mapping = state.mapping
    if state.identity is None:
        return _object_values(frame[mapping.user])
    return state.identity.owners(frame[mapping.anonymous], frame[mapping.user])


def _stored_texts(project: Project, query: str, what: str) -> list[str]:
    """User ids or event names already in the project; anything but text there is damage."""
    values = [value for (value,) in project.conn.execute(query)]
    if not all(isinstance(value, str) for value in values):
        raise ProjectDamaged(project.path, f"some stored {what} are not text")
    return values


def _stored_user_keys(project: Project) -> list[str]:
    """The users table's ids, which must be unique and agree with the checksummed copy in the cache."""
    keys = _stored_texts(project, "SELECT key FROM users ORDER BY id", "user ids")
    cached = project.user_keys()        # unique by construction: equal lists need no set
    agree = cached.tolist() == keys if len(cached) else len(set(keys)) == len(keys)
    if not agree:
        raise ProjectDamaged(project.path, "the users table disagrees with the stored user ids")
    return keys


def _insert_id_alone(reader: SourceReader, mapping: ColumnMapping) -> bool:
    """Does the insert id alone identify an event? Amplitude, Segment and PostHog say so, and so does
    an event id column; Mixpanel's ``$insert_id`` only with the same event, user and time."""
    if not mapping.insert_id or reader.format == "mixpanel":
        return False
    return reader.format in INSERT_ID_ALONE_FORMATS or "insert" not in mapping.insert_id.lower()


def property_name(column: str, columns: list[str]) -> str:
    """The event property's name for a column: ``case:`` dropped unless a plain column has that name.

    >>> property_name("case:age", ["case:age", "x"]), property_name("case:x", ["case:x", "x"])
    ('age', 'case:x')
    """
    if column.startswith(USER_PROPERTY_PREFIX):
        plain = column[len(USER_PROPERTY_PREFIX):]
        if plain and plain not in columns:
            return plain
    return column


def _property_dictionary(state: ImportState, name: str) -> PropertyDictionary:
    dictionary = state.property_values.get(name)
    if dictionary is None:
        dictionary = state.property_values[name] = PropertyDictionary(state.existing_properties.get(name, ()))
    return dictionary


def _record_property(state: ImportState, name: str, cells, key: int, codes_by_key: dict,
                     hashes_by_key: dict) -> None:
    """File the codes of one chunk's ``cells`` of a property (an object array, or pyarrow text on
    the fast path) under ``key``.

    Past ``MAX_PROPERTY_VALUES`` distinct values the property is not stored: its codes so far turn
    into per-row hashes of the values, later chunks give hashes, and the duplicate check still
    compares them. The summary names it.
    """
    if isinstance(cells, tuple):        # (indices, distinct values), as arrow_csv.batch_dictionary gives
        indexed = cells
    elif not isinstance(cells, np.ndarray):
        indexed = arrow_csv.batch_dictionary(cells)
    else:
        indexed = None
    if name in state.too_many_values:
        hashes_by_key.setdefault(name, {})[key] = (text_hashes(_indexed_cells(*indexed)) if indexed is not None
                                                   else _normalised_hashes(cells))
        return
    dictionary = _property_dictionary(state, name)
    codes = dictionary.encode_indexed(*indexed) if indexed is not None else dictionary.encode(cells)
    if dictionary.distinct_seen <= MAX_PROPERTY_VALUES:
        codes_by_key.setdefault(name, {})[key] = codes
        return
    lookup = dictionary.value_hashes()
    hashes = hashes_by_key.setdefault(name, {})
    for earlier_key, earlier in codes_by_key.pop(name, {}).items():
        hashes[earlier_key] = lookup[earlier]
    hashes[key] = lookup[codes]
    state.too_many_values.append(name)
    del state.property_values[name]


def _indexed_cells(indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cells from their indices into distinct ``values`` (-1: empty, None)."""
    return np.append(values.astype(object), None)[np.where(indices < 0, len(values), indices)]


def _is_row_index(column: str) -> bool:
    """A column with a blank header (a saved pandas index, ``Unnamed: 0``) carries no information."""
    return column.startswith("Unnamed: ")

# --- the one path both readers take: check, reject, keep ----------------------------------------


@dataclass
class CheckedRows:
    """Rows read by either path, with the columns every row needs encoded: a pandas chunk, or the
    whole file on the fast path. A row is kept only with a user, an event and a readable time."""

    lines: np.ndarray                   # source line of each row
    user: np.ndarray                    # provisional codes (see Dictionary)
    no_user: np.ndarray
    event: np.ndarray
    no_event: np.ndarray
    ms: np.ndarray                      # UTC milliseconds
    time_ok: np.ndarray
    time_reasons: Callable[[np.ndarray], np.ndarray]    # why the times of these rows failed

    def usable(self) -> np.ndarray:
        return ~self.no_user & ~self.no_event & self.time_ok


def _keep_usable(state: ImportState, checked: CheckedRows, reader: SourceReader,
                 rows_as_read: Callable[[np.ndarray], pd.DataFrame]) -> np.ndarray | None:
    """The mask of usable rows (None when there are none); every other row becomes a rejection.

    ``rows_as_read(positions)``: those rows' cells as read, to quote each rejected line."""
    good = checked.usable()
    if not good.all():
        _reject(state, checked, np.flatnonzero(~good), reader, rows_as_read)
    return good if good.any() else None


def _reject(state: ImportState, checked: CheckedRows, bad: np.ndarray, reader: SourceReader,
            rows_as_read: Callable[[np.ndarray], pd.DataFrame]) -> None:
    mapping = state.mapping
    user_columns = f"{mapping.user} or {mapping.anonymous}" if mapping.anonymous else mapping.user
    reasons = np.where(checked.no_user[bad], f"missing user ({user_columns})",
                       np.where(checked.no_event[bad], f"missing event ({mapping.event})",
                                checked.time_reasons(bad)))
    separator = getattr(reader, "delimiter", ",")
    # Plain str per cell, not pandas' "string" dtype: its Arrow storage refuses the surrogates that
    # undecodable bytes become, and the raw line is exactly what the user needs to see.
    rows = rows_as_read(bad)
    raw = [separator.join(_cell_text(value) for value in row) for row in rows.itertuples(index=False)]
    _count_filled_on_missing_user(state, rows, checked.no_user[bad])
    state.rejections.extend(Rejection(int(line), str(reason), text)
                            for line, reason, text in zip(checked.lines[bad], reasons, raw))


def _count_filled_on_missing_user(state: ImportState, rows: pd.DataFrame, no_user: np.ndarray) -> None:
    """For each column not mapped, on how many of the rows rejected for a missing user it is filled."""
    if not no_user.any():
        return
    unmapped = [c for c in rows.columns if c not in state.mapping.mapped_columns]
    filled = rows[no_user][unmapped].notna().sum()
    for column, count in filled.items():
        state.missing_user_filled[column] = state.missing_user_filled.get(column, 0) + int(count)


def _cell_text(value) -> str:
    """A cell as it reads in a rejected row: missing values empty, anything else as ``str``."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return ""
    return str(value)


def _append_kept(state: ImportState, checked: CheckedRows, good: np.ndarray, sub_ms: np.ndarray | None,
                 session_key: np.ndarray, insert_ids: np.ndarray | None) -> None:
    """The kept rows' codes into ``state.rows`` (``sub_ms``, ``session_key``, ``insert_ids``: kept rows only)."""
    rows = state.rows
    rows.user.append(checked.user[good])
    rows.event.append(checked.event[good])
    rows.ts.append(checked.ms[good])
    rows.line.append(checked.lines[good].astype(LINE_DTYPE))
    rows.sub_ms.append(sub_ms)
    rows.session_key.append(session_key)
    rows.insert_id.append(insert_ids)
    rows.insert_hash.append(_hash_text(insert_ids))


def _session_keys(state: ImportState, count: int, encode: Callable[[Dictionary], tuple]) -> np.ndarray:
    """Session keys of ``count`` kept rows (-1 where empty); ``encode(dictionary)`` encodes their cells."""
    if not state.mapping.session:
        return np.full(count, -1, dtype=np.int64)
    keys, missing = encode(state.sessions)
    keys = keys.astype(np.int64, copy=False)
    keys[missing] = -1
    return keys


# --- pandas path: one chunk at a time -----------------------------------------------------------


def _encode_chunk(state: ImportState, chunk: SourceChunk, reader: SourceReader) -> None:
    frame, mapping = chunk.frame, state.mapping
    state.rejections.extend(chunk.rejected)
    state.read += len(frame) + len(chunk.rejected)
    if frame.empty:
        return
    user, no_user = state.users.encode(_owners(state, frame))
    event, no_event = state.events.encode(_object_values(frame[mapping.event]))
    when = time_text(frame, mapping)
    if state.time_guess is None and not mapping.time_format:
        state.time_guess = detect_time_format(when)
        _settle_day_month(state, reader, when)
    times = parse_times(when, time_format=mapping.time_format, timezone=mapping.timezone,
                        date_order=mapping.date_order, guess=state.time_guess, column=mapping.time,
                        first_line=int(chunk.lines[0]))
    checked = CheckedRows(lines=np.asarray(chunk.lines), user=user, no_user=no_user, event=event,
                          no_event=no_event, ms=times.ms, time_ok=times.ok,
                          time_reasons=lambda rows: np.asarray(times.reasons)[rows])
    good = _keep_usable(state, checked, reader, lambda rows: frame.iloc[rows])
    if good is None:
        return
    kept = frame[good] if not good.all() else frame
    chunk_number = len(state.rows.user)
    sessions = _session_keys(state, len(kept), lambda sessions: sessions.encode(_object_values(kept[mapping.session])))
    _append_kept(state, checked, good, sub_ms=sub_milliseconds(when[good] if not good.all() else when,
                                                                 mapping.time_format or state.time_guess.kind),
                 session_key=sessions, insert_ids=_insert_ids(kept, mapping))
    _encode_properties(state, kept, chunk_number)
    # Structured sources (JSON, vendors, Parquet, XES) keep each row's record as read; a delimited
    # text row is its file line, and analyses use the property columns either way.
    state.rows.properties_json.append(None if reader.format == "csv"
                                      else _properties_json(kept, state.property_columns, mapping))
    _collect_user_properties(state, kept, user[good])



_SUB_MS_TEXT = r":[0-9]{2}[.,][0-9]{3}([0-9]{1,3})"      # digits 4-6 of the seconds' fraction
_EPOCH_MICROS = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}


def sub_milliseconds(values: pd.Series, kind: str | None) -> np.ndarray | None:
    """Microseconds within the millisecond (0-999) that the ms times floor away; None when all 0.

    >>> sub_milliseconds(pd.Series(["2024-01-01T10:00:00.123456Z", "2024-01-01T10:00:00.5Z"]), "iso").tolist()
    [456, 0]
    >>> sub_milliseconds(pd.Series([1700000000123456, 1700000000123000]), "epoch_us").tolist()
    [456, 0]
    """
    if kind in _EPOCH_MICROS:
        if kind == "epoch_us" and values.dtype.kind in "iu":
            sub = values.to_numpy() % 1000
        else:       # text or floats; float64 holds today's µs epochs (~1.7e15 < 2^53) exactly
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            micros = np.round(numbers * _EPOCH_MICROS[kind])
            sub = np.where(np.isfinite(micros), np.mod(np.nan_to_num(micros), 1000), 0)
        return _nonzero_or_none(sub)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _nonzero_or_none(values.dt.microsecond.fillna(0).to_numpy() % 1000)
    first = values.dropna().head(1).tolist()
    if first and isinstance(first[0], dt.datetime):     # Excel/JSON cells that are datetimes
        return _nonzero_or_none(values.map(
            lambda v: v.microsecond % 1000 if isinstance(v, dt.datetime) else 0).to_numpy())
    text = values.astype("string")
    if not text.head(200).str.contains(_SUB_MS_TEXT.replace("(", "(?:")).any():
        return None                        # ms or coarser: skip the per-row scan
    digits = text.str.extract(_SUB_MS_TEXT, expand=False).fillna("").str.ljust(3, "0")
    return _nonzero_or_none(pd.to_numeric(digits, errors="coerce").fillna(0).to_numpy())


def _nonzero_or_none(sub: np.ndarray) -> np.ndarray | None:
    sub = np.asarray(sub).astype(np.int16, copy=False)
    return sub if sub.any() else None


def _encode_properties(state: ImportState, frame: pd.DataFrame, chunk_number: int) -> None:
    """Provisional property codes of one chunk: plain columns, then the vendor's nested object."""
    for column in state.property_columns:
        _record_property(state, property_name(column, state.source_columns), _object_values(frame[column]),
                         chunk_number, state.rows.properties, state.rows.value_hashes)
    if state.mapping.properties_column:
        _encode_nested(state, frame[state.mapping.properties_column], chunk_number)


def _encode_nested(state: ImportState, objects: pd.Series, chunk_number: int) -> None:
    """A column of JSON objects (text or dicts) flattened to dotted property names."""
    records = [flatten(_as_object(value)) for value in objects.to_numpy(dtype=object)]
    names = list(dict.fromkeys(name for record in records for name in record))
    for name in names:
        if name in state.property_columns:       # a plain column of that name wins
            continue
        cells = np.empty(len(records), dtype=object)
        cells[:] = [record.get(name) for record in records]
        _record_property(state, name, cells, chunk_number, state.rows.properties, state.rows.value_hashes)


def _as_object(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _insert_ids(frame: pd.DataFrame, mapping: ColumnMapping) -> np.ndarray | None:
    if not mapping.insert_id:
        return None
    text = CleanText.of(frame[mapping.insert_id])
    values = text.values()
    values[text.missing] = None
    return values


def _properties_json(frame: pd.DataFrame, columns: list[str], mapping: ColumnMapping) -> np.ndarray | None:
    """One JSON object per row with its non-empty extra columns (None when it has none): the
    row's record as read, kept in the event chunks' ``properties`` on the pandas path (analyses use the
    dictionary-encoded property columns)."""
    if mapping.properties_column:
        clean = CleanText.of(frame[mapping.properties_column])
        text = clean.values()
        text[clean.missing] = None
        if columns:
            extra = _properties_json(frame, columns, ColumnMapping("", "", ""))
            text = np.array([_merge_json(a, b) for a, b in zip(text, extra)], dtype=object)
        return text
    if not columns:
        return None
    sub = frame[columns]
    try:
        empty = sub.isna().to_numpy()
        if empty.any():
            return _without_empties(sub, empty)
        return np.array(_json_lines(sub), dtype=object)
    except (TypeError, ValueError, OverflowError):      # cells pandas cannot write (decimals, ...)
        return np.array([_json_or_none(record) for record in sub.to_dict("records")], dtype=object)


def _json_lines(sub: pd.DataFrame) -> list[str]:
    return sub.to_json(orient="records", lines=True, force_ascii=False, date_format="iso", date_unit="us").splitlines()


MAX_EMPTY_PATTERNS = 200       # groups of rows with the same empty cells written at once, up to this many


def _without_empties(sub: pd.DataFrame, missing: np.ndarray | None = None) -> np.ndarray:
    """One JSON object per row of its non-empty cells (None for a row with none). pandas writes each
    group of rows with the same empty cells at once: a file has few such groups (the same columns are
    empty on the same events), and parsing every line again to drop its nulls cost ~10 us a row.
    Many groups: the lines are cleaned one by one. ``missing``: ``sub.isna()`` when already known."""
    empty = (sub.isna().to_numpy() if missing is None else missing).copy()    # pandas may hand out a read-only view
    for j, column in enumerate(sub.columns):
        if not (pd.api.types.is_numeric_dtype(sub[column]) or pd.api.types.is_datetime64_any_dtype(sub[column])):
            empty[:, j] |= sub[column].to_numpy(dtype=object) == ""
    # One key per row's pattern (np.unique over rows of a bool matrix took ~1 s for 241k rows).
    if empty.shape[1] <= 62:
        keys = empty.astype(np.int64) @ (np.int64(1) << np.arange(empty.shape[1], dtype=np.int64))
    else:
        packed = np.packbits(empty, axis=1)
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if len(first) > MAX_EMPTY_PATTERNS:
        return np.array([_drop_nulls(line) for line in _json_lines(sub)], dtype=object)
    inverse = inverse.reshape(-1)
    out = np.full(len(sub), None, dtype=object)
    for k, pattern in enumerate(empty[first]):
        kept = [column for column, is_empty in zip(sub.columns, pattern) if not is_empty]
        if not kept:
            continue
        rows = np.flatnonzero(inverse == k)
        out[rows] = _json_lines(sub.iloc[rows][kept])
    return out


def _drop_nulls(line: str) -> str | None:
    record = {k: v for k, v in json.loads(line).items() if v is not None and v != ""}
    return json.dumps(record, ensure_ascii=False) if record else None


def _merge_json(first: str | None, second: str | None) -> str | None:
    if not first or not second:
        return first or second
    merged = json.loads(first)
    merged.update(json.loads(second))
    return json.dumps(merged, ensure_ascii=False)


def _collect_user_properties(state: ImportState, frame: pd.DataFrame, user_codes: np.ndarray) -> None:
    """Case-level columns become user properties (the last value seen per user)."""
    if not state.user_property_columns:
        return
    sub = frame[state.user_property_columns].copy()
    sub.columns = [c[len(USER_PROPERTY_PREFIX):] for c in sub.columns]
    sub["__user"] = user_codes
    last = sub.groupby("__user", sort=False).last()
    for user, values in zip(last.index, last.to_dict("records")):
        clean = {k: v for k, v in values.items() if not pd.isna(v)}
        state.user_properties.setdefault(int(user), {}).update(clean)


def _add_trait_users(state: ImportState, traits: dict[str, dict]) -> None:
    """Users known only from traits (e.g. Segment identify) are users too."""
    if not traits:
        return
    keys = np.array(list(traits), dtype=object)
    codes, _ = state.users.encode(keys)
    for code, key in zip(codes, keys):
        state.user_properties.setdefault(int(code), {}).update(traits[key])


# --- fast path: pyarrow ---------------------------------------------------------------------------


@dataclass
class _ArrowParts:
    """Per-batch results of the fast path, joined once the whole file is read."""

    users: list = field(default_factory=list)         # pyarrow text, encoded in one go at the end
    sessions: list = field(default_factory=list)      # likewise (only accepted rows get a session key)
    event: list[np.ndarray] = field(default_factory=list)
    no_event: list[np.ndarray] = field(default_factory=list)
    ms: list[np.ndarray] = field(default_factory=list)
    sub_ms: list[np.ndarray] = field(default_factory=list)
    properties: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)   # batch -> provisional codes
    value_hashes: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)  # see _record_property
    time_ok: list[np.ndarray] = field(default_factory=list)
    time_reasons: dict[int, str] = field(default_factory=dict)    # row index -> why its time failed
    rows: int = 0
    user_head: Future | None = None     # the users' codes in the first part of the file (``Dictionary.start_head``)
    heads: int = 0                      # steps of it begun (``HEAD_SHARES``)


def _read_fast(state: ImportState, reader: SourceReader, line_count: "LineCount", estimated: int,
               progress: Progress, chunk_rows: int) -> bool:
    """Read and encode the file with pyarrow when that gives the pandas path's exact result.

    False when the pandas path must read it (pyarrow missing, compressed or non-UTF-8 text, insert
    ids, ``case:`` user properties, identities to stitch, a ragged or blank line, a record spanning
    lines); ``state`` may then hold part of the work and must be replaced. ``line_count``: the
    file's lines (None when the fast reader must not read it: ``run._digest_and_lines``), worked
    out beside the reading: checked as soon as it is known, at the latest after the encoding (whose
    errors, when the lines were off, only mean the pandas path must read the file).
    """
    mapping = state.mapping
    if (not arrow_csv.can_read(reader) or mapping.insert_id or mapping.properties_column or mapping.time_of_day
            or mapping.anonymous or state.user_property_columns):
        return False
    try:
        parts = _read_arrow_parts(state, reader, estimated, progress, chunk_rows)
        if line_count.done() and not _one_row_per_line(parts, reader, line_count):
            return False
        try:
            _encode_arrow_parts(state, reader, parts)
        except Exception:
            if not _one_row_per_line(parts, reader, line_count):
                return False
            raise
        return _one_row_per_line(parts, reader, line_count)
    except arrow_csv.NotSimple:
        return False


class LineCount(Protocol):
    """The file's line count being worked out (``run._Digest``: ``result()`` is (sha, lines))."""

    def done(self) -> bool: ...

    def result(self) -> tuple[str, int | None]: ...


def _one_row_per_line(parts: "_ArrowParts", reader: SourceReader, line_count: LineCount) -> bool:
    """Did pyarrow read one row per line (else line numbers would be off: the pandas path reads it)?"""
    lines = line_count.result()[1]
    return lines is not None and parts.rows + reader.has_header == lines


HEAD_ROWS = 1_000_000       # files expected to be smaller encode their users in one go at the end
SETTLE_CHUNK_ROWS = 50_000      # small: a column usually tells its order within days of its start
HEAD_SHARES = (0.5, 0.75, 0.875)    # of the rows read when the users' head is begun, then carried on


def _next_head_due(parts: "_ArrowParts", estimated: int) -> bool:
    """Whether to begin (or carry on) the users' head now: the next of ``HEAD_SHARES`` of the
    expected rows is read, and the step before, if any, is done (else it waits for the next share)."""
    if estimated < HEAD_ROWS or parts.heads >= len(HEAD_SHARES):
        return False
    if parts.user_head is not None and not parts.user_head.done():
        return False
    return parts.rows >= estimated * HEAD_SHARES[parts.heads]


def _settle_day_month(state: ImportState, reader: SourceReader, first_values: pd.Series) -> None:
    """A day/month order the first rows leave open (01/09 ... 12/09) is looked for further down the
    column, from ``first_values`` on and then chunk by chunk from the file's start, only as far as
    needed (``settle_day_month``). The caller's --date-order wins."""
    if not state.time_guess.ambiguous_day_month or state.mapping.date_order:
        return
    later = (time_text(chunk.frame, state.mapping) for chunk in reader.chunks(SETTLE_CHUNK_ROWS))
    state.time_guess = settle_day_month(state.time_guess, itertools.chain([first_values], later))


def _after_time_detection(state: ImportState, reader: SourceReader, batches, time_position: int,
                          chunk_rows: int):
    """The batches, once the time format is detected from the sample the pandas path uses: the
    column's first values within the first ``chunk_rows`` rows (batches hold fewer rows when rows
    are wide, so the first batch alone could see a different sample)."""
    batches = iter(batches)
    held, values, rows = [], [], 0
    for batch in batches:
        held.append(batch)
        values.append(batch.column(time_position).slice(0, max(chunk_rows - rows, 0)).drop_null())
        rows += batch.num_rows
        if sum(len(v) for v in values) >= 2 * SAMPLE_SIZE or rows >= chunk_rows:
            break
    sample = arrow_csv.column_values(arrow_csv.concat(values)) if values else np.zeros(0, dtype=object)
    state.time_guess = detect_time_format(pd.Series(sample, dtype=object))
    _settle_day_month(state, reader, pd.Series(sample, dtype=object))
    yield from held
    yield from batches


def _read_arrow_parts(state: ImportState, reader: SourceReader, estimated: int, progress: Progress,
                      chunk_rows: int) -> _ArrowParts:
    mapping, parts = state.mapping, _ArrowParts()
    position = {name: i for i, name in enumerate(reader.columns())}
    check_parse_options(mapping.time_format, mapping.timezone, mapping.date_order)
    batches = arrow_csv.record_batches(reader, check_marks=False)     # the digest looks for them
    if state.time_guess is None and not mapping.time_format:
        batches = _after_time_detection(state, reader, batches, position[mapping.time], chunk_rows)
    for batch in batches:
        parts.users.append(batch.column(position[mapping.user]))
        # The users' dictionary of the file's first half is worked out on a thread while the second
        # half is read (at 10M rows the reading leaves most of a core idle; one hash table over the
        # whole column afterwards took ~1.5 s on one core), then carried on to 3/4 and 7/8 of the
        # file when the step before is done: what is left for the end is the last eighth.
        if _next_head_due(parts, estimated):
            parts.user_head = state.users.start_head(parts.users, parts.user_head)
            parts.heads += 1
        if mapping.session:
            parts.sessions.append(batch.column(position[mapping.session]))
        codes, missing = state.events.encode_indexed(*arrow_csv.batch_dictionary(batch.column(position[mapping.event])))
        parts.event.append(codes.astype(np.int32))
        parts.no_event.append(missing)
        columns = [batch.column(position[column]) for column in state.property_columns]
        if len(columns) >= MANY_COLUMNS:        # a wide file: every property column's dictionary at once
            columns = arrow_csv.columns_dictionaries(columns)
        for column, cells in zip(state.property_columns, columns):
            _record_property(state, property_name(column, state.source_columns), cells,
                             len(parts.ms), parts.properties, parts.value_hashes)
        first_line = parts.rows + reader.has_header + 1
        ms, ok, reasons, sub = _arrow_times(state, batch.column(position[mapping.time]), first_line)
        parts.ms.append(ms)
        parts.sub_ms.append(sub)
        parts.time_ok.append(ok)
        parts.time_reasons.update({parts.rows + row: reason for row, reason in reasons.items()})
        parts.rows += batch.num_rows
        progress(min(0.6, 0.6 * parts.rows / max(estimated, 1)), parts.rows)
    return parts


def _arrow_times(state: ImportState, column, first_line: int):
    """(UTC ms, ok, reason per failed row, µs within the ms) of one batch's time column, as
    ``parse_times`` and ``sub_milliseconds`` give them."""
    mapping = state.mapping
    if state.time_guess is None and not mapping.time_format:
        state.time_guess = detect_time_format(pd.Series(arrow_csv.column_values(column)))
    if mapping.time_format or state.time_guess.kind != "iso":
        return (*_pandas_times(state, column, first_line), _arrow_sub_ms(state, column))
    return _iso_times(state, column, first_line)


def _arrow_sub_ms(state: ImportState, column) -> np.ndarray:
    sub = sub_milliseconds(pd.Series(arrow_csv.column_values(column)),
                           state.mapping.time_format or state.time_guess.kind)
    return sub if sub is not None else np.zeros(len(column), dtype=np.int16)


def _iso_times(state: ImportState, column, first_line: int):
    """pyarrow's ISO 8601 cast reads a whole piece or fails it: a failing piece is cut up until the
    cells it cannot read sit in small pieces, which ``parse_times`` reads in one call. A few bad
    cells per batch then cost milliseconds instead of sending the batch to pandas; each cell's
    result is its own, whichever piece it is in."""
    ms, ok = np.zeros(len(column), dtype=np.int64), np.ones(len(column), dtype=bool)
    sub = np.zeros(len(column), dtype=np.int16)
    leftovers: list[tuple[int, int]] = []
    _cast_pieces(column, 0, len(column), state.mapping.timezone == "UTC", ms, sub, leftovers)
    if not leftovers:
        return ms, ok, {}, sub
    rows = np.concatenate([np.arange(start, stop) for start, stop in leftovers])
    pieces = arrow_csv.concat([column.slice(start, stop - start) for start, stop in leftovers])
    ms[rows], ok[rows], reasons = _pandas_times(state, pieces, first_line + leftovers[0][0])
    sub[rows] = _arrow_sub_ms(state, pieces)
    return ms, ok, {int(rows[row]): reason for row, reason in reasons.items()}, sub


def _cast_pieces(column, start: int, stop: int, naive_is_utc: bool, ms: np.ndarray, sub: np.ndarray,
                 leftovers: list[tuple[int, int]]) -> None:
    if stop <= start:
        return
    micros = arrow_csv.iso_us(column.slice(start, stop - start), naive_is_utc)
    if micros is not None:
        ms[start:stop] = np.floor_divide(micros, 1000)
        sub[start:stop] = micros - ms[start:stop] * 1000
    elif stop - start <= SMALLEST_TIME_PIECE:
        leftovers.append((start, stop))
    else:
        bounds = np.linspace(start, stop, TIME_PIECES + 1).astype(int)
        for low, high in zip(bounds[:-1], bounds[1:]):
            _cast_pieces(column, int(low), int(high), naive_is_utc, ms, sub, leftovers)


def _pandas_times(state: ImportState, column, first_line: int) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    mapping = state.mapping
    times = parse_times(pd.Series(arrow_csv.column_values(column)), time_format=mapping.time_format,
                        timezone=mapping.timezone, date_order=mapping.date_order, guess=state.time_guess,
                        column=mapping.time, first_line=first_line)
    return times.ms, times.ok, {int(row): str(times.reasons[row]) for row in np.flatnonzero(~times.ok)}

def _encode_arrow_parts(state: ImportState, reader: SourceReader, parts: _ArrowParts) -> None:
    """Codes of the accepted rows into ``state.rows``; the others become rejections."""
    state.read = parts.rows
    head = parts.user_head.result() if parts.user_head is not None else None
    parts.user_head = None          # its future holds the head's values too
    user, no_user = state.users.encode_all(parts.users, head)
    parts.users, head = [], None
    arrow_csv.release_unused_memory()        # the text cells and the head's values, now that nothing holds them
    reasons = parts.time_reasons
    checked = CheckedRows(lines=np.arange(parts.rows, dtype=LINE_DTYPE) + (reader.has_header + 1), user=user,
                          no_user=no_user, event=_joined(parts.event, np.int32), no_event=_joined(parts.no_event, bool),
                          ms=_joined(parts.ms, np.int64), time_ok=_joined(parts.time_ok, bool),
                          time_reasons=lambda rows: np.array([reasons.get(int(row), "") for row in rows], dtype=object))
    good = _keep_usable(state, checked, reader, lambda rows: _parse_lines(reader, checked.lines[rows]))
    if good is None:
        return
    accepted = _accepted(parts.sessions, good) if state.mapping.session else []
    _append_kept(state, checked, good, sub_ms=_nonzero_or_none(_joined(parts.sub_ms, np.int16)[good]),
                 session_key=_session_keys(state, int(good.sum()), lambda sessions: sessions.encode_all(accepted)),
                 insert_ids=None)
    state.rows.properties_json.append(None)
    for name, by_batch in parts.properties.items():
        state.rows.properties.setdefault(name, {})[0] = _joined([by_batch[k] for k in sorted(by_batch)], np.int32)[good]
    for name, by_batch in parts.value_hashes.items():
        state.rows.value_hashes.setdefault(name, {})[0] = _joined([by_batch[k] for k in sorted(by_batch)], np.int64)[good]


def _accepted(chunks: list, good: np.ndarray) -> list:
    """The pyarrow chunks of one column, only the rows ``good`` marks."""
    accepted, start = [], 0
    for chunk in chunks:
        accepted.append(chunk.filter(good[start:start + len(chunk)]))
        start += len(chunk)
    return accepted


def _parse_lines(reader: SourceReader, lines: np.ndarray) -> pd.DataFrame:
    """The file's ``lines`` as the pandas reader reads them (to quote rejected rows)."""
    try:
        return reader.parse_lines(lines)
    except ValueError as exc:       # a line that is not one record: the line numbers cannot be trusted
        raise arrow_csv.NotSimple(str(exc)) from None



def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


