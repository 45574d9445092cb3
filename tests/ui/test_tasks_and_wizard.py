"""The task bridge (result, error, cancel-on-restart) and an import through the wizard."""
from __future__ import annotations

import json
import threading

from PySide6.QtCore import Qt

from journey_explorer.domain import JourneyError
from journey_explorer.store.project import Project
from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.import_wizard import ImportWizard
from journey_explorer.ui.settings import Settings, load_settings, save_settings, settings_path


def test_task_result_error_and_cancel(qtbot):
    runner = TaskRunner()
    with qtbot.waitSignal(runner.finished, timeout=5000) as done:
        runner.start(lambda x, progress: x * 2, 21)
    assert done.args == [42]
    with qtbot.waitSignal(runner.failed, timeout=5000) as failed:
        runner.start(lambda progress: (_ for _ in ()).throw(JourneyError("bad input here")))
    assert failed.args == ["bad input here"]
    release = threading.Event()
    results = []
    runner.finished.connect(results.append)

    def slow(progress):
        release.wait(5)
        progress(0.5)          # raises Cancelled: a newer task was started
        return "old"

    runner.start(slow)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(lambda progress: "new")
    release.set()
    assert runner.wait(5000)
    qtbot.wait(50)
    assert results == ["new"]


def test_settings_round_trip_and_migration():
    settings = Settings(theme="dark")
    settings.remember_project("/tmp/a.journey")
    save_settings(settings)
    assert load_settings().recent_projects[0].endswith("a.journey")
    settings_path().write_text(json.dumps({"version": 1, "dark_mode": True}))
    migrated = load_settings()
    assert migrated.theme == "dark" and migrated.version == 2


def wizard_for(qtbot, tmp_path, source) -> ImportWizard:
    """The import wizard on ``source`` for a new, empty project (tmp_path / "p.journey")."""
    project = tmp_path / "p.journey"
    Project.create(project).close()
    wizard = ImportWizard(project, str(source))
    qtbot.addWidget(wizard)
    return wizard


def test_wizard_imports_a_csv(qtbot, tmp_path):
    source = tmp_path / "events.csv"
    source.write_text("customer,action,when,email\nc1,open,2024-01-01T10:00:00Z,a@x.io\n"
                      "c1,buy,2024-01-01T11:00:00Z,a@x.io\nc2,open,2024-01-02T10:00:00Z,b@x.io\n"
                      "c2,oops,not a time,b@x.io\n")
    wizard = wizard_for(qtbot, tmp_path, source)
    page = wizard.source_page
    assert page.isComplete()
    assert page.roles["user"].currentText() == "customer" and page.roles["time"].currentText() == "when"
    assert "email" in page.personal.text()
    page.drop.setText("email")
    wizard.show()
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        wizard.next()
        # Before the first rows are counted the page says what it is doing, not an empty line at 0%.
        assert wizard.progress_page.rate.text() == "Reading the file…"
    summary = wizard.progress_page.summary
    assert (summary.imported, summary.rejected) == (3, 1)
    assert wizard.summary_page.rejected_model.rowCount() == 1
    assert wizard.summary_page.rejected_title.text() == "Rejected rows (1)"
    assert wizard.summary_page.rejected.isVisible()
    with Project.open(tmp_path / "p.journey") as p:
        assert p.info().events == 3
    wizard.close()


def test_wizard_says_no_row_was_rejected_instead_of_an_empty_table(qtbot, tmp_path):
    source = tmp_path / "clean.csv"
    source.write_text("user,event,time\nu1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\n")
    wizard = ImportWizard(tmp_path / "clean.journey", str(source))
    qtbot.addWidget(wizard)
    wizard.show()
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        wizard.next()
    page = wizard.summary_page
    assert page.rejected_title.text() == "No rows were rejected." and not page.rejected.isVisible()
    wizard.close()


def test_wizard_asks_before_importing_a_mapping_guessed_from_values(qtbot, tmp_path):
    rows = "\n".join(f"id{i},{['google', 'mail', 'ads'][i % 3]},{i % 4},2024-01-{1 + i % 28:02d} 10:00,"
                     f"{['Pune', 'Delhi', 'Goa', 'Agra', 'Surat'][i % 5]}" for i in range(30))
    source = tmp_path / "profiles.csv"
    source.write_text("Identity,utm_source,Total Sessions,Profile Created,City\n" + rows + "\n")
    wizard = wizard_for(qtbot, tmp_path, source)
    page = wizard.source_page
    assert not page.confirm.isHidden() and not page.isComplete()
    assert "guessed from the values alone" in page.banner.text()
    page.confirm.setChecked(True)
    assert page.isComplete()
    options = page.options()
    assert (options.time, options.user) == ("Profile Created", page.roles["user"].currentText())
    wizard.close()


