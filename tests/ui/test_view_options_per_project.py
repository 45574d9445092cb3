"""Each view's options are kept in its project (with the filters and tab) and shown again on reopen;
another project keeps its own."""
from __future__ import annotations

import shutil

import pytest

from journey_explorer.demo_project import DEMO_SETTING
from journey_explorer.store.project import Project
from journey_explorer.ui.main_window import STATE_SETTING, MainWindow


@pytest.fixture
def two_projects(demo_project_path, tmp_path):
    paths = []
    for name in ("acme", "globex"):
        path = tmp_path / f"{name}.journey"
        shutil.copy(demo_project_path, path)
        with Project.open(path) as project:        # a client's project, not the read-only demo
            project.set_setting(DEMO_SETTING, False)
        paths.append(path)
    return paths


def shown(qtbot, window, key):
    view = window.show_view(key)
    qtbot.waitUntil(lambda: view.result is not None and not view.runner.busy and view.drawn_result is view.result,
                    timeout=60_000)
    return view


def choose(qtbot, view, field, text):
    getattr(view, field).setCurrentText(text)
    qtbot.waitUntil(lambda: not view.runner.busy and getattr(view.result_spec, field) == text
                    and view.drawn_result is view.result, timeout=60_000)


def open_settled(qtbot, path):
    window = MainWindow(path)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitUntil(lambda: window.explorer.log is not None and not window.loader.busy, timeout=60_000)
    return window


def test_view_options_are_restored_with_their_project(qtbot, two_projects):
    acme, globex = two_projects
    window = open_settled(qtbot, acme)
    lifecycle = shown(qtbot, window, "lifecycle")
    choose(qtbot, lifecycle, "period", "month")
    assert lifecycle.result_spec.period == "month"
    retention = shown(qtbot, window, "retention")
    choose(qtbot, retention, "mode", "on-or-after")
    shown(qtbot, window, "northstar")                  # looked at, not changed: not kept
    window.open_project(globex)                        # leaving acme keeps its state in acme
    qtbot.waitUntil(lambda: window.explorer.log is not None and not window.loader.busy, timeout=60_000)
    with Project.open(acme) as project:
        saved = project.get_setting(STATE_SETTING)["views"]
    assert saved["lifecycle"]["period"] == "month" and saved["retention"]["mode"] == "on-or-after"
    assert "northstar" not in saved
    # globex was never changed: its views show their own choices, not acme's
    assert window.view("lifecycle").period.currentText() == "week"
    assert shown(qtbot, window, "lifecycle").result_spec.period == "week"
    window.close()

    reopened = open_settled(qtbot, acme)
    assert reopened.current_view().key == "northstar"            # the tab, as before
    assert reopened.view("lifecycle").period.currentText() == "month"
    assert shown(qtbot, reopened, "lifecycle").result_spec.period == "month"
    assert shown(qtbot, reopened, "retention").result_spec.mode == "on-or-after"
    reopened.close()


def test_saved_options_wait_for_their_tab_and_are_kept_meanwhile(qtbot, two_projects):
    """Opening a project builds no view for its saved options (that built every such tab on open:
    ~1 s of the window at 10M events); the options show when the tab is first opened, and a project
    closed before that keeps them."""
    acme, _ = two_projects
    window = open_settled(qtbot, acme)
    choose(qtbot, shown(qtbot, window, "lifecycle"), "period", "month")
    window.show_view("overview")
    window.close()

    reopened = open_settled(qtbot, acme)
    assert "lifecycle" not in {view.key for view in reopened.view_by_key.built()}
    assert reopened.pending_view_options["lifecycle"]["period"] == "month"
    assert reopened.view_options()["lifecycle"]["period"] == "month"        # kept if closed now
    assert shown(qtbot, reopened, "lifecycle").result_spec.period == "month"
    assert "lifecycle" not in reopened.pending_view_options
    reopened.close()


def test_only_the_saved_tab_computes_on_open(qtbot, two_projects):
    """A project kept on another tab opens on it without the overview computing and drawing first
    (at 10M events that was a second view's analysis, canvas and chart during the open)."""
    acme, _ = two_projects
    window = open_settled(qtbot, acme)
    choose(qtbot, shown(qtbot, window, "lifecycle"), "period", "month")
    window.close()

    reopened = MainWindow(acme)
    qtbot.addWidget(reopened)
    reopened.resize(1400, 900)
    started = []
    reopened.view("overview").runner.started.connect(lambda: started.append("overview"))
    reopened.show()
    qtbot.waitUntil(lambda: reopened.explorer.log is not None and not reopened.loader.busy, timeout=60_000)
    lifecycle = reopened.current_view()
    assert lifecycle.key == "lifecycle"
    qtbot.waitUntil(lambda: lifecycle.drawn_result is not None and not lifecycle.runner.busy, timeout=60_000)
    assert lifecycle.result_spec.period == "month"
    assert started == [] and reopened.view("overview").result is None
    assert shown(qtbot, reopened, "overview").result is not None      # computed once shown
    reopened.close()
