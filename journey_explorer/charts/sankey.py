"""The Sankey of a flow: nodes as bars per step, links as smooth bands sized by users.

``SankeyItem`` is a pyqtgraph ``GraphicsObject`` that draws its bars and bands once into a
``QPicture`` and replays it in ``paint`` (see pyqtgraph's customGraphicsItem example); labels are
``TextItem`` children so they keep their size when the view is scaled. Hover reports the node or link
under the cursor; a click on a node emits ``nodeClicked(step, event, screen_pos)``.

Labels never overlap (``label_boxes``): each node's label stays within the node's own height plus half
the gaps around it, and within the room before the next column. It is the full label (event, users,
share) when two lines fit there, "event · share" when one line fits, shortened with an ellipsis when
too wide, and left out when the node is too thin (the tooltip still names it). They are placed again
whenever the view is resized or rescaled.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPicture, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem

from journey_explorer.analysis import units
from journey_explorer.charts.breakdown import group_colours
from journey_explorer.charts.plotting import pg
from journey_explorer.charts.theme import FAILURE, LIGHT, NEUTRAL, SUCCESS, Theme, category_colour, literal, widest

NODE_WIDTH = 0.12          # in step units
LABEL_SCALE = 0.95         # node labels, relative to the theme's type
MIN_BAND_SHARE = 0.002     # bands thinner than this share of the start are not drawn (still in the table)
GAP = 0.02                 # vertical gap between nodes, as a share of the height
SPECIAL = {"Drop-off": NEUTRAL, "Other": "#BBBBBB", "Path start": "#CCCCCC"}
LABEL_MARGIN = 0.015       # between a bar and its label, in step units
LABEL_PAD_PX = 6           # kept free before the next column's bars


class LabelBox(NamedTuple):
    """A node's label: ``text`` left-aligned at data ``x``, centred on data ``y``, of the given pixel size."""
    box: NodeBox
    text: str
    x: float
    y: float
    width_px: float
    height_px: float

    def pixel_rect(self, px_per_x: float, px_per_y: float) -> QRectF:
        """Where it is drawn, in pixels (y grows downwards) for the given scale."""
        return QRectF(self.x * px_per_x, -self.y * px_per_y - self.height_px / 2, self.width_px, self.height_px)


