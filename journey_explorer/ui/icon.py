"""The app icon, drawn in code: a rounded tile with a small Sankey (one source, two flows).

``packaging/make_icons.py`` writes ``resources/icon.png|.ico|.icns`` from the same drawing, so the
window and the frozen executable show the same picture.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPainterPath, QPixmap

TILE, SOURCE, UPPER, LOWER = "#0B3D61", "#FFFFFF", "#E69F00", "#56B4E9"
BAND_TINT = 0.45             # bands are the node colour lightened this far, as in the charts


def icon_image(size: int = 256) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 100, size / 100)                     # draw on a 100 x 100 grid
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(TILE))
    painter.drawRoundedRect(QRectF(4, 4, 92, 92), 20, 20)
    painter.setBrush(QColor(SOURCE))
    painter.drawRect(QRectF(18, 24, 10, 52))                  # the source node
    for colour, (y0, y1, height) in ((UPPER, (24, 18, 30)), (LOWER, (54, 60, 22))):   # 30 + 22 of 52 users
        painter.setBrush(_towards(QColor(colour), QColor("#FFFFFF"), BAND_TINT))
        painter.drawPath(_band(27.5, y0, 72.5, y1, height))
        painter.setBrush(QColor(colour))
        painter.drawRect(QRectF(72, y1, 10, height))
    painter.end()
    return image


def _towards(colour: QColor, other: QColor, share: float) -> QColor:
    return QColor(*(round(a + (b - a) * share) for a, b in zip(colour.getRgb()[:3], other.getRgb()[:3])))


def _band(x0: float, y0: float, x1: float, y1: float, height: float) -> QPainterPath:
    middle = (x0 + x1) / 2
    path = QPainterPath(QPointF(x0, y0))
    path.cubicTo(QPointF(middle, y0), QPointF(middle, y1), QPointF(x1, y1))
    path.lineTo(x1, y1 + height)
    path.cubicTo(QPointF(middle, y1 + height), QPointF(middle, y0 + height), QPointF(x0, y0 + height))
    path.closeSubpath()
    return path


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        icon.addPixmap(QPixmap.fromImage(icon_image(size)))
    return icon
