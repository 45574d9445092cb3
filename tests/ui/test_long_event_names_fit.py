"""Compare at 1280x720 on a process log with long event names: the category labels of the bars and
the heatmap are shortened in the middle so both plots fit their half of the window (no plot is
pushed off screen); a wide slide keeps the names whole."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from journey_explorer.charts import basic
from journey_explorer.charts.canvas import SideBySide
from journey_explorer.charts.theme import LIGHT, PRESENTATION

NAMES = [f"T0{i} Process or receive external advice from party {i}" for i in range(1, 9)]


def axis_texts(plot):
    return [text for _, text in plot.getPlotItem().getAxis("left")._tickLevels[0]]


def test_both_plots_fit_half_a_small_window(qtbot):
    canvas = SideBySide()
    qtbot.addWidget(canvas)
    canvas.resize(960, 380)                # the chart's room in a 1280x720 window
    canvas.show()
    qtbot.wait(20)
    basic.diverging_bars(canvas.left, NAMES, list(np.linspace(-0.3, 0.2, 8)), [""] * 8, LIGHT)
    basic.heatmap(canvas.right, np.linspace(-0.2, 0.2, 80).reshape(8, 10), NAMES, [str(c) for c in range(10)],
                  LIGHT, diverging=True, points=True)
    qtbot.wait(50)
    assert canvas.left.minimumSizeHint().width() + canvas.right.minimumSizeHint().width() <= 960
    for plot in (canvas.left, canvas.right):
        texts = axis_texts(plot)
        assert all("…" in t for t in texts) and all(t.endswith(f"party {i}") for i, t in enumerate(texts, 1))


def test_a_wide_slide_keeps_the_names_whole(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(1400, 700)
    basic.diverging_bars(plot, NAMES, list(np.linspace(-0.3, 0.2, 8)), [""] * 8, PRESENTATION)
    assert axis_texts(plot) == NAMES
