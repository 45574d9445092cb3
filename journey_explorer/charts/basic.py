"""Plain charts drawn on a pyqtgraph plot: ranked bars, diverging bars, funnels, stacked bars,
lines, heatmaps and the path graph. Each function clears the plot and draws one result."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np
from PySide6 import QtGui
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from journey_explorer.analysis import units
from journey_explorer.charts.plotting import pg
from journey_explorer.charts.theme import FAILURE, NEUTRAL, OKABE_ITO, SUCCESS, Theme, literal, style_plot, widest

NO_DATA = "#8C8C8C"             # hatch over cells without data: never the colour of 0 %
_NICE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
if TYPE_CHECKING:      # annotations only: importing networkx costs ~0.6 s at start-up
    import networkx as nx


def message(plot: pg.PlotWidget, text: str, theme: Theme) -> None:
    """An empty chart that says why it is empty (no axes, the sentence in the middle)."""
    item = _reset(plot, theme)
    item.hideAxis("left")
    item.hideAxis("bottom")
    label = pg.TextItem(text, color=theme.foreground, anchor=(0.5, 0.5))
    label.setFont(theme.font(1.0))
    label.setTextWidth(600)
    item.addItem(label)
    label.setPos(0.5, 0.5)
    item.setXRange(0, 1, padding=0)
    item.setYRange(0, 1, padding=0)


def _reset(plot: pg.PlotWidget, theme: Theme) -> pg.PlotItem:
    item = plot.getPlotItem()
    item.clear()
    _remove_colour_bar(item)
    _remove_legend_above(item)
    _forget_resize_hook(item)
    item.legend = None
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTicks(None)
        item.showAxis(axis)
    style_plot(plot, theme)
    item.setMenuEnabled(False)
    return item


def _text(item: pg.PlotItem, text: str, x: float, y: float, theme: Theme, anchor=(0, 0.5),
          colour: str | None = None, scale: float = 0.9, bold: bool = False) -> pg.TextItem:
    label = pg.TextItem(text, color=colour or theme.foreground, anchor=anchor)
    label.setFont(theme.font(scale, bold))
    label.setPos(x, y)
    item.addItem(label)
    return label


def axis_label(plot: pg.PlotWidget | pg.PlotItem, side: str, text: str, theme: Theme) -> None:
    """An axis title in the theme's muted colour and a legible size (pyqtgraph's default is tiny)."""
    from PySide6.QtGui import QFontMetrics
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    item.getAxis(side).setLabel(literal(text), color=theme.muted, **{"font-size": f"{theme.font_size * 0.9:.0f}pt"})
    if side == "bottom":            # tick labels and this title, in the theme's type (see style_plot)
        item.getAxis(side).setHeight(QFontMetrics(theme.font()).height() * 2 + 22)


def share_ticks(low: float, high: float, points: bool = False, most: int = 7) -> list[tuple[float, str]]:
    """Ticks for an axis of shares (0-1): round percentages ("20%"), or percentage points with a
    sign ("+20 pts") for a difference of shares; the step is the smallest round one giving at most
    ``most`` ticks.

    >>> share_ticks(0, 1)
    [(0.0, '0%'), (0.2, '20%'), (0.4, '40%'), (0.6, '60%'), (0.8, '80%'), (1.0, '100%')]
    >>> share_ticks(-0.45, 0.45, points=True)
    [(-0.4, '-40 pts'), (-0.2, '-20 pts'), (0.0, '0'), (0.2, '+20 pts'), (0.4, '+40 pts')]
    >>> share_ticks(0, 0.06)
    [(0.0, '0%'), (0.01, '1%'), (0.02, '2%'), (0.03, '3%'), (0.04, '4%'), (0.05, '5%'), (0.06, '6%')]
    """
    span = max(high - low, 1e-9)
    step = next((s for s in _NICE_STEPS if span / s <= most - 1), _NICE_STEPS[-1])
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    ticks = []
    for i in range(first, last + 1):
        value = round(i * step, 6)
        if points:
            text = "0" if i == 0 else f"{value * 100:+.0f} pts"
        else:
            text = f"{value * 100:.0f}%"
        ticks.append((value, text))
    return ticks


def _share_axis(item: pg.PlotItem, side: str, low: float, high: float, points: bool = False) -> None:
    axis = item.getAxis(side)
    axis.enableAutoSIPrefix(False)          # never "(x0.001)" under a share
    axis.setTicks([share_ticks(low, high, points)])


def category_ticks(plot: pg.PlotWidget, xs: np.ndarray, labels: list[str], theme: Theme) -> list:
    """Every k-th label, k chosen so that the labels do not overlap at the plot's current width."""
    if not len(labels):
        return []
    room = max(plot.width() - 80, 200)                      # minus the left axis
    every = max(1, math.ceil(len(labels) * (widest(labels, theme.font()) + 24) / room))
    return [(x, label) for i, (x, label) in enumerate(zip(xs, labels)) if i % every == 0]


