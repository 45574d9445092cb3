"""The catalog's hygiene panel: suggested merges (names that are likely one action), events to name
by a property (one generic page_view), and broken tracking, from ``analysis.hygiene`` computed off
the GUI thread.

A merge goes through the window's undoable catalog edits (one undo step per merge); a dismissal is
remembered in the project, so the suggestion does not come back on the next open.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from journey_explorer.store.event_detail import Suggestion as NamingSuggestion
from journey_explorer.store.project import Project
from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.widgets import plain_tooltip

if TYPE_CHECKING:      # imported where used: the checks (and pandas) are not needed to open the window
    from journey_explorer.analysis import hygiene


def check_tracking(project_path: str, log, progress):
    """Background task: the hygiene result for ``log``, leaving out what the user dismissed.

    Also works out, once per log and off the GUI thread, the value event the interval and north star
    views default to (``interval.value_event`` keeps it per log: ~0.14 s at 1M events otherwise spent
    on the GUI thread when such a tab is first opened)."""
    from journey_explorer.analysis import hygiene
    from journey_explorer.analysis.interval import value_event
    if len(log):
        value_event(log)
    with Project.open(Path(project_path)) as project:
        dismissed = hygiene.dismissed_keys(project)
    return hygiene.run(log, hygiene.Spec(dismissed=dismissed), progress=progress)


def suggestion_text(suggestion: hygiene.Suggestion) -> str:
    """Names -> target with the confidence, then one line per piece of evidence."""
    names = " + ".join(suggestion.names)
    return "\n".join([f"{names} → {suggestion.target}  ({suggestion.level} confidence, {suggestion.confidence:.0%})"]
                     + [f"• {line}" for line in suggestion.evidence])


class HygienePanel(QWidget):
    """Suggested merges with Merge / Dismiss, and broken tracking with Dismiss."""

    merge_requested = Signal(object)          # a hygiene.Suggestion
    found = Signal(int)                       # suggestions and breakages listed
    message = Signal(str, bool)               # text, is an error

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project_path: str | None = None
        self.result: hygiene.Result | None = None
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self.show_result)
        self.runner.failed.connect(lambda text: self.status.setText(f"Could not check the tracking: {text}"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.merges = self._list("Names that look like one action (select one to merge or dismiss it)")
        self.breakages = self._list("Tracking that looks broken: events that stopped, started, fire twice, "
                                    "or carry impossible times. Below them, greyed: changes that are explained "
                                    "(an incident's burst, the halves of a rename), not faults.")
        self.merge_button = QPushButton("Merge")
        self.merge_button.setToolTip("Show these names as one event (Edit › Undo takes it back)")
        self.merge_button.clicked.connect(self.merge_selected)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Do not suggest this again in this project")
        self.dismiss_button.clicked.connect(lambda: self.dismiss_selected(self.merges))
        self.dismiss_breakage = QPushButton("Dismiss")
        self.dismiss_breakage.clicked.connect(lambda: self.dismiss_selected(self.breakages))
        layout.addWidget(QLabel("Suggestions"))
        layout.addWidget(self.status)
        layout.addWidget(self.merges, 2)
        layout.addLayout(_row(self.merge_button, self.dismiss_button))
        layout.addWidget(QLabel("Broken tracking"))
        layout.addWidget(self.breakages, 1)
        layout.addLayout(_row(self.dismiss_breakage))
        for widget in (self.merges, self.breakages):
            widget.currentRowChanged.connect(lambda _row: self._enable_buttons())
        self._enable_buttons()

    def _list(self, tooltip: str) -> QListWidget:
        widget = QListWidget()
        widget.setWordWrap(True)
        widget.setToolTip(tooltip)
        widget.setAlternatingRowColors(True)
        return widget

    def _enable_buttons(self) -> None:
        item = self.merges.currentItem()
        naming = item is not None and isinstance(item.data(Qt.ItemDataRole.UserRole), NamingSuggestion)
        self.merge_button.setText("Name by it" if naming else "Merge")
        self.merge_button.setEnabled(self.merges.currentRow() >= 0)
        self.dismiss_button.setEnabled(self.merges.currentRow() >= 0)
        self.dismiss_breakage.setEnabled(self.breakages.currentRow() >= 0)

    def check(self, project_path: str | Path, log) -> None:
        """Look for duplicate names and broken tracking in ``log`` (the whole project, unfiltered)."""
        self.project_path = str(project_path)
        self.status.setText("Checking the tracking…")
        self.status.show()
        self.runner.start(check_tracking, self.project_path, log)

    def show_result(self, result: hygiene.Result) -> None:
        self.result = result
        self.merges.clear()
        self.breakages.clear()
        for naming in result.naming:         # first: paths of one generic event hide every other finding
            item = QListWidgetItem(naming.sentence)
            item.setData(Qt.ItemDataRole.UserRole, naming)
            item.setToolTip(plain_tooltip(f"Show each {naming.event} as '{naming.event}: <{naming.property}>' in "
                                          "every view (Edit › Undo takes it back)"))
            self.merges.addItem(item)
        for suggestion in result.suggestions:
            item = QListWidgetItem(suggestion_text(suggestion))
            item.setData(Qt.ItemDataRole.UserRole, suggestion)
            item.setToolTip(plain_tooltip("\n".join(suggestion.evidence)))
            self.merges.addItem(item)
        for breakage in result.broken:
            item = QListWidgetItem(breakage.message)
            item.setData(Qt.ItemDataRole.UserRole, breakage)
            self.breakages.addItem(item)
        for breakage in result.explained:      # listed, so the count and dates are at hand; not counted
            item = QListWidgetItem(f"Explained, not broken: {breakage.message}")
            item.setData(Qt.ItemDataRole.UserRole, breakage)
            item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
            self.breakages.addItem(item)
        found = len(result.naming) + len(result.suggestions) + len(result.broken)
        self.status.setText("" if found else "No duplicate names or broken tracking found.")
        self.status.setVisible(not found)
        self._enable_buttons()
        self.found.emit(found)

    def merge_selected(self) -> None:
        item = self.merges.currentItem()
        if item is not None:
            self.merge_requested.emit(item.data(Qt.ItemDataRole.UserRole))

    def dismiss_selected(self, widget: QListWidget) -> None:
        """Remember the dismissal in the project and take the item off the list."""
        item = widget.currentItem()
        if item is None or self.project_path is None:
            return
        entry = item.data(Qt.ItemDataRole.UserRole)
        from journey_explorer.analysis import hygiene
        with Project.open(Path(self.project_path)) as project:
            hygiene.dismiss(project, entry.key)
        widget.takeItem(widget.row(item))
        self.message.emit(f"Dismissed: {item.text().splitlines()[0]}", False)
        self._enable_buttons()
        self.found.emit(self.merges.count() + self._broken_listed())


    def _broken_listed(self) -> int:
        """Breakages still listed that are faults (explained ones are listed greyed, not counted)."""
        entries = [self.breakages.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.breakages.count())]
        return sum(1 for entry in entries if not entry.explained)


def _row(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row
