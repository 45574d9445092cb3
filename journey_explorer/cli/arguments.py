"""Each analysis' command-line options, and the Spec they make: the CLI's side of an analysis.

An analysis module holds only ``Spec`` and ``run``; here, per analysis (by its registry name),
``add_<name>`` declares its flags and ``<name>_spec`` reads them into its Spec. An analysis module is
imported only when its command is built or run, so starting ``graph`` does not pay for scipy.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from journey_explorer.domain import InputError, JourneyError, OptionError
from journey_explorer.eventlog import EventLog


def _analysis(name: str):
    return importlib.import_module(f"journey_explorer.analysis.{name}")


def _names(text: str | None) -> tuple[str, ...]:
    """A comma-separated list of event names ("a, b,,c" -> ("a", "b", "c"))."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _goal_or_default(args, log: EventLog) -> str | None:
    """``--goal``, else the project's stored goal, else the structural guess (None on an empty log)."""
    from journey_explorer.analysis.goals import default_goal
    return getattr(args, "goal", None) or (default_goal(log) if len(log) else None)


# --- shared options ---------------------------------------------------------------------------------


def add_common_arguments(parser) -> None:
    """The flags every analysis command takes."""
    parser.add_argument("--since", help="only events at or after this UTC date/time")
    parser.add_argument("--until", help="only events before this UTC date/time")
    parser.add_argument("--segment", action="append", default=[],
                        help='only paths in this segment, e.g. "plan=Pro", "platform in ios,android", '
                             '"did Export >= 3 within 7d", or a saved segment\'s name (repeatable: all must hold)')
    parser.add_argument("--by", choices=("user", "session"), default="user",
                        help="treat each user's whole history, or each session, as one path")
    parser.add_argument("--match", choices=("first", "any"), default="first",
                        help="a path's property value: its first one (first touch, default) or any event's")


def add_breakdown_argument(parser) -> None:
    """``--breakdown KEY`` for the analyses that split their result by a property's values."""
    parser.add_argument("--breakdown", metavar="PROPERTY",
                        help="split the result by this property's values (first touch; the top 5 and Other)")


def filter_from_args(args):
    from journey_explorer.analysis.common import CommonFilter
    return CommonFilter(since=args.since, until=args.until, segment=tuple(args.segment), by=args.by,
                        match=getattr(args, "match", "first"))


# --- one pair per analysis ------------------------------------------------------------------------------


def add_graph(parser) -> None:
    graph = _analysis("graph")
    parser.add_argument("--min-share", type=float, default=graph.DEFAULT_MIN_SHARE,
                        help="hide event types reached by fewer than this share of paths, and rarer edges "
                             f"(0-1, default {graph.DEFAULT_MIN_SHARE}; 0 shows everything)")
    parser.add_argument("--min-edge-share", type=float, default=graph.DEFAULT_MIN_EDGE_SHARE,
                        help="hide edges below this share of the largest edge "
                             f"(default {graph.DEFAULT_MIN_EDGE_SHARE})")
    parser.add_argument("--measure", choices=graph.MEASURES, default="frequency",
                        help="what the process map's edges say: transitions (frequency) or median time "
                             "(performance)")


def graph_spec(args, log: EventLog):
    goal = _goal_or_default(args, log)
    return _analysis("graph").Spec(min_share=args.min_share, min_edge_share=args.min_edge_share,
                                   goal=goal if goal in log.event_names else None, measure=args.measure)


def add_flows(parser) -> None:
    parser.add_argument("--from", dest="from_event", help="start the flow at each path's first EVENT")
    parser.add_argument("--to", dest="to_event", help="end the flow at each path's first EVENT")
    parser.add_argument("--steps", type=int, default=5,
                        help=f"steps to show (1-{_analysis('flows').MAX_STEPS}, default 5)")
    parser.add_argument("--top", type=int, default=6, help="events kept per step; the rest is Other (default 6)")
    parser.add_argument("--collapse-repeats", action="store_true", help="A A B -> A B")
    parser.add_argument("--exclude", default="", help="comma-separated events to leave out")
    parser.add_argument("--split", choices=("goal",), help="split nodes and links into successful/failing users")
    parser.add_argument("--goal", help="the goal event (default: the project's)")
    add_breakdown_argument(parser)


def flows_spec(args, log: EventLog):
    return _analysis("flows").Spec(
        from_event=args.from_event, to_event=args.to_event, steps=args.steps, top=args.top,
        collapse_repeats=args.collapse_repeats, exclude=_names(args.exclude), split=args.split,
        goal=_goal_or_default(args, log), breakdown=getattr(args, "breakdown", None))


