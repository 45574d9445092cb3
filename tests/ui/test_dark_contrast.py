"""Dark theme: every number written on a heatmap cell (retention, compare) or on a process-map box
contrasts with what is under it (WCAG AA for text: 4.5:1)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from journey_explorer.charts import basic
from journey_explorer.charts.theme import DARK, LIGHT

MIN_CONTRAST = 4.5


def cell_labels(plot):
    """(text, text colour, cell colour) for each number written on the heatmap."""
    item = plot.getPlotItem()
    image = next(i for i in item.items if isinstance(i, pg.ImageItem)).image     # [column, row from bottom]
    found = []
    for numbers in (i for i in item.items if isinstance(i, basic.CellNumbers)):
        for number in numbers.numbers:
            found.append((number.text, QColor(number.colour), image[int(number.x), int(number.y)]))
    return found


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=lambda t: t.name)
@pytest.mark.parametrize("diverging", [False, True], ids=["shares", "differences"])
def test_heatmap_cell_numbers_contrast_with_their_cells(qtbot, theme, diverging):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(1000, 700)
    values = np.linspace(-1 if diverging else 0, 1, 36).reshape(6, 6)
    values[5, 5] = np.nan                    # no data: hatched, no number
    basic.heatmap(plot, values, [f"row {i}" for i in range(6)], [str(c) for c in range(6)], theme,
                  diverging=diverging, points=diverging)
    labels = cell_labels(plot)
    assert len(labels) >= 30
    for text, colour, cell in labels:
        ratio = basic.contrast_ratio(colour.getRgb(), cell)
        assert ratio >= MIN_CONTRAST, f"{text!r} in {colour.name()} on {QColor(*cell[:3]).name()}: {ratio:.1f}:1"


def test_readable_on_picks_the_stronger_contrast():
    assert basic.readable_on((255, 255, 255)) == basic.CELL_TEXT_DARK
    assert basic.readable_on((0, 114, 178)) == basic.CELL_TEXT_LIGHT          # the scale's deep blue
    assert basic.contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21)


def test_compare_view_in_dark_theme_has_readable_cell_numbers(demo_project_path, qtbot):
    from journey_explorer.charts.renderers import renderer
    from journey_explorer.state.registry import view
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    from journey_explorer.state.filters import FilterState
    entry = view("compare")
    spec = entry.default_spec(log, FilterState(goal="Subscription Paid"))
    chart = renderer(entry.chart_name)
    result = chart.prepare(entry.run(log, spec), DARK)
    canvas = chart.make_canvas(DARK)
    qtbot.addWidget(canvas)
    canvas.resize(1280, 720)
    canvas.show()
    qtbot.waitExposed(canvas)
    chart.render(result, spec, canvas, DARK)
    heat = [w for w in canvas.findChildren(pg.PlotWidget)
            if any(isinstance(i, pg.ImageItem) for i in w.getPlotItem().items)]
    assert heat, "the compare view has a heatmap (differences by step)"
    labels = cell_labels(heat[0])
    assert labels, "the cells carry their numbers at 1280×720"
    for text, colour, cell in labels:
        assert basic.contrast_ratio(colour.getRgb(), cell) >= MIN_CONTRAST, text
