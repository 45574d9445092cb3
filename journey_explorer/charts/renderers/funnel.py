"""Funnel: paths reaching each step (left) and where those lost after each step went instead (right),
under a line saying which paths count: the steps, their order rule, the window and the groups."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from journey_explorer.analysis import units
from journey_explorer.charts import basic, breakdown
from journey_explorer.charts.canvas import ReadoutOverTwo
from journey_explorer.charts.plotting import pg
from journey_explorer.charts.renderers import in_parts
from journey_explorer.charts.theme import OKABE_ITO

if TYPE_CHECKING:
    import pandas as pd

ORDER_WORDS = {"sequential": "in this order, other events between allowed",
               "strict": "in this order, each step the very next event",
               "any": "in any order"}
NEXT_PER_STEP = 3          # "went instead" bars per step: enough to name the leak, few enough to read


def path_unit(result) -> str:
    """ "sessions" when the paths are sessions (set by the view's computation), else "users"."""
    return getattr(result, "path_unit", "users")


def make_canvas(theme) -> ReadoutOverTwo:
    canvas = ReadoutOverTwo()
    splitter = canvas.left.parentWidget()
    splitter.setStretchFactor(0, 5)          # the funnel's step labels need the room
    splitter.setStretchFactor(1, 4)
    return canvas


def subtitle(spec) -> str:
    """What the funnel counts, in words a slide can carry.

    >>> from journey_explorer.analysis.funnel import Spec
    >>> subtitle(Spec(steps=("Sign Up", "Paid"), window_ms=30 * 86_400_000))
    'Sign Up → Paid: in this order, other events between allowed; within 30 d of the first step; everyone'
    >>> subtitle(Spec(steps=("a", "b"), order="any", breakdown="plan"))
    'a → b: in any order; no time limit; by plan'
    """
    window = "no time limit" if spec.window_ms is None else f"within {units.duration(spec.window_ms / 1000)} of the first step"
    groups = f"by {spec.breakdown}" if spec.breakdown else "everyone"
    excluded = f"; without {', '.join(spec.exclude)} between steps" if spec.exclude else ""
    return f"{' → '.join(spec.steps)}: {ORDER_WORDS.get(spec.order, spec.order)}; {window}{excluded}; {groups}"


@in_parts
def render(result, spec, canvas: ReadoutOverTwo, theme) -> Iterator[None]:
    canvas.readout.setText(subtitle(result.spec))
    if not breakdown.funnel_by_group(canvas.left, result, theme):      # a breakdown: grouped bars per step
        overall = result.table[result.table["group"].isna()]
        basic.funnel_bars(canvas.left, overall["event"].tolist(), overall["users"].tolist(), theme,
                          unit=path_unit(result))
    yield                    # the window draws the right plot on a turn of its own (see renderers.Renderer)
    went_instead_bars(canvas.right, result, theme)


def went_instead_rows(result) -> list[dict]:
    """Per step (everyone, not per group): the events right after the last step reached by the paths
    lost there, the largest ``NEXT_PER_STEP``, as bar rows (event, share of the lost, users, step)."""
    rows = []
    for lost in (w for w in result.went_next if w["group"] is None):
        for following in lost["next"][:NEXT_PER_STEP]:
            rows.append({"event": following["event"], "share": following["share"], "users": following["users"],
                         "step": lost["lost_after_step"]})
    return rows


def went_instead_bars(plot, result, theme) -> None:
    """Ranked bars in one block per step, each under a heading naming the step and how many were lost there."""
    labels, values, texts, colours, headings = [], [], [], [], []
    lost_at = {w["lost_after_step"]: w["users"] for w in result.went_next if w["group"] is None}
    for step, rows in _by_step(went_instead_rows(result)).items():
        colour = OKABE_ITO[(step - 1) % len(OKABE_ITO)]
        headings.append((len(labels), f"after {result.spec.steps[step - 1]}: {units.count(lost_at[step])} lost"))
        labels.append("")
        values.append(0.0)
        texts.append("")
        colours.append(colour)
        for r in rows:
            labels.append(r["event"])           # shortened to the plot's width by ranked_bars
            values.append(r["share"])
            texts.append(f"{units.percent(r['share'], 0)} · {units.count(r['users'])}")
            colours.append(colour)
    basic.ranked_bars(plot, labels, values, theme, value_text=texts, colours=colours,
                      title="Where the lost went next")
    item = plot.getPlotItem()
    for row, text in headings:
        heading = pg.TextItem(text, color=theme.foreground, anchor=(0, 0.5))
        heading.setFont(theme.font(0.8, bold=True))
        heading.setPos(0, len(labels) - 1 - row)
        item.addItem(heading)
    item.setXRange(0, 1.6, padding=0)        # room for "100% · 12,345" right of a full bar
    item.getAxis("bottom").setTicks([basic.share_ticks(0, 1, most=5)])
    basic.axis_label(item, "bottom", "share of the paths lost at that step", theme)


def _by_step(rows: list[dict]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for r in rows:
        grouped.setdefault(r["step"], []).append(r)
    return grouped


def table(result, spec) -> pd.DataFrame:
    """The step table only (the "went instead" rows are the chart on the right); times in human units."""
    frame = result.table.rename(columns={"median_seconds_to_convert": "median time from previous step",
                                         "p90_seconds_to_convert": "90% within",
                                         "conversion_from_start": "of start",
                                         "conversion_from_previous": "of previous step",
                                         "drop_off": "lost at this step"})
    frame = frame.rename(columns={"users": path_unit(result)})
    if frame["group"].isna().all():
        frame = frame.drop(columns="group")
    frame.attrs["units"] = {"of start": "percent", "of previous step": "percent",
                            "median time from previous step": "duration", "90% within": "duration"}
    return frame
