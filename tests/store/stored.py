"""The events a project stores in file order, named: for tests that check what an import wrote."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from journey_explorer.store.event_chunks import read_events
from journey_explorer.store.project import Project


def stored_events(path: str | Path) -> list[dict]:
    """One dict per stored event, in id order: id, user (key), event (name), ts, session (number within
    its user), sub_ms, insert_id, properties (the raw JSON parsed; None when the event has none)."""
    with Project.open(path) as project:
        columns = read_events(project.conn)
        keys = project.user_keys()
        names = dict(project.conn.execute("SELECT id, name FROM event_types"))
    return [{"id": int(columns["id"][i]), "user": keys[columns["user"][i]], "event": names[int(columns["event"][i])],
             "ts": int(columns["ts"][i]), "session": int(columns["session"][i]), "sub_ms": int(columns["sub_ms"][i]),
             "insert_id": columns["insert_id"][i],
             "properties": None if columns["properties"][i] is None else json.loads(columns["properties"][i])}
            for i in range(len(columns["id"]))]


def flip_stored_byte(path: str | Path, table: str, column: str, where: str, key, at: int = -1, mask: int = 0x01) -> None:
    """Change one bit of a stored blob behind the app's back (``column`` of ``table`` where ``where`` = ``key``)."""
    conn = sqlite3.connect(path)
    data = bytearray(conn.execute(f"SELECT {column} FROM {table} WHERE {where} = ?", (key,)).fetchone()[0])
    data[at] ^= mask
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where} = ?", (bytes(data), key))
    conn.commit()
    conn.close()
