"""The app opens a project window whose figures are the project's own numbers."""
from __future__ import annotations

from journey_explorer.store.importer import import_file
from journey_explorer.ui.project_window import ProjectWindow, Tile, conversion_to_goal
from journey_explorer.store.project import Project

CSV = ("user,event,time\nu1,signup,2024-01-01T10:00:00Z\nu1,pay,2024-01-02T10:00:00Z\n"
       "u2,signup,2024-01-03T10:00:00Z\n")


def test_window_shows_project_figures(qtbot, tmp_path):
    source = tmp_path / "e.csv"
    source.write_text(CSV)
    project = tmp_path / "p.journey"
    import_file(project, source)
    with Project.open(project) as p:
        p.default_goal = "pay"
        assert conversion_to_goal(p) == (1, 2)
    window = ProjectWindow(project)
    qtbot.addWidget(window)
    values = [tile.value.text() for tile in window.tiles.findChildren(Tile)]
    assert "2" in values and "3" in values and "50.0%" in values
    assert window.windowTitle().startswith("p.journey")


def test_demo_project_opens(qtbot, demo_project_path):
    window = ProjectWindow(demo_project_path)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    assert window.grab().width() == 1600
