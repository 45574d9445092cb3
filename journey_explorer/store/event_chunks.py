"""The events in file order, stored as compressed columnar chunks (table ``event_chunks``, schema 5 on).

Analyses read the sorted cache (``log_cache``). This second copy keeps what the cache cannot give back
on its own: each event's id (its place in the file), its session number within its user, its insert id
and its raw properties JSON. ``repair`` rebuilds the cache from it, ``Project`` checks the cache's event
count against it, ``properties.rebuild_from_events`` reads the raw properties, the undo stamp covers it.

One row holds up to ``CHUNK_EVENTS`` events with consecutive ids, all from one source: ``first_id``,
``count``, ``source_id``, then one blob per column -- the integers as ``column_codec`` columns, the text
(insert ids, properties JSON) as ``column_codec.encode_texts`` blobs, None when no event of the chunk
has a value (``sub_ms``: when all are 0) -- and ``crc``, the CRC-32 of all of it, so a damaged chunk is
named rather than decoded into wrong numbers. At 10M events the chunks take ~8 bytes an event and are
written in well under a second, where one SQL row per event took ~27 bytes and ~9 s.

``read_events`` is the one reader of this copy; before schema 5 (while migrations run) it reads the
old ``events`` table, one row per event, that ``m005_event_chunks`` turns into chunks.
"""
from __future__ import annotations

import json
import sqlite3
import warnings
import zlib
from typing import Iterable, Iterator

import numpy as np

from journey_explorer.store.column_codec import decode_column, decode_texts, encode_column, encode_texts

TABLE = "event_chunks"
CHUNK_EVENTS = 1 << 18          # ~2 MB a chunk at 10M events: a session rewrite re-encodes little
NUMBERS = {"user": np.int32, "event": np.int32, "ts": np.int64, "session": np.int32, "sub_ms": np.int16}
TEXTS = ("insert_id", "properties")
STORED = (*NUMBERS, *TEXTS)     # the blob columns, in table (and checksum) order
SQL_NAMES = {"event": "event_type"}     # the table's name for a column, where it differs
FILE_ORDER_COLUMNS = ("id", "source", *STORED)      # what read_events can return


class DamagedEvents(ValueError):
    """A chunk that fails its checksum or does not decode."""


def create_table(conn: sqlite3.Connection) -> None:
    blobs = ", ".join(f"{_sql(name)} BLOB" for name in STORED)
    conn.execute(f"CREATE TABLE {TABLE} (first_id INTEGER PRIMARY KEY, source_id INTEGER, count INTEGER, "
                 f"{blobs}, crc INTEGER)")


def _sql(name: str) -> str:
    return SQL_NAMES.get(name, name)


def chunk_starts(count: int, size: int | None = None) -> range:
    """Offsets at which the chunks of ``count`` new events start."""
    return range(0, count, size or CHUNK_EVENTS)


def encode_chunk(first_id: int, source_id: int, columns: dict) -> tuple:
    """One table row for events ``first_id``, ``first_id + 1``, ...: ``columns`` maps each name of
    ``STORED`` to its values (an array or list; None or absent: no event has a value). No connection
    needed: any thread."""
    count = len(columns["ts"])
    blobs = {}
    for name, dtype in NUMBERS.items():
        values = columns.get(name)
        keep = values is not None and (name != "sub_ms" or bool(np.any(values)))
        blobs[name] = encode_column(values, dtype) if keep else None
    for name in TEXTS:
        values = columns.get(name)
        blobs[name] = encode_texts(values) if _has_text(values) else None
    return (first_id, source_id, count, *(blobs[name] for name in STORED),
            _crc(first_id, source_id, count, [blobs[name] for name in STORED]))


def _has_text(values) -> bool:
    """Is any value not None? (``list.count`` runs in C: a million values in milliseconds.)"""
    if values is None:
        return False
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return values.count(None) < len(values)


def _crc(first_id, source_id, count, blobs: list) -> int:
    crc = zlib.crc32(f"{first_id}:{source_id}:{count}".encode())
    for blob in blobs:
        crc = zlib.crc32(b"\x00" if blob is None else b"\x01" + bytes(blob), crc)
    return crc


def insert_chunk(conn: sqlite3.Connection, row: tuple) -> None:
    names = ", ".join(_sql(name) for name in STORED)
    conn.execute(f"INSERT INTO {TABLE}(first_id, source_id, count, {names}, crc) "
                 f"VALUES ({', '.join('?' * (len(STORED) + 4))})", row)


