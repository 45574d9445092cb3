"""Undo of the last import into an existing project: a snapshot taken just before it.

Before an "Add to <project>" import, ``prepare_undo`` copies the project with SQLite's online backup
(``NAME.journey.undo-import``, beside it) and ``seal_undo`` records, once the import is in, which
file it was and a stamp of the project as the import left it. ``undo_import`` copies the snapshot
back over the project -- the project answers exactly as before the import -- but only while the
project is unchanged since (same stamp): a rename, a pin or a second import after it would be lost
by a restore, so then it refuses and says why. The next import or closing the project drops the
snapshot (``discard_undo``).

The stamp is a SHA-256 over every table's rows except the window's own state (the filters and tab
the window saves on its own); the stored events by each chunk's place, size and checksum
(``event_chunks.stamp_rows``, the checksum covers its blobs).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from journey_explorer.domain import JourneyError
from journey_explorer.store import event_chunks
from journey_explorer.store.project import GUESS_SETTING

SNAPSHOT_SUFFIX = ".undo-import"
# Written by the window on every close, and a cache an analysis may fill (``remember_goal_guess``):
# not a change.
VOLATILE_SETTINGS = ("window_state", GUESS_SETTING)


def snapshot_path(project_path: str | os.PathLike) -> Path:
    project_path = Path(project_path)
    return project_path.with_name(project_path.name + SNAPSHOT_SUFFIX)


def _meta_path(project_path) -> Path:
    return snapshot_path(project_path).with_name(snapshot_path(project_path).name + ".json")


def project_stamp(conn: sqlite3.Connection) -> str:
    """What the project holds, as one hash (unchanged by the window saving its filters and tab)."""
    digest = hashlib.sha256()
    tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in tables:
        digest.update(f"\x00{table}\x00".encode())
        quoted = '"' + table.replace('"', '""') + '"'
        if table == event_chunks.TABLE:     # megabytes of blobs: their checksums stand for them
            rows = event_chunks.stamp_rows(conn)
        elif table == "settings":
            marks = ",".join("?" * len(VOLATILE_SETTINGS))
            rows = conn.execute(f"SELECT key, value FROM {quoted} WHERE key NOT IN ({marks}) ORDER BY key",
                                VOLATILE_SETTINGS).fetchall()
        else:
            rows = conn.execute(f"SELECT * FROM {quoted} ORDER BY rowid").fetchall()
        for row in rows:
            digest.update(repr(row).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _stamp(project_path) -> str:
    from journey_explorer.store.project import Project
    with Project.open(project_path) as project:
        return project_stamp(project.conn)


def prepare_undo(project_path: str | os.PathLike) -> Path:
    """Snapshot the project before an import (replacing any earlier snapshot)."""
    from journey_explorer.store.project import Project
    discard_undo(project_path)
    target = snapshot_path(project_path)
    temporary = target.with_name(target.name + ".partial")
    with Project.open(project_path) as project:
        try:
            copy = sqlite3.connect(os.fsencode(temporary))
            try:
                project.conn.backup(copy)
            finally:
                copy.close()
            before = project_stamp(project.conn)
            os.replace(temporary, target)
            _meta_path(project_path).write_text(json.dumps({"before": before, "after": None, "file": None}))
        except (sqlite3.Error, OSError) as exc:      # a read-only folder, a full disk: no undo, say why
            discard_undo(project_path)
            raise JourneyError(f"Cannot keep a copy of {Path(project_path).name} to undo the import: {exc}") from None
    return target


def seal_undo(project_path: str | os.PathLike, file_name: str) -> bool:
    """After the import: remember the file and the project's stamp. An import that changed nothing
    (cancelled, failed, every row a duplicate) leaves nothing to undo: the snapshot goes."""
    meta = _read_meta(project_path)
    if meta is None:
        return False
    after = _stamp(project_path)
    if after == meta["before"]:
        discard_undo(project_path)
        return False
    meta.update(after=after, file=str(file_name))
    _meta_path(project_path).write_text(json.dumps(meta))
    return True


def _read_meta(project_path) -> dict | None:
    try:
        meta = json.loads(_meta_path(project_path).read_text())
    except (OSError, ValueError):
        return None
    return meta if snapshot_path(project_path).exists() and isinstance(meta, dict) else None


def undoable_import(project_path: str | os.PathLike | None) -> str | None:
    """The name of the file whose import can be undone now, else None (no snapshot, or changed since)."""
    if project_path is None:
        return None
    meta = _read_meta(project_path)
    if meta is None or not meta.get("after"):
        return None
    try:
        return Path(meta["file"]).name if _stamp(project_path) == meta["after"] else None
    except JourneyError:
        return None


def undo_import(project_path: str | os.PathLike) -> str:
    """Put the project back as it was before the last import; returns the file's name.

    Refuses (``JourneyError``) when there is no import to undo or the project changed since it."""
    from journey_explorer.store.project import Project
    meta = _read_meta(project_path)
    if meta is None or not meta.get("after"):
        raise JourneyError(f"There is no import to undo in {Path(project_path).name}.")
    name = Path(meta["file"]).name
    with Project.open(project_path) as project:
        if project_stamp(project.conn) != meta["after"]:
            raise JourneyError(
                f"The import of {name} can no longer be undone: {Path(project_path).stem} changed since "
                f"(an edit, a pin or another import would be lost).")
        snapshot = sqlite3.connect(os.fsencode(snapshot_path(project_path)))
        try:
            snapshot.backup(project.conn)          # page by page, in one step: all or nothing
        finally:
            snapshot.close()
        if project_stamp(project.conn) != meta["before"]:
            raise JourneyError(f"Undoing the import of {name} did not restore the project exactly.")
    discard_undo(project_path)
    return name


def discard_undo(project_path: str | os.PathLike | None) -> None:
    """Forget the snapshot (the next import, closing the project)."""
    if project_path is None:
        return
    for path in (snapshot_path(project_path), _meta_path(project_path),
                 snapshot_path(project_path).with_name(snapshot_path(project_path).name + ".partial")):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass          # a read-only folder holds no snapshot of ours anyway