CELL_TEXT_SCALE = 0.8        # a heatmap cell's number, relative to the theme's type


def cell_text_fits(cell_width: float, cell_height: float, samples: list[str], theme: Theme) -> bool:
    """Whether numbers like ``samples`` fit inside a heatmap cell of this size in pixels (a margin each
    side); needs a QGuiApplication for the font's metrics (tests/ui/test_heatmap_cell_numbers.py)."""
    font = theme.font(CELL_TEXT_SCALE)
    return widest(samples, font) + 6 <= cell_width and QFontMetrics(font).height() + 2 <= cell_height


class CellNumber(NamedTuple):
    """One number written in a heatmap cell: its centre (plot units), its text and colour."""

    x: float
    y: float
    text: str
    colour: str


class CellNumbers(pg.GraphicsObject):
    """All of a heatmap's cell numbers in one item that paints them centred on their cells, at the
    font's size whatever the zoom (as a ``pg.TextItem`` is drawn). A TextItem per cell made drawing a
    16 x 13 retention heatmap take ~0.3 s on the GUI thread; one item for all takes ~0.05 s."""

    def __init__(self, numbers: list[CellNumber], font: QtGui.QFont, rect: QRectF):
        super().__init__()
        self.numbers, self.font, self._rect = numbers, font, rect
        self._pens = {colour: QPen(QColor(colour)) for colour in {n.colour for n in numbers}}
        self._line_height = QFontMetrics(font).height()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, painter, *args) -> None:
        # Drawn in scene units (pixels before any export scaling), like a TextItem: the plot's
        # data-to-scene scaling is undone, an export's own scaling is kept.
        to_scene = self.sceneTransform()
        from_scene, invertible = to_scene.inverted()
        if not invertible:
            return
        painter.save()
        painter.setTransform(from_scene * painter.transform())
        painter.setFont(self.font)
        half = self._line_height
        for number in self.numbers:
            centre = to_scene.map(QPointF(number.x, number.y))
            painter.setPen(self._pens[number.colour])
            painter.drawText(QRectF(centre.x() - 10 * half, centre.y() - half, 20 * half, 2 * half),
                             Qt.AlignmentFlag.AlignCenter, number.text)
        painter.restore()


class HeatmapCells(pg.ImageItem):
    """The heatmap's coloured cells; hovering one says its row, column and value in a tooltip (the
    numbers written in the cells show only when they fit)."""

    def __init__(self, image, describe):
        super().__init__(image)
        self.describe = describe                # (column, row from the bottom) -> text, or ""
        self.setAcceptHoverEvents(True)

    def hoverEvent(self, event) -> None:  # noqa: N802 - pyqtgraph API
        if event.isExit():
            self.setToolTip("")
            return
        pos = event.pos()
        width, height = self.image.shape[:2]
        col, row = int(pos.x()), int(pos.y())
        self.setToolTip(self.describe(col, row) if 0 <= col < width and 0 <= row < height else "")


