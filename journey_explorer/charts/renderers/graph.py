"""Path graph as a process map: layered boxes from Start to End, arrows labelled with counts or times.

The geometry comes from ``analysis.layout`` (Qt-free); this module only paints it. Frequency mode:
edge width and label by transitions, one colour. Performance mode: edge colour by median time in
three bands whose bounds are read from the data, and a legend drawn with the very same colours.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from journey_explorer.analysis import units
from journey_explorer.analysis.layout import BOX_HEIGHT, BOX_WIDTH, ProcessMap
from journey_explorer.charts import basic
from journey_explorer.charts.plotting import pg, plot_widget
from journey_explorer.charts.renderers import in_parts
from journey_explorer.charts.theme import Theme, literal, style_plot

if TYPE_CHECKING:
    import pandas as pd

FREQUENCY_COLOUR = "#0072B2"
SPEED_COLOURS = ("#56B4E9", "#E69F00", "#D55E00")        # fast, middle, slow (Okabe-Ito)
UNTIMED = "#9A9A9A"                                       # Start and End edges carry no time
BOX_FILL, BOX_EDGE, ENDPOINT_FILL = "#DCEBF7", "#0072B2", "#444444"
ARROW_PIXELS = 11
BOX_PIXELS_MAX = 330
# Arrows (or boxes) drawn per turn of the window's event loop: each has a text label (~1-3 ms at
# 10M events beside a worker); all arrows in one turn took 100-160 ms.
ITEMS_PER_TURN = 12


def make_canvas(theme) -> pg.PlotWidget:
    return plot_widget()


def prepare(result, theme):
    """The map's layout, computed with the analysis (off the GUI thread)."""
    result.process_map      # noqa: B018 - a cached property: computed here, read by render
    return result


def speed_bands(medians: list[float]) -> tuple[float, float]:
    """Two bounds splitting the edges' median times into thirds (fast / middle / slow)."""
    low, high = np.quantile(np.asarray(medians, dtype=float), [1 / 3, 2 / 3]) if medians else (0.0, 0.0)
    return float(low), float(high)


def edge_colour(median: float | None, bands: tuple[float, float], measure: str) -> str:
    if measure != "performance":
        return FREQUENCY_COLOUR
    if median is None:
        return UNTIMED
    return SPEED_COLOURS[0] if median <= bands[0] else SPEED_COLOURS[1] if median <= bands[1] else SPEED_COLOURS[2]


def legend_entries(result, measure: str) -> list[tuple[str, str]]:
    """(colour, text) for each kind of edge drawn, in the colours ``render`` uses."""
    if measure != "performance":
        return [(FREQUENCY_COLOUR, "arrow width and label: transitions from one event to the next")]
    medians = [r.median_seconds for r in result.process_map.routes if r.median_seconds is not None]
    low, high = speed_bands(medians)
    return [(SPEED_COLOURS[0], f"median ≤ {units.duration(low)}"),
            (SPEED_COLOURS[1], f"{units.duration(low)} – {units.duration(high)}"),
            (SPEED_COLOURS[2], f"> {units.duration(high)}"), (UNTIMED, "path start / end")]


@in_parts
def render(result, spec, canvas: pg.PlotWidget, theme: Theme) -> Iterator[None]:
    plot = canvas.getPlotItem()
    plot.clear()
    style_plot(canvas, theme)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setMenuEnabled(False)
    layout: ProcessMap = result.process_map
    if len(layout.places) <= 2:
        return
    # The ranges first: set, they stop pyqtgraph from fitting the view to every item added.
    left, bottom, right, top_y = layout.bounds()
    left, right = _x_range(canvas, left - 0.1, right + 0.1)
    plot.getViewBox().setAspectLocked(False)
    plot.setXRange(left, right, padding=0)
    plot.setYRange(bottom - 0.15, top_y + 0.75, padding=0)
    measure = getattr(spec, "measure", "frequency")
    medians = [r.median_seconds for r in layout.routes if r.median_seconds is not None]
    bands = speed_bands(medians)
    top = max((r.count for r in layout.routes), default=1)
    for drawn, route in enumerate(sorted(layout.routes, key=lambda r: r.count)):
        if drawn and drawn % ITEMS_PER_TURN == 0:
            yield            # the window draws the next arrows on a later turn
        colour = edge_colour(route.median_seconds, bands, measure)
        width = 1.2 + 5.5 * (route.count / top) ** 0.7 if measure == "frequency" else 2.2
        plot.addItem(_EdgeItem(route, QColor(colour), width))
        text = units.compact_count(route.count) if measure == "frequency" or route.median_seconds is None \
            else units.duration(route.median_seconds)
        label = _label(text, route.label, theme, colour=colour, scale=0.64, bold=True)
        if _straight_down(route):          # beside the line, so the label does not hide the arrowhead
            label.setAnchor((0, 0.5))
            label.setPos(route.label[0] + 0.03, route.label[1])
        plot.addItem(label)
    yield                    # the window draws the boxes on a turn of their own (see renderers.Renderer)
    box_width, box_height = _box_pixels(canvas, layout), _box_pixel_height(canvas, layout)
    parts = {name: _box_parts(result, place) for name, place in layout.places.items()}
    scale = _box_scale([(parts[name][0], place.kind != "event") for name, place in layout.places.items()],
                       theme, box_width)
    for drawn, (name, place) in enumerate(layout.places.items()):
        if drawn and drawn % ITEMS_PER_TURN == 0:
            yield
        plot.addItem(_BoxItem(place, theme))
        bold = place.kind != "event"
        text = _fitted_box_text(*parts[name], theme.font(scale, bold=bold), box_width, box_height)
        plot.addItem(_label(text, (place.x, place.y), theme,
                            # the boxes are pale in every theme: dark type on them, never the theme's
                            colour="#FFFFFF" if place.kind != "event" else basic.readable_on(QColor(BOX_FILL).getRgb()),
                            scale=scale, bold=bold, patch=False))
    yield
    _legend(plot, legend_entries(result, measure), left, top_y + 0.72, theme)


