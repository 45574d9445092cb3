"""Compare: how the two groups differ by event (left) and by step (right)."""
from __future__ import annotations

from journey_explorer.charts import basic, breakdown
from journey_explorer.charts.canvas import SideBySide


def make_canvas(theme) -> SideBySide:
    return SideBySide((600, 500))


def significance_marks(q_values) -> list[str]:
    """Stars for FDR-adjusted q-values.

    >>> significance_marks([0.0005, 0.005, 0.03, 0.2])
    ['***', '**', '*', '']
    """
    return ["***" if q < 0.001 else "**" if q < 0.01 else "*" if q < 0.05 else "" for q in q_values]


def render(result, spec, canvas: SideBySide, theme) -> None:
    top = result.events.head(15)
    basic.diverging_bars(canvas.left, top["event"].tolist(), top["difference"].tolist(),
                         significance_marks(top["q_value"]), theme, *result.labels)
    matrix = result.step_matrix.set_index("step")
    columns = list(matrix.abs().max().sort_values(ascending=False).index[:8])
    basic.heatmap(canvas.right, matrix[columns].to_numpy().T, columns,
                  [str(s) for s in matrix.index], theme, diverging=True, fmt="{:+.0%}")
    basic.axis_label(canvas.right, "bottom", "step", theme)


def table(result, spec):
    return breakdown.compare_table(result)      # the breakdown and who differs too, not only the events
