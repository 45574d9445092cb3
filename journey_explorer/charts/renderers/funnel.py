"""Funnel: users reaching each step, and where those lost after a step went next."""
from __future__ import annotations

import pandas as pd
import pyqtgraph as pg

from journey_explorer.charts import basic, breakdown


def make_canvas(theme) -> pg.PlotWidget:
    return pg.PlotWidget()


def render(result, spec, canvas: pg.PlotWidget, theme) -> None:
    if breakdown.funnel_by_group(canvas, result, theme):      # a breakdown: grouped bars per step
        return
    basic.funnel_bars(canvas, result.table["event"].tolist(), result.table["users"].tolist(), theme)


def table(result, spec) -> pd.DataFrame:
    went = [{"group": w["group"], "lost after": result.spec.steps[w["lost_after_step"] - 1], "went next": n["event"],
             "users": n["users"], "share": n["share"]} for w in result.went_next for n in w["next"]]
    return pd.concat([result.table, pd.DataFrame(went)], ignore_index=True) if went else result.table
