"""The surfaces a chart renderer draws on when one plot is not enough: key-figure tiles over a
trend, or two plots side by side. Plain widgets, the same on screen and in exports."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from journey_explorer.charts.plotting import plot_widget


class Tile(QFrame):
    """A key figure: a big number over a caption."""

    def __init__(self, caption: str, value: str = "—"):
        super().__init__()
        self.setObjectName("tile")
        layout = QVBoxLayout(self)
        self.value = QLabel(value)
        self.value.setObjectName("tileValue")
        self.caption = QLabel(caption)
        self.caption.setObjectName("tileCaption")
        for label in (self.value, self.caption):     # wraps in a narrow window rather than widening it
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)   # captions name events: never read as HTML
        layout.addWidget(self.value)
        layout.addWidget(self.caption)

    def set(self, value: str, caption: str | None = None) -> None:
        self.value.setText(value)
        if caption is not None:
            self.caption.setText(caption)


class TilesOverTrend(QWidget):
    """A row of key-figure tiles (``tiles[key]``) above a trend chart (``trend``)."""

    def __init__(self, captions: dict[str, str]):
        super().__init__()
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.tiles = {key: Tile(caption) for key, caption in captions.items()}
        for tile in self.tiles.values():
            row.addWidget(tile)
        layout.addLayout(row)
        self.trend = plot_widget()
        layout.addWidget(self.trend, 1)


class SideBySide(QSplitter):
    """Two plots side by side (``left``, ``right``)."""

    def __init__(self, sizes: tuple[int, int] = (600, 500)):
        super().__init__(Qt.Orientation.Horizontal)
        self.left, self.right = plot_widget(), plot_widget()
        self.addWidget(self.left)
        self.addWidget(self.right)
        self.setSizes(list(sizes))


class ReadoutOverTwo(QWidget):
    """A bold one-line readout above two plots side by side (``left``, ``right``)."""

    def __init__(self):
        super().__init__()
        layout = QVBoxLayout(self)
        self.readout = QLabel()
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setStyleSheet("font-weight: bold;")
        row = QSplitter(Qt.Orientation.Horizontal)
        self.left, self.right = plot_widget(), plot_widget()
        row.addWidget(self.left)
        row.addWidget(self.right)
        # Halves, whatever the plots' size hints: on a 1024 px screen the right plot (the funnel's
        # "where the lost went next", with its row labels and headings) got a quarter and was cut off.
        row.setStretchFactor(0, 1)
        row.setStretchFactor(1, 1)
        row.setSizes([1, 1])
        layout.addWidget(self.readout)
        layout.addWidget(row, 1)
