"""Retention: the curve (left, with its 95 % band and where it levels off) and the cohort heatmap (right)."""
from __future__ import annotations

from typing import Iterator

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from journey_explorer.analysis import units
from journey_explorer.analysis.retention import FLAT_RULE, wilson_band
from journey_explorer.charts import basic, breakdown
from journey_explorer.charts.canvas import ReadoutOverTwo
from journey_explorer.charts.plotting import pg
from journey_explorer.charts.renderers import in_parts
from journey_explorer.charts.theme import OKABE_ITO


def make_canvas(theme) -> ReadoutOverTwo:
    return ReadoutOverTwo()


@in_parts
def render(result, spec, canvas: ReadoutOverTwo, theme) -> Iterator[None]:
    canvas.readout.setText(result.readout)
    canvas.readout.setToolTip(FLAT_RULE)          # the rule behind the words and the dashed marker
    curve = result.curve[result.curve["eligible"] > 0]
    basic.line_chart(canvas.left, [str(p) for p in curve["period"]],
                     {f"retained {getattr(result, 'path_unit', 'users')}": curve["share"].to_numpy()}, theme, percent=True)
    basic.axis_label(canvas.left, "bottom", f"{result.spec.period}s since start", theme)
    _band(canvas.left, curve)
    if result.flattens_at is not None:
        _plateau_marker(canvas.left, result, theme)
    breakdown.curves_by_group(canvas.left, result, theme)    # a breakdown: one curve per group instead
    yield                    # the window draws the heatmap on a turn of its own (see renderers.Renderer)
    canvas.right.setVisible(result.breakdown is None)        # ... and room for them (the cohorts are everyone's)
    cohorts = result.cohorts.tail(16)
    columns = [c for c in cohorts.columns if c.startswith("p")]
    matrix = cohorts[columns].astype(float).to_numpy()
    labels = [f"{c} ({units.count(s)})" for c, s in zip(cohorts["cohort"], cohorts["size"])]
    yield from basic.heatmap_parts(canvas.right, matrix, labels, [c[1:] for c in columns], theme,
                                   scale_label="retained, share of cohort")      # the cells, then the scale
    basic.axis_label(canvas.right, "bottom", f"{result.spec.period}s since start", theme)


def _band(plot: pg.PlotWidget, curve) -> None:
    """The 95 % binomial band around the curve: how much of a wiggle is noise."""
    low, high = wilson_band(curve["retained"], curve["eligible"])
    xs = np.arange(len(curve), dtype=float)
    colour = QColor(OKABE_ITO[0])
    colour.setAlpha(50)
    lower, upper = pg.PlotDataItem(xs, low, pen=None), pg.PlotDataItem(xs, high, pen=None)
    plot.addItem(pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(colour)))


def _plateau_marker(plot: pg.PlotWidget, result, theme) -> None:
    """A dashed line where the read-out says the curve levels off, and the plateau from there on."""
    pen = pg.mkPen(theme.muted, style=Qt.PenStyle.DashLine, width=2)
    plot.addItem(pg.InfiniteLine(result.flattens_at, angle=90, pen=pen))
    last = float(result.curve.loc[result.curve["eligible"] > 0, "period"].max())
    plot.plot([result.flattens_at, last], [result.plateau, result.plateau], pen=pen)
    words = "about zero from here" if result.plateau < 0.005 else f"levels off at ~{units.percent(result.plateau, 0)}"
    right_half = result.flattens_at > last / 2           # then the words go left of the line, inside the plot
    label = pg.TextItem(words, color=theme.muted, anchor=(1, 1) if right_half else (0, 1))
    label.setFont(theme.font(0.85))
    label.setPos(result.flattens_at + (-0.15 if right_half else 0.15), result.plateau + 0.08)
    plot.addItem(label)


def table(result, spec):
    if result.breakdown is not None:          # one curve per group
        return result.breakdown
    frame = result.cohorts.rename(columns=lambda c: f"{spec.period} {c[1:]}" if c[:1] == "p" and c[1:].isdigit()
                                  else c)
    frame.attrs["units"] = {c: "percent" for c in frame.columns if c.startswith(spec.period)}
    return frame
