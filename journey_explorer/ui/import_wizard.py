"""Import wizard: file and preview with the guessed mapping -> progress with Cancel -> summary.

It drives the same ``store.importer.import_file`` as the CLI, off the GUI thread.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from journey_explorer.domain import LIFECYCLE_MODES, ImportCancelled, ImportOptions, JourneyError
from journey_explorer.io.lifecycle import LifecycleReader, lifecycle_column
from journey_explorer.io.mapping import UnconfirmedMapping, guess_mapping, personal_data_columns
from journey_explorer.io.ocel import ocel_object_types
from journey_explorer.io.sources import detect_format, open_source
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import SUFFIX, Project
from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.widgets import Banner, make_table, plain_label

NOT_SET = "(none)"
# The import options name these labels too (IMPORT_OPTION_WORDS: {user}, {anonymous}).
ROLE_LABELS = {"anonymous": "Anonymous id column"}
LIFECYCLE_LABELS = {
    "auto": "Automatic (completed events only when starts and completes exist)",
    "complete": "Completed events only (duration_s from their start)",
    "split": "Name them 'activity (start)' / 'activity (complete)'",
    "all": "Keep every row as it is",
}
GUI_CHUNK_ROWS = 100_000     # smaller chunks: the import worker never holds the GIL long enough to stall the window


def open_for_preview(path: str, options: ImportOptions, progress=None):
    """(the file opened for import, its first 20 rows)."""
    reader = open_source(path, options)
    return reader, reader.preview(20)


class SourcePage(QWizardPage):
    """Pick a file; see its first rows, the guessed mapping (editable), time options, privacy."""

    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.setTitle("Choose the file and check the columns")
        self.wiz = wizard
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self.path.editingFinished.connect(lambda: self.load(self.path.text()))
        self.banner = Banner()
        # A JSON export is parsed whole to be previewed (seconds for a few hundred thousand rows): on a
        # worker, with "Reading the file…" meanwhile, not on the GUI thread.
        self.reading = TaskRunner(self)
        self.reading.finished.connect(lambda opened: self._show(*opened))
        self.reading.failed.connect(self._not_read)
        self.preview, self.preview_model = make_table(literal_headers=True)
        # "anonymous": an anonymous id on every row, merged with the user id set after login (shown as
        # guessed; "(not set)" follows the user column only).
        self.roles = {role: QComboBox() for role in ("user", "anonymous", "event", "time", "session")}
        for box in self.roles.values():
            box.currentTextChanged.connect(lambda _: self.completeChanged.emit())
        self.time_format = QLineEdit()
        self.time_format.setPlaceholderText("detect (or e.g. %d/%m/%Y %H:%M, epoch_ms)")
        self.timezone = QLineEdit("UTC")
        self.date_order = QComboBox()
        self.date_order.addItems(["detect", "dmy", "mdy"])
        self.pseudonymize = QCheckBox("Pseudonymise user ids (keyed hash kept in the project)")
        self.keep_identical = QCheckBox("Keep identical rows (times to the minute: a repeat within it is real)")
        self.personal = plain_label()        # column names from the file
        self.personal.setWordWrap(True)
        self.drop = QLineEdit()
        self.drop.setPlaceholderText("columns not to import, comma-separated")
        # A mapping guessed from values alone is a question, not an answer.
        self.confirm = QCheckBox("These columns are right: import the file as events")
        self.confirm.toggled.connect(lambda _: self.completeChanged.emit())
        self.confirm.hide()
        self.lifecycle = QComboBox()
        for mode in LIFECYCLE_MODES:
            self.lifecycle.addItem(LIFECYCLE_LABELS[mode], mode)
        self.lifecycle.currentIndexChanged.connect(lambda _: self._reload())
        self.object_type = QComboBox()
        self.object_type.currentIndexChanged.connect(lambda _: self._object_type_chosen())
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        for role, box in self.roles.items():
            form.addRow(ROLE_LABELS.get(role, f"{role.capitalize()} column"), box)
        form.addRow("Time format", self.time_format)
        form.addRow("Timezone of naive times", self.timezone)
        form.addRow("Day/month order", self.date_order)
        form.addRow("Leave out columns", self.drop)
        form.addRow("Lifecycle transitions", self.lifecycle)
        form.addRow("Object type (OCEL)", self.object_type)
        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.confirm)
        layout.addWidget(self.preview, 1)
        layout.addLayout(form)
        layout.addWidget(self.personal)
        layout.addWidget(self.pseudonymize)
        layout.addWidget(self.keep_identical)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import events", "", "Event files (*.csv *.tsv *.txt *.gz *.zip "
                                              "*.xlsx *.json *.jsonl *.jsonocel *.parquet *.xes);;All files (*)")
        if path:
            self.load(path)

    def load(self, path: str) -> None:
        self.path.setText(path)
        self.banner.hide()
        self.confirm.hide()
        self.confirm.setChecked(False)
        try:
            self._offer_object_types(path)
            whole_file = Path(path).is_file() and detect_format(path) != "csv"
            if not whole_file:
                self._show(*open_for_preview(path, self._reading_options()))
                return
        except JourneyError as exc:
            self._not_read(str(exc))
            return
        self.reader = None                  # until the worker has read it
        self.preview_model.clear()
        self.banner.show_info("Reading the file…")
        self.completeChanged.emit()
        self.reading.start(open_for_preview, path, self._reading_options())

    def _not_read(self, message: str) -> None:
        self.banner.show_error(message)
        self.preview_model.clear()
        self.reader = None
        self.completeChanged.emit()

    def _show(self, reader, preview) -> None:
        """The file read: its first rows, the guessed columns, personal-data flags."""
        self.banner.hide()
        self.reader = reader
        mapping = self._guess(reader)
        self.preview_model.set_frame(preview.astype(str))
        columns = reader.columns()
        self.lifecycle.setEnabled(isinstance(reader, LifecycleReader) or lifecycle_column(columns) is not None)
        for role, box in self.roles.items():
            box.blockSignals(True)
            box.clear()
            box.addItems([NOT_SET] + columns)
            chosen = getattr(mapping, role, None) if mapping else None
            box.setCurrentText(chosen if chosen else NOT_SET)
            box.blockSignals(False)
        mapped = mapping.mapped_columns if mapping else set()
        flagged = personal_data_columns(columns + getattr(reader, "trait_columns", list)(), preview, mapped)
        self.personal.setText("Columns that look like personal data: " + ", ".join(flagged) +
                              ". Consider leaving them out or pseudonymising." if flagged else "")
        self.completeChanged.emit()

    def _guess(self, reader):
        """The guessed mapping; a guess from values alone is shown as a question to confirm."""
        try:
            return guess_mapping(reader) if reader.fixed_mapping is None else reader.fixed_mapping
        except UnconfirmedMapping as exc:
            guessed = ", ".join(f"{role}: {column}" for role, column in exc.guessed.items())
            self.banner.show_info("Is this an event log? No column name says which column holds the "
                                  f"{' / '.join(exc.guessed)}; guessed from the values alone ({guessed}). "
                                  "Check the columns below, then confirm.")
            self.confirm.show()
            return exc.mapping
        except JourneyError as exc:          # not fatal: the user picks the columns below
            self.banner.show_info(f"{exc}. Choose the columns below.")
            return None

    def _offer_object_types(self, path: str) -> None:
        """For an OCEL log, fill the object-type choice (most objects first) once per file."""
        is_ocel = bool(path) and Path(path).is_file() and detect_format(path) == "ocel"
        self.object_type.setEnabled(is_ocel)
        if not is_ocel or self.object_type.property("path") == path:
            return
        self.object_type.blockSignals(True)
        self.object_type.clear()
        for name, count in ocel_object_types(path):
            self.object_type.addItem(f"{name} ({count:,} objects)", name)
        self.object_type.setProperty("path", path)
        self.object_type.blockSignals(False)

    def _object_type_chosen(self) -> None:
        if self.object_type.isEnabled():
            self._reload()

    def _reload(self) -> None:
        """Read the file again with the new reading options (nothing to do before a file is chosen)."""
        if self.path.text().strip():
            self.load(self.path.text())

    def _reading_options(self) -> ImportOptions:
        """How to read the file (before columns are chosen): lifecycle mode and OCEL object type."""
        return ImportOptions(lifecycle=self.lifecycle.currentData() or "auto",
                             object_type=self.object_type.currentData() if self.object_type.isEnabled() else None)

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        if getattr(self, "reader", None) is None:
            return False
        if not self.confirm.isHidden() and not self.confirm.isChecked():
            return False
        return all(self.roles[r].currentText() != NOT_SET for r in ("user", "event", "time"))

    def options(self) -> ImportOptions:
        fixed = self.reader.fixed_mapping is not None
        session = self.roles["session"].currentText()
        anonymous = self.roles["anonymous"].currentText()
        return ImportOptions(
            user=None if fixed else self.roles["user"].currentText(),
            anonymous=None if fixed or anonymous == NOT_SET else anonymous,
            event=None if fixed else self.roles["event"].currentText(),
            time=None if fixed else self.roles["time"].currentText(),
            session=None if fixed or session == NOT_SET else session,
            time_format=self.time_format.text().strip() or None, timezone=self.timezone.text().strip() or "UTC",
            date_order=None if self.date_order.currentText() == "detect" else self.date_order.currentText(),
            pseudonymize=self.pseudonymize.isChecked(), keep_identical_rows=self.keep_identical.isChecked(),
            drop_columns=tuple(c.strip() for c in self.drop.text().split(",") if c.strip()),
            chunk_rows=GUI_CHUNK_ROWS, lifecycle=self._reading_options().lifecycle,
            object_type=self._reading_options().object_type)


class ProgressPage(QWizardPage):
    """Runs the import with a progress bar, events per second and Cancel."""

    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.setTitle("Importing")
        self.wiz = wizard
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.rate = QLabel()
        self.banner = Banner()
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.rate)
        layout.addWidget(self.banner)
        layout.addWidget(self.cancel_button)
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self.progressed)
        self.runner.finished.connect(self.done)
        self.runner.failed.connect(self.failed)
        self.summary = None
        self._cancelled = False

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.summary, self._cancelled = None, False
        self.banner.hide()
        self.bar.setValue(0)
        # Said until the first rows are counted: a vendor export is parsed whole first (seconds at 0%).
        self.rate.setText("Reading the file…")
        self.started = time.perf_counter()
        self.rows = 0
        source = self.wiz.source_page
        self.runner.start(self._run, self.wiz.project_path, source.path.text(), source.options())

    def _run(self, project_path, file_path, options, progress):
        def report(fraction: float, rows: int) -> None:
            if self._cancelled:
                raise ImportCancelled()
            self.rows = rows
            progress(fraction)
        return import_file(project_path, file_path, options, progress=report)

    def progressed(self, fraction: float) -> None:
        self.bar.setValue(int(fraction * 1000))
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        self.rate.setText(f"{self.rows:,} rows read · {self.rows / elapsed:,.0f} rows/s")

    def cancel(self) -> None:
        self._cancelled = True

    def done(self, summary) -> None:
        self.summary = summary
        self.bar.setValue(1000)
        self.completeChanged.emit()
        self.wiz.next()

    def failed(self, message: str) -> None:
        self.banner.show_error(message)

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return self.summary is not None


class SummaryPage(QWizardPage):
    """What was imported, and the rejected rows (line, reason, raw text) to browse."""

    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.setTitle("Imported")
        self.wiz = wizard
        self.text = plain_label()            # the summary names the file and rejected rows
        self.text.setWordWrap(True)
        self.rejected, self.rejected_model = make_table()
        layout = QVBoxLayout(self)
        self.rejected_title = QLabel("Rejected rows")
        layout.addWidget(self.text)
        layout.addWidget(self.rejected_title)
        layout.addWidget(self.rejected, 1)
        layout.addStretch(0)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        summary = self.wiz.progress_page.summary
        self.text.setText(summary.describe())
        with Project.open(self.wiz.project_path) as project:
            rows = project.rejected_rows()
        file_name = str(Path(summary.file).resolve())
        mine = rows[rows["source"] == file_name][["line", "reason", "raw"]]
        self.rejected_model.set_frame(mine)
        # An empty table reads as "something failed to show": say there were none instead.
        self.rejected_title.setText(f"Rejected rows ({len(mine):,})" if len(mine) else "No rows were rejected.")
        self.rejected.setVisible(bool(len(mine)))
        self.wiz.imported.emit()


class ImportWizard(QWizard):
    imported = Signal()

    def __init__(self, project_path: Path, file_path: str | None = None, parent=None):
        super().__init__(parent)
        self.project_path = Path(project_path)
        self.setWindowTitle(f"Import events into {self.project_path.stem}")   # the target, always named
        self.source_page = SourcePage(self)
        self.progress_page = ProgressPage(self)
        self.summary_page = SummaryPage(self)
        for page in (self.source_page, self.progress_page, self.summary_page):
            self.addPage(page)
        self.resize(1100, 800)
        if file_path:
            self.source_page.load(file_path)

    def reject(self) -> None:
        self.source_page.reading.cancel()       # a file still being read is let go (its result unused)
        self.progress_page.cancel()
        self.progress_page.runner.wait(10_000)
        super().reject()


def unique_project_path(folder: Path, name: str) -> Path:
    """``folder/name.journey``, or ``name 2.journey``, ``name 3.journey``… when it is taken."""
    candidate, number = Path(folder) / f"{name}{SUFFIX}", 2
    while candidate.exists():
        candidate, number = Path(folder) / f"{name} {number}{SUFFIX}", number + 1
    return candidate


class ImportTargetDialog(QDialog):
    """Where a dropped or opened event file goes: a new project named after the file (the default),
    or the open project, named. The built-in demo is never offered as a target."""

    def __init__(self, file_path: str, folder: Path, current: Path | None, current_is_demo: bool, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import events")
        self.file_path, self.folder = Path(file_path), Path(folder)
        self.new_choice = QRadioButton("New project from this file")
        self.new_choice.setChecked(True)
        self.name = QLineEdit(self.file_path.stem)
        self.where = plain_label()
        self.where.setWordWrap(True)
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self.choose_folder)
        self.add_choice = QRadioButton()
        self.current = current if current is not None and not current_is_demo else None
        if self.current is not None:
            self.add_choice.setText(f"Add to {self.current.stem}")
        else:
            self.add_choice.setText("Add to the demo project (not possible: the demo is rebuilt from code)"
                                    if current_is_demo else "Add to an open project (none is open)")
            self.add_choice.setEnabled(False)
        self.name.textChanged.connect(self._show_where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Continue")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Project name", self.name)
        form.addRow(self.where, choose)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(f"Import {self.file_path.name} into:"))
        layout.addWidget(self.new_choice)
        layout.addLayout(form)
        layout.addWidget(self.add_choice)
        layout.addWidget(buttons)
        self._show_where()

    def _show_where(self) -> None:
        self.where.setText(f"Saved as {self.new_path()}")

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the new project", str(self.folder))
        if folder:
            self.folder = Path(folder)
            self._show_where()

    def new_path(self) -> Path:
        return unique_project_path(self.folder, self.name.text().strip() or self.file_path.stem)

    def target(self) -> tuple[Path, bool]:
        """The chosen project file and whether it is new (to be created)."""
        if self.add_choice.isChecked() and self.current is not None:
            return self.current, False
        return self.new_path(), True
