"""Line and stacked-bar charts (Overview, Retention, North star, Lifecycle): the legend sits above
the plot area, never over a line or a bar, on screen sizes and in both themes; redrawing keeps one."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from journey_explorer.charts import basic
from journey_explorer.charts.theme import DARK, LIGHT, PRESENTATION

WEEKS = [f"2026-{m:02d}-01" for m in range(1, 13)]


def legend_and_plot_area(plot):
    item = plot.getPlotItem()
    legend = item.legend
    return legend.sceneBoundingRect(), item.vb.sceneBoundingRect()


@pytest.mark.parametrize("theme", [LIGHT, DARK, PRESENTATION], ids=lambda t: t.name)
@pytest.mark.parametrize("size", [(950, 300), (1250, 450), (500, 300)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", ["lines", "bars"])
def test_legend_does_not_cover_the_data(qtbot, theme, size, kind):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    for _ in range(2):                    # drawn twice, as a view redraws: still one legend
        if kind == "lines":
            basic.line_chart(plot, WEEKS, {"weekly active users": np.linspace(300, 700, 12),
                                           "users doing Subscription Paid that week": np.full(12, 700.0)}, theme)
        else:
            basic.stacked_bars(plot, WEEKS, {"new": np.full(12, 300.0), "returning": np.full(12, 200.0),
                                             "dormant": np.full(12, -100.0)},
                               {"new": "#0072B2", "returning": "#009E73", "dormant": "#D55E00"}, theme)
        qtbot.wait(20)
    legend, area = legend_and_plot_area(plot)
    assert legend.height() > 0 and legend.width() > 0
    assert not legend.intersects(area), (legend, area)
    assert legend.top() >= 0 and legend.right() <= size[0] + 1          # inside the widget, not cut off
    legends = [i for i in plot.scene().items() if isinstance(i, pg.LegendItem) and i.isVisible()]
    assert len(legends) == 1
