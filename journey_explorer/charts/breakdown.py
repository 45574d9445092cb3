"""Charts of a breakdown: the same numbers once per group of a property's values (top values, then
"Other" and "(none)"), drawn side by side with a legend naming each group and its size.

Groups differ in size, so both charts show shares (conversion from the group's first step, users
retained), never raw counts: a consultant compares channels, not channel volumes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from journey_explorer.analysis import units
from journey_explorer.analysis.properties import NONE_LABEL, OTHER_LABEL
from journey_explorer.charts import basic
from journey_explorer.charts.plotting import pg
from journey_explorer.charts.theme import NEUTRAL, OKABE_ITO, Theme, literal, widest

if TYPE_CHECKING:
    import pandas as pd

GROUP_WIDTH = 0.8          # of one step's slot on the x axis, shared by that step's bars


def group_colours(labels: list[str]) -> list[str]:
    """One colour per group: the palette for real values, greys for "Other" and "(none)" so that
    the leftovers never look like one more channel.

    >>> group_colours(["Paid", "Organic", "Other", "(none)"])
    ['#0072B2', '#E69F00', '#9A9A9A', '#C8C8C8']
    """
    palette = iter(OKABE_ITO)
    return [NEUTRAL if label == OTHER_LABEL else "#C8C8C8" if label == NONE_LABEL else next(palette)
            for label in labels]


def legend_name(label: str, users: int, paths: str = "users") -> str:
    """ "Paid Search (1,947 users)": a group's name with its size, as the legend shows it (``paths``:
    what a path is, "users" or "cases").

    >>> legend_name("Webinar", 719), legend_name("Other", 1), legend_name("Other", 2, "cases")
    ('Webinar (719 users)', 'Other (1 user)', 'Other (2 cases)')
    """
    return f"{label} ({units.counted(users, units.singular(paths))})"


def bar_positions(n_steps: int, n_groups: int) -> np.ndarray:
    """x of each (step, group) bar: the groups side by side, centred on their step.

    >>> bar_positions(2, 2).round(2).tolist()
    [[-0.2, 0.2], [0.8, 1.2]]
    """
    width = GROUP_WIDTH / max(n_groups, 1)
    offsets = (np.arange(n_groups) - (n_groups - 1) / 2) * width
    return np.arange(n_steps)[:, None] + offsets[None, :]


def funnel_shares(table: pd.DataFrame, labels: list[str], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(shares, entered) from a funnel table with a breakdown: shares[step, group] = conversion from
    the group's first step; entered[group] = the group's users at step 1."""
    shares, entered = np.zeros((steps, len(labels))), np.zeros(len(labels), dtype=np.int64)
    for g, label in enumerate(labels):
        rows = table[table["group"] == label].sort_values("step")
        shares[:len(rows), g] = rows["conversion_from_start"].to_numpy(float)[:steps]
        entered[g] = int(rows["users"].iloc[0]) if len(rows) else 0
    return shares, entered


def funnel_by_group(plot: pg.PlotWidget, result, theme: Theme) -> bool:
    """Grouped bars per funnel step, one bar per group; False (nothing drawn) without a breakdown."""
    _forget(plot)
    if not result.groups:
        return False
    every = [g["group"] for g in result.groups]
    steps = list(result.spec.steps)
    shares, entered = funnel_shares(result.table, every, len(steps))
    colours = dict(zip(every, group_colours(every)))
    drawn = entered > 0                   # a group nobody entered the funnel from has no bars
    labels, shares, entered = [g for g, on in zip(every, drawn) if on], shares[:, drawn], entered[drawn]
    item = _fresh(plot, theme)
    xs = bar_positions(len(steps), len(labels))
    width = GROUP_WIDTH / max(len(labels), 1) * 0.9
    paths = getattr(result, "path_unit", "users")
    names = [legend_name(label, int(n), paths) for label, n in zip(labels, entered)]
    rows = _legend(plot, item, theme, names)
    for g, (label, name) in enumerate(zip(labels, names)):
        bar = pg.BarGraphItem(x=xs[:, g], height=shares[:, g], width=width, brush=pg.mkBrush(colours[label]),
                              pen=pg.mkPen(None))
        item.addItem(bar)
        item.legend.addItem(bar, literal(name))
    empty = [g for g, on in zip(every, drawn) if not on]
    if empty:
        _axis_title(item, "bottom", f"no {paths} entered at {steps[0]}: {', '.join(empty)}", theme)
    _bar_values(plot, item, xs, shares, width, theme)
    item.getAxis("bottom").setTicks([[(float(x), s) for x, s in enumerate(steps)]])
    _percent_axis(item, theme, f"share of the group's {paths} {units.who_or_that(paths)} reached the step")
    _title(item, f"Funnel by {result.spec.breakdown}", theme)
    item.setXRange(-0.5, len(steps) - 0.5, padding=0)
    item.setYRange(0, 1.0 + _legend_room(rows), padding=0)
    return True


