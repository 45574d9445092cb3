"""The page shown when no project is open: recent projects, the demo, a new project from a file."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget


class StartPage(QWidget):
    open_requested = Signal(str)      # a project file to open
    demo_requested = Signal()
    new_from_file_requested = Signal()

    def __init__(self):
        super().__init__()
        title = QLabel("Journey Explorer")
        title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        hint = QLabel("Drop an event file on this window to start a new project from it.")
        hint.setWordWrap(True)
        # Why the page is back (a project that could not be opened); hidden otherwise.
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setStyleSheet("color: #B00020; font-weight: bold;")
        self.problem.hide()
        self.recent = QListWidget()
        self.recent.setStyleSheet("QListWidget { font-size: 12pt; } QListWidget::item { padding: 6px; }")
        self.recent.setMaximumWidth(900)
        self.recent.itemActivated.connect(lambda item: self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.new_button = QPushButton("New project from file…")
        self.new_button.clicked.connect(self.new_from_file_requested)
        self.demo_button = QPushButton("Open demo")
        self.demo_button.clicked.connect(self.demo_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 32, 48, 32)
        layout.addWidget(title)
        layout.addWidget(self.problem)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Recent projects (double-click to open)"))
        layout.addWidget(self.recent, 1)

    def show_problem(self, message: str) -> None:
        """Say why no project is open (cleared with ``""``)."""
        self.problem.setText(message)
        self.problem.setVisible(bool(message))

    def set_recent(self, paths: list[str]) -> None:
        """List the recent projects that still exist, by name with their folder."""
        self.recent.clear()
        for path in paths:
            if Path(path).exists():
                item = QListWidgetItem(f"{Path(path).stem}  —  {Path(path).parent}")
                item.setData(Qt.ItemDataRole.UserRole, path)
                self.recent.addItem(item)
