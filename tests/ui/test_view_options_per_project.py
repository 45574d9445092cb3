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
