"""The views, each declared once: the CLI, the window, exports, the board, the report, the screenshots,
the smoke test and the tests all iterate ``VIEWS``.

A view is an analysis (``journey_explorer.analysis.<analysis>``: ``Spec``, ``run``; its command-line
flags are ``journey_explorer.cli.arguments``), the options it starts from for a log (``default_spec``, Qt-free), and a chart
renderer (``journey_explorer.charts.renderers.<chart>``) that draws its result on screen and in exports.
Adding a view is one entry here, plus its analysis module and its chart renderer (see ARCHITECTURE.md).

Modules are named, not imported: starting the ``graph`` command must not pay for scipy.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from journey_explorer.eventlog import EventLog
from journey_explorer.state.filters import FilterState


@dataclass(frozen=True)
class ViewEntry:
    key: str                     # the view's name in pins, the CLI (--view) and settings
    title: str                   # tab and slide title
    analysis: str | None         # module under journey_explorer.analysis (None: ``compute`` instead)
    default_spec: Callable[[EventLog, FilterState], object]   # the options before anyone changes them
    uses_goal: bool = False      # whether the goal shapes its numbers (said in export titles)
    chart: str = ""              # renderer module under journey_explorer.charts.renderers (default: key)
    finding: str | None = None   # the report's question answered next to this chart (analysis.narrative)
    compute: Callable | None = None   # (log, spec) -> result, for a view without an analysis module

    @property
    def chart_name(self) -> str:
        return self.chart or self.key

    def module(self):
        """The analysis module, or None."""
        return importlib.import_module(f"journey_explorer.analysis.{self.analysis}") if self.analysis else None

    def spec_type(self) -> type:
        return self.module().Spec if self.analysis else type(self.default_spec(None, FilterState()))

    def slide_title(self, filters: FilterState) -> str:
        """The title of an export or a pin: the view's, and the goal when it shapes the numbers."""
        return self.title + (f" — goal: {filters.goal}" if filters.goal and self.uses_goal else "")

    def run(self, log: EventLog, spec, progress=None):
        """The view's numbers: the analysis' ``run`` (or ``compute``) on an already filtered log."""
        if self.compute is not None:
            return self.compute(log, spec)
        return self.module().run(log, spec, progress)


# --- the overview: analysis/overview.py, shown as the dict the Overview tab reads --------------------


@dataclass(frozen=True)
class OverviewSpec:
    goal: str | None = None
    by: str = "user"             # the unit the tiles count: "user" or "session"


def overview_spec(log: EventLog | None, filters: FilterState) -> OverviewSpec:
    return OverviewSpec(goal=filters.goal, by=filters.by)


def overview_summary(log: EventLog, spec: OverviewSpec) -> dict:
    """Users, events, sessions, date range, goal reach, weekly lifecycle and north star: the numbers of
    ``analysis/overview.py`` (``run``, as the CLI's ``overview`` command gives them), in the dict the
    Overview tab, its exports and the report read. A goal the log does not know shows no reach."""
    from journey_explorer.analysis import overview
    goal = spec.goal if spec.goal and spec.goal in log.event_names else None
    return overview.summary(log, goal)        # numpy only: the first view on start-up needs no pandas


# --- default options: what each view shows before anyone touches its controls ----------------------


def _flows(log, filters):
    from journey_explorer.analysis import flows
    return flows.Spec(steps=5, top=6, goal=filters.goal)


def _graph(log, filters):
    from journey_explorer.analysis import graph
    return graph.Spec(min_share=graph.DEFAULT_MIN_SHARE, min_edge_share=graph.DEFAULT_MIN_EDGE_SHARE,
                      goal=filters.goal)


def _stuck(log, filters):
    from journey_explorer.analysis import stuck
    return stuck.Spec(goal=filters.goal, unwanted=filters.goal_unwanted())


def _compare(log, filters):
    from journey_explorer.analysis import compare
    return compare.Spec(goal=filters.goal, unwanted=filters.goal_unwanted())


def _funnel(log, filters):
    """The milestones successful paths hit on the way to the goal (as the report's funnel), else the
    most common first event then the goal."""
    from journey_explorer.analysis import funnel, narrative
    steps: tuple[str, ...] = ()
    if log is not None:
        steps = tuple(funnel.default_steps(log, filters.goal))
        if filters.goal in log.event_names and (log.event == log.event_code(filters.goal)).any():
            milestones = tuple(narrative.goal_funnel_steps(log, filters.goal))
            steps = milestones if len(milestones) >= 2 else steps
    return funnel.Spec(steps=steps, window_ms=funnel.parse_duration(funnel.DEFAULT_WINDOW))


