"""Charts in human units: compare's axis in percentage points, heatmaps with one colour scale and
no-data cells that never look like 0 %, tables formatted per column while the frame stays raw."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt

from journey_explorer.charts import basic
from journey_explorer.charts.theme import PRESENTATION
from journey_explorer.ui.widgets import FrameModel


def test_diverging_axis_in_points_without_si_scaling(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(900, 600)
    basic.diverging_bars(plot, ["a", "b"], [0.46, -0.27], ["***", ""], PRESENTATION, "successful", "failing")
    axis = plot.getPlotItem().getAxis("bottom")
    assert not axis.autoSIPrefix                       # no "(x0.001)"
    labels = [text for value, text in axis._tickLevels[0]]
    assert "0" in labels and len(labels) >= 3
    assert all(text == "0" or (text[0] in "+-" and text.endswith(" pts")) for text in labels)
    assert axis.labelText == "share of successful minus share of failing, points"
    assert all(abs(value) <= 1 for value, _ in axis._tickLevels[0])      # never ±400


def test_heatmap_has_one_colour_scale_and_transparent_no_data_cells(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    matrix = np.array([[1.0, 0.0, np.nan], [1.0, 0.25, 0.5]])
    for _ in range(2):                                  # a redraw replaces the scale, never adds one
        basic.heatmap(plot, matrix, ["c1", "c2"], ["0", "1", "2"], PRESENTATION, scale_label="retained")
    item = plot.getPlotItem()
    bars = [item.layout.itemAt(i) for i in range(item.layout.count())
            if isinstance(item.layout.itemAt(i), pg.ColorBarItem)]
    assert len(bars) == 1
    assert "hatched: no data yet" in item.titleLabel.text
    colours = basic._cell_colours(matrix, pg.ColorMap([0.0, 1.0], ["#F2F7FB", "#0072B2"]), (0, 1))
    # image axes: x = column, y = row counted from the bottom (row 0 of the matrix is on top)
    assert colours[2, 1, 3] == 0                        # the NaN cell is see-through (the hatch shows)
    assert tuple(colours[1, 1]) == (0xF2, 0xF7, 0xFB, 255)     # 0 % is the scale's palest colour, opaque


def test_table_cells_in_units_while_the_frame_stays_raw(qtbot):
    frame = pd.DataFrame({"event": ["a", "b"], "share": [0.547, np.nan], "median": [183_600.0, 35.0],
                          "difference": [0.123, -0.05], "users": [1234, 5]})
    frame.attrs["units"] = {"share": "percent", "median": "duration", "difference": "points"}
    model = FrameModel(frame)
    cells = [[model.data(model.index(r, c)) for c in range(5)] for r in range(2)]
    assert cells == [["a", "54.7%", "2 d 3 h", "+12.3 pts", "1,234"], ["b", "", "35 s", "-5.0 pts", "5"]]
    assert model.frame["share"].iloc[0] == 0.547       # what an export would write
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(model.index(0, 1), Qt.ItemDataRole.TextAlignmentRole) == right
    assert model.data(model.index(0, 0), Qt.ItemDataRole.TextAlignmentRole) is None


def test_the_compare_chart_shows_the_differences_that_pass_not_zero_rows(qtbot, demo_project_path):
    from journey_explorer.analysis import compare
    from journey_explorer.charts.canvas import SideBySide
    from journey_explorer.charts.renderers import compare as renderer
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    spec = compare.Spec(goal="Subscription Paid")
    result = compare.run(log, spec)
    canvas = SideBySide()
    qtbot.addWidget(canvas)
    renderer.render(result, spec, canvas, PRESENTATION)
    shown = [text for _, text in canvas.left.getPlotItem().getAxis("left")._tickLevels[0]]
    passing = result.events[result.events["passes"]]
    assert 0 < len(passing) < len(result.events) and len(shown) == min(len(passing), 15)
    assert shown[0].startswith(str(compare.event_labels(passing.head(15))[0])[:6])    # long names elided