def event_count(conn: sqlite3.Connection) -> int:
    """How many events are stored (a sum over the chunks' counts: no blob is read)."""
    return int(conn.execute(f"SELECT coalesce(sum(count), 0) FROM {TABLE}").fetchone()[0])


def has_events(conn: sqlite3.Connection) -> bool:
    return conn.execute(f"SELECT 1 FROM {TABLE} LIMIT 1").fetchone() is not None


def stored_span(conn: sqlite3.Connection) -> tuple[int, int]:
    """(events stored, one past the last id): equal when the ids are 0, 1, 2 ... without gaps."""
    count, end = conn.execute(f"SELECT coalesce(sum(count), 0), coalesce(max(first_id + count), 0) "
                              f"FROM {TABLE}").fetchone()
    return int(count), int(end)


def stamp_rows(conn: sqlite3.Connection) -> list[tuple]:
    """What the undo stamp hashes: each chunk's place, source, size and checksum (which covers its blobs)."""
    return conn.execute(f"SELECT first_id, source_id, count, crc FROM {TABLE} ORDER BY first_id").fetchall()


def read_events(conn: sqlite3.Connection, names: Iterable[str] = FILE_ORDER_COLUMNS) -> dict[str, np.ndarray]:
    """The chosen columns of every event, in id (file) order: "id", "source", "user", "event", "ts",
    "session" (number within its user), "sub_ms" (int64 arrays), "insert_id", "properties" (object
    arrays, None where absent).

    Raises ``DamagedEvents`` for a chunk that fails its checksum or does not decode, and
    ``sqlite3.DatabaseError`` when the table itself does not read."""
    names = list(names)
    parts: dict[str, list] = {name: [] for name in names}
    for chunk in _chunks(conn, names):
        for name in names:
            parts[name].append(chunk[name])
    return {name: _joined(name, values) for name, values in parts.items()}


def _joined(name: str, parts: list) -> np.ndarray:
    if name in TEXTS:
        out = np.empty(sum(len(p) for p in parts), dtype=object)
        out[:] = [value for part in parts for value in part]
        return out
    return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.zeros(0, dtype=np.int64)


def _chunks(conn: sqlite3.Connection, names: list[str]) -> Iterator[dict]:
    if not _table_exists(conn, TABLE):
        yield from _legacy_batches(conn)        # a project being migrated (m003 runs before m005)
        return
    blob_names = ", ".join(_sql(name) for name in STORED)
    for row in conn.execute(f"SELECT first_id, source_id, count, {blob_names}, crc FROM {TABLE} ORDER BY first_id"):
        yield _decoded(row, names)


def _decoded(row: tuple, names: list[str]) -> dict:
    """One chunk's wanted columns, after its checksum is verified."""
    first_id, source_id, count, *blobs, crc = row
    try:
        if _crc(first_id, source_id, count, blobs) != crc:
            raise ValueError("it differs from its checksum")
        stored = dict(zip(STORED, blobs))
        out = {"id": np.arange(first_id, first_id + count, dtype=np.int64),
               "source": np.full(count, source_id, dtype=np.int64)}
        for name in set(names) & set(STORED):
            out[name] = _column(name, stored[name], count)
        if any(len(out[name]) != count for name in names):
            raise ValueError("its columns differ in length")
    except (ValueError, TypeError, OverflowError) as exc:
        raise DamagedEvents(f"the stored events from id {first_id} on do not read back ({exc})") from None
    return out


def _column(name: str, blob, count: int):
    if name in TEXTS:
        return [None] * count if blob is None else decode_texts(blob)
    if blob is None:
        if name != "sub_ms":
            raise ValueError(f"its column '{name}' is missing")
        return np.zeros(count, dtype=np.int64)
    return decode_column(blob)


def _table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


_LEGACY_NUMBERS = ("id", "source", "user", "event", "ts", "session", "sub_ms")