def ranked_bars(plot: pg.PlotWidget, labels: list[str], values: list[float], theme: Theme,
                value_text: list[str] | None = None, colours: list[str] | None = None, title: str = "") -> None:
    """Horizontal bars, first label on top, value written at the end of each bar."""
    item = _reset(plot, theme)
    n = len(labels)
    labels = fit_labels(plot, labels, theme)
    ys = np.arange(n)[::-1].astype(float)
    brushes = [pg.mkBrush(c) for c in (colours or [OKABE_ITO[0]] * n)]
    item.addItem(pg.BarGraphItem(x0=np.zeros(n), y=ys, height=0.7, width=np.asarray(values, float),
                                 brushes=brushes, pen=pg.mkPen(None)))
    item.getAxis("left").setTicks([[(y, label) for y, label in zip(ys, labels)]])
    top = max([abs(v) for v in values] + [1e-9])
    texts = value_text or [f"{v:,.0f}" for v in values]
    for y, value, text in zip(ys, values, texts):
        _text(item, text, value + top * 0.01, y, theme)
    item.setXRange(0, _right_with_labels(plot, values, texts, labels, theme, top), padding=0)
    item.setYRange(-0.6, n - 0.4, padding=0)
    item.setTitle(literal(title), color=theme.foreground)


def fit_labels(plot: pg.PlotWidget, labels: list[str], theme: Theme, share: float = 0.4) -> list[str]:
    """Category labels shortened in the middle ("T09-1 Process or…from party 1") to at most ``share`` of
    the plot's current width, so long event names do not push the plot wider than its window (a slide,
    being wider, keeps them whole); labels that fit are left as they are."""
    metrics = QFontMetrics(theme.font())
    room = max(int(plot.width() * share), 190)      # a plot not laid out yet is narrow: keep ~28 characters
    return [metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, room) if metrics.horizontalAdvance(label) > room
            else label for label in labels]


def diverging_bars(plot: pg.PlotWidget, labels: list[str], values: list[float], marks: list[str],
                   theme: Theme, positive: str = "A", negative: str = "B") -> None:
    """Bars left (B more often) and right (A more often) of zero, with significance marks."""
    item = _reset(plot, theme)
    n = len(labels)
    ys = np.arange(n)[::-1].astype(float)
    values = np.asarray(values, float)
    brushes = [pg.mkBrush(SUCCESS if v >= 0 else FAILURE) for v in values]
    item.addItem(pg.BarGraphItem(x0=np.minimum(values, 0), y=ys, height=0.7, width=np.abs(values),
                                 brushes=brushes, pen=pg.mkPen(None)))
    labels = fit_labels(plot, labels, theme)
    item.getAxis("left").setTicks([[(y, label) for y, label in zip(ys, labels)]])
    texts = [f"{value * 100:+.0f} pts {mark}".strip() for value, mark in zip(values, marks)]
    for y, value, text in zip(ys, values, texts):
        anchor = (0, 0.5) if value >= 0 else (1, 0.5)
        _text(item, text, value + (0.01 if value >= 0 else -0.01), y, theme, anchor)
    reach = _reach_with_labels(plot, max(float(np.abs(values).max()) if n else 0.1, 0.05), texts, labels, theme)
    item.setXRange(-reach, reach, padding=0)
    _share_axis(item, "bottom", -reach, reach, points=True)
    item.setYRange(-0.6, n - 0.4, padding=0)
    item.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen(theme.muted)))
    axis_label(item, "bottom", f"share of {positive} minus share of {negative}, points", theme)


def _right_with_labels(plot: pg.PlotWidget, values, texts: list[str], row_labels: list[str], theme: Theme,
                       top: float) -> float:
    """The x range's right end such that every bar's value label ends inside the plot at its current
    width: for each bar, value + label width in data units <= right, solved for right."""
    font = theme.font(0.9)
    pixels = max(plot.width() - widest(row_labels, theme.font()) - 30, 1)
    needed = [abs(v) / max(1 - (widest([t], font) + 12) / pixels, 0.25) for v, t in zip(values, texts)]
    return max(needed + [top * 1.15])


def _reach_with_labels(plot: pg.PlotWidget, longest: float, texts: list[str], row_labels: list[str],
                       theme: Theme) -> float:
    """Half-width of a symmetric x range that fits the longest bar plus its value label, at the plot's
    current width: reach = longest + label width in data units, solved for reach."""
    label = widest(texts, theme.font(0.9)) + 12
    axis = widest(row_labels, theme.font()) + 30
    pixels = max(plot.width() - axis, 4 * label, 1)
    return max(longest / max(1 - 2 * label / pixels, 0.25), longest * 1.15)


