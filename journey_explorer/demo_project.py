"""The built-in demo project: generated B2B SaaS trial journeys, imported through the real pipeline.

Generating and importing it takes ~4 s (and pandas), which the README's first command (the app's first
run opens the demo) spent before the window showed. The package ships the result, gzipped
(``data/demo.journey.gz``, made by ``packaging/make_demo.py``); writing the demo unpacks it (~0.1 s
with its lock, on a loaded machine). ``tests/test_demo_project.py`` checks that it is what the code builds today; without
it (a checkout that lost it) the demo is built from code as before.
"""
from __future__ import annotations

import datetime
import gzip
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from journey_explorer.domain import ImportOptions, JourneyError
from journey_explorer.store.project import Project, ProjectLock, is_project_file

DEMO_SETTING = "built_in_demo"     # marks the demo project: never an import target, rebuilt from code
SHIPPED_DEMO = Path(__file__).resolve().parent / "data" / "demo.journey.gz"    # the demo as built from code


def data_folder() -> Path:
    """The app's data folder (``JOURNEY_EXPLORER_DATA_DIR`` overrides it)."""
    return Path(os.environ.get("JOURNEY_EXPLORER_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share"), "journey-explorer"))


def default_demo_path() -> Path:
    """Where the app keeps its demo project."""
    return data_folder() / "demo.journey"


def default_projects_folder() -> Path:
    """Where a new project made from a dropped file goes unless the user chooses another folder."""
    return data_folder() / "projects"


def is_demo_project(path: Path | None) -> bool:
    """Whether ``path`` is the built-in demo (marked when written, or at the demo's own location)."""
    if path is None:
        return False
    path = Path(path)
    if path.resolve() == default_demo_path().resolve():
        return True
    try:
        with Project.open(path) as project:
            return bool(project.get_setting(DEMO_SETTING, False))
    except Exception:  # noqa: BLE001 - an unreadable file is simply not the demo
        return False


def write_demo_project(path: Path, force: bool = False, from_code: bool = False) -> Path:
    """The demo project at ``path``: the shipped copy unpacked, or (``from_code``, or without one)
    the demo data generated and imported into a new project.

    An existing file is never deleted unasked: a file that is not a project is refused, an existing
    project is replaced only with ``force`` and never while another process holds it. The demo is
    built under a temporary name and renamed into place, so ``path`` is whole at every moment.
    """
    path = Path(path)
    _check_demo_target(path, force)
    lock = ProjectLock(path)
    lock.acquire()                  # ProjectBusy while an import (or the app) writes there
    building = path.with_name(f".{path.name}.demo-{os.getpid()}")
    for leftover in path.parent.glob(f".{path.name}.demo-*"):     # of a killed run (we hold the lock)
        leftover.unlink(missing_ok=True)
    try:
        if from_code or not _unpack_shipped_demo(building):
            _build_demo(building)
        os.replace(building, Path(os.path.realpath(path)))
    finally:
        for leftover in (building, Path(str(building) + ".lock")):
            leftover.unlink(missing_ok=True)
        lock.release()
    return path


def _check_demo_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise JourneyError(f"{path} is a folder: name a file such as {path / 'demo.journey'}")
    if not path.exists():
        return
    if not is_project_file(path):
        raise JourneyError(f"{path} exists and is not a Journey Explorer project; it was left alone. "
                           "Choose another name for the demo.")
    if not force:
        raise JourneyError(f"The project {path} already exists; add --force to replace it with the demo.")


def _unpack_shipped_demo(path: Path) -> bool:
    """Write the shipped demo to ``path``, stamped as imported now (as a build would be); False
    when this installation has no shipped copy."""
    if not SHIPPED_DEMO.is_file():
        return False
    with gzip.open(SHIPPED_DEMO, "rb") as packed, open(path, "wb") as unpacked:
        shutil.copyfileobj(packed, unpacked, 1 << 20)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with sqlite3.connect(path) as conn:        # one stamp: no need for Project's checks and upgrades
        conn.execute("UPDATE sources SET imported_at = ?", (now,))
    conn.close()
    return True


def _build_demo(path: Path) -> None:
    # Imported here: opening the (already built) demo needs neither the generator nor the importer.
    from journey_explorer.demo import generate_demo
    from journey_explorer.store.importer import import_file, import_user_properties
    demo = generate_demo()
    with tempfile.TemporaryDirectory(prefix="journey-demo-") as folder:
        events_csv = Path(folder) / "demo-events.csv"
        demo.events.to_csv(events_csv, index=False)
        import_file(path, events_csv, ImportOptions(user="user", event="event", time="time",
                                                    session="session_id", time_format="epoch_ms"))
        import_user_properties(path, demo.users, key_column="user")
    with Project.open(path) as project:
        project.default_goal = demo.default_goal
        project.set_setting(DEMO_SETTING, True)
        project.label_sources("Built-in demo: B2B SaaS trial journeys")


def ensure_demo_project(path: Path | None = None) -> Path:
    """The demo project, written on first use and written again from code whenever the file is
    not the untouched demo (e.g. an older version imported a client's file into it)."""
    path = Path(path) if path else default_demo_path()
    if not path.exists() or not _untouched_demo(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_demo_project(path, force=True)       # the app's own demo file: replacing it is the point
    return path


def _untouched_demo(path: Path) -> bool:
    """The demo's marker is set and it holds exactly its one built-in source."""
    try:
        with Project.open(path) as project:
            return bool(project.get_setting(DEMO_SETTING, False)) and len(project.sources()) == 1
    except Exception:  # noqa: BLE001 - a damaged demo is rebuilt
        return False
