""""Create report…": the workshop deck from the window, as ``journey-explorer report`` makes it.

The same findings (``export.report.plan_report``) for the window's goal and filters, one slide per
finding, optionally followed by the board's pins; the title is editable. Three stages keep the window
responsive: the analyses on a worker thread, the pictures one per event-loop turn (a chart is a
widget: GUI thread only), the PowerPoint file on a worker thread again.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from journey_explorer.analysis.units import path_words
from journey_explorer.state.filters import FilterState
from journey_explorer.tasks import TaskRunner


def plan_and_compute(session, renderer, filters: FilterState, name: str, title: str, board_pins, progress):
    """Worker thread: the findings, the cover and each slide's result (not yet drawn)."""
    from journey_explorer.export.deck import compute_pin
    from journey_explorer.export.report import plan_report, report_cover
    plan = plan_report(session.log, filters.goal, filters, name=name, title=title, board_pins=board_pins,
                       session=session)
    progress(0.2)
    cover = report_cover(session.log, session.project_path, plan, session)
    results = []
    for index, pin in enumerate(plan.pins):
        results.append(compute_pin(renderer, pin))
        progress(0.2 + 0.5 * (index + 1) / max(len(plan.pins), 1))
    return plan, cover, results


def write_deck(cover, slides, path: Path, progress):
    """Worker thread: the slides to a .pptx (python-pptx, no Qt) or a .pdf handout."""
    from journey_explorer.export.deck import write_pdf_handout, write_pptx
    progress(0.95)
    if path.suffix.lower() == ".pdf":
        return write_pdf_handout(cover, slides, path)
    return write_pptx(cover, slides, path)


def board_pins(project_path: Path | None) -> list:
    """The board's pins as saved in the project (the Board tab reads them only when shown)."""
    from journey_explorer.domain import JourneyError
    from journey_explorer.store.project import Project
    if project_path is None:
        return []
    try:
        with Project.open(project_path) as project:
            return project.board.pins()
    except JourneyError:
        return []


class ReportDialog(QDialog):
    """Title, pins and file; then progress; then where the deck is, with "Open folder"."""

    written = Signal(object)          # the deck's path
    failed = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        from journey_explorer.export.report import chosen_goal, default_title
        self.setWindowTitle("Create report")
        self.window_ = window
        self.session = window.explorer.session
        self.filters = window.current_filters()
        project = window.project_path
        self.name = project.stem if project else "Journey Explorer"
        goal = chosen_goal(self.session.log, self.filters.goal)
        self.board_pins = board_pins(project)
        self.path: Path | None = None
        self.renderer = None
        self.slides: list = []
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._progress)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(lambda outcome: self._then(outcome))
        self._then = self._computed            # what the runner's next result is for
        self.draw_timer = QTimer(self, singleShot=True, interval=0)
        self.draw_timer.timeout.connect(self._draw_next)

        self.title = QLineEdit(default_title(self.name, goal))
        self.title.setMinimumWidth(420)
        count = len(self.board_pins)
        self.include_pins = QCheckBox(f"Add the board's {count} pinned chart{'' if count == 1 else 's'} after "
                                      f"the findings" if count else "Add pinned charts (the board has none yet)")
        self.include_pins.setChecked(bool(self.board_pins))
        self.include_pins.setEnabled(bool(self.board_pins))
        # Beside the project (the folder an event file came from may be read-only, or the client's).
        folder = project.parent if project is not None and not window.project_is_demo else Path.home()
        self.out = QLineEdit(str(folder / f"{self.name}-report.pptx"))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.choose_file)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.out, 1)
        row_layout.addWidget(browse)
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Goal", QLabel(goal))
        form.addRow("Filters", QLabel(self.filters.describe(paths=path_words(self.session.log))))
        form.addRow("", self.include_pins)
        form.addRow("Save as", row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.create_button = self.buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_folder_button = self.buttons.addButton("Open folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_folder_button.hide()
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.create_button.clicked.connect(self.create)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the report as", self.out.text(),
                                              "PowerPoint deck (*.pptx);;PDF handout (*.pdf)")
        if path:
            self.out.setText(path)

    def target(self) -> Path:
        path = Path(self.out.text().strip() or f"{self.name}-report.pptx").expanduser()
        return path if path.suffix.lower() in (".pptx", ".pdf") else path.with_name(path.name + ".pptx")

    # --- the three stages ---------------------------------------------------------------------------

    def create(self) -> None:
        """Start making the deck (returns at once; ``written`` or ``failed`` tells the end)."""
        from journey_explorer.export.render import ViewRenderer
        if self.session.log is None:
            self._failed("Open a project first.")
            return
        self.path = self.target()
        self.create_button.setEnabled(False)
        self.open_folder_button.hide()
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText("Answering the workshop questions…")
        self._close_renderer()
        self.renderer = ViewRenderer.for_session(self.session)
        pins = self.board_pins if self.include_pins.isChecked() else []
        self._then = self._computed
        self.runner.start(plan_and_compute, self.session, self.renderer, self.filters, self.name,
                          self.title.text().strip(), pins)

    def _computed(self, outcome) -> None:
        self.plan, self.cover, self.results = outcome
        self.slides = []
        self.status.setText(f"Drawing {len(self.plan.pins)} slides…")
        self.draw_timer.start()

    def _draw_next(self) -> None:
        """One slide's picture per event-loop turn: the window keeps answering in between."""
        from journey_explorer.export.deck import pin_slide
        index = len(self.slides)
        if index < len(self.plan.pins):
            try:
                self.slides.append(pin_slide(self.renderer, self.plan.pins[index], self.results[index]))
            except Exception as exc:  # noqa: BLE001 - said in the dialog, the deck is not made
                self._failed(f"Slide {index + 1} could not be drawn: {exc}")
                return
            self._progress(0.7 + 0.25 * len(self.slides) / len(self.plan.pins))
            self.draw_timer.start()
            return
        self._close_renderer()
        self.status.setText(f"Writing {self.path.name}…")
        self._then = self._written
        self.runner.start(write_deck, self.cover, self.slides, self.path)

    def _written(self, path) -> None:
        self.progress.setValue(100)
        self.create_button.setEnabled(True)
        self.create_button.setText("Create again")
        self.open_folder_button.show()
        self.status.setText(f"Wrote {len(self.slides) + 1} slides (goal: {self.plan.goal}) to {path}")
        self.written.emit(Path(path))

    def _failed(self, message: str) -> None:
        self.draw_timer.stop()
        self._close_renderer()
        self.progress.hide()
        self.create_button.setEnabled(True)
        self.status.setText(f"The report could not be made: {message}")
        self.failed.emit(message)

    def _progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    def _close_renderer(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def open_folder(self) -> None:
        if self.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))

    def done(self, result: int) -> None:
        """Closing stops a deck still being made: its worker stops at its next progress report and
        its result is dropped (no waiting here: the window stays responsive)."""
        self.draw_timer.stop()
        self.runner.cancel()
        self._close_renderer()
        super().done(result)
