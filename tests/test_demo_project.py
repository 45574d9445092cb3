"""The shipped demo (``data/demo.journey.gz``, unpacked on the app's first run) is the demo the code builds."""
from __future__ import annotations

import datetime
import sqlite3

import pytest

from journey_explorer.demo_project import SHIPPED_DEMO, ensure_demo_project, is_demo_project, write_demo_project
from journey_explorer.domain import JourneyError

STAMPS = {"sources": "imported_at", "_sqlite_migrations": "applied_at"}      # when it was written: differ


def table_rows(path) -> dict[str, list]:
    """Every table's rows, in a stable order, without the columns that record when the file was written."""
    with sqlite3.connect(path) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {}
        for table in tables:
            columns = [name for _, name, *_ in conn.execute(f"PRAGMA table_info('{table}')")
                       if name != STAMPS.get(table)]
            listed = ", ".join(f'"{name}"' for name in columns)
            rows[table] = conn.execute(f'SELECT {listed} FROM "{table}" ORDER BY {listed}').fetchall()
    conn.close()
    return rows


def test_the_shipped_demo_is_what_the_code_builds(demo_project_path, tmp_path):
    assert SHIPPED_DEMO.is_file(), "the package ships its demo: run packaging/make_demo.py"
    unpacked = write_demo_project(tmp_path / "demo.journey")
    built, shipped = table_rows(demo_project_path), table_rows(unpacked)
    assert set(built) == set(shipped)
    stale = [table for table in built if built[table] != shipped[table]]
    assert not stale, f"data/demo.journey.gz differs from a build in {stale}: run packaging/make_demo.py"


def test_an_unpacked_demo_says_it_was_imported_when_it_was_written(tmp_path):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    demo = ensure_demo_project(tmp_path / "demo.journey")
    with sqlite3.connect(demo) as conn:
        (imported_at,) = conn.execute("SELECT imported_at FROM sources").fetchone()
    conn.close()
    assert datetime.datetime.fromisoformat(imported_at) >= before
    assert is_demo_project(demo)


def test_without_a_shipped_copy_the_demo_is_built_from_code(tmp_path, monkeypatch, demo_project_path):
    monkeypatch.setattr("journey_explorer.demo_project.SHIPPED_DEMO", tmp_path / "missing.journey.gz")
    built = ensure_demo_project(tmp_path / "demo.journey")
    assert table_rows(built) == table_rows(demo_project_path)


def test_an_existing_project_is_not_replaced_unasked(tmp_path):
    target = write_demo_project(tmp_path / "demo.journey")
    with pytest.raises(JourneyError, match="already exists"):
        write_demo_project(target)
