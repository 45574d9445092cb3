"""Overview: key-figure tiles over the weekly active users (and the north star when there is a goal)."""
from __future__ import annotations

import pandas as pd

from journey_explorer.analysis import units
from journey_explorer.charts import basic
from journey_explorer.charts.canvas import TilesOverTrend


def make_canvas(theme) -> TilesOverTrend:
    return TilesOverTrend({"users": "users", "events": "events", "sessions": "sessions", "range": "time range",
                           "conversion": "reached the goal"})


def render(result: dict, spec, canvas: TilesOverTrend, theme) -> None:
    first = pd.Timestamp(result["first"], unit="ms").date()
    last = pd.Timestamp(result["last"], unit="ms").date()
    unit = "sessions" if spec.by == "session" else "users"
    tiles = canvas.tiles
    tiles["users"].set(units.count(result["users"]), unit)
    tiles["events"].set(units.count(result["events"]))
    tiles["sessions"].set(units.count(result["sessions"]))
    tiles["range"].set(f"{(last - first).days + 1:,} days", f"{first} – {last}")
    if result["reached"] is not None:
        tiles["conversion"].set(units.percent(result["reached"] / max(result["users"], 1)),
                                f"reached {result['goal']} (any time)")
    lines = {f"weekly active {unit}": result["weekly"]["active"].to_numpy()}
    if result["star"] is not None:
        lines[f"users doing {result['goal']} (north star)"] = result["star"]["metric"].to_numpy()
    basic.line_chart(canvas.trend, result["weekly"]["period"].tolist(), lines, theme)


def table(result: dict, spec) -> pd.DataFrame:
    frame = result["weekly"][["period", "active", "new", "returning", "resurrected", "dormant"]]
    if result["star"] is not None:
        frame = frame.assign(north_star=result["star"]["metric"].to_numpy())
    return frame
