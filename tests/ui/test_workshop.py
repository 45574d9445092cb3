"""The workshop flow: a dropped file becomes its own project (never the demo's), state stays with its
project, failed views show their message instead of a stale chart, presentation mode at projector sizes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt, QUrl
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QComboBox, QDialog, QLineEdit, QTabBar

from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from journey_explorer.ui.import_wizard import ImportTargetDialog, unique_project_path
from journey_explorer.ui.main_window import STATE_SETTING, CatalogEdit, MainWindow

EVENTS = ("user,event,time\n"
          "u1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\n"
          "u2,open,2024-01-02T10:00:00Z\nu2,browse,2024-01-02T10:05:00Z\n"
          "u3,open,2024-01-03T10:00:00Z\nu3,buy,2024-01-03T10:30:00Z\n")


def events_file(folder: Path, name: str = "client-events.csv") -> Path:
    path = folder / name
    path.write_text(EVENTS)
    return path


def small_project(folder: Path, name: str) -> Path:
    """A project with the 3 users of EVENTS (not a demo)."""
    path = folder / f"{name}.journey"
    import_file(path, events_file(folder, f"{name}.csv"))
    return path


def source_count(path: Path) -> int:
    with Project.open(path) as project:
        return len(project.sources())


def settled(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.explorer.log is not None and not window.loader.busy, timeout=30_000)


def drawn(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.runner.busy and view.result is not None
                    and (view.drawn_result is view.result or view.banner.isVisible()), timeout=30_000)


class FakeDrop:
    """What dropEvent reads from a QDropEvent: the dropped files' URLs."""

    def __init__(self, path: Path):
        self.path = path

    def mimeData(self):  # noqa: N802 - Qt API
        urls = [QUrl.fromLocalFile(str(self.path))]
        return type("Mime", (), {"urls": lambda _self: urls, "hasUrls": lambda _self: True})()


def test_unique_project_path_never_overwrites(tmp_path):
    assert unique_project_path(tmp_path, "client") == tmp_path / "client.journey"
    (tmp_path / "client.journey").write_text("")
    (tmp_path / "client 2.journey").write_text("")
    assert unique_project_path(tmp_path, "client") == tmp_path / "client 3.journey"


