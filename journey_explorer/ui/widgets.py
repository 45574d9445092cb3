"""Small shared widgets: a pandas table model, KPI tiles, the inline error banner, and text that
shows data (event names, file names, property values) literally.

A QLabel, a message box and a tooltip guess whether their text is HTML: an event named
``<img src=file:///...>`` would load that file and show the picture. Text made from data goes
through ``plain_label``, ``plain_tooltip``, ``message_box`` or ``ask_text`` instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import Qt as QtGui_Qt
from PySide6.QtWidgets import QHeaderView, QInputDialog, QLabel, QMessageBox, QTableView, QWidget

from journey_explorer.analysis import units
from journey_explorer.analysis.columns import Columns

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FormattedTable:
    """A table's cells as the screen shows them: what ``FrameModel.show_table`` needs."""

    frame: pd.DataFrame | Columns
    columns: list
    cells: list[list[str]]
    numeric: list[bool]


def format_table(frame: pd.DataFrame | Columns) -> FormattedTable:
    """Every cell of ``frame`` as text (any thread: no Qt object is touched). The views build and format
    their tables on their worker thread: at 10M events this took tens of ms on the GUI thread.

    A renderer's table may name each column's unit (frame.attrs["units"]: "percent" | "duration" |
    "points", values as shares 0-1 / seconds); exports write the raw numbers, the screen shows them humanly."""
    unit_of = frame.attrs.get("units", {})
    if isinstance(frame, Columns):
        rows = frame.rows()
        numeric = [frame.is_numeric(c) for c in frame.columns]
    else:
        from pandas.api.types import is_bool_dtype, is_numeric_dtype
        frame = frame.reset_index(drop=True)
        rows = frame.itertuples(index=False, name=None)
        numeric = [is_numeric_dtype(t) and not is_bool_dtype(t) for t in frame.dtypes]
    columns = list(frame.columns)
    formatters = [_UNIT_FORMATS.get(unit_of.get(c), format_cell) for c in columns]
    cells = [[f(v) for f, v in zip(formatters, row)] for row in rows]
    return FormattedTable(frame, columns, cells, numeric)


class FrameModel(QAbstractTableModel):
    """A read-only view of a DataFrame (or of ``analysis.columns.Columns``, which needs no pandas: the
    first view on start-up); numbers right-aligned and formatted for reading.

    Cells are formatted once when the frame is set: asking pandas for each cell on every repaint
    costs tens of milliseconds on the GUI thread.
    """

    def __init__(self, frame: pd.DataFrame | Columns | None = None, literal_headers: bool = False):
        super().__init__()
        # A file's own column names are shown as written (the user types them into the import's
        # options); an analysis table's "drop_off" reads "drop off".
        self.literal_headers = literal_headers
        self._frame = None           # a DataFrame, a Columns, or None (empty)
        self._columns: list = []
        self._cells: list[list[str]] = []
        self._numeric: list[bool] = []
        if frame is not None:
            self.set_frame(frame)

    @property
    def frame(self) -> pd.DataFrame:
        """The table shown, as a DataFrame (pandas is imported only when someone asks)."""
        if not hasattr(self._frame, "iloc"):
            import pandas as pd
            self._frame = pd.DataFrame() if self._frame is None else self._frame.to_frame()
        return self._frame

    def clear(self) -> None:
        self.set_frame(Columns({}))

    def set_frame(self, frame: pd.DataFrame | Columns) -> None:
        self.show_table(format_table(frame))

    def show_table(self, table: FormattedTable) -> None:
        """Show a table formatted beforehand (``format_table``, e.g. on a view's worker thread)."""
        self.beginResetModel()
        self._frame, self._columns, self._cells, self._numeric = table.frame, table.columns, table.cells, table.numeric
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and self._numeric[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            name = str(self._columns[section])
            return name if self.literal_headers else name.replace("_", " ")
        return None


def _unit_cell(formatter):
    return lambda value: "" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else formatter(float(value))


_UNIT_FORMATS = {"percent": _unit_cell(units.percent), "duration": _unit_cell(units.duration),
                 "points": _unit_cell(lambda v: f"{v * 100:+.1f} pts")}     # a difference of two shares


def format_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return f"{int(value):,}"
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f":
        value = float(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def make_table(literal_headers: bool = False) -> tuple[QTableView, FrameModel]:
    model = FrameModel(literal_headers=literal_headers)
    table = QTableView()
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    # Columns are sized once per new frame from its first 50 rows. (ResizeToContents would re-measure
    # every row later in the event loop, blocking the window for ~0.1 s on big tables.)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(False)     # a stretched last column took half the width while others were cut
    model.modelReset.connect(lambda: size_columns(table, model))
    return table, model


def size_columns(table: QTableView, model: FrameModel, sample_rows: int = 50) -> None:
    """Width per column from the longest text among the header and the first rows (no layout pass)."""
    metrics = table.fontMetrics()
    header = table.horizontalHeader()
    for column in range(model.columnCount()):
        texts = [str(model.headerData(column, Qt.Orientation.Horizontal))]
        texts += [row[column] for row in model._cells[:sample_rows]]
        widest = max(metrics.horizontalAdvance(t) for t in texts)
        header.resizeSection(column, min(widest + 24, 420))


class Banner(QLabel):
    """An inline message above a chart (errors are shown here, never as a traceback)."""

    def __init__(self):
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)      # messages name files and events
        self.setWordWrap(True)
        self.hide()

    is_error = False

    def show_error(self, message: str) -> None:
        self.is_error = True
        self.setStyleSheet("background: #FDECEA; color: #8A1F11; padding: 8px; border-radius: 4px;")
        self.setText(message)
        self.show()

    def show_info(self, message: str) -> None:
        self.is_error = False
        self.setStyleSheet("background: #EAF3FB; color: #0B3D61; padding: 8px; border-radius: 4px;")
        self.setText(message)
        self.show()


def plain_label(text: str = "", **kwargs) -> QLabel:
    """A QLabel that shows ``text`` as it is, never as HTML."""
    label = QLabel(**kwargs)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_tooltip(text: str) -> str:
    """A tooltip showing ``text`` literally (tooltips have no plain-text switch: escaped HTML)."""
    return QtGui_Qt.convertFromPlainText(text) if text else ""


def message_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str) -> None:
    """A modal message whose text is shown literally (QMessageBox.warning guesses HTML)."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> tuple[str, bool]:
    """``QInputDialog.getText`` with its label (which names events or patterns) shown literally."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    for child in dialog.findChildren(QLabel):
        child.setTextFormat(Qt.TextFormat.PlainText)
    accepted = dialog.exec() == QInputDialog.DialogCode.Accepted
    value = dialog.textValue()
    dialog.deleteLater()
    return value, accepted
