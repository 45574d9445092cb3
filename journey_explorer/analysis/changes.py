"""What changed: windows of time where a funnel step, a transition or an event rate moved.

Series per week (per day when the data covers less than eight weeks): the conversion of each step
of the funnel to the goal, P(next = B | A) for the frequent transitions, and per event type its rate
per 1,000 events and the share of active paths doing it. Each series is scanned for the window
where its rate differs most from the rest, tested on the counts (see ``change_scan``), with the
false discovery rate controlled across all series. A change needs support: enough periods, enough
paths in the window and before it, at least 10 paths (or conversions) gained or lost, and odds at
least 1.5 times higher or lower than before.

Changes in the same weeks are one story (a conversion drop and an error spike), told from the
lead through the changes that share its events. Stories are ranked by what they cost or gained:
the goal's own outcome first when it moved by a fifth or more (the share of active readers
subscribing doubled), told with the step that explains it, unless a conversion into the goal moved
with it (that step says the same, and where); then conversions (funnel steps, then transitions),
because a rate alone can move with the traffic mix; then by paths or conversions lost or gained in
the window against the rate before it. An event not recorded before that lasts, in a story where no
conversion to the goal fell, is a launch and said so ("make_offer launched on 2025-06-02: …"); one with
which no conversion to the goal moved at all (an experiment arm's extra screen) is a new step, told
after the others and never as the headline (``new_steps``); a rise from nothing never "recovers". An outage
comes first whatever it cost: a step almost everyone passed that nearly stopped for a while (login
94% -> 5% for three days). A window "recovered" only when two periods after it show the rate back
near where it was (never the last, end-censored period alone). A story
in which the share of new paths also moved says it may follow who was active, and comes after the
others; one event vanishing while another of the same volume appears is called a likely rename.
Each story carries its before, during and after date ranges, so a view can set the time filter or
compare the two periods in one click (``compare --period-a BEFORE --period-b DURING``). The first
stories also say who the change hit: the property value (country, app version…) where it was
concentrated, or that none stands out (``change_who``). Changes in one segment only come last: a
conversion that nearly passed the scan and moved in one property value (``_with_concentrated``), and
a funnel step that moved for one value of a property with a handful of values, however diluted in
the whole log (``change_segments``).

A case extract (the orders created in a half-year, followed until they finish) warms up and drains
by construction: its first weeks hold only new cases (no payments yet), its last weeks only old ones.
The last weeks in which few paths start while the active ones thin out are left out, and rates and
shares of active paths leave out the first weeks, as long as the median path lasts
(``change_series.trim_draining_tail``, ``warm_up_periods``). A web log whose users are mostly done within
half a week and keep arriving loses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import change_scan, change_segments, change_series, change_who
from journey_explorer.analysis.change_series import Periods, SeriesSet
from journey_explorer.analysis.effects import benjamini_hochberg
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.progress import part

if TYPE_CHECKING:
    import pandas as pd

FDR = 0.05
SAME_STORY_PERIODS = {"week": 1, "day": 3}   # windows starting and ending this close tell one story
SAME_STORY_OVERLAP = 0.6           # ...or starting this close and overlapping this much (intersection / union)
MAX_TRANSITIONS = 400              # most frequent transitions scanned
TIER = {"funnel": 0, "transition": 1, "share": 2, "rate": 2, "new": 3}
PER_ACTIVE_KINDS = ("share", "rate", "new")   # measured per active path or per event: no warm-up weeks
OUTCOME_TIER = -1                  # the goal's own share of active paths, when it moved materially, leads
MATERIAL_OUTCOME = 0.2             # ...by at least this share of its level before (3.5% -> 6.8%: 0.94)
MENTIONED_PER_STORY = 3            # changes named in a story's sentence
VANISHED = 0.05                    # a rate below this share of its other level: (not) recorded at all
DAY_SLACK = 6                      # days a weekly window's start or end may move when placed on days
UNCONNECTED = 99                   # hops from a story's lead for a change sharing no event with it
NOT_EVENTS = {None, change_series.END, change_series.NEW_PATHS}     # labels that connect nothing
WHO_STORIES = 3                    # stories told with who they hit (the report tells three)
NEAR_ODDS_RATIO = 1.25             # conversions scanned again at this odds ratio, kept when concentrated...
NEAR_TRIED = 5                     # ...of the strongest this many
NEEDS_USER_PROPERTIES = True       # who a change hit: property values per path
OUTAGE_BEFORE = 0.75               # a step at least this share passed...
OUTAGE_KEPT = 0.25                 # ...that kept at most this share of its rate for a while, then recovered
RECOVERED_PERIODS = 2              # measured periods after a window that a recovery is told from...
RECOVERED_SHARE = 0.5              # ...whose rate is back at least this share of the way to the rate before


@dataclass(frozen=True)
class Spec:
    goal: str | None = None               # the funnel to this goal is scanned (default: the project's)
    steps: tuple[str, ...] = ()           # funnel steps instead of the goal funnel
    period: str = "auto"                  # "week", "day" or "auto" (days below eight weeks of data)
    paths: str = "user"                   # what a path is, as the common filter's --by made it ("case": the log's)
    fdr: float = FDR
    top: int = 10                         # stories reported
    merge_renames: bool = True            # count an event renamed in the tracking plan as one (hygiene.likely_renames)
    unwanted: bool = False                # the goal is an outcome to avoid: a change into it lasts, never "recovers"


@dataclass
class Result:
    spec: Spec
    periods: Periods
    series: SeriesSet
    scan: change_scan.ScanResult | None
    q_value: np.ndarray
    changes: pd.DataFrame          # one row per significant change, ranked, with its story
    stories: list[dict]            # ranked; headline, text, window and evidence ranges, members
    steps: tuple[str, ...]         # the funnel steps scanned
    note: str
    renames: tuple = ()            # hygiene.Rename: events renamed in the tracking plan, counted as one here

    @property
    def series_tested(self) -> int:
        return int(self.scan.tested.sum()) if self.scan is not None else 0

    def series_frame(self, index: int) -> pd.DataFrame:
        """One series per period (for a chart): period start, count, trials and value."""
        import pandas as pd
        x, n = self.series.x[index], self.series.n[index]
        return pd.DataFrame({"period": self.periods.dates(), "count": x, "trials": n,
                             "value": _values(self.series.kind[index], x, n)})

    def to_json_dict(self) -> dict:
        return {"period": self.periods.unit, "periods": self.periods.dates(), "paths": self.spec.paths,
                "goal": self.spec.goal, "funnel_steps": list(self.steps), "series_tested": self.series_tested,
                "fdr": self.spec.fdr, "note": self.note, "stories": self.stories,
                "renames_counted_as_one": [{"old": r.old, "new": r.new, "day": r.day, "confidence": round(r.confidence, 3)}
                                           for r in self.renames]}

    def to_frame(self) -> pd.DataFrame:
        return self.changes.drop(columns=["series", "outcome", "on_days"], errors="ignore").copy()


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    if not len(log):
        raise JourneyError("no events to look at (check the time range and segment)")
    log, spec, renames = _merge_renames(log, spec)
    result = _run(log, spec, progress)
    if renames:
        result.renames = tuple(renames)
        result.note += " " + renames_sentence(renames)
    return result


def _merge_renames(log: EventLog, spec: Spec):
    """The log with events renamed in the tracking plan counted as one (their later name), the spec's
    goal and steps renamed alike, and the renames (``hygiene.likely_renames``)."""
    if not spec.merge_renames:
        return log, spec, []
    from journey_explorer.analysis.hygiene import likely_renames
    from journey_explorer.analysis.transforms import rename_events
    renames = likely_renames(log)
    if not renames:
        return log, spec, []
    names = {rename.old: rename.new for rename in renames}
    spec = replace(spec, goal=names.get(spec.goal, spec.goal), steps=tuple(names.get(s, s) for s in spec.steps))
    return rename_events(log, names), spec, renames


def renames_sentence(renames) -> str:
    """"Counted as one event here: checkout_start, renamed begin_checkout on 2025-09-15 (tracking plan,
    99% sure)." """
    said = "; ".join(f"{r.old}, renamed {r.new} on {r.day} (tracking plan, {r.confidence:.0%} sure)"
                     for r in renames)
    return f"Counted as one event here: {said}."


