"""What changed: the selected story's lead series per period, the change window shaded, the level
before and during it marked; its headline above and its sentence below.

The canvas remembers which story it shows (``ChangeCanvas.story``, 0 = the top one): the view sets
it from the table of stories, an export or a report slide draws the top story.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from journey_explorer.charts import basic
from journey_explorer.charts.plotting import pg, plot_widget
from journey_explorer.charts.theme import OKABE_ITO, Theme, literal

if TYPE_CHECKING:
    import pandas as pd

LINE, DURING, AFTER, WINDOW = OKABE_ITO[0], OKABE_ITO[5], OKABE_ITO[2], OKABE_ITO[1]   # "before": the text colour


class ChangeCanvas(QWidget):
    """A headline over the series chart over the story in words."""

    def __init__(self):
        super().__init__()
        self.story = 0
        layout = QVBoxLayout(self)
        self.headline, self.text = QLabel(), QLabel()
        for label in (self.headline, self.text):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)     # series are named after events
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.headline.setStyleSheet("font-weight: bold;")
        self.plot = plot_widget()
        layout.addWidget(self.headline)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.text)


def make_canvas(theme) -> ChangeCanvas:
    return ChangeCanvas()


def is_percent(kind: str) -> bool:
    """Conversions and shares are fractions (drawn as percent); event rates are per 1,000 events."""
    return kind != "rate"


def axis_title(change: dict, unit: str) -> str:
    """ "conversion (%)" or "payment_error per 1,000 events" (the x axis says week or day).

    >>> axis_title({"kind": "rate", "source": "payment_error"}, "week")
    'payment_error per 1,000 events'
    >>> axis_title({"kind": "funnel", "source": "a"}, "day")
    'conversion (%)'
    """
    kind = change["kind"]
    if kind == "rate":
        return f"{change['source']} per 1,000 events"
    what = {"funnel": "conversion", "transition": "share of next events", "share": "share of active paths",
            "new": "share of active paths"}[kind]
    return f"{what} (%)"


def level_text(value: float | None, kind: str) -> str:
    """48% or 21.3 per 1k.

    >>> level_text(0.481, "funnel"), level_text(21.34, "rate"), level_text(None, "rate")
    ('48%', '21.3 per 1k', '—')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{value:.0%}" if is_percent(kind) else f"{value:.1f} per 1k"


def render(result, spec, canvas: ChangeCanvas, theme: Theme) -> None:
    stories = result.stories
    plot = canvas.plot
    if not stories:
        drop_legend(plot)
        basic._reset(plot, theme)
        plot.getPlotItem().hideAxis("left")
        plot.getPlotItem().hideAxis("bottom")
        canvas.headline.setText("No significant change over time")
        canvas.text.setText(result.note)
        return
    canvas.story = min(max(canvas.story, 0), len(stories) - 1)
    story = stories[canvas.story]
    canvas.headline.setText(f"{story['rank']}. {story['headline']}")
    canvas.text.setText(story["text"])
    draw_series(plot, story["changes"][0], result.periods.unit, theme)


def draw_series(plot: pg.PlotWidget, change: dict, unit: str, theme: Theme) -> None:
    """The series as a line, the window [start_period, end_period) shaded, dashed levels before,
    during and (when it recovered) after."""
    drop_legend(plot)
    item = basic._reset(plot, theme)
    series = change["series"]
    labels = series["periods"]
    values = np.array([np.nan if v is None else v for v in series["value"]], float)
    kind, scale = change["kind"], 100.0 if is_percent(change["kind"]) else 1.0
    xs = np.arange(len(labels), dtype=float)
    start, end = int(change["start_period"]), int(change["end_period"])
    top = float(np.nanmax(values) * scale) if np.isfinite(values).any() else 1.0
    shade = pg.LinearRegionItem((start - 0.5, end - 0.5), movable=False,
                                brush=pg.mkBrush(_alpha(WINDOW, 60)), pen=pg.mkPen(None))
    item.addItem(shade)
    # The legend above the plot area (never over the line or the window), the series' name shortened to fit.
    window = f"change window ({change['start']} – {change['last_day']})"
    series_name = basic.fit_labels(plot, [change["label"]], theme, share=0.9)[0]
    basic.legend_above(plot, item, theme, [window, series_name, "before: 100.0%", "during: 100.0%"])
    item.legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=0, brush=pg.mkBrush(_alpha(WINDOW, 110))),
                        literal(window))
    item.plot(xs, values * scale, pen=pg.mkPen(LINE, width=3), symbol="o", symbolSize=7, symbolBrush=LINE,
              symbolPen=pg.mkPen(None), connect="finite", name=literal(series_name))
    levels = [("before", change["before"], 0, start, theme.foreground), ("during", change["during"], start, end, DURING)]
    measured = np.flatnonzero(np.isfinite(values))
    last = int(measured[-1]) + 1 if len(measured) else len(labels)     # periods after this have no data
    if change.get("recovered") and end < last:
        levels.append(("after", change["after"], end, last, AFTER))
    for name, value, s, e, colour in levels:
        if value is None or not np.isfinite(value) or e <= s:
            continue
        item.plot([s - 0.4, e - 0.6], [value * scale] * 2, pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                  name=f"{name}: {level_text(value, kind)}")
        top = max(top, value * scale)
    item.getAxis("bottom").setTicks([basic.category_ticks(plot, xs, labels, theme)])
    if is_percent(kind):          # ticks stop at 100 %; the room above is the legend's
        top = min(top, 100.0)
        step = 20 if top > 50 else 10 if top > 20 else 5 if top > 10 else 1
        item.getAxis("left").setTicks([[(v, f"{v:.0f}%") for v in np.arange(0, top + step, step) if v <= 100]])
    basic.axis_label(item, "left", axis_title(change, unit), theme)
    basic.axis_label(item, "bottom", f"{unit} starting", theme)
    item.setXRange(-0.6, len(labels) - 0.4, padding=0)
    item.setYRange(0, top * 1.1 or 1, padding=0)
    basic.fit_legend_row(item)


def drop_legend(plot: pg.PlotWidget) -> None:
    """Take the previous drawing's legend off the plot: clearing the plot keeps it in the scene,
    so a second story's legend would be drawn over the first one's."""
    legend = plot.getPlotItem().legend
    if legend is not None and legend.scene() is not None:
        legend.scene().removeItem(legend)
    plot.getPlotItem().legend = None


def _alpha(colour: str, alpha: int):
    from PySide6.QtGui import QColor
    qcolor = QColor(colour)
    qcolor.setAlpha(alpha)
    return qcolor


def table(result, spec) -> pd.DataFrame:
    """The ranked stories, one row each: what the view's list shows and a click selects."""
    import pandas as pd
    rows = [{"rank": s["rank"], "headline": s["headline"], "from": s["window"]["since"],
             "to": s["window"]["last_day"], "afterwards": AFTERWARDS.get(s["window"].get("recovery"), ""),
             "paths or conversions": round(s["impact_paths"]), "changes": len(s["changes"])} for s in result.stories]
    return pd.DataFrame(rows, columns=["rank", "headline", "from", "to", "afterwards", "paths or conversions",
                                       "changes"])


# A story's rate after its window, in the table's words (analysis.changes: recovery)
AFTERWARDS = {"recovered": "back", "not back": "not back", "unknown": "too soon to tell",
              "lasting": "lasts to the end"}
