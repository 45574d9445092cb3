"""Stuck points: events ranked by how much worse failing paths do there, with what successful users did next."""
from __future__ import annotations

import pandas as pd
import pyqtgraph as pg

from journey_explorer.analysis import stuck
from journey_explorer.charts import basic
from journey_explorer.charts.theme import OKABE_ITO


def make_canvas(theme) -> pg.PlotWidget:
    return pg.PlotWidget()


def render(result, spec, canvas: pg.PlotWidget, theme) -> None:
    top = result.table.head(12)
    texts = [f"exit {r.exit_rate:.0%} · loops {r.loop_rate_failing:.0%} · {int(r.users):,} users"
             for r in top.itertuples()]
    basic.ranked_bars(canvas, top["event"].tolist(), top["score"].tolist(), theme,
                      value_text=texts, colours=[OKABE_ITO[5]] * len(top))
    basic.axis_label(canvas, "bottom", "stuck score (see the rank explanation)", theme)
    canvas.setToolTip(stuck.RANK_EXPLANATION)


def table(result, spec) -> pd.DataFrame:
    """The ranking, then what successful and failing users did next at each stuck point."""
    unstuck = [{"stuck at": u["event"], "next event": n["event"],
                "successful users": n["successful_share"], "failing users": n["failing_share"]}
               for u in result.unstuck for n in u["next"]]
    return result.table if not unstuck else pd.concat([result.table, pd.DataFrame(unstuck)], ignore_index=True)
