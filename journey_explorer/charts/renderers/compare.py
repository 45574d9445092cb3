"""Compare: how the two groups differ by event (left) and by step (right), in percentage points."""
from __future__ import annotations

from journey_explorer.charts import basic
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
                  [str(s) for s in matrix.index], theme, diverging=True, points=True,
                  scale_label=f"{result.labels[0]} minus {result.labels[1]}, points")
    basic.axis_label(canvas.right, "bottom", "step of the path (1 = first event)", theme)


def table(result, spec):
    """The events table with the groups' names in the headers and shares in percent (points for the
    difference); exports keep ``result.to_frame()``'s raw columns."""
    a, b = result.labels
    frame = result.events.rename(columns=lambda c: _header(c, a, b))
    frame.attrs["units"] = {c: "percent" for c in frame.columns if c.startswith("share")}
    frame.attrs["units"][f"difference ({a} − {b})"] = "points"
    return frame


def _header(column: str, a: str, b: str) -> str:
    """ "share_a_any_time" -> "share (successful) any time"; "difference" names both groups.

    >>> _header("share_a_any_time", "successful", "failing"), _header("users_b", "x", "y")
    ('share (successful) any time', 'users (y)')
    """
    if column == "difference":
        return f"difference ({a} − {b})"
    words = column.split("_")
    return " ".join(f"({a})" if w == "a" else f"({b})" if w == "b" else w for w in words)
