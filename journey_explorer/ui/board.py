"""The Board tab: pinned charts, re-rendered live from their state, with three notes each.

Left: the pins in board order (drag to reorder). Right: the selected pin drawn from the current data
in the presentation theme, its title and its hypothesis / observation / action notes, saved to the
project as they are typed. The toolbar turns the board into a PowerPoint deck or a PDF handout.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from journey_explorer.domain import JourneyError, ProjectBusy
from journey_explorer.store.board import NOTE_FIELDS, Pin
from journey_explorer.store.project import Project
from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.widgets import Banner

NOTE_PROMPTS = {"hypothesis": "What we expected", "observation": "What the data shows",
                "action": "What we will do"}
PREVIEW_WIDTH = 1280
SAVE_DELAY_MS, RETRY_DELAY_MS = 400, 2000


class BoardView(QWidget):
    """Shows and edits the board of the explorer's project."""

    title = "Board"
    changed = Signal()            # pins were added, removed, reordered or edited

    def __init__(self, explorer):
        super().__init__()
        self.explorer = explorer
        self.pins: list[Pin] = []
        self._previews: dict[tuple, QPixmap] = {}
        self._jobs: dict[int, PinPreview] = {}                # previews being drawn, to release after
        self._current_job: tuple | None = None                # (preview key, job) of the latest request
        self.preview_runner = TaskRunner(self)
        self.preview_runner.finished.connect(self._preview_ready)
        self.preview_runner.failed.connect(self._preview_failed)
        self._pending: dict[tuple, dict] = {}    # (project path, pin id) -> notes typed, not yet saved
        self._pins_path = None                    # the project self.pins were read from
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_notes)
        self.banner = Banner()
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self.banner)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_detail())
        splitter.setSizes([280, 1200])
        layout.addWidget(splitter, 1)
        explorer.changed.connect(self._data_changed)

    # --- layout -------------------------------------------------------------------------------

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.deck_button = QPushButton("Export deck (PowerPoint)…")
        self.deck_button.clicked.connect(lambda: self.export_board(".pptx"))
        self.handout_button = QPushButton("Export handout (PDF)…")
        self.handout_button.clicked.connect(lambda: self.export_board(".pdf"))
        self.count_label = QLabel()
        for widget in (self.count_label, self.deck_button, self.handout_button):
            row.addWidget(widget)
        row.insertStretch(1, 1)
        return row

    def _build_list(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.currentRowChanged.connect(self.show_pin)
        self.list.model().rowsMoved.connect(self._rows_moved)
        row = QHBoxLayout()
        self.up_button, self.down_button = QPushButton("Move up"), QPushButton("Move down")
        self.remove_button = QPushButton("Remove")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.up_button, self.down_button, self.remove_button):
            row.addWidget(button)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        return box

    def _build_detail(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("Slide title")
        self.title_edit.textEdited.connect(self._notes_edited)
        self.preview = QLabel("Pin a chart from any view (the Pin to board button or Ctrl+B).")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)     # a failure message names events
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setMinimumHeight(300)
        notes = QHBoxLayout()
        self.note_edits: dict[str, QPlainTextEdit] = {}
        for field in NOTE_FIELDS:
            column = QVBoxLayout()
            prompt = QLabel(f"{field.capitalize()} — {NOTE_PROMPTS[field].lower()}")
            prompt.setWordWrap(True)      # three prompts side by side must not widen the window
            column.addWidget(prompt)
            edit = QPlainTextEdit()
            edit.setPlaceholderText(NOTE_PROMPTS[field])
            edit.setMaximumHeight(110)
            edit.textChanged.connect(self._notes_edited)
            column.addWidget(edit)
            notes.addLayout(column)
            self.note_edits[field] = edit
        layout.addWidget(self.title_edit)
        layout.addWidget(self.preview, 1)
        layout.addLayout(notes)
        return box

    # --- the pins -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the pins from the project and show them (keeping the selection where possible)."""
        self.flush_pending_notes()          # so that the pins read below hold what was just typed
        path = self.explorer.project_path
        if path is None:
            return
        selected = self.selected_pin()
        with Project.open(path) as project:
            self.pins = project.board.pins()
        self._pins_path = path              # notes typed on these pins belong to this project
        self.list.blockSignals(True)
        self.list.clear()
        for pin in self.pins:
            item = QListWidgetItem(pin.title)
            item.setData(Qt.ItemDataRole.UserRole, pin.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.count_label.setText(f"{len(self.pins)} pin{'s' if len(self.pins) != 1 else ''} on the board")
        for button in (self.deck_button, self.handout_button):
            button.setEnabled(bool(self.pins))
        ids = [p.id for p in self.pins]
        row = ids.index(selected.id) if selected is not None and selected.id in ids else (0 if ids else -1)
        self.list.setCurrentRow(row)
        self.show_pin(row)

    def add_pin(self, pin: Pin) -> Pin:
        with Project.open(self.explorer.project_path) as project:
            pin = project.board.add(pin)
        self.reload()
        self.list.setCurrentRow(len(self.pins) - 1)
        self.changed.emit()
        return pin

    def selected_pin(self) -> Pin | None:
        row = self.list.currentRow()
        return self.pins[row] if 0 <= row < len(self.pins) else None

    def show_pin(self, row: int) -> None:
        self.flush_pending_notes()
        pin = self.pins[row] if 0 <= row < len(self.pins) else None
        for edit in (self.title_edit, *self.note_edits.values()):
            edit.blockSignals(True)
        self.title_edit.setText(pin.title if pin else "")
        for field, edit in self.note_edits.items():
            edit.setPlainText(getattr(pin, field) if pin else "")
        for edit in (self.title_edit, *self.note_edits.values()):
            edit.blockSignals(False)
            edit.setEnabled(pin is not None)
        self._shown = pin
        if pin is None:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("Pin a chart from any view (the Pin to board button or Ctrl+B).")
        elif self.isVisible():
            self._draw_preview(pin)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.reload()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if getattr(self, "_shown", None) is not None:
            self._fit_preview(self._shown)

    def _draw_preview(self, pin: Pin) -> None:
        """The pin drawn from the current data: the analysis on a worker thread (a big project must
        not freeze the window), the picture here; cached until the data or the pin changes."""
        if self.explorer.log is None:
            return
        key = self._preview_key(pin)
        if key in self._previews:
            self._fit_preview(pin)
            return
        self.preview.setPixmap(QPixmap())
        self.preview.setText("Drawing the chart from the data…")
        if self.preview_runner.busy and self._current_job is not None and self._current_job[0] == key:
            return                  # already being drawn
        try:
            job = PinPreview(self.explorer, pin, PREVIEW_WIDTH)
        except (JourneyError, ValueError) as exc:
            self._preview_problem(str(exc), key)
            return
        self._jobs[id(job)] = job
        self._current_job = (key, job)
        self.preview_runner.start(job.compute)

    def _preview_ready(self, result) -> None:
        key, job = self._current_job
        try:
            self._previews[key] = QPixmap.fromImage(job.finish(result))
        except (JourneyError, KeyError, ValueError, RuntimeError) as exc:
            self._preview_problem(str(exc), key)
            return
        finally:
            self._close_jobs()
        if self._showing(key):
            self._fit_preview(self._shown)

    def _preview_failed(self, message: str) -> None:
        key = self._current_job[0] if self._current_job else None
        self._close_jobs()
        self._preview_problem(message, key)

    def _preview_problem(self, message: str, key) -> None:
        if self._showing(key):              # a message about another pin would mislead
            self.preview.setPixmap(QPixmap())
            self.preview.setText(f"This pin cannot be drawn from the current data: {message}")

    def _showing(self, key) -> bool:
        shown = getattr(self, "_shown", None)
        return shown is not None and self._preview_key(shown) == key

    def _close_jobs(self) -> None:
        """Release the hidden canvases of finished or superseded previews (not the one computing)."""
        running = self._current_job[1] if self._current_job and self.preview_runner.busy else None
        for job_id, job in list(self._jobs.items()):
            if job is not running:
                job.close()
                del self._jobs[job_id]

    def stop_previews(self) -> None:
        """Before the window closes: no worker left drawing, no hidden view left behind."""
        self.preview_runner.cancel()
        self.preview_runner.wait(5000)
        self._current_job = None
        self._close_jobs()

    def _fit_preview(self, pin: Pin) -> None:
        pixmap = self._previews.get(self._preview_key(pin))
        if pixmap is not None:
            self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))

    def _preview_key(self, pin: Pin) -> tuple:
        return (id(self.explorer.log), pin.id, pin.title, repr(pin.spec), repr(pin.filters))

    def _data_changed(self) -> None:
        """New data (or another project): pins are read again and redrawn from it."""
        self._previews.clear()
        if self.isVisible():
            self.reload()

    # --- editing ------------------------------------------------------------------------------

    def _notes_edited(self, *_) -> None:
        """Remember what was typed, for which pin of which project; save it shortly (debounced)."""
        pin = getattr(self, "_shown", None)
        if pin is None or self._pins_path is None:
            return
        notes = {field: edit.toPlainText() for field, edit in self.note_edits.items()}
        notes["title"] = self.title_edit.text().strip() or pin.title
        self._pending[(self._pins_path, pin.id)] = notes
        self._save_timer.start(SAVE_DELAY_MS)

    def flush_pending_notes(self, wait_seconds: float = 0.0) -> None:
        """Save typed notes now (before the pins, the selection or the project change)."""
        self._save_timer.stop()
        if self._pending:
            self.save_notes(wait_seconds)

    def save_notes(self, wait_seconds: float = 0.0) -> bool:
        """Write the pending notes. A busy project (an import in another window) is not waited for
        beyond ``wait_seconds``: the notes stay pending and are tried again in a few seconds."""
        for (path, pin_id), notes in list(self._pending.items()):
            try:
                with Project.open(path) as project:
                    project.wait_when_busy(wait_seconds)
                    project.board.set_notes(pin_id, **notes)
            except (sqlite3.OperationalError, ProjectBusy):
                self.banner.show_error("The notes are not saved yet: the project is busy (an import?). "
                                       "Trying again in a few seconds.")
                self._save_timer.start(RETRY_DELAY_MS)
                return False
            except JourneyError as exc:          # the pin or the project is gone: nothing to retry
                self.banner.show_error(f"These notes could not be saved: {exc}")
                del self._pending[(path, pin_id)]
                continue
            del self._pending[(path, pin_id)]
            if path == self._pins_path:
                self._show_saved(pin_id, notes)
            self.changed.emit()
        if self.banner.is_error and "busy" in self.banner.text():
            self.banner.hide()
        return True

    def _show_saved(self, pin_id: int, notes: dict[str, str]) -> None:
        for row, pin in enumerate(self.pins):
            if pin.id == pin_id:
                for field, text in notes.items():
                    setattr(pin, field, text)
                self.list.item(row).setText(pin.title)

    def move_selected(self, step: int) -> None:
        pin = self.selected_pin()
        if pin is None:
            return
        self._move(pin.id, self.list.currentRow() + step)

    def _rows_moved(self, *_) -> None:
        """A drag in the list: store the order the list now shows."""
        order = [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
        with Project.open(self.explorer.project_path) as project:
            for index, pin_id in enumerate(order):
                project.board.move(pin_id, index)
        self.reload()

    def _move(self, pin_id: int, index: int) -> None:
        self.flush_pending_notes()
        with Project.open(self.explorer.project_path) as project:
            project.board.move(pin_id, index)
        self.reload()
        self.list.setCurrentRow(max(0, min(index, len(self.pins) - 1)))
        self.changed.emit()

    def remove_selected(self) -> None:
        pin = self.selected_pin()
        if pin is None:
            return
        self.flush_pending_notes()
        with Project.open(self.explorer.project_path) as project:
            project.board.remove(pin.id)
        self.reload()
        self.changed.emit()

    # --- export -------------------------------------------------------------------------------

    def export_board(self, suffix: str) -> None:
        from journey_explorer.export.deck import write_board
        self.flush_pending_notes()
        kind = "PowerPoint deck (*.pptx)" if suffix == ".pptx" else "PDF handout (*.pdf)"
        suggested = str(Path.home() / f"{self.explorer.project_path.stem}-board{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, "Export the board", suggested, kind)
        if not path:
            return
        path = path if path.lower().endswith(suffix) else path + suffix
        try:
            write_board(self.explorer.log, self.explorer.project_path, self.pins, path)
        except JourneyError as exc:
            self.banner.show_error(str(exc))
            return
        self.banner.show_info(f"Wrote {len(self.pins)} slides to {path}")


class PinPreview:
    """One pin drawn in two halves: the analysis (``compute``, any thread), then the picture
    (``finish``, the GUI thread) -- the same registry entries, renderers and numbers as exports and decks."""

    def __init__(self, explorer, pin: Pin, width: int):
        from journey_explorer.export.render import ViewRenderer
        from journey_explorer.state.filters import FilterState
        from journey_explorer.state.views import spec_from_dict
        self.pin, self.width = pin, width
        self.renderer = ViewRenderer.for_session(explorer.session)
        try:
            filters = FilterState.from_dict(pin.filters) if pin.filters else None
            self.key = pin.view
            _, self.spec, self.filters = self.renderer.resolve(pin.view, spec_from_dict(pin.view, pin.spec), filters)
        except BaseException:
            self.renderer.close()
            raise

    def compute(self, progress):
        return self.renderer.compute(self.key, self.spec, self.filters)

    def finish(self, result):
        return self.renderer.image(self.key, self.spec, self.filters, self.width, title=self.pin.title, result=result)

    def close(self) -> None:
        self.renderer.close()
