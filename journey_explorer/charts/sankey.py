"""The Sankey of a flow: nodes as bars per step, links as smooth bands sized by users.

``SankeyItem`` is a pyqtgraph ``GraphicsObject`` that draws its bars and bands once into a
``QPicture`` and replays it in ``paint`` (see pyqtgraph's customGraphicsItem example); labels are
``TextItem`` children so they keep their size when the view is scaled. Hover reports the node or link
under the cursor; a click on a node emits ``nodeClicked(step, event, screen_pos)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPicture, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem

from journey_explorer.charts.theme import FAILURE, LIGHT, NEUTRAL, SUCCESS, Theme, category_colour, widest

NODE_WIDTH = 0.12          # in step units
LABEL_SCALE = 0.95         # node labels, relative to the theme's type
MIN_BAND_SHARE = 0.002     # bands thinner than this share of the start are not drawn (still in the table)
GAP = 0.02                 # vertical gap between nodes, as a share of the height
SPECIAL = {"Drop-off": NEUTRAL, "Other": "#BBBBBB", "Path start": "#CCCCCC"}


@dataclass
class NodeBox:
    step: int
    event: str
    group: str | None
    users: int
    rect: QRectF
    out_offset: float = 0.0
    in_offset: float = 0.0


@dataclass
class Band:
    link: dict
    path: QPainterPath
    colour: QColor


class SankeyLayout:
    """Geometry and the drawn picture of a Sankey, built without touching any widget.

    QPainter may paint a QPicture outside the GUI thread, so the explorer builds this in its worker
    and the GUI thread only swaps it in.
    """

    def __init__(self, nodes: list[dict], links: list[dict], start_users: int, theme: Theme = LIGHT):
        self.theme = theme
        self.start_users = max(start_users, 1)
        self.steps = sorted({n["step"] for n in nodes})
        self.boxes: list[NodeBox] = []
        self.bands: list[Band] = []
        self.bounds = QRectF(0, 0, 1, 1)
        self._layout(nodes, links)
        self.picture = self._draw()

    def colour(self, event: str, group: str | None) -> QColor:
        if event in SPECIAL:
            return QColor(SPECIAL[event])
        if group is not None:
            return QColor(SUCCESS if group == "successful" else FAILURE)
        return category_colour(self.order[event])

    def _layout(self, nodes: list[dict], links: list[dict]) -> None:
        # One colour per event name across steps, most frequent first.
        totals: dict[str, int] = {}
        for n in nodes:
            totals[n["event"]] = totals.get(n["event"], 0) + n["users"]
        self.order = {e: i for i, e in enumerate(sorted((e for e in totals if e not in SPECIAL),
                                                         key=lambda e: -totals[e]))}
        # One scale for all steps, so that the fullest column (users plus gaps) fits the height.
        scale = min(((1.0 - GAP * (sum(1 for n in nodes if n["step"] == s) - 1))
                     / max(sum(n["users"] for n in nodes if n["step"] == s), 1) for s in self.steps), default=1.0)
        for step in self.steps:
            column = [n for n in nodes if n["step"] == step]
            # Successful above failing, then by size; Other / Path start / Drop-off at the bottom.
            column.sort(key=lambda n: (n.get("group") == "failing", n["event"] in SPECIAL,
                                       n["event"] == "Drop-off", -n["users"]))
            y = 1.0
            for n in column:
                height = n["users"] * scale
                self.boxes.append(NodeBox(step, n["event"], n.get("group"), n["users"],
                                          QRectF(step - 1, y - height, NODE_WIDTH, height)))
                y -= height + GAP
        index = {(b.step, b.event, b.group): b for b in self.boxes}
        for link in sorted(links, key=lambda item: (item["step"], -item["users"])):
            if link["users"] < MIN_BAND_SHARE * self.start_users:
                continue       # invisible at any screen size, but costly to paint by the hundred
            source = index.get((link["step"], link["source"], link.get("group")))
            target = index.get((link["step"] + 1, link["target"], link.get("group")))
            if source is None or target is None:
                continue
            height = link["users"] * scale
            y0 = source.rect.bottom() - source.out_offset      # QRectF: bottom() is the larger y
            y1 = target.rect.bottom() - target.in_offset
            source.out_offset += height
            target.in_offset += height
            path = _band(source.rect.right(), y0, target.rect.left(), y1, height)
            colour = self.colour(link["source"] if link["source"] not in SPECIAL else link["target"],
                                 link.get("group"))
            if link["target"] == "Drop-off":
                colour = QColor(NEUTRAL)
            self.bands.append(Band(link, path, colour))
        if self.boxes:
            left = min(b.rect.left() for b in self.boxes)
            right = max(b.rect.right() for b in self.boxes)
            self.bounds = QRectF(left, 0, right - left, 1.0).adjusted(-0.02, -0.02, 0.02, 0.02)

    def _draw(self) -> QPicture:
        picture = QPicture()
        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        background = QColor(self.theme.background)
        # Opaque colours pre-blended with the background look like 35 % alpha but paint ~3x faster;
        # the widest bands go first so thin ones stay visible on top.
        for band in sorted(self.bands, key=lambda b: -b.link["users"]):
            painter.setBrush(QBrush(_blend(band.colour, background, 0.35)))
            painter.drawPath(band.path)
        for box in self.boxes:
            painter.setBrush(QBrush(self.colour(box.event, box.group)))
            painter.drawRect(box.rect)
        painter.end()
        return picture


def _band(x0: float, y0: float, x1: float, y1: float, height: float) -> QPainterPath:
    """A smooth band from the top-right of a source slot to the top-left of a target slot."""
    middle = (x0 + x1) / 2
    path = QPainterPath(QPointF(x0, y0))
    path.cubicTo(QPointF(middle, y0), QPointF(middle, y1), QPointF(x1, y1))
    path.lineTo(QPointF(x1, y1 - height))
    path.cubicTo(QPointF(middle, y1 - height), QPointF(middle, y0 - height), QPointF(x0, y0 - height))
    path.closeSubpath()
    return path


class SankeyItem(pg.GraphicsObject):
    nodeClicked = Signal(int, str, object)     # step, event, screen position (QPointF)
    hovered = Signal(str)                      # description of what is under the cursor ("" = nothing)

    def __init__(self, theme: Theme = LIGHT):
        super().__init__()
        self.theme = theme
        self.picture = QPicture()
        self.boxes: list[NodeBox] = []
        self.bands: list[Band] = []
        self.labels: list[QGraphicsSimpleTextItem] = []
        self.start_users = 1
        self._bounds = QRectF(0, 0, 1, 1)
        self.setAcceptHoverEvents(True)
        # Replaying hundreds of antialiased bands costs ~0.1 s: paint once into a cached pixmap.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    # --- data -------------------------------------------------------------------------------------

    def apply(self, layout: SankeyLayout) -> None:
        """Show a prepared layout (cheap: the geometry and picture are already built)."""
        self.prepareGeometryChange()
        self.theme = layout.theme
        self.start_users = layout.start_users
        self.boxes, self.bands, self.picture = layout.boxes, layout.bands, layout.picture
        self._bounds = QRectF(layout.bounds)
        self._place_labels()
        self.update()
        self.informViewBoundsChanged()

    def _place_labels(self) -> None:
        """Plain text items that ignore the view's scaling (cheap: ~0.2 ms each, unlike TextItem)."""
        for label in self.labels:
            label.setParentItem(None)
            if label.scene() is not None:
                label.scene().removeItem(label)
        self.labels = []
        font = self.theme.font(LABEL_SCALE)
        colour = QColor(self.theme.foreground)
        for box in self.boxes:
            if box.rect.height() < 0.018:
                continue                      # too thin to carry a label legibly
            share = box.users / self.start_users
            label = QGraphicsSimpleTextItem(f"{box.event}\n{box.users:,} · {share:.0%}", self)
            label.setFont(font)
            label.setBrush(colour)
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            label.setPos(box.rect.right() + 0.015, box.rect.center().y())
            height = label.boundingRect().height()
            label.setTransform(QTransform.fromTranslate(0, -height / 2))   # centre on the bar
            self.labels.append(label)

    # --- Qt ---------------------------------------------------------------------------------------

    def paint(self, painter: QPainter, *args) -> None:
        painter.drawPicture(0, 0, self.picture)

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    # --- interaction --------------------------------------------------------------------------

    def node_at(self, pos: QPointF) -> NodeBox | None:
        return next((b for b in self.boxes if b.rect.contains(pos)), None)

    def band_at(self, pos: QPointF) -> Band | None:
        return next((b for b in reversed(self.bands) if b.path.contains(pos)), None)

    def describe(self, pos: QPointF) -> str:
        node = self.node_at(pos)
        if node is not None:
            group = f" ({node.group})" if node.group else ""
            return f"Step {node.step}: {node.event}{group}\n{node.users:,} users · {node.users / self.start_users:.1%} of start"
        band = self.band_at(pos)
        if band is not None:
            link = band.link
            median = link.get("median_seconds")
            timing = f"\nmedian {format_duration(median)}" if median is not None else ""
            return (f"{link['source']} → {link['target']}\n{link['users']:,} users · "
                    f"{link['users'] / self.start_users:.1%} of start{timing}")
        return ""

    def hoverEvent(self, event) -> None:
        self.hovered.emit("" if event.isExit() else self.describe(event.pos()))

    def mouseClickEvent(self, event) -> None:
        node = self.node_at(event.pos())
        if node is not None:
            event.accept()
            self.nodeClicked.emit(node.step, node.event, event.screenPos())