def _bar_values(plot: pg.PlotWidget, item: pg.PlotItem, xs: np.ndarray, shares: np.ndarray, width: float,
                theme: Theme) -> None:
    """Each bar's share written above it, when the labels fit the bars at the plot's width; a full
    bar (the first step, and any at 100 %) reads off the axis and gets none."""
    texts = [units.percent(s, digits=0) for s in shares.ravel()]
    shown = [(float(x), float(s), t) for x, s, t in zip(xs.ravel(), shares.ravel(), texts) if t != "100%"]
    slot = width / 0.9 * max(plot.width() - 80, 200) / max(shares.shape[0], 1)     # a bar and its gap, in pixels
    scale = next((k for k in (0.9, 0.7, 0.6) if widest([t for *_, t in shown], theme.font(k)) + 2 <= slot), None)
    if scale is None:
        return
    for x, share, text in shown:
        basic._text(item, text, x, share + 0.01, theme, anchor=(0.5, 1), scale=scale)


def curves_by_group(plot: pg.PlotWidget, result, theme: Theme) -> bool:
    """Retention: one curve per group (and everyone, dashed grey, for reference); False (nothing
    drawn) without a breakdown."""
    frame = result.breakdown
    _forget(plot)
    if frame is None:
        return False
    labels = list(dict.fromkeys(frame["group"]))
    item = _fresh(plot, theme)
    sizes = frame.groupby("group", sort=False)["users"].first()
    paths = getattr(result, "path_unit", "users")
    _legend(plot, item, theme, ["everyone"] + [legend_name(g, int(sizes[g]), paths) for g in labels], right=True)
    overall = result.curve[result.curve["eligible"] > 0]
    periods = overall["period"].to_numpy()
    item.plot(periods.astype(float), overall["share"].to_numpy(float), name="everyone",
              pen=pg.mkPen(QColor(theme.muted), width=2, style=Qt.PenStyle.DashLine))
    for label, colour in zip(labels, group_colours(labels)):
        rows = frame[(frame["group"] == label) & (frame["eligible"] > 0)].sort_values("period")
        if rows.empty:
            continue
        item.plot(rows["period"].to_numpy(float), rows["share"].to_numpy(float), pen=pg.mkPen(colour, width=3),
                  symbol="o", symbolSize=6, symbolBrush=colour, symbolPen=pg.mkPen(None),
                  name=literal(legend_name(label, int(sizes[label]), paths)))
    span = int(frame["period"].max()) if len(frame) else 1
    item.getAxis("bottom").setTicks([basic.category_ticks(plot, np.arange(span + 1, dtype=float),
                                                          [str(p) for p in range(span + 1)], theme)])
    basic.axis_label(item, "bottom", f"{result.spec.period}s since start", theme)
    _percent_axis(item, theme, f"{paths} retained")
    _title(item, f"Retention by {result.spec.breakdown}", theme)
    item.setXRange(-0.3, span + 0.3, padding=0)
    item.setYRange(0, 1.05, padding=0)           # the legend sits top right, where the curves have fallen
    return True


