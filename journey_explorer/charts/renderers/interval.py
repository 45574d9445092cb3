"""Usage interval: key figures (the interval within which 80 % repeat the critical event, users
repeating) over the share of repeats made within each number of days, the 80 % interval marked."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt

from journey_explorer.analysis import units
from journey_explorer.charts import basic
from journey_explorer.charts.canvas import TilesOverTrend
from journey_explorer.charts.plotting import pg
from journey_explorer.charts.renderers.changes import drop_legend
from journey_explorer.charts.theme import OKABE_ITO, literal

if TYPE_CHECKING:
    import pandas as pd

SHARE = 0.8         # the interval analysis' headline quantile


def make_canvas(theme) -> TilesOverTrend:
    canvas = TilesOverTrend({"interval": "80 % of repeating users repeat it within",
                             "repeating": "users repeating it", "median": "median gap between repeats"})
    for tile in canvas.tiles.values():
        tile.caption.setWordWrap(True)          # long event names must not widen the slide
    return canvas


def days_text(days: float | None) -> str:
    """1.5 days, 7 hours, 25 minutes: the unit a reader would say.

    >>> days_text(1.5), days_text(0.3), days_text(0.01), days_text(None), days_text(1.0)
    ('1.5 days', '7.2 hours', '14 minutes', '—', '1 day')
    """
    if days is None or not np.isfinite(days):
        return "—"
    if days >= 1:
        return "1 day" if round(days, 1) == 1 else f"{days:.1f} days"
    if days * 24 >= 1:
        return f"{days * 24:.1f} hours"
    return f"{days * 1440:.0f} minutes"


def render(result, spec, canvas: TilesOverTrend, theme) -> None:
    tiles = canvas.tiles
    event = result.spec.event
    tiles["interval"].set(days_text(result.interval_80_days),
                          f"80 % of those who repeat {event} do so within this time")
    share = result.repeating_users / result.users_with_event if result.users_with_event else 0.0
    tiles["repeating"].set(f"{result.repeating_users:,}",
                           f"of {result.users_with_event:,} {_paths(result)} doing {event} ({share:.0%}) did it again")
    curve = _curve_of(result)
    tiles["median"].set(days_text(curve.median), "median time to the second time")
    draw_curve(canvas.trend, result, theme)


CURVE_POINTS = 2000


@dataclass(frozen=True)
class Curve:
    """The step curve of first repeats: x (days) and y (share, 0-1), the x range shown and the median."""
    xs: np.ndarray
    ys: np.ndarray
    top: float
    median: float | None


def prepare(result, theme):
    """The curve, built with the analysis (off the GUI thread: sorting 1.5M gaps there took ~130 ms
    at 10M events)."""
    result.curve = curve(result.first_gaps_days)
    return result


def _curve_of(result) -> Curve:
    return getattr(result, "curve", None) or curve(result.first_gaps_days)


def curve(first_gaps_days: np.ndarray) -> Curve:
    """Cumulative share of first repeats by days, up to the 99th percentile (a long tail would squash
    the curve), at most ``CURVE_POINTS`` steps.

    >>> c = curve(np.array([2.0, 1.0, 1.0, 3.0]))       # 3.0 is beyond the 99th percentile (2.97)
    >>> c.xs.tolist(), c.ys.tolist(), c.median
    ([0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 0.25, 0.25, 0.5, 0.5, 0.75], 1.5)
    """
    gaps = np.sort(first_gaps_days)
    if not len(gaps):
        return Curve(np.zeros(0), np.zeros(0), 1e-6, None)
    top = max(float(np.quantile(gaps, 0.99)), 1e-6)
    shown = gaps[gaps <= top]
    share = np.arange(1, len(shown) + 1) / len(gaps)
    if len(shown) > CURVE_POINTS:
        # More steps than pixels: the curve at CURVE_POINTS even positions looks the same, and a wide
        # pen over 200k vertices took ~150 ms per paint on the GUI thread at 1M events.
        grid = np.linspace(0.0, float(shown[-1]), CURVE_POINTS)
        shown, share = grid, np.searchsorted(shown, grid, side="right") / len(gaps)
    xs = np.concatenate([[0.0], np.repeat(shown, 2)])           # a step curve
    ys = np.concatenate([[0.0, 0.0], np.repeat(share, 2)[:-1]])
    return Curve(xs, ys, top, float(np.median(gaps)))


def _paths(result) -> str:
    """What a path is ("users", "cases"), set by the view's computation."""
    return getattr(result, "path_unit", "users")


def draw_curve(plot: pg.PlotWidget, result, theme) -> None:
    """Cumulative share of first repeats by days since the first time, with the 80 % interval."""
    drop_legend(plot)
    item = basic._reset(plot, theme)
    steps = _curve_of(result)
    if not len(steps.xs):
        item.hideAxis("left")
        item.hideAxis("bottom")
        basic._text(item, f"Nobody did {result.spec.event} twice: there is no interval to measure.", 0.5, 0.5,
                    theme, anchor=(0.5, 0.5), scale=1.2)
        item.setXRange(0, 1, padding=0)
        item.setYRange(0, 1, padding=0)
        return
    item.addLegend(offset=(-10, -10), labelTextColor=theme.foreground, labelTextSize=f"{theme.font_size}pt")
    item.plot(steps.xs, steps.ys * 100, pen=pg.mkPen(OKABE_ITO[0], width=3),
              name=literal(f"repeated {result.spec.event} by then"))
    interval = result.interval_80_days
    if interval is not None:
        dash = pg.mkPen(OKABE_ITO[5], width=2, style=Qt.PenStyle.DashLine)
        item.plot([interval, interval], [0, SHARE * 100], pen=dash, name=f"80 % within {days_text(interval)}")
        item.plot([0, interval], [SHARE * 100, SHARE * 100], pen=dash)
    paths = _paths(result)
    basic.axis_label(item, "left", f"{paths} {units.who_or_that(paths)} repeated it (%)", theme)
    basic.axis_label(item, "bottom", "days from the first time to the second", theme)
    item.setXRange(0, steps.top, padding=0.02)
    item.setYRange(0, 105, padding=0)


def table(result, spec) -> pd.DataFrame:
    """The histogram of all gaps between repeats, in days, with the cumulative share."""
    return result.to_frame()
