"""Early-behaviour drivers: which early behaviours go with reaching the goal (Amplitude Compass style).

"Users who do X at least k times in their first D days reach the goal at A % vs B % of the others."

For every event X (not the goal, not a step of the route to the goal: see ``compare.route_to_goal``),
every k in ``Spec.min_counts`` and every D in ``Spec.windows_days``:

- the users counted are those observed for at least D days (first event at least D days before the
  end of the data), so every one of them had the full window;
- X is counted in [first event, first event + D) and only *before* the user's first goal, so what
  happens after the goal never explains it;
- an X that only happens after a route step (a coupon, in the cart: ``compare.route_stages``) is
  compared among the users who reached that step in the same window (``reached``): otherwise using
  a coupon would "predict" buying only because the cart does;
- counting only before the goal favours the quick: a buyer who buys in the first hour has no time left
  to browse, so anything users do *after* reaching the goal (docs, exports, a second visit) would read
  "does X, reaches the goal less". A behaviour that goes with reaching it *less* is therefore kept only
  when it still does so counted at any time in the window, the goal's own users included (one-sided
  test, ``after_goal_p`` below ``Spec.alpha``): compare's after-the-goal check, per cell;
- the cohort (did X >= k times) and the rest are compared on "reached the goal, ever": rates A and B,
  lift A / B, the cohort's share of users, the phi coefficient, and a two-sided p-value (Fisher's exact
  test for small expected counts, else chi-square), with Benjamini-Hochberg control over *all*
  (X, k, D) tried, so searching the grid does not manufacture findings.

A cell is reported only with at least ``Spec.min_users`` users in the cohort and in the rest. Per X
the best (k, D) among the significant cells is kept (largest phi: it balances lift and reach, as
Compass does); rows are sorted with positive drivers first, by phi.

``who``: the same statistics for who the users are: each value of each categorical property (first
touch, see ``pathprops``; properties that merely restate the outcome left out), its users against the
users with another value, with its own FDR control; counted over the users observed for as long as
most successful users took to the goal, reached within that time (``pathprops.observed_reach``), so a
value of late arrivals (a new app version) is not blamed for a shorter look.

Users the goal is not open to (``pathprops.never_reaching``: invited members, when only an account's
owner can upgrade) are counted nowhere, and ``left_out`` says so.

Per-user paths: a "session" log has no first days to speak of.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.common import subset
from journey_explorer.analysis.compare import _test, benjamini_hochberg, route_stages, route_to_goal
from journey_explorer.analysis.pathprops import (
    first_seen_and_goal,
    never_reaching,
    observed_reach,
    path_properties,
    without_outcomes,
)
from journey_explorer.analysis.pvalues import fisher_less
from journey_explorer.analysis.units import path_words, plural, short_percent, who_or_that
from journey_explorer.domain import MissingGoal
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

NEEDS_USER_PROPERTIES = True     # "who" / "where": property values per path
DAY_MS = 86_400_000
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Spec:
    goal: str | None = None
    windows_days: tuple[float, ...] = (1, 3, 7, 14)
    min_counts: tuple[int, ...] = (1, 2, 3, 5)
    min_users: int = 30
    alpha: float = 0.05
    top: int = 10
    unwanted: bool = False     # the goal is an outcome to avoid: sentences say "cancel at", not "reach ... at"

    def reaching(self) -> str:
        """What reaching the goal is in a sentence: "reach purchase", or for an unwanted goal "cancel"."""
        from journey_explorer.analysis.goals import outcome_verb
        return outcome_verb(self.goal or "") if self.unwanted else f"reach {self.goal}"


@dataclass
class Result:
    spec: Spec
    users: int
    route: list[str]
    cells: pd.DataFrame       # every (event, k, D) tried, with its statistics
    table: pd.DataFrame       # the best significant cell per event, best first
    who: pd.DataFrame | None = None     # property values against the rest, significant ones first
    left_out: str = ""                  # users who cannot reach the goal, in words (``pathprops.never_reaching``)

    @property
    def drivers(self) -> pd.DataFrame:
        """Behaviours that go with reaching the goal more often (lift > 1)."""
        return self.table[self.table["lift"] > 1]

    def to_json_dict(self) -> dict:
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {"goal": self.spec.goal, "users": self.users, "route_left_out": self.route,
                "tests": len(self.cells), "drivers": records(self.table), "left_out": self.left_out,
                "who": records(self.who) if self.who is not None else []}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    import pandas as pd
    if not spec.goal:
        raise MissingGoal("drivers")
    goal = log.event_code(spec.goal)
    route_frame = route_to_goal(log, goal)
    route = route_frame["event"].tolist()
    route_repeats = set(route_frame.attrs.get("just_before", []))
    excluded = {goal} | {log.event_code(name) for name in route}
    first_seen, first_goal = first_seen_and_goal(log, goal)     # NEVER where none
    reached = first_goal != NEVER
    # Users for whom the goal is not open (invited members, when only owners upgrade) are no failing users.
    left_out, left_out_text = never_reaching(log, spec.goal)
    counted = ~left_out
    candidates = [name for code, name in enumerate(log.event_names) if code not in excluded]
    stages = {log.event_code(event): log.event_code(step)
              for event, step in route_stages(log, route, candidates).items()}
    cells, any_time = [], []
    never = np.full(log.n_users, NEVER, dtype=np.int64)
    for days in spec.windows_days:
        cells.append(_window_cells(log, days, spec.min_counts, first_seen, first_goal, reached, excluded, stages,
                                   counted))
        # The same cells counted whether or not the goal came first: the after-the-goal check below.
        any_time.append(_window_cells(log, days, spec.min_counts, first_seen, never, reached, excluded, stages,
                                      counted))
        if progress:
            progress(len(cells) / len(spec.windows_days))
    frame = _without_route_repeats(pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(), route_repeats)
    frame = _finish(frame, log, spec)
    any_time_frame = pd.concat(any_time, ignore_index=True) if any_time else None
    frame = _after_goal_check(frame, _without_route_repeats(any_time_frame, route_repeats))
    users = int(((first_seen != NEVER) & counted).sum())
    frame = _visit_check(frame, log, first_seen, first_goal, reached, spec, counted)
    table = _best(frame, spec, log.path_noun)
    # Who: every user counted had the same time to convert (see ``observed_reach``); a property restating
    # the goal reached at any time (a paid plan, however late) is still the outcome.
    observed, reached_in_time = observed_reach(log, first_seen, first_goal)
    who = who_differs(log, reached_in_time, spec, among=observed & counted, goal_reached=reached)
    return Result(spec=spec, users=users, route=route, cells=frame, table=table, who=who, left_out=left_out_text)


def who_differs(log: EventLog, reached: np.ndarray, spec: Spec, among: np.ndarray | None = None,
                goal_reached: np.ndarray | None = None) -> pd.DataFrame:
    """Per property value: its users' goal rate against the rest's, lift, share, phi, p and q (only
    over the users ``among`` marks, when given: e.g. those who reached a funnel step). A property that
    restates ``reached`` (or ``goal_reached``, over all users: a plan of "Trial" until one pays) is left out.
    "The rest" are the paths with another value of the property: paths without one are not counted (a
    failure ``reason`` only failed levels carry: against paths with none, a reason would read "failed a
    level", not who the users are)."""
    import pandas as pd
    everyone = np.unique(log.user)
    paths = everyone[among[everyone]] if among is not None else everyone
    properties = without_outcomes(path_properties(log), reached, paths)
    if goal_reached is not None:
        properties = without_outcomes(properties, goal_reached, everyone)
    rows = []
    for name, values in properties.items():
        held = values[paths]
        carried = np.array([v is not None for v in held], dtype=bool)
        for value in pd.unique(held):
            if value is None:
                continue
            mine = held == value
            rest = carried & ~mine
            rows.append((name, value, int(mine.sum()), int((mine & reached[paths]).sum()),
                         int(rest.sum()), int((rest & reached[paths]).sum())))
    frame = pd.DataFrame(rows, columns=["property", "value", "cohort", "cohort_reached", "rest", "rest_reached"])
    frame = _finish(frame, log, spec)
    frame["significant"] = frame["q_value"] < spec.alpha
    paths = path_words(log)
    frame["sentence"] = [f"{paths.capitalize()} with {r.property} = {r.value} {spec.reaching()} at "
                         f"{short_percent(r.rate_a)} vs {short_percent(r.rate_b)} of the others "
                         f"({r.lift:.1f}x; {short_percent(r.share)} of {paths})"
                         for r in frame.itertuples()]
    return frame.sort_values(["significant", "phi"], ascending=False, ignore_index=True)


def _without_route_repeats(frame: pd.DataFrame | None, steps: set[str]) -> pd.DataFrame | None:
    """The cells without "did X at least k >= 2 times" for a step taken just before the goal: the
    second pricing page is the one on the way to pay (see ``compare.route_to_goal``)."""
    if frame is None or frame.empty or not steps:
        return frame
    return frame[~(frame["event"].isin(steps) & (frame["k"] >= 2))].reset_index(drop=True)


def _window_cells(log, days, min_counts, first_seen, first_goal, reached, excluded, stages=None,
                  counted=None) -> pd.DataFrame:
    """Counts for every (event, k) with window D: cohort size and reached, rest size and reached.
    ``stages``: event code -> the route step it only happens after; such an event's cohort and rest are
    the users who reached that step in the window. ``counted``: the users counted at all (default all)."""
    import pandas as pd
    size = len(log.event_names)
    window = int(days * DAY_MS)
    end = int(log.ts.max()) if len(log) else 0
    eligible = (first_seen != NEVER) & (first_seen <= end - window)
    if counted is not None:
        eligible &= counted
    limit = np.minimum(first_seen + window, first_goal)
    early = (log.ts < limit[log.user]) & eligible[log.user]
    pairs, counts = np.unique(log.user[early].astype(np.int64) * size + log.event[early], return_counts=True)
    users, codes = pairs // size, pairs % size
    stages = stages or {}
    at_stage = _reached_in_window(log, set(stages.values()), early, eligible)
    population_size = {step: (int(users_there.sum()), int((users_there & reached).sum()))
                       for step, users_there in at_stage.items()}
    n_eligible, reached_eligible = int(eligible.sum()), int((eligible & reached).sum())
    rows = []
    for k in min_counts:
        did = counts >= k
        cohort = np.bincount(codes[did], minlength=size)
        cohort_reached = np.bincount(codes[did & reached[users]], minlength=size)
        for code in np.flatnonzero(cohort):
            if code in excluded:
                continue
            stage = stages.get(int(code))
            if stage is None:
                rows.append((log.event_names[code], k, days, int(cohort[code]), int(cohort_reached[code]),
                             n_eligible - int(cohort[code]), reached_eligible - int(cohort_reached[code]), None))
                continue
            # Only at the stage: the cohort and the rest among the users who reached it in the window.
            mine = did & (codes == code) & at_stage[stage][users]
            n, n_reached = int(mine.sum()), int((mine & reached[users]).sum())
            if n:
                there, there_reached = population_size[stage]
                rows.append((log.event_names[code], k, days, n, n_reached, there - n, there_reached - n_reached,
                             log.event_names[stage]))
    return pd.DataFrame(rows, columns=["event", "k", "days", "cohort", "cohort_reached", "rest", "rest_reached",
                                       "reached"])


def _visit_check(frame: pd.DataFrame, log: EventLog, first_seen: np.ndarray, first_goal: np.ndarray,
                 reached: np.ndarray, spec: Spec, counted: np.ndarray | None = None) -> pd.DataFrame:
    """Users who do not reach the goal soon keep visiting, so anything done now and then on a visit
    piles up in their first days ("opens the FAQ twice"). A cell that goes with reaching the goal less
    passes (``visit_ok``) only when the visits of those who never reach it include the event more often
    too, ``compare.VISIT_MIN_RATIO`` times as often, also weighted by visit number like the others' visits (in
    the cell's window, before the goal; at a stage, the visits of users who reached it):
    compare's check (``compare._not_only_more_visits``) on the drivers' own population. Judged per
    cell before the best cell of an event is chosen, so a failing negative cell never hides the same
    event's positive one. The visit that reaches the goal is not counted (``compare.goal_visit_rows``),
    unless no other is left: it went down the route by definition, so anything done on browsing visits
    would look rarer there."""
    from journey_explorer.analysis.compare import (
        VISIT_ALPHA,
        _materially_more,
        _p_more,
        _share_at_their_visits,
        _visits_by_order,
        goal_visit_rows,
    )
    shares_r, shares_n = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
    matched_n = np.full(len(frame), np.nan)
    ok = np.ones(len(frame), dtype=bool)
    if frame.empty:
        return frame.assign(visit_share_reached=shares_r, visit_share_not=shares_n, visit_share_not_matched=matched_n,
                            visit_ok=ok)
    candidates = np.flatnonzero(((frame["lift"] < 1) & (frame["q_value"] < spec.alpha)
                                 & ~(frame["after_goal_p"] >= spec.alpha)).to_numpy())
    windows: dict[float, tuple] = {}
    end = int(log.ts.max())
    browsing = ~goal_visit_rows(log, log.event_code(spec.goal)) if len(candidates) else None
    for i in candidates:
        row = frame.iloc[i]
        if row["days"] not in windows:     # the window's rows once per D, not per cell
            window = int(row["days"] * DAY_MS)
            eligible = (first_seen != NEVER) & (first_seen <= end - window)
            if counted is not None:
                eligible &= counted
            early = (log.ts < np.minimum(first_seen + window, first_goal)[log.user]) & eligible[log.user]
            windows[row["days"]] = (eligible, early, subset(log, early), subset(log, early & browsing))
        eligible, early, in_window, browsed = windows[row["days"]]      # user codes kept: user masks apply
        population = eligible
        if isinstance(row.get("reached"), str):
            population = population & _users_with(log, early & (log.event == log.event_code(row["reached"])))
        code = log.event_code(row["event"])
        with_r, visits_r = _visits_by_order(browsed, code, population & reached)
        if not visits_r.sum():        # every one of them reached it on their first visit: count that visit then
            with_r, visits_r = _visits_by_order(in_window, code, population & reached)
        with_n, visits_n = _visits_by_order(in_window, code, population & ~reached)
        matched_n[i] = round(_share_at_their_visits(with_n, visits_n, visits_r), 4)
        (with_r, visits_r), (with_n, visits_n) = ((int(part.sum()) for part in pair)
                                                  for pair in ((with_r, visits_r), (with_n, visits_n)))
        shares_r[i], shares_n[i] = round(with_r / max(visits_r, 1), 4), round(with_n / max(visits_n, 1), 4)
        # compare's rule: more often per visit, materially, also at the same visit numbers (a login on return)
        material = _materially_more(min(shares_n[i], matched_n[i]), shares_r[i])
        ok[i] = bool(visits_r and visits_n and material and _p_more(with_n, visits_n, with_r, visits_r) < VISIT_ALPHA)
    return frame.assign(visit_share_reached=shares_r, visit_share_not=shares_n, visit_share_not_matched=matched_n,
                        visit_ok=ok)


def _users_with(log: EventLog, rows: np.ndarray) -> np.ndarray:
    users = np.zeros(log.n_users, dtype=bool)
    users[log.user[rows]] = True
    return users


def _after_goal_check(frame: pd.DataFrame, any_time: pd.DataFrame | None) -> pd.DataFrame:
    """``after_goal_p``: for a cell whose cohort reaches the goal less often, the one-sided p-value that
    it still does when X is counted at any time in the window (after the goal too); NaN for the others.

    >>> import pandas as pd
    >>> before = pd.DataFrame({"event": ["docs"], "k": [1], "days": [7], "lift": [0.0]})
    >>> later = pd.DataFrame({"event": ["docs"], "k": [1], "days": [7], "cohort": [60], "cohort_reached": [30],
    ...                       "rest": [140], "rest_reached": [40]})
    >>> float(_after_goal_check(before, later)["after_goal_p"][0]) > 0.5    # docs readers buy more, after all
    True
    """
    if frame.empty or any_time is None or any_time.empty:
        return frame.assign(after_goal_p=np.nan)
    keys = ["event", "k", "days"]
    counts = any_time[keys + ["cohort", "cohort_reached", "rest", "rest_reached"]]
    joined = frame[keys].merge(counts, on=keys, how="left", validate="one_to_one").fillna(0)
    x, n, y, m = (joined[name].to_numpy(np.int64) for name in ("cohort_reached", "cohort", "rest_reached", "rest"))
    p = np.full(len(frame), np.nan)
    for i in np.flatnonzero((frame["lift"] < 1).to_numpy()):
        p[i] = _p_reaches_less(x[i], n[i], y[i], m[i]) if n[i] and m[i] else 1.0
    return frame.assign(after_goal_p=p)


def _p_reaches_less(x: int, n: int, y: int, m: int) -> float:
    """One-sided p-value that x of n reach the goal less often than y of m (Fisher's exact test).

    >>> round(_p_reaches_less(0, 20, 10, 20), 5)
    0.00022
    >>> _p_reaches_less(10, 20, 5, 20) > 0.9
    True
    """
    return fisher_less(x, n, y, m)


def _reached_in_window(log: EventLog, steps: set[int], early: np.ndarray, eligible: np.ndarray) -> dict:
    """Per route step: which users (eligible for the window) did it in their window."""
    out = {}
    for step in steps:
        hit = early & (log.event == step)
        users = np.zeros(log.n_users, dtype=bool)
        users[log.user[hit]] = True
        out[step] = users & eligible
    return out


def _finish(frame: pd.DataFrame, log: EventLog, spec: Spec) -> pd.DataFrame:
    """Rates, lift, share, phi, p and q for every cell with enough users on both sides."""
    if frame.empty:
        return frame.assign(rate_a=[], rate_b=[], lift=[], share=[], phi=[], p_value=[], q_value=[])
    frame = frame[(frame["cohort"] >= spec.min_users) & (frame["rest"] >= spec.min_users)].reset_index(drop=True)
    a, n_a = frame["cohort_reached"].to_numpy(float), frame["cohort"].to_numpy(float)
    b, n_b = frame["rest_reached"].to_numpy(float), frame["rest"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["rate_a"] = np.round(a / n_a, 4)
        frame["rate_b"] = np.round(b / n_b, 4)
        frame["lift"] = np.round(np.where(b > 0, (a / n_a) / (b / n_b), np.inf), 3)
        frame["share"] = np.round(n_a / (n_a + n_b), 4)
        frame["phi"] = np.round(phi(a, n_a - a, b, n_b - b), 4)
    frame["p_value"] = [two_sided_p(int(x), int(n), int(y), int(m)) for x, n, y, m in zip(a, n_a, b, n_b)]
    frame["q_value"] = benjamini_hochberg(frame["p_value"].to_numpy(float))
    return frame


def two_sided_p(x: int, n: int, y: int, m: int) -> float:
    """p-value that x of n and y of m differ: compare's test (Fisher exact for small expected counts,
    else chi-square with continuity correction).

    >>> round(two_sided_p(2, 2, 1, 3), 3)
    0.4
    """
    return float(_test(np.array([x]), n, np.array([y]), m)[1][0])


def phi(a, b, c, d):
    """The phi coefficient of the 2x2 table [[a, b], [c, d]] (cohort reached / not; rest reached / not).

    >>> round(float(phi(30, 10, 10, 30)), 3)
    0.5
    """
    a, b, c, d = (np.asarray(x, dtype=float) for x in (a, b, c, d))
    denominator = np.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    return np.where(denominator > 0, (a * d - b * c) / np.where(denominator > 0, denominator, 1), 0.0)


def _best(frame: pd.DataFrame, spec: Spec, noun: str = "user") -> pd.DataFrame:
    """Per event the significant cell with the largest |phi|; positive drivers first."""
    if frame.empty:
        return frame.assign(sentence=[])
    significant = frame[(frame["q_value"] < spec.alpha) & ~(frame["after_goal_p"] >= spec.alpha)
                        & frame.get("visit_ok", True)]
    best = significant.loc[significant.groupby("event")["phi"].apply(lambda s: s.abs().idxmax())] \
        if len(significant) else significant
    best = best.sort_values("phi", ascending=False).reset_index(drop=True)
    best = best.assign(sentence=[sentence(row, spec.goal, noun, spec.reaching()) for row in best.itertuples()])
    return best.head(spec.top) if spec.top else best


def sentence(row, goal: str, noun: str = "user", reaching: str | None = None) -> str:
    """One driver in words, e.g. "Users who do X at least 2 times in their first 3 days reach Y at 41 %
    vs 12 % of the others (3.4x; 18 % of users)"; ``noun``: what a path is (``EventLog.path_noun``);
    ``reaching``: the words for reaching the goal (``Spec.reaching``: "cancel" for an unwanted goal)."""
    times = "at least once" if row.k == 1 else f"at least {row.k} times"
    days = "day" if row.days == 1 else f"{row.days:g} days"
    lift = f"{row.lift:.1f}x" if np.isfinite(row.lift) else "none of the others do"
    step = getattr(row, "reached", None)
    paths, that = plural(noun), who_or_that(noun)
    others = f"the others {that} reached {step} then" if isinstance(step, str) else "the others"
    users = f"{paths} {that} reached {step}" if isinstance(step, str) else paths
    reaching = reaching or f"reach {goal}"
    return (f"{paths.capitalize()} {that} do {row.event} {times} in their first {days} {reaching} "
            f"at {short_percent(row.rate_a)} vs {short_percent(row.rate_b)} of {others} "
            f"({lift}; {short_percent(row.share)} of {users}, {row.cohort:,} of {row.cohort + row.rest:,})")

