"""Data shown as text is shown literally: an event, file or property value that looks like HTML is
never rendered (a QLabel guesses rich text, and ``<img src=file:...>`` would load a local file)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QWidget

from journey_explorer.store.importer import import_file

HOSTILE = "<b>x</b><img src=file:///etc/passwd>"


@pytest.fixture
def hostile_project(tmp_path) -> Path:
    rows = ["user,event,time"]
    for i in range(12):
        rows += [f"u{i},open,2024-01-0{1 + i % 7}T10:00:00Z",
                 f'u{i},"{HOSTILE}",2024-01-0{1 + i % 7}T10:05:00Z',
                 f"u{i},buy,2024-01-0{1 + i % 7}T10:30:00Z"]
    source = tmp_path / "<i>events<br>.csv"
    source.write_text("\n".join(rows) + "\n")
    path = tmp_path / "<u>client<br>.journey"
    import_file(path, source)
    return path


def rich_labels(root: QWidget) -> list[str]:
    """Labels that would render markup found in their text."""
    return [label.text() for label in root.findChildren(QLabel)
            if "<" in label.text() and label.textFormat() != Qt.TextFormat.PlainText]


def raw_tooltips(root: QWidget) -> list[str]:
    return [w.toolTip() for w in root.findChildren(QWidget) if "<img" in w.toolTip() or "<b>" in w.toolTip()]


def test_an_event_named_like_html_shows_literally_in_the_flows_exclusions(open_window, hostile_project, qtbot):
    window = open_window(hostile_project)
    assert HOSTILE in window.explorer.log.event_names
    flows = window.show_view("flows")
    qtbot.waitUntil(lambda: not flows.runner.busy, timeout=30_000)
    flows.exclude((HOSTILE,))
    assert flows.exclusions.text() == f"Excluded: {HOSTILE}"
    assert flows.exclusions.textFormat() == Qt.TextFormat.PlainText
    qtbot.waitUntil(lambda: not flows.runner.busy, timeout=30_000)
    window.show_error(f"Could not draw {HOSTILE}")
    for view in window.views:
        window.show_view(view.key)
        qtbot.waitUntil(lambda v=view: not v.runner.busy, timeout=30_000)
    qtbot.wait(50)
    assert "<u>client<br>" in window.project_label.text()
    assert rich_labels(window) == []
    assert raw_tooltips(window) == []
    assert rendered_markup(window) == []
    flows.sankey._tooltip(f"{HOSTILE}\n12 users")
    assert "<img" not in flows.sankey.toolTip() and "&lt;img" in flows.sankey.toolTip()


def rendered_markup(root: QWidget) -> list[str]:
    """pyqtgraph's HTML text (legends, titles, axis titles) whose document holds a tag from data."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsTextItem
    found = []
    for plot in root.findChildren(pg.PlotWidget):
        for item in plot.scene().items():
            if isinstance(item, QGraphicsTextItem) and ("<img" in item.toHtml() or "<b>x" in item.toHtml()):
                found.append(item.toPlainText())
    return found


def test_every_label_naming_data_is_plain_text(open_window, hostile_project, qtbot):
    window = open_window(hostile_project)
    window.hygiene.check(hostile_project, window.explorer.log)
    qtbot.waitUntil(lambda: not window.hygiene.runner.busy, timeout=30_000)
    window.toggle_presentation(True)
    try:
        assert HOSTILE not in window.filter_summary.text() or \
            window.filter_summary.textFormat() == Qt.TextFormat.PlainText
        assert rich_labels(window) == []
        for index in range(window.hygiene.merges.count()):
            assert "<img" not in window.hygiene.merges.item(index).toolTip()
    finally:
        window.toggle_presentation(False)


def test_the_rename_dialog_shows_the_event_name_literally(qtbot):
    from journey_explorer.ui.widgets import ask_text
    seen = []

    def answer():
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog) and w.isVisible())
        seen.extend((label.text(), label.textFormat()) for label in dialog.findChildren(QLabel))
        dialog.setTextValue("renamed")
        dialog.accept()
    QTimer.singleShot(0, answer)
    value, ok = ask_text(None, "Rename or merge", f"Show '{HOSTILE}' as:", text=HOSTILE)
    assert ok and value == "renamed"
    assert (f"Show '{HOSTILE}' as:", Qt.TextFormat.PlainText) in seen


def test_a_message_box_shows_a_file_name_literally(qtbot):
    from PySide6.QtWidgets import QMessageBox

    from journey_explorer.ui.widgets import message_box
    seen = []

    def answer():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        seen.append((box.text(), box.textFormat()))
        box.accept()
    QTimer.singleShot(0, answer)
    message_box(None, QMessageBox.Icon.Warning, "New project", f"Cannot write {HOSTILE}.journey")
    assert seen == [(f"Cannot write {HOSTILE}.journey", Qt.TextFormat.PlainText)]
