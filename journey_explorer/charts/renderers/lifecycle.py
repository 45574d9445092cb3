"""Lifecycle: new, returning, resurrected and dormant users per period, stacked."""
from __future__ import annotations

from journey_explorer.charts import basic
from journey_explorer.charts.plotting import pg, plot_widget
from journey_explorer.charts.theme import OKABE_ITO

COLOURS = {"new": OKABE_ITO[0], "returning": OKABE_ITO[2], "resurrected": OKABE_ITO[1], "dormant": OKABE_ITO[5]}


def make_canvas(theme) -> pg.PlotWidget:
    return plot_widget()


def render(result, spec, canvas: pg.PlotWidget, theme) -> None:
    frame = result.table[result.covered()] if hasattr(result, "covered") else result.table   # whole periods only
    basic.stacked_bars(canvas, frame["period"].tolist(), {name: frame[name].to_numpy() for name in COLOURS},
                       COLOURS, theme)
    basic.axis_label(canvas, "left", f"{getattr(result, 'path_unit', 'users')} (dormant below zero)", theme)


def table(result, spec):
    return result.table
