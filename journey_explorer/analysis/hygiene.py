"""Tracking-plan hygiene: event names that are likely one action, and tracking that looks broken.

``run(log, spec)`` returns a ``Result`` with
- ``suggestions``: groups of names to merge, each with a suggested target name, a confidence (0-1, and
  "high" / "medium"), the evidence in words and per pair (``hygiene_pairs`` explains the signals);
- ``breakages``: events that stop or start, double firing, impossible users / sessions, bad times
  (``hygiene_breakage``), each with counts and dates.

Both carry a ``key`` so that a dismissal can be remembered in the project (``DISMISSED_SETTING``);
``apply_merge`` merges through the project's undoable catalog edit (``Project.merge_events``).
The report's "tracking" finding is ``tracking_finding``. Qt-free; no store imports (a project is
passed in by the caller).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import hygiene_breakage as checks
from journey_explorer.analysis.hygiene_breakage import Breakage
from journey_explorer.analysis.hygiene_names import SAME
from journey_explorer.analysis.hygiene_pairs import SWITCH_PURITY, PairEvidence, PairFacts
from journey_explorer.analysis.hygiene_volume import daily_volume
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.progress import part, report
from journey_explorer.store import event_detail

if TYPE_CHECKING:
    import pandas as pd

HIGH = 0.8
DISMISSED_SETTING = "hygiene.dismissed"     # project setting: list of dismissed keys


@dataclass(frozen=True)
class Spec:
    min_confidence: float = 0.5       # pairs below this are not suggested
    now_ms: int | None = None         # "the future" starts here (default: the clock)
    dismissed: tuple[str, ...] = ()   # keys of suggestions / breakages the user dismissed


@dataclass
class Suggestion:
    names: tuple[str, ...]            # most events first
    target: str                       # the name to merge into
    confidence: float
    evidence: list[str]
    pairs: list[PairEvidence]
    events: dict[str, int] = field(default_factory=dict)           # events per name
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # first and last date per name

    @property
    def level(self) -> str:
        return "high" if self.confidence >= HIGH else "medium"

    @property
    def key(self) -> str:
        return merge_key(self.names)

    def to_json_dict(self) -> dict:
        return {"names": list(self.names), "target": self.target, "confidence": round(self.confidence, 3),
                "level": self.level, "evidence": self.evidence, "events": self.events,
                "seen": {name: list(dates) for name, dates in self.seen.items()}, "key": self.key,
                "pairs": [p.to_json_dict() for p in self.pairs]}


@dataclass
class Result:
    spec: Spec
    suggestions: list[Suggestion]
    breakages: list[Breakage]
    considered: list[PairEvidence]     # every pair judged, suggested or not (why not: its evidence)
    notes: list[str]
    naming: list[event_detail.Suggestion] = field(default_factory=list)    # events to name by a property

    @property
    def broken(self) -> list[Breakage]:
        """What to tell the client's developers to fix: breakages nothing else explains."""
        return [b for b in self.breakages if not b.explained]

    @property
    def explained(self) -> list[Breakage]:
        """Changes in the tracking that are not faults: bursts (an incident, a campaign: see What
        changed) and the two halves of a rename (see the suggested merge)."""
        return [b for b in self.breakages if b.explained]

    def to_json_dict(self) -> dict:
        return {"name_by_property": [s.to_json_dict() for s in self.naming],
                "suggestions": [s.to_json_dict() for s in self.suggestions],
                "breakages": [b.to_json_dict() for b in self.breakages],
                "not_suggested": [p.to_json_dict() for p in self.considered
                                  if p.confidence < self.spec.min_confidence],
                "notes": self.notes}

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        rows = [{"type": "merge", "key": s.key, "names": " | ".join(s.names), "target": s.target,
                 "confidence": round(s.confidence, 3), "count": sum(s.events.values()),
                 "first": None, "last": None, "detail": "; ".join(s.evidence)} for s in self.suggestions]
        rows += [{"type": "name_by_property", "key": s.key, "names": s.event, "target": s.property,
                  "confidence": None, "count": None, "first": None, "last": None, "detail": s.sentence}
                 for s in self.naming]
        rows += [{"type": b.kind, "key": b.key, "names": " | ".join(b.events), "target": None, "confidence": None,
                  "count": b.count, "first": b.first, "last": b.last, "detail": b.message} for b in self.breakages]
        return pd.DataFrame(rows, columns=["type", "key", "names", "target", "confidence", "count", "first", "last",
                                           "detail"])