def add_goal_or_avoid(parser, goal_help: str) -> None:
    """--goal EVENT (one named like a failure, cancel or churn, is an outcome to avoid) or --avoid EVENT."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--goal", help=goal_help)
    group.add_argument("--avoid", metavar="EVENT", help="an outcome to avoid as the goal (a cancellation): the "
                                                        "paths that do it are the failing ones")


def goal_and_polarity(args, log: EventLog) -> tuple[str | None, bool]:
    """The goal (--avoid, --goal, else the project's or the guess) and whether it is an outcome to avoid."""
    from journey_explorer.analysis.goals import default_goal, goal_is_unwanted
    avoid = getattr(args, "avoid", None)
    goal = avoid or getattr(args, "goal", None) or (default_goal(log) if len(log) else None)
    return goal, goal_is_unwanted(goal, True if avoid else None)


def add_stuck(parser) -> None:
    add_goal_or_avoid(parser, "the goal event (default: the project's, else a guess from the paths)")


def stuck_spec(args, log: EventLog):
    stuck = _analysis("stuck")
    goal, unwanted = goal_and_polarity(args, log)
    return stuck.Spec(goal=goal, unwanted=unwanted)     # the log says what its paths are


def add_compare(parser) -> None:
    add_goal_or_avoid(parser, "compare users who reach this event with the rest")
    parser.add_argument("--within", help="...reaching it within this time of their first event, e.g. 14d")
    parser.add_argument("--vs", help='with --segment "prop=value": the other group, e.g. "plan=Free"')
    parser.add_argument("--did", help="compare users who did this event with those who did not")
    parser.add_argument("--period-a", help="compare two periods: paths active in START..END (END exclusive)")
    parser.add_argument("--period-b", help="...with paths active in START..END, e.g. 2026-04-13..2026-05-04")
    add_breakdown_argument(parser)


def compare_spec(args, log: EventLog):
    from journey_explorer.analysis.interval import parse_duration
    segment = args.segment[0] if args.segment and args.vs else None
    periods = getattr(args, "period_a", None) or getattr(args, "period_b", None)
    # Another way of choosing the groups means no goal unless one is given.
    asked = getattr(args, "avoid", None) or args.goal
    goal, unwanted = goal_and_polarity(args, log) if asked or not (segment or args.did or periods) else (None, False)
    return _analysis("compare").Spec(
        goal=goal, unwanted=unwanted, within_ms=parse_duration(args.within) if args.within else None,
        segment=segment, versus=args.vs, did=args.did, breakdown=getattr(args, "breakdown", None),
        match=getattr(args, "match", "first"),
        period_a=getattr(args, "period_a", None), period_b=getattr(args, "period_b", None))


def add_funnel(parser) -> None:
    window = _analysis("funnel").DEFAULT_WINDOW
    parser.add_argument("--steps", required=True, help="comma-separated events, e.g. 'Sign Up,Checkout Started'")
    parser.add_argument("--window", default=window,
                        help=f"time allowed from the first step, e.g. 7d, 12h, 30m (default {window}; "
                             "'none' for no limit)")
    parser.add_argument("--order", choices=("strict", "sequential", "any"), default="sequential")
    parser.add_argument("--exclude", default="", help="comma-separated events that drop a path out")
    add_breakdown_argument(parser)


def funnel_spec(args, log: EventLog):
    from journey_explorer.analysis.interval import parse_duration
    return _analysis("funnel").Spec(
        steps=_names(args.steps),
        window_ms=None if args.window in (None, "", "none") else parse_duration(args.window),
        order=args.order, exclude=_names(args.exclude), breakdown=args.breakdown)


def add_retention(parser) -> None:
    parser.add_argument("--start", dest="start_event", help="the event that starts a user's clock (default: first event)")
    parser.add_argument("--return", dest="return_event", help="the event that counts as coming back (default: any)")
    parser.add_argument("--period", choices=tuple(_analysis("retention").PERIOD_MS), default="week")
    parser.add_argument("--mode", choices=("on", "on-or-after"), default="on")
    _add_count_scheduled(parser, "coming back")
    add_breakdown_argument(parser)


def _add_count_scheduled(parser, counts_as: str) -> None:
    parser.add_argument("--count-scheduled", action="store_true",
                        help=f"count events sent on a schedule (a monthly renewal, a daily reminder: the same gap "
                             f"for every user, mostly alone in the visit) as {counts_as}; by default they do not")


def retention_spec(args, log: EventLog):
    return _analysis("retention").Spec(start_event=args.start_event, return_event=args.return_event,
                                       period=args.period, mode=args.mode, breakdown=getattr(args, "breakdown", None),
                                       count_scheduled=getattr(args, "count_scheduled", False))


def add_lifecycle(parser) -> None:
    parser.add_argument("--period", choices=tuple(_analysis("lifecycle").PERIODS), default="week")
    _add_count_scheduled(parser, "activity")


def lifecycle_spec(args, log: EventLog):
    return _analysis("lifecycle").Spec(period=args.period, count_scheduled=getattr(args, "count_scheduled", False))


def add_interval(parser) -> None:
    parser.add_argument("--event", help="the critical event (default: the value event users repeat)")


def interval_spec(args, log: EventLog):
    interval = _analysis("interval")
    if args.event:
        return interval.Spec(event=args.event)      # no goal to guess (the guess costs more than the analysis)
    return interval.Spec(event=interval.interval_event(log, _goal_or_default(args, log)))


def add_northstar(parser) -> None:
    parser.add_argument("--event", help="the critical event (default: the goal when users repeat it, else what "
                                         "converted users come back to do, else the goal)")
    parser.add_argument("--period", choices=tuple(_analysis("northstar").PERIODS), default="week")
    parser.add_argument("--csat", help="user property holding CSAT (1-10; default: a property named csat)")
    parser.add_argument("--revenue", help="user property holding revenue (default: one named revenue, cltv or ltv)")


def northstar_spec(args, log: EventLog):
    northstar = _analysis("northstar")
    from journey_explorer.analysis.interval import default_event
    csat, revenue = northstar.property_columns(log)
    event = args.event or default_event(log, _goal_or_default(args, log))      # a named event: no goal guessed
    return northstar.Spec(event=event, period=args.period, csat=args.csat or csat, revenue=args.revenue or revenue)


def add_changes(parser) -> None:
    parser.add_argument("--goal", help="scan the funnel to this event (default: the project's goal)")
    parser.add_argument("--steps", help="comma-separated funnel steps to scan instead of the goal funnel")
    parser.add_argument("--period", choices=("auto", "week", "day"), default="auto",
                        help="series per week or per day (default: days when the data covers under 8 weeks)")
    parser.add_argument("--top", type=int, default=10, help="how many stories to report (default 10)")
    parser.add_argument("--keep-renames-apart", action="store_true",
                        help="do not count an event renamed in the tracking plan (a rename the hygiene check is "
                             "sure of) as one event; by default the two names are counted as one")


def changes_spec(args, log: EventLog):
    from journey_explorer.analysis.goals import goal_is_unwanted
    return _analysis("changes").Spec(goal=args.goal, steps=_names(args.steps), period=args.period,
                                     paths=args.by, top=args.top,
                                     merge_renames=not getattr(args, "keep_renames_apart", False),
                                     unwanted=goal_is_unwanted(args.goal))     # by its name, as --goal says


def add_drivers(parser) -> None:
    add_goal_or_avoid(parser, "the goal event (default: the project's, else a guess from the paths)")
    parser.add_argument("--min-users", type=int, default=_analysis("drivers").Spec.min_users,
                        help="users needed in a cohort and in the rest (default 30)")


def drivers_spec(args, log: EventLog):
    if getattr(args, "by", "user") == "session":
        raise JourneyError("drivers look at what users do in their first days: run them per user (--by user)")
    goal, unwanted = goal_and_polarity(args, log)
    return _analysis("drivers").Spec(goal=goal, unwanted=unwanted, min_users=args.min_users)


def add_overview(parser) -> None:
    parser.add_argument("--goal", help="the goal event (default: the project's)")
    add_breakdown_argument(parser)


def overview_spec(args, log: EventLog):
    return _analysis("overview").Spec(goal=_goal_or_default(args, log), breakdown=args.breakdown)


def hygiene_spec(args, dismissed: tuple[str, ...] = ()):
    """The Spec of ``hygiene PROJECT`` (its flags are spelled in ``cli._add_hygiene``, without
    importing the analysis)."""
    return _analysis("hygiene").Spec(min_confidence=args.min_confidence, dismissed=() if args.all else dismissed)


# --- lookup by the registry's analysis name -----------------------------------------------------------


@dataclass(frozen=True)
class AnalysisArguments:
    add: Callable          # (parser) -> None: the analysis' own flags
    spec: Callable         # (args, log) -> the analysis' Spec


ANALYSIS_ARGUMENTS: dict[str, AnalysisArguments] = {
    name: AnalysisArguments(add=globals()[f"add_{name}"], spec=globals()[f"{name}_spec"])
    for name in ("graph", "flows", "stuck", "compare", "funnel", "retention", "lifecycle", "interval",
                 "northstar", "changes", "drivers", "overview")
}


def arguments_for(analysis: str) -> AnalysisArguments:
    """The flags and Spec reader of an analysis (its name as in ``state.registry``)."""
    return ANALYSIS_ARGUMENTS[analysis]


# --- errors worded for the command line ---------------------------------------------------------------

# A Spec field -> how the command line names it, where that is not "--" + the field with dashes.
FLAG_NAMES = {"from_event": "--from", "to_event": "--to", "start_event": "--start", "return_event": "--return",
              "goal": "give --goal EVENT", "groups": "--goal EVENT, --segment A --vs B, or --did EVENT"}


def flag_name(option: str) -> str:
    """How the command line names a Spec field.

    >>> flag_name("period_a"), flag_name("from_event")
    ('--period-a', '--from')
    """
    return FLAG_NAMES.get(option, "--" + option.replace("_", "-"))


def cli_message(error: OptionError | InputError) -> str:
    """An error that names options, as the command line says it: each option named by its flag.

    >>> from journey_explorer.domain import StepCountError
    >>> cli_message(StepCountError(20, 1, 12))
    '--steps must be between 1 and 12, not 20'
    >>> cli_message(InputError("choose {date_order} dmy or mdy", line=3))
    '3: choose --date-order dmy or mdy'
    """
    return error.naming(flag_name)
