"""Overview: key-figure tiles over the weekly active users (and the north star when there is a goal).

Drawn from ``overview.summary``'s numpy columns (``analysis.columns.Columns``): the first view on
start-up needs no pandas.
"""
from __future__ import annotations

import numpy as np

from journey_explorer.analysis import lifecycle, units
from journey_explorer.analysis.columns import Columns
from journey_explorer.charts import basic
from journey_explorer.charts.canvas import TilesOverTrend


def make_canvas(theme) -> TilesOverTrend:
    return TilesOverTrend({"users": "users", "events": "events", "sessions": "sessions", "range": "time range",
                           "conversion": "reached the goal"})


def render(result: dict, spec, canvas: TilesOverTrend, theme) -> None:
    first, last = units.utc_date(result["first"]), units.utc_date(result["last"])
    unit = result.get("path_unit", "users")      # what a path is: "users", "sessions", "cases"
    tiles = canvas.tiles
    tiles["users"].set(units.count(result["users"]), unit)
    tiles["events"].set(units.count(result["events"]))
    tiles["sessions"].set(units.count(result["sessions"]))
    tiles["range"].set(f"{(last - first).days + 1:,} days", f"{first} – {last}")
    if result["reached"] is not None:
        tiles["conversion"].set(units.percent(result["reached"] / max(result["users"], 1)),
                                f"reached {result['goal']} (any time)")
    periods = np.asarray(result["weekly"]["period"]).tolist()
    full = lifecycle.covered_periods(periods, "week", result["first"], result["last"])
    lines = {f"weekly active {unit}": np.asarray(result["weekly"]["active"])[full]}
    if result["star"] is not None:
        lines[f"{unit} doing {result['goal']} that week"] = np.asarray(result["star"]["metric"])[full]
    basic.line_chart(canvas.trend, [p for p, keep in zip(periods, full) if keep], lines, theme)


def table(result: dict, spec) -> Columns:
    frame = result["weekly"][["period", "active", "new", "returning", "resurrected", "dormant"]]
    if result["star"] is not None:
        frame = frame.assign(doing_goal=np.asarray(result["star"]["metric"]))
    return frame