def merge_key(names) -> str:
    """The dismissal key of a merge suggestion: its names, sorted.

    >>> merge_key(["b", "a"])
    'merge:a|b'
    """
    return "merge:" + "|".join(sorted(names))


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    """Suggested merges and broken tracking of ``log``; ``progress(fraction)`` may raise to cancel."""
    now_ms = spec.now_ms if spec.now_ms is not None else int(time.time() * 1000)
    if len(log) == 0:
        return Result(spec, [], [], [], ["the log is empty"])
    believable, breakages, notes = checks.time_outliers(log, now_ms)
    volume = daily_volume(log, believable)
    if progress:
        progress(0.2)
    facts = PairFacts(log, volume)
    considered = judge_candidates(facts, part(progress, 0.2, 0.6))
    if progress:
        progress(0.6)
    suggestions = group_pairs([p for p in considered if p.confidence >= spec.min_confidence], facts.counts,
                              log.event_names, seen_dates(volume, log.event_names))
    breakages += event_breakages(log, volume, considered, notes, believable)
    explain_by_renames(breakages, suggestions)
    dismissed = set(spec.dismissed)
    return Result(spec, [s for s in suggestions if s.key not in dismissed],
                  [b for b in breakages if b.key not in dismissed], considered, notes,
                  [s for s in event_detail.suggest(log) if s.key not in dismissed])


MIN_RENAME_EVENTS = 10      # a name with fewer events is not judged as one side of a rename


@dataclass(frozen=True)
class Rename:
    """An event renamed in the tracking plan on a day: ``old`` stops and ``new`` starts."""

    old: str
    new: str
    day: str
    confidence: float


def likely_renames(log: EventLog) -> list[Rename]:
    """The renames hygiene is sure of (a switch day and ``HIGH`` confidence): pairs one name of which
    stops the day the other starts. Analyses over time (What changed) count the two names as one, in
    memory, so a rename is not mistaken for two changes and cannot hide a later change of the step.
    Nothing is written to the project (the tracking slide still suggests the merge)."""
    if len(log) == 0 or not _one_ends_before_another_begins(log):
        return []
    believable, _, _ = checks.time_outliers(log, int(log.ts.max()) + 1)
    volume = daily_volume(log, believable)
    renames, renamed = [], set()
    for pair in judge_candidates(PairFacts(log, volume)):       # strongest first
        if pair.confidence < HIGH or pair.later is None:
            continue
        old = pair.b if pair.later == pair.a else pair.a
        if old in renamed or pair.later in renamed:             # one rename per name: no chains guessed
            continue
        renamed |= {old, pair.later}
        renames.append(Rename(old, pair.later, str(pair.switch_day), pair.confidence))
    return renames


def _one_ends_before_another_begins(log: EventLog) -> bool:
    """A cheap test before the pair facts: a rename needs one name whose events (but for a few
    stragglers) all come before another's; in a log without one no pair can switch."""
    from journey_explorer.analysis.arrays import group_quantiles
    counts = np.bincount(log.event, minlength=len(log.event_names))
    begins, ends = group_quantiles(log.event, log.ts.astype(float), len(log.event_names),
                                   (1 - SWITCH_PURITY, SWITCH_PURITY))
    enough = counts >= MIN_RENAME_EVENTS
    return bool(enough.sum() >= 2 and ends[enough].min() <= begins[enough].max() + checks.DAY_MS)


def judge_candidates(facts: PairFacts, progress=None) -> list[PairEvidence]:
    """Every candidate pair judged, strongest first. Pairs whose names are not the same and that
    show no switch or platform split say nothing (they could be alternatives): left out.
    ``progress`` hears every ``REPORT_EVERY`` pairs (thousands of names make millions of pairs)."""
    candidates = list(facts.candidates().items())
    judged = []
    for number, ((i, j), match) in enumerate(candidates):
        if number % REPORT_EVERY == 0:
            report(progress, number / len(candidates))
        if facts.worth_judging(i, j, match):
            judged.append(facts.judge(i, j, match))
    return sorted((p for p in judged if p.match == SAME or p.structural), key=lambda p: -p.confidence)


