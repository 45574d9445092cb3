"""The insight board in the project file: pins keep a chart's state and three notes, in order."""
from __future__ import annotations

import sqlite3

import pytest

from journey_explorer.domain import JourneyError
from journey_explorer.state.filters import FilterState
from journey_explorer.state.views import spec_from_dict, spec_to_dict
from journey_explorer.store.board import Pin
from journey_explorer.store.project import Project


@pytest.fixture
def project(tmp_path):
    with Project.create(tmp_path / "p.journey") as project:
        yield project


def titles(project) -> list[str]:
    return [p.title for p in project.board.pins()]


def test_pins_keep_state_and_notes_across_reopening(tmp_path):
    from journey_explorer.analysis import funnel
    spec = funnel.Spec(steps=("Sign Up", "Subscription Paid"), window_ms=86_400_000)
    filters = FilterState(since="2026-01-01", segment=("plan=Pro",), goal="Subscription Paid")
    with Project.create(tmp_path / "p.journey") as project:
        project.board.add(Pin(view="funnel", title="Funnel", spec=spec_to_dict(spec), filters=filters.to_dict(),
                              hypothesis="Trials stall"))
    with Project.open(tmp_path / "p.journey") as project:
        (pin,) = project.board.pins()
    assert spec_from_dict(pin.view, pin.spec) == spec
    assert FilterState.from_dict(pin.filters) == filters
    assert (pin.hypothesis, pin.observation, pin.action) == ("Trials stall", "", "")


def test_move_renumbers_and_clamps(project):
    ids = [project.board.add(Pin(view="flows", title=t)).id for t in "ABCD"]
    project.board.move(ids[3], 0)
    assert titles(project) == ["D", "A", "B", "C"]
    project.board.move(ids[3], 99)
    assert titles(project) == ["A", "B", "C", "D"]
    project.board.move(ids[0], 2)
    assert titles(project) == ["B", "C", "A", "D"]


def test_notes_remove_and_unknown_pins(project):
    first = project.board.add(Pin(view="stuck", title="Stuck"))
    project.board.set_notes(first.id, observation="Users loop at Connect Data Source", title="Where they loop")
    (pin,) = project.board.pins()
    assert (pin.title, pin.observation) == ("Where they loop", "Users loop at Connect Data Source")
    with pytest.raises(JourneyError, match="no field colour"):
        project.board.set_notes(first.id, colour="red")
    project.board.remove(first.id)
    assert project.board.pins() == []
    with pytest.raises(JourneyError, match="no pin"):
        project.board.remove(first.id)


def test_a_version_1_project_gains_the_board_on_open(tmp_path):
    path = tmp_path / "old.journey"
    Project.create(path).close()
    conn = sqlite3.connect(path)          # take the file back to schema 1, as an older release wrote it
    conn.execute("DROP TABLE pins")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_board'")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Project.open(path) as project:
        project.board.add(Pin(view="flows", title="Flows"))
        assert titles(project) == ["Flows"]


def test_unknown_spec_fields_from_newer_versions_are_ignored():
    spec = spec_from_dict("lifecycle", {"period": "month", "added_later": 3})
    assert spec.period == "month"
    assert spec_from_dict("overview", {}) is None
