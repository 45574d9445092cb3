"""A project that cannot be opened (missing, a folder, damaged) brings the start page back with the
message and leaves the recent list; the window used to sit on "Opening …" for ever."""
from __future__ import annotations

import pytest

from journey_explorer.ui.main_window import MainWindow


@pytest.mark.parametrize("kind", ["missing", "folder", "damaged"])
def test_a_project_that_cannot_be_opened_returns_to_the_start_page(qtbot, tmp_path, kind):
    path = tmp_path / "client.journey"
    if kind == "folder":
        path.mkdir()
    elif kind == "damaged":
        path.write_bytes(b"this is not a project" * 100)
    window = MainWindow(path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.start_page, timeout=30_000)
    assert window.start_page.problem.isVisible() and str(path.name) in window.start_page.problem.text()
    assert window.project_path is None
    assert str(path.resolve()) not in window.settings.recent_projects
