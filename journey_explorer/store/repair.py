"""``journey-explorer repair``: rebuild the cached event log from the stored events.

The cache (``log_cache``) is a sorted copy of the events; when its bytes are damaged but the file-order
events (``store.event_chunks``) still read whole, everything analyses use can be made again from them:
ids, users, event types, times (with µs), sessions (from each event's stored session number), insert-id
hashes; property columns are kept where they still read whole. Two things cannot be recovered and are reset: the hash of an
explicit session column's value and of columns too varied to store (both only refine the duplicate
check of later imports). A backup copy of the damaged file is written first.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from journey_explorer.store.errors import DAMAGE_TYPES, ProjectDamaged, project_error
from journey_explorer.store.event_chunks import DamagedEvents, read_events
from journey_explorer.store.project import Project, store_catalog_check, store_user_keys


def repair_project(path: str | Path) -> dict:
    """Rebuild the cache of the project at ``path``; returns what was done (events, backup path).

    Raises ``ProjectDamaged`` when the stored events themselves cannot be read (use a backup copy then).
    A refused repair changes nothing and leaves no backup copy behind.
    """
    project = Project.open(path)
    done: dict = {}
    try:
        project.lock.acquire()
        _rebuild(project, done)
        project.verify()            # damage the cache does not cover (e.g. other tables) still shows
        return done
    except BaseException as exc:
        if "backup" in done and "events" not in done:     # not committed: the copy is only litter
            Path(done["backup"]).unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            raise project_error(path, exc) from None
        if isinstance(exc, DAMAGE_TYPES):       # values of the wrong type in the tables themselves
            raise ProjectDamaged(project.path, f"the stored events cannot be read back ({type(exc).__name__}); "
                                               "only a backup copy can help") from None
        raise
    finally:
        project.close()


def _rebuild(project: Project, done: dict) -> None:
    """Read the events, back the file up, rewrite the cache and its checksums in one transaction;
    ``done`` gets "backup" once the copy exists and "events" once the transaction committed."""
    from journey_explorer.store import importer, properties
    columns = _read_events(project)
    if len(columns["id"]) and not np.array_equal(columns["id"], np.arange(len(columns["id"]))):
        raise ProjectDamaged(project.path, "event ids are not contiguous; only a backup copy helps")
    arrays = _cache_arrays(columns)
    done["backup"] = str(project.backup_copy("damaged-backup"))
    conn = project.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        done["lost_properties"] = _drop_unreadable_properties(conn, len(arrays["ts"]))
        conn.execute("DELETE FROM log_cache WHERE name NOT LIKE ?", (properties.CODES_PREFIX + "%",))
        importer._write_cache(conn, arrays)
        store_catalog_check(conn)        # the catalog as it now reads is taken as right
        if not properties.stored_names(conn):
            properties.rebuild_from_events(conn)      # projects that kept properties as JSON
        keys = [key for (key,) in conn.execute("SELECT key FROM users ORDER BY id")]
        if not all(isinstance(key, str) for key in keys):
            raise ProjectDamaged(project.path, "some stored user ids are not text; only a backup copy helps")
        store_user_keys(conn, keys)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    done["events"] = int(len(arrays["ts"]))


def _drop_unreadable_properties(conn: sqlite3.Connection, size: int) -> list[str]:
    """Property codes live only in the cache (aligned with the sorted events, which sort the same
    again): keep every column that still reads whole, drop the others; returns the dropped names."""
    from journey_explorer.store import properties
    lost = []
    for name in properties.stored_names(conn):
        try:
            ok = len(properties.stored_codes(conn, name, size)) == size
        except (ValueError, OSError, EOFError):
            ok = False
        if not ok:
            conn.execute("DELETE FROM log_cache WHERE name = ?", (properties.CODES_PREFIX + name,))
            lost.append(name)
    return lost


def _read_events(project: Project) -> dict[str, np.ndarray]:
    """Every stored event as columns in file order; events that no longer read whole cannot be repaired."""
    try:
        return read_events(project.conn, ("id", "user", "event", "ts", "session", "sub_ms", "insert_id"))
    except (sqlite3.DatabaseError, DamagedEvents) as exc:
        raise ProjectDamaged(project.path, f"the events themselves are damaged ({exc}); only a backup "
                                           "copy can bring them back") from None


def _cache_arrays(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sorted arrays ``importer._write_cache`` stores, made from the stored events' columns."""
    from journey_explorer.store.importer import _hash_text, sort_order
    order = sort_order(columns["user"], columns["ts"], columns["id"], columns["sub_ms"])
    arrays = {name: columns[name][order] for name in ("id", "user", "event", "ts", "sub_ms")}
    arrays["in_user"] = columns["session"][order]      # the session number within its user
    # A session is one (user, session number) pair: number them in sorted order, as the import does.
    pair = arrays["user"] << 32 | arrays["in_user"]
    starts = np.ones(len(pair), dtype=bool)
    starts[1:] = pair[1:] != pair[:-1]
    arrays["session"] = np.cumsum(starts) - 1
    insert = columns["insert_id"][order]
    hashed = _hash_text(insert) if len(insert) and any(v is not None for v in insert) else None
    arrays["insert_hash"] = hashed if hashed is not None else np.zeros(len(order), dtype=np.int64)
    arrays["session_key"] = np.full(len(order), -1, dtype=np.int64)
    arrays["extra_hash"] = np.zeros(len(order), dtype=np.int64)
    del arrays["in_user"]
    return arrays
