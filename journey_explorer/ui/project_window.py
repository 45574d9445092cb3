"""A project at a glance: key figures, sources and the event catalog (the explorer views build on it)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QFrame, QGridLayout, QHeaderView, QLabel, QMainWindow, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from journey_explorer.store.project import Project


def conversion_to_goal(project: Project) -> tuple[int, int] | None:
    """(users who reached the default goal, users) — None when the project has no goal."""
    goal = project.default_goal
    if not goal:
        return None
    log = project.load_event_log()
    if goal not in log.event_names:
        return None
    reached = np.unique(log.user[log.event == log.event_code(goal)])
    return len(reached), log.paths_count


class Tile(QFrame):
    """One key figure: a big number over a small caption."""

    def __init__(self, caption: str, value: str):
        super().__init__()
        self.setObjectName("tile")
        layout = QVBoxLayout(self)
        self.value = QLabel(value)
        self.value.setFont(QFont(self.font().family(), 22, QFont.Weight.Bold))
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: #555;")
        layout.addWidget(self.value)
        layout.addWidget(self.caption)


def _table(headers: list[str], rows: list[list]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = f"{value:,}" if isinstance(value, (int, np.integer)) else str(value)
            item = QTableWidgetItem(text)
            if isinstance(value, (int, np.integer)):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)     # names get the room
    return table


class ProjectWindow(QMainWindow):
    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        with Project.open(self.path) as project:
            info = project.info()
            catalog = project.event_catalog()
            conversion = conversion_to_goal(project)
        self.setWindowTitle(f"{self.path.name} — Journey Explorer")
        self.setStyleSheet("QMainWindow { background: white; } #tile { border: 1px solid #ddd; "
                           "border-radius: 6px; background: #fafafa; }")
        self.tiles = self._tiles(info, conversion)
        sources = _table(["Source", "Format", "Events", "Duplicates", "Rejected", "Imported at"],
                         [[s["path"], s["format"], s["imported"], s["duplicates"], s["rejected"],
                           s["imported_at"]] for s in info.sources])
        events = _table(["Event", "Shown as", "Events", "Users"],
                        [[r.name, r.display_name, int(r.events), int(r.users)] for r in catalog.itertuples()])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(sources)
        body.addWidget(events)
        body.setSizes([150, 500])
        central = QWidget()
        layout = QVBoxLayout(central)
        title = QLabel(self.path.stem)
        title.setFont(QFont(self.font().family(), 18, QFont.Weight.Bold))
        layout.addWidget(title)
        layout.addWidget(self.tiles)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)

    @staticmethod
    def _tiles(info, conversion) -> QWidget:
        span = f"{(info.first_time or '')[:10]} – {(info.last_time or '')[:10]}" if info.first_time else "—"
        figures = [("users", f"{info.users:,}"), ("events", f"{info.events:,}"),
                   ("sessions", f"{info.sessions:,}"), ("event types", f"{info.event_types:,}"),
                   ("time range", span)]
        if conversion:
            reached, users = conversion
            figures.append((f"reached {info.default_goal}", f"{reached / max(users, 1):.1%}"))
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        for column, (caption, value) in enumerate(figures):
            grid.addWidget(Tile(caption, value), 0, column)
        return box
