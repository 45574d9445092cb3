"""Undo of the last import: the project answers exactly as before it, and refuses once it changed."""
from __future__ import annotations

import numpy as np
import pytest

from journey_explorer.cli import main
from journey_explorer.domain import JourneyError
from journey_explorer.store.import_undo import (
    discard_undo,
    prepare_undo,
    seal_undo,
    snapshot_path,
    undo_import,
    undoable_import,
)
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

FIRST = "user,event,time\nu1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\nu2,open,2024-01-02T10:00:00Z\n"
SECOND = "user,event,time\nu3,open,2024-02-01T10:00:00Z\nu3,refund,2024-02-01T10:30:00Z\nu1,open,2024-02-02T09:00:00Z\n"


def answers(path):
    """What a user sees of a project: its info and every event."""
    with Project.open(path) as project:
        info = project.info().to_json_dict()
        info.pop("path")
        log = project.load_event_log()
        events = (log.user.tolist(), log.event.tolist(), log.ts.tolist(), list(log.event_names), list(log.user_keys))
        return info, events, project.sources(), project.event_catalog().to_dict("list")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "first.csv").write_text(FIRST)
    (tmp_path / "second.csv").write_text(SECOND)
    path = tmp_path / "client.journey"
    import_file(path, tmp_path / "first.csv")
    return path


def test_undo_restores_exactly_what_the_project_answered_before(project, tmp_path):
    before = answers(project)
    prepare_undo(project)
    import_file(project, tmp_path / "second.csv")
    assert seal_undo(project, tmp_path / "second.csv")
    assert answers(project)[0]["events"] == 6
    with Project.open(project) as opened:          # the window saving its filters is not a change
        opened.set_setting("window_state", {"tab": "flows"})
    assert undoable_import(project) == "second.csv"
    assert undo_import(project) == "second.csv"
    after = answers(project)
    assert after[0] == before[0] and after[2] == before[2] and after[3] == before[3]
    for got, expected in zip(after[1], before[1]):
        assert np.array_equal(np.asarray(got), np.asarray(expected))
    assert not snapshot_path(project).exists() and undoable_import(project) is None
    with pytest.raises(JourneyError, match="no import to undo"):
        undo_import(project)


def test_undo_refuses_once_the_project_changed_since(project, tmp_path):
    prepare_undo(project)
    import_file(project, tmp_path / "second.csv")
    seal_undo(project, "second.csv")
    with Project.open(project) as opened:
        opened.rename_event("open", "App Open")
    assert undoable_import(project) is None
    with pytest.raises(JourneyError, match="changed since"):
        undo_import(project)
    assert answers(project)[0]["events"] == 6          # left as it was
    discard_undo(project)
    assert not snapshot_path(project).exists()


def test_an_import_that_changed_nothing_leaves_nothing_to_undo(project, tmp_path):
    prepare_undo(project)            # then the import is cancelled or fails: the project is as it was
    assert not seal_undo(project, "first.csv")
    assert not snapshot_path(project).exists()


def test_cli_import_then_undo_import(project, tmp_path, capsys):
    before = answers(project)
    assert main(["import", str(project), str(tmp_path / "second.csv")]) == 0
    assert main(["undo-import", str(project)]) == 0
    assert "Undid the import of second.csv" in capsys.readouterr().out
    assert answers(project)[0] == before[0]
    assert main(["undo-import", str(project)]) != 0
    assert "no import to undo" in capsys.readouterr().err
