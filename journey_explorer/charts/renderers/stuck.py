"""Stuck points: events ranked by how much worse failing paths do there, with what successful users did next."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey_explorer.analysis import stuck
from journey_explorer.analysis.units import short_percent
from journey_explorer.charts import basic
from journey_explorer.charts.plotting import pg, plot_widget
from journey_explorer.charts.theme import OKABE_ITO

if TYPE_CHECKING:
    import pandas as pd


def make_canvas(theme) -> pg.PlotWidget:
    return plot_widget()


def groups(result) -> tuple[str, str, str]:
    """The two groups in the analysis's words ("failing users", "successful users"; for a goal to avoid
    "users who cancel", "users who never cancel"), and the failing group's short tag for a count
    ("failing", "who cancel")."""
    unit = result.spec.unit or "users"          # the log's word, filled in by stuck.run
    failing, successful, _ = stuck._group_words(result.spec, unit)
    return failing, successful, failing.removeprefix(f"{unit} ") if result.spec.unwanted else "failing"


def render(result, spec, canvas: pg.PlotWidget, theme) -> None:
    stuck_rows = result.table[result.table["score"] > 0]
    failing, successful, tag = groups(result)
    if stuck_rows.empty:            # say so instead of a ranking of zeros
        basic.message(canvas, f"No stuck point: at no event do {failing} end visits, loop or wait "
                              f"significantly more than {successful}.", theme)
        return
    top = stuck_rows.head(12)
    basic.ranked_bars(canvas, top["event"].tolist(), top["score"].tolist(), theme,
                      value_text=[bar_text(row, failing, tag) for row in top.itertuples()],
                      colours=[OKABE_ITO[5]] * len(top))
    basic.axis_label(canvas, "bottom", f"how much worse {failing} do here than {successful}", theme)
    canvas.setToolTip(stuck.RANK_EXPLANATION)


def bar_text(row, failing: str = "failing users", tag: str = "failing") -> str:
    """The parts that make an event stuck, failing vs successful paths: "visit ends 86% vs 34% · loop 22% vs 15%
    (1,234 failing)"; ``failing``, ``tag``: the failing group and its tag for the count (``groups``)."""
    parts = []
    if getattr(row, "stop_excess", 0) > 0:
        parts.append(f"go no further {short_percent(row.stop_rate)} vs {short_percent(row.stop_reference)}")
    if row.exit_excess > 0:
        parts.append(f"visit ends {short_percent(row.exit_rate_failing)} vs {short_percent(row.exit_reference)}")
    if row.loop_excess > 0:
        parts.append(f"loop {short_percent(row.loop_rate_failing)} vs {short_percent(row.loop_reference)}")
    if getattr(row, "repeat_excess", 0) > 0:
        parts.append(f"done {row.repeat_mean_failing:.1f}× a visit vs {row.repeat_mean_successful:.1f}×")
    if row.dwell_excess > 0:
        parts.append("wait longer")
    if getattr(row, "wait_excess", 0) > 0:
        parts.append("waited longer for it")
    if not parts:
        return f"no worse for {failing}"
    return " · ".join(parts) + f" ({int(row.failing_users):,} {tag})"


def table(result, spec) -> pd.DataFrame:
    """The ranking, then what successful and failing users did next at each stuck point."""
    import pandas as pd
    failing, successful, _ = groups(result)
    unit = result.spec.unit or "users"
    ranking = result.table if unit == "users" else result.table.rename(     # "failing_cases" in a case log
        columns=lambda column: column.replace("users", unit))
    unstuck = [{"stuck at": u["event"], "next event": n["event"],
                successful: n["successful_share"], failing: n["failing_share"]}
               for u in result.unstuck for n in u["next"]]
    return ranking if not unstuck else pd.concat([ranking, pd.DataFrame(unstuck)], ignore_index=True)