def test_drop_on_the_demo_makes_a_new_project_and_leaves_the_demo_alone(open_window, demo_project_path, qtbot,
                                                                         tmp_path, monkeypatch):
    window = open_window(demo_project_path)
    dialog = window.import_target_dialog(str(events_file(tmp_path)))
    qtbot.addWidget(dialog)
    assert dialog.new_choice.isChecked() and dialog.name.text() == "client-events"
    assert not dialog.add_choice.isEnabled() and "demo" in dialog.add_choice.text()
    monkeypatch.setattr(ImportTargetDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    sources_before = source_count(demo_project_path)
    window.dropEvent(FakeDrop(events_file(tmp_path)))
    wizard = window._wizard
    target = window.projects_folder() / "client-events.journey"
    assert wizard.project_path == target and "client-events" in wizard.windowTitle()
    with qtbot.waitSignal(wizard.imported, timeout=30_000):
        wizard.next()
    wizard.close()
    qtbot.waitUntil(lambda: window.explorer.log is not None and window.explorer.log.n_users == 3, timeout=30_000)
    settled(qtbot, window)
    assert window.project_path == target
    assert source_count(target) == 1
    assert source_count(demo_project_path) == sources_before        # the demo kept only its own events
    assert window.windowTitle().startswith("client-events")


def test_a_cancelled_import_leaves_no_empty_project(open_window, demo_project_path, qtbot, tmp_path):
    window = open_window(demo_project_path)
    target = tmp_path / "new" / "client.journey"
    window.import_into(target, True, str(events_file(tmp_path)))
    assert target.exists() and window.project_path == demo_project_path
    window._wizard.reject()
    assert not target.exists() and window.project_path == demo_project_path


def test_a_file_can_be_added_to_the_open_project_by_name(open_window, qtbot, tmp_path):
    project = small_project(tmp_path, "acme")
    window = open_window(project)
    dialog = window.import_target_dialog(str(events_file(tmp_path, "more.csv")))
    qtbot.addWidget(dialog)
    assert dialog.add_choice.isEnabled() and dialog.add_choice.text() == "Add to acme"
    assert dialog.target() == (tmp_path / "more.journey", True)    # new project beside the recent one
    dialog.add_choice.setChecked(True)
    assert dialog.target() == (project, False)


def test_a_touched_demo_is_rebuilt_from_code(tmp_path, demo_project_path):
    from journey_explorer.demo_project import ensure_demo_project, is_demo_project
    # The session's demo copied in (a first run writing it when missing: the first-run test below).
    shutil.copy(demo_project_path, tmp_path / "demo.journey")
    untouched = (tmp_path / "demo.journey").read_bytes()
    demo = ensure_demo_project(tmp_path / "demo.journey")
    assert demo.read_bytes() == untouched                      # an untouched demo is kept as it is
    assert is_demo_project(demo) and source_count(demo) == 1
    import_file(demo, events_file(tmp_path))          # as an older version did with a dropped client file
    assert source_count(demo) == 2
    ensure_demo_project(demo)
    assert source_count(demo) == 1
    assert not is_demo_project(small_project(tmp_path, "client"))


def test_start_page_lists_recent_projects_and_opens_the_demo(qtbot, tmp_path, demo_project_path, monkeypatch):
    project = small_project(tmp_path, "acme")
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.settings.remember_project(str(project))
    window.settings.remember_project(str(tmp_path / "deleted.journey"))    # gone: not listed
    window.show_start_page()
    window.show()
    assert window.pages.currentWidget() is window.start_page and window.dock.isHidden()
    assert window.start_page.recent.count() == 1 and window.start_page.recent.item(0).text().startswith("acme")
    monkeypatch.setattr("journey_explorer.demo_project.ensure_demo_project", lambda: demo_project_path)
    window.start_page.demo_button.click()
    settled(qtbot, window)
    assert window.project_path == demo_project_path and window.pages.currentWidget() is window.work_page
    assert window.dock.isVisible()
    window.close()


def test_filters_and_tab_stay_with_their_project(open_window, qtbot, tmp_path):
    acme, globex = small_project(tmp_path, "acme"), small_project(tmp_path, "globex")
    window = open_window(acme)
    window.segment.setText("did buy")
    window.by.setCurrentText("per session")
    window.filters_changed()
    funnel = window.show_view("funnel")
    drawn(qtbot, funnel)
    assert funnel.chart.isVisible()
    window.undo.push(CatalogEdit(window, "browse", "hide", False, True))      # an edit of acme's catalog
    settled(qtbot, window)
    assert window.undo.count() == 1
    window.open_project(globex)
    # Before the new project shows: nothing of acme's is left on screen.
    assert all(view.result is None and view.model.rowCount() == 0 and view.chart.isHidden()
               for view in window.views)
    assert window.segment.text() == "" and window.sources.count() == 0 and window.banner.isHidden()
    assert window.pages.currentWidget() is window.loading_page and window.dock.isHidden()
    assert window.undo.count() == 0 and window.hygiene.merges.count() == 0 and window.catalog_model.rowCount() == 0
    settled(qtbot, window)
    assert window.segment.text() == "" and window.by.currentText() == "per user"
    assert window.current_view().key == "overview"
    window.open_project(acme)
    settled(qtbot, window)
    assert window.segment.text() == "did buy" and window.by.currentText() == "per session"
    assert window.current_view().key == "funnel"
    assert window.explorer.filters.segment == ("did buy",) and window.explorer.filters.by == "session"
    with Project.open(acme) as project:
        assert project.get_setting(STATE_SETTING)["tab"] == "funnel"


def test_the_demo_keeps_no_window_state(open_window, demo_project_path, qtbot):
    window = open_window(demo_project_path)
    window.show_view("funnel")
    window.save_project_state()
    with Project.open(demo_project_path) as project:
        assert project.get_setting(STATE_SETTING) is None


def test_a_failed_view_shows_its_message_instead_of_a_stale_chart(open_window, qtbot, tmp_path, monkeypatch):
    window = open_window(small_project(tmp_path, "acme"))
    overview = window.show_view("overview")
    drawn(qtbot, overview)
    assert overview.chart.isVisible()
    window.show_error("Pinned nothing: an old message")
    with qtbot.waitSignal(overview.runner.failed, timeout=30_000):
        window.segment.setText("nosuchproperty=1")
        window.filters_changed()
    assert overview.banner.isVisible() and overview.chart.isHidden() and overview.model.rowCount() == 0
    with qtbot.waitSignal(overview.drawn, timeout=30_000):
        window.segment.setText("did buy")
        window.filters_changed()
    assert overview.chart.isVisible() and not overview.banner.isVisible()
    assert window.banner.isHidden()          # the next successful action cleared the old error
    exported = tmp_path / "overview.png"
    monkeypatch.setattr("journey_explorer.ui.main_window.QFileDialog.getSaveFileName",
                        lambda *args: (str(exported), "PNG image (*.png)"))
    window.export_view()                      # the chart on screen exports, whatever failed before it
    assert exported.stat().st_size > 0 and not window.banner.is_error


def test_information_banners_go_away_by_themselves(open_window, qtbot, tmp_path):
    window = open_window(small_project(tmp_path, "acme"))
    window.info_timer.setInterval(50)
    window.show_info("Pinned 'Funnel' to the board")
    assert window.banner.isVisible()
    qtbot.waitUntil(window.banner.isHidden, timeout=2000)


def test_normal_window_fits_a_1000_px_screen(open_window, demo_project_path):
    window = open_window(demo_project_path, size=(1280, 720))
    assert window.minimumSizeHint().width() <= 1000


def cut_off(window: MainWindow) -> list[str]:
    """Controls on screen that are outside the window or narrower than they need to be."""
    problems, frame = [], window.rect()
    controls = [w for kind in (QAbstractButton, QComboBox, QLineEdit) for w in window.findChildren(kind)]
    for widget in controls:
        scrolled = any(isinstance(p, (QAbstractScrollArea, QTabBar)) for p in ancestors(widget))
        if not widget.isVisible() or scrolled:      # a table or tab bar scrolls what does not fit
            continue
        rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        if not frame.contains(rect) or widget.width() < widget.minimumSizeHint().width():
            problems.append(f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r} at {rect}")
    return problems


def ancestors(widget):
    parent = widget.parentWidget()
    while parent is not None:
        yield parent
        parent = parent.parentWidget()


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)])
def test_presentation_mode_at_projector_sizes(open_window, demo_project_path, qtbot, size, monkeypatch):
    window = open_window(demo_project_path, size=size)
    # The offscreen "screen" is 800 px: full screen there is not a projector's size, so stay at ``size``.
    monkeypatch.setattr(window, "showFullScreen", lambda: None)
    window.toggle_presentation(True)
    assert window.menuBar().isHidden() and window.dock.isHidden() and window.filter_bar.isHidden()
    assert window.banner.isHidden() and window.filter_summary.isVisible()
    assert window.filter_summary.text().startswith("demo · all users, all time · goal: ")
    assert window.minimumSizeHint().width() <= size[0]
    for view in window.views:
        window.show_view(view.key)
        drawn(qtbot, view)
        qtbot.wait(20)
        assert view.table.isHidden() and not view.banner.isVisible(), view.title
        assert (window.width(), window.height()) == size
        assert cut_off(window) == [], view.title
    window.show_view("overview")
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.current_view().key == window.views[1].key
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert window.current_view().key == "overview"
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.menuBar().isVisible() and window.filter_bar.isVisible() and window.filter_summary.isHidden()
    assert window.dock.isVisible() and window.views[0].table.isVisible()


