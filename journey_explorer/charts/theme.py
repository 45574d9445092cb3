"""Colours and type for charts: a light presentation theme (slides, projectors) and a dark one.

The categorical palette is Okabe-Ito (distinguishable with the common colour-vision deficiencies).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QFont, QFontMetrics

if TYPE_CHECKING:
    from journey_explorer.charts.plotting import pg

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SUCCESS, FAILURE, NEUTRAL = "#009E73", "#D55E00", "#9A9A9A"
ACCENT = "#2F8FE0"      # a checked box: stands out on white and on the dark background (3:1 both)


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    muted: str
    grid: str
    font_size: int

    def font(self, scale: float = 1.0, bold: bool = False) -> QFont:
        font = QFont()
        font.setPointSizeF(self.font_size * scale)
        font.setBold(bold)
        return font


LIGHT = Theme("light", background="#FFFFFF", foreground="#222222", muted="#666666", grid="#E5E5E5", font_size=10)
DARK = Theme("dark", background="#1E1F22", foreground="#E8E8E8", muted="#A0A0A0", grid="#3A3B3F", font_size=10)
PRESENTATION = Theme("presentation", background="#FFFFFF", foreground="#111111", muted="#555555",
                     grid="#E5E5E5", font_size=15)
THEMES = {t.name: t for t in (LIGHT, DARK, PRESENTATION)}


def literal(text) -> str:
    """Text for pyqtgraph's HTML labels (legends, titles, axis titles, ``TextItem.setHtml``): an
    event or property value named ``<img src=file:...>`` shows as written, it loads nothing.

    >>> literal("<b>cart & checkout</b>")
    '&lt;b&gt;cart &amp; checkout&lt;/b&gt;'
    """
    return html.escape(str(text), quote=False)


def widest(texts, font: QFont) -> int:
    """Pixel width of the widest of ``texts`` in ``font`` (0 for none): room to keep for labels."""
    metrics = QFontMetrics(font)
    return max((metrics.horizontalAdvance(str(text)) for text in texts), default=0)


def category_colour(index: int) -> QColor:
    return QColor(OKABE_ITO[index % len(OKABE_ITO)])


def style_plot(plot: pg.PlotWidget | pg.PlotItem, theme: Theme) -> None:
    """Background, axis colours and fonts of a pyqtgraph plot."""
    from journey_explorer.charts.plotting import pg  # the window's own modules never import pyqtgraph
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    if isinstance(plot, pg.PlotWidget):
        plot.setBackground(theme.background)
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(theme.muted))
        axis.setTextPen(pg.mkPen(theme.foreground))
        axis.setTickFont(theme.font())
    # pyqtgraph sizes the bottom axis for its default type; make room for the theme's (slide) type.
    item.getAxis("bottom").setHeight(QFontMetrics(theme.font()).height() + 16)
    item.showGrid(x=False, y=False)


def stylesheet(theme: Theme) -> str:
    """Application style for the chosen theme (tiles, tables, side panel); exports use it for tiles too."""
    base = theme.font_size
    return f"""
    QWidget {{ background: {theme.background}; color: {theme.foreground}; font-size: {base}pt; }}
    #tile {{ border: 1px solid {theme.grid}; border-radius: 6px; }}
    #tileValue {{ font-size: {int(base * 2.2)}pt; font-weight: bold; }}
    #tileCaption {{ color: {theme.muted}; }}
    QTableView {{ gridline-color: {theme.grid}; alternate-background-color: {theme.grid}; }}
    QTabBar::tab {{ padding: 6px 14px; }}
    QTabBar::tab:selected {{ font-weight: bold; }}
    QCheckBox::indicator, QGroupBox::indicator {{ width: 13px; height: 13px; border: 2px solid {theme.muted};
        border-radius: 3px; background: {theme.background}; }}
    QCheckBox::indicator:checked, QGroupBox::indicator:checked {{ background: {ACCENT};
        border: 2px solid {theme.foreground}; }}
    QCheckBox::indicator:disabled {{ border-color: {theme.grid}; }}
    """
