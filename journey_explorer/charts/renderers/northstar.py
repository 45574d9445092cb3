"""North star: the last full period's figures over the metric's trend."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey_explorer.analysis import units
from journey_explorer.charts import basic
from journey_explorer.charts.canvas import TilesOverTrend

if TYPE_CHECKING:
    pass


def make_canvas(theme) -> TilesOverTrend:
    return TilesOverTrend({"metric": "users doing it (last full period)", "depth": "repeat it within the period",
                           "frequency": "times per user", "efficiency": "time to first time"})


def render(result, spec, canvas: TilesOverTrend, theme) -> None:
    import pandas as pd
    frame = result.table
    # The tiles say what the report's headline says: the last complete period in which anyone did it.
    headline = result.headline
    full = pd.Series(headline) if headline is not None else frame.iloc[-1]
    tiles = canvas.tiles
    unit = getattr(result, "path_unit", "users")
    tiles["metric"].set(units.count(full["metric"]), f"{unit} doing {result.spec.event} ({full['period']})")
    tiles["depth"].set(units.percent(full["depth"], 0))
    tiles["frequency"].set(units.MISSING if pd.isna(full["frequency"]) else f"{full['frequency']:.1f}",
                           f"times per {units.singular(unit)}")
    tiles["efficiency"].set(units.duration(None if pd.isna(full["efficiency_days"]) else full["efficiency_days"] * 86_400))
    drawn = result.charted() if hasattr(result, "charted") else frame       # whole periods only
    basic.line_chart(canvas.trend, drawn["period"].tolist(), {"north star": drawn["metric"].to_numpy()}, theme)
    # The tile above names the event; a long event name on the vertical axis would be cut off.
    basic.axis_label(canvas.trend, "left", f"{unit} doing it", theme)


def table(result, spec):
    frame = result.table.assign(efficiency_days=result.table["efficiency_days"] * 86_400)
    frame = frame.rename(columns={"efficiency_days": "time to first time", "depth": "repeat within period"})
    frame.attrs["units"] = {"time to first time": "duration", "repeat within period": "percent"}
    return frame