def _run(log: EventLog, spec: Spec, progress=None) -> Result:
    periods = change_series.choose_periods(int(log.ts.min()), int(log.ts.max()), spec.period)
    periods, head, tail = change_series.trim_thin_edges(periods, log)
    left_out = _left_out(head, tail, periods.unit)
    periods, draining = change_series.trim_draining_tail(periods, log)
    warm_up = change_series.warm_up_periods(log, periods)
    left_out += _left_out_of_cases(warm_up, draining, periods.unit)
    goal = _goal(log, spec)
    paths = "case" if spec.paths == "user" and log.path_noun == "case" else spec.paths     # the words only
    spec = Spec(goal=goal, steps=spec.steps, period=periods.unit, paths=paths, fdr=spec.fdr, top=spec.top,
                unwanted=spec.unwanted)
    support = change_scan.Support()
    if periods.count < support.min_periods:
        note = (f"{_plural(periods.count, periods.unit)} of data: at least {support.min_periods} are needed "
                f"to tell a change from noise.{left_out}")
        return Result(spec, periods, SeriesSet(), None, np.ones(0), _empty_changes(), [], (), note)
    series, steps, daily, step_trials = build_series(log, spec, periods, support, warm_up)
    _report(progress, 0.5)
    x, n, scale = series.matrices(periods.count)
    scanned = change_scan.scan(x, n, support, scale, progress=part(progress, 0.5, 0.9))
    q_value = np.ones(len(series))
    if scanned.tested.any():
        q_value[scanned.tested] = benjamini_hochberg(scanned.p_value[scanned.tested])
    _report(progress, 0.9)
    significant = np.flatnonzero((scanned.start >= 0) & (q_value <= spec.fdr))
    changes = _change_table(series, scanned, q_value, significant, periods, spec)
    if daily is not None:
        changes = _days_from_story(refine_to_days(changes, daily, series, periods))
    changes = _outages_first(changes)
    changes = _one_story_per_launch(changes, launched_events(log, changes, series, periods, spec.goal),
                                    new_events(log, changes, series, periods))
    changes, steps_added = _new_steps_last(changes, new_steps(log, changes, series, periods, spec.goal))
    stories = _stories(changes, series, periods, spec, set(steps_added))
    _launches(stories, changes, launched_events(log, changes, series, periods, spec.goal),
              daily if daily is not None else series, periods, spec)
    _tell_new_steps(stories, steps_added, spec)
    _pinpoint(log, stories, changes, spec)
    from journey_explorer.analysis.pathprops import path_properties
    properties = path_properties(log)
    _tell_who(log, stories[:WHO_STORIES], changes, spec, steps[0] if steps else None, properties)
    overall, told = len(changes), len(stories)
    changes, stories = _with_concentrated(log, series, scanned, q_value, changes, stories, periods, spec, support,
                                          steps[0] if steps else None, properties)
    changes, stories = _with_segment_steps(log, series, changes, stories, periods, spec, support, step_trials,
                                           properties)
    stories = _keep_segment_stories(stories, told, spec.top)
    note = (f"{overall} of {scanned.tested.sum()} series changed significantly "
            f"(false discovery rate {spec.fdr:.0%})." if overall else
            f"None of {scanned.tested.sum()} series changed beyond its {periods.unit}-to-{periods.unit} noise.")
    if len(changes) > overall:
        segment_only = changes.iloc[overall:]
        count = segment_only["story"].nunique()
        said = (f"{_plural(count, 'change')} in one segment only ({len(segment_only):,} series; see who it hit)")
        note += f" Told after the others: {said}." if overall else f" Found instead: {said}."
    note += left_out
    return Result(spec, periods, series, scanned, q_value, changes, stories, steps, note)