def _retention(log, filters):
    from journey_explorer.analysis import retention
    return retention.Spec()


def _lifecycle(log, filters):
    from journey_explorer.analysis import lifecycle
    return lifecycle.Spec(period="week")


def _northstar(log, filters):
    from journey_explorer.analysis import northstar
    csat, revenue = northstar.property_columns(log)
    # The goal when users repeat it (weekly buyers), else what converted users come back to do, else
    # the goal (new converts per week): see analysis.interval.default_event.
    event = critical_event(log, filters) if log is not None and len(log) else (filters.goal or "")
    return northstar.Spec(event=event, period="week", csat=csat, revenue=revenue)


def _changes(log, filters):
    from journey_explorer.analysis import changes
    return changes.Spec(goal=filters.goal, paths=filters.by, unwanted=filters.goal_unwanted())


def _interval(log, filters):
    from journey_explorer.analysis import interval
    if log is None or not len(log):
        return interval.Spec(event=filters.goal or "")
    return interval.Spec(event=interval.interval_event(log, filters.goal))


def critical_event(log, filters) -> str:
    """The north star's critical event: ``analysis.interval.default_event`` for the goal in the filters
    (the usage interval's is ``interval_event``: it needs an event users repeat)."""
    if log is None:
        return filters.goal or ""
    from journey_explorer.analysis.interval import default_event
    return default_event(log, filters.goal)


OVERVIEW = ViewEntry("overview", "Overview", None, overview_spec, uses_goal=True, finding="overview",
                     compute=overview_summary)
VIEWS: tuple[ViewEntry, ...] = (
    OVERVIEW,
    ViewEntry("flows", "Flows", "flows", _flows, finding="first_flows"),
    ViewEntry("graph", "Process map", "graph", _graph, uses_goal=True),
    ViewEntry("stuck", "Stuck points", "stuck", _stuck, uses_goal=True, finding="stuck_points"),
    ViewEntry("compare", "Compare", "compare", _compare, uses_goal=True, finding="differences"),
    ViewEntry("funnel", "Funnel", "funnel", _funnel, finding="goal_funnel"),
    ViewEntry("retention", "Retention", "retention", _retention, finding="retention_finding"),
    ViewEntry("lifecycle", "Lifecycle", "lifecycle", _lifecycle, finding="lifecycle_finding"),
    ViewEntry("northstar", "North star", "northstar", _northstar, finding="north_star"),
    ViewEntry("changes", "What changed", "changes", _changes, uses_goal=True, finding="changes.what_changed"),
    ViewEntry("interval", "Usage interval", "interval", _interval),
)
VIEW_BY_KEY: dict[str, ViewEntry] = {entry.key: entry for entry in VIEWS}

# Analyses with a command but no view of their own.
COMMAND_ONLY_ANALYSES: tuple[str, ...] = ("drivers", "overview")
# Report questions answered by no view of their own, after the views' findings: "module.function"
# under journey_explorer.analysis (a bare name lives in analysis.narrative).
REPORT_ONLY_FINDINGS: tuple[str, ...] = ("hygiene.tracking_finding",)


def view(key: str) -> ViewEntry:
    """The entry for ``key``; an unknown key says which exist."""
    from journey_explorer.domain import JourneyError
    if key not in VIEW_BY_KEY:
        raise JourneyError(f"Unknown view '{key}' (choose from {', '.join(VIEW_BY_KEY)})")
    return VIEW_BY_KEY[key]


def import_analyses() -> None:
    """Import every view's analysis module now: a thread's work once a project is open. A view's
    options come from its module (``default_spec``), so the first time a tab showed, the GUI thread
    imported it: 20-80 ms for stuck points or what changed, a freeze when switching to them."""
    for entry in VIEWS:
        entry.module()


def analysis_commands() -> tuple[str, ...]:
    """Every analysis the command line offers: the views' (in tab order), then the others."""
    return tuple(e.analysis for e in VIEWS if e.analysis) + COMMAND_ONLY_ANALYSES
