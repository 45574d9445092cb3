"""Funnel at 1280x720 with long step names: names and the numbers over the bars fit their column
(measured on the plot's real size, again after a resize), so neighbours never run into each other."""
from __future__ import annotations

import pyqtgraph as pg

from journey_explorer.charts import basic
from journey_explorer.charts.theme import LIGHT, widest

STEPS = ["Confirmation of receipt", "T02 Check confirmation of receipt", "T04 Determine confirmation of receipt",
         "T05 Print and send confirmation of receipt", "T15 Print document X request unlicensed"]


def columns_fit(plot):
    item = plot.getPlotItem()
    column = item.vb.sceneBoundingRect().width() / len(STEPS)
    names = [line for _, text in item.getAxis("bottom")._tickLevels[0] for line in text.split("\n")]
    numbers = [t for t in item.items if isinstance(t, pg.TextItem)]
    widest_number = max(widest(t.toPlainText().split("\n"), t.textItem.font()) for t in numbers)
    return widest(names, LIGHT.font()) < column and widest_number < column


def test_funnel_names_and_numbers_fit_their_columns(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(900, 400)
    plot.show()
    basic.funnel_bars(plot, STEPS, [1434, 1306, 1287, 1284, 33], LIGHT)
    qtbot.wait(20)
    plot.resize(520, 300)                 # the funnel's share of a 1280x720 window, after drawing
    qtbot.waitUntil(lambda: columns_fit(plot), timeout=2_000)