def _legacy_batches(conn: sqlite3.Connection, size: int | None = None) -> Iterator[dict]:
    """The schema 1-4 ``events`` table (one row per event), a batch of rows at a time, as columns.

    SQLite hands each batch over as one text per column (``group_concat``, parsed by numpy; the text
    columns as a JSON array): a Python object per value made a 10M-event upgrade ~6x slower. A value
    of the wrong type (damage) raises ``ValueError``, never a shifted column."""
    sub_ms = "coalesce(sub_ms, 0)" if "sub_ms" in _columns_of(conn, "events") else "0"
    if conn.execute(f"SELECT 1 FROM events WHERE typeof(source_id) != 'integer' OR typeof(user_id) != 'integer' "
                    f"OR typeof(event_type_id) != 'integer' OR typeof(ts) != 'integer' "
                    f"OR typeof(coalesce(session, 0)) != 'integer' OR typeof({sub_ms}) != 'integer' "
                    f"OR typeof(coalesce(insert_id, '')) != 'text' OR typeof(coalesce(properties, '')) != 'text' "
                    f"LIMIT 1").fetchone():
        raise ValueError("a stored event has a value of the wrong type")
    query = (f"SELECT count(*), group_concat(id), group_concat(source_id), group_concat(user_id), "
             f"group_concat(event_type_id), group_concat(ts), group_concat(coalesce(session, 0)), "
             f"group_concat({sub_ms}), json_group_array(insert_id), json_group_array(properties) "
             f"FROM (SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?)")
    after = -(1 << 63)
    while True:
        count, *numbers, insert_ids, properties = conn.execute(query, (after, size or CHUNK_EVENTS)).fetchone()
        if not count:
            return
        batch = {name: _parsed_numbers(text, count) for name, text in zip(_LEGACY_NUMBERS, numbers)}
        if len(batch["id"]) > 1 and not bool(np.all(np.diff(batch["id"]) > 0)):
            raise ValueError("the stored events came back out of order")
        batch.update(insert_id=json.loads(insert_ids), properties=json.loads(properties))
        yield batch
        after = int(batch["id"][-1])


def _columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _parsed_numbers(text: str, count: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # numpy only warns about text it cannot read to its end
        try:
            values = np.fromstring(text, dtype=np.int64, sep=",")
        except (Warning, ValueError):
            values = None
    if values is None or len(values) != count:
        raise ValueError("a stored event has a value of the wrong type")
    return values


def convert_legacy_events(conn: sqlite3.Connection) -> int:
    """Write the old ``events`` rows as chunks, every value kept (a NULL session or sub_ms is 0, as
    repair always read them); a chunk ends where the ids skip or the source changes. Returns the events
    written. A value of the wrong type (text where a number belongs) raises ``ValueError``/``TypeError``."""
    written = 0
    for batch in _legacy_batches(conn):
        for start, end in _runs(batch["id"], batch["source"]):
            columns = {name: batch[name][start:end] for name in STORED}
            insert_chunk(conn, encode_chunk(int(batch["id"][start]), int(batch["source"][start]), columns))
            written += end - start
    return written


def _runs(ids: np.ndarray, sources: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each stretch of consecutive ids from one source."""
    breaks = np.flatnonzero((np.diff(ids) != 1) | (sources[1:] != sources[:-1])) + 1
    edges = [0, *breaks.tolist(), len(ids)]
    return list(zip(edges[:-1], edges[1:]))


def renumber_sessions(conn: sqlite3.Connection, ids: np.ndarray, numbers: np.ndarray) -> int:
    """Give events ``ids`` their new session numbers (a new import joined their users), rewriting only
    the chunks that hold them; returns how many chunks were rewritten. A chunk that fails its checksum
    raises ``DamagedEvents``: a rewrite must not give damaged bytes a fresh checksum."""
    if not len(ids):
        return 0
    starts = np.array([first for (first,) in conn.execute(f"SELECT first_id FROM {TABLE} ORDER BY first_id")],
                      dtype=np.int64)
    chunk_of = np.searchsorted(starts, ids, side="right") - 1
    blob_names = ", ".join(_sql(name) for name in STORED)
    rewritten = 0
    for chunk in np.unique(chunk_of).tolist():
        row = conn.execute(f"SELECT first_id, source_id, count, {blob_names}, crc FROM {TABLE} WHERE first_id = ?",
                           (int(starts[chunk]),)).fetchone()
        first_id, source_id, count = row[:3]
        decoded = _decoded(row, ["session"])
        inside = chunk_of == chunk
        offsets = ids[inside] - first_id
        if offsets.min() < 0 or offsets.max() >= count:
            raise DamagedEvents(f"event ids {int(ids[inside].min())}... are not stored")
        session = decoded["session"]
        session[offsets] = numbers[inside]
        blobs = dict(zip(STORED, row[3:-1]))
        blobs["session"] = encode_column(session, NUMBERS["session"])
        values = [blobs[name] for name in STORED]
        conn.execute(f"UPDATE {TABLE} SET session = ?, crc = ? WHERE first_id = ?",
                     (blobs["session"], _crc(first_id, source_id, count, values), first_id))
        rewritten += 1
    return rewritten