def funnel_bars(plot: pg.PlotWidget, steps: list[str], users: list[int], theme: Theme, unit: str = "users") -> None:
    """Vertical bars per step, conversion from start and from the previous step written above."""
    item = _reset(plot, theme)
    xs = np.arange(len(steps)).astype(float)
    start = max(users[0], 1) if users else 1
    item.addItem(pg.BarGraphItem(x=xs, height=np.asarray(users, float), width=0.6,
                                 brush=pg.mkBrush(OKABE_ITO[0]), pen=pg.mkPen(None)))
    lost = [max(users[i - 1] - users[i], 0) if i else 0 for i in range(len(users))]
    lost_colour = QColor(NEUTRAL).lighter(150)
    item.addItem(pg.BarGraphItem(x=xs, y0=np.asarray(users, float), height=np.asarray(lost, float), width=0.6,
                                 brush=pg.mkBrush(lost_colour), pen=pg.mkPen(None)))
    texts = [f"{units.count(u)}" + (f"\n{units.percent(u / start, 1)} of start\n"
                                    f"{units.percent(u / max(users[i - 1], 1), 0)} of previous" if i else "")
             for i, u in enumerate(users)]
    labels = []
    for i, (x, u, text) in enumerate(zip(xs, users, texts)):
        # On top of the whole column (kept + lost): on the background, never over the pale "lost" bar,
        # where the theme's text colour would vanish in the dark theme.
        top = max(u, users[i - 1] if i else u)
        labels.append(_text(item, text, x, top + start * 0.02, theme, anchor=(0.5, 1), scale=0.8))
    lines = [line for t in texts for line in t.split("\n")]

    def fit_to_columns() -> None:
        """Step names and the numbers over the bars sized to the columns' real width (again on resize)."""
        column = item.vb.sceneBoundingRect().width() / max(len(steps), 1) - 10     # pixels per step, a gap
        scale = next((s for s in (0.8, 0.7, 0.62) if widest(lines, theme.font(s)) <= column), 0.62)
        for label in labels:
            label.setFont(theme.font(scale))
        item.getAxis("bottom").setTicks([[(x, step_label(s, column, theme)) for x, s in zip(xs, steps)]])

    _on_resize(item, fit_to_columns)
    from PySide6.QtGui import QFontMetrics
    item.getAxis("bottom").setHeight(QFontMetrics(theme.font()).height() * 2 + 16)     # two-line step names
    item.getAxis("left").enableAutoSIPrefix(False)
    axis_label(item, "left", unit, theme)
    item.setXRange(-0.6, len(steps) - 0.4, padding=0)
    item.setYRange(0, start * 1.3, padding=0)


def step_label(label: str, pixels: float, theme: Theme) -> str:
    """A step's name under its column: over two lines, each shortened in the middle to the column's
    width so neighbouring names never run into each other."""
    metrics = QFontMetrics(theme.font())
    room = max(int(pixels), 40)
    return "\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, room) for line in _wrap(label).split("\n"))


def _wrap(label: str, width: int = 14) -> str:
    """A long category label over two lines, split at the space nearest the middle.

    >>> _wrap("Connect Data Source"), _wrap("Sign Up")
    ('Connect\\nData Source', 'Sign Up')
    """
    if len(label) <= width or " " not in label:
        return label
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return f"{label[:cut]}\n{label[cut + 1:]}"


