"""Pin to board from a view, notes saved as typed, and the board as a deck and a handout."""
from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtCore import Qt

from journey_explorer.store.board import Pin
from journey_explorer.store.project import Project


@pytest.fixture
def project_copy(demo_project_path, tmp_path):
    path = tmp_path / "workshop.journey"
    shutil.copy(demo_project_path, path)
    return path


@pytest.fixture
def window(open_window, project_copy, settle_side_checks):
    window = open_window(project_copy, size=(1500, 950))
    settle_side_checks(window)      # they read the file the tests write
    return window


def show_view(qtbot, window, key: str):
    view = window.show_view(key)
    qtbot.waitUntil(lambda: view.result is not None and not view.runner.busy, timeout=30_000)
    return view


def pin_button(view):
    from PySide6.QtWidgets import QPushButton
    return next(b for b in view.findChildren(QPushButton) if b.text() == "Pin to board")


def test_pin_button_stores_the_views_state_and_board_draws_it(qtbot, window, project_copy):
    flows_view = show_view(qtbot, window, "flows")
    flows_view.steps.setValue(3)
    qtbot.waitUntil(lambda: not flows_view.runner.busy and flows_view.result.spec.steps == 3, timeout=30_000)
    qtbot.mouseClick(pin_button(flows_view), Qt.MouseButton.LeftButton)
    with Project.open(project_copy) as project:
        (pin,) = project.board.pins()
    assert pin.view == "flows" and pin.spec["steps"] == 3
    assert pin.filters["goal"] == "Subscription Paid"

    window.tabs.setCurrentWidget(window.board)
    qtbot.waitUntil(lambda: window.board.preview.pixmap() is not None
                    and not window.board.preview.pixmap().isNull(), timeout=30_000)
    assert window.board.list.count() == 1


def test_notes_are_saved_as_typed_and_pins_reorder(qtbot, window, project_copy):
    for key in ("flows", "funnel"):
        view = show_view(qtbot, window, key)
        window.pin_view(view)
    window.tabs.setCurrentWidget(window.board)
    board = window.board
    board.list.setCurrentRow(1)
    board.note_edits["observation"].setPlainText("Only 14% of ad clicks pay")
    qtbot.waitUntil(lambda: not board._save_timer.isActive(), timeout=5_000)
    board.move_selected(-1)
    with Project.open(project_copy) as project:
        pins = project.board.pins()
    assert [p.view for p in pins] == ["funnel", "flows"]
    assert pins[0].observation == "Only 14% of ad clicks pay"


def test_board_to_pptx_and_pdf_handout(qapp, demo_project_path, tmp_path):
    from pptx import Presentation

    from journey_explorer.export.deck import write_board
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    pins = [Pin(view="flows", title="How trials start", observation="Half arrive from ads"),
            Pin(view="retention", title="Do users stay?", hypothesis="Onboarding loses them", action="Fix setup"),
            Pin(view="funnel", title="Funnel to paid", filters={"goal": "Subscription Paid"})]
    deck = Presentation(str(write_board(log, demo_project_path, pins, tmp_path / "board.pptx")))
    slides = list(deck.slides)
    assert len(slides) == 4
    assert slides[0].shapes.title.text == "demo"
    assert [s.shapes.title.text for s in slides[1:]] == ["How trials start", "Do users stay?", "Funnel to paid"]
    # The Sankey as a picture; retention's curve and the funnel as native (editable) charts.
    pictures = [s for s in slides[1].shapes if s.shape_type == 13]          # MSO_SHAPE_TYPE.PICTURE
    assert len(pictures) == 1 and pictures[0].image.size[0] >= 1600
    for slide in slides[2:]:
        assert [s for s in slide.shapes if s.has_chart] and not [s for s in slide.shapes if s.shape_type == 13]
    texts = " ".join(s.text_frame.text for s in slides[2].shapes if s.has_text_frame)
    assert "Onboarding loses them" in texts and "Fix setup" in texts
    assert round(deck.slide_width / deck.slide_height, 2) == round(16 / 9, 2)
    handout = write_board(log, demo_project_path, pins, tmp_path / "board.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", handout)) == 4


def test_notes_typed_just_before_closing_are_kept(qtbot, window, project_copy):
    window.pin_view(show_view(qtbot, window, "stuck"))
    window.tabs.setCurrentWidget(window.board)
    window.board.note_edits["action"].setPlainText("Call the five biggest accounts")
    window.close()                                  # before the save timer fires
    with Project.open(project_copy) as project:
        assert project.board.pins()[0].action == "Call the five biggest accounts"


def test_notes_stay_with_their_project_when_another_opens(qtbot, window, project_copy, tmp_path):
    other = tmp_path / "other.journey"
    shutil.copy(project_copy, other)
    with Project.open(other) as project:
        project.board.add(Pin(view="flows", title="Other's pin"))
    window.pin_view(show_view(qtbot, window, "flows"))
    window.tabs.setCurrentWidget(window.board)
    window.board.note_edits["hypothesis"].setPlainText("typed in the first project")
    window.open_project(other)                        # before the save timer fires
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)
    with Project.open(project_copy) as project:
        assert project.board.pins()[0].hypothesis == "typed in the first project"
    with Project.open(other) as project:
        assert [(p.title, p.hypothesis) for p in project.board.pins()] == [("Other's pin", "")]


