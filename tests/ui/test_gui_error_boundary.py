"""The GUI's error boundary: a worker task's or a slot's exception becomes a message on screen (a bug
says so, with the log's path), the traceback goes to the log file and never to the screen."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal

from journey_explorer.domain import JourneyError


@pytest.fixture
def window(open_window, demo_project_path):
    return open_window(demo_project_path)


def log_file() -> Path:
    return Path(os.environ["JOURNEY_EXPLORER_LOG_DIR"]) / "journey-explorer.log"


def failed_view(window, qtbot, monkeypatch, exc):
    import journey_explorer.ui.views.base as base

    def broken(*_args, **_kwargs):
        raise exc
    monkeypatch.setattr(base, "compute_view", broken)
    view = window.show_view("funnel")
    qtbot.waitUntil(lambda: not view.runner.busy, timeout=30_000)
    view.refresh()
    qtbot.waitUntil(lambda: view.banner.isVisible() and view.banner.is_error, timeout=30_000)
    return view.banner.text()


def test_an_unexpected_error_in_a_worker_task_says_bug_with_the_log_and_logs_the_traceback(window, qtbot, monkeypatch):
    text = failed_view(window, qtbot, monkeypatch, ValueError("cannot reshape array of size 7"))
    assert "this is a bug" in text and "ValueError" in text and "cannot reshape array of size 7" in text
    assert str(log_file()) in text
    assert "Traceback" not in text and "File \"" not in text       # the traceback is not on screen
    logged = log_file().read_text()
    assert "Traceback (most recent call last)" in logged and "ValueError: cannot reshape array of size 7" in logged
    assert "broken" in logged                                        # the frame that raised


def test_an_expected_error_in_a_worker_task_keeps_its_own_words(window, qtbot, monkeypatch):
    message = "events.csv, line 12: the column 'ts' holds no time; map another column and import again"
    text = failed_view(window, qtbot, monkeypatch, JourneyError(message))
    assert text == message
    assert "bug" not in text


class _Emitter(QObject):
    fired = Signal()


@pytest.mark.qt_no_exception_capture
def test_an_exception_escaping_a_slot_or_a_thread_is_a_banner_not_a_console_traceback(window, qtbot, capsys):
    from journey_explorer.app import install_error_boundary
    from journey_explorer.ui.errors import ErrorBoundary
    boundary = install_error_boundary(window)
    assert isinstance(boundary, ErrorBoundary)
    try:
        emitter = _Emitter()

        def slot():
            raise ZeroDivisionError("division by zero in a slot")
        emitter.fired.connect(slot)
        emitter.fired.emit()
        assert window.banner.is_error and "this is a bug" in window.banner.text()
        assert "ZeroDivisionError" in window.banner.text() and str(log_file()) in window.banner.text()

        def busy():
            raise JourneyError("The project demo is being used by another process; try again.")
        emitter.fired.disconnect(slot)
        emitter.fired.connect(busy)
        emitter.fired.emit()
        assert window.banner.text() == "The project demo is being used by another process; try again."

        with qtbot.waitSignal(boundary.shown, timeout=10_000) as shown:
            thread = threading.Thread(target=lambda: 1 / 0, name="helper")
            thread.start()
            thread.join()
        assert "this is a bug" in shown.args[0]
        assert "Traceback" not in capsys.readouterr().err
        assert log_file().read_text().count("ZeroDivisionError: division by zero") == 2
    finally:
        boundary.uninstall()


@pytest.mark.qt_no_exception_capture
def test_without_a_window_the_message_is_a_box(qtbot):
    from journey_explorer.ui.errors import ErrorBoundary
    boundary = ErrorBoundary()
    boundary.install()
    try:
        emitter = _Emitter()
        emitter.fired.connect(lambda: {}["missing"])
        emitter.fired.emit()
        assert boundary.box is not None and boundary.box.isVisible()
        assert "<" not in boundary.box.text() or boundary.box.textFormat().name == "PlainText"
        assert "missing" in boundary.box.text()
    finally:
        boundary.uninstall()
        if boundary.box is not None:
            boundary.box.close()
