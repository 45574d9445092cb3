"""Reading a project for the window (a background task), and the head start it gets at launch.

At launch the app knows which project it opens before the window's modules are imported (~0.5 s:
pyqtgraph, the views). ``EarlyLoad`` reads the project on a thread of its own during that time and
the window takes its result instead of reading the file again once it is built. This module imports
neither Qt nor the window, so the read can start at once.
"""
from __future__ import annotations

import threading
from pathlib import Path

STATE_SETTING = "window_state"   # in the project: filters, the selected tab, each view's options; restored on open


def load_project_log(path: Path, progress, opened=None) -> dict:
    """Background task: the project's event log and its side-panel facts, without pandas (user
    properties are read when a view asks; the catalog comes as numpy columns). ``opened()`` is
    called once the file is open (and its schema upgraded)."""
    # Imported here: at launch this runs on the early thread, beside the window's own imports.
    from journey_explorer.analysis.columns import Columns
    from journey_explorer.analysis.goals import default_goal, goal_reach
    from journey_explorer.store.project import Project
    with Project.open(path) as project:
        if opened is not None:
            opened()
        arrays = project.load_arrays()          # read once: the log, the catalog and the facts
        log = project.load_event_log(arrays=arrays)
        progress(0.7)
        if len(log):               # the goal box's numbers, kept per log: worked out here, not on the GUI thread
            goal_reach(log)
            default_goal(log)         # the guess: ~0.4 s at 1M
        log.user_property_names()      # read once here (SQLite walks the users' JSON), not by the views' boxes
        catalog = Columns(project.event_catalog_columns(arrays))
        loaded = {"log": log, "info": project.info(arrays), "catalog": catalog,
                  "segments": project.segments(), "path": str(path), "state": project.get_setting(STATE_SETTING)}
    return loaded


class EarlyLoad:
    """``load_project_log(path)`` started now on a thread of its own; ``result`` waits for it and
    returns what it read, or raises what it raised, as if the window's loader had read it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._opened = threading.Event()      # the file is open: an older schema is upgraded by then
        self._done = threading.Event()
        self._loaded: dict | None = None
        self._error: Exception | None = None
        # A daemon: closing the app while it reads must not wait for it.
        threading.Thread(target=self._read, name="early-project-load", daemon=True).start()

    def _read(self) -> None:
        try:
            self._loaded = load_project_log(self.path, lambda *_: None, self._opened.set)
        except Exception as exc:  # noqa: BLE001 - handed to whoever takes the result (the window's loader)
            self._error = exc
        finally:
            self._opened.set()
            self._done.set()

    def wait_until_open(self) -> None:
        """Until the file is open: opening it may upgrade its schema, so nothing else opens it before."""
        self._opened.wait()

    def result(self, progress=None) -> dict:
        """What the read found (a ``TaskRunner`` task: it waits on the runner's thread)."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._loaded