def test_f11_is_true_full_screen_and_esc_restores_the_window(open_window, demo_project_path, qtbot):
    window = open_window(demo_project_path, size=(1000, 700))
    window.show_view("overview")
    qtbot.keyClick(window, Qt.Key.Key_PageDown)         # outside presentation the keys belong to the controls
    assert window.current_view().key == "overview"
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.isFullScreen() and window.menuBar().isHidden()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.current_view().key == window.views[1].key
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isFullScreen() and window.menuBar().isVisible()
    assert window.width() <= 1000          # never wider than before (nor than the screen)


def test_closing_a_project_returns_to_the_start_page_with_it_listed(open_window, qtbot, tmp_path):
    project = small_project(tmp_path, "acme")
    window = open_window(project)
    window.show_view("funnel")
    window.close_project()
    assert window.project_path is None and window.pages.currentWidget() is window.start_page
    assert window.explorer.log is None and window.dock.isHidden()
    assert window.start_page.recent.item(0).text().startswith("acme")
    with Project.open(project) as opened:
        assert opened.get_setting(STATE_SETTING)["tab"] == "funnel"


def test_flow_layout_wraps_instead_of_widening(qtbot):
    from PySide6.QtWidgets import QPushButton, QWidget

    from journey_explorer.ui.flow_layout import FlowLayout
    box = QWidget()
    qtbot.addWidget(box)
    flow = FlowLayout(box)
    buttons = [QPushButton(f"Option number {i}") for i in range(4)]
    for button in buttons:
        flow.addWidget(button)
    flow.addStretch(1)                     # accepted, as a QHBoxLayout's caller would call it
    widest = max(b.sizeHint().width() for b in buttons)
    assert flow.minimumSize().width() == widest
    one_line = sum(b.sizeHint().width() for b in buttons) + 3 * flow.spacing()
    assert flow.heightForWidth(one_line) == buttons[0].sizeHint().height()
    assert flow.heightForWidth(widest) == 4 * buttons[0].sizeHint().height() + 3 * flow.spacing()
    box.resize(widest, 400)
    box.show()
    qtbot.waitUntil(lambda: buttons[1].y() > buttons[0].y())
    assert {b.x() for b in buttons} == {0}