def _straight_down(route) -> bool:
    (x0, _), *_, (x3, _) = route.segments[0]
    return not route.back and abs(x3 - x0) < 0.05


def _box_parts(result, place) -> tuple[str, str]:
    """(name, counts) of a box: "▶ Start", "3,000"; "pay", "1,200 (40%) ↻35"."""
    if place.kind == "start":
        return "▶ Start", units.count(result.paths)
    if place.kind == "end":
        return "■ End", ""
    loops = result.graph.edges[place.name, place.name]["count"] if result.graph.has_edge(place.name, place.name) else 0
    repeat = f" ↻{units.compact_count(loops)}" if loops else ""
    return place.name, f"{units.count(place.users)} ({units.percent(place.users / max(result.paths, 1), 0)}){repeat}"


BOX_TEXT_SCALES = (0.72, 0.66, 0.6)       # the boxes' type shrinks this far before a name is shortened


def _box_scale(titles: list[tuple[str, bool]], theme: Theme, width: int) -> float:
    """One type size for every box (mixed sizes read as emphasis): the largest at which every name
    (with its boldness) fits."""
    for scale in BOX_TEXT_SCALES:
        plain, bold = QFontMetrics(theme.font(scale)), QFontMetrics(theme.font(scale, bold=True))
        if all((bold if is_bold else plain).horizontalAdvance(title) <= width for title, is_bold in titles):
            return scale
    return BOX_TEXT_SCALES[-1]


def _fitted_box_text(title: str, counts: str, font, width: int, height: int) -> str:
    """A box's text: on one line when it fits; else the name with the counts under it when the box is
    tall enough; else the name alone (the arrows carry the counts). The name is shortened last."""
    metrics = QFontMetrics(font)
    whole = f"{title} · {counts}" if counts else title
    if metrics.horizontalAdvance(whole) <= width:
        return whole
    if counts and 2 * metrics.height() <= height + 2:
        return f"{_elide(title, font, width)}\n{_elide(counts, font, width)}"
    return _elide(title, font, width)


def _box_pixel_height(canvas: pg.PlotWidget, layout: ProcessMap) -> int:
    """A box's height on screen, from the y range ``render`` sets."""
    _, bottom, _, top_y = layout.bounds()
    span = (top_y + 0.75) - (bottom - 0.15)
    return int(max(canvas.height(), 300) * BOX_HEIGHT / max(span, 1e-6))


def _x_range(canvas: pg.PlotWidget, left: float, right: float) -> tuple[float, float]:
    """Widened around its middle when a narrow map would stretch a box wider than ``BOX_PIXELS_MAX``."""
    least = max(canvas.width(), 400) * BOX_WIDTH / BOX_PIXELS_MAX
    if right - left >= least:
        return left, right
    middle = (left + right) / 2
    return middle - least / 2, middle + least / 2


def _box_pixels(canvas: pg.PlotWidget, layout: ProcessMap) -> int:
    left, _, right, _ = layout.bounds()
    left, right = _x_range(canvas, left - 0.1, right + 0.1)
    return int(max(canvas.width(), 400) * BOX_WIDTH / max(right - left, 1e-6)) - 6


