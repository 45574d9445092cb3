"""Project methods that replaced raw SQL in other modules, and the catalog's unknown-event message."""
from __future__ import annotations

import sqlite3
import time

import pytest

from journey_explorer.domain import ImportOptions, UnknownEvent
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

CSV = "user,event,time\nu1,Sign Up,2024-01-01T10:00:00Z\nu1,Purchase,2024-01-02T10:00:00Z\n"


@pytest.fixture
def project_path(tmp_path):
    source = tmp_path / "events.csv"
    source.write_text(CSV)
    import_file(tmp_path / "p.journey", source, ImportOptions())
    return tmp_path / "p.journey"


def test_label_sources_replaces_the_imported_path(project_path):
    with Project.open(project_path) as project:
        project.label_sources("Built-in demo")
    with Project.open(project_path) as project:
        assert [s["path"] for s in project.sources()] == ["Built-in demo"]
        assert project.info().sources[0]["path"] == "Built-in demo"


def test_wait_when_busy_bounds_the_wait_for_another_writer(project_path):
    other = sqlite3.connect(project_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")          # another process in the middle of a write
    try:
        with Project.open(project_path) as project:
            for seconds in (0.0, 0.4):
                project.wait_when_busy(seconds)
                started = time.perf_counter()
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    project.conn.execute("BEGIN IMMEDIATE")
                waited = time.perf_counter() - started
                assert (waited < 0.3) if seconds == 0 else (waited >= 0.35), (seconds, waited)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_catalog_edit_of_an_unknown_event_suggests_the_names_it_has(project_path):
    with Project.open(project_path) as project:
        with pytest.raises(UnknownEvent, match="No event named 'purchase' in this project; did you mean 'Purchase'"):
            project.rename_event("purchase", "Bought")
