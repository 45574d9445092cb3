"""The built-in demo project: generated B2B SaaS trial journeys, imported through the real pipeline."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from journey_explorer.demo import generate_demo
from journey_explorer.domain import ImportOptions
from journey_explorer.store.importer import import_file, import_user_properties
from journey_explorer.store.project import Project


def default_demo_path() -> Path:
    """Where the app keeps its demo project (``JOURNEY_EXPLORER_DATA_DIR`` overrides the folder)."""
    folder = os.environ.get("JOURNEY_EXPLORER_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share"), "journey-explorer")
    return Path(folder) / "demo.journey"


def write_demo_project(path: Path) -> Path:
    """Generate the demo data and import it into a new project at ``path`` (replacing it)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    demo = generate_demo()
    with tempfile.TemporaryDirectory(prefix="journey-demo-") as folder:
        events_csv = Path(folder) / "demo-events.csv"
        demo.events.to_csv(events_csv, index=False)
        try:
            import_file(path, events_csv, ImportOptions(user="user", event="event", time="time",
                                                        session="session_id", time_format="epoch_ms"))
            import_user_properties(path, demo.users, key_column="user")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    with Project.open(path) as project:
        project.default_goal = demo.default_goal
        project.conn.execute("UPDATE sources SET path = ?", ("Built-in demo: B2B SaaS trial journeys",))
    return path


def ensure_demo_project(path: Path | None = None) -> Path:
    """The demo project, written on first use."""
    path = Path(path) if path else default_demo_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_demo_project(path)
    return path