def _app_window(qtbot, monkeypatch, argv) -> MainWindow:
    from PySide6.QtWidgets import QApplication

    from journey_explorer import app
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    before = set(QApplication.topLevelWidgets())
    assert app.main(argv) == 0
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w not in before)
    qtbot.addWidget(window)
    return window


def test_a_first_run_opens_the_demo_no_larger_than_the_screen(qtbot, monkeypatch):
    # Nothing opened before (the README's first command on a fresh machine): the demo, at once.
    window = _app_window(qtbot, monkeypatch, [])
    qtbot.waitUntil(lambda: window.project_path is not None and window.project_path.name == "demo.journey",
                    timeout=30_000)
    screen = window.screen().availableGeometry()
    assert window.width() <= screen.width() and window.height() <= screen.height()
    window.close()


def test_later_runs_open_on_the_start_page(qtbot, monkeypatch, tmp_path):
    from journey_explorer.ui.settings import load_settings, save_settings
    settings = load_settings()
    settings.remember_project(str(tmp_path / "client.journey"))
    save_settings(settings)
    window = _app_window(qtbot, monkeypatch, [])
    assert window.pages.currentWidget() is window.start_page
    window.close()


def test_an_opened_project_is_remembered_at_once_not_only_at_a_clean_exit(open_window, tmp_path):
    """The app killed (or crashed) after opening a client's project still lists it next time."""
    from journey_explorer.ui.settings import load_settings
    project = small_project(tmp_path, "acme")
    open_window(project)
    assert load_settings().recent_projects[0] == str(project)       # read back before any close