def legend_above(plot: pg.PlotWidget, item: pg.PlotItem, theme: Theme, names: list[str]) -> pg.LegendItem:
    """A legend in the row above the plot area (where a title would go), so it never covers a line or
    a bar: one row when the names fit the plot's width, more rows otherwise. Series added with a
    ``name`` after this call are listed in it (pyqtgraph's ``item.legend``)."""
    font = theme.font()

    def columns_for(width: float) -> int:
        def fits(columns: int) -> bool:       # pyqtgraph lays entries out row by row in a grid
            return sum(widest(names[c::columns], font) + 50 for c in range(columns)) <= width - 20
        return next((c for c in range(len(names), 0, -1) if fits(c)), 1)
    columns = columns_for(max(plot.width(), 400))
    legend = pg.LegendItem(colCount=columns, labelTextColor=theme.foreground, labelTextSize=f"{theme.font_size}pt",
                           horSpacing=24, verSpacing=-4)
    # Not in the layout's title cell (the hidden title label holds it): anchored to the plot item's
    # top left, over the title row, which is made as tall as the legend's rows.
    legend.setParentItem(item)
    legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(8, 2))
    rows = -(-len(names) // columns)
    item.layout.setRowFixedHeight(0, rows * (QFontMetrics(font).height() + 16) + 4)  # until fit_legend_row
    item.legend = legend
    item._legend_above = legend

    def follow_width() -> None:           # as many columns as the plot's real width holds (on resize too)
        wanted = columns_for(item.sceneBoundingRect().width())
        if wanted != legend.columnCount:
            legend.setColumnCount(wanted)
            fit_legend_row(item)
    item._legend_follow = follow_width
    item.vb.sigResized.connect(follow_width)
    return legend


def fit_legend_row(item: pg.PlotItem) -> None:
    """The title row as tall as the legend above the plot, once its entries are in."""
    legend = getattr(item, "_legend_above", None)
    if legend is not None:
        legend.updateSize()
        item.layout.setRowFixedHeight(0, legend.boundingRect().height() + 4)


def _remove_legend_above(item: pg.PlotItem) -> None:
    legend = getattr(item, "_legend_above", None)
    if legend is None:
        return
    follow = getattr(item, "_legend_follow", None)
    if follow is not None:
        try:
            item.vb.sigResized.disconnect(follow)
        except (RuntimeError, TypeError):
            pass
        item._legend_follow = None
    if legend.scene() is not None:
        legend.scene().removeItem(legend)
    item._legend_above = None
    item.layout.setRowFixedHeight(0, 0 if not item.titleLabel.isVisible() else item.titleLabel.maximumHeight())


def stacked_bars(plot: pg.PlotWidget, categories: list[str], series: dict[str, np.ndarray], colours: dict[str, str],
                 theme: Theme) -> None:
    """Stacked bars; negative series stack downwards from zero (lifecycle's dormant users)."""
    item = _reset(plot, theme)
    legend_above(plot, item, theme, list(series))
    xs = np.arange(len(categories)).astype(float)
    up, down = np.zeros(len(xs)), np.zeros(len(xs))
    for name, values in series.items():
        values = np.asarray(values, float)
        base = np.where(values >= 0, up, down)
        bar = pg.BarGraphItem(x=xs, y0=base, height=values, width=0.75, brush=pg.mkBrush(colours[name]),
                              pen=pg.mkPen(None))
        item.addItem(bar)
        item.legend.addItem(bar, literal(name))
        up, down = np.where(values >= 0, up + values, up), np.where(values < 0, down + values, down)
    fit_legend_row(item)
    item.getAxis("bottom").setTicks([category_ticks(plot, xs, categories, theme)])
    item.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen(theme.muted)))
    item.setXRange(-0.6, len(categories) - 0.4, padding=0)


def line_chart(plot: pg.PlotWidget, x_labels: list[str], lines: dict[str, np.ndarray], theme: Theme,
               percent: bool = False) -> None:
    item = _reset(plot, theme)
    legend_above(plot, item, theme, list(lines))
    xs = np.arange(len(x_labels)).astype(float)
    for i, (name, values) in enumerate(lines.items()):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        item.plot(xs, np.asarray(values, float), pen=pg.mkPen(colour, width=3), symbol="o", symbolSize=7,
                  symbolBrush=colour, symbolPen=pg.mkPen(None), name=literal(name))
    fit_legend_row(item)
    item.getAxis("bottom").setTicks([category_ticks(plot, xs, x_labels, theme)])
    if percent:
        _share_axis(item, "left", 0, 1)
        item.setYRange(0, 1.05, padding=0)
    else:
        item.getAxis("left").enableAutoSIPrefix(False)


