"""Compare: how the two groups differ by event (left) and by step (right), in percentage points."""
from __future__ import annotations

from typing import Iterator

from journey_explorer.analysis import compare
from journey_explorer.charts import basic, breakdown
from journey_explorer.charts.canvas import SideBySide
from journey_explorer.charts.renderers import in_parts


def make_canvas(theme) -> SideBySide:
    return SideBySide((600, 500))


def significance_marks(q_values) -> list[str]:
    """Stars for FDR-adjusted q-values.

    >>> significance_marks([0.0005, 0.005, 0.03, 0.2])
    ['***', '**', '*', '']
    """
    return ["***" if q < 0.001 else "**" if q < 0.01 else "*" if q < 0.05 else "" for q in q_values]


def bar_marks(events) -> list[str]:
    """Stars only on differences that pass (significant, enough users, not an after-the-goal artefact):
    a starred bar the table calls "does not pass" would contradict it.

    >>> import pandas as pd
    >>> bar_marks(pd.DataFrame({"q_value": [0.0001, 0.0001, 0.2], "passes": [True, False, False]}))
    ['***', '', '']
    """
    q_values = events["q_value"].where(events["passes"], 1.0) if "passes" in events else events["q_value"]
    return significance_marks(q_values)


@in_parts
def render(result, spec, canvas: SideBySide, theme) -> Iterator[None]:
    events = result.events
    if "passes" in events and events["passes"].any():
        events = events[events["passes"]]       # the differences the findings name, as on the slide; not +0 pts rows
    top = events.head(15)
    labels = compare.event_labels(top)
    basic.diverging_bars(canvas.left, labels, top["difference"].tolist(), bar_marks(top), theme, *result.labels)
    staged = "reached" in top and top["reached"].notna().any()
    # Short: a plot title's text sets the plot's minimum width (a longer one pushes the bars off screen).
    canvas.left.getPlotItem().setTitle(f"{compare.STAGED_MARK} compared among paths that reached its step" if staged else None,
                                       color=theme.muted, size=f"{theme.font_size}pt")
    yield                    # the window draws the heatmap on a turn of its own (see renderers.Renderer)
    matrix = result.step_matrix.set_index("step")
    columns = list(matrix.abs().max().sort_values(ascending=False).index[:8])
    yield from basic.heatmap_parts(canvas.right, matrix[columns].to_numpy().T, columns,     # cells, then scale
                                   [str(s) for s in matrix.index], theme, diverging=True, points=True,
                                   scale_label=f"{result.labels[0]} minus {result.labels[1]}, points")
    basic.axis_label(canvas.right, "bottom", "step of the path (1 = first event)", theme)


def table(result, spec):
    """The breakdown, the events and who differs, the a/b columns named after the groups; shares in
    percent, the difference in points (exports keep ``result.to_frame()``'s raw columns)."""
    frame = breakdown.compare_table(result)
    frame.attrs["units"] = {c: "percent" for c in frame.columns if c.startswith(("share", "rate"))}
    if "difference" in frame.columns:
        frame.attrs["units"]["difference"] = "points"
    return frame