def _legend(plot: pg.PlotWidget, item: pg.PlotItem, theme: Theme, names: list[str], right: bool = False) -> int:
    """A legend in as many columns as fit the plot's width (at most three), top left or top right;
    returns its number of rows."""
    columns = max(1, min(3, len(names), int((plot.width() - 100) // (widest(names, theme.font()) + 60))))
    legend = item.addLegend(offset=(-10, 5) if right else (10, 5), labelTextColor=theme.foreground,
                            labelTextSize=f"{theme.font_size}pt", brush=pg.mkBrush(QColor(theme.background)))
    legend.setColumnCount(columns)
    item._breakdown_marks["legend"] = legend
    return -(-len(names) // columns)


def _legend_room(rows: int) -> float:
    """Headroom above 100 % (in share units) for the legend's rows, so no bar hides under it."""
    return 0.09 * rows + 0.08


def _percent_axis(item: pg.PlotItem, theme: Theme, title: str) -> None:
    item.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in np.linspace(0, 1, 6)]])
    _axis_title(item, "left", title, theme)


def compare_table(result) -> pd.DataFrame:
    """The table under the compare chart: the breakdown (each value's users in both groups), then
    the events the chart ranks, then who differs (property values); a "table" column says which,
    and the a/b columns are named after the groups."""
    import pandas as pd
    a, b = result.labels
    parts = []
    if result.breakdown is not None:
        parts.append(result.breakdown.assign(table=f"by {result.spec.breakdown}"))
    parts.append(result.events.assign(table="events"))
    if result.who is not None and len(result.who):
        parts.append(result.who.assign(table="who"))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[["table"] + [c for c in frame.columns if c != "table"]]
    return frame.rename(columns=lambda c: _group_column(c, a, b))


def _group_column(column: str, a: str, b: str) -> str:
    """ "users_a" -> "users successful": the table's columns named after the compared groups.

    >>> _group_column("share_b", "successful", "failing"), _group_column("rate_a", "A", "B")
    ('share failing', 'rate A')
    >>> _group_column("share_a_any_time", "successful", "failing"), _group_column("event", "x", "y")
    ('share successful any time', 'event')
    """
    for suffix, label in (("_a", a), ("_b", b)):
        stem, found, rest = column.partition(suffix)
        if found and (not rest or rest.startswith("_")):
            return f"{stem} {label}{rest}".replace("_", " ")
    return column


def _title(item: pg.PlotItem, text: str, theme: Theme) -> None:
    """Which property the groups come from, above the plot (the legend names only its values)."""
    item.setTitle(literal(text), color=theme.muted, size=f"{theme.font_size}pt")
    item._breakdown_marks["title"] = True


# What a breakdown chart leaves on a plot that the plain chart's reset does not undo (a title, axis
# titles, a legend): noted on the plot item, and undone before the next drawing of that plot.

def _fresh(plot: pg.PlotWidget, theme: Theme) -> pg.PlotItem:
    """The plot cleared for a breakdown chart, with an empty record of what it adds."""
    item = plot.getPlotItem()
    if item.legend is not None and item.legend.scene() is not None:
        item.legend.scene().removeItem(item.legend)          # the plain chart's legend, left by a reset
    item = basic._reset(plot, theme)
    item._breakdown_marks = {"labels": {}, "legend": None, "title": False}
    return item


def _axis_title(item: pg.PlotItem, side: str, text: str, theme: Theme) -> None:
    basic.axis_label(item, side, text, theme)
    item._breakdown_marks["labels"][side] = text


def _forget(plot: pg.PlotWidget) -> None:
    """Undo a previous breakdown chart's additions; an axis title someone else set since is kept."""
    item = plot.getPlotItem()
    marks = getattr(item, "_breakdown_marks", None)
    if not marks:
        return
    if marks["title"]:
        item.setTitle(None)
    for side, text in marks["labels"].items():
        axis = item.getAxis(side)
        if axis.labelText == text:
            axis.labelText = ""
            axis.showLabel(False)
    legend = marks["legend"]
    if legend is not None and legend.scene() is not None:
        legend.scene().removeItem(legend)
    if item.legend is legend:
        item.legend = None
    item._breakdown_marks = None