def heatmap(plot: pg.PlotWidget, matrix: np.ndarray, row_labels: list[str], col_labels: list[str], theme: Theme,
            diverging: bool = False, fmt=None, scale_label: str = "", points: bool = False) -> None:
    """Cells coloured by value with the value written in each cell, a colour scale beside them, and
    cells without data (NaN) hatched grey so they never read as 0 %. Values are shares (0-1);
    ``points``: differences of shares, shown in percentage points."""
    for _ in heatmap_parts(plot, matrix, row_labels, col_labels, theme, diverging, fmt, scale_label, points):
        pass


def heatmap_parts(plot: pg.PlotWidget, matrix: np.ndarray, row_labels: list[str], col_labels: list[str],
                  theme: Theme, diverging: bool = False, fmt=None, scale_label: str = "",
                  points: bool = False) -> Iterator[None]:
    """``heatmap`` a part at a time (``yield from`` it in a renderer drawn in parts): the cells, then
    the colour scale (a plot of its own: ~30 ms, as much as the cells)."""
    item = _reset(plot, theme)
    rows, cols = matrix.shape
    fmt = fmt or ((lambda v: f"{v * 100:+.0f}") if points else (lambda v: units.percent(v, 0)))
    finite = matrix[np.isfinite(matrix)]
    reach = float(np.abs(finite).max()) if len(finite) else 1.0
    if diverging:
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(FAILURE), QColor("#F7F7F7"), QColor(SUCCESS)])
        levels = (-(reach or 1), reach or 1)
    else:
        cmap = pg.ColorMap([0.0, 1.0], [QColor("#F2F7FB"), QColor(OKABE_ITO[0])])
        levels = (0, reach or 1)
    hatch = QGraphicsRectItem(QRectF(0, 0, cols, rows))       # shows through the NaN (transparent) cells
    hatch.setBrush(QBrush(QColor(NO_DATA), Qt.BrushStyle.BDiagPattern))
    hatch.setPen(QPen(Qt.PenStyle.NoPen))
    item.addItem(hatch)
    def describe(col: int, row_from_bottom: int) -> str:
        r = rows - 1 - row_from_bottom
        value = matrix[r, col]
        shown = fmt(value) + (" pts" if points else "") if np.isfinite(value) else "no data yet"
        return QtGui.Qt.convertFromPlainText(f"{row_labels[r]} · {col_labels[col]}: {shown}")

    image = HeatmapCells(_cell_colours(matrix, cmap, levels), describe)
    image.setRect(QRectF(0, 0, cols, rows))
    item.addItem(image)
    numbers = []
    if rows * cols <= 400:
        # Each number in black or white, whichever reads better on its own cell (the cells' colours are
        # the same in every theme, so the theme's text colour would vanish on pale cells in dark mode).
        colours = cell_text_colours(matrix, cmap, levels)
        for r in range(rows):
            for c in range(cols):
                value = matrix[r, c]
                if np.isfinite(value) and not (points and abs(value) < 0.005):   # no "+0" wallpaper
                    numbers.append(CellNumber(c + 0.5, rows - r - 0.5, fmt(value), colours[r][c]))
    cell_numbers = CellNumbers(numbers, theme.font(CELL_TEXT_SCALE), QRectF(0, 0, cols, rows))
    item.addItem(cell_numbers)
    _show_cell_numbers_that_fit(item, cell_numbers, rows, cols, theme)
    item.getAxis("left").setTicks([[(rows - r - 0.5, label) for r, label in enumerate(fit_labels(plot, row_labels, theme))]])
    item.getAxis("bottom").setTicks([[(c + 0.5, label) for c, label in enumerate(col_labels)]])
    item.setXRange(0, cols, padding=0)
    item.setYRange(0, rows, padding=0)
    yield
    _colour_bar(item, cmap, levels, scale_label, points, theme, show_no_data=bool(np.isnan(matrix).any()))