def _keep_segment_stories(stories: list[dict], told: int, top: int) -> list[dict]:
    """The first ``top`` stories, keeping room for the segment-only ones (after the first ``told``).

    >>> [s["rank"] for s in _keep_segment_stories([{"rank": r} for r in (1, 2, 3, 4)], told=3, top=3)]
    [1, 2, 4]
    >>> [s["rank"] for s in _keep_segment_stories([{"rank": r} for r in (1, 2)], told=2, top=3)]
    [1, 2]
    """
    extra = stories[told:][:max(1, top // 3)]
    return stories[:max(top - len(extra), 0)][:told] + extra


def _with_concentrated(log: EventLog, series: SeriesSet, scanned, q_value, changes: pd.DataFrame, stories: list[dict],
                       periods: Periods, spec: Spec, support, first_step: str | None,
                       properties: dict) -> tuple[pd.DataFrame, list[dict]]:
    """Changes and stories, plus the conversions that changed in one segment only: a pricing test for US
    learners (trials 26% -> 57%) moves the whole log's rate by odds of only 1.48, under the scan's 1.5.
    Conversions (funnel steps, transitions) not found changed are scanned again at odds of
    ``NEAR_ODDS_RATIO``; of the ``NEAR_TRIED`` strongest windows with p <= the false discovery rate,
    those whose change is concentrated in one property value (``change_who``, q under its alpha /
    ``NEAR_TRIED``) that itself moved by the scan's odds ratio are kept. Told after the others."""
    import pandas as pd
    candidates = np.array([i for i in range(len(series)) if series.kind[i] in ("funnel", "transition")
                           and not (scanned.start[i] >= 0 and q_value[i] <= spec.fdr)], dtype=np.int64)
    if not len(candidates):
        return changes, stories
    x, n, scale = series.matrices(periods.count)
    near = change_scan.scan(x[candidates], n[candidates], replace(support, min_odds_ratio=NEAR_ODDS_RATIO),
                            scale[candidates])
    # The whole log's window need only be nominally significant (Bonferroni over its windows already):
    # the evidence is the segment's own change, tested per value with a bound over the series tried.
    picked = [k for k in np.argsort(-near.statistic) if near.start[k] >= 0 and near.p_value[k] <= spec.fdr][:NEAR_TRIED]
    if not picked:
        return changes, stories
    kept = [k for k in picked
            if _concentrated(log, series, int(candidates[k]), near, int(k), periods, support, properties)]
    if not kept:
        return changes, stories
    # The near scan's results placed at their series' rows, as _change_table reads them.
    def placed(values: np.ndarray, fill) -> np.ndarray:
        out = np.full(len(series), fill, dtype=values.dtype)
        out[candidates] = values
        return out

    full = change_scan.ScanResult(start=placed(near.start, -1), end=placed(near.end, -1),
                                  statistic=placed(near.statistic, 0.0), dispersion=placed(near.dispersion, 1.0),
                                  p_value=placed(near.p_value, 1.0), windows=near.windows,
                                  tested=placed(near.tested, False))
    full_q = placed(np.minimum(1.0, near.p_value * len(picked)), 1.0)
    extra = _change_table(series, full, full_q, [int(candidates[k]) for k in kept], periods, spec)
    offset = int(changes["story"].max()) if len(changes) else 0
    extra["story"] += offset
    extra["rank"] += len(changes)
    extra_stories = _stories(extra, series, periods, spec)
    _tell_who(log, extra_stories, extra, spec, first_step, properties)
    extra_stories = [story for story in extra_stories if (story.get("who") or {}).get("found") or story.get("release")]
    told = {story["rank"] for story in extra_stories}
    extra = extra[extra["story"].isin(told)]
    return (pd.concat([changes, extra], ignore_index=True) if len(changes) else extra.reset_index(drop=True),
            stories + extra_stories)


def _with_segment_steps(log: EventLog, series: SeriesSet, changes: pd.DataFrame, stories: list[dict],
                        periods: Periods, spec: Spec, support, trials: list[change_series.StepTrials],
                        properties: dict) -> tuple[pd.DataFrame, list[dict]]:
    """Changes and stories, plus the funnel steps that moved for one value of a property with a handful
    of values only (``change_segments``: a price rise for drivers aged 18-24, a fifth of the offers,
    that the whole log's step shows only as noise), told after the others like the near misses above:
    the step's whole-log numbers over the value's window, "mostly" the value. A step already told in
    overlapping weeks (its own change, or a transition from its first event) is left out: its story
    says who it hit; so is a value whose change the whole log's step does not show in its direction.
    Whether it recovered is told from the value's own periods."""
    import pandas as pd
    if not trials or not properties:
        return changes, stories
    reached = np.zeros(log.n_users, dtype=bool)
    if spec.goal:
        reached[log.user[log.event == log.event_code(spec.goal)]] = True
    found = change_segments.scan(trials, properties, periods.count, support, spec.fdr,
                                 change_segments.known_from(log, properties), reached)
    hits = {}
    for hit in found:
        i = series.find("funnel", hit.source, hit.target)
        if i is None or _told_already(changes, hit):
            continue
        whole = measure("funnel", series.x[i], series.n[i], hit.start, hit.end, periods, 1.0)
        if (whole["during"] - whole["before"]) * (hit.found["during"] - hit.found["before"]) > 0:
            hits[i] = hit
    if not hits:
        return changes, stories
    size = len(series)
    rows = np.array(sorted(hits), dtype=np.int64)

    def placed(key: str, fill, dtype) -> np.ndarray:
        out = np.full(size, fill, dtype=dtype)
        out[rows] = [getattr(hits[i], key) for i in rows]
        return out

    window = change_scan.ScanResult(start=placed("start", -1, np.int64), end=placed("end", -1, np.int64),
                                    statistic=placed("statistic", 0.0, float), dispersion=np.ones(size),
                                    p_value=placed("p_value", 1.0, float), windows=0, tested=np.ones(size, bool))
    extra = _change_table(series, window, placed("q_value", 1.0, float), rows, periods, spec)
    # Whether it recovered is the segment's to tell: diluted, the whole log's weeks after are mostly noise.
    for position, row in enumerate(extra.itertuples()):
        hit = hits[row.series]
        recovery, _ = _recovery("funnel", hit.x, hit.n, row.end_period, hit.found["before"], hit.found["during"])
        extra.iloc[position, extra.columns.get_loc("recovery")] = recovery
        extra.iloc[position, extra.columns.get_loc("recovered")] = recovery == "recovered"
    extra["story"] += int(changes["story"].max()) if len(changes) else 0
    extra["rank"] += len(changes)
    extra_stories = _stories(extra, series, periods, spec)
    for story in extra_stories:
        lead = extra[extra["story"] == story["rank"]].iloc[0]
        hit = hits[int(lead["series"])]
        story["who"] = {"change": 0, "found": hit.found, "properties": [hit.property]}
        story["release"] = None
        _say_who(story, lead, spec, 0, hit.found, None)
    return (pd.concat([changes, extra], ignore_index=True) if len(changes) else extra.reset_index(drop=True),
            stories + extra_stories)


def _told_already(changes: pd.DataFrame, hit) -> bool:
    """Whether a conversion from the step's first event (the step itself, or a transition from it)
    changed in weeks overlapping the segment's window."""
    if not len(changes):
        return False
    conversions = changes[changes["kind"].isin(("funnel", "transition")) & (changes["source"] == hit.source)]
    return bool(((conversions["start_period"] < hit.end) & (conversions["end_period"] > hit.start)).any())


def _concentrated(log: EventLog, series: SeriesSet, i: int, near, k: int, periods: Periods, support,
                  properties: dict) -> bool:
    """Whether a near-miss's change sits in one property value whose own rate moved by the scan's odds."""
    edges = periods.edges
    before = (int(edges[0]), int(edges[near.start[k]]))
    during = (int(edges[near.start[k]]), int(edges[near.end[k]]))
    found, _ = change_who.who_changed(log, series.kind[i], series.source[i], series.target[i], before, during,
                                      properties)
    if found is None or found["q_value"] > change_who.ALPHA / NEAR_TRIED:
        return False
    odds = [max(min(rate, 1 - 1e-6), 1e-6) for rate in (found["before"], found["during"])]
    ratio = (odds[1] / (1 - odds[1])) / (odds[0] / (1 - odds[0]))
    return max(ratio, 1 / ratio) >= support.min_odds_ratio


def _left_out(head: int, tail: int, unit: str) -> str:
    """ " The first 2 weeks and the last week ... are left out." (empty when none are)."""
    parts = [f"the first {_plural(head, unit)}" if head > 1 else f"the first {unit}" if head else "",
             f"the last {_plural(tail, unit)}" if tail > 1 else f"the last {unit}" if tail else ""]
    said = " and ".join(p for p in parts if p)
    if not said:
        return ""
    one = head + tail == 1
    return (f" {said[0].upper()}{said[1:]} {'holds' if one else 'hold'} fewer than a quarter of the usual active "
            f"paths (the data starting or ending) and {'is' if one else 'are'} left out.")


def _left_out_of_cases(warm_up: int, draining: int, unit: str) -> str:
    """ " Event rates and shares … leave out the first 4 weeks …. The last week, when hardly any new
    path started …, is left out." (empty when neither).

    >>> _left_out_of_cases(0, 1, "week")
    ' The last week, when hardly any new path started while the open ones finished, is left out.'
    """
    def periods(count: int) -> str:
        return unit if count == 1 else _plural(count, unit)
    said = ""
    if warm_up:
        said += (f" Event rates and shares of active paths leave out the first {periods(warm_up)}: the "
                 f"typical path lasts that long, so paths were still starting up.")
    if draining:
        said += (f" The last {periods(draining)}, when hardly any new path started while the open ones "
                 f"finished, {'is' if draining == 1 else 'are'} left out.")
    return said


def _report(progress, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


def _goal(log: EventLog, spec: Spec) -> str | None:
    if spec.goal:
        log.event_code(spec.goal)            # an unknown goal fails here, named
        return spec.goal
    if log.default_goal in log.event_names:
        return log.default_goal
    from journey_explorer.analysis.narrative import guess_goal
    return guess_goal(log)


def build_series(log: EventLog, spec: Spec, periods: Periods, support: change_scan.Support, warm_up: int = 0
                 ) -> tuple[SeriesSet, tuple[str, ...], SeriesSet | None, list[change_series.StepTrials]]:
    """Funnel steps, transitions, event rates and shares per period, the funnel steps used, (for
    weeks) the daily series of the kinds whose counts add up (funnel, transition, rate), from which
    the weekly ones are summed and a window is placed on days, and the funnel steps' trials per path
    in ``periods`` (for the per-segment scan). Rates and shares leave out the first ``warm_up``
    periods (paths still starting up: ``change_series.warm_up_periods``)."""
    steps = tuple(spec.steps) or _goal_steps(log, spec.goal)
    fine = periods.days() if periods.unit == "week" else periods
    daily = SeriesSet()
    trials = change_series.funnel_trials(log, fine.index, list(steps))
    change_series.funnel_series(log, fine.index, fine.count, list(steps), daily, trials)
    period = fine.index(log.ts)
    change_series.transition_series(log, period, fine.count, daily, with_end=spec.paths == "session",
                                    min_count=int(support.min_impact), limit=MAX_TRANSITIONS)
    change_series.rate_series(log, period, fine.count, daily)
    series = daily.coarsen(change_series.WEEK_DAYS) if periods.unit == "week" else daily
    change_series.share_series(log, periods.index(log.ts), periods.count, series, sessions=spec.paths == "session")
    change_series.set_rate_scales(series)
    if warm_up:
        change_series.mask_periods(series, PER_ACTIVE_KINDS, warm_up)
        if periods.unit == "week":
            change_series.mask_periods(daily, PER_ACTIVE_KINDS, warm_up * change_series.WEEK_DAYS)
    if periods.unit == "week":                      # the trials' days as weeks
        trials = [replace(step, period=step.period // change_series.WEEK_DAYS) for step in trials]
    return series, steps, (daily if periods.unit == "week" else None), trials


def _goal_steps(log: EventLog, goal: str | None) -> tuple[str, ...]:
    if goal is None:
        return ()
    from journey_explorer.analysis.narrative import goal_funnel_steps
    steps = goal_funnel_steps(log, goal)
    return tuple(steps) if len(steps) >= 2 else ()


# --- the table of changes ------------------------------------------------------------------------


CHANGE_COLUMNS = ["rank", "story", "kind", "label", "source", "target", "unit", "start", "end", "last_day", "recovered",
                  "recovery", "data_ends",
                  "before", "during", "after", "trials_before", "trials_during", "count_during", "expected_during",
                  "impact", "impact_paths", "dispersion", "p_value", "q_value", "start_period", "end_period"]


def _empty_changes() -> pd.DataFrame:
    import pandas as pd
    return pd.DataFrame(columns=CHANGE_COLUMNS)


def _values(kind: str, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Rates per 1,000 events, shares as fractions; NaN where a period has no trials."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(n > 0, x / np.where(n > 0, n, 1), np.nan)
    return value * 1000 if kind == "rate" else value


def _rate(x: np.ndarray, n: np.ndarray, kind: str) -> float:
    total = n.sum()
    if not total:
        return float("nan")
    return float(x.sum() / total * (1000 if kind == "rate" else 1))


def measure(kind: str, x: np.ndarray, n: np.ndarray, s: int, e: int, periods: Periods, scale: float) -> dict:
    """A window [s, e) of a series in numbers: its dates, the rate before, during and after it, whether
    it recovered (``recovery``), and the impact (count during minus what the rate before would have
    given; ``scale`` turns it into paths)."""
    before_rate = x[:s].sum() / n[:s].sum()
    expected = n[s:e].sum() * before_rate
    impact = float(x[s:e].sum() - expected)
    measured_until = int(np.flatnonzero(n)[-1]) + 1          # periods after this have no trials at all
    before, during = _rate(x[:s], n[:s], kind), _rate(x[s:e], n[s:e], kind)
    recovery, after = _recovery(kind, x, n, e, before, during)
    return {"start": _day(periods.edges[s]), "end": _day(periods.edges[e]), "last_day": _last_day(periods.edges[e]),
            "recovered": recovery == "recovered", "recovery": recovery,
            "data_ends": _last_day(periods.edges[measured_until]) if measured_until < periods.count else None,
            "before": before, "during": during,
            "after": after, "trials_before": int(n[:s].sum()), "trials_during": int(n[s:e].sum()),
            "count_during": int(x[s:e].sum()), "expected_during": round(float(expected), 1),
            "impact": round(impact, 1), "impact_paths": round(impact / scale, 1)}


def _recovery(kind: str, x: np.ndarray, n: np.ndarray, e: int, before: float, during: float) -> tuple[str, float]:
    """Whether a window ending at period ``e`` recovered, and the rate after it: "recovered" when at least
    ``RECOVERED_PERIODS`` periods with trials follow it (never the last one alone: conversions near the
    end of the data have had less time, a path failing in the last week may still come back) and their
    rate is back at least ``RECOVERED_SHARE`` of the way to the rate before; "not back" when it is not;
    "unknown" with fewer such periods; "lasting" for a window that reaches the end of the series.

    >>> n = np.full(10, 100)
    >>> _recovery("funnel", np.array([50] * 4 + [10] * 3 + [48] * 3), n, 7, 0.5, 0.1)
    ('recovered', 0.48)
    >>> _recovery("funnel", np.array([50] * 4 + [10] * 3 + [70] * 3), n, 7, 0.5, 0.1)[0]   # and beyond
    'recovered'
    >>> _recovery("funnel", np.array([50] * 4 + [10] * 5 + [48]), n, 9, 0.5, 0.1)[0]     # the last week only
    'unknown'
    >>> _recovery("funnel", np.array([50] * 4 + [10] * 2 + [15] * 4), n, 6, 0.5, 0.1)   # still low after
    ('not back', 0.15)
    """
    if e == len(n):
        return "lasting", float("nan")
    measured = np.flatnonzero(n[e:]) + e                      # periods after the window with trials
    if len(measured) < RECOVERED_PERIODS:
        return "unknown", float("nan")
    after = _rate(x[measured], n[measured], kind)
    back = (after - during) * np.sign(before - during) >= RECOVERED_SHARE * abs(before - during)  # or beyond
    return ("recovered" if back else "not back"), after


def _change_table(series: SeriesSet, scanned, q_value, rows, periods: Periods, spec: Spec) -> pd.DataFrame:
    import pandas as pd
    records = []
    for i in rows:
        kind, s, e = series.kind[i], int(scanned.start[i]), int(scanned.end[i])
        x, n = series.x[i], series.n[i]
        if not n[e:].any():                 # nothing to measure after the window: it never ended
            e = periods.count
        s, e = change_scan.trim_empty(n, s, e, keep_end=e == periods.count)
        records.append({
            "kind": kind, "label": series.label(i), "source": series.source[i], "target": series.target[i],
            "unit": _unit(kind, spec.paths), **measure(kind, x, n, s, e, periods, series.impact_scale[i]),
            "dispersion": round(float(scanned.dispersion[i]), 3), "p_value": float(scanned.p_value[i]),
            "q_value": float(q_value[i]), "start_period": s, "end_period": e, "series": int(i),
            "seen_until": int(np.flatnonzero(n)[-1]) + 1,      # internal: where its data stop (grouping)
            # internal: whether its dates are days (weekly shares are counted per week only)
            "on_days": periods.unit == "day" or kind in ("funnel", "transition", "rate")})
    if not records:
        return _empty_changes()
    table = pd.DataFrame(records)
    table["outcome"] = goal_outcome(table, spec.goal)
    table["tier"] = table["kind"].map(TIER).where(~table["outcome"], OUTCOME_TIER)
    table["size"] = table["impact_paths"].abs()
    table = table.sort_values(["tier", "size"], ascending=[True, False], kind="stable").reset_index(drop=True)
    table["story"] = _mix_stories_last(table, _story_numbers(table, SAME_STORY_PERIODS[periods.unit]))
    table = _goal_steps_lead(table, spec.goal)
    table["hops"] = _hops_from_lead(table)
    table = table.sort_values(["story", "hops"], kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table[CHANGE_COLUMNS + ["series", "outcome", "on_days"]]


def _goal_steps_lead(table: pd.DataFrame, goal: str | None) -> pd.DataFrame:
    """A story whose outcome moved with a conversion into the goal itself (cart → pay) is led by that
    conversion, as before: it says the same as the outcome, and where. The outcome leads only ahead
    of steps further from the goal (a paywall shown more often, an error after payment details)."""
    into_goal = table["kind"].isin(("funnel", "transition")) & table["target"].eq(goal)
    stories = set(table.loc[into_goal, "story"]) & set(table.loc[table["outcome"], "story"])
    if not stories:
        return table
    demoted = table["outcome"] & table["story"].isin(stories)
    table = table.assign(outcome=table["outcome"] & ~demoted,
                         tier=table["tier"].where(~demoted, TIER["share"]))
    return table.sort_values(["story", "tier", "size"], ascending=[True, True, False], kind="stable"
                             ).reset_index(drop=True)


def goal_outcome(table: pd.DataFrame, goal: str | None) -> pd.Series:
    """Which changes are the goal's own outcome: the share of active paths doing the goal, moved by at
    least ``MATERIAL_OUTCOME`` of its level before. Such a change leads its story (subscriptions per
    active reader doubled), told before the steps that explain it (paywall shown more, fewer articles
    read): a mid-funnel step can move a lot while the outcome hardly moves, and the reverse.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"kind": ["share", "share", "rate", "share"], "source": ["buy", "buy", "buy", "view"],
    ...                      "before": [0.035, 0.30, 8.1, 0.5], "during": [0.068, 0.33, 18.0, 0.7]})
    >>> goal_outcome(rows, "buy").tolist()
    [True, False, False, False]
    """
    moved = (table["during"] - table["before"]).abs() >= MATERIAL_OUTCOME * table["before"]
    return (table["kind"].eq("share") & table["source"].eq(goal) & moved).astype(bool)


def refine_to_days(table: pd.DataFrame, daily: SeriesSet, weekly: SeriesSet, periods: Periods) -> pd.DataFrame:
    """Weekly windows placed on the days they began and ended: each change's daily series is searched
    within ``DAY_SLACK`` days of its weekly start and end, and its numbers are measured on the days
    found. ``start_period``/``end_period`` stay weekly (the chart's axis); the significance is the
    weekly test's. Shares of active paths have no daily series (distinct paths do not add up) and
    keep their weeks."""
    import pandas as pd
    days = periods.days()
    columns: dict[str, np.ndarray] = {}        # the refined columns, written back once (.at per cell is slow)
    for position, row in enumerate(table.itertuples()):
        i = daily.find(row.kind, row.source, row.target)
        if i is None:
            continue
        x, n = daily.x[i], daily.n[i]
        start, end = change_series.WEEK_DAYS * row.start_period, change_series.WEEK_DAYS * row.end_period
        s, e = change_scan.best_window_near(x, n, start, end, DAY_SLACK, keep_end=row.recovery == "lasting")
        if n[:s].sum() and n[s:e].sum():
            scale = weekly.impact_scale[row.series]
            # Whether it recovered, and the rate after, are told from whole weeks (a day's conversions are
            # noisier, and the last week's are end-censored on each of its days).
            measured = {key: value for key, value in measure(row.kind, x, n, s, e, days, scale).items()
                        if key not in ("recovered", "recovery", "after")}
            for key, value in measured.items():
                if key not in columns:
                    columns[key] = table[key].to_numpy(copy=True)
                columns[key][position] = value
    return table.assign(**{key: pd.Series(values, index=table.index).astype(table[key].dtype)
                           for key, values in columns.items()})


def _days_from_story(table: pd.DataFrame) -> pd.DataFrame:
    """Weekly-only changes (shares of active paths) dated by the days of a change of the same story
    placed on days in the same weeks: the share of readers subscribing moved in the week of 10-06 when
    the paywall's rate moved on 10-06 itself. Others keep their weeks ("the week of …")."""
    if not len(table):
        return table
    table = table.copy()
    dated = table[table["on_days"]]
    for position in np.flatnonzero(~table["on_days"].to_numpy(dtype=bool)):
        row = table.iloc[position]
        same = dated[(dated["story"] == row["story"]) & (dated["start_period"] == row["start_period"])
                     & (dated["end_period"] == row["end_period"])]
        if len(same):
            for key in ("start", "end", "last_day"):
                table.iloc[position, table.columns.get_loc(key)] = same.iloc[0][key]
            table.iloc[position, table.columns.get_loc("on_days")] = True
    return table


def _outages_first(table: pd.DataFrame) -> pd.DataFrame:
    """Stories with an outage first, led by it: a conversion that at least ``OUTAGE_BEFORE`` made that
    fell to at most ``OUTAGE_KEPT`` of its rate and recovered (login 94% -> 5% for three days). Ranked by
    paths lost, three days of a total outage can weigh less than a small lasting gain, but a step almost
    everyone passed failing is what a reader must see first."""
    outage = (table["kind"].isin(("funnel", "transition")) & (table["before"] >= OUTAGE_BEFORE)
              & (table["during"] <= OUTAGE_KEPT * table["before"]) & table["recovered"].astype(bool))
    if not outage.any():
        return table
    hit = set(table.loc[outage, "story"])
    renumber = {story: rank + 1 for rank, story in
                enumerate(sorted(table["story"].unique(), key=lambda story: (story not in hit, story)))}
    lost = table["impact_paths"].abs().where(outage, -1.0)
    leads = lost.groupby(table["story"]).idxmax()[list(hit)]            # its largest outage leads a story
    table = table.assign(story=table["story"].map(renumber), leads=False)
    table.loc[leads.to_numpy(), "leads"] = True
    table = table.sort_values(["story", "leads"], ascending=[True, False], kind="stable").reset_index(drop=True)
    table["hops"] = _hops_from_lead(table)
    table = table.sort_values(["story", "hops"], kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table.drop(columns=["leads", "hops"])


def _mix_stories_last(table: pd.DataFrame, numbers: list[int]) -> list[int]:
    """Stories renumbered so that those in which the share of new paths also moved come after the
    others (they may follow the mix of who was active), and likely renames after the rest of those;
    the order is otherwise kept."""
    import pandas as pd
    frame = pd.DataFrame({"story": numbers, "new": table["kind"].eq("new").to_numpy()})
    lead_is_new = frame.groupby("story")["new"].first()
    mixed = frame.groupby("story")["new"].any() & ~lead_is_new
    # A likely rename is a tracking change (the tracking slide tells it), not a change in behaviour.
    stories = table.assign(story=numbers)
    renamed = {story: renamed_events(members) is not None for story, members in stories.groupby("story")}
    order = sorted(mixed.index, key=lambda story: (bool(mixed[story]), renamed[story], story))
    renumber = {story: rank + 1 for rank, story in enumerate(order)}
    return [renumber[n] for n in numbers]


def _hops_from_lead(table: pd.DataFrame) -> list[int]:
    """How far a change is from its story's lead through shared events (1: shares an event with
    the lead, 2: with one of those, ...); those closest are told first. Unconnected: a large number.
    A story led by the goal's outcome is told from the change after it (what explains it), at the
    lead's level."""
    hops = [UNCONNECTED] * len(table)
    for _, members in table.groupby("story", sort=False):
        if len(members) > 1 and members["outcome"].iloc[0]:
            hops[members.index[0]] = 0
            members = members.iloc[1:]
        lead = members.index[0]
        hops[lead], events, level = 0, {members["source"].iloc[0], members["target"].iloc[0]} - NOT_EVENTS, 0
        while True:
            level += 1
            reached = [i for i, row in members.iterrows()
                       if hops[i] == UNCONNECTED and ({row["source"], row["target"]} - NOT_EVENTS) & events]
            if not reached:
                break
            for i in reached:
                hops[i] = level
            events |= {table.at[i, "source"] for i in reached} | {table.at[i, "target"] for i in reached}
            events -= NOT_EVENTS
    return hops


def _unit(kind: str, paths: str) -> str:
    return {"funnel": f"{paths}s", "share": f"{paths}s", "new": f"{paths}s", "transition": "events",
            "rate": "events"}[kind]


def _day(ms) -> str:
    import pandas as pd
    return pd.Timestamp(int(ms), unit="ms").date().isoformat()


def same_weeks(a: tuple[int, int], b: tuple[int, int], tolerance: int = 1) -> bool:
    """Two windows [start, end) tell one story when their starts are at most ``tolerance`` periods
    apart and so are their ends, or they overlap mostly (long windows: a step whose other side
    ended when the data thinned out).

    >>> same_weeks((2, 5), (3, 5)), same_weeks((2, 5), (2, 9)), same_weeks((10, 25), (11, 29))
    (True, False, True)
    """
    if abs(a[0] - b[0]) > tolerance:
        return False
    union = max(a[1], b[1]) - min(a[0], b[0])
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return abs(a[1] - b[1]) <= tolerance or inter / union >= SAME_STORY_OVERLAP


def _story_numbers(table: pd.DataFrame, tolerance: int) -> list[int]:
    """Each change joins the first (highest-ranked) story whose lead window has the same weeks (a
    window's end counted where its series' data stop, on both sides: a funnel step whose last weeks
    are too recent to count cannot tell whether it ended with the lead)."""
    leads: list[tuple[int, int]] = []
    numbers = []
    for s, e, seen in zip(table["start_period"], np.minimum(table["end_period"], table["seen_until"]),
                          table["seen_until"]):
        for number, lead in enumerate(leads):
            if same_weeks((s, e), (lead[0], min(lead[1], seen)), tolerance):
                numbers.append(number + 1)
                break
        else:
            leads.append((s, e))
            numbers.append(len(leads))
    return numbers


# --- stories in words ------------------------------------------------------------------------------


def _stories(changes: pd.DataFrame, series: SeriesSet, periods: Periods, spec: Spec,
             new_step_stories=frozenset()) -> list[dict]:
    stories = []
    for number, members in changes.groupby("story", sort=True):
        lead = members.iloc[0]
        window = {"since": lead["start"], "until": lead["end"], "last_day": lead["last_day"],
                  "recovered": bool(lead["recovered"]), "recovery": str(lead["recovery"])}
        evidence = _evidence(lead, periods)
        renamed = renamed_events(members)
        cause = _cause(members)
        stories.append({"rank": int(number), "headline": headline(lead, spec, cause=cause),
                        "text": story_text(members, spec, int(number) in new_step_stories), "cause": cause,
                        "renamed": list(renamed) if renamed else None, "window": window, "evidence": evidence,
                        "compare_args": ["--period-a", f"{evidence['before']['since']}..{lead['start']}",
                                         "--period-b", f"{lead['start']}..{lead['end']}"],
                        "impact_paths": float(lead["impact_paths"]),
                        "changes": [_change_dict(row, series, periods) for _, row in members.iterrows()]})
    return stories


LAUNCH_DAY_SHARE = 0.25    # a launch's day: the first with at least this share of its usual daily count
LAUNCH_KEPT = 0.25         # a launched event keeps at least this share of its rate to the end of the data


def launched_events(log: EventLog, changes: pd.DataFrame, series: SeriesSet, periods: Periods,
                    goal: str | None) -> dict[int, str]:
    """Per story, the event it launched (``new_events``) when a conversion to the goal rose with it (a
    funnel step, a transition into the goal, the goal's outcome) and none fell: make_offer, new on
    2025-06-02, as listing_viewed → checkout_started rose from 35% to 50%. Not a launch: a new error
    after checkout (the step to the goal fell), a crash that came with the goal firing twice (no step
    to the goal rose)."""
    out = {}
    for story, event in new_events(log, changes, series, periods).items():
        members = changes[changes["story"] == story]
        moved = members.loc[_to_goal(members, goal), "impact"]
        if (moved > 0).any() and not (moved < 0).any():
            out[story] = event
    return out


def _to_goal(members: pd.DataFrame, goal: str | None) -> pd.Series:
    """Which changes are conversions to the goal: funnel steps, the goal's outcome, transitions into it."""
    return (members["kind"].eq("funnel") | members["outcome"].astype(bool)
            | (members["kind"].eq("transition") & members["target"].eq(goal) & members["source"].ne(goal)))


def new_steps(log: EventLog, changes: pd.DataFrame, series: SeriesSet, periods: Periods,
              goal: str | None) -> dict[int, str]:
    """Per story, the event new in it (``new_events``) when no conversion to the goal moved with it:
    an extra screen in one arm of an experiment, a new page on the way. A new step, not a change in
    how paths reach the goal: told after the others, never as damage that "had not recovered". An
    event named as a failure (a crash, an error) is an incident, never a new step."""
    from journey_explorer.analysis.goals import is_failure_name
    out = {}
    for story, event in new_events(log, changes, series, periods).items():
        if not is_failure_name(event) and not _to_goal(changes[changes["story"] == story], goal).any():
            out[story] = event
    return out


def _new_steps_last(table: pd.DataFrame, steps: dict[int, str]) -> tuple[pd.DataFrame, dict[int, str]]:
    """Stories renumbered so that new steps (``new_steps``) come after the others; and the new steps
    by their new numbers."""
    if not steps:
        return table, steps
    order = sorted(table["story"].unique(), key=lambda story: (int(story) in steps, int(story)))
    renumber = {int(story): rank + 1 for rank, story in enumerate(order)}
    table = table.assign(story=table["story"].map(lambda story: renumber[int(story)]))
    table = table.sort_values("story", kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table, {renumber[story]: event for story, event in steps.items()}


def _tell_new_steps(stories: list[dict], steps: dict[int, str], spec: Spec) -> None:
    """A new step's story says so first (``new_step``): the event is new and no step to the goal moved."""
    for story in stories:
        event = steps.get(story["rank"])
        if event is not None:
            story["new_step"] = {"event": event}
            story["text"] = (f"{event} is new: it was not recorded before {story['window']['since']}, and no step "
                             f"to {spec.goal} moved with it: a new step on the way, not a change in how "
                             f"{spec.paths}s reach {spec.goal}. " + story["text"])


def new_events(log: EventLog, changes: pd.DataFrame, series: SeriesSet, periods: Periods) -> dict[int, str]:
    """Per story, the event new in it, if any: one its changes name whose rate per event before the
    story's window was at most ``VANISHED`` of its rate since, and still at least ``LAUNCH_KEPT`` of it
    in the last two periods; the most frequent when several. Not new: an event in a likely rename (a
    tracking change), an error that appeared and went away (it does not last), and an event absent
    only because the paths were too young for it (``_young_paths_only``: renewals, a month after the
    first subscriptions)."""
    out = {}
    for story, members in changes.groupby("story", sort=True):
        if renamed_events(members) is not None:
            continue
        start = int(members["start_period"].iloc[0])
        named = {event for event in set(members["source"]) | set(members["target"])
                 if isinstance(event, str) and event not in NOT_EVENTS}
        new = []
        for event in sorted(named):
            i = series.find("rate", event, None)
            if i is None or start < 1:
                continue
            x, n = series.x[i], series.n[i]
            before, since = _rate(x[:start], n[:start], "rate"), _rate(x[start:], n[start:], "rate")
            last = np.flatnonzero(n)[-2:]
            kept = _rate(x[last], n[last], "rate") >= LAUNCH_KEPT * since
            if (x[start:].sum() >= change_scan.Support().min_impact and before <= VANISHED * since and kept
                    and not _young_paths_only(log, event, int(periods.edges[start]))):
                new.append((int(x[start:].sum()), event))
        if new:
            out[int(story)] = max(new)[1]
    return out


YOUNG_QUANTILE = 0.1       # of an event's ages (time since its path began): how young a path doing it can be


def _young_paths_only(log: EventLog, event: str, since_ms: int) -> bool:
    """Whether an event first seen at ``since_ms`` may be absent before only because no path was old
    enough: its paths are at least ``YOUNG_QUANTILE``-quantile days old when they do it, and the log
    had run about that long (a week's slack) when it appeared. Renewals come a month after the first
    payment; a log starting in January has none until February.

    >>> log = EventLog.from_frame(__import__("pandas").DataFrame({"user": ["a", "a", "b", "b"], "event": ["pay", "renew"] * 2,
    ...     "time": [0, 30 * change_series.DAY_MS, 5 * change_series.DAY_MS, 35 * change_series.DAY_MS]}))
    >>> _young_paths_only(log, "renew", 30 * change_series.DAY_MS)
    True
    """
    starts = np.flatnonzero(log.path_starts())
    path_start = log.ts[starts][np.searchsorted(starts, np.arange(len(log)), side="right") - 1]
    rows = log.event == log.event_code(event)
    youngest = np.quantile(log.ts[rows] - path_start[rows], YOUNG_QUANTILE)
    return bool(int(log.ts.min()) + youngest >= since_ms - change_series.WEEK_MS)


def _one_story_per_launch(table: pd.DataFrame, launched: dict[int, str], new: dict[int, str]) -> pd.DataFrame:
    """Stories in which a launched event is new join the (first) story that launched it: the launch
    changed both the step to checkout and how often buyers message sellers."""
    launch_of: dict[str, int] = {}
    for story, event in sorted(launched.items()):
        launch_of.setdefault(event, story)
    merged = {story: launch_of[event] for story, event in new.items() if event in launch_of}
    if all(story == into for story, into in merged.items()):
        return table
    numbers = table["story"].map(lambda story: merged.get(int(story), int(story)))
    renumber = {story: rank + 1 for rank, story in enumerate(sorted(numbers.unique()))}
    table = table.assign(story=numbers.map(renumber))
    table = table.sort_values("story", kind="stable").reset_index(drop=True)
    table["hops"] = _hops_from_lead(table)
    table = table.sort_values(["story", "hops"], kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table.drop(columns=["hops"])


def _launches(stories: list[dict], changes: pd.DataFrame, launched: dict[int, str], daily: SeriesSet,
              periods: Periods, spec: Spec) -> None:
    """A story that launched an event (``launched_events``) says so first, in its headline and its
    text, with the launch day: the first day with at least ``LAUNCH_DAY_SHARE`` of the event's median
    daily count (a few test events before do not count). Set as ``launched``."""
    for story in stories:
        event = launched.get(story["rank"])
        if event is None:
            continue
        counts = daily.x[daily.find("rate", event, None)]
        usual = np.median(counts[counts > 0])
        day = _day(daily_edges(periods, daily)[int(np.argmax(counts >= LAUNCH_DAY_SHARE * usual))])
        story["launched"] = {"event": event, "day": day}
        lead = changes[changes["story"] == story["rank"]].iloc[0]
        story["headline"] = story_headline(story, lead, spec)
        story["text"] = (f"{event} is new: it was not recorded before {day}, so this looks like a launch. "
                         + story["text"])


def daily_edges(periods: Periods, daily: SeriesSet) -> np.ndarray:
    """The period edges of ``daily`` series: days for weekly periods (their series are daily)."""
    return periods.days().edges if periods.unit == "week" and daily is not None else periods.edges


def story_headline(story: dict, lead: pd.Series, spec: Spec, where: str = "") -> str:
    """A story's headline from its lead, with what the story found so far: where inside a step things
    broke (``at``), what explains the goal's outcome (``cause``), a launch (``launched``)."""
    return headline(lead, spec, where, story.get("at"), story.get("cause"), story.get("launched"))


def _cause(members: pd.DataFrame) -> dict | None:
    """For a story led by the goal's outcome, the first change after it that is not the goal's own
    rate (what explains it), as the headline names it; None for other stories."""
    if len(members) < 2 or not members["outcome"].iloc[0]:
        return None
    goal = members["source"].iloc[0]
    # The goal's own rate per event says the outcome again: not what explains it.
    others = members.iloc[1:][~(members["kind"].iloc[1:].isin(("rate", "share")) & members["source"].iloc[1:].eq(goal))]
    if not len(others):
        return None
    row = others.iloc[0]
    return {"kind": row["kind"], "label": row["label"], "source": row["source"], "target": row["target"],
            "before": float(row["before"]), "during": float(row["during"])}


def _pinpoint(log: EventLog, stories: list[dict], changes: pd.DataFrame, spec: Spec) -> None:
    """A story led by a funnel step that spans several events (install → KYC) says where in it things
    broke: the transition of the story that moved the same way with the most paths behind it (at
    least half the step's), among those whose first event mostly happens inside that step (after the
    path's A and before its B). Set as ``at`` and in the headline. A step that is itself a transition
    that changed (checkout → paid) is precise already."""
    for story in stories:
        members = changes[changes["story"] == story["rank"]]
        lead = members.iloc[0]
        transitions = members[members["kind"] == "transition"]
        direct = ((transitions["source"] == lead["source"]) & (transitions["target"] == lead["target"])).any()
        if lead["kind"] != "funnel" or direct:
            continue
        inside = [row for _, row in transitions.iterrows()
                  if np.sign(row["impact"]) == np.sign(lead["impact"])
                  and abs(row["impact"]) >= 0.5 * abs(lead["impact"]) and row["target"] not in NOT_EVENTS
                  and _mostly_inside(log, lead["source"], lead["target"], row["source"])]
        if inside:
            at = max(inside, key=lambda row: abs(row["impact"]))
            story["at"] = {"source": at["source"], "target": at["target"], "before": float(at["before"]),
                           "during": float(at["during"])}
            story["headline"] = story_headline(story, lead, spec)


INSIDE_SHARE = 0.5     # of an event's occurrences (in paths that reach A) between A and the B after it


def _mostly_inside(log: EventLog, a: str, b: str, x: str) -> bool:
    """Whether most occurrences of ``x`` in paths that did ``a`` fall after the path's first ``a`` and
    before the first ``b`` after it (or the path's end).

    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     {"user": ["u"] * 4 + ["v"] * 3, "event": ["a", "x", "b", "y", "y", "a", "x"], "time": range(7)}))
    >>> _mostly_inside(log, "a", "b", "x"), _mostly_inside(log, "a", "b", "y")
    (True, False)
    """
    names = {name: code for code, name in enumerate(log.event_names)}
    if not {a, b, x} <= set(names):
        return False
    from journey_explorer.analysis.arrays import first_time_of
    never = np.iinfo(np.int64).max
    first_a = first_time_of(log, names[a])
    is_b_after_a = (log.event == names[b]) & (log.ts > first_a[log.user])
    first_b = np.full(log.n_users, never, dtype=np.int64)
    np.minimum.at(first_b, log.user[is_b_after_a], log.ts[is_b_after_a])
    occurrences = np.flatnonzero((log.event == names[x]) & (first_a[log.user] != never))
    if not len(occurrences):
        return False
    when, user = log.ts[occurrences], log.user[occurrences]
    inside = (when >= first_a[user]) & (when <= first_b[user])
    return bool(inside.mean() >= INSIDE_SHARE)


def _tell_who(log: EventLog, stories: list[dict], changes: pd.DataFrame, spec: Spec,
              first_step: str | None = None, properties: dict | None = None) -> None:
    """Add to each story who its change hit (``who``), in its headline and text."""
    if not stories:
        return
    from journey_explorer.analysis.pathprops import path_properties
    properties = path_properties(log) if properties is None else properties
    for story in stories:
        who = change_who.story_who(log, story, properties, first_step)
        story["who"] = who
        index = change_who.countable_change(story, first_step)
        release = change_who.story_release(log, story, index) if index is not None else None
        story["release"] = release
        found = who["found"] if who else None
        if found is None and release is None:
            if who is not None:
                story["text"] += (f" No single {_listed(who['properties'])} stands out: the change was spread "
                                  f"across them.")
            continue
        _say_who(story, changes[changes["story"] == story["rank"]].iloc[0], spec, index, found, release)


def _say_who(story: dict, lead: pd.Series, spec: Spec, index: int, found: dict | None, release: dict | None) -> None:
    """Who change ``index`` of a story hit, in its headline ("…, mostly country = IN") and its text."""
    change = story["changes"][index]
    # The release names what to roll back; the first touch where it showed.
    where = f"{release['property']} = {release['value']}" if release else f"{found['property']} = {found['value']}"
    # The headline says where only for its own change (or the same two events counted per event).
    if index == 0 or (change["source"], change["target"]) == (lead["source"], lead["target"]):
        story["headline"] = story_headline(story, lead, spec, where)
    scale = 1000.0 if change["kind"] == "rate" else 1.0
    what = change["label"] + (" per 1k events" if change["kind"] == "rate" else "")
    if found is not None:
        levels = [_value(found[key] * scale, change["kind"]) for key in
                  ("before", "during", "others_before", "others_during")]
        story["text"] += (f" It was concentrated in {found['property']} = {found['value']}: there {what} went "
                          f"from {levels[0]} to {levels[1]}, against {levels[2]} to {levels[3]} for the others.")
    if release is not None:
        story["text"] += " " + _release_sentence(release, what, change["kind"], scale)


def _release_sentence(release: dict, what: str, kind: str, scale: float) -> str:
    """"It came with app_version = 7.3 (first seen 2025-05-12): 45% on its events, 87% on the others of
    the same weeks and 88% before." """
    first = _day(release["first_seen"])
    rate = _value(release["rate"] * scale, kind)
    before = _value(release["before_rate"] * scale, kind)
    others = ("" if release["others_rate"] is None
              else f", {_value(release['others_rate'] * scale, kind)} on the others of the same weeks")
    return (f"It came with {release['property']} = {release['value']} (first seen {first}): {what} was {rate} "
            f"on its events{others} and {before} before.")


def _listed(names: list[str]) -> str:
    """"a", "a or b", "a, b or c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _evidence(row: pd.Series, periods: Periods) -> dict:
    """The date ranges [since, until) before, during and after a change (after: None if it did not
    recover): what a view sets as its time filter, or compares as two periods."""
    return {"before": {"since": _day(periods.edges[0]), "until": row["start"]},
            "during": {"since": row["start"], "until": row["end"]},
            "after": {"since": row["end"], "until": _day(periods.edges[-1])} if row["recovered"] else None}


def _change_dict(row: pd.Series, series: SeriesSet, periods: Periods) -> dict:
    """One change with its whole series, so a chart can draw the line, the window [start_period,
    end_period) and the before/during levels."""
    out = {key: _plain(row[key]) for key in CHANGE_COLUMNS if key != "story"}
    out["evidence"] = _evidence(row, periods)
    i = int(row["series"])
    values = _values(series.kind[i], series.x[i], series.n[i])
    out["series"] = {"periods": periods.dates(), "value": [None if np.isnan(v) else round(float(v), 5) for v in values],
                     "count": series.x[i].tolist(), "trials": series.n[i].tolist()}
    return out


def _plain(value):
    """numpy scalars as Python values, NaN as None (JSON)."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and np.isnan(value) else value


def _last_day(end_ms) -> str:
    """The last day inside a window that ends (exclusive) at ``end_ms``."""
    return _day(int(end_ms) - 1)


def _moved(before: float, during: float) -> str:
    return "rose" if during > before else "fell"


def _value(value: float, kind: str, precise: bool = False) -> str:
    """48% for shares; "21 per 1k events" for rates (one decimal below 10); ``precise``: shares under
    10% with one decimal (the goal's outcome: 3.5% -> 6.8% is a doubling, "4% -> 7%" less so).

    >>> _value(0.4812, "funnel"), _value(21.3, "rate"), _value(0.0, "rate"), _value(4.25, "rate"), _value(3e-4, "share")
    ('48%', '21', '0', '4.2', 'under 0.1%')
    >>> _value(0.035, "share", precise=True), _value(0.12, "share", precise=True)
    ('3.5%', '12%')
    """
    if kind == "rate":
        return "0" if value == 0 else f"{value:.1f}" if value < 10 else f"{value:.0f}"
    if 0 < value < 0.0005:
        return "under 0.1%"
    if precise and value < 0.1:
        return f"{value:.1%}"
    from journey_explorer.analysis.narrative import pct
    return pct(value)


def _when(row: pd.Series) -> str:
    """ "From … to …" for a window that ended (measured after it), else "Since …"; "the week of …"
    when the window is known to the week only (a share of active paths, counted per week, that no
    change placed on days shares its weeks with)."""
    start = row["start"] if row.get("on_days", True) else f"the week of {row['start']}"
    if row["recovery"] in ("recovered", "not back"):
        return f"From {start} to {row['last_day']}"
    return f"Since {start}"


def change_clause(row: pd.Series, spec: Spec) -> str:
    """One change in words, without its dates.

    e.g. "payment_details → purchase per session fell from 48% to 22% (130 sessions; 34 fewer
    conversions than at the earlier rate)".
    """
    kind, moved, precise = row["kind"], _moved(row["before"], row["during"]), bool(row.get("outcome", False))
    levels = f"{moved} from {_value(row['before'], kind, precise)} to {_value(row['during'], kind, precise)}"
    paths = spec.paths
    count = int(abs(round(row["impact"])))
    fewer = "more" if row["impact"] > 0 else "fewer"
    if kind == "funnel":
        return (f"{row['source']} → {row['target']} per {paths} {levels} ({_plural(row['trials_during'], paths)} "
                f"reached {row['source']}; {count:,} {fewer} went on than at the earlier rate)")
    if kind == "transition":
        after = "the path ending" if row["target"] == change_series.END else row["target"]
        return (f"{row['source']} followed directly by {after} {levels} of {row['source']} events "
                f"({count:,} {fewer} of {row['trials_during']:,})")
    if kind == "share":
        return f"the share of active {paths}s doing {row['source']} {levels} ({count:,} {fewer} {paths}s)"
    if kind == "new":
        return f"the share of active {paths}s {_new_words(paths)} {levels}"
    return f"{row['source']} {levels} per 1k events"


def headline(row: pd.Series, spec: Spec, where: str = "", at: dict | None = None, cause: dict | None = None,
             launched: dict | None = None) -> str:
    """e.g. "payment → paid fell from 92% to 42%, mostly country = IN (from 2026-04-13 to 2026-05-03)";
    ``at``: the transition inside a funnel step where it broke ("…, mostly country = IN, where sms_sent →
    verified fell from 100% to 81% (…)"); ``cause``: for the goal's outcome, the change that explains
    it ("Users doing buy fell from 29% to 15%, as payment → error rose from 0% to 62% (…)"); ``launched``:
    an event new in the story ("make_offer launched on 2025-06-02: listing → checkout rose …"), whose
    own rise from 0% is then not restated as where the step moved."""
    kind = row["kind"]
    what = {"share": f"{spec.paths.capitalize()}s doing {row['source']}",
            "new": f"Active {spec.paths}s {_new_words(spec.paths)}"}.get(kind, row["label"])
    precise = bool(row.get("outcome", False))
    levels = (f"{_moved(row['before'], row['during'])} from {_value(row['before'], kind, precise)} to "
              f"{_value(row['during'], kind, precise)}")
    unit = " per 1k events" if kind == "rate" else ""
    inside = ""
    if at and not (launched and launched["event"] in (at["source"], at["target"])):
        inside = (f", where {at['source']} → {at['target']} {_moved(at['before'], at['during'])} from "
                  f"{_value(at['before'], 'transition')} to {_value(at['during'], 'transition')}")
    if cause:
        inside += f", as {_short_clause(cause, spec)}"
    mostly = f", mostly {where}" if where else ""
    new = f"{launched['event']} launched on {launched['day']}: " if launched else ""
    # Who before where: a slide title cut at two lines keeps "mostly country = IN".
    return f"{new}{what} {levels}{unit}{mostly}{inside} ({_when(row).lower()})"


def _short_clause(change, spec: Spec) -> str:
    """A change in a few words: "payment → error rose from 0% to 62%", "error rose from 1.2 to 8.0 per
    1k events", "users doing error rose from 1% to 9%"."""
    kind = change["kind"]
    what = f"{spec.paths}s doing {change['source']}" if kind == "share" else change["label"]
    unit = " per 1k events" if kind == "rate" else ""
    return (f"{what} {_moved(change['before'], change['during'])} from {_value(change['before'], kind)} to "
            f"{_value(change['during'], kind)}{unit}")


def story_text(members: pd.DataFrame, spec: Spec, new_step: bool = False) -> str:
    """The lead change, then the closest other conversion and the closest event rate of the same
    weeks (the drop and the error spike), each said once, and how it ended (``new_step``: a story
    of a new step, ``new_steps``, does not "recover"; nor does a change into a goal to avoid,
    ``Spec.unwanted``: fewer cancellations are not damage)."""
    lead = members.iloc[0]
    lasts = bool(lead.get("outcome", False)) or new_step or _from_nothing(lead) or (
        spec.unwanted and into_goal(lead, spec.goal))
    told = _told(members)
    text = f"{_when(lead)}, {'; '.join(change_clause(row, spec) for row in told)}."
    if lead["recovered"] and not np.isnan(lead["after"]):
        after, before = _value(lead["after"], lead["kind"]), _value(lead["before"], lead["kind"])
        beyond = abs(lead["after"] - lead["before"]) > RECOVERED_SHARE * abs(lead["during"] - lead["before"])
        text += f" Afterwards it was {after} ({before} before it)." if beyond else f" Afterwards it was {after} again."
    elif lead["recovery"] == "not back" and not np.isnan(lead["after"]):
        text += (f" Afterwards it was {_value(lead['after'], lead['kind'])}, not back to "
                 f"{_value(lead['before'], lead['kind'])}.")
    elif isinstance(lead["data_ends"], str):
        text += " " + _lasting_until(lead, spec)
    elif lead["recovery"] == "unknown":
        text += f" Too little data follows {lead['last_day']} to tell whether it {'lasted' if lasts else 'recovered'}."
    elif lasts:                            # a gain, a new path, a goal to avoid: no "recovery"
        text += " It lasted to the end of the data."
    else:
        text += " It had not recovered by the end of the data."
    others = len(members) - len(told)
    if others > 0:
        text += f" {others:,} more series moved in the same weeks."
    if lead["kind"] != "new" and (members["kind"] == "new").any():
        text += (f" The share of {spec.paths}s {_new_words(spec.paths)} moved in the same weeks, so this may follow "
                 f"{'which cases were' if spec.paths == 'case' else 'who was'} active rather than a change in what "
                 f"they did.")
    renamed = renamed_events(members)
    if renamed:
        old, new = renamed
        text += (f" {old} all but stopped and {new} appeared in the same weeks: this looks like an event renamed "
                 f"in the tracking plan rather than a change in behaviour.")
    return text[0].upper() + text[1:]


def _from_nothing(lead: pd.Series) -> bool:
    """A rise from (next to) nothing: a path taken only since the window began."""
    return bool(lead["during"] > lead["before"] and lead["before"] <= VANISHED * lead["during"])


def _lasting_until(lead: pd.Series, spec: Spec) -> str:
    """How a change whose series stops before the data does ended: it lasted as far as it can be
    measured. Conversions need time: paths (or events) too close to the end of the data to have gone
    on are not counted, so the series stops at ``data_ends`` although the log runs on."""
    counted = (f"{spec.paths}s reaching {lead['source']}" if lead["kind"] == "funnel"
               else f"{lead['source']} events")
    return (f"It lasted to {lead['data_ends']}, the last day measured ({counted} after it are too close to "
            f"the end of the data to tell whether they went on).")


def _new_words(paths: str) -> str:
    return {"session": "from new users", "case": "that were new"}.get(paths, "who were new")


def renamed_events(members: pd.DataFrame) -> tuple[str, str] | None:
    """(old, new) when one event's rate all but vanished (below ``VANISHED`` of its earlier rate) and
    another's appeared (its earlier rate below ``VANISHED`` of the new one) in the same weeks."""
    rates = members[members["kind"] == "rate"]
    gone = rates[rates["during"] <= VANISHED * rates["before"]]
    came = rates[rates["before"] <= VANISHED * rates["during"]]
    for old in gone.itertuples():
        for new in came.itertuples():           # a renamed event keeps its volume (within a factor of 2)
            if 0.5 <= new.during / old.before <= 2:
                return str(old.source), str(new.source)
    return None


def _told(members: pd.DataFrame) -> list[pd.Series]:
    """At most ``MENTIONED_PER_STORY`` changes: the lead, the first other conversion, the first
    event rate (or share), then the next ones in order; one per transition or event. A story led by
    the goal's outcome tells the change that explains it as part of its lead (one more in all)."""
    said, told = set(), []
    rows = [row for _, row in members.iterrows()]
    leads = 2 if rows[0].get("outcome", False) and len(rows) > 1 else 1
    most = MENTIONED_PER_STORY + leads - 1

    def tell(row) -> None:
        key = (row["source"], row["target"]) if row["kind"] in ("funnel", "transition") else (row["source"], None)
        if key not in said and len(told) < most:
            said.add(key)
            told.append(row)
    for row in rows[:leads]:
        tell(row)
    lead_events = {event for row in rows[:leads] for event in (row["source"], row["target"])}
    rows = rows[:1] + rows[leads:]
    conversions = [row for row in rows[1:] if row["kind"] in ("funnel", "transition")]
    # A rate of an event the lead does not name (the error spike), before a restatement of the lead.
    rates = sorted((row for row in rows[1:] if row["kind"] in ("rate", "share")),
                   key=lambda row: row["source"] in lead_events)
    for candidates in (conversions, rates):
        for row in candidates:
            before = len(told)
            tell(row)
            if len(told) > before:
                break
    for row in rows[1:]:
        tell(row)
    return sorted(told, key=lambda row: list(members.index).index(row.name))


def _plural(count: int, word: str) -> str:
    from journey_explorer.analysis.narrative import plural
    return plural(int(count), word)


# --- the report's finding --------------------------------------------------------------------------


def what_changed(log: EventLog, goal: str, unwanted: bool = False):
    """The report's "what changed" finding: the top story in words, or why there is none. ``unwanted``: the goal
    is an outcome to avoid, so its rise is told as bad news (``_for_better_or_worse``)."""
    from journey_explorer.analysis.narrative import Finding
    spec = Spec(goal=goal, unwanted=unwanted)
    result = run(log, spec)
    first, last = _day(result.periods.edges[0]), _last_day(result.periods.edges[-1])
    if result.scan is None:
        return Finding("", "Too little history to tell what changed", result.spec, result.note)
    if not result.stories:
        return Finding("", "No significant change over time", result.spec,
                       f"From {first} to {last}, {result.series_tested:,} series (funnel steps to {goal}, "
                       f"transitions, event rates) were checked {result.periods.unit} by {result.periods.unit}: "
                       f"none moved beyond its usual ups and downs."
                       + (" " + renames_sentence(result.renames) if result.renames else ""))
    real = [story for story in result.stories if not story.get("new_step")]
    if not real:                   # only new steps, none moving the goal: nothing to act on
        return Finding("", f"No significant change towards {goal}", result.spec,
                       f"From {first} to {last}, {result.series_tested:,} series were checked "
                       f"{result.periods.unit} by {result.periods.unit}: no step to {goal} moved. New "
                       f"step{'s' if len(result.stories) > 1 else ''} on the way: "
                       + " ".join(_also(story, goal) for story in result.stories[:3]))
    top = real[0]
    text = top["text"] + (_for_better_or_worse(top["changes"][0], result.spec.goal, result.spec.paths)
                          if unwanted else "")
    more = [story for story in result.stories if story is not top][:2]
    if more:
        text += " Also: " + " ".join(_also(story, goal) for story in more)   # event names keep their case
    if result.renames:
        text += " " + renames_sentence(result.renames)
    return Finding("changes", f"What changed: {top['headline']}", result.spec, text)


def _for_better_or_worse(change: dict, goal: str, path_noun: str) -> str:
    """For a goal to avoid (a cancellation), whether a change in it is good or bad news: " More users cancel: a
    change for the worse." when the share doing it, or a step straight into it, rose; "" for other changes.

    >>> _for_better_or_worse({"kind": "share", "source": "churned", "before": 0.05, "during": 0.08}, "churned", "user")
    ' More users churn: a change for the worse.'
    """
    from journey_explorer.analysis.goals import outcome_verb
    if not into_goal(change, goal) or change["before"] is None or change["during"] is None:
        return ""
    verb = outcome_verb(goal)
    if change["during"] > change["before"]:
        return f" More {path_noun}s {verb}: a change for the worse."
    return f" Fewer {path_noun}s {verb}: a change for the better."


def into_goal(change, goal: str | None) -> bool:
    """Whether a change (a row or its dict) is of doing the goal: the share of paths doing it, a step or
    a transition straight into it, the goal's outcome.

    >>> into_goal({"kind": "transition", "source": "settings", "target": "cancel"}, "cancel")
    True
    >>> into_goal({"kind": "rate", "source": "cancel", "target": None}, "cancel")
    False
    """
    if change.get("outcome", False):
        return True
    return (change["kind"] == "share" and change["source"] == goal
            or change.get("target") == goal and change.get("source") != goal)


def _also(story: dict, goal: str | None = None) -> str:
    """A further story in one sentence; a likely rename says so (it is a tracking change), a new step
    that the goal did not move with too."""
    if story.get("renamed"):
        old, new = story["renamed"]
        return f"{story['headline']}: likely {old} renamed {new} in the tracking plan."
    if story.get("new_step"):
        return f"{story['headline']}: {story['new_step']['event']} is a new step; no step to {goal} moved with it."
    return f"{story['headline']}."


# --- command line ------------------------------------------------------------------------------------
