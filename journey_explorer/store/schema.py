"""The project file's schema, created and upgraded through sqlite-utils migrations.

Ids are 0-based integers we assign ourselves (dictionary encoding), so stored events are plain integers
and the in-memory arrays can use the same codes. An event's id is the global file order: it breaks
ties between events with the same time. Schemas 1-4 kept the events one SQL row each (``events``);
schema 5 keeps them as compressed columnar chunks (``store.event_chunks``).
"""
from __future__ import annotations

import json

import numpy as np
from sqlite_utils import Database, Migrations

from journey_explorer.store.column_codec import CACHE_COLUMNS, CHECK_NAME, cache_check, encode_column, is_encoded, read_column
from journey_explorer.store.version import SCHEMA_VERSION

MIGRATIONS = Migrations("journey_explorer")


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    db["sources"].create({
        "id": int, "path": str, "sha256": str, "format": str, "mapping": str,
        "rows_read": int, "imported": int, "duplicates": int, "rejected": int, "imported_at": str,
    }, pk="id")
    db["sources"].create_index(["sha256"], unique=True)
    db["users"].create({"id": int, "key": str, "properties": str}, pk="id")
    # users.key is unique by construction (the importer's dictionary); an index would only slow bulk inserts.
    db["event_types"].create({
        "id": int, "name": str, "display_name": str, "hidden": int, "group_name": str,
    }, pk="id", defaults={"hidden": 0})
    db["event_types"].create_index(["name"], unique=True)
    db["events"].create({
        "id": int, "user_id": int, "event_type_id": int, "ts": int, "session": int,
        "source_id": int, "insert_id": str, "properties": str,
    }, pk="id")
    # No secondary index on events: analyses read the sorted columnar copy (log_cache), and an
    # index maintained during bulk inserts would triple the import time.
    db["rejected_rows"].create({"id": int, "source_id": int, "line": int, "reason": str, "raw": str},
                               pk="id")
    db["settings"].create({"key": str, "value": str}, pk="key")
    # Regex grouping rules applied to display names when the log is loaded, in position order.
    db["group_rules"].create({"position": int, "pattern": str, "group_name": str}, pk="position")
    db["segments"].create({"name": str, "definition": str}, pk="name")
    # Sorted columnar copy of the events (numpy arrays as bytes): loads 1M events in milliseconds.
    db["log_cache"].create({"name": str, "data": bytes}, pk="name")


@MIGRATIONS()
def m002_board(db: Database) -> None:
    # Board pins keep a chart's state (view, analysis options, filters), never a picture: they are
    # re-rendered from the data, so a pin follows renames and new imports.
    db["pins"].create({
        "id": int, "position": int, "view": str, "title": str, "spec": str, "filters": str,
        "hypothesis": str, "observation": str, "action": str, "created_at": str,
    }, pk="id", defaults={"hypothesis": "", "observation": "", "action": ""})


@MIGRATIONS()
def m003_event_properties(db: Database) -> None:
    # Event properties become dictionary-encoded columns (store.properties); skipped duplicates are
    # listed like rejected rows; sub_ms keeps the microseconds a millisecond time floors away.
    db["event_property_columns"].create({"name": str, "position": int, "value_list": str}, pk="name")
    db["duplicate_rows"].create({"id": int, "source_id": int, "line": int, "original_line": int,
                                 "original_event_id": int}, pk="id")
    db["events"].add_column("sub_ms", int)
    from journey_explorer.store.properties import rebuild_from_events
    rebuild_from_events(db.conn)


@MIGRATIONS()
def m004_compact_cache(db: Database) -> None:
    # The cached columns are stored compact (store.column_codec, ~4x smaller). Older np.save blobs are
    # re-encoded, and their checksum with them, only when they still match the checksum stored at
    # their import: a damaged cache is left as it was, for load_arrays to report and repair to rebuild.
    from journey_explorer.store.properties import CODES_PREFIX
    conn = db.conn
    blobs = dict(conn.execute(f"SELECT name, data FROM log_cache WHERE name IN ({', '.join('?' * len(CACHE_COLUMNS))})",
                              tuple(CACHE_COLUMNS)))
    check = conn.execute("SELECT data FROM log_cache WHERE name = ?", (CHECK_NAME,)).fetchone()
    stored = _json_or_none(check[0]) if check is not None else None
    if blobs and stored is not None and cache_check(blobs)["crc32"] == stored.get("crc32"):
        encoded = _reencoded(blobs, CACHE_COLUMNS)
        if encoded is not None:
            conn.executemany("UPDATE log_cache SET data = ? WHERE name = ?",
                             [(data, name) for name, data in encoded.items()])
            stored.update(cache_check(encoded))
            conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (json.dumps(stored).encode(), CHECK_NAME))
    for name, data in conn.execute("SELECT name, data FROM log_cache WHERE name LIKE ?", (CODES_PREFIX + "%",)).fetchall():
        encoded = _reencoded({name: data}, {name: np.int32})
        if encoded is not None:
            conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (encoded[name], name))


def _json_or_none(data) -> dict | None:
    try:
        value = json.loads(bytes(data))
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _reencoded(blobs: dict, dtypes: dict) -> dict | None:
    """Every blob in the compact format, or None when one does not read back (damage stays visible)."""
    out = {}
    for name, data in blobs.items():
        if is_encoded(data):
            out[name] = bytes(data)
            continue
        try:
            out[name] = encode_column(read_column(data), dtypes[name])
        except (ValueError, OSError, EOFError, TypeError):
            return None
    return out


@MIGRATIONS()
def m005_event_chunks(db: Database) -> None:
    # The file-order copy of the events becomes compressed columnar chunks (store.event_chunks): ~3x
    # smaller, and an import writes them in a fraction of the time. Every value is kept; a value of
    # the wrong type (damage) stops the migration, which then leaves the file as it was.
    from journey_explorer.store import event_chunks
    conn = db.conn
    event_chunks.create_table(conn)
    expected = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    written = event_chunks.convert_legacy_events(conn)
    if written != expected or event_chunks.event_count(conn) != expected:
        raise ValueError(f"{written:,} of {expected:,} events were converted")
    conn.execute("DROP TABLE events")


def migrate(db: Database) -> None:
    """Bring ``db`` to the current schema (a no-op when it is up to date)."""
    MIGRATIONS.apply(db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