REPORT_EVERY = 500


def event_breakages(log: EventLog, volume, considered: list[PairEvidence], notes: list[str],
                    believable: np.ndarray | None = None) -> list[Breakage]:
    """Stops and starts, properties no longer carried, double and twin firing, impossible users and
    sessions; a check that cannot be made on this log adds a note instead."""
    out = []
    if volume.days < 14:
        notes.append("stops, starts, gaps and properties no longer carried not checked: the log covers fewer "
                     "than 14 days")
    else:
        out += checks.stops_and_starts(log, volume)
        # A stop's stragglers would make a "gap" up to them: events that stop or start are not gaps.
        out += checks.gaps(log, volume, skip={name for b in out for name in b.events})
        out += checks.property_losses(log, volume, np.ones(len(log), dtype=bool) if believable is None else believable)
    doubles, note = checks.double_firing(log)
    out += doubles
    notes += [note] if note else []
    code = {name: i for i, name in enumerate(log.event_names)}
    together = [(code[p.a], code[p.b]) for p in considered
                if p.match == SAME and p.signals.get("same_session_share", 0) >= checks.TWIN_SHARE]
    out += checks.twin_firing(log, together)
    return out + checks.count_outliers(log)


def seen_dates(volume, names: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """First and last day each name was seen (times far outside the rest left out)."""
    out = {}
    for code, name in enumerate(names):
        days = np.flatnonzero(volume.observed[code])
        if len(days):
            out[name] = (volume.date(days[0]), volume.date(days[-1]))
    return out


def group_pairs(pairs: list[PairEvidence], counts: np.ndarray, names: tuple[str, ...],
                seen: dict[str, tuple[str, str]] | None = None) -> list[Suggestion]:
    """Join suggested pairs into groups (strongest pairs first, as in Kruskal's algorithm); a group's
    confidence is its weakest joining pair's."""
    code = {name: i for i, name in enumerate(names)}
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined: dict[int, list[PairEvidence]] = {}
    for pair in sorted(pairs, key=lambda p: -p.confidence):
        ra, rb = root(code[pair.a]), root(code[pair.b])
        if ra == rb:
            continue
        parent[rb] = ra
        joined[ra] = joined.pop(ra, []) + joined.pop(rb, []) + [pair]
    groups = []
    for pairs_in in joined.values():
        members = sorted({n for p in pairs_in for n in (p.a, p.b)}, key=lambda n: (-counts[code[n]], n))
        events = {n: int(counts[code[n]]) for n in members}
        evidence = (pairs_in[0].evidence if len(pairs_in) == 1 else
                    [f"{p.a} ~ {p.b}: " + "; ".join(p.evidence) for p in pairs_in])
        groups.append(Suggestion(tuple(members), suggested_target(pairs_in, members), min(p.confidence for p in pairs_in),
                                 evidence, pairs_in, events, {n: seen[n] for n in members if n in (seen or {})}))
    return sorted(groups, key=lambda s: (-s.confidence, -sum(s.events.values())))


def explain_by_renames(breakages: list[Breakage], suggestions: list[Suggestion]) -> None:
    """A stop or start on the day of a suggested rename is that rename: say so next to it."""
    for breakage in breakages:
        if breakage.kind not in ("stops", "starts"):
            continue
        for suggestion in suggestions:
            switch = next((p for p in suggestion.pairs if p.switch_day == breakage.first
                           and set(breakage.events) & {p.a, p.b}), None)
            if switch is not None:
                other = switch.b if switch.a in breakage.events else switch.a
                breakage.message = breakage.message.rsplit(" (", 1)[0] + (
                    f" (the day {other} {'starts' if breakage.kind == 'stops' else 'stops'}: a rename, see the "
                    "suggested merge)")
                breakage.numbers["explained_by"] = suggestion.key
                break


def suggested_target(pairs: list[PairEvidence], members: list[str]) -> str:
    """The name in use after a rename (the later one of the most recent switch), else the most used."""
    switches = sorted((p for p in pairs if p.later), key=lambda p: p.switch_day)
    return switches[-1].later if switches else members[0]


# --- merging, in the log and in the project ------------------------------------------------------


def merge_names(log: EventLog, names, into: str) -> EventLog:
    """The log with ``names`` shown as one event ``into`` (codes re-sorted by name, as the project
    does when display names are merged).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "b"], "event": ["x", "X", "y"], "time": [0, 1, 2]}))
    >>> merged = merge_names(log, ["x", "X"], "x")
    >>> merged.event_names, [merged.event_names[c] for c in merged.event]
    (('x', 'y'), ['x', 'x', 'y'])
    """
    shown = [into if name in set(names) else name for name in log.event_names]
    new_names = tuple(sorted(set(shown)))
    lookup = np.array([new_names.index(name) for name in shown], dtype=np.int32)
    return replace(log, event=lookup[log.event], event_names=new_names)


def stored_names(catalog: pd.DataFrame, shown: str) -> list[str]:
    """The stored names a project shows as ``shown`` (its own, or those renamed to it)."""
    return catalog.loc[(catalog["display_name"] == shown) | (catalog["name"] == shown), "name"].tolist()


def apply_merge(project, suggestion: Suggestion, into: str | None = None) -> dict[str, str]:
    """Merge a suggestion in the project through ``Project.merge_events`` (display names, so nothing
    is lost); returns each stored name's previous display name, which ``undo_merge`` restores."""
    catalog = project.event_catalog()
    for shown in suggestion.names:
        if not stored_names(catalog, shown):
            raise JourneyError(f"'{shown}' is shown by a grouping rule or by naming an event by a property, not "
                               "stored under that name: change that rule instead")
    names = sorted({stored for shown in suggestion.names for stored in stored_names(catalog, shown)})
    previous = catalog.set_index("name")["display_name"].to_dict()
    project.merge_events(names, into or suggestion.target)
    return {name: previous[name] for name in names}


def undo_merge(project, previous: dict[str, str]) -> None:
    """Give the stored names their display names from before ``apply_merge``."""
    for name, display in previous.items():
        project.rename_event(name, display)


def dismissed_keys(project) -> tuple[str, ...]:
    return tuple(project.get_setting(DISMISSED_SETTING, []) or ())


def dismiss(project, key: str, dismissed: bool = True) -> None:
    """Remember (or forget) that the user dismissed a suggestion or breakage (its ``key``)."""
    keys = [k for k in dismissed_keys(project) if k != key]
    project.set_setting(DISMISSED_SETTING, keys + [key] if dismissed else keys)


# --- choosing and describing suggestions (the hygiene command) -------------------------------------


def find_suggestion(result: Result, choice: str) -> Suggestion:
    """Suggestion ``choice``: its 1-based number in the listing, or its key."""
    if choice.isdigit() and 1 <= int(choice) <= len(result.suggestions):
        return result.suggestions[int(choice) - 1]
    for suggestion in result.suggestions:
        if suggestion.key == choice:
            return suggestion
    raise JourneyError(f"No suggested merge '{choice}' (there are {len(result.suggestions)}; "
                       "give a number from the listing or a suggestion's key)")


def describe(result: Result) -> str:
    """The result as text for the terminal."""
    lines = []
    if result.naming:
        lines.append(f"Events to name by a property ({len(result.naming)}):")
        lines += [f"  - {s.sentence}  [--name-by '{s.event}={s.property}', key {s.key}]" for s in result.naming]
    lines.append(f"Suggested merges ({len(result.suggestions)}):")
    for number, s in enumerate(result.suggestions, 1):
        lines.append(f"  {number}. {' + '.join(s.names)} -> {s.target}  [{s.level}, {s.confidence:.0%}]  key {s.key}")
        lines += [f"       - {line}" for line in s.evidence]
    lines.append(f"Broken tracking ({len(result.broken)}):")
    lines += [f"  - {b.message}  [key {b.key}]" for b in result.broken]
    if result.explained:
        lines.append(f"Explained, not broken ({len(result.explained)}):")
        lines += [f"  - {b.message}  [key {b.key}]" for b in result.explained]
    lines += [f"Note: {note}" for note in result.notes]
    return "\n".join(lines)


# --- the report's "tracking" finding ---------------------------------------------------------------


def tracking_finding(log: EventLog, goal: str, spec: Spec = Spec(), unwanted: bool = False):
    """The report's tracking slide: the top suggested merge with its effect on the funnel to the
    goal (charted as tracked today), and what looks broken. None when there is nothing to say (the
    report then has no slide)."""
    from journey_explorer.analysis import funnel
    from journey_explorer.analysis.narrative import Finding
    result = run(log, spec)
    unexplained = result.broken
    broken = " ".join(f"{b.message}." for b in unexplained[:3])
    if unexplained:
        broken = f"Tracking to fix ({len(unexplained)}): {broken}"
    if result.naming:          # paths of one generic event say little: the first thing to change
        broken = f"{result.naming[0].sentence} {broken}".strip()
    if not result.suggestions:
        if not unexplained and not result.naming:
            return None
        if not unexplained:
            return Finding("", f"Name {result.naming[0].event} by its {result.naming[0].property}", None, broken)
        return Finding("", f"{len(unexplained)} tracking problem{'s' if len(unexplained) > 1 else ''} to fix",
                       None, broken)
    top = result.suggestions[0]
    ordered = [name for name in top.names if name != top.target] + [top.target]      # the one to keep last
    listed = ", ".join(ordered[:-1]) + f" and {ordered[-1]}"
    text = f"{listed} look like one action ({top.level} confidence, {top.confidence:.0%})"
    effect = merge_effect(log, top, goal)
    if effect is not None:
        steps, before, after = effect
        text += (f": merged into {top.target}, they change the funnel {' → '.join(steps)} from "
                 f"{_pct(before)} to {_pct(after)}")
    text += f". Evidence: {_sentence('; '.join(top.evidence))}"
    if len(result.suggestions) > 1:
        text += f" {len(result.suggestions) - 1} more suggested merge{'s' if len(result.suggestions) > 2 else ''}."
    # The chart: the funnel as tracked today (through the kept name only), whose number the merge changes.
    spec = None if effect is None else funnel.Spec(steps=tuple(effect[0]), window_ms=None)
    return Finding("" if spec is None else "funnel", f"{listed} look like one action", spec,
                   f"{text} {broken}".strip())


def merge_effect(log: EventLog, suggestion: Suggestion, goal: str) -> tuple[list[str], float, float] | None:
    """(funnel steps, conversion before, after merging): the funnel to the goal through the merged
    event, counted first with only the target name, then with all the suggestion's names."""
    from journey_explorer.analysis import funnel
    from journey_explorer.analysis.narrative import goal_funnel_steps
    merged_goal = suggestion.target if goal in suggestion.names else goal
    merged = merge_names(log, suggestion.names, suggestion.target)
    steps = goal_funnel_steps(merged, merged_goal)
    if suggestion.target not in steps:
        steps = _insert_by_position(merged, steps, suggestion.target)
    if len(steps) < 2 or any(step not in log.event_names for step in steps):
        return None
    shares = []
    for one in (log, merged):
        table = funnel.run(one, funnel.Spec(steps=tuple(steps), window_ms=None)).table
        shares.append(float(table["users"].iloc[-1] / max(table["users"].iloc[0], 1)))
    return steps, shares[0], shares[1]


def _insert_by_position(log: EventLog, steps: list[str], step: str) -> list[str]:
    """``steps`` (ending with the goal) with ``step`` placed by the median position of users' first
    time at each event."""
    import pandas as pd

    from journey_explorer.analysis.arrays import step_index
    frame = pd.DataFrame({"user": log.user, "event": log.event, "pos": step_index(log)})
    first = frame.groupby(["user", "event"], sort=False)["pos"].min().groupby("event").median()
    position = {name: first.get(log.event_code(name), np.inf) for name in steps[:-1] + [step]}
    return sorted(steps[:-1] + [step], key=lambda name: position[name]) + steps[-1:]


def _sentence(text: str) -> str:
    """End with a full stop unless a question mark already ends it."""
    return text if text.endswith(("?", ".")) else text + "."


def _pct(share: float) -> str:
    from journey_explorer.analysis.narrative import pct
    return pct(share)