def test_wizard_offers_object_types_and_lifecycle_modes(qtbot, tmp_path):
    ocel = {"objectTypes": [{"name": "order"}, {"name": "item"}], "eventTypes": [{"name": "place"}],
            "objects": [{"id": "o1", "type": "order"}, {"id": "i1", "type": "item"}, {"id": "i2", "type": "item"}],
            "events": [{"id": "e1", "type": "place", "time": "2024-01-05T10:00:00Z",
                        "relationships": [{"objectId": "o1"}, {"objectId": "i1"}, {"objectId": "i2"}]}]}
    source = tmp_path / "log.jsonocel"
    source.write_text(json.dumps(ocel))
    wizard = wizard_for(qtbot, tmp_path, source)
    page = wizard.source_page
    # a JSON file is read on a worker: "Reading the file…" until its rows are in
    assert page.reader is None and page.banner.text() == "Reading the file…" and not page.isComplete()
    qtbot.waitUntil(lambda: page.reader is not None, timeout=10_000)
    assert page.object_type.isEnabled() and page.object_type.currentData() == "item"
    assert page.isComplete() and len(page.reader.preview(10)) == 2 and page.banner.isHidden()
    page.object_type.setCurrentIndex(page.object_type.findData("order"))
    qtbot.waitUntil(lambda: page.reader is not None and len(page.reader.preview(10)) == 1, timeout=10_000)
    assert page.options().object_type == "order"
    assert not page.lifecycle.isEnabled()
    wizard.close()


def test_wizard_lifecycle_choice_changes_the_rows(qtbot, tmp_path):
    source = tmp_path / "log.csv"
    source.write_text("case:concept:name,concept:name,lifecycle:transition,time:timestamp\n"
                      "c1,A,start,2024-01-05T10:00:00Z\nc1,A,complete,2024-01-05T10:01:00Z\n"
                      "c1,B,complete,2024-01-05T10:02:00Z\n")
    wizard = wizard_for(qtbot, tmp_path, source)
    page = wizard.source_page
    assert page.lifecycle.isEnabled() and len(page.reader.preview(10)) == 2       # completed rows only
    page.lifecycle.setCurrentIndex(page.lifecycle.findData("split"))
    assert list(page.reader.preview(10)["concept:name"]) == ["A (start)", "A (complete)", "B (complete)"]
    assert page.options().lifecycle == "split"
    wizard.close()


def test_the_worker_treats_a_cancel_from_inside_an_analysis_as_silent(qtbot):
    from journey_explorer.progress import Cancelled
    runner = TaskRunner()
    outcomes = []
    runner.finished.connect(lambda result: outcomes.append(("done", result)))
    runner.failed.connect(lambda message: outcomes.append(("failed", message)))

    def stale(progress):
        raise Cancelled()      # what an analysis raises when its reporter says nobody waits
    runner.start(stale)
    assert runner.wait(10_000)
    qtbot.wait(50)
    assert outcomes == []


def test_wizard_preview_shows_the_files_column_names_as_written(qtbot, tmp_path):
    # The names are what the user types into "Leave out columns" and the segment box: utm_source, not "utm source".
    source = tmp_path / "events.csv"
    source.write_text("user_id,event_name,event_time,utm_source\nu1,open,2024-01-01T10:00:00Z,ads\n")
    wizard = wizard_for(qtbot, tmp_path, source)
    model = wizard.source_page.preview_model
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert "utm_source" in headers and "utm source" not in headers


def test_a_task_started_after_gui_work_starts_once_that_work_is_done(qtbot):
    """``start_after``: the GUI-thread work first, on a later turn (beside a computing worker it ran
    2-4x slower), the task after it; busy from the call; dropped when cancelled in between."""
    runner = TaskRunner()
    order = []
    with qtbot.waitSignal(runner.finished, timeout=5000) as done:
        runner.start_after(lambda: order.append("first"), lambda progress: order.append("task") or 42)
        assert runner.busy and order == []
    assert done.args == [42] and order == ["first", "task"]
    runner.start_after(lambda: order.append("first again"), lambda progress: order.append("dropped"))
    runner.cancel()
    assert runner.wait(1000)                     # nothing started: nothing to wait for
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    qtbot.wait(50)
    assert order == ["first", "task", "first again"]


def test_with_a_task_runner_the_gui_thread_waits_at_most_a_millisecond_for_the_gil(qtbot):
    """CPython hands the GIL to a waiting thread after 5 ms; the GUI thread takes it back for every call
    from Qt into Python, and beside a computing worker its work ran 2-4x slower."""
    import sys
    TaskRunner()
    assert sys.getswitchinterval() <= 0.001


def test_wizard_shows_the_anonymous_id_it_stitches_and_lets_it_go(qtbot, tmp_path):
    source = tmp_path / "news.csv"
    source.write_text("timestamp,anonymous_id,user_id,event\n2025-10-01T10:00:00Z,a1,,article_view\n"
                      "2025-10-01T10:02:00Z,a1,u1,login\n2025-10-01T11:00:00Z,a2,,article_view\n")
    wizard = wizard_for(qtbot, tmp_path, source)
    page = wizard.source_page
    assert page.roles["user"].currentText() == "user_id"
    assert page.roles["anonymous"].currentText() == "anonymous_id"
    assert page.options().anonymous == "anonymous_id"
    page.roles["anonymous"].setCurrentIndex(0)          # (none): follow the user column only
    assert page.options().anonymous is None and page.options().user == "user_id"