def label_boxes(layout: "SankeyLayout", px_per_x: float, px_per_y: float, font: QFont,
                right_edge: float | None = None) -> list[LabelBox]:
    """Every node's label that fits, at a scale of ``px_per_x`` / ``px_per_y`` pixels per data unit
    (see the module doc); ``right_edge`` (data x) bounds the last column's labels."""
    metrics = QFontMetrics(font)
    line = metrics.height()
    last = max(layout.steps, default=1)
    start = layout.start_users
    labels = []
    for box in layout.boxes:
        x = box.rect.right() + LABEL_MARGIN
        end = right_edge if box.step == last and right_edge is not None else box.step
        room = (end - x) * px_per_x - LABEL_PAD_PX
        span = (box.rect.height() + GAP) * px_per_y           # the node plus half a gap above and below
        share = units.percent(box.users / start, 0)
        if span >= 2 * line:
            lines = [box.event, f"{units.count(box.users)} · {share}"]
        elif span >= line:
            lines = [f"{box.event} · {share}"]
        else:
            continue
        lines = [metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(room)) for text in lines]
        if room < metrics.horizontalAdvance("Mm…") or not any(t.strip("…") for t in lines):
            continue
        width = max(metrics.horizontalAdvance(t) for t in lines)
        labels.append(LabelBox(box, "\n".join(lines), x, box.rect.center().y(), width, line * len(lines)))
    return labels


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

    def __init__(self, nodes: list[dict], links: list[dict], start_users: int, theme: Theme = LIGHT,
                 goal: str | None = None, breakdown: list[str] | None = None, paths: str = "users"):
        self.theme = theme
        self.paths = paths            # what a path is, for the tooltips: "users", "sessions", "cases"
        self.goal = goal
        # A breakdown's groups (property values, largest first): a colour each, stacked in this order.
        names = breakdown or []
        self.group_colours = dict(zip(names, group_colours(names)))
        self.group_rank = {name: rank for rank, name in enumerate(names)}
        self.start_users = max(start_users, 1)
        self.steps = sorted({n["step"] for n in nodes})
        self.boxes: list[NodeBox] = []
        self.bands: list[Band] = []
        self.bounds = QRectF(0, 0, 1, 1)
        self._layout(nodes, links)
        self.picture = self._draw()

    def legend(self) -> list[tuple[str, str]]:
        """(colour, name) of the split groups drawn ([] without a split)."""
        groups = {b.group for b in self.boxes if b.group is not None}
        if self.group_colours:
            return [(colour, name) for name, colour in self.group_colours.items() if name in groups]
        goal = self.goal or "the goal"
        names = {"successful": (SUCCESS, f"reached {goal}"), "failing": (FAILURE, f"did not reach {goal}")}
        return [names[g] for g in ("successful", "failing") if g in groups]

    def colour(self, event: str, group: str | None) -> QColor:
        if event in SPECIAL:
            return QColor(SPECIAL[event])
        if group in self.group_colours:
            return QColor(self.group_colours[group])
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
            # Successful above failing (a breakdown: its groups in order), then by size; Other / Path start / Drop-off last.
            column.sort(key=lambda n: (self.group_rank.get(n.get("group"), n.get("group") == "failing"), n["event"] in SPECIAL,
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
        self.layout: SankeyLayout | None = None
        self.start_users = 1
        self.paths = "users"          # what a path is, for the tooltips (the layout's)
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
        self.paths = layout.paths
        self.layout = layout
        self.boxes, self.bands, self.picture = layout.boxes, layout.bands, layout.picture
        self._bounds = QRectF(layout.bounds)
        self._place_labels()
        self.update()
        self.informViewBoundsChanged()

    def _place_labels(self) -> None:
        """Plain text items that ignore the view's scaling (cheap: ~0.2 ms each, unlike TextItem),
        at the positions ``label_boxes`` finds for the current scale."""
        for label in self.labels:
            label.setParentItem(None)
            if label.scene() is not None:
                label.scene().removeItem(label)
        self.labels = []
        if self.layout is None:
            return
        font = self.theme.font(LABEL_SCALE)
        colour = QColor(self.theme.foreground)
        px_per_x, px_per_y, right_edge = self._scale()
        for placed in label_boxes(self.layout, px_per_x, px_per_y, font, right_edge):
            label = QGraphicsSimpleTextItem(placed.text, self)
            label.setFont(font)
            label.setBrush(colour)
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            label.setPos(placed.x, placed.y)
            label.setTransform(QTransform.fromTranslate(0, -placed.height_px / 2))   # centred on the bar
            self.labels.append(label)

    def _scale(self) -> tuple[float, float, float | None]:
        """Pixels per data unit in x and y, and the view's right edge (data x); a guess off screen."""
        view = self.getViewBox()
        if view is None or view.width() <= 0 or view.height() <= 0:
            return 300.0, 600.0, None
        rect = view.viewRect()
        return view.width() / max(rect.width(), 1e-9), view.height() / max(rect.height(), 1e-9), rect.right()

    def viewTransformChanged(self) -> None:
        """Resized or rescaled: the labels' room changed with it."""
        self._place_labels()

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
            return (f"Step {node.step}: {node.event}{group}\n{units.count(node.users)} {self.paths} · "
                    f"{units.percent(node.users / self.start_users)} of start")
        band = self.band_at(pos)
        if band is not None:
            link = band.link
            median = link.get("median_seconds")
            timing = f"\nmedian {units.duration(median)}" if median is not None else ""
            return (f"{link['source']} → {link['target']}\n{units.count(link['users'])} {self.paths} · "
                    f"{units.percent(link['users'] / self.start_users)} of start{timing}")
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


class SankeyWidget(pg.PlotWidget):
    """A plot with hidden axes holding one ``SankeyItem`` and step headers."""

    def __init__(self, theme: Theme = LIGHT, parent=None):
        super().__init__(parent=parent, background=theme.background, enableMenu=False)   # see plotting.plot_widget
        self.theme = theme
        self.item = SankeyItem(theme)
        self.addItem(self.item)
        self.headers: list[pg.TextItem] = []
        self.legend: pg.TextItem | None = None
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
        bottom = self._show_legend(layout.legend())
        self.setRange(xRange=(left, right + self._label_room(layout, right - left)), yRange=(bottom, 1.06),
                      padding=0)

    def _show_legend(self, entries: list[tuple[str, str]]) -> float:
        """The split groups' colours and names under the bars; the bottom of the y range to show."""
        if self.legend is not None:
            self.removeItem(self.legend)
            self.legend = None
        if not entries:
            return -0.02
        swatches = "&nbsp;&nbsp;&nbsp;&nbsp;".join(f'<span style="color:{c}">■</span> {literal(name)}'
                                                   for c, name in entries)
        self.legend = pg.TextItem(anchor=(0, 0))
        self.legend.setHtml(f'<span style="color:{self.theme.foreground}">{swatches}</span>')
        self.legend.setFont(self.theme.font(1.0))
        self.legend.setPos(-0.04, -0.025)
        self.addItem(self.legend)
        return -0.09

    def _label_room(self, layout: SankeyLayout, span: float) -> float:
        """Data units to keep right of the last column so its labels fit at the current width."""
        last = max(layout.steps, default=1)
        labels = [line for b in layout.boxes if b.step == last for line in (b.event, f"{units.count(b.users)} · 100%")]
        widest_label = widest(labels, self.theme.font(LABEL_SCALE)) + 16
        pixels = max(self.width() - 40, 2 * widest_label)        # axis-free plot: nearly the whole widget
        # Solve room / (span + room) = widest_label / pixels for the room in data units.
        return max(0.3, widest_label * span / (pixels - widest_label))

    def _tooltip(self, text: str) -> None:
        self.setToolTip(f"<p>{literal(text)}</p>".replace("\n", "<br>") if text else "")   # names, never markup
