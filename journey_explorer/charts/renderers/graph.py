"""Path graph: the directly-follows graph of event types."""
from __future__ import annotations

import pyqtgraph as pg

from journey_explorer.charts import basic


def make_canvas(theme) -> pg.PlotWidget:
    return pg.PlotWidget()


def render(result, spec, canvas: pg.PlotWidget, theme) -> None:
    basic.path_graph(canvas, result.graph, theme)