def _blend(colour: QColor, background: QColor, amount: float) -> QColor:
    """``amount`` of ``colour`` over ``background``, as an opaque colour."""
    return QColor(*(round(getattr(colour, c)() * amount + getattr(background, c)() * (1 - amount))
                    for c in ("red", "green", "blue")))


def format_duration(seconds: float) -> str:
    """Short human duration: 45 s, 12 min, 3.5 h, 2.1 d.

    >>> format_duration(45), format_duration(720), format_duration(12600), format_duration(181440)
    ('45 s', '12 min', '3.5 h', '2.1 d')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


class SankeyWidget(pg.PlotWidget):
    """A plot with hidden axes holding one ``SankeyItem`` and step headers."""

    def __init__(self, theme: Theme = LIGHT, parent=None):
        super().__init__(parent=parent, background=theme.background)
        self.theme = theme
        self.item = SankeyItem(theme)
        self.addItem(self.item)
        self.headers: list[pg.TextItem] = []
        plot = self.getPlotItem()
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.item.hovered.connect(self._tooltip)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.item.theme = theme
        self.setBackground(theme.background)

    def show_layout(self, layout: SankeyLayout) -> None:
        self.item.apply(layout)
        for header in self.headers:
            self.removeItem(header)
        steps = layout.steps
        self.headers = []
        for step in steps:
            header = pg.TextItem(f"Step {step}", color=self.theme.muted, anchor=(0, 1))
            header.setFont(self.theme.font(1.0, bold=True))
            header.setPos(step - 1, 1.0)
            self.addItem(header)
            self.headers.append(header)
        last = max(steps, default=1)
        left, right = -0.05, last - 1 + NODE_WIDTH
        self.setRange(xRange=(left, right + self._label_room(layout, right - left)), yRange=(-0.02, 1.06),
                      padding=0)

    def _label_room(self, layout: SankeyLayout, span: float) -> float:
        """Data units to keep right of the last column so its labels fit at the current width."""
        last = max(layout.steps, default=1)
        labels = [line for b in layout.boxes if b.step == last for line in (b.event, f"{b.users:,} · 100%")]
        widest_label = widest(labels, self.theme.font(LABEL_SCALE)) + 16
        pixels = max(self.width() - 40, 2 * widest_label)        # axis-free plot: nearly the whole widget
        # Solve room / (span + room) = widest_label / pixels for the room in data units.
        return max(0.3, widest_label * span / (pixels - widest_label))

    def _tooltip(self, text: str) -> None:
        self.setToolTip(text)
