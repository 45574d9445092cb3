"""A chart widget to PNG, SVG (true vectors, text as text), PDF or the clipboard, slide-shaped.

Each export is 16:9 with a title, a subtitle (filters, date range, users) and a small source line.
SVG goes through QSvgGenerator and PDF through QPdfWriter (pyqtgraph 0.14's SVG exporter fails with
PySide6 6.12, see DESIGN.md). Charts are drawn in the presentation theme by ``export.render``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPoint, QRect, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from journey_explorer.domain import JourneyError
from journey_explorer.export.files import atomic_output, check_width

SLIDE_WIDTH_INCHES = 13.333


@dataclass(frozen=True)
class Caption:
    title: str
    subtitle: str = ""
    source: str = ""


def slide_size(width: int) -> QSize:
    return QSize(width, round(width * 9 / 16))


def _paint(painter: QPainter, widget: QWidget, caption: Caption, size: QSize) -> None:
    """Title block, then the widget re-laid out at the slide's size, then the source line."""
    width, height = size.width(), size.height()
    unit = width / 1920                      # type scales with the slide width
    painter.fillRect(QRect(0, 0, width, height), QColor("#FFFFFF"))
    margin = round(48 * unit)
    title_font, small_font = QFont(), QFont()
    title_font.setPixelSize(round(44 * unit))
    title_font.setBold(True)
    small_font.setPixelSize(round(24 * unit))
    top = margin
    if caption.title:           # slides carry their own title: their pictures go without
        painter.setPen(QColor("#111111"))
        painter.setFont(title_font)
        painter.drawText(QRect(margin, top, width - 2 * margin, round(60 * unit)), Qt.AlignmentFlag.AlignLeft,
                         caption.title)
        top += round(64 * unit)
    painter.setPen(QColor("#555555"))
    painter.setFont(small_font)
    painter.drawText(QRect(margin, top, width - 2 * margin, round(34 * unit)),
                     Qt.AlignmentFlag.AlignLeft, caption.subtitle)
    top += round(48 * unit)
    bottom_space = round(56 * unit)
    chart = QRect(margin, top, width - 2 * margin, height - top - bottom_space)
    _render_widget(painter, widget, chart)
    painter.setPen(QColor("#777777"))
    painter.setFont(small_font)
    painter.drawText(QRect(margin, height - bottom_space, width - 2 * margin, bottom_space - round(12 * unit)),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, caption.source)


def _paint_and_end(painter: QPainter, widget: QWidget, caption: Caption, size: QSize) -> None:
    """Paint, and always release the device (an active painter left behind crashes Qt later)."""
    try:
        _paint(painter, widget, caption, size)
    finally:
        painter.end()


def _render_widget(painter: QPainter, widget: QWidget, target: QRect) -> None:
    """Render ``widget`` laid out at a sensible size, scaled into ``target``."""
    original = widget.size()
    # Lay out at 1280 px and scale up: chart type comes out ~1.5x larger on a 1920 px slide.
    layout_width = 1280
    layout_height = round(layout_width * target.height() / target.width())
    widget.resize(layout_width, layout_height)
    QGuiApplication.processEvents()
    # One paint first: pyqtgraph's axes measure their tick labels while painting and then make room
    # for them; without it, large slide type is clipped at the bottom axis.
    widget.grab()
    QGuiApplication.processEvents()
    painter.save()
    painter.translate(target.topLeft())
    painter.scale(target.width() / layout_width, target.height() / layout_height)
    cached = _without_item_caches(widget)
    try:
        # QWidget.render, not the subclass's: pyqtgraph's GraphicsView redefines render().
        QWidget.render(widget, painter, QPoint(0, 0))
    finally:
        painter.restore()
        for item, mode in cached:
            item.setCacheMode(mode)
        widget.resize(original)


def _without_item_caches(widget: QWidget) -> list:
    """Switch off pixmap caches of scene items so SVG/PDF get vectors, not cached bitmaps."""
    views = ([widget] if isinstance(widget, QGraphicsView) else []) + widget.findChildren(QGraphicsView)
    changed = []
    for view in views:
        for item in view.scene().items() if view.scene() else []:
            if item.cacheMode() != QGraphicsItem.CacheMode.NoCache:
                changed.append((item, item.cacheMode()))
                item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    return changed


def export_widget(widget: QWidget, path: str | Path, caption: Caption, width: int = 1920) -> Path:
    """Write ``widget`` with its caption to ``path``; the suffix chooses PNG, SVG or PDF."""
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {".png": _write_png, ".svg": _write_svg, ".pdf": _write_pdf}
    if suffix not in writers:
        raise JourneyError(f"Cannot export a chart as '{suffix}': use .png, .svg or .pdf")
    check_width(width)
    with atomic_output(path) as temporary:
        writers[suffix](widget, temporary, caption, width)
    return path


def _write_png(widget: QWidget, path: Path, caption: Caption, width: int) -> None:
    if not to_image(widget, caption, width).save(str(path), "PNG"):
        raise JourneyError(f"Could not write the PNG {path.name}")


def _write_svg(widget: QWidget, path: Path, caption: Caption, width: int) -> None:
    size = slide_size(width)
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(QPoint(0, 0), size))
    generator.setTitle(caption.title)
    generator.setDescription(caption.subtitle)
    _paint_and_end(_active_painter(generator, path), widget, caption, size)


def _write_pdf(widget: QWidget, path: Path, caption: Caption, width: int) -> None:
    _, painter = slide_pdf(path, caption.title, max(round(width / (PDF_PAGE_MM[0] / 25.4)), 72))
    _paint_and_end(painter, widget, caption, QSize(painter.device().width(), painter.device().height()))


PDF_PAGE_MM = (297, 167.0625)            # an A4-wide 16:9 page


def slide_pdf(path: Path, title: str, dpi: int) -> tuple[QPdfWriter, QPainter]:
    """A new PDF of 16:9 pages without margins, and an active painter on it (chart exports and board
    handouts; keep the writer for ``newPage`` and while the painter paints)."""
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QSizeF(*PDF_PAGE_MM), QPageSize.Unit.Millimeter))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setResolution(dpi)
    writer.setTitle(title)
    return writer, _active_painter(writer, path)


def _active_painter(device, path: Path) -> QPainter:
    """A painter on ``device``; Qt reports an unwritable file only as a painter that is not active."""
    painter = QPainter(device)
    if not painter.isActive():
        raise JourneyError(f"Could not write {path.name}: the file cannot be opened for writing")
    return painter


def to_image(widget: QWidget, caption: Caption, width: int = 1920) -> QImage:
    size = slide_size(check_width(width))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(1.0)
    # Resolution metadata so that slide tools place the picture exactly slide-wide (13.33 in at 16:9):
    # 1920 px -> 144 dpi, 3840 px -> 288 dpi.
    dots_per_metre = round(width / SLIDE_WIDTH_INCHES / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    _paint_and_end(painter, widget, caption, size)
    return image


def png_bytes(image: QImage) -> bytes:
    """A QImage encoded as PNG (for python-pptx and the clipboard's consumers)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise JourneyError("Could not encode the chart as PNG")
    buffer.close()
    return bytes(data.data())
