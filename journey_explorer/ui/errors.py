"""The window's error boundary: an exception that escapes a slot, an undo step or a thread becomes a
message on screen, and its traceback goes to the log file (``crashlog``), never to the screen.

Without it PySide prints the traceback to a console nobody sees and carries on as if the action had
worked. ``ErrorBoundary.install()`` (done by ``app.main``) replaces ``sys.excepthook`` and
``threading.excepthook``; the message goes to the main window's error banner, or to a message box
when no window is open. Worker tasks have their own boundary in ``tasks.py``; both word a failure
with ``crashlog.failure_message``.
"""
from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from journey_explorer.crashlog import failure_message


class ErrorBoundary(QObject):
    """Catches what nothing else caught; ``shown`` carries each message put on screen."""

    shown = Signal(str)
    _report = Signal(str)       # queued from another thread to the GUI thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._report.connect(self.show, Qt.ConnectionType.QueuedConnection)
        self._previous = None
        self.box: QMessageBox | None = None

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def excepthook(self, kind, exc, tb) -> None:
        if exc is None:
            exc = kind()
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        if isinstance(exc, KeyboardInterrupt):       # Ctrl+C in the terminal that started the app
            app = QApplication.instance()
            if app is not None:
                app.quit()
            return
        message = failure_message(exc, "journey-explorer window")
        if threading.current_thread() is threading.main_thread():
            self.show(message)
        else:
            self._report.emit(message)

    def thread_excepthook(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def show(self, message: str) -> None:
        """Put ``message`` on the main window's banner, else in one (reused) message box."""
        window = _main_window()
        if window is not None:
            window.show_error(message)
        elif self.box is not None and self.box.isVisible():
            self.box.setText(message)           # a burst of errors: one box, the latest message
        else:
            self.box = QMessageBox(QMessageBox.Icon.Critical, "Journey Explorer", message)
            self.box.setTextFormat(Qt.TextFormat.PlainText)
            self.box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
            self.box.open()                     # window-modal, no nested event loop in the hook
        self.shown.emit(message)


def _main_window():
    """The visible window that has an error banner (the active one first)."""
    app = QApplication.instance()
    if app is None:
        return None
    candidates = [app.activeWindow()] + list(app.topLevelWidgets())
    for widget in candidates:
        if widget is not None and widget.isVisible() and callable(getattr(widget, "show_error", None)):
            return widget
    return None
