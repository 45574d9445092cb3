"""A view first opened while presenting (tables hidden) shows its table again after Esc: the chart's
canvas, made then, must not take the table's share of the splitter for good."""
from __future__ import annotations


def test_table_comes_back_for_a_view_first_opened_while_presenting(open_window, qtbot, demo_project_path):
    window = open_window(demo_project_path, size=(1280, 720))
    window.toggle_presentation(True)
    view = window.show_view("lifecycle")            # never opened before: its canvas is made now
    qtbot.wait(200)
    window.toggle_presentation(False)
    qtbot.wait(200)
    assert view.table.isVisible()
    assert view.table.height() >= 80, view.splitter.sizes()