def test_notes_wait_while_the_project_is_busy_and_are_saved_after(qtbot, window, project_copy):
    import sqlite3
    window.pin_view(show_view(qtbot, window, "flows"))
    window.tabs.setCurrentWidget(window.board)
    board = window.board
    board.note_edits["observation"].setPlainText("saved once the import is done")
    other = sqlite3.connect(project_copy, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")                    # another process writing (an import)
    assert board.save_notes() is False
    assert board.banner.is_error and "not saved yet" in board.banner.text()
    other.execute("ROLLBACK")
    other.close()
    board.flush_pending_notes()
    with Project.open(project_copy) as project:
        assert project.board.pins()[0].observation == "saved once the import is done"
    assert not board.banner.isVisible()


def test_deck_keeps_a_slide_for_a_pin_that_cannot_be_drawn_and_fits_long_text(qapp, demo_project_path, tmp_path):
    from pptx import Presentation

    from journey_explorer.export.deck import write_board
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    long_note = "The onboarding checklist loses people at the data connection step. " * 30
    pins = [Pin(view="funnel", title="A renamed step", spec={"steps": ["Sign Up", "Gone Event"]}),
            Pin(view="flows", title="Why " + "really " * 40 + "long titles shrink", observation=long_note,
                hypothesis="Bad\x00char\ufffe here", filters={"goal": "Subscription Paid"})]
    slides = list(Presentation(str(write_board(log, demo_project_path, pins, tmp_path / "b.pptx"))).slides)
    assert len(slides) == 3
    broken = " ".join(s.text_frame.text for s in slides[1].shapes if s.has_text_frame)
    assert "cannot be drawn" in broken and "Gone Event" in broken
    assert not [s for s in slides[1].shapes if s.shape_type == 13]          # no picture, no crash
    title = slides[2].shapes.title
    assert title.text.endswith("…") and len(title.text) <= 140
    assert title.text_frame.paragraphs[0].runs[0].font.size.pt == 20
    texts = " ".join(s.text_frame.text for s in slides[2].shapes if s.has_text_frame)
    assert "Badchar here" in texts and len(texts) < len(long_note)
    assert long_note.strip() in slides[2].notes_slide.notes_text_frame.text     # the speaker notes keep all
    handout = write_board(log, demo_project_path, pins, tmp_path / "b.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", handout)) == 3


def test_board_previews_compute_off_the_gui_thread_and_explain_failures(qtbot, window, project_copy, monkeypatch):
    import threading

    from journey_explorer.ui import board as board_module
    threads = []
    real = board_module.PinPreview.compute

    def recording(self, progress):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(self, progress)

    monkeypatch.setattr(board_module.PinPreview, "compute", recording)
    with Project.open(project_copy) as project:
        project.board.add(Pin(view="funnel", title="Steps that exist", spec={"steps": ["Sign Up", "Subscription Paid"]}))
        project.board.add(Pin(view="funnel", title="A renamed step", spec={"steps": ["Sign Up", "Gone Event"]}))
    window.tabs.setCurrentWidget(window.board)
    preview = window.board.preview
    qtbot.waitUntil(lambda: preview.pixmap() is not None and not preview.pixmap().isNull(), timeout=30_000)
    assert threads and not any(threads)       # every preview computed off the GUI thread (a reload may redo one)
    window.board.list.setCurrentRow(1)
    qtbot.waitUntil(lambda: "cannot be drawn" in preview.text(), timeout=30_000)
    assert "Gone Event" in preview.text()


def test_the_export_width_menu_sets_png_and_clipboard_width(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QGuiApplication, QImage
    from PySide6.QtWidgets import QFileDialog
    menu = next(a.menu() for a in window.menuBar().actions()[0].menu().actions() if a.menu()
                and a.text() == "Export &width")
    next(a for a in menu.actions() if a.text().startswith("1280")).trigger()
    flows_view = show_view(qtbot, window, "flows")
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "flows"), "PNG image (*.png)"))
    window.export_view()
    assert QImage(str(tmp_path / "flows.png")).width() == 1280        # and the suffix came from the type
    window.copy_chart()
    assert QGuiApplication.clipboard().image().width() == 1280
    assert flows_view.result is not None


def test_notes_typed_while_another_project_loads_stay_with_their_pin(qtbot, window, project_copy, tmp_path):
    other = tmp_path / "other.journey"
    shutil.copy(project_copy, other)
    for path, title in ((project_copy, "Mine"), (other, "Theirs")):
        with Project.open(path) as project:
            project.board.add(Pin(view="flows", title=title))
    window.tabs.setCurrentWidget(window.board)
    qtbot.waitUntil(lambda: window.board.list.count() == 1)
    window.open_project(other)                                   # loading starts; the old pins still show
    window.board.note_edits["observation"].setPlainText("typed during the load")
    window.board.flush_pending_notes()
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)
    with Project.open(project_copy) as project:
        assert [(p.title, p.observation) for p in project.board.pins()] == [("Mine", "typed during the load")]
    with Project.open(other) as project:
        assert [(p.title, p.observation) for p in project.board.pins()] == [("Theirs", "")]


def test_notes_on_two_pins_typed_while_busy_are_all_saved_later(qtbot, window, project_copy):
    import sqlite3
    with Project.open(project_copy) as project:
        for title in ("One", "Two"):
            project.board.add(Pin(view="flows", title=title))
    window.tabs.setCurrentWidget(window.board)
    board = window.board
    qtbot.waitUntil(lambda: board.list.count() == 2)
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)    # a slow machine may still be loading
    other = sqlite3.connect(project_copy, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    for row, text in ((0, "first"), (1, "second")):
        board.list.setCurrentRow(row)                # switching flushes: the save fails, the notes wait
        board.note_edits["action"].setPlainText(text)
    board.list.setCurrentRow(0)
    other.execute("ROLLBACK")
    other.close()
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)
    board.flush_pending_notes(wait_seconds=2)      # a background reader on a loaded machine is waited for
    with Project.open(project_copy) as project:
        assert [(p.title, p.action) for p in project.board.pins()] == [("One", "first"), ("Two", "second")]
