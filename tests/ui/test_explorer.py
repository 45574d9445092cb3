"""The explorer on the demo project: every view draws, controls change state and chart, drill-down."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF

from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.main_window import MainWindow
from journey_explorer.ui.views.flows import FlowsView


def settle(qtbot, runner: TaskRunner) -> None:
    qtbot.waitUntil(lambda: not runner.busy, timeout=30_000)
    qtbot.wait(50)


def settle_view(qtbot, view) -> None:
    """Until the view's latest result is drawn (or its error shown): 'not busy' alone can come first."""
    qtbot.waitUntil(lambda: not view.runner.busy and view.result is not None
                    and (view.drawn_result is view.result or view.banner.isVisible()), timeout=30_000)


@pytest.fixture
def window(open_window, demo_project_path):
    return open_window(demo_project_path)


def test_every_view_draws_on_the_demo(window, qtbot):
    for view in window.views:
        window.show_view(view.key)
        settle_view(qtbot, view)
        assert view.result is not None, view.title
        assert not view.banner.isVisible(), (view.title, view.banner.text())
        assert view.model.rowCount() > 0, view.title
        image = view.grab().toImage()
        assert image.width() > 500


def test_changing_a_control_changes_state_and_chart(window, qtbot):
    flows_view = window.show_view("flows")
    assert isinstance(flows_view, FlowsView)
    settle_view(qtbot, flows_view)
    before = len(flows_view.sankey.item.boxes)
    with qtbot.waitSignal(flows_view.drawn, timeout=30_000):
        flows_view.steps.setValue(3)
    qtbot.wait(50)
    assert flows_view.current_spec(window.explorer.log).steps == 3
    assert {b.step for b in flows_view.sankey.item.boxes} == {1, 2, 3}
    assert len(flows_view.sankey.item.boxes) < before


def test_filter_bar_changes_every_number(window, qtbot):
    overview = window.view("overview")
    settle_view(qtbot, overview)       # its first drawing done: a 'drawn' still to come would be the old one
    everyone = overview.result["users"]
    with qtbot.waitSignal(overview.drawn, timeout=30_000):
        window.segment.setText("channel=Partner Referral")
        window.filters_changed()
    assert 0 < overview.result["users"] < everyone


def test_unknown_segment_shows_inline_error(window, qtbot):
    overview = window.view("overview")
    with qtbot.waitSignal(overview.runner.failed, timeout=30_000):
        window.segment.setText("nosuchproperty=1")
        window.filters_changed()
    assert overview.banner.isVisible() and "No property 'nosuchproperty'" in overview.banner.text()


def test_sankey_node_click_drills_down(window, qtbot):
    flows_view = window.show_view("flows")
    settle_view(qtbot, flows_view)
    box = max(flows_view.sankey.item.boxes, key=lambda b: b.users if b.step == 2 else -1)
    with qtbot.waitSignal(flows_view.sankey.item.nodeClicked, timeout=5000) as signal:
        class Click:
            def pos(self):
                return box.rect.center()

            def screenPos(self):
                return QPointF(100, 100)

            def accept(self):
                pass
        flows_view.sankey.item.mouseClickEvent(Click())
    assert signal.args[:2] == [2, box.event]
    users = flows_view.users_of(2, box.event)
    assert len(users) == box.users
    flows_view._menu.close()
    with qtbot.waitSignal(flows_view.drawn, timeout=30_000):
        flows_view.start.setCurrentText(box.event)
    assert flows_view.current_spec(window.explorer.log).from_event == box.event
    first = [b for b in flows_view.sankey.item.boxes if b.step == 1]
    assert [b.event for b in first] == [box.event]
    assert "users" in flows_view.sankey.item.describe(first[0].rect.center())


def test_presentation_mode_hides_chrome(window, qtbot):
    window.toggle_presentation(True)
    assert not window.menuBar().isVisible() and not window.dock.isVisible()
    assert window.explorer.theme.name == "presentation"
    window.toggle_presentation(False)
    assert window.dock.isVisible()


def test_catalog_edits_are_undoable(qtbot, demo_project_path, tmp_path):
    import shutil

    from journey_explorer.ui.main_window import CatalogEdit, GroupRuleEdit
    project = tmp_path / "copy.journey"          # edits must not touch the shared demo project
    shutil.copy(demo_project_path, project)
    window = MainWindow(project)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.loader)
    names_before = set(window.explorer.log.event_names)
    window.undo.push(CatalogEdit(window, "invite_teammate", "rename", "invite_teammate", "Invite Teammates"))
    qtbot.waitUntil(lambda: "invite_teammate" not in window.explorer.log.event_names, timeout=30_000)
    window.undo.push(GroupRuleEdit(window, "^Connection ", "Connection Result"))
    qtbot.waitUntil(lambda: "Connection Result" in window.explorer.log.event_names, timeout=30_000)
    assert "Connection Failed" not in window.explorer.log.event_names
    window.undo.undo()
    window.undo.undo()
    qtbot.waitUntil(lambda: set(window.explorer.log.event_names) == names_before, timeout=30_000)
    window.close()


def test_the_user_list_of_a_node_fits_the_screen_lists_exactly_its_paths_and_copies(window, qtbot):
    from PySide6.QtWidgets import QApplication
    flows_view = window.show_view("flows")
    settle_view(qtbot, flows_view)
    box = max(flows_view.sankey.item.boxes, key=lambda b: b.users)       # the biggest node: many users
    flows_view.list_users(box.step, box.event)
    dialog = flows_view._user_list
    qtbot.addWidget(dialog)
    assert dialog.list.count() == box.users == len(set(dialog.users))     # exactly the node's paths, once each
    assert dialog.height() <= dialog.screen().availableGeometry().height()
    dialog.copy()
    assert QApplication.clipboard().text().splitlines() == dialog.users
    dialog.close()


def test_errors_in_the_window_name_controls_not_flags(window, qtbot):
    """The same typed errors the CLI words with flags read, on a banner, with the window's names."""
    from dataclasses import replace
    stuck_view = window.show_view("stuck")
    settle_view(qtbot, stuck_view)
    with qtbot.waitSignal(stuck_view.runner.failed, timeout=30_000):
        window.explorer.set_filters(replace(window.explorer.filters, goal="Subscription paid"))
    assert stuck_view.banner.text() == ("No event named 'Subscription paid' in this project; "
                                        "did you mean 'Subscription Paid' or 'Subscription Renewed'?")
    with qtbot.waitSignal(stuck_view.runner.failed, timeout=30_000):
        window.explorer.set_filters(replace(window.explorer.filters, goal=None))
    assert stuck_view.banner.text() == ("Stuck points need a goal: choose one in the Goal box, "
                                        "or set the project's default goal")
    assert "--" not in stuck_view.banner.text()


def test_a_segment_saved_from_one_users_node_says_one_user(open_window, demo_project_path, tmp_path, qtbot,
                                                            monkeypatch):
    import shutil

    from journey_explorer.ui.views import flows
    project = tmp_path / "client.journey"
    shutil.copy(demo_project_path, project)                # the segment is written to the project
    window = open_window(project)
    flows_view = window.show_view("flows")
    settle_view(qtbot, flows_view)
    monkeypatch.setattr(flows.QInputDialog, "getText", lambda *args, **kwargs: ("one", True))
    monkeypatch.setattr(flows_view, "users_of", lambda step, event: ["u1"])
    flows_view.save_segment(1, "signup")
    assert flows_view.banner.text() == "Saved 1 user as segment 'one'."
