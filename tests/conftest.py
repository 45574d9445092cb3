"""Test-wide setup: offscreen Qt, and app data/settings kept in a temp folder."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_app_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user's settings or demo project."""
    base = tmp_path_factory.mktemp("appdirs")
    monkeypatch.setenv("JOURNEY_EXPLORER_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("JOURNEY_EXPLORER_SETTINGS_DIR", str(base / "settings"))
    monkeypatch.setenv("JOURNEY_EXPLORER_LOG_DIR", str(base / "logs"))


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests():
    """Once a task runner moved garbage collection to the GUI thread's timer, tests that run no event
    loop would never collect: do what the timer does after each test (cheap unless it is due)."""
    yield
    import sys
    if "journey_explorer.tasks" in sys.modules:
        sys.modules["journey_explorer.tasks"].collect_if_due()


@pytest.fixture(scope="session")
def demo_project_path(tmp_path_factory):
    """The demo project, generated and imported once per test session (read-only for tests); built
    from code, not unpacked from the shipped copy, which tests/test_demo_project.py compares with it."""
    from journey_explorer.demo_project import write_demo_project
    return write_demo_project(tmp_path_factory.mktemp("demo") / "demo.journey", from_code=True)


@pytest.fixture(scope="session")
def demo_report(demo_project_path, tmp_path_factory, qapp):
    """``journey-explorer report DEMO --out report.pptx --json`` made once per test run (the report is
    the suite's most expensive computation): the deck's path and the printed summary (read-only).

    Under pytest-xdist the workers share it through their common temporary folder: the first to need
    it builds it under a name of its own and renames it into place (a worker that finds it missing
    meanwhile builds it too; the rename that comes second fails and that worker uses the first)."""
    import contextlib
    import io
    import json

    from journey_explorer.cli import main
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent              # this run's folder, above each worker's own
    ready = shared / "demo-report"
    if not ready.exists():
        building = tmp_path_factory.mktemp("demo-report-building")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["report", str(demo_project_path), "--out", str(building / "report.pptx"), "--json"]) == 0
        (building / "summary.json").write_text(printed.getvalue(), encoding="utf-8")
        try:
            os.rename(building, ready)
        except OSError:
            assert ready.exists()           # another worker's, made the same way
    return ready / "report.pptx", json.loads((ready / "summary.json").read_text(encoding="utf-8"))
