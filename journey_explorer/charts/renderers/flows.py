"""Flows: the Sankey diagram of the first steps of the paths."""
from __future__ import annotations

from journey_explorer.charts.sankey import SankeyLayout, SankeyWidget


def make_canvas(theme) -> SankeyWidget:
    return SankeyWidget(theme)


def prepare(result, theme):
    """The Sankey's geometry and picture, built with the analysis (off the GUI thread)."""
    result.layout = SankeyLayout(result.node_rows, result.link_rows, result.paths, theme, goal=result.spec.goal,
                                 breakdown=[g["group"] for g in result.breakdown_groups or []],
                                 paths=getattr(result, "path_unit", "users"))
    return result


def render(result, spec, canvas: SankeyWidget, theme) -> None:
    canvas.set_theme(theme)
    canvas.show_layout(result.layout)


def table(result, spec):
    split = result.spec.split is not None or result.spec.breakdown is not None     # the links per group
    frame = result.links if split else result.links.drop(columns="group")
    frame = frame.rename(columns={"users": getattr(result, "path_unit", "users"), "share_of_start": "of start",
                                  "median_seconds": "median time"})
    frame.attrs["units"] = {"of start": "percent", "median time": "duration"}
    return frame
