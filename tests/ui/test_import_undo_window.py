"""Undo import of <file>: in the import summary and the Edit menu; refused once the project changed."""
from __future__ import annotations

from journey_explorer.store.import_undo import snapshot_path
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

FIRST = "user,event,time\nu1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\nu2,open,2024-01-02T10:00:00Z\n"
SECOND = "user,event,time\nu3,open,2024-02-01T10:00:00Z\nu3,refund,2024-02-01T10:30:00Z\n"


def counts(path):
    with Project.open(path) as project:
        info = project.info()
        return info.users, info.events, info.event_types, len(info.sources)


def add_second_file(qtbot, window, tmp_path):
    (tmp_path / "second.csv").write_text(SECOND)
    window.run_import_wizard(window.project_path, str(tmp_path / "second.csv"))
    wizard = window._wizard
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        wizard.next()
    qtbot.waitUntil(lambda: window.explorer.log is not None and window.explorer.log.n_users == 3, timeout=30_000)
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)
    return wizard


def project_with_one_file(tmp_path):
    (tmp_path / "first.csv").write_text(FIRST)
    path = tmp_path / "client.journey"
    import_file(path, tmp_path / "first.csv")
    return path


def test_undo_from_the_import_summary(open_window, qtbot, tmp_path):
    path = project_with_one_file(tmp_path)
    before = counts(path)
    window = open_window(path)
    wizard = add_second_file(qtbot, window, tmp_path)
    assert counts(path) == (3, 5, 3, 2)
    assert wizard.undo_button.text() == "Undo import of second.csv"
    window.update_undo_import()
    assert window.undo_import_action.isEnabled() and window.undo_import_action.text() == "Undo import of second.csv"
    wizard.undo_button.click()
    qtbot.waitUntil(lambda: window.explorer.log is not None and window.explorer.log.n_users == 2, timeout=30_000)
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)
    assert counts(path) == before
    assert "Undid the import of second.csv" in window.banner.text()
    assert not window.undo_import_action.isEnabled() and not snapshot_path(path).exists()
    assert not wizard.isVisible()


def test_edit_menu_undo_is_refused_after_an_edit(open_window, qtbot, tmp_path):
    path = project_with_one_file(tmp_path)
    window = open_window(path)
    wizard = add_second_file(qtbot, window, tmp_path)
    wizard.close()
    with Project.open(path) as project:
        project.rename_event("open", "App Open")
    window.update_undo_import()
    assert not window.undo_import_action.isEnabled()
    assert not window.undo_last_import()
    assert "changed since" in window.banner.text() and counts(path)[1] == 5
    window.close()
    assert not snapshot_path(path).exists()          # closing the project drops the snapshot
