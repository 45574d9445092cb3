"""The file-order events as compressed chunks (schema 5): what an import writes, how a later import
renumbers sessions, and the upgrade of a project that kept one SQL row per event."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from journey_explorer.store import event_chunks
from journey_explorer.store.errors import ProjectDamaged
from journey_explorer.store.event_chunks import read_events
from journey_explorer.store.import_undo import prepare_undo, seal_undo, undo_import
from journey_explorer.store.importer import import_file, session_number_within_user
from journey_explorer.store.project import Project
from journey_explorer.store.repair import repair_project
from journey_explorer.store.schema import MIGRATIONS
from journey_explorer.store.version import SCHEMA_VERSION
from tests.store.stored import flip_stored_byte


def json_lines(folder: Path, name: str, users: range, day: int) -> Path:
    """Events with insert ids, properties (some without) and µs times; three visits per user."""
    records = []
    for u in users:
        for step in range(6):
            hour = 9 + 3 * (step // 2)          # two events per visit, visits hours apart
            record = {"user_id": f"u{u}", "event": ("open", "browse", "buy")[step % 3],
                      "timestamp": f"2024-01-{day:02d}T{hour:02d}:{step:02d}:00.{u:03d}{step:03d}Z",
                      "insert_id": f"{name}-{u}-{step}"}
            if step % 2:
                record["plan"] = ("free", "pro", "team")[u % 3]
            records.append(record)
    path = folder / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(event_chunks, "CHUNK_EVENTS", 16)


def chunk_rows(path: Path) -> dict[int, tuple]:
    conn = sqlite3.connect(path)
    try:
        return {row[0]: row[1:] for row in conn.execute("SELECT * FROM event_chunks")}
    finally:
        conn.close()


def file_order(path: Path) -> dict[str, list]:
    with Project.open(path) as project:
        return {name: values.tolist() for name, values in read_events(project.conn).items()}


def cache(path: Path) -> dict[str, list]:
    with Project.open(path) as project:
        return {name: values.tolist() for name, values in project.load_arrays().items()}


def sessions_from_cache(path: Path) -> list[int]:
    """Each event's session number within its user, in id order, as the sorted cache has it."""
    with Project.open(path) as project:
        arrays = project.load_arrays()
    by_id = np.empty(len(arrays["id"]), dtype=np.int64)
    by_id[arrays["id"]] = session_number_within_user(arrays["user"], arrays["session"])
    return by_id.tolist()


def test_an_import_stores_every_event_in_file_order_in_chunks(tmp_path, small_chunks):
    source = json_lines(tmp_path, "a.jsonl", range(10), day=3)
    import_file(tmp_path / "p.journey", source)
    rows = chunk_rows(tmp_path / "p.journey")
    assert sorted(rows) == [0, 16, 32, 48] and [rows[first][1] for first in sorted(rows)] == [16, 16, 16, 12]
    stored = file_order(tmp_path / "p.journey")
    assert stored["id"] == list(range(60))
    assert stored["insert_id"][:2] == ["a.jsonl-0-0", "a.jsonl-0-1"]
    assert [None if p is None else json.loads(p) for p in stored["properties"][:2]] == [None, {"plan": "free"}]
    assert stored["sub_ms"][7] == 1                    # u1's second event: .001001 s
    assert stored["session"] == sessions_from_cache(tmp_path / "p.journey")
    assert event_chunks.event_count(sqlite3.connect(tmp_path / "p.journey")) == 60


def test_a_later_import_rewrites_only_the_chunks_whose_sessions_changed(tmp_path, small_chunks):
    project = tmp_path / "p.journey"
    import_file(project, json_lines(tmp_path, "a.jsonl", range(10), day=3))
    before = chunk_rows(project)
    # u4's events are ids 24-29 (chunk 16); a visit of u4 earlier the same day renumbers all of them
    early = tmp_path / "b.jsonl"
    early.write_text(json.dumps({"user_id": "u4", "event": "open", "timestamp": "2024-01-03T01:00:00Z"}) + "\n")
    import_file(project, early)
    after = chunk_rows(project)
    assert sorted(after) == [0, 16, 32, 48, 60]
    changed = sorted(first for first in before if after[first] != before[first])
    assert changed == [16]
    assert after[16][:3] == before[16][:3]       # same source, count, user codes: only sessions and crc
    stored = file_order(project)
    assert stored["session"][24:30] == [1, 1, 2, 2, 3, 3] and stored["session"][60] == 0
    assert stored["session"] == sessions_from_cache(project)


