"""A damaged, busy, full or oddly named project gives a message, never a traceback; repair rebuilds."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from journey_explorer.cli import main
from journey_explorer.domain import JourneyError, ProjectBusy
from journey_explorer.store import event_chunks
from journey_explorer.store import project as project_module
from journey_explorer.store.errors import DiskFull, ProjectDamaged, project_error
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from journey_explorer.store.properties import stored_codes
from journey_explorer.store.repair import repair_project
from tests.store.stored import flip_stored_byte


def events_csv(folder: Path, name: str = "e.csv", users: int = 30, prefix: str = "u") -> Path:
    lines = ["user,event,time,session,plan"]
    for u in range(users):
        for step, event in enumerate(("open", "browse", "buy" if u % 3 else "leave")):
            lines.append(f"{prefix}{u},{event},2024-01-{1 + u % 28:02d}T10:0{step}:00.{u:06d}Z,s{u},p{u % 4}")
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "p.journey"
    import_file(path, events_csv(tmp_path))
    return path


def flip_cache_byte(path: Path, name: str = "ts") -> None:
    flip_stored_byte(path, "log_cache", "data", "name", name, at=-3, mask=0x40)


def snapshot(path: Path) -> dict:
    with Project.open(path) as opened:
        log = opened.load_event_log()
        return {"user": log.user.copy(), "event": log.event.copy(), "ts": log.ts.copy(),
                "session": log.session.copy(), "id": opened.load_arrays()["id"].copy(),
                "plan": stored_codes(opened.conn, "plan", len(log.ts))}


def test_changed_cache_bytes_are_damage_and_repair_rebuilds_them(project, capsys):
    before = snapshot(project)
    flip_cache_byte(project)
    with pytest.raises(ProjectDamaged, match="damaged"):
        Project.open(project).load_arrays()
    assert main(["info", str(project)]) == 1
    err = capsys.readouterr().err
    assert "This project file is damaged" in err and "repair" in err and len(err.strip().splitlines()) == 1
    assert main(["repair", str(project)]) == 0
    assert "rebuilt from 90 events" in capsys.readouterr().out
    after = snapshot(project)
    for name in ("user", "event", "ts", "session", "id", "plan"):
        assert np.array_equal(before[name], after[name]), name
    assert list(project.parent.glob("p.journey.damaged-backup"))
    # the repaired project takes further imports
    import_file(project, events_csv(project.parent, "more.csv", users=5, prefix="w"))


def test_a_zeroed_page_in_the_stored_events_is_noticed(project):
    conn = sqlite3.connect(project)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (event_chunks.TABLE,)).fetchone()[0]
    conn.close()
    with open(project, "r+b") as handle:       # the event chunks table's root page
        handle.seek((root - 1) * page_size)
        handle.write(b"\0" * page_size)
    with pytest.raises(ProjectDamaged):
        Project.open(project).load_arrays()


def test_disk_full_at_commit_is_a_message_and_changes_nothing(project, tmp_path, monkeypatch):
    before = project.read_bytes()
    original = project_module.connect

    def small_disk(path):
        conn = original(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 1}")
        return conn
    monkeypatch.setattr(project_module, "connect", small_disk)
    with pytest.raises(DiskFull, match="full"):
        import_file(project, events_csv(tmp_path, "big.csv", users=30_000, prefix="b"))
    assert project.read_bytes() == before


def test_a_reader_holding_a_transaction_gives_a_busy_message(project, tmp_path):
    reader = sqlite3.connect(project, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM event_chunks").fetchone()     # a shared lock, held
    try:
        with pytest.raises(ProjectBusy, match="another process"):
            import_file(project, events_csv(tmp_path, "more.csv", users=5, prefix="w"))
    finally:
        reader.execute("COMMIT")
        reader.close()


def test_a_folder_as_project_path_is_named(tmp_path, capsys):
    folder = tmp_path / "folder.journey"
    folder.mkdir()
    with pytest.raises(JourneyError, match="is a folder"):
        Project.open(folder)
    assert main(["import", str(folder), str(events_csv(tmp_path))]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_a_file_name_that_is_not_utf8_works(tmp_path, capsys):
    name = os.fsdecode(b"caf\xe9.journey")          # Latin-1 bytes: not valid UTF-8
    target = str(tmp_path / name)
    assert main(["import", target, str(events_csv(tmp_path))]) == 0
    assert main(["info", target]) == 0
    assert "90 events" in capsys.readouterr().out


def test_read_only_is_explained():
    error = project_error("p.journey", sqlite3.OperationalError("attempt to write a readonly database"))
    assert "read-only" in str(error)
    error = project_error("p.journey", PermissionError(13, "Permission denied", "/ro/p.journey.lock"))
    assert "permission denied" in str(error)


def test_an_unexpected_error_says_bug_and_keeps_the_traceback_in_the_log(project, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOURNEY_EXPLORER_LOG_DIR", str(tmp_path / "logs"))

    def broken(self):
        raise ZeroDivisionError("boom")
    monkeypatch.setattr(Project, "info", broken)
    assert main(["info", str(project)]) == 2
    err = capsys.readouterr().err
    log = tmp_path / "logs" / "journey-explorer.log"
    assert "this is a bug" in err and str(log) in err and "Traceback" not in err
    assert "ZeroDivisionError: boom" in log.read_text() and "Traceback" in log.read_text()


def test_an_expected_error_does_not_say_bug(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOURNEY_EXPLORER_LOG_DIR", str(tmp_path / "logs"))
    assert main(["info", str(tmp_path / "nope.journey")]) == 1
    assert "bug" not in capsys.readouterr().err


def test_changed_user_id_bytes_are_damage_and_repair_restores_them(project, capsys):
    with Project.open(project) as opened:
        keys = opened.user_keys().tolist()
    flip_cache_byte(project, "user_keys")
    with pytest.raises(ProjectDamaged, match="user ids"):
        Project.open(project).load_event_log()
    assert main(["repair", str(project)]) == 0
    with Project.open(project) as opened:
        assert opened.user_keys().tolist() == keys


def test_a_changed_event_name_is_damage_but_a_rename_is_not(project):
    with Project.open(project) as opened:
        opened.rename_event("browse", "Browse catalogue")
        opened.set_hidden("leave")
        assert "Browse catalogue" in opened.load_event_log().event_names
    conn = sqlite3.connect(project)
    conn.execute("UPDATE event_types SET name = 'brOwse' WHERE name = 'browse'")     # one byte on disk
    conn.commit()
    conn.close()
    with pytest.raises(ProjectDamaged, match="event names"):
        Project.open(project).load_event_log()


def _immutable(path: Path, on: bool) -> bool:
    """chattr +i: read-only even for root (tests may run as root, where chmod does not stop writes)."""
    import shutil
    import subprocess
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True).returncode == 0


@pytest.mark.parametrize("what", ["project", "folder"])
def test_a_read_only_project_or_folder_gives_a_message_and_no_lock(tmp_path, capsys, what):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "p.journey"
    import_file(target, events_csv(tmp_path))
    more = events_csv(tmp_path, "more.csv", users=5, prefix="w")
    locked = target if what == "project" else folder
    if not _immutable(locked, True):
        pytest.skip("chattr +i is not available here")
    try:
        assert main(["import", str(target), str(more)]) == 1
        err = capsys.readouterr().err
        assert ("read-only" in err or "permission denied" in err) and "bug" not in err, err
        assert main(["info", str(target)]) == 0             # reading still works
        assert sorted(p.name for p in folder.iterdir()) == ["p.journey"]
    finally:
        _immutable(locked, False)


def test_disk_full_while_creating_a_project_leaves_nothing(tmp_path, monkeypatch):
    original = project_module.connect

    def small_disk(path):
        conn = original(path)
        conn.execute("PRAGMA max_page_count = 12")        # room for the schema, not for the events
        return conn
    monkeypatch.setattr(project_module, "connect", small_disk)
    with pytest.raises(DiskFull):
        import_file(tmp_path / "p.journey", events_csv(tmp_path, users=3000))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv"]


def test_a_lost_cache_is_damage_not_an_empty_project(project):
    conn = sqlite3.connect(project)
    conn.execute("DELETE FROM log_cache WHERE name NOT LIKE 'property:%'")
    conn.commit()
    conn.close()
    with pytest.raises(ProjectDamaged, match="missing"):
        Project.open(project).info()
    repair_project(project)
    with Project.open(project) as opened:
        assert opened.info().events == 90


@pytest.mark.parametrize("edit", ["UPDATE event_types SET display_name = 'Buy!' WHERE name = 'buy'",
                                  "UPDATE event_types SET hidden = 1 WHERE name = 'open'",
                                  "INSERT INTO group_rules(position, pattern, group_name) VALUES (5, 'b', 'B')"])
def test_catalog_bytes_changed_behind_the_apps_back_are_damage(project, edit):
    with Project.open(project) as opened:
        opened.set_group_rules([("^le", "Left")])           # edits through the app keep the check right
        assert "Left" in opened.load_event_log().event_names
    conn = sqlite3.connect(project)
    conn.execute(edit)
    conn.commit()
    conn.close()
    with pytest.raises(ProjectDamaged, match="catalog"):
        Project.open(project).load_event_log()
    repair_project(project)          # takes the catalog as it now reads
    with Project.open(project) as opened:
        opened.load_event_log()


@pytest.mark.parametrize("row", ["check", "check:catalog", "check:user_keys"])
def test_a_lost_checksum_is_damage(project, row):
    conn = sqlite3.connect(project)
    conn.execute("DELETE FROM log_cache WHERE name = ?", (row,))
    conn.commit()
    conn.close()
    with pytest.raises(ProjectDamaged, match="missing"):
        Project.open(project).load_event_log()


def test_a_project_from_before_checksums_still_opens_and_gets_them_at_its_next_import(project, tmp_path):
    conn = sqlite3.connect(project)
    conn.execute("DELETE FROM log_cache WHERE name LIKE 'check%'")
    conn.execute("DELETE FROM settings WHERE key = 'checksums'")
    conn.commit()
    conn.close()
    with Project.open(project) as opened:
        assert opened.info().events == 90
    import_file(project, events_csv(tmp_path, "more.csv", users=5, prefix="w"))
    flip_cache_byte(project)
    with pytest.raises(ProjectDamaged):
        Project.open(project).load_event_log()


@pytest.mark.parametrize("edit", [
    "UPDATE event_chunks SET ts = x'00ff'",                     # a column that is not one
    "UPDATE event_chunks SET user = 'u1'",                      # a value of the wrong type
    "UPDATE event_chunks SET count = count - 1",                # a chunk that no longer says its size
])
def test_a_refused_repair_changes_nothing_and_leaves_no_copy(project, edit):
    """A chunk that fails its checksum is named; nothing is rebuilt from it."""
    conn = sqlite3.connect(project)
    conn.execute(edit)
    conn.commit()
    conn.close()
    before = project.read_bytes()
    with pytest.raises(ProjectDamaged, match="events themselves are damaged.*id 0.*backup"):
        repair_project(project)
    assert project.read_bytes() == before
    assert sorted(p.name for p in project.parent.iterdir() if p.name.startswith("p.journey")) == ["p.journey"]


def test_a_flipped_byte_in_a_stored_chunk_is_named_by_repair(project, monkeypatch, tmp_path):
    monkeypatch.setattr(event_chunks, "CHUNK_EVENTS", 40)           # 90 events: three chunks
    more = tmp_path / "more.journey"
    import_file(more, events_csv(tmp_path))
    conn = sqlite3.connect(more)
    assert [row[0] for row in conn.execute("SELECT first_id FROM event_chunks ORDER BY 1")] == [0, 40, 80]
    conn.close()
    flip_stored_byte(more, "event_chunks", "ts", "first_id", 40, at=-2)
    with pytest.raises(ProjectDamaged, match="from id 40 on"):
        repair_project(more)


def test_a_stored_property_column_of_the_wrong_length_stops_the_next_import(tmp_path):
    """A short column would be gathered with clipped positions: another event's value in place."""
    from journey_explorer.store.column_codec import encode_column, read_column
    from journey_explorer.store.errors import ProjectDamaged
    from journey_explorer.store.importer import import_file
    from journey_explorer.store.properties import CODES_PREFIX
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("user,event,time,country\nu1,e,2024-01-01T10:00:00Z,fr\n"
                     "u2,e,2024-01-01T11:00:00Z,de\nu3,e,2024-01-01T12:00:00Z,it\n")
    second.write_text("user,event,time,country\nu1,e,2024-01-02T10:00:00Z,es\n")
    path = tmp_path / "p.journey"
    import_file(path, first)
    conn = sqlite3.connect(path)
    name = CODES_PREFIX + "country"
    codes = read_column(conn.execute("SELECT data FROM log_cache WHERE name = ?", (name,)).fetchone()[0])
    with conn:
        conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (encode_column(codes[:-1], np.int32), name))
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ProjectDamaged, match="property 'country' do not match its events"):
        import_file(path, second)
    assert path.read_bytes() == before
