""""Create report…" in the window makes the CLI's finding-per-slide deck for the window's goal and
filters, on a worker thread, with the board's pins if asked and an editable title."""
from __future__ import annotations

import shutil
import time

import pytest
from PySide6.QtCore import QTimer

from journey_explorer.store.board import Pin
from journey_explorer.store.project import Project


@pytest.fixture
def workshop(demo_project_path, tmp_path):
    path = tmp_path / "acme.journey"
    shutil.copy(demo_project_path, path)
    return path


def titles(path) -> list[str]:
    from pptx import Presentation
    return [slide.shapes.title.text for slide in Presentation(str(path)).slides]


def cover_text(path) -> str:
    from pptx import Presentation
    first = list(Presentation(str(path)).slides)[0]
    return "\n".join(shape.text_frame.text for shape in first.shapes if shape.has_text_frame)


def make_deck(qtbot, window, out, title=None, pins=None):
    """Run the dialog's Create; the GUI thread's timer keeps ticking meanwhile (the longest gap is returned)."""
    dialog = window.report_dialog()
    dialog.out.setText(str(out))
    if title is not None:
        dialog.title.setText(title)
    if pins is not None:
        dialog.include_pins.setChecked(pins)
    ticks = []
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        with qtbot.waitSignal(dialog.written, timeout=180_000):
            dialog.create()
    finally:
        timer.stop()
    assert dialog.open_folder_button.isVisibleTo(dialog) and str(out) in dialog.status.text()
    dialog.done(0)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return max(gaps) if gaps else 0.0


def test_gui_deck_has_the_cli_reports_findings_for_the_same_goal(qtbot, open_window, workshop, tmp_path, demo_report):
    window = open_window(workshop)
    goal = window.current_filters().goal
    assert goal == "Subscription Paid"
    gap = make_deck(qtbot, window, tmp_path / "gui.pptx", title="ACME onboarding review")
    cli_deck, cli_summary = demo_report      # `report` on the demo (the workshop's copy), made once per session
    assert cli_summary["goal"] == goal
    gui, cli = titles(tmp_path / "gui.pptx"), titles(cli_deck)
    assert gui[1:] == cli[1:] and len(gui) == 11
    cover = cover_text(tmp_path / "gui.pptx")
    assert gui[0] == "ACME onboarding review"
    assert "Project: acme" in cover and "Filters: all users, all time" in cover and f"goal: {goal}" in cover
    assert "Data: 2026-" in cover
    assert gap < 3.0, f"the window did not answer for {gap:.1f} s"


def test_gui_deck_uses_the_filters_and_adds_the_board_pins(qtbot, open_window, workshop, tmp_path):
    from journey_explorer.export.report import write_report
    with Project.open(workshop) as project:
        project.board.add(Pin(view="flows", title="Where trials go", observation="Half leave at once"))
    window = open_window(workshop)
    window.segment.setText("industry=Finance")
    window.filters_changed()
    filters = window.current_filters()
    assert filters.segment == ("industry=Finance",)
    make_deck(qtbot, window, tmp_path / "segment.pptx", pins=True)
    expected = write_report(workshop, tmp_path / "segment-cli.pptx", filters.goal, filters=filters)
    gui = titles(tmp_path / "segment.pptx")
    assert gui[1:-1] == [slide["title"] for slide in expected.slides]
    assert gui[-1] == "Where trials go"
    assert "industry=Finance" in cover_text(tmp_path / "segment.pptx")
    assert titles(tmp_path / "segment-cli.pptx")[1:] == gui[1:-1]
    # The segment's own numbers, not everyone's: its overview finding names fewer users.
    with Project.open(workshop) as project:
        everyone = project.load_event_log().paths_count
    assert f"{everyone:,} users" not in expected.slides[0]["observation"]


def test_closing_the_dialog_while_it_works_stops_it_without_a_deck(qtbot, open_window, workshop, tmp_path):
    window = open_window(workshop)
    dialog = window.report_dialog()
    dialog.out.setText(str(tmp_path / "never.pptx"))
    written = []
    dialog.written.connect(written.append)
    dialog.create()
    dialog.done(0)                                   # at once: the analyses are still running
    dialog.runner.wait(120_000)
    qtbot.wait(200)
    assert not written and not (tmp_path / "never.pptx").exists()
