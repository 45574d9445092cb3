"""The questions a workshop asks, answered in words computed from the numbers (the automatic report).

Each ``Finding`` names the view that shows it, the analysis Spec it was computed with (so the chart
on the slide shows exactly these numbers), a headline and the observations. Qt-free.

The questions are the ``FINDINGS`` list at the end (add one with one line); at most ``MAX_FINDINGS``.
Every sentence passes the analysis' own thresholds (significance with FDR, minimum users) and is true
on small data: no path named for fewer than ``MIN_FINDING_USERS`` users, no stuck point or difference
from a handful, no route step sold as a difference, no trend from a few weeks, no headline from a
partial or empty week. Each observation fits the 900-character box beside its chart.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import automatic, compare, drivers, flows, funnel, lifecycle, northstar, retention, stuck, units
from journey_explorer.analysis.arrays import distinct_count, first_rows_of, step_index, users_with_event
from journey_explorer.analysis.goals import (
    avoid_question_note,
    counted_outcome_groups,
    default_goal,
    goal_is_unwanted,
    guess_goal,
    is_failure_name,
    outcome_groups,
    outcome_verb,
    weak_guess_note,
)
from journey_explorer.analysis.interval import WHY, default_choice
from journey_explorer.analysis.units import path_words, short_percent
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    pass

FUNNEL_MIN_REACH = 0.5     # funnel steps: events at least half of the successful users did
FUNNEL_MAX_STEPS = 5
NEARLY_ALL = 0.95          # funnel steps nearly every successful user took: one per plateau of reach
PLATEAU_TOLERANCE = 0.02   # reaches within 2% of each other: no loss between the steps
LOST_LIFT = 0.8            # the funnel names who it loses most when they go on at most 0.8x the others' rate
MIN_RETENTION_WEEKS = 4    # fewer weeks of history cannot show a curve flattening
MIN_TREND_WEEKS = 8        # the north star's first-four vs last-four comparison needs this many full weeks
MIN_FINDING_USERS = 30     # no sentence about a group of paths smaller than this...
MIN_FINDING_SHARE = 0.05   # ...or a smaller share of all paths
MAX_FINDINGS = 10
OBSERVATION_ROOM = 900     # characters in the box beside a slide's chart
STRONG_ENOUGH_SHARE = 0.5  # a behaviour that goes with not reaching the goal is told when at least half as strong
MIRROR_TOLERANCE = 0.02    # goal rates this close, swapped: the same split seen from its other half


@dataclass
class Finding:
    view: str             # the view that draws it (a key of state.registry.VIEWS)
    title: str            # the slide's headline
    spec: object | None   # the analysis Spec behind the chart
    observation: str


pct = short_percent   # 0.1837 -> "18%", 0.004 -> "0.4%"


def plural(count: int, word: str) -> str:
    """ "1 week", "3 weeks" (numbers with thousands separators); a path's noun: ``log.path_noun``.

    >>> plural(1, "week"), plural(1200, "case")
    ('1 week', '1,200 cases')
    """
    return units.counted(count, word)


# {paths}: what the log's paths are ("users", "cases"); {base}: what the lifecycle counts (``active_base``)
QUESTIONS = {
    "overview": "Overview", "first_flows": "How journeys start", "stuck_points": "Where {paths} get stuck",
    "differences": "How successful {paths} differ", "goal_funnel": "The funnel to the goal",
    "retention_finding": "Do {paths} come back", "lifecycle_finding": "Is {base} growing",
    "north_star": "The north star", "what_changed": "What changed", "tracking_finding": "Tracking plan",
}


def workshop_findings(log: EventLog, goal: str, makers: tuple | None = None, unwanted: bool = False) -> list[Finding]:
    """One finding per question, in order: ``makers`` (the report passes the views' findings and the
    report-only ones from ``state.registry``), else ``FINDINGS``; at most ``MAX_FINDINGS``. ``unwanted``: the goal
    is an outcome to avoid (a cancellation): its paths are the failing ones, every maker says so.

    A question this data cannot answer (everyone reached the goal, so there is no one to compare)
    keeps its place in the report and says why, instead of stopping the report. A maker may return
    None when its finding does not pass its thresholds and has nothing worth a slide."""
    log.event_code(goal)          # an unknown goal fails here, with the event's name in the message
    makers = makers or tuple(make for _, make in FINDINGS)
    findings = []
    for make in makers:
        try:
            finding = make(log, goal, unwanted=unwanted)
        except (JourneyError, ValueError) as exc:
            question = QUESTIONS[make.__name__].format(paths=path_words(log), base=active_base(log))
            question = question[0].upper() + question[1:]
            finding = Finding("", f"{question}: not answered by this data", None,
                              f"{question} could not be computed for the goal {goal}: {exc}")
        if finding is not None:
            findings.append(finding)
    return findings[:MAX_FINDINGS]


# --- one finding per question ----------------------------------------------------------------------


def _trend_sentence(recent: float, earlier: float) -> str:
    """The last four weeks' average against the first four's, small averages with a decimal.

    >>> _trend_sentence(150.0, 100.0)
    'The last four weeks averaged 150, 50% above the first four (100).'
    >>> _trend_sentence(0.25, 0.0)
    'The last four weeks averaged 0.25, against none in the first four.'
    """
    def average(value: float) -> str:
        return f"{value:,.2f}" if 0 < value < 1 else f"{value:,.1f}" if 0 < value < 10 else f"{value:,.0f}"
    if not earlier:
        return (f"The last four weeks averaged {average(recent)}, against none in the first four."
                if recent else "No one did it in the first four weeks or the last four.")
    change = (recent - earlier) / earlier       # 0.25 shows as 0.25, so 1.5 is 500% above it in words too
    return (f"The last four weeks averaged {average(recent)}, {pct(abs(change))} "
            f"{'above' if change >= 0 else 'below'} the first four ({average(earlier)}).")


def overview(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    import pandas as pd
    users = log.paths_count
    reached = int(np.unique(log.user[log.event == log.event_code(goal)]).size)
    first = pd.Timestamp(int(log.ts.min()), unit="ms").date()
    last = pd.Timestamp(int(log.ts.max()), unit="ms").date()
    per_user = len(log) / max(users, 1)
    noun = log.path_noun
    text = (f"{plural(users, noun)} did {plural(len(log), 'event')} ({per_user:.1f} per {noun}) of "
            f"{len(log.event_names)} kind{'' if len(log.event_names) == 1 else 's'} between {first} and {last}. "
            f"{reached:,} of them ({reached / max(users, 1):.1%}) reached {goal}.")
    share = f"{reached / max(users, 1):.1%}"          # one decimal, as the Overview's tile shows it
    weak = weak_guess_note(log, goal) or ("" if unwanted else avoid_question_note(log, goal))
    text += f" {weak}" if weak else ""
    if unwanted:
        text = text[:text.rindex(f"{reached:,} of them")] + (
            f"{reached:,} of them ({share}) did {goal}, the outcome to avoid.") + (f" {weak}" if weak else "")
        return Finding("overview", f"{share} of {path_words(log)} {_doing(goal)}", None, text)
    return Finding("overview", f"{share} of {path_words(log)} reach {goal}", None, text)


def _doing(goal: str) -> str:
    """An unwanted goal as a verb with its event: "cancel (subscription_cancelled)", "do support_ticket"."""
    verb = outcome_verb(goal)
    return verb if verb.startswith("do ") else f"{verb} ({goal})"


def first_flows(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    import pandas as pd
    spec = flows.Spec(steps=5, top=6, goal=goal)
    result = flows.run(log, spec)
    codes, counts = np.unique(result.matrix, axis=0, return_counts=True)
    top = int(counts.argmax())
    # The path as the Sankey shows it: events outside the top ones read "another event"; it stops
    # where the users left.
    steps = [result.labels[c] for c in codes[top]]
    steps = steps[:steps.index(flows.DROP_OFF)] if flows.DROP_OFF in steps else steps
    names = ["another event" if name == flows.OTHER else name for name in steps]
    ended = result.matrix[:, -1] == result.labels.index(flows.DROP_OFF) if flows.DROP_OFF in result.labels \
        else np.zeros(len(result.matrix), dtype=bool)
    starts = pd.Series([n["users"] for n in result.node_rows if n["step"] == 1],
                       index=[n["event"] for n in result.node_rows if n["step"] == 1])
    then = " and then leave" if len(names) < spec.steps else ""
    noun, paths = log.path_noun, path_words(log)
    text = f"Most {paths} start with {starts.idxmax()} ({pct(starts.max() / result.paths)}). "
    if _enough(int(counts[top]), result.paths):
        text += (f"The most common {_first_steps(len(names))} {' → '.join(names)}{then}, "
                 f"taken by {plural(int(counts[top]), noun)} ({pct(counts[top] / result.paths)}); "
                 f"{plural(len(codes), 'different opening')} in all. ")
        named = [name for name in names if name != "another event"][:3]
        title = f"How journeys start: {' → '.join(named)}"
    else:
        text += (f"No opening of {spec.steps} steps is shared by enough {paths} to name "
                 f"({plural(len(codes), 'different opening')} among {plural(result.paths, noun)}). ")
        title = f"Journeys start with {starts.idxmax()}"
    text += f"{pct(ended.mean())} of {paths} stop within the first {spec.steps} events."
    return Finding("flows", title, spec, text)


def _enough(users: int, paths: int) -> bool:
    """A group big enough to talk about: ``MIN_FINDING_USERS`` users and ``MIN_FINDING_SHARE`` of paths."""
    return users >= MIN_FINDING_USERS and users >= MIN_FINDING_SHARE * paths


def stuck_points(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    spec = stuck.Spec(goal=goal, unwanted=unwanted)
    result = stuck.run(log, spec)
    if result.successful >= result.paths:
        raise JourneyError(f"every {log.path_noun} reaches {goal}, so {units.nobody(log.path_noun)} is stuck on the way"
                           if not unwanted else f"no {log.path_noun} does {goal}")
    found = result.stuck
    paths = path_words(log)
    failing, successful = (outcome_groups(goal, log.path_noun) if unwanted
                           else (f"failing {paths}", f"successful {paths}"))
    left_out = f" {result.left_out}." if result.left_out else ""     # users the goal is not open to
    if found.empty:
        needs = (f"{spec.min_paths} of the first and {spec.min_reference} of the second" if unwanted
                 else f"{spec.min_paths} failing and {spec.min_reference} successful {paths}")
        return Finding("stuck", "No stuck points stand out", spec,
                       f"At no event do {failing} do measurably worse than {successful if unwanted else 'successful ones'} "
                       f"(each part needs at least {needs} there, and a significant, material difference).{left_out}")
    worst = found.iloc[0]
    if unwanted:
        text = f"{worst['event']} is where {failing} struggle most before they {outcome_verb(goal)}: " \
               f"{worst['explanation']}."
    else:
        text = f"{worst['event']} is where {paths} get stuck most: {worst['explanation']}."
    unstuck = next((u for u in result.unstuck if u["event"] == worst["event"]), None)
    if unstuck and (unstuck.get("where_text") or unstuck.get("when_text")):
        context = "; ".join(t for t in (unstuck.get("where_text"), unstuck.get("when_text")) if t)
        text += f" It is {context}."
    step = f" It is {unstuck['step_text']}." if unstuck and unstuck.get("step_text") else ""   # who handled it
    inside = (f" ({worst['inside_event']} is one event for every {worst['inside_property']}: name it by "
              f"{worst['inside_property']} to follow this step in every view.)") if worst.get("inside_event") else ""
    if unstuck and unstuck["successful_users"] >= spec.min_reference:
        # Room for the step's sentence in the box: the routes give way first, then the sentence itself
        # (the JSON keeps all of them).
        tries = [(step, 2), (step, 1), (step, 0), ("", 2)] if step else [("", 2)]
        for said, routes in tries:
            got_past = _got_past(unstuck, paths, routes=routes)
            if len(text) + len(said) + len(got_past) + len(inside) <= OBSERVATION_ROOM - 60:
                break
        text += said + " " + got_past
    else:
        text += step
    text += inside
    # Also the next ones, not the plain event the stuck step was found inside (the same story, blurred)
    others = [r.event for r in found.iloc[1:].itertuples() if r.event != worst.get("inside_event")][:2]
    if others:
        rows = {row["event"]: row for row in found.to_dict("records")}
        briefly = " Also: " + "; ".join(_with_step_text(event, result.unstuck, rows.get(event))
                                        for event in others) + "."
        fits = len(text) + len(briefly) + len(left_out) <= OBSERVATION_ROOM
        text += briefly if fits else " Also: " + "; ".join(others) + "."
    who = failing if unwanted else paths
    return Finding("stuck", f"{who[0].upper()}{who[1:]} get stuck at {worst['event']}", spec, text + left_out)


def _with_step_text(event: str, unstuck: list[dict], row=None) -> str:
    """A further stuck point's name, with the wait for it when that is its strongest part ("Assess Damage
    (failing cases waited a median 8 d for it vs 20 h)") and who handled its step when one value stands out
    there ("Assess Damage (org:resource = A_KAISER: waited a median 9 d 7 h vs 1 d 20 h; …)")."""
    entry = next((u for u in unstuck if u["event"] == event), None)
    said = [_wait_brief(row)] if row is not None and _wait_is_strongest(row) else []
    if entry and entry.get("step_brief"):
        said.append(entry["step_brief"])
    return f"{event} ({'; '.join(said)})" if said else event


def _wait_is_strongest(row) -> bool:
    """Whether a stuck point's wait for its step (in a process's cases) is the largest of its parts."""
    wait = row.get("wait_excess", 0) or 0
    return wait > 0 and all(wait >= (row.get(f"{part}_excess", 0) or 0) for part in stuck.TESTED_PARTS + ("stop",))


def _wait_brief(row) -> str:
    """ "waited a median 8 d for it vs 20 h" """
    return (f"waited a median {units.duration(row['wait_median_seconds_failing'])} for it vs "
            f"{units.duration(row['wait_median_seconds_successful'])}")


def _got_past(unstuck: dict, paths: str = "users", routes: int = 2) -> str:
    """How successful paths (``paths``: "users", "cases") got past a stuck point, against failing ones,
    in one sentence; ``routes``: and then the way successful paths most often went on (1), and the way
    failing paths went (2)."""
    steps = [n for n in unstuck["next"] if n["event"] != stuck.LEFT]
    if not steps:
        return ""
    step = max(steps, key=lambda n: n["successful_share"] - n["failing_share"])
    way = f"Successful {paths}' most common way on"
    if step["successful_share"] - step["failing_share"] >= stuck.MIN_EXCESS:
        went = _share_of(step["successful_share"], f"successful {paths}")
        also = _share_of(step["failing_share"], f"failing {paths}")
        text = f"{went[0].upper()}{went[1:]} went on to {step['event']}, {also} did"
        left = unstuck["failing_left"]
        if left > 0:
            text += f"; {_share_of(left, f'failing {paths}')} left there"
        text += "."
    else:       # no next step sets them apart ("100% against 100%" would read as a difference)
        step = max(steps, key=lambda n: n["successful_share"])
        text = (f"Right after it successful and failing {paths} alike went on to {step['event']} "
                f"({pct(step['successful_share'])} and {pct(step['failing_share'])}); they part later.")
    if routes >= 1 and unstuck["routes"]:
        route = unstuck["routes"][0]
        text += f" {way}: {route['route']} ({pct(route['share'])})."
    if routes >= 2 and unstuck.get("failing_routes"):
        route = unstuck["failing_routes"][0]
        text += f" Failing {paths} most often: {route['route']} ({pct(route['share'])})."
    return text


def _share_of(share: float, group: str) -> str:
    """A share of a group of paths, said so it reads for any share: "no failing user", "every successful
    case", "97% of successful users", "under 0.1% of failing cases".

    >>> _share_of(0.0, "failing users"), _share_of(1.0, "successful cases"), _share_of(0.97, "successful users")
    ('no failing user', 'every successful case', '97% of successful users')
    >>> _share_of(0.0003, "failing cases")
    'under 0.1% of failing cases'
    """
    if share == 0:
        return f"no {units.singular(group)}"
    if share == 1:
        return f"every {units.singular(group)}"
    if pct(share) == "0.0%":           # a handful of a large group
        return f"under 0.1% of {group}"
    return f"{pct(share)} of {group}"


def differences(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    spec = compare.Spec(goal=goal, unwanted=unwanted)
    result = compare.run(log, spec)
    (name_a, name_b), (size_a, size_b) = result.labels, result.group_sizes
    events = result.events[result.events["passes"]]
    more = events[events["difference"] > 0].head(2)
    less = events[events["difference"] < 0].head(2)
    paths, that = path_words(log), units.who_or_that(log.path_noun)
    # The groups in words: "successful users" / "failing users", or "users who cancel" / "users who never cancel".
    group_a, group_b = (outcome_groups(goal, log.path_noun) if unwanted
                        else (f"{name_a} {paths}", f"{name_b} {paths}"))
    before = f"before they {outcome_verb(goal)}" if unwanted else f"before {goal}"
    counted_a, counted_b = counted_outcome_groups(goal, log.path_noun, (size_a, size_b)) if unwanted else ("", "")
    parts = [f"Comparing {counted_a} (their paths up to it) with {counted_b}." if unwanted
             else f"Comparing {size_a:,} {name_a} with {size_b:,} {name_b} {paths} ({before})."]
    # "users who cancel and reached app_open": one relative clause is enough
    reaching_that = "and" if unwanted else that
    if result.left_out:           # users the goal is not open to are no failing users (nor in the drivers)
        parts.append(f"{result.left_out}.")
    if result.route is not None and len(result.route):
        parts.append(f"Left out as the route to {goal}: {', '.join(result.route['event'].head(4))}.")
    parts.append(_other_outcomes(result.outcomes, goal, group_a, group_b))
    if len(more):
        listed = "; ".join(f"{r.event} ({pct(r.share_a)} vs {pct(r.share_b)}{_among(r, that)})" for r in more.itertuples())
        parts.append(f"{group_a[0].upper()}{group_a[1:]} did more: {listed}.")
    if len(less):
        listed = "; ".join(f"{r.event} ({pct(r.share_b)} vs {pct(r.share_a)}{_among(r, that)})" for r in less.itertuples())
        parts.append(f"{group_b[0].upper()}{group_b[1:]} did more: {listed}.")
    if not len(events):
        parts.append(f"No behaviour differs significantly (q < 0.05, at least {compare.MIN_SUPPORT} {paths}).")
    parts.append(early_drivers(log, goal, room=OBSERVATION_ROOM - len(" ".join(p for p in parts if p)) - 1,
                               unwanted=unwanted))
    # The second group's short name: "failing", "those who never cancel".
    short_a, short_b = ((group_a.replace(paths, "those", 1), group_b.replace(paths, "those", 1)) if unwanted
                        else (name_a, name_b))
    if len(more):
        top = more.iloc[0]
        headline = f"{pct(top['share_a'])} of {group_a}{_reaching(top, reaching_that)} did {top['event']} {before}, " \
                   f"{pct(top['share_b'])} of {short_b}"
    elif len(less):
        top = less.iloc[0]
        headline = f"{pct(top['share_b'])} of {group_b}{_reaching(top, reaching_that)} did {top['event']}, " \
                   f"{pct(top['share_a'])} of {short_a}"
    else:
        headline = "No behaviour sets the groups apart"
    return Finding("compare", headline, spec, " ".join(p for p in parts if p))


def _other_outcomes(outcomes, goal: str, group_a: str, group_b: str) -> str:
    """The other outcomes that set the groups apart (compare's ``outcomes``: "failing claims did Reject
    Claim" is how they failed, no behaviour), told apart from the differences; "" when none passes.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"event": ["Reject Claim", "Withdraw"], "share_a": [0.02, 0.0],
    ...                       "share_b": [0.8, 0.15], "difference": [-0.78, -0.15], "passes": [True, True]})
    >>> _other_outcomes(table, "Pay Claim", "successful cases", "failing cases")
    'Left out as other outcomes: 80% of failing cases did Reject Claim instead of Pay Claim; 15% did Withdraw.'
    """
    if outcomes is None or not len(outcomes):
        return ""
    told = outcomes[outcomes["passes"]].head(2)
    said, first_group = [], None
    for row in told.itertuples():
        group, share = (group_b, row.share_b) if row.difference < 0 else (group_a, row.share_a)
        said.append(f"{pct(share)} did {row.event}" if group == first_group
                    else f"{pct(share)} of {group} did {row.event} instead of {goal}")
        first_group = first_group or group
    return f"Left out as {'other outcomes' if len(said) > 1 else 'another outcome'}: {'; '.join(said)}." if said else ""


def _among(row, that: str = "who") -> str:
    """ " of those who reached cart" for an event compared only where it can happen (compare's ``reached``);
    ``that``: "who" for users, "that" for cases (``units.who_or_that``)."""
    step = getattr(row, "reached", None)
    return f" of those {that} reached {step}" if isinstance(step, str) else ""


def _reaching(row, that: str = "who") -> str:
    step = row.get("reached") if hasattr(row, "get") else None
    return f" {that} reached {step}" if isinstance(step, str) else ""


def early_drivers(log: EventLog, goal: str, room: int = OBSERVATION_ROOM, unwanted: bool = False) -> str:
    """The early behaviour (and who) that most predicts the goal, in words; "" when none passes or the
    drivers cannot be computed (the comparison stands without them). A second behaviour is told only
    when the words fit in ``room`` characters."""
    try:
        result = drivers.run(log, drivers.Spec(goal=goal, unwanted=unwanted))
    except (JourneyError, ValueError):
        return ""
    strongest = _strongest_drivers(result.table)
    who = _who_sentences(result.who)
    which = "Who" if log.path_noun == "user" else f"Which {path_words(log)}"     # cases are no people
    who = [f"{which}: {who}."] if who else []
    for told in (strongest, strongest[:1]):
        text = " ".join(([f"Early behaviour that predicts {goal}: {'; '.join(told)}."] if told else []) + who)
        if len(text) <= room:
            break
    return text


def _strongest_drivers(table) -> list[str]:
    """The sentences of the early behaviour that most goes with reaching the goal (largest phi), then of
    the one that most goes with not reaching it when its link is at least half as strong (or when no
    behaviour goes with reaching it): rework that cuts the goal's rate is told, not hidden behind a 1.2x
    habit of 3% of users. Errors (a failed payment) happen to users and are the stuck points' and
    funnel's to tell; an event after which nobody reaches the goal is another outcome (a cancellation);
    neither is behaviour."""
    if table is None or not len(table):
        return []
    behaviour = table[(table["lift"] > 0) & ~table["event"].map(is_failure_name).astype(bool)]
    helps, hurts = behaviour[behaviour["phi"] > 0], behaviour[behaviour["phi"] < 0]
    best = helps.loc[helps["phi"].idxmax()] if len(helps) else None
    worst = hurts.loc[hurts["phi"].idxmin()] if len(hurts) else None
    if best is None:
        return [] if worst is None else [worst["sentence"]]
    chosen = [best["sentence"]]
    if worst is not None and -worst["phi"] >= STRONG_ENOUGH_SHARE * best["phi"] and not _mirrors(worst, best):
        chosen.append(worst["sentence"])
    return chosen


def _mirrors(one, other) -> bool:
    """Two drivers that are one split told twice (tutorial completed 11% vs 3%, skipped 3% vs 11%)."""
    return (abs(one["rate_a"] - other["rate_b"]) <= MIRROR_TOLERANCE
            and abs(one["rate_b"] - other["rate_a"]) <= MIRROR_TOLERANCE)


def _who_sentences(who) -> str:
    """The segment that reaches the goal most above the others, and the one most below (unless it is the
    same property's other half: app 7.3 above, 7.4 below), by the strength of the link (phi)."""
    if who is None or not len(who):
        return ""
    significant = who[who["significant"]]
    above = significant[significant["lift"] > 1].sort_values("phi", ascending=False).head(1)
    below = significant[significant["lift"] < 1].sort_values("phi").head(1)
    if len(above) and len(below):
        prop = below["property"].iloc[0]
        if prop == above["property"].iloc[0] and (who["property"] == prop).sum() <= 2:
            below = below.iloc[:0]
    if not len(above):
        return below["sentence"].iloc[0] if len(below) else ""
    text = above["sentence"].iloc[0]
    if len(below):           # said short: the slide's box beside the chart holds ~900 characters
        row = below.iloc[0]
        text += f"; {row['property']} = {row['value']} at {pct(row['rate_a'])} vs {pct(row['rate_b'])} ({row['lift']:.1f}x)"
    return text


def goal_funnel(log: EventLog, goal: str, unwanted: bool = False) -> Finding | None:
    import pandas as pd
    if unwanted:         # a funnel to a cancellation is no funnel to improve: left out of the report
        return None
    steps = tuple(goal_funnel_steps(log, goal))
    if len(steps) < 2:
        raise JourneyError(f"no event comes before {goal} for most of the {path_words(log)} "
                           f"{units.who_or_that(log.path_noun)} reach it")
    spec = funnel.Spec(steps=steps, window_ms=None)
    table = funnel.run(log, spec).table
    overall = table["users"].iloc[-1] / max(table["users"].iloc[0], 1)
    drops = table.iloc[1:].assign(lost=lambda t: t["drop_off"])
    worst = drops.loc[drops["lost"].idxmax()]
    before = table["event"].iloc[int(worst["step"]) - 2]
    # The funnel asks for every milestone in this order, so it can be stricter than "reached the goal".
    those = f"{path_words(log)} {units.who_or_that(log.path_noun)}"       # "users who", "cases that"
    text = (f"{pct(overall)} of {those} do {table['event'].iloc[0]} complete all {len(steps)} steps in this "
            f"order ({' → '.join(steps)}): {int(table['users'].iloc[-1]):,} of {int(table['users'].iloc[0]):,}. "
            f"The biggest loss is from {before} to {worst['event']}: {plural(int(worst['lost']), log.path_noun)} "
            f"({pct(1 - worst['conversion_from_previous'])}) did not continue.")
    text += _who_was_lost(log, spec, int(worst["step"]) - 1)
    seconds = table["median_seconds_to_convert"].iloc[-1]
    if pd.notna(seconds):
        text += (f" Those {units.who_or_that(log.path_noun)} convert take a median of "
                 f"{units.duration(float(seconds))} for the last step.")
    return Finding("funnel", f"{pct(overall)} complete the {len(steps)} steps to {goal}", spec, text)


def _who_was_lost(log: EventLog, spec: funnel.Spec, step: int) -> str:
    """" Worst for platform = mweb: 22% of them went on vs 55% of the others." — the property value whose
    users, among those who completed the first ``step`` steps, went on least (significant, at most
    ``LOST_LIFT`` times the others' rate); "" when none stands out."""
    users, completed = funnel.steps_reached(log, spec)
    among, went_on = np.zeros(log.n_users, dtype=bool), np.zeros(log.n_users, dtype=bool)
    among[users[completed >= step]] = True
    went_on[users[completed > step]] = True
    goal_reached = users_with_event(log, log.event_code(spec.steps[-1]))
    who = drivers.who_differs(log, went_on, drivers.Spec(goal=spec.steps[step]), among=among,
                              goal_reached=goal_reached)
    worse = who[who["significant"] & (who["lift"] <= LOST_LIFT)].sort_values("phi") if len(who) else who
    if not len(worse):
        return ""
    row = worse.iloc[0]
    return (f" Worst for {row['property']} = {row['value']}: {pct(row['rate_a'])} of them went on vs "
            f"{pct(row['rate_b'])} of the others.")


def goal_funnel_steps(log: EventLog, goal: str) -> list[str]:
    """Milestones on the way to the goal: events most successful users did before it, in their
    typical order (median position of the first time), ending with the goal. Kept per log and goal
    (a log never changes): 3-13 s at 10M events, asked for by the funnel view's own steps, what
    changed and the window's saved view options."""
    known = _FUNNEL_STEPS.get(log)
    if known is None:
        _FUNNEL_STEPS[log] = known = {}
    if goal not in known:
        known[goal] = tuple(_goal_funnel_steps(log, goal))
    return list(known[goal])


_FUNNEL_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()    # log -> {goal: steps}


def _goal_funnel_steps(log: EventLog, goal: str) -> list[str]:
    import pandas as pd
    goal_code = log.event_code(goal)
    successful = np.unique(log.user[log.event == goal_code])
    mine = np.isin(log.user, successful)
    frame = pd.DataFrame({"user": log.user[mine], "event": log.event[mine], "pos": step_index(log)[mine]})
    firsts = frame.groupby(["user", "event"], sort=False)["pos"].min().reset_index()
    goal_pos = firsts[firsts["event"] == goal_code].set_index("user")["pos"]
    firsts = firsts[firsts["pos"] < firsts["user"].map(goal_pos)]            # before their goal only
    summary = firsts.groupby("event").agg(users=("user", "size"), median=("pos", "median"))
    needed = FUNNEL_MIN_REACH * max(len(successful), 1)
    common = summary[summary["users"] >= needed].sort_values("users", ascending=False)
    # The step most of them took right before the goal (checkout, before paying) always, then the most
    # common ones: four steps everyone passes would leave the last one, where users drop, out. Among the
    # steps nearly every successful user took, those after which users are lost come first.
    last = _step_before_first(log, goal_code)
    reach = distinct_count(log.event, log.user, len(log.event_names))
    nearly_all = summary.index[summary["users"] >= NEARLY_ALL * len(successful)]
    plateaus = _plateaus(summary.loc[nearly_all].sort_values("median").index, reach)
    per_user = np.bincount(log.event, minlength=len(reach)) / np.maximum(reach, 1)
    # the least repeated step of each plateau, the latest of equals (kyc_approved closes the checks)
    shown = {min(reversed(steps), key=lambda code: per_user[code]) for steps in plateaus if last not in steps}
    candidates = sorted(common.index, key=lambda code: (code != last, code not in shown))
    # Milestones most successful users did *together*: alternatives (half search, half browse) would
    # make a funnel nobody completes.
    users_of = {code: set(group) for code, group in firsts.groupby("event")["user"]}
    together, chosen = set(successful.tolist()), []
    for code in candidates:
        if len(together & users_of[code]) >= needed and len(chosen) < FUNNEL_MAX_STEPS - 1:
            together &= users_of[code]
            chosen.append(code)
    ordered = summary.loc[chosen].sort_values("median").index
    return [log.event_names[int(code)] for code in ordered] + [goal]


def _plateaus(ordered, reach: np.ndarray) -> list[list[int]]:
    """Steps in their typical order, split where users are lost: a step's reach (users who did it at
    all) above the next step's by more than ``PLATEAU_TOLERANCE`` ends a plateau (search, results and
    hotel page reached by all, the room choice by fewer). A funnel showing one step of each plateau
    shows every loss; three steps of one plateau show none. One step per plateau is shown, the one
    users repeat least (a milestone done once, not an app open done every visit).

    >>> _plateaus([0, 1, 2, 3], np.array([100, 100, 80, 79]))
    [[0, 1], [2, 3]]
    >>> _plateaus([0, 1, 2, 3], np.array([100, 99, 98, 97]))      # 1% at a time: 2% lost by the third
    [[0, 1], [2, 3]]
    """
    plateaus: list[list[int]] = []
    for code in (int(c) for c in ordered):
        # against the plateau's first step: five checks losing 1% each lose 5%, a plateau no more
        if not plateaus or reach[plateaus[-1][0]] > (1 + PLATEAU_TOLERANCE) * reach[code]:
            plateaus.append([])
        plateaus[-1].append(code)
    return plateaus


def _step_before_first(log: EventLog, goal_code: int) -> int:
    """The event most paths did right before their first goal (-1 when none did).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aaabbc"), "event": list("xypxpp"), "time": range(6)}))
    >>> log.event_names[_step_before_first(log, log.event_code("p"))]
    'x'
    """
    first = first_rows_of(log, goal_code)
    first = first[first > 0]
    first = first[log.user[first - 1] == log.user[first]]
    if not len(first):
        return -1
    return int(np.bincount(log.event[first - 1], minlength=len(log.event_names)).argmax())


def retention_finding(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    import pandas as pd
    spec = retention.Spec(period="week")
    result = retention.run(log, spec)
    curve = result.curve[result.curve["eligible"] > 0].set_index("period")["share"]
    week1 = curve.get(1, float("nan"))
    text = result.readout
    if pd.notna(week1):
        text += f" {pct(week1)} of {path_words(log)} come back in the week after their first."
    if result.flattens_at is not None and result.plateau is not None:
        headline = (f"Almost {units.nobody(log.path_noun)} comes back after week {result.flattens_at}"
                    if result.plateau < retention.ALMOST_NOBODY
                    else f"Retention flattens at {pct(result.plateau)} from week {result.flattens_at}")
    elif len(curve) < MIN_RETENTION_WEEKS:
        headline = "Too little history to judge retention"
    else:
        headline = "Retention keeps falling"
    if result.shift:        # a change between cohorts says more than the curve's shape: it leads
        headline = retention.shift_headline(result.shift, spec.period, log.path_noun)
    return Finding("retention", headline, spec, text)


def lifecycle_finding(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    spec = lifecycle.Spec(period="week")
    result = lifecycle.run(log, spec)
    full = result.table[result.covered()]         # weeks the data covers whole (as the chart draws them)
    draining = _draining_since(log)
    if draining and (full["period"].astype(str) < draining).sum() >= MIN_RETENTION_WEEKS:
        full = full[full["period"].astype(str) < draining]
    latest = full.iloc[-1]
    recent = full.tail(4)
    ratio = (recent["new"].sum() + recent["resurrected"].sum()) / max(-recent["dormant"].sum(), 1)
    trend = "growing" if ratio > 1.05 else "shrinking" if ratio < 0.95 else "holding steady"
    base = active_base(log)
    text = (f"In the week of {latest['period']}: {plural(int(latest['active']), 'active ' + log.path_noun)}, "
            f"{int(latest['new']):,} new, {int(latest['returning']):,} returning and "
            f"{int(latest['resurrected']):,} back after a break, while {int(-latest['dormant']):,} went dormant. "
            f"Over the last {plural(len(recent), 'week')}, {ratio:.2f} {path_words(log)} arrived or came back for each one lost "
            f"(quick ratio): {base} is {trend}.{_drained_note(draining, latest['period'], log)}")
    headline = f"{base[0].upper()}{base[1:]} is {trend} (quick ratio {ratio:.2f})"
    peak = arrivals_peak(full) if trend == "shrinking" else None
    if peak is not None:
        text += " " + _after_peak_sentence(peak, int(latest["active"]), log)
        if latest["active"] >= peak["active_before"]:      # like with like: the base before the season
            headline = f"{base[0].upper()}{base[1:]} is settling after the peak of the week of {peak['week']} " \
                       f"(quick ratio {ratio:.2f})"
    if result.scheduled:
        text += " " + automatic.left_out_sentence(list(result.scheduled), log.path_noun, "activity")
    return Finding("lifecycle", headline, spec, text)


PEAK_FACTOR = 1.5        # arrivals this many times their usual (median) weekly count make a peak
PEAK_RECENT_WEEKS = 8    # ...that counts when it ended at most this many weeks before the latest


def arrivals_peak(weeks) -> dict | None:
    """A season of arrivals that has just ended: the weeks of the lifecycle table (whole weeks, oldest
    first) whose new paths reached ``PEAK_FACTOR`` times the usual, the last of them within
    ``PEAK_RECENT_WEEKS`` of the latest week but not the latest itself. The paths that came in it go
    dormant after it, so a quick ratio under 1 follows any peak. Keys: week (the peak's), new, usual,
    active_before (the median active count of the weeks before the season began). None otherwise.

    >>> import pandas as pd
    >>> weeks = pd.DataFrame({"period": [f"w{i}" for i in range(10)], "new": [100] * 5 + [200, 220, 210] + [100] * 2,
    ...                       "active": [150] * 5 + [300, 330, 320, 200, 170]})
    >>> arrivals_peak(weeks)
    {'week': 'w6', 'new': 220, 'usual': 100.0, 'active_before': 150.0}
    """
    new = weeks["new"].to_numpy()
    if len(new) < 2 * MIN_RETENTION_WEEKS:
        return None
    usual = float(np.median(new))
    season = np.flatnonzero(new >= PEAK_FACTOR * usual)
    if not len(season) or season[-1] == len(new) - 1 or season[-1] < len(new) - 1 - PEAK_RECENT_WEEKS:
        return None
    breaks = np.flatnonzero(np.diff(season) > 1)          # the season: the last run of peak weeks
    begins = int(season[breaks[-1] + 1] if len(breaks) else season[0])
    if begins == 0:                                      # no weeks before it to compare with
        return None
    last_run = season[season >= begins]
    peak = int(last_run[np.argmax(new[last_run])])
    return {"week": str(weeks["period"].iloc[peak]), "new": int(new[peak]), "usual": usual,
            "active_before": float(np.median(weeks["active"].to_numpy()[:begins]))}


def _after_peak_sentence(peak: dict, active: int, log: EventLog) -> str:
    """Says the season: new paths peaked just before, and where the base stands against before it."""
    where = "still above" if active >= peak["active_before"] else "below"
    those = f"those {units.who_or_that(log.path_noun)} came in the peak"     # cases "that" came, users "who"
    return (f"New {path_words(log)} peaked in the week of {peak['week']} ({peak['new']:,}, "
            f"{peak['new'] / peak['usual']:.1f}x the usual {peak['usual']:,.0f}): {those} go "
            f"dormant after it, so the quick ratio falls under 1 after any peak. With "
            f"{units.counted(active, 'active ' + log.path_noun)} the base is {where} its level before the peak "
            f"({peak['active_before']:,.0f} a week).")


def active_base(log: EventLog) -> str:
    """What the lifecycle counts, in words: "the active base" of users, "the number of active cases"."""
    return "the active base" if log.path_noun == "user" else f"the number of active {path_words(log)}"


def north_star(log: EventLog, goal: str, unwanted: bool = False) -> Finding:
    if unwanted:         # no north star of cancellations: the one the report shows for its usual goal
        avoided, goal = goal, default_goal(log)
        if goal == avoided or goal_is_unwanted(goal):
            goal = guess_goal(log)
        if goal == avoided or goal_is_unwanted(goal):
            raise JourneyError(f"the goal {avoided} is an outcome to avoid, and no other goal is known to grow")
    event, reason = default_choice(log, goal)
    spec = northstar.Spec(event=event, period="week")
    result = northstar.run(log, spec)
    table = result.table
    full = table[table["complete"]].set_index("period")["metric"]
    if full.empty:
        raise JourneyError("the data does not cover one full week")
    latest = result.headline                     # the last full week with any, before the log drains out
    draining = result.drains_from
    before = result.before_draining()[table["complete"].to_numpy(dtype=bool)]
    trimmed = bool(draining) and before.sum() >= MIN_TREND_WEEKS    # else too few weeks would be left to tell
    if trimmed:
        full = full[before]
    peak_period, peak = full.idxmax(), int(full.max())
    last_full = full.index[-1]
    week = "the last full week" if latest["period"] == last_full else "the last full week with any"
    why = WHY[reason].format(goal=goal, paths=path_words(log))
    text = (f"North star: {path_words(log)} doing {event} ({why}) per week, full weeks only. "
            f"In {week} ({latest['period']}) {plural(int(latest['metric']), log.path_noun)} did it; "
            f"it peaked at {peak:,} in the week of {peak_period}.")
    starting = _warm_up_weeks(log)
    if len(full) - starting >= MIN_TREND_WEEKS:
        # the first weeks of a process extract hold only new cases: compared with them, anything grows
        recent, earlier = full.tail(4).mean(), full.iloc[starting:starting + 4].mean()
        text += f" {_trend_sentence(recent, earlier)}"
        if starting:
            first = "The first week is" if starting == 1 else f"The first {starting} weeks are"
            text += (f" ({first} left out of that comparison: the typical path lasts that long, so paths were "
                     f"still starting up.)")
    else:
        text += f" {plural(len(full), 'week')} of data {'is' if len(full) == 1 else 'are'} too few to tell a trend."
    quiet = _trailing_zeros(full.to_numpy())
    if quiet:
        text += f" {units.nobody(log.path_noun).capitalize()} did {event} in the last {plural(quiet, 'full week')} of the data."
    if trimmed:                                  # only weeks it did leave out are said to be
        text += _drained_note(draining, latest["period"], log)
    return Finding("northstar", f"{plural(int(latest['metric']), log.path_noun)} did {event} in {week}", spec, text)


def _draining_since(log: EventLog) -> str | None:
    """The first week (its Monday) from which the log only drains out (``change_series.draining_from``)."""
    from journey_explorer.analysis.change_series import draining_from
    return draining_from(log)


def _warm_up_weeks(log: EventLog) -> int:
    """Weeks at the log's start while paths are still starting up (``change_series.warm_up_periods``)."""
    from journey_explorer.analysis.change_series import choose_periods, warm_up_periods
    if not len(log):
        return 0
    return warm_up_periods(log, choose_periods(int(log.ts.min()), int(log.ts.max()), "week"))


def _drained_note(draining: str | None, latest, log: EventLog) -> str:
    if not draining or str(latest) >= draining:
        return ""
    return (f" Weeks from {draining} on are left out: few new {path_words(log)} start then while the others finish "
            f"(the data drains out), so every count falls by construction.")


def _first_steps(count: int) -> str:
    return "first step is" if count == 1 else f"first {count} steps are"


def _trailing_zeros(values: np.ndarray) -> int:
    """How many values at the end are 0.

    >>> _trailing_zeros(np.array([3, 0, 5, 0, 0]))
    2
    """
    nonzero = np.flatnonzero(values)
    return len(values) - 1 - int(nonzero[-1]) if len(nonzero) else len(values)




# The report's questions, in slide order: (question, maker). Add a finding with one line here.
FINDINGS = [
    ("Overview", overview),
    ("How journeys start", first_flows),
    ("Where users get stuck", stuck_points),
    ("How successful users differ", differences),
    ("The funnel to the goal", goal_funnel),
    ("Do users come back", retention_finding),
    ("Is the active base growing", lifecycle_finding),
    ("The north star", north_star),
]
