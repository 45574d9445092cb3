"""The insight board: pinned charts with three notes each (hypothesis, observation, action).

A pin stores the chart's state -- which view, its analysis options and the filters -- so the board
re-renders it from the data rather than keeping a stale picture.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

from journey_explorer.domain import JourneyError
from journey_explorer.store.errors import reads_project

NOTE_FIELDS = ("hypothesis", "observation", "action")


@dataclass
class Pin:
    view: str                                   # a view key: "flows", "funnel", ...
    title: str
    spec: dict = field(default_factory=dict)    # the analysis options (state.views.spec_to_dict)
    filters: dict = field(default_factory=dict)  # FilterState.to_dict()
    hypothesis: str = ""
    observation: str = ""
    action: str = ""
    id: int | None = None
    position: int = 0
    created_at: str = ""


class Board:
    """The pins of one open project, in board order."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    @reads_project
    def pins(self) -> list[Pin]:
        rows = self.conn.execute(
            "SELECT id, position, view, title, spec, filters, hypothesis, observation, action, created_at "
            "FROM pins ORDER BY position, id").fetchall()
        return [Pin(id=r[0], position=r[1], view=r[2], title=r[3], spec=json.loads(r[4]), filters=json.loads(r[5]),
                    hypothesis=r[6], observation=r[7], action=r[8], created_at=r[9]) for r in rows]

    def add(self, pin: Pin) -> Pin:
        """Append ``pin`` at the end of the board; returns it with its id and position."""
        position = self.conn.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM pins").fetchone()[0]
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        cursor = self.conn.execute(
            "INSERT INTO pins(position, view, title, spec, filters, hypothesis, observation, action, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (position, pin.view, pin.title, json.dumps(pin.spec), json.dumps(pin.filters), pin.hypothesis,
             pin.observation, pin.action, created))
        pin.id, pin.position, pin.created_at = cursor.lastrowid, position, created
        return pin

    def set_notes(self, pin_id: int, **notes: str) -> None:
        """Change any of hypothesis / observation / action (and the title) of one pin."""
        unknown = set(notes) - set(NOTE_FIELDS) - {"title"}
        if unknown:
            raise JourneyError(f"A pin has no field {', '.join(sorted(unknown))}")
        self._existing(pin_id)
        with self._transaction():
            for name, text in notes.items():
                self.conn.execute(f"UPDATE pins SET {name} = ? WHERE id = ?", (text, pin_id))

    def move(self, pin_id: int, index: int) -> None:
        """Put one pin at ``index`` in the board order (clamped), renumbering the rest."""
        order = [p.id for p in self.pins()]
        order.remove(self._existing(pin_id))
        order.insert(max(0, min(index, len(order))), pin_id)
        with self._transaction():
            self.conn.executemany("UPDATE pins SET position = ? WHERE id = ?", list(enumerate(order)))

    def remove(self, pin_id: int) -> None:
        self.conn.execute("DELETE FROM pins WHERE id = ?", (self._existing(pin_id),))

    def _existing(self, pin_id: int) -> int:
        if self.conn.execute("SELECT 1 FROM pins WHERE id = ?", (pin_id,)).fetchone() is None:
            raise JourneyError(f"There is no pin {pin_id} on this board")
        return pin_id

    @contextmanager
    def _transaction(self):
        """Several statements as one change (the project connection autocommits otherwise)."""
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