def _show_cell_numbers_that_fit(item: pg.PlotItem, numbers: CellNumbers, rows: int, cols: int, theme: Theme) -> None:
    """The cells' numbers shown while the cells are big enough for them (the plot's real size, on
    screen or in an export, checked again whenever it is resized); else the tooltip says them."""
    samples = [number.text for number in numbers.numbers]

    def update() -> None:
        box = item.vb.sceneBoundingRect()
        fits = bool(samples) and cell_text_fits(box.width() / max(cols, 1), box.height() / max(rows, 1), samples, theme)
        numbers.setVisible(fits)

    _on_resize(item, update)


def _on_resize(item: pg.PlotItem, update) -> None:
    """Run ``update`` now and whenever the plot area changes size (one hook per plot, until its reset):
    what depends on pixels (numbers in cells, step names) follows the real size on screen and in exports."""
    _forget_resize_hook(item)
    item._resize_hook = update
    item.vb.sigResized.connect(update)
    update()


def _forget_resize_hook(item: pg.PlotItem) -> None:
    previous = getattr(item, "_resize_hook", None)
    if previous is not None:
        try:
            item.vb.sigResized.disconnect(previous)
        except (RuntimeError, TypeError):
            pass
        item._resize_hook = None


CELL_TEXT_DARK, CELL_TEXT_LIGHT = "#000000", "#FFFFFF"     # the pair that reads on any cell colour


def relative_luminance(rgb) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 components.

    >>> round(relative_luminance((255, 255, 255)), 3), round(relative_luminance((0, 0, 0)), 3)
    (1.0, 0.0)
    """
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(float(v)) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first, second) -> float:
    """WCAG contrast ratio of two colours (1 to 21; body text wants at least 4.5)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def readable_on(rgb) -> str:
    """Black or white text, whichever contrasts more with the background ``rgb``."""
    dark, light = (0, 0, 0), (255, 255, 255)
    return CELL_TEXT_DARK if contrast_ratio(rgb, dark) >= contrast_ratio(rgb, light) else CELL_TEXT_LIGHT


def cell_text_colours(matrix: np.ndarray, cmap: pg.ColorMap, levels: tuple[float, float]) -> list[list[str]]:
    """The text colour for each cell's number (rows as in ``matrix``), from the cell's own colour."""
    rgba = _cell_colours(matrix, cmap, levels)[:, ::-1].transpose(1, 0, 2)      # back to matrix order
    return [[readable_on(rgba[r, c]) for c in range(matrix.shape[1])] for r in range(matrix.shape[0])]


def _cell_colours(matrix: np.ndarray, cmap: pg.ColorMap, levels: tuple[float, float]) -> np.ndarray:
    """RGBA per cell (image orientation: x = column, y = row from the bottom); NaN fully transparent."""
    scaled = (np.nan_to_num(matrix, nan=levels[0]) - levels[0]) / (levels[1] - levels[0])
    rgba = cmap.map(np.clip(scaled, 0, 1).ravel(), mode="byte").reshape(*matrix.shape, 4)
    rgba[~np.isfinite(matrix)] = 0
    return rgba.transpose(1, 0, 2)[:, ::-1]


def _colour_bar(item: pg.PlotItem, cmap: pg.ColorMap, levels, label: str, points: bool, theme: Theme,
                show_no_data: bool) -> None:
    """A colour scale right of the heatmap, ticks as percentages (or points), and what hatching means."""
    bar = pg.ColorBarItem(values=levels, colorMap=cmap, interactive=False, width=14, colorMapMenu=False, rounding=0.001,
                          pen=theme.muted)
    ticks = [(v, text.replace(" pts", "")) for v, text in share_ticks(levels[0], levels[1], points, most=5)]
    bar.axis.setTicks([ticks])                          # the title says "points"; the bar's axis is narrow
    bar.axis.enableAutoSIPrefix(False)
    bar.axis.setPen(pg.mkPen(theme.muted))
    bar.axis.setTextPen(pg.mkPen(theme.foreground))
    bar.axis.setTickFont(theme.font(0.8))
    bar.axis.setStyle(hideOverlappingLabels=False)      # the end ticks (0 %, 100 %) sit on the bar's edges
    title = label + ("  ·  hatched: no data yet" if show_no_data else "")
    item.setTitle(literal(title), color=theme.muted, size=f"{theme.font_size * 0.8:.0f}pt")
    item.layout.addItem(bar, 2, 3)
    item._colour_bar = bar


