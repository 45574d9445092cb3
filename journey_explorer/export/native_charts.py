"""Bar and line charts as data a slide can hold as a native, editable PowerPoint chart.

``native_chart(view_key, result)`` reads the analysis result (the numbers the picture shows) and says
how PowerPoint should draw it: a kind ("bar", "column", "stacked", "line"), the categories and one
list of values per series. Views drawn as a Sankey, a process map or a heatmap have no such form and
return None: their slide keeps the picture. Qt-free; python-pptx builds the chart in ``export.deck``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

KINDS = ("bar", "column", "stacked", "line")      # bar: horizontal; stacked: columns on top of each other
MAX_CATEGORIES = 15                               # a ranking beyond this is unreadable on a slide


@dataclass
class NativeChart:
    kind: str
    categories: list[str]
    series: dict[str, list[float | None]]
    number_format: str = "#,##0"                  # Excel's format for the values (axis and labels)
    value_axis: str = ""                          # what the values are, said on the value axis
    labels: bool = True                           # each bar or point shows its value
    notes: list[str] = field(default_factory=list)


def native_chart(view_key: str, result) -> NativeChart | None:
    """The chart for a view's result, or None when the view is no bar or line chart (or has nothing)."""
    maker = _MAKERS.get(view_key)
    if maker is None or result is None:
        return None
    try:
        chart = maker(result)
    except (KeyError, AttributeError, TypeError, ValueError):
        return None       # an unexpected shape: the picture still shows it
    if chart is None or not chart.categories or not chart.series:
        return None
    return chart


def nothing_to_draw(view_key: str, result) -> bool:
    """Whether the view's chart would only say that there is nothing to show (no stuck point): its
    slide then gives the whole width to the finding instead of a picture of that sentence."""
    if view_key == "stuck":
        table = getattr(result, "table", None)
        return table is not None and not (table["score"] > 0).any()
    return False


def _values(values) -> list[float | None]:
    """Plain floats; NaN (no data) as None, which PowerPoint leaves as a gap."""
    out = []
    for value in values:
        number = None if value is None or pd.isna(value) else float(value)
        out.append(None if number is not None and math.isinf(number) else number)
    return out


def _funnel(result) -> NativeChart:
    table = result.table
    unit = getattr(result, "path_unit", "users")
    grouped = "group" in table.columns and table["group"].notna().any()
    if not grouped:
        return NativeChart("column", [str(e) for e in table["event"]], {unit: _values(table["users"])},
                           value_axis=f"{unit} reaching the step")
    categories = list(dict.fromkeys(str(e) for e in table["event"]))
    series = {}
    for group, rows in table.groupby("group", sort=False):
        by_event = dict(zip(rows["event"].astype(str), rows["users"]))
        series[str(group)] = _values([by_event.get(c) for c in categories])
    return NativeChart("column", categories, series, value_axis=f"{unit} reaching the step")


def _retention(result) -> NativeChart:
    curve = result.curve
    period = getattr(result.spec, "period", "period")
    return NativeChart("line", [f"{period} {int(p)}" for p in curve["period"]], {"retained": _values(curve["share"])},
                       number_format="0%", value_axis="share of the cohort active")


def _lifecycle(result) -> NativeChart:
    table = result.table[result.covered()] if hasattr(result, "covered") else result.table   # whole periods only
    names = [c for c in ("new", "returning", "resurrected", "dormant") if c in table.columns]
    return NativeChart("stacked", [str(p) for p in table["period"]], {n: _values(table[n]) for n in names},
                       value_axis=f"{getattr(result, 'path_unit', 'users')} (dormant below zero)", labels=False)


def _northstar(result) -> NativeChart:
    table = result.charted() if hasattr(result, "charted") else result.table      # whole periods only
    unit = getattr(result, "path_unit", "users")
    return NativeChart("line", [str(p) for p in table["period"]], {"north star": _values(table["metric"])},
                       value_axis=f"{unit} doing {result.spec.event}")


def _stuck(result) -> NativeChart | None:
    rows = result.table[result.table["score"] > 0].head(12)
    if rows.empty:
        return None
    from journey_explorer.analysis.stuck import _group_words
    # Failing users' share of visits that end there against successful users' (the picture's bar text).
    failing, successful, _ = _group_words(result.spec, result.spec.unit or "users")   # the analysis's words
    return NativeChart("bar", [str(e) for e in rows["event"]],
                       {"stuck score": _values(rows["score"])}, number_format="0.00",
                       value_axis=f"how much worse {failing} do here than {successful}")


def _compare(result) -> NativeChart | None:
    events = result.events
    if "passes" in events and events["passes"].any():
        events = events[events["passes"]]          # the differences the slide's words name, not 100% vs 100%
    top = events.head(MAX_CATEGORIES)
    if top.empty:
        return None
    a, b = result.labels[0], result.labels[1]
    from journey_explorer.analysis.compare import STAGED_MARK, event_labels
    names = [str(name) for name in event_labels(top)]
    staged = "reached" in top and top["reached"].notna().any()
    axis = "share of paths doing the event" + (f" ({STAGED_MARK} among the paths that reached its step)"
                                                if staged else "")
    return NativeChart("bar", names,
                       {str(a): _values(top["share_a"]), str(b): _values(top["share_b"])},
                       number_format="0%", value_axis=axis)


def _changes(result) -> NativeChart | None:
    if not result.stories:
        return None
    change = result.stories[0]["changes"][0]
    series = change["series"]
    percent = change["kind"] != "rate"        # conversions and shares; a rate is per 1,000 events
    return NativeChart("line", [str(p) for p in series["periods"]], {str(change["label"]): _values(series["value"])},
                       number_format="0%" if percent else "#,##0.0",
                       value_axis=str(change["label"]) + ("" if percent else " per 1,000 events"), labels=False)


def _interval(result) -> NativeChart | None:
    frame = result.histogram
    if frame.empty:
        return None
    categories = [f"{a:.0f}–{b:.0f} d" for a, b in zip(frame["from_days"], frame["to_days"])]
    return NativeChart("column", categories, {"gaps": _values(frame["gaps"])}, value_axis="gaps between visits",
                       labels=False)


_MAKERS = {"funnel": _funnel, "retention": _retention, "lifecycle": _lifecycle, "northstar": _northstar,
           "stuck": _stuck, "compare": _compare, "changes": _changes, "interval": _interval}
