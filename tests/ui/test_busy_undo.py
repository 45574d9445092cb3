"""Renaming or hiding an event while another process writes to the project: a message (not an
exception escaping the undo command), and the undo stack keeps agreeing with the project file."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest

from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from journey_explorer.ui.main_window import CatalogEdit, GroupRuleEdit

EVENTS = ("user,event,time\n"
          "u1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\n"
          "u2,open,2024-01-02T10:00:00Z\nu2,browse,2024-01-02T10:05:00Z\n")


@pytest.fixture
def project(tmp_path) -> Path:
    source = tmp_path / "events.csv"
    source.write_text(EVENTS)
    path = tmp_path / "client.journey"
    import_file(path, source)
    return path


@contextmanager
def another_writer(path: Path):
    """Another process' write transaction: SQLite says "database is locked" to everyone else."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def hidden(path: Path) -> set[str]:
    with Project.open(path) as project:
        catalog = project.event_catalog()
    return set(catalog.loc[catalog["hidden"], "name"])


def settled(window, qtbot) -> None:
    qtbot.wait(20)                      # the stack's correction runs on the next turn of the event loop
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)


def busy_message(window) -> str:
    assert window.banner.is_error and not window.banner.isHidden()
    text = window.banner.text()
    assert "another process" in text and "bug" not in text, text
    return text


def test_hiding_an_event_while_the_project_is_busy_is_a_message_and_the_stack_stays_true(open_window, project, qtbot):
    window = open_window(project)
    with another_writer(project):
        window.undo.push(CatalogEdit(window, "browse", "hide", False, True))     # no exception escapes
    busy_message(window)
    assert window.undo.count() == 0 and hidden(project) == set()                 # not done, not recorded

    window.undo.push(CatalogEdit(window, "browse", "hide", False, True))
    settled(window, qtbot)
    assert window.undo.count() == 1 and window.undo.index() == 1 and hidden(project) == {"browse"}

    window.banner.hide()
    with another_writer(project):
        window.undo.undo()
    busy_message(window)                 # at once (a view drawn later clears an old error)
    settled(window, qtbot)
    assert window.undo.index() == 1 and window.undo.canUndo()                    # still done: undo can be tried again
    assert hidden(project) == {"browse"}

    window.undo.undo()
    settled(window, qtbot)
    assert window.undo.index() == 0 and hidden(project) == set()

    window.banner.hide()
    with another_writer(project):
        window.undo.redo()
    busy_message(window)                 # at once (a view drawn later clears an old error)
    settled(window, qtbot)
    assert window.undo.index() == 0 and window.undo.canRedo() and hidden(project) == set()

    window.undo.redo()
    settled(window, qtbot)
    assert window.undo.index() == 1 and hidden(project) == {"browse"}


def test_renaming_or_grouping_while_busy_records_nothing(open_window, project, qtbot):
    window = open_window(project)
    with another_writer(project):
        window.undo.push(CatalogEdit(window, "open", "rename", "open", "Opened"))
        busy_message(window)
        window.banner.hide()
        window.undo.push(GroupRuleEdit(window, "^b", "B events"))
        busy_message(window)
    assert window.undo.count() == 0
    with Project.open(project) as opened:
        assert opened.group_rules() == []
        assert set(opened.event_catalog()["display_name"]) == {"open", "buy", "browse"}


def test_an_invalid_pattern_is_a_message_and_not_recorded(open_window, project, qtbot):
    window = open_window(project)
    window.undo.push(GroupRuleEdit(window, "([", "Broken"))
    assert window.banner.is_error and "Invalid pattern" in window.banner.text()
    assert window.undo.count() == 0


def test_a_merge_while_busy_is_a_message_and_leaves_no_empty_undo_step(open_window, project, qtbot):
    from types import SimpleNamespace
    window = open_window(project)
    with another_writer(project):
        window.merge_suggestion(SimpleNamespace(names=("open", "browse"), target="open"))
    busy_message(window)                 # not replaced by "Merged ..."
    assert window.undo.count() == 0 and not window.undo.canUndo()
    window.merge_suggestion(SimpleNamespace(names=("open", "browse"), target="open"))
    settled(window, qtbot)
    assert window.undo.count() == 1 and not window.banner.is_error
    with Project.open(project) as opened:
        catalog = opened.event_catalog()
    assert catalog.set_index("name")["display_name"]["browse"] == "open"