def as_schema_4(new: Path, old: Path) -> None:
    """What schema 4 would hold for the project ``new``: the same tables, made by migrations m001-m004,
    and its events one SQL row each (sub_ms NULL where 0, as imports without µs left it)."""
    stored = file_order(new)
    conn = sqlite3.connect(old, isolation_level=None)
    MIGRATIONS.apply(Database(conn), stop_before="m005_event_chunks")
    conn.execute("PRAGMA user_version = 4")
    conn.execute("ATTACH DATABASE ? AS new", (str(new),))
    tables = [name for (name,) in conn.execute("SELECT name FROM new.sqlite_master WHERE type = 'table' AND name "
                                               "NOT IN ('event_chunks', '_sqlite_migrations')")]
    for table in tables:
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM new.{table}")
    conn.execute("DETACH DATABASE new")
    conn.executemany(
        "INSERT INTO events(id, user_id, event_type_id, ts, session, source_id, insert_id, properties, sub_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        zip(stored["id"], stored["user"], stored["event"], stored["ts"], stored["session"], stored["source"],
            stored["insert_id"], stored["properties"], [value or None for value in stored["sub_ms"]]))
    conn.close()


def test_a_schema_4_project_is_migrated_to_chunks_keeping_every_value(tmp_path, small_chunks):
    made = tmp_path / "new.journey"
    import_file(made, json_lines(tmp_path, "a.jsonl", range(10), day=3))
    import_file(made, json_lines(tmp_path, "b.jsonl", range(5, 12), day=4))      # a second source
    old = tmp_path / "old.journey"
    as_schema_4(made, old)
    conn = sqlite3.connect(old)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 102
    conn.close()
    # opening migrates: the events table becomes chunks, in the migration's transaction
    assert file_order(old) == file_order(made)
    assert cache(old) == cache(made)
    conn = sqlite3.connect(old)
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "events" not in tables and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # the old rows are read 16 at a time, and a chunk also ends where the source changes (at id 60)
    assert [row for row in conn.execute("SELECT first_id, count, source_id FROM event_chunks ORDER BY 1")] == \
        [(0, 16, 1), (16, 16, 1), (32, 16, 1), (48, 12, 1), (60, 4, 2), (64, 16, 2), (80, 16, 2), (96, 6, 2)]
    conn.close()
    assert Path(f"{old}.v4-backup").exists()
    # repair rebuilds the same cache from the migrated chunks as from the chunks an import wrote
    for path in (old, made):
        with Project.open(path) as project:
            project.conn.execute("DELETE FROM log_cache WHERE name = 'ts'")
        repair_project(path)
    assert cache(old) == cache(made)
    # undo puts back the migrated project exactly
    before = cache(old)
    prepare_undo(old)
    import_file(old, json_lines(tmp_path, "c.jsonl", range(3), day=5))
    assert seal_undo(old, "c.jsonl")
    assert cache(old) != before
    undo_import(old)
    assert cache(old) == before and file_order(old) == file_order(made)


def test_a_schema_4_project_with_a_value_of_the_wrong_type_is_left_as_it_was(tmp_path):
    made = tmp_path / "new.journey"
    import_file(made, json_lines(tmp_path, "a.jsonl", range(3), day=3))
    old = tmp_path / "old.journey"
    as_schema_4(made, old)
    conn = sqlite3.connect(old)
    conn.execute("UPDATE events SET ts = x'00ff' WHERE id = 2")
    conn.commit()
    conn.close()
    before = old.read_bytes()
    with pytest.raises(ProjectDamaged, match="damaged"):
        Project.open(old)
    assert old.read_bytes() == before


def test_an_import_that_would_renumber_a_damaged_chunk_refuses_and_changes_nothing(tmp_path, small_chunks):
    project = tmp_path / "p.journey"
    import_file(project, json_lines(tmp_path, "a.jsonl", range(10), day=3))
    flip_stored_byte(project, "event_chunks", "session", "first_id", 16)
    before = project.read_bytes()
    early = tmp_path / "b.jsonl"        # renumbers u4's sessions, in the damaged chunk
    early.write_text(json.dumps({"user_id": "u4", "event": "open", "timestamp": "2024-01-03T01:00:00Z"}) + "\n")
    with pytest.raises(ProjectDamaged, match="from id 16 on"):
        import_file(project, early)
    assert project.read_bytes() == before