def _label(text: str, at, theme: Theme, colour: str, scale: float, bold: bool = False,
           max_width: int | None = None, patch: bool | None = None) -> pg.TextItem:
    """A centred label; ``patch`` (default: when no ``max_width``, as on edges) puts it on a patch of
    the background so a line under it is not read as text."""
    item = pg.TextItem(color=colour, anchor=(0.5, 0.5))
    font = theme.font(scale, bold=bold)
    if max_width is not None:
        text = _elide(text, font, max_width)
    item.setText(text)
    item.setFont(font)
    item.setPos(*at)
    item.setZValue(10)
    if patch if patch is not None else max_width is None:
        item.fill = pg.mkBrush(QColor(theme.background))
    return item


def _elide(line: str, font, max_width: int) -> str:
    return QFontMetrics(font).elidedText(line, Qt.TextElideMode.ElideRight, max(max_width, 30))


def _legend(plot: pg.PlotItem, entries: list[tuple[str, str]], x: float, y: float, theme: Theme) -> None:
    swatches = "   ".join(f'<span style="color:{c}; font-weight:bold">━━</span> {literal(t)}' for c, t in entries)
    item = pg.TextItem(anchor=(0, 0))
    font = theme.font(0.8)
    item.setHtml(f'<span style="color:{theme.muted}">{swatches}</span>')
    item.setFont(font)
    item.setPos(x, y)
    plot.addItem(item)


class _BoxItem(pg.GraphicsObject):
    """A rounded activity box; Start and End are dark pills."""

    def __init__(self, place, theme: Theme):
        super().__init__()
        left, bottom, right, top = place.box
        self.rect = QRectF(left, bottom, right - left, top - bottom)
        event = place.kind == "event"
        self.brush = QBrush(QColor(BOX_FILL if event else ENDPOINT_FILL))
        self.pen = QPen(QColor(BOX_EDGE if event else ENDPOINT_FILL), 1.5)
        self.pen.setCosmetic(True)
        self.setZValue(5)

    def paint(self, painter: QPainter, *args) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self.pen)
        painter.setBrush(self.brush)
        painter.drawRoundedRect(self.rect, 0.06, 0.06)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-0.02, -0.02, 0.02, 0.02)


class _EdgeItem(pg.GraphicsObject):
    """A cubic Bézier edge with a filled arrowhead on its target box."""

    def __init__(self, route, colour: QColor, width: float):
        super().__init__()
        self.path = QPainterPath(QPointF(*route.start))
        for _, p1, p2, p3 in route.segments:
            self.path.cubicTo(QPointF(*p1), QPointF(*p2), QPointF(*p3))
        tip, base1, base2 = route.arrow
        self.arrow = QPolygonF([QPointF(*p) for p in route.arrow])
        self.tip = QPointF(*tip)
        self.base = QPointF((base1[0] + base2[0]) / 2, (base1[1] + base2[1]) / 2)
        self.pen = QPen(colour, width)
        self.pen.setCosmetic(True)
        self.pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        self.brush = QBrush(colour)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)

    def paint(self, painter: QPainter, *args) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self.pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)
        painter.drawLine(self.base, self.tip)          # up to the tip, under the pixel-sized head
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.brush)
        painter.drawPolygon(self._arrow_in_pixels(painter))

    def _arrow_in_pixels(self, painter: QPainter) -> QPolygonF:
        """The layout's arrowhead redrawn at a fixed pixel size (the map's x and y scales differ),
        pointing the same way, its tip on the same point of the target box."""
        transform = painter.transform()
        tip, base = transform.map(self.tip), transform.map(self.base)
        dx, dy = tip.x() - base.x(), tip.y() - base.y()
        norm = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        ux, uy = dx / norm, dy / norm
        length, half = ARROW_PIXELS, ARROW_PIXELS * 0.55
        back = QPointF(tip.x() - ux * length, tip.y() - uy * length)
        polygon = QPolygonF([tip, QPointF(back.x() - uy * half, back.y() + ux * half),
                             QPointF(back.x() + uy * half, back.y() - ux * half)])
        inverse, _ = transform.inverted()
        return inverse.map(polygon)

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().united(self.arrow.boundingRect()).adjusted(-0.05, -0.05, 0.05, 0.05)


def table(result, spec) -> pd.DataFrame:
    """The variants, in human units (the CSV/XLSX export keeps the raw edge table)."""
    import pandas as pd
    frame = result.variants
    goal = getattr(spec, "goal", None)
    reached = f"Reached {goal}" if goal else "Reached goal"
    return pd.DataFrame({
        "Paths": [units.count(v) for v in frame["paths"]],
        "Share": [units.percent(v) for v in frame["share"]],
        "Median duration": [units.duration(v) for v in frame["median_seconds"]],
        reached: ["—" if v is None else "yes" if v else "no" for v in frame["reached_goal"]],
        "Steps": frame["steps"],
        "Variant (most common whole paths)": frame["variant"],
    })
