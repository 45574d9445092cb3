"""Retention: the curve (left, with where it flattens) and the cohort heatmap (right)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from journey_explorer.charts import basic, breakdown
from journey_explorer.charts.canvas import ReadoutOverTwo


def make_canvas(theme) -> ReadoutOverTwo:
    return ReadoutOverTwo()


def render(result, spec, canvas: ReadoutOverTwo, theme) -> None:
    canvas.readout.setText(result.readout)
    curve = result.curve[result.curve["eligible"] > 0]
    basic.line_chart(canvas.left, [str(p) for p in curve["period"]],
                     {"retained users": curve["share"].to_numpy()}, theme, percent=True)
    basic.axis_label(canvas.left, "bottom", f"{result.spec.period}s since start", theme)
    if result.flattens_at is not None:
        canvas.left.addItem(pg.InfiniteLine(result.flattens_at, angle=90,
                                            pen=pg.mkPen(theme.muted, style=Qt.PenStyle.DashLine)))
    breakdown.curves_by_group(canvas.left, result, theme)    # a breakdown: one curve per group instead
    canvas.right.setVisible(result.breakdown is None)        # ... and room for them (the cohorts are everyone's)
    cohorts = result.cohorts.tail(16)
    columns = [c for c in cohorts.columns if c.startswith("p")]
    matrix = cohorts[columns].astype(float).to_numpy()
    labels = [f"{c} ({s:,})" for c, s in zip(cohorts["cohort"], cohorts["size"])]
    basic.heatmap(canvas.right, matrix, labels, [c[1:] for c in columns], theme)


def table(result, spec):
    return result.cohorts if result.breakdown is None else result.breakdown
