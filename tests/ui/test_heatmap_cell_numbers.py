"""Heatmaps (Compare, Retention): a cell's number is written in it when it fits at the plot's real
size (re-checked on resize), and hovering any cell says its row, column and value."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from journey_explorer.charts import basic
from journey_explorer.charts.theme import DARK, LIGHT

ROWS = ["Dashboard Shared", "Login", "Ad Click", "Landing Page View", "<b>Connection</b> Failed"]


def draw(qtbot, size, theme=LIGHT):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    values = np.linspace(-0.2, 0.2, 50).reshape(5, 10)
    values[4, 9] = np.nan
    basic.heatmap(plot, values, ROWS, [str(c) for c in range(1, 11)], theme, diverging=True, points=True)
    qtbot.wait(30)
    return plot


def numbers(plot):
    """The item writing the cells' numbers (one for all cells)."""
    return [i for i in plot.getPlotItem().items if isinstance(i, basic.CellNumbers)]


def cells(plot):
    return next(i for i in plot.getPlotItem().items if isinstance(i, pg.ImageItem))


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_numbers_show_only_when_they_fit_and_follow_resizes(qtbot, theme):
    plot = draw(qtbot, (380, 300), theme)        # the compare heatmap's share of a 1280x720 window
    assert numbers(plot) and not any(t.isVisible() for t in numbers(plot))
    plot.resize(900, 500)
    qtbot.waitUntil(lambda: all(t.isVisible() for t in numbers(plot)), timeout=2_000)
    plot.resize(380, 300)
    qtbot.waitUntil(lambda: not any(t.isVisible() for t in numbers(plot)), timeout=2_000)


def test_every_cell_has_a_tooltip_with_its_number(qtbot):
    plot = draw(qtbot, (380, 300))
    image = cells(plot)

    def tip(col, row):
        return image.describe(col, row).replace("\xa0", " ")
    text = tip(0, 4)             # column 1, top row
    assert "Dashboard Shared" in text and "1" in text and "-20 pts" in text
    assert "no data yet" in tip(9, 0)        # the bottom row's last cell is NaN
    assert "&lt;b&gt;Connection&lt;/b&gt;" in tip(0, 0)    # an event name shows as written


def test_exported_heatmap_still_writes_its_numbers(qtbot):
    plot = draw(qtbot, (1200, 700), theme=LIGHT)
    assert numbers(plot) and all(t.isVisible() for t in numbers(plot))


def test_every_finite_cell_gets_its_number_painted_centred_in_it(qtbot):
    plot = draw(qtbot, (1200, 700))
    (item,) = numbers(plot)
    written = {(n.x, n.y): n.text for n in item.numbers}
    assert written[(0.5, 4.5)] == "-20"            # column 1 of the top row, centred in the cell
    assert (9.5, 0.5) not in written                # the NaN cell: hatched, no number
    assert "+0" not in written.values()             # no "+0" wallpaper on differences
    centre = plot.mapFromScene(item.mapToScene(0.5, 4.5))        # that cell's centre on screen
    around = [(centre.x() + dx, centre.y() + dy) for dx in range(-15, 16) for dy in range(-6, 7)]
    shown = plot.grab().toImage()
    item.setVisible(False)
    bare = plot.grab().toImage()
    changed = sum(shown.pixelColor(x, y) != bare.pixelColor(x, y) for x, y in around)
    assert changed > 20, "the number is painted around its cell's centre"
