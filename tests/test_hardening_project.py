"""Issue 15, the project-file and CLI half: versions, demo overwrites, interrupts, --csv, races."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from journey_explorer.cli import main
from journey_explorer.domain import JourneyError
from journey_explorer.store import event_chunks, importer
from journey_explorer.store.errors import ProjectTooNew
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project, ProjectLock
from journey_explorer.store.version import SCHEMA_VERSION

CSV = ("user,event,time\n"
       "u1,signup,2024-01-01T10:00:00Z\nu1,=HYPERLINK(\"http://x\"),2024-01-02T10:00:00Z\n"
       "u2,signup,2024-01-03T10:00:00Z\nu2,pay,2024-01-04T10:00:00Z\n")


@pytest.fixture
def events(tmp_path) -> Path:
    path = tmp_path / "e.csv"
    path.write_text(CSV)
    return path


@pytest.fixture
def project(tmp_path, events) -> Path:
    path = tmp_path / "p.journey"
    import_file(path, events)
    return path


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def set_user_version(path: Path, version: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


# --- 5: schema versions -------------------------------------------------------------------------


def test_a_newer_project_is_refused_and_left_unchanged(project, capsys):
    set_user_version(project, 99)
    before = project.read_bytes()
    with pytest.raises(ProjectTooNew, match="newer Journey Explorer"):
        Project.open(project)
    assert main(["info", str(project)]) == 1
    assert "newer Journey Explorer" in capsys.readouterr().err
    assert user_version(project) == 99 and project.read_bytes() == before


def test_an_older_project_is_upgraded_after_a_backup(project):
    set_user_version(project, SCHEMA_VERSION - 1)
    before = project.read_bytes()
    with Project.open(project) as opened:
        assert opened.info().events == 4
    assert user_version(project) == SCHEMA_VERSION
    backup = project.with_name(f"{project.name}.v{SCHEMA_VERSION - 1}-backup")
    assert backup.exists() and user_version(backup) == SCHEMA_VERSION - 1
    conn = sqlite3.connect(backup)
    assert event_chunks.event_count(conn) == 4
    conn.close()
    assert len(before) > 0


# --- 4: demo never deletes unasked ---------------------------------------------------------------


def test_demo_refuses_an_existing_file_that_is_not_a_project(tmp_path, capsys):
    target = tmp_path / "clients.csv"
    target.write_text("precious client data\n")
    assert main(["demo", str(target)]) == 1
    assert "not a Journey Explorer project" in capsys.readouterr().err
    assert target.read_text() == "precious client data\n"


def test_demo_replaces_a_project_only_with_force_and_never_while_locked(project, capsys):
    before = project.read_bytes()
    assert main(["demo", str(project)]) == 1
    assert "--force" in capsys.readouterr().err and project.read_bytes() == before
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as holder:
        try:
            Path(str(project) + ".lock").write_text(str(holder.pid))
            assert main(["demo", str(project), "--force"]) == 1
            assert "another Journey Explorer process" in capsys.readouterr().err
            assert project.read_bytes() == before
        finally:
            holder.kill()
    Path(str(project) + ".lock").unlink()
    assert main(["demo", str(project), "--force"]) == 0
    with Project.open(project) as opened:
        assert opened.info().users > 100
    assert sorted(p.name for p in project.parent.iterdir()) == ["e.csv", "p.journey"]


# --- 1: interrupt truth ------------------------------------------------------------------------------


def interrupt_after(monkeypatch, name: str) -> None:
    """Ctrl+C right after ``importer.<name>`` returns (e.g. just after COMMIT)."""
    original = getattr(importer, name)

    def then_interrupt(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt
    monkeypatch.setattr(importer, name, then_interrupt)


@pytest.mark.parametrize("new", [True, False])
def test_ctrl_c_just_after_commit_says_the_import_was_saved(tmp_path, events, monkeypatch, capsys, new):
    project = tmp_path / "p.journey"
    if not new:
        other = tmp_path / "other.csv"
        other.write_text(CSV.replace("u1", "u9"))
        import_file(project, other)
    interrupt_after(monkeypatch, "_write")
    assert main(["import", str(project), str(events)]) == 130
    err = capsys.readouterr().err
    assert "saved" in err and "nothing was changed" not in err and "e.csv" in err
    with Project.open(project) as opened:       # the committed import is there
        assert any(s["path"].endswith("e.csv") for s in opened.sources())
    assert not list(tmp_path.glob(".p.journey.importing-*"))


def test_ctrl_c_before_commit_says_nothing_was_imported(tmp_path, events, monkeypatch, capsys):
    project = tmp_path / "p.journey"
    interrupt_after(monkeypatch, "_plan_write")
    assert main(["import", str(project), str(events)]) == 130
    assert "was not imported" in capsys.readouterr().err
    assert not project.exists() and not list(tmp_path.glob(".p.journey*"))


def test_ctrl_c_after_import_returned_is_decided_from_the_project(tmp_path, events, monkeypatch, capsys):
    project = tmp_path / "p.journey"
    import journey_explorer.cli as cli
    original = cli.run_import

    def then_interrupt(args):
        original(args)
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "HANDLERS", {**cli.HANDLERS, "import": then_interrupt})
    assert main(["import", str(project), str(events)]) == 130
    assert "saved" in capsys.readouterr().err


# --- 8: --csv is safe ------------------------------------------------------------------------------


def test_csv_of_an_analysis_neutralises_formulas(project, tmp_path):
    out = tmp_path / "graph.csv"
    assert main(["graph", str(project), "--csv", str(out)]) == 0
    text = out.read_text()
    assert "'=HYPERLINK" in text and ',=HYPERLINK' not in text


def test_csv_is_written_whole_or_not_at_all(project, tmp_path, monkeypatch, capsys):
    out = tmp_path / "graph.csv"
    out.write_text("previous table\n")
    import pandas as pd

    def disk_full(self, path, *args, **kwargs):
        Path(path).write_text("partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    assert main(["graph", str(project), "--csv", str(out)]) == 1
    assert "No space left" in capsys.readouterr().err
    assert out.read_text() == "previous table\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".csv")) == ["e.csv", "graph.csv"]


# --- 10: races and paths -----------------------------------------------------------------------------


def test_a_failed_import_into_a_dangling_symlink_keeps_the_symlink(tmp_path):
    link = tmp_path / "link.journey"
    link.symlink_to(tmp_path / "target.journey")
    bad = tmp_path / "bad.csv"
    bad.write_text("user,event,time\nu1,a,never\n")
    with pytest.raises(JourneyError):
        import_file(link, bad)
    assert link.is_symlink() and not (tmp_path / "target.journey").exists()


def test_an_import_through_a_symlink_writes_its_target(tmp_path, events):
    link = tmp_path / "link.journey"
    link.symlink_to(tmp_path / "target.journey")
    import_file(link, events)
    assert link.is_symlink() and (tmp_path / "target.journey").is_file()


def test_a_lock_whose_pid_was_reused_is_stale(tmp_path, events):
    project = tmp_path / "p.journey"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:    # a live process, but not the one that wrote the lock (it started later)
            Path(str(project) + ".lock").write_text(f"{other.pid} {time.time() - 3600:.2f}")
            import_file(project, events)
        finally:
            other.kill()
    assert not Path(str(project) + ".lock").exists()


def test_a_failed_lock_write_leaves_no_empty_lock(tmp_path, monkeypatch):
    lock = ProjectLock(tmp_path / "p.journey")

    def disk_full(fd, *args, **kwargs):
        os.close(fd)
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fdopen", disk_full)
    with pytest.raises(JourneyError, match="full"):
        lock.acquire()
    assert not lock.path.exists() and not lock.held


def test_sigkill_during_an_import_into_a_new_path_leaves_no_project(tmp_path, events):
    project = tmp_path / "p.journey"
    script = ("import sys, os, signal\n"
              "from journey_explorer.store import importer\n"
              "original = importer._write\n"
              "def die(*a, **k):\n"
              "    original(*a, **k)\n"     # committed into the file being built, then killed
              "    os.kill(os.getpid(), signal.SIGKILL)\n"
              "importer._write = die\n"
              f"importer.import_file({str(project)!r}, {str(events)!r})\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert child.returncode == -9
    assert not project.exists()          # no empty (or unnamed) project at the path
    summary = import_file(project, events)      # the next import cleans up and succeeds
    assert summary.imported == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "p.journey"]


def test_two_imports_creating_one_project_at_once_never_delete_each_others_file(tmp_path, events):
    project = tmp_path / "p.journey"
    script = (f"from journey_explorer.store.importer import import_file\n"
              f"from journey_explorer.domain import ProjectBusy\n"
              f"try:\n    import_file({str(project)!r}, {str(events)!r}); print('ok')\n"
              f"except ProjectBusy:\n    print('busy')\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for _ in range(3):
        project.unlink(missing_ok=True)
        children = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
                    for _ in range(2)]
        outcomes = sorted(child.communicate()[0].strip() for child in children)
        assert "ok" in outcomes, outcomes          # at least one import stands, and the file is there
        with Project.open(project) as opened:
            assert opened.info().events == 4
        assert not list(tmp_path.glob(".p.journey*"))



def test_an_event_file_name_that_is_not_utf8_never_says_bug(tmp_path, capsys):
    source = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.csv"))
    source.write_text(CSV)
    code = main(["import", str(tmp_path / "p.journey"), str(source)])
    err = capsys.readouterr().err
    assert code in (0, 1) and "bug" not in err, err
    if code == 0:       # stored with its odd byte escaped, readable by info
        with Project.open(tmp_path / "p.journey") as opened:
            assert opened.sources()[0]["path"].endswith("caf\\xe9.csv")
    else:
        assert "not valid UTF-8" in err and not (tmp_path / "p.journey").exists()


def test_a_non_utf8_path_is_stored_with_escapes():
    assert importer.storable_path(os.fsdecode(b"/x/caf\xe9.csv")) == "/x/caf\\xe9.csv"


def test_a_real_ctrl_c_at_any_moment_is_reported_as_the_database_says(tmp_path):
    """SIGINT at several moments of a real import: the message always agrees with the project."""
    import signal
    source = tmp_path / "big.csv"
    rows = [f"u{i % 5000},e{i % 7},{1_700_000_000_000 + i * 1000}" for i in range(150_000)]
    source.write_text("user,event,time\n" + "\n".join(rows) + "\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for delay in (0.0, 0.5, 1.2, 2.5):
        project = tmp_path / f"p{delay}.journey"
        child = subprocess.Popen([sys.executable, "-m", "journey_explorer.cli", "import", str(project), str(source),
                                  "--time-format", "epoch_ms"], env=env, stderr=subprocess.PIPE, text=True)
        started = time.monotonic()      # wait for the import to start (the lock): Python's own start-up
        while (not Path(str(project) + ".lock").exists() and child.poll() is None
               and time.monotonic() - started < 30):     # is not ours to report on
            time.sleep(0.01)
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        err = child.communicate()[1]
        saved = project.exists() and bool(sqlite3.connect(project).execute("SELECT count(*) FROM sources").fetchone()[0])
        if child.returncode == 0:
            assert saved                            # finished before the signal
        else:
            # 130 from the error boundary, always: once the message is written the process ends there
            # (cli._ignore_late_interrupts), so a second SIGINT that pyarrow's reader delivers cannot
            # turn it into an end by signal (-2). The message has no traceback and agrees with the project.
            assert child.returncode == 130 and "Traceback" not in err, (child.returncode, err)
            assert "interrupted" in err and ("saved" in err) == saved, (delay, err)
        assert not list(tmp_path.glob(f".p{delay}.journey*"))


def test_a_closed_output_pipe_is_quiet(project):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-m", "journey_explorer.cli", "info", str(project)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child.stdout.close()             # like `| head -0`: the reader is gone before anything is printed
    err = child.stderr.read()
    child.wait()
    assert child.returncode == 1 and err == "", err


@pytest.mark.parametrize("repeats", [1, 3])
def test_ctrl_c_while_the_users_go_in_waits_for_them_and_changes_nothing(tmp_path, events, monkeypatch, repeats):
    """The users are inserted on a second thread while the events are sorted: Ctrl+C (even pressed
    again and again) stops that insert and waits for it before anything rolls back, so the project
    is left as it was and takes the import afterwards."""
    import threading

    from journey_explorer.store.importer import planning, run
    project = tmp_path / "p.journey"
    other = tmp_path / "other.csv"
    other.write_text(CSV.replace("u1", "u9"))
    import_file(project, other)
    before = project.read_bytes()
    started, finished = threading.Event(), threading.Event()
    real_insert, real_sort = run._insert_users, planning._sorted_columns

    def slow_insert(project_, state):
        started.set()
        try:
            time.sleep(0.3)             # still inserting when the interrupts come
            real_insert(project_, state)
        finally:
            finished.set()

    def interrupted_sort(*args):
        started.wait(5)
        raise KeyboardInterrupt
    monkeypatch.setattr(run, "_insert_users", slow_insert)
    monkeypatch.setattr(planning, "_sorted_columns", interrupted_sort)
    waits = planning.concurrent.futures.wait

    def wait_pressed_again(futures, *args, **kwargs):     # Ctrl+C pressed while it waits, too
        if not finished.is_set() and waits.pressed < repeats - 1:
            waits.pressed += 1
            time.sleep(0.05)
            raise KeyboardInterrupt
        return waits(futures, *args, **kwargs)
    waits.pressed = 0
    monkeypatch.setattr(planning.concurrent.futures, "wait", wait_pressed_again)
    with pytest.raises(importer.ImportInterrupted, match="not imported"):
        import_file(project, events)
    assert finished.is_set()            # waited for before the rollback
    assert project.read_bytes() == before
    monkeypatch.setattr(planning, "_sorted_columns", real_sort)
    assert import_file(project, events).imported > 0