def _remove_colour_bar(item: pg.PlotItem) -> None:
    bar = getattr(item, "_colour_bar", None)
    if bar is not None:
        item.layout.removeItem(bar)
        if bar.scene() is not None:
            bar.scene().removeItem(bar)
        item._colour_bar = None


def path_graph(plot: pg.PlotWidget, graph: nx.DiGraph, theme: Theme) -> None:
    """Event types left to right by typical position; edge width by count, colour by median time."""
    item = _reset(plot, theme)
    item.hideAxis("left")
    item.hideAxis("bottom")
    if not graph.number_of_nodes():
        return
    positions = _layout(graph)
    top = max(d["count"] for _, _, d in graph.edges(data=True)) if graph.number_of_edges() else 1
    medians = [d["median_seconds"] for _, _, d in graph.edges(data=True) if d.get("median_seconds") is not None]
    slow = math.log1p(max(medians)) if medians else 1.0
    cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor("#56B4E9"), QColor("#E69F00"), QColor("#D55E00")])
    for a, b, data in graph.edges(data=True):
        width = 1 + 9 * data["count"] / top
        shade = math.log1p(data.get("median_seconds") or 0) / max(slow, 1e-9)
        colour = cmap.map(shade, mode="qcolor")
        colour.setAlpha(170)
        item.addItem(_EdgeItem(positions[a], positions[b], pg.mkPen(colour, width=width)))
    biggest = max(d["users"] for _, d in graph.nodes(data=True))
    for name, data in graph.nodes(data=True):
        x, y = positions[name]
        size = 14 + 26 * math.sqrt(data["users"] / biggest)
        item.addItem(pg.ScatterPlotItem([x], [y], size=size, brush=pg.mkBrush(OKABE_ITO[0]),
                                        pen=pg.mkPen(theme.background, width=2)))
        _text(item, f"{name}\n{data['users']:,} users", x, y - 0.28, theme, anchor=(0.5, 0), scale=0.8)
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    item.setXRange(min(xs) - 0.8, max(xs) + 0.8, padding=0)          # room for the end labels
    item.setYRange(min(ys) - 0.9, max(ys) + 0.5, padding=0)
    _text(item, "edge colour: median time to next event (blue fast → red slow); width: transitions",
          min(xs) - 0.5, max(ys) + 0.45, theme, anchor=(0, 0), colour=theme.muted, scale=0.8)


def _layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """x = order of typical position in paths; y staggered over five lanes so that neighbours'
    labels never share a line (busiest event types in the middle lane)."""
    ordered = sorted(graph.nodes, key=lambda n: (graph.nodes[n].get("position") or 0, -graph.nodes[n]["users"]))
    lanes = (0.0, -1.3, 1.3, -2.6, 2.6)
    return {name: (i * 1.0, lanes[i % len(lanes)]) for i, name in enumerate(ordered)}


class _EdgeItem(pg.GraphicsObject):
    """A curved arrow-less edge; a self-loop is drawn as a small circle above its node."""

    def __init__(self, start: tuple[float, float], end: tuple[float, float], pen: QPen):
        super().__init__()
        self.pen = pen
        self.path = QPainterPath()
        (x0, y0), (x1, y1) = start, end
        if start == end:
            self.path.addEllipse(QRectF(x0 - 0.18, y0, 0.36, 0.5))
        else:
            bend = 0.35 if x1 <= x0 else 0.15          # backward edges arc more, so loops show
            middle = QPointF((x0 + x1) / 2, (y0 + y1) / 2 + bend * (1 if x1 <= x0 else -1))
            self.path.moveTo(x0, y0)
            self.path.quadTo(middle, QPointF(x1, y1))
        self.pen.setCosmetic(True)

    def paint(self, painter, *args) -> None:
        painter.setPen(self.pen)
        painter.drawPath(self.path)

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().adjusted(-0.05, -0.05, 0.05, 0.05)
