"""Stuck points: where failing paths do worse than successful ones — and how successful users got past.

A page everyone leaves or loops on is not a stuck point; a stuck point is where *failing* paths
(those that never reach the goal) behave worse than successful paths at the same event. Per event
type (the goal itself left out), three parts, each a one-sided test:

- **exit**: the share of failing paths that reach the event and leave from it (a visit of theirs
  ends there), against (a) the same share of successful paths, (b) the same share of successful
  paths counting only their visits that did not go on to the goal from it, and (c) the share expected if
  every visit had ended at a random one of its steps (the base rate: a visit made mostly of
  ``product_view`` ends on one). It counts only when it beats all three (the largest p-value of the
  one-sided tests: Fisher's exact test, and a normal approximation to the Poisson-binomial).
  Reference (b) is the like-for-like one: a visit that goes on to the goal cannot end at a step
  before it, so against (a) alone the last steps before the goal (checkout, the offer page) always
  look like stuck points — failing paths never convert, by definition. (b) asks instead "on a visit
  that does not convert after this step, do failing paths end here more than successful ones do?"
  (used when enough successful paths have such a visit). A step where *every* non-converting visit
  ends — failing or successful — is then the funnel's drop-off, not a place where failing paths do
  worse; its loops and waits still count.
- **loop**: the share of failing paths that repeat the event (A A) or bounce back to it (A B A)
  within a visit, against successful paths (Fisher's exact test).
- **dwell**: how long a path waits after the event before its next step in the same session (per
  path, the median wait), failing against successful (Mann-Whitney U). Its size is
  P(a failing path waits longer than a successful one) - 1/2.
- **wait**: the same for the wait *before* the event, since the path's previous event, in a process's
  cases (``_paths_are_cases``): a process log stamps a step when it is done, so the time a claim
  waited for its adjuster shows before "Assess Damage". Judged where most paths reaching the step
  have such a wait (``MIN_WAIT_SHARE``), successful paths' waits counted before their goal only.
- **repeat**: how many times a path does the event in a visit before its goal (per path, the mean over
  its visits; against how often the visit does its other steps), failing against successful
  (Mann-Whitney U; size P(a failing path does it more often) - 1/2). A retry that goes round through
  more than one other step (submit, error, form, submit) is no A B A loop; coming back another day is
  no retry. Not per session (a paying user's later sessions, their habits, would be failing ones). It
  counts where the loop part does not (one story, told once) and where failing paths' mean
  count is ``MIN_RATIO`` times successful paths' beyond the log's typical ratio (``typical_repeat_ratio``):
  failing visitors who browse longer see every page more often.
- **stop** (a dead end, ``dead_ends``): the share of failing paths reaching the event whose whole
  history ends there (their last visit ends at it: no later visit, never the goal), against the
  chance that a visit at the same point of a path (its 1st, 2nd, ... visit) is the path's last,
  counted at the other events. Waiting for a seller's reply ends everyone's visit, failing or not,
  so the exit part is blind to it; those who never get one never come back. It counts when
  significant, ``STOP_RATIO`` times its reference and ``MIN_EXCESS`` above it, at an event some
  failing paths do come back from (``min_paths`` of its visits are followed by another: else it
  is where a path closes, Cancel Order or Closed) and enough successful paths reach. Paths seen too
  close to the log's end are left out; not per session, and not where the median visit is under
  ``MIN_EVENTS_PER_VISIT`` events (a process log cut into a visit per activity). Inside a step
  sequence (lessons, levels) the stop part compares the sequence's steps instead (``stops_for_good``).

Both exit and loop must also hold per *visit* (``_visit_check``, significant and ``MIN_RATIO`` times
successful users' visits): a failing user who keeps coming back to browse ends and bounces on the
browsing pages on more of their paths only by visiting more. An exit must also stand out from how much
sooner failing visits end at any page of the log (``typical_exit_ratio``): low-intent visitors leave
every browsing page a little more often, a wishlist page included.

Per session, a paying user's later visits count as failing sessions; their habits there are not being
stuck, so successful *users* (all their sessions together: did any leave from / loop on the event)
are a second reference for exits and loops, as in the per-user view (each part must beat both).

For the top stuck points, ``unstuck`` says what successful users did right after their last visit
before the goal and the route they took from there to the goal, against failing users, and where
(the property value, first touch, worse by at least ``MIN_EXCESS`` points) and since when (first
against last third of the time range) it is worse; and who or what handled the step itself (a
property its own events carry: the adjuster, the meter type), on the main part, the wait for the
step and the share never reaching the goal (``where_and_when``).

Each part's size is "how many share points worse", kept only if its Benjamini-Hochberg q-value
(over all events and parts) is below ``Spec.alpha``, it is material (``MIN_EXCESS`` points and
``MIN_RATIO`` times its reference), at least ``Spec.min_paths`` failing paths and
``Spec.min_reference`` successful paths reach the event (without successful paths there, there is
nothing to be worse than). ``worse_by`` is the sum of the kept parts; the rank score is
``worse_by * sqrt(failing paths)``, so the size of the difference leads and volume is damped (a
browsing page with a small excess over millions of paths does not outrank a real stuck point).
``explanation`` says each part in words.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from journey_explorer.analysis import units
from journey_explorer.analysis.arrays import (
    Groups,
    distinct,
    distinct_count,
    distinct_with_inverse,
    path_bounds,
    running_count,
    users_with_event,
)
from journey_explorer.analysis.columns import Columns
from journey_explorer.analysis.common import median_path_duration_ms, one_visit_per_path, session_owners, subset
from journey_explorer.analysis.goals import never, outcome_verb
from journey_explorer.analysis.pathprops import never_reaching, path_properties, without_outcomes
from journey_explorer.analysis.pvalues import fisher_greater, fisher_two_sided_p, mann_whitney_greater, normal_sf
from journey_explorer.analysis.units import path_words
from journey_explorer.domain import JourneyError, MissingGoal
from journey_explorer.eventlog import EventLog
from journey_explorer.progress import report
from journey_explorer.store.event_detail import OTHER as OTHER_VALUES

_pct = units.short_percent   # "18%", "0.4%"

if TYPE_CHECKING:
    import pandas as pd

RANK_EXPLANATION = ("Ranked by how much worse failing paths do at an event than successful ones: the share "
                    "that end a visit there (beyond successful paths, also on their visits that did not go on "
                    "to the goal, and the share expected had they left at random steps), that loop there (or do it "
                    "more often in a visit than paths typically repeat a step), "
                    "that wait longer there or before it, and that stop there for good (beyond how often paths stop after "
                    "a visit at the same point of their path), each counted only when significant (one-sided tests, "
                    "Benjamini-Hochberg q < 0.05), big enough to matter and reached by enough paths; the "
                    "difference is weighted by the square root of the failing paths, so size of the difference "
                    "leads and volume is damped.")
NEEDS_USER_PROPERTIES = True     # "who" / "where": property values per path
MIN_EXCESS = 0.05        # share points a part must exceed its reference by...
MIN_RATIO = 1.25         # ...and the ratio to it
MIN_DWELL_EXCESS = 0.1   # failing paths wait longer than successful in >= 60 % of pairs
IMPORTS_AHEAD = ("pandas",)     # the command line imports it meanwhile: only the table needs it (cli.one_process)
TESTED_PARTS = ("exit", "loop", "dwell", "wait", "repeat")  # the parts tested per event ("wait": before it)
MIN_WAIT_SHARE = 0.5     # the wait before a step is judged where this share of the paths reaching it has one
MAX_INSIDE_STEPS = 2      # events looked into by the property that carries their step (see _with_inside_steps)
INSIDE_MIN_SHARE = 0.05  # ...among events making at least this share of the log
STOP_RATIO = 2.0         # a step where paths stop for good this many times as often as at the sequence's others
SEQUENCE_ORDER = 0.8     # a property is a sequence when this share of its step changes keep one direction
SAME_STOPS = 0.8         # a stop whose paths are this share of a better one's is the same wall
CASE_DURATION_MS = 86_400_000   # one-visit paths lasting a day or more (median) are a process's cases
MIN_EVENTS_PER_VISIT = 3  # dead ends are judged where the median visit holds this many events
DEAD_END_STRATA = 10     # a dead end's reference: the chance of stopping after the 1st, 2nd, ... 10th+ visit
LEFT = "(left)"           # "what they did next" when the path ended there


@dataclass(frozen=True)
class Spec:
    goal: str | None = None
    top: int = 5              # stuck points that get an "unstuck" comparison
    next_events: int = 5
    min_paths: int = 20       # failing paths that must reach an event before it can be a stuck point
    min_reference: int = 10   # successful paths that must reach it to compare with
    alpha: float = 0.05
    unit: str | None = None   # the word for a path in sentences ("users", "sessions", "cases"); None: the log's
    unwanted: bool = False    # the goal is an outcome to avoid (``unwanted_groups``): who does it is the failing group


@dataclass
class Result:
    spec: Spec
    paths: int
    successful: int
    baseline_exit_rate: float
    table: pd.DataFrame
    unstuck: list[dict]
    left_out: str = ""        # users who cannot reach the goal, in words (``pathprops.never_reaching``)

    @property
    def stuck(self) -> pd.DataFrame:
        """The rows that pass the thresholds (score > 0), best first."""
        return self.table[self.table["score"] > 0] if len(self.table) else self.table

    def to_json_dict(self) -> dict:
        return {"goal": self.spec.goal, "paths": self.paths, "successful": self.successful,
                "baseline_exit_rate": round(self.baseline_exit_rate, 4), "rank_explanation": RANK_EXPLANATION,
                "events": _records(self.table), "unstuck": self.unstuck, "left_out": self.left_out}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


# --- the statistics, each testable on its own ---------------------------------------------------------


def poisson_binomial_greater(observed: int, probabilities: np.ndarray) -> float:
    """One-sided p-value that a sum of independent Bernoulli(p_i) is at least ``observed`` (normal
    approximation with continuity correction; exact enough for the supports we require).

    >>> round(poisson_binomial_greater(30, np.full(100, 0.2)), 4)     # mean 20, sd 4: z = 2.375
    0.0088
    """
    mean = float(probabilities.sum())
    var = float((probabilities * (1 - probabilities)).sum())
    if var <= 0:
        return 0.0 if observed > mean else 1.0
    return normal_sf(float((observed - 0.5 - mean) / np.sqrt(var)))


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """q-values (monotone, capped at 1); NaN p-values stay NaN and do not count as tests.

    >>> benjamini_hochberg(np.array([0.01, np.nan, 0.04, 0.03])).round(3).tolist()
    [0.03, nan, 0.04, 0.04]
    """
    pvalues = np.asarray(pvalues, dtype=float)
    out = np.full(len(pvalues), np.nan)
    tested = np.flatnonzero(~np.isnan(pvalues))
    if not len(tested):
        return out
    p = pvalues[tested]
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out[tested[order]] = np.minimum(q, 1.0)
    return out


def loop_rows(log: EventLog) -> np.ndarray:
    """Boolean mask: the rows whose event the visit repeats next (A A) or bounces back to (A B A)."""
    rows = np.zeros(len(log), dtype=bool)
    same1 = (log.user[1:] == log.user[:-1]) & (log.session[1:] == log.session[:-1])
    rows[:-1] = same1 & (log.event[1:] == log.event[:-1])
    if len(log) > 2:
        same2 = same1[1:] & same1[:-1]
        rows[:-2] |= same2 & (log.event[2:] == log.event[:-2]) & (log.event[1:-1] != log.event[:-2])
    return rows


def loop_via(log: EventLog, code: int, among: np.ndarray, looped: np.ndarray | None = None) -> str:
    """How the paths of ``among`` (a mask over user codes) most often loop on the event, in words: "it
    again at once" (A A) or "back via B" (A B A) — a loop through a reply (Receive Documents →
    Request Documents → Receive Documents) is a round of rework, not a repeated click.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": "a", "event": ["ask", "get", "ask", "get"], "time": range(4)}))
    >>> loop_via(log, log.event_code("get"), np.ones(1, dtype=bool))
    'most often back via ask'
    """
    looped = loop_rows(log) if looped is None else looped          # ``loop_rows(log)`` when the caller has it
    rows = np.flatnonzero(looped & (log.event == code) & among[log.user])
    if not len(rows):
        return ""
    right_away = log.event[rows + 1] == code
    between = log.event[rows + 1][~right_away]
    counts = np.bincount(between, minlength=len(log.event_names))
    if right_away.sum() >= counts.max(initial=0):
        return "most often again at once"
    return f"most often back via {log.event_names[int(counts.argmax())]}"


def loop_paths(log: EventLog, size: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(event code, path) pairs, distinct, where the path repeats the event (A A) or bounces back to
    it (A B A) within one visit: opening the app again on another day is coming back, not a loop.
    ``rows``: ``loop_rows(log)`` when the caller has it."""
    rows = loop_rows(log) if rows is None else rows
    pairs = distinct(log.event[rows].astype(np.int64) * (log.n_users + 1) + log.user[rows])
    return pairs // (log.n_users + 1), pairs % (log.n_users + 1)


def visit_ends(log: EventLog) -> np.ndarray:
    """Boolean mask: True where an event is the last of its visit (session) or of its path."""
    last = np.ones(len(log), dtype=bool)
    last[:-1] = (log.user[1:] != log.user[:-1]) | (log.session[1:] != log.session[:-1])
    return last


def visit_numbers(log: EventLog) -> np.ndarray:
    """Each event's visit, numbered 0, 1, ... over the whole log in row order (int64).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aab"), "event": "x", "time": [0, 9_000_000, 0]}))
    >>> visit_numbers(log).tolist()
    [0, 1, 2]
    """
    return running_count(np.append(True, visit_ends(log)[:-1])) - 1


def expected_exits(log: EventLog, failing_user: np.ndarray, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per event type: how many failing paths would leave from it at least once if every visit ended at
    a random one of its steps (the base rate), and each path's probability (for the test).

    A visit of L steps with c of them on the event ends there with probability c / L; a path leaves
    from the event at least once with probability 1 - prod over its visits (1 - c / L). (Quitting at a
    step makes the visit short, which raises this base rate with the very exits it judges: a step of a
    sequence where paths stop for good is told by ``stops_for_good`` instead.)
    """
    failing = np.flatnonzero(failing_user[log.user])
    if not len(failing):
        return np.zeros(size), [np.zeros(0)] * size
    session, event = log.session[failing], log.event[failing]
    # Sessions are numbered in row order, so a visit is a run of rows: its length is the run's.
    visit_starts = np.flatnonzero(np.append(True, session[1:] != session[:-1]))
    visit_length = np.diff(np.append(visit_starts, len(session)))
    span = np.int64(size)
    # The (visit, event) pairs in key order, by a plain sort (np.unique's stable one is ~3x slower):
    # the rows of a pair share their visit and path, so which of them comes first does not matter.
    pairs = np.sort(session.astype(np.int64) * span + event)
    first = np.flatnonzero(np.append(True, pairs[1:] != pairs[:-1]))
    counts = np.diff(np.append(first, len(pairs)))
    pair_visit = pairs[first] // span
    visit = running_count(np.append(True, pair_visit[1:] != pair_visit[:-1])) - 1     # 0, 1, ... per visit
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-counts / visit_length[visit])      # -inf: a visit made only of the event ends there
    visit_user = log.user[failing[visit_starts]]
    paths, inverse = distinct_with_inverse(visit_user[visit].astype(np.int64) * span + pairs[first] % span)
    probability = 1 - np.exp(np.bincount(inverse, weights=log_stay, minlength=len(paths)))
    codes = paths % span
    order = np.argsort(codes, kind="stable")
    codes, probability = codes[order], probability[order]
    expected = np.bincount(codes, weights=probability, minlength=size)
    per_event = np.split(probability, np.searchsorted(codes, np.arange(1, size)))
    return expected, per_event


def path_dwell(log: EventLog, goal: int | None = None, only: np.ndarray | None = None,
               before: bool = False, rows: np.ndarray | None = None) -> Columns:
    """Per (path, event type): the median seconds from the event to the path's next event in the same
    session (events that end a session have no wait). A wait that ends at the ``goal`` is left out:
    it is the conversion itself, which failing paths never have (a trial that converts in a minute is
    no reference for one that leads elsewhere). ``only``: per event code, whether to count it.

    ``before``: the wait *before* the event instead, from the path's previous event in the same
    session (the first event of a session has none). A log of completed activities stamps each step
    when it is done: the time a claim waited for an adjuster shows before "Assess Damage", not after.
    ``rows``: a mask of the events whose wait counts (``before_goal``).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": "a", "event": ["x", "y", "z"], "time": [0, 60_000, 180_000]}))
    >>> path_dwell(log, before=True)["wait"].tolist()      # y waited 60 s after x, z 120 s after y
    [60.0, 120.0]
    """
    same = (log.user[1:] == log.user[:-1]) & (log.session[1:] == log.session[:-1])
    if goal is not None:
        same &= log.event[1:] != goal
    at = log.event[1:] if before else log.event[:-1]         # the event the wait belongs to
    if only is not None:
        same &= only[at]
    if rows is not None:
        same &= rows[1:] if before else rows[:-1]
    medians = _medians_by_event_and_path(at[same], log.user[1:][same], np.diff(log.ts)[same])    # ms
    return medians.assign(wait=medians["wait"] / 1000.0)


def _medians_by_event_and_path(event: np.ndarray, path: np.ndarray, wait: np.ndarray) -> Columns:
    """``DataFrame({event, path, wait}).groupby(["event", "path"]).median().reset_index()``, the same
    numbers, by one numpy sort: pandas' grouping held the GIL ~60-100 ms at a time at 10M events (a GUI
    freeze each time), numpy's sort lets go of it. Columns, not a DataFrame: the command line's stuck
    points import pandas on a thread of their own meanwhile (``IMPORTS_AHEAD``).

    >>> list(_medians_by_event_and_path(np.array([1, 0, 1, 1]), np.array([5, 5, 5, 2]), np.array([4.0, 1, 2, 9])).rows())
    [(0, 5, 1.0), (1, 2, 9.0), (1, 5, 3.0)]
    """
    paths = np.int64(int(path.max()) + 1 if len(path) else 1)
    key = event.astype(np.int64) * paths + path
    key, wait = _sorted_by_key_then_value(key, wait)
    starts = np.flatnonzero(np.append(True, key[1:] != key[:-1])) if len(key) else np.zeros(0, dtype=np.int64)
    middle = starts + (np.diff(np.append(starts, len(key))) - 1) / 2      # x.5 between the two middle values
    median = (wait[np.floor(middle).astype(np.int64)] + wait[np.ceil(middle).astype(np.int64)]) / 2
    return Columns({"event": (key[starts] // paths).astype(event.dtype),
                    "path": (key[starts] % paths).astype(path.dtype), "wait": median})


def _sorted_by_key_then_value(key: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``key`` and ``value`` ordered by (key, value). Non-negative integer values (waits in ms) that fit
    beside the key in 63 bits are packed into one int64 and sorted as values (numpy's SIMD sort: ~10x
    faster than the two-key lexsort at 8M rows); others go through the lexsort.

    >>> [a.tolist() for a in _sorted_by_key_then_value(np.array([2, 1, 2]), np.array([5, 9, 3]))]
    [[1, 2, 2], [9, 3, 5]]
    """
    if len(key) and value.dtype.kind in "iu" and int(value.min()) >= 0:
        value_bits = int(value.max()).bit_length()
        if int(key.max()).bit_length() + value_bits <= 63:
            packed = (key << value_bits) | value.astype(np.int64)
            packed.sort()
            return packed >> value_bits, packed & ((1 << value_bits) - 1)
    order = np.lexsort((value, key))
    return key[order], value[order]


def before_goal(log: EventLog, goal: int) -> np.ndarray:
    """Boolean mask: the events before their path's first ``goal`` (all of a path that never reaches it).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["x", "pay", "close", "x"],
    ...                                         "time": [0, 1, 2, 0]}))
    >>> before_goal(log, log.event_code("pay")).tolist()
    [True, False, False, True]
    """
    first_goal = np.full(log.n_users, len(log), dtype=np.int64)
    hits = np.flatnonzero(log.event == goal)
    first_goal[log.user[hits][::-1]] = hits[::-1]              # reversed: the earliest hit is written last
    return np.arange(len(log)) < first_goal[log.user]


def path_repeats(log: EventLog, rows: np.ndarray | None = None, visit: np.ndarray | None = None) -> Columns:
    """Per (event type, path): how many times the path does the event in a visit (``count``: the mean over
    its visits that have it); ``rows``: a mask of the events that count (``before_goal``: a successful
    path's steps after its goal are no way to it). Doing it again within a visit is retrying; coming back
    on another day to log in again is not.

    ``relative``: the same against what chance gives a visit of its length that has the event, 1 + (length - 1)
    x the event's share of the counted rows (averaged over the path's visits): a long browsing visit sees every
    page more often. By hand below: a's visit (3 rows; pay is 4 of the 5 rows, err 1) has err once against
    1 + 2 x 0.2 = 1.4 (0.71) and pay twice against 1 + 2 x 0.8 = 2.6 (0.77); b's one-row visits pay once (1.0).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aaabb"), "event": ["pay", "err", "pay", "pay", "pay"],
    ...                                         "time": [0, 1, 2, 0, 86_400_000]}))   # b pays again a day later
    >>> table = path_repeats(log)
    >>> [table[name].tolist() for name in ("event", "path", "count")], table["relative"].round(2).tolist()
    ([[0, 1, 1], [0, 0, 1], [1.0, 2.0, 1.0]], [0.71, 0.77, 1.0])
    """
    keep = np.ones(len(log), dtype=bool) if rows is None else rows
    visit = (visit_numbers(log) if visit is None else visit)[keep]            # a number per visit, in row order
    users = np.zeros(int(visit.max()) + 1 if len(visit) else 0, dtype=np.int64)
    users[visit] = log.user[keep]
    span = np.int64(len(log.event_names))
    pairs, counts = np.unique(visit.astype(np.int64) * span + log.event[keep], return_counts=True)
    visits, events = pairs // span, pairs % span
    # What chance gives a visit of its length that has the step: 1 + (length - 1) x the step's share of all
    # counted rows. Against its typical count per step instead, longer visits "repeated" the commonest page
    # more, and failing paths' visits are longer (a successful path's last visit is cut at the goal): in a
    # log without any story the commonest page ranked as a retry (AUC 0.65 at 1M events).
    length = np.bincount(visits, weights=counts, minlength=len(users))
    share = np.bincount(events, weights=counts, minlength=int(span)) / max(float(counts.sum()), 1.0)
    chance = 1.0 + (length[visits] - 1.0) * share[events]
    # Means per (event, path), sorted as a groupby would be, by a sort that lets go of the GIL: pandas'
    # grouping, then np.unique(return_inverse=True), held it for 0.3-0.7 s at a time at 10M events (the
    # window froze that long while stuck points computed).
    paths = np.int64(max(len(users), 1))
    keys = events * paths + users[visits]
    order = np.argsort(keys)
    keys = keys[order]
    starts = np.flatnonzero(np.append(True, keys[1:] != keys[:-1])) if len(keys) else np.zeros(0, dtype=np.int64)
    size = np.diff(np.append(starts, len(keys)))
    first = keys[starts]

    def means(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[order], starts) / size if len(starts) else np.zeros(0)

    return Columns({"event": first // paths, "path": first % paths,
                    "count": means(counts.astype(float)), "relative": means(counts / chance)})


def repeat_via(log: EventLog, code: int, among: np.ndarray) -> str:
    """How the paths of ``among`` (a mask over user codes) most often come round to the event again in a
    visit, in words: what they did right after it when they did it again later in the visit ("again at
    once", "back via payment_error").

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": "a", "event": ["pay", "err", "pay", "err", "pay"],
    ...                                         "time": range(5)}))
    >>> repeat_via(log, log.event_code("pay"), np.ones(1, dtype=bool))
    'most often back via err'
    """
    rows = np.flatnonzero((log.event == code) & among[log.user])
    visit = running_count(np.append(True, visit_ends(log)[:-1]))
    again = rows[:-1][visit[rows[1:]] == visit[rows[:-1]]]     # done again later in the same visit
    if not len(again):
        return ""
    after = log.event[again + 1]
    counts = np.bincount(after[after != code], minlength=len(log.event_names))
    if (after == code).sum() >= counts.max(initial=0):
        return "most often again at once"
    return f"most often back via {log.event_names[int(counts.argmax())]}"


def typical_repeat_ratio(table: pd.DataFrame) -> float:
    """How many times as often failing paths do an event as successful paths (mean count per path reaching
    it), typically: the median of that ratio over the events ``min_paths`` failing paths reach (at least 1).
    Failing users who browse over more visits see every page more often; a step must stand out from that.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"repeat_mean_failing": [1.0, 3.0, 1.5, 9.0], "repeat_mean_successful": [1.0, 2.0, 1.0, 1.0],
    ...                       "eligible": True})
    >>> typical_repeat_ratio(table)                    # ratios 1, 1.5, 1.5, 9
    1.5
    """
    failing = table["repeat_mean_failing"]
    if "eligible" in table:
        failing = failing.where(table["eligible"])
    reference = table["repeat_mean_successful"]
    ratios = (failing / reference.where(reference > 0)).dropna()
    return max(float(ratios.median()), 1.0) if len(ratios) else 1.0


def auc_greater(failing: np.ndarray, successful: np.ndarray) -> tuple[float, float]:
    """(P(a failing value exceeds a successful one) counting ties half, one-sided Mann-Whitney p).

    >>> auc_greater(np.array([3.0, 4.0]), np.array([1.0, 2.0]))[0]
    1.0
    """
    if not len(failing) or not len(successful):
        return 0.5, float("nan")
    u, p = mann_whitney_greater(failing, successful)
    return float(u / (len(failing) * len(successful))), p


# --- the table ------------------------------------------------------------------------------------------


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    if not spec.goal:
        raise MissingGoal("stuck points")
    log.event_code(spec.goal)                   # an unknown goal says so before anything is counted
    spec = with_unit(spec, log)
    # Users the goal is not open to (invited members when only an account's owner upgrades) are no
    # failing users: whatever they do differently would read as where users get stuck.
    cannot, left_out = never_reaching(log, spec.goal)
    if cannot.any():
        log = subset(log, ~cannot[log.user])
    goal = log.event_code(spec.goal)
    successful_user = users_with_event(log, goal)
    _two_groups_or_say_why(log, spec, successful_user)
    route = np.zeros(len(log.event_names), dtype=bool)
    if spec.unwanted:
        log, successful_user, route = unwanted_groups(log, goal)
    starts, _ = path_bounds(log)
    path_users = log.user[starts]
    if spec.unwanted and successful_user[path_users].all():      # each doer's path began with it (or none left)
        who = units.who_or_that(log.path_noun)
        raise JourneyError(f"Every {log.path_noun} {who} does {spec.goal} does it first: nothing comes before it "
                           f"to compare with the {units.plural(log.path_noun)} {who} never do")
    table, counts = _ranked(log, spec, successful_user, skip=route)
    counted_on = {}          # a row named by a property -> the log named so (see _with_inside_steps)
    families = {}            # an event looked inside -> its named steps' codes in that log
    if spec.unwanted:       # a sequence's step where paths stop "and never reach the goal" is the goal's wish
        table = table.assign(inside_event=None, inside_property=None) if len(table) else table
    else:
        table = _with_inside_steps(log, spec, successful_user, table, counted_on, families)
    report(progress, 0.5)
    ended_all = counts["end_failing"].sum()
    baseline = float(ended_all / max(counts["reach_failing"].sum(), 1))
    unstuck = []
    properties = {}
    if len(table) and (table["score"] > 0).any():
        properties = without_outcomes(path_properties(log), successful_user, path_users)
    for number, row in enumerate(table.head(spec.top).itertuples()):
        if row.score <= 0:
            break
        report(progress, 0.5 + 0.5 * number / spec.top)     # each row looks at every successful path
        row_log = counted_on.get(row.event, log)
        # How successful paths got on to the goal: nothing to tell when the goal is to be avoided.
        entry = ({"event": row.event, "successful_users": 0, "next": [], "routes": []} if spec.unwanted else
                 unstuck_for(row_log, row.event, row_log.event_code(spec.goal), successful_user, spec.next_events))
        entry.update(where_and_when(row_log, row, successful_user, properties, spec,
                                    families.get(getattr(row, "inside_event", None))))
        unstuck.append(entry)
    return Result(spec=spec, paths=len(starts), successful=int(successful_user[path_users].sum()),
                  baseline_exit_rate=baseline, table=table, unstuck=unstuck, left_out=left_out)


def _two_groups_or_say_why(log: EventLog, spec: Spec, reached: np.ndarray) -> None:
    """Stuck points compare paths that reach the goal with those that do not: when one group is empty,
    say so (an empty table read "no event where failing users do worse than successful ones", with none
    of one of them). ``reached``: per user code, whether the path reaches the goal."""
    noun = log.path_noun
    starts, _ = path_bounds(log)                # the log is sorted by path: one start per path
    paths = log.user[starts]
    doing = int(reached[paths].sum())
    if doing == 0:
        raise JourneyError(f"{units.nobody(noun).capitalize()} {'does' if spec.unwanted else 'reaches'} {spec.goal}: "
                           f"there is no {'outcome to avoid' if spec.unwanted else 'successful ' + noun} to compare with")
    if spec.unwanted and doing == len(paths):
        raise JourneyError(f"Every {noun} does {spec.goal}: there is no {noun} {units.who_or_that(noun)} avoids it "
                           f"to compare with")


def unwanted_groups(log: EventLog, goal: int) -> tuple[EventLog, np.ndarray, np.ndarray]:
    """For a goal to avoid (a cancellation): the log with the paths that reach it cut before it (what led there),
    the successful paths (those that never reach it), and per event code the goal's own route (the cancel flow
    that opens the cancellation: ``compare.route_to_goal``), which is no place to get stuck but the way out.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aaabb"), "event": ["app", "flow", "cancel", "app",
    ...     "app"], "time": range(5)}))
    >>> cut, successful, route = unwanted_groups(log, log.event_code("cancel"))
    >>> len(cut), successful.tolist(), route.tolist()          # a's cancel left out; b never cancels
    (4, [False, True], [False, False, False])
    """
    from journey_explorer.analysis.arrays import first_time_of
    from journey_explorer.analysis.compare import route_to_goal
    first_goal = first_time_of(log, goal)
    reached = first_goal != np.iinfo(np.int64).max
    route = np.zeros(len(log.event_names), dtype=bool)
    route[[log.event_code(name) for name in route_to_goal(log, goal)["event"]]] = True
    return subset(log, log.ts < first_goal[log.user]), ~reached, route


def _ranked(log: EventLog, spec: Spec, successful_user: np.ndarray,
            only: np.ndarray | None = None, skip: np.ndarray | None = None) -> tuple[pd.DataFrame, dict]:
    """The ranked table of every event of ``log`` (``only``: of the event codes it marks; ``skip``: but those it
    marks), and the counts behind it."""
    # A goal to avoid is cut from the log (``unwanted_groups``): a log named by a property then lacks its name.
    goal = log.event_code(spec.goal) if spec.goal in log.event_names else -1
    size = len(log.event_names)
    _, ends = path_bounds(log)
    # Per session, "users who succeed (in any session)" is a reference for a goal to reach; for one to avoid,
    # a user with any session without it would count as succeeding: nearly everyone, cancellers too.
    owners = None if spec.unwanted else successful_owners(log, successful_user)
    visit = visit_numbers(log)          # shared: each use would number the visits again (8 bytes per event)
    skipped = failure_outcomes(log) if skip is None else failure_outcomes(log) | skip
    counted = ~skipped if only is None else only & ~skipped
    # Per session a paying user's later sessions "fail": their habits (a dashboard viewed again and again)
    # would read as retries, and repeats have no per-user reference as exits and loops do.
    repeat_parts = (partial(_repeat_parts, log, successful_user, goal, counted, visit, spec.min_reference)
                    if owners is None else dict)
    # The dwell times, the repeats and the base rate of exits go to a second thread (their sorts let go of
    # the GIL) while the rest is counted here; this thread then takes back what it has not started. Each
    # call's arguments are bound now (``partial``): ``only`` changes below, and the dwell times take it as given.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stuck") as pool:
        beside = [(pool.submit(call), call) for call in (
            partial(_dwell_parts, log, successful_user, goal, only, spec.min_reference), repeat_parts,
            partial(expected_exits, log, ~successful_user, size))]
        counts = _counts(log, size, goal, successful_user, ends, owners, visit)
        # Dead ends: not inside a step sequence (``stops_for_good`` tells its stops), not per session (a
        # session always ends: "never comes back" is a user's), not where visits are an event or two (a
        # process log cut into a visit per activity or two: "the last visit ends there" is then only "the
        # last event", and every case's closing activity would be a dead end), not on a process's one-visit
        # cases (every visit is its path's last, so no step could stop more than another).
        cases = _paths_are_cases(log)
        judges_visits = (only is None and owners is None and _events_per_visit(log) >= MIN_EVENTS_PER_VISIT
                         and not cases)
        stops = dead_ends(log, successful_user) if judges_visits else None
        only = counted
        # The wait before a step, in a process's cases only: a case's step is stamped when done, so the
        # time since the previous step is the step's own (a claim waiting for its adjuster). On a web page
        # the time until the next click is the dwell already; seen from the next page it is a pause before
        # checkout, hesitation rather than a bottleneck. A successful path's wait for a step after its goal
        # (a claim closed after being paid) is no way to the goal: only steps before the goal count.
        wait_before = path_dwell(log, goal, only, before=True, rows=before_goal(log, goal)) if cases else None
        dwell, repeats, (expected, expected_per_path) = _results_taking_back(beside)
    table = _table(log, spec, goal, counts, expected, expected_per_path, (dwell, wait_before, repeats),
                   successful_user, only, stops, compare_exits=not cases)
    return table, counts


def _results_taking_back(tasks: list[tuple[Future, Callable[[], Any]]]) -> list:
    """The result of each (future, call): a future its pool has not started yet is cancelled and its call
    run here instead (the last first: the pool's worker takes them in order). At 1M events the worker's
    queue was ~0.45 s of work while this thread had finished its own ~0.2 s."""
    results: list = [None] * len(tasks)
    for number in reversed(range(len(tasks))):
        future, call = tasks[number]
        results[number] = call() if future.cancel() else future.result()
    return results


def _dwell_parts(log: EventLog, successful_user: np.ndarray, goal: int, only: np.ndarray | None,
                 minimum: int) -> dict[int, dict]:
    """Per event code its dwell part (``_dwell_part`` of ``path_dwell``'s rows for it, as where enough
    successful paths reach the event: ``_event_row`` uses it only there)."""
    dwell = path_dwell(log, goal, only)
    return {code: _dwell_part(rows, successful_user, True, minimum) for code, rows in _per_event(dwell).items()}


def _repeat_parts(log: EventLog, successful_user: np.ndarray, goal: int, counted: np.ndarray, visit: np.ndarray,
                  minimum: int) -> dict[int, dict]:
    """Per event code its repeat part (``_repeat_part`` of ``path_repeats``' rows for it before the goal, for
    the events ``counted`` marks, as where enough successful paths reach the event: ``_event_row`` uses it
    only there)."""
    repeats = path_repeats(log, before_goal(log, goal) & counted[log.event], visit)
    return {code: _repeat_part(rows, successful_user, True, minimum) for code, rows in _per_event(repeats).items()}


# A failure outcome ends paths: a cancellation, a withdrawn claim. Failing paths "stop there for good" by what it
# is, so it is no stuck point (an error some paths retry after is one). An outcome is named as a failure
# (``goals.is_failure_name``) and ends at least OUTCOME_ENDS of the paths that reach it. Where only failing paths
# end is no sign by itself: every failing path ends somewhere, and successful ones end at or after the goal; an
# ending no successful path reaches is no stuck point anyway (``Spec.min_reference``).
OUTCOME_ENDS = 0.8


def failure_outcomes(log: EventLog) -> np.ndarray:
    """Per event code, whether it is a failure outcome (see the notes above): left out of the stuck points.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aabbbccdd"), "event": ["app", "cancelled", "app",
    ...     "error", "buy", "app", "error", "app", "rejected"], "time": range(9)}))
    >>> failure_outcomes(log).tolist()      # app, buy, cancelled, error (b goes on after it), rejected
    [False, False, True, False, True]
    """
    from journey_explorer.analysis.goals import is_failure_name
    size = len(log.event_names)
    _, ends = path_bounds(log)
    last_events = log.event[ends - 1]
    reach = distinct_count(log.event, log.user, size)
    ending = np.bincount(last_events, minlength=size)
    named = np.array([is_failure_name(name) for name in log.event_names], dtype=bool)
    return named & (ending >= OUTCOME_ENDS * np.maximum(reach, 1))


def _events_per_visit(log: EventLog) -> float:
    """The median number of events in a visit."""
    ends = np.flatnonzero(visit_ends(log))
    return float(np.median(np.diff(np.append(-1, ends)))) if len(ends) else 0.0


def _with_inside_steps(log: EventLog, spec: Spec, successful_user: np.ndarray, table: pd.DataFrame,
                       counted_on: dict, families: dict) -> pd.DataFrame:
    """The table with the stuck points found inside an event that carries its step in a property
    (``lesson_started`` with the lesson, ``level_start`` with the level: ``event_detail.suggest``),
    named "lesson_started: Unit 3" and marked with the event and the property (``inside_event``,
    ``inside_property``). One event for every
    lesson hides the lesson learners quit at; the project still shows the plain name until the user
    names it by the property. ``counted_on`` gets the named log of each row added, ``families`` each
    event's named steps (a mask over the named log's codes: not a name prefix, which a logged event
    "lesson: quiz" would share)."""
    import pandas as pd

    from journey_explorer.store.event_detail import name_by_property, suggest
    if not len(table):
        return table
    table = table.assign(inside_event=None, inside_property=None,
                         **{name: value for name, value in STOP_COLUMNS.items() if name not in table})
    if not log.event_properties:
        return table
    steps = [s for s in suggest(log, INSIDE_MIN_SHARE) if s.kind == "steps" and s.event != spec.goal]
    steps = steps[:MAX_INSIDE_STEPS]
    if not steps:
        return table
    table = _without_dead_end(table, {s.event for s in steps}, spec)
    # One log named by every such property, its steps' rows only: one more pass over the log, not one each.
    named = name_by_property(log, {s.event: s.property for s in steps})
    families.update({s.event: _named_steps(log, named, s.event) for s in steps})
    inside, _ = _ranked(named, spec, successful_user, only=np.logical_or.reduce([families[s.event] for s in steps]))
    added = []
    for suggestion in steps:
        steps_of = families[suggestion.event]
        family = inside[steps_of[[named.event_code(e) for e in inside["event"]]]]
        family = _with_stops(family, stops_for_good(named, steps_of, spec), suggestion.property, spec)
        family = family[family["score"] > 0]
        counted_on.update({event: named for event in family["event"]})
        added.append(family.assign(inside_event=suggestion.event, inside_property=suggestion.property))
    if not added:
        return table
    found = pd.concat(added, ignore_index=True).sort_values(["score", "failing_users"], ascending=False)
    table = pd.concat([table, _one_wall_once(named, found, spec, families)], ignore_index=True)
    table = table.sort_values(["score", "failing_users"], ascending=False, ignore_index=True).infer_objects()
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def _without_dead_end(table: pd.DataFrame, events: set[str], spec: Spec) -> pd.DataFrame:
    """The table without the dead-end part at ``events``, whose steps are looked into: where paths stop
    in a sequence of lessons is told per lesson (``stops_for_good``), not as "lesson_started"."""
    plain = table["event"].isin(events) & (table["stop_excess"] > 0)
    if not plain.any():
        return table
    table = table.copy()
    table.loc[plain, "worse_by"] = np.round(table.loc[plain, "worse_by"] - table.loc[plain, "stop_excess"], 4)
    table.loc[plain, "stop_excess"] = 0.0
    table["score"] = np.round(table["worse_by"] * np.sqrt(table["failing_users"]), 3)
    table.loc[plain, "explanation"] = [_explain(row, spec) for row in table[plain].itertuples()]
    table = table.sort_values(["score", "failing_users"], ascending=False, ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def _named_steps(log: EventLog, named: EventLog, event: str) -> np.ndarray:
    """Per code of ``named``: whether it names a step of ``event`` (its rows' new names; the plain name
    of rows without the property and "(other)", the rarest values pooled, left out)."""
    steps = np.zeros(len(named.event_names), dtype=bool)
    steps[np.unique(named.event[log.event == log.event_code(event)])] = True
    for plain in (event, f"{event}: {OTHER_VALUES}"):      # rows without the property; the rare values pooled
        if plain in named.event_names:
            steps[named.event_code(plain)] = False
    return steps


def _one_wall_once(named: EventLog, found: pd.DataFrame, spec: Spec, families: dict) -> pd.DataFrame:
    """The rows found inside steps without a row that only repeats a better one's stop: the players who
    stop for good after completing level 6 are those who stop at starting level 7 (``SAME_STOPS`` of
    them), one wall seen from two events."""
    goal = named.event_code(spec.goal)
    kept, stopped_sets = [], []
    for index, row in found.iterrows():
        if row["stop_excess"] > 0:
            _, stopped = part_flags(named, named.event_code(row["event"]), "stop", goal,
                                    families[row["inside_event"]])
            repeats = any((stopped & seen).sum() >= SAME_STOPS * stopped.sum() for seen in stopped_sets)
            only_stops = (row["exit_excess"] <= 0 and row["loop_excess"] <= 0 and row["dwell_excess"] <= 0
                          and row["wait_excess"] <= 0 and row["repeat_excess"] <= 0)
            if repeats and only_stops:
                continue
            stopped_sets.append(stopped)
        kept.append(index)
    return found.loc[kept]


STOP_COLUMNS = {"stop_rate": np.nan, "stop_reference": np.nan, "stop_excess": 0.0, "stop_p": np.nan}
STOPS_FRAME = ["event", "reached", "last", "stopped", "stop_rate", "stop_reference", "stop_p", "stop_q"]


def stops_for_good(named: EventLog, in_family: np.ndarray, spec: Spec) -> pd.DataFrame:
    """Per step of a sequence (``in_family``: per code of ``named``, the steps of an event named by
    its property: "level_started: 7", ``_named_steps``): the
    paths reaching it, those whose last step of the sequence it is (``last``) and, of those, the ones
    that never reach the goal after it (``stopped``: they stop there for good); the share that stop
    against the sequence's other steps, one-sided Fisher tests with FDR over its steps. Paths seen
    too close to the log's end to tell whether they stopped (``_settled``) are left out.

    A step after which fewer than ``min_paths`` paths go on to another step is the end of the sequence
    (the last lesson: everyone stops there) — neither a candidate nor a reference; a wall that stops
    83% of its players is still a step when the others go on. This
    needs no successful users doing better there: a game's wall is where buyers buy, too.
    """
    import pandas as pd
    size = len(named.event_names)
    rows = np.flatnonzero(in_family[named.event])
    if not len(rows):
        return _no_stops()
    if _order_kept(named.event[rows], named.user[rows]) < SEQUENCE_ORDER:    # cities, genres: no sequence
        return _no_stops()
    rows = rows[_settled(named, rows)[named.user[rows]]]
    users = named.user[rows]
    last_rows, stopped_rows = _last_and_stopped(named, rows, named.event_code(spec.goal))
    reached = distinct_count(named.event[rows], users, size)
    last = np.bincount(named.event[last_rows], minlength=size)
    stopped = np.bincount(named.event[stopped_rows], minlength=size)
    codes = np.flatnonzero(in_family & (reached > 0))
    goes_on = reached[codes] - last[codes]          # paths that reach a further step after it
    steps = codes[(goes_on >= spec.min_paths) & (reached[codes] >= spec.min_paths)]
    p_values, references = [], []
    for code in steps:
        others = steps[steps != code]
        stopped_others, reached_others = stopped[others].sum(), reached[others].sum()
        references.append(stopped_others / reached_others if reached_others else np.nan)
        p_values.append(fisher_greater(int(stopped[code]), int(reached[code]), int(stopped_others),
                                       int(reached_others)) if reached_others else np.nan)
    return pd.DataFrame({"event": [named.event_names[c] for c in steps], "reached": reached[steps],
                         "last": last[steps], "stopped": stopped[steps],
                         "stop_rate": np.round(stopped[steps] / np.maximum(reached[steps], 1), 4),
                         "stop_reference": np.round(np.array(references, dtype=float), 4), "stop_p": p_values,
                         "stop_q": benjamini_hochberg(np.array(p_values, dtype=float))})


def dead_ends(log: EventLog, successful_user: np.ndarray) -> pd.DataFrame:
    """Per event code: how often failing paths stop for good at it (their whole history ends on a visit
    that ends there: no later visit, never the goal), against the paths' usual chance of stopping
    after a visit at that point of their path (``stop_reference``) — a step where people wait for
    something that never comes (a seller's reply) ends everyone's visit, so only this tells it.

    The reference is the chance that a failing path's visit number k (the 1st, 2nd, ... the 10th and
    later pooled) is its last, counted over the visits that end at *other* events: people stop
    more as their path grows old, and a step done late in the path (docs read after weeks of use)
    ends more last visits without being where they stop. Per path the rate is "stopped there" among
    the failing paths that reach it; the test is one-sided (a normal approximation to the
    Poisson-binomial of each visit's chance). Paths seen too close to the log's end to tell
    whether they come back (``_settled_paths``) are left out. ``stop_goes_on``: the failing visits
    that end at the event and are followed by another visit — a step no one ever comes back from
    (Cancel Order, Closed) is the end of the process, not a dead end (``_dead_end_kept``)."""
    import pandas as pd
    size = len(log.event_names)
    ends = visit_ends(log)
    settled = _settled_paths(log, ends)
    rows = np.flatnonzero(ends & ~successful_user[log.user] & settled[log.user])
    number, last = _visit_numbers(log, ends)
    stratum = np.minimum(number[rows], DEAD_END_STRATA - 1).astype(np.int64)
    final = last[rows]
    pair = log.event[rows].astype(np.int64) * DEAD_END_STRATA + stratum
    visits = np.bincount(pair, minlength=size * DEAD_END_STRATA).reshape(size, DEAD_END_STRATA)
    stops = np.bincount(pair, weights=final, minlength=size * DEAD_END_STRATA).reshape(size, DEAD_END_STRATA)
    failing_rows = ~successful_user[log.user] & settled[log.user]
    reach = distinct_count(log.event[failing_rows], log.user[failing_rows], size)
    codes = np.flatnonzero(visits.sum(axis=1) > 0)
    all_visits, all_stops = visits.sum(axis=0), stops.sum(axis=0)
    rates, references, p_values = [], [], []
    for code in codes:
        other_visits, other_stops = all_visits - visits[code], all_stops - stops[code]
        chance = other_stops / np.maximum(other_visits, 1)          # per visit number
        stopped = int(stops[code].sum())
        rates.append(stopped / reach[code])
        references.append(float((visits[code] * chance).sum()) / reach[code])
        p_values.append(poisson_binomial_greater(stopped, np.repeat(chance, visits[code])))
    return pd.DataFrame({"code": codes, "stop_rate": np.round(rates, 4), "stop_reference": np.round(references, 4),
                         "stop_p": p_values, "stop_q": benjamini_hochberg(np.array(p_values, dtype=float)),
                         "stop_goes_on": (visits.sum(axis=1) - stops.sum(axis=1))[codes].astype(np.int64)})


def _visit_numbers(log: EventLog, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the number of its visit in its path (0 for the first), and whether that visit is the
    path's last (``ends``: ``visit_ends(log)``).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user": ["a", "a", "a", "b"], "event": "x", "time": [0, 60_000, 9_000_000, 0]})
    >>> number, last = _visit_numbers(EventLog.from_frame(frame), visit_ends(EventLog.from_frame(frame)))
    >>> number.tolist(), last.tolist()
    ([0, 0, 1, 0], [False, False, True, True])
    """
    starts, path_ends = path_bounds(log)
    visit_start = np.ones(len(log), dtype=bool)
    visit_start[1:] = ends[:-1]
    visit = running_count(visit_start) - 1                        # visits numbered over the whole log
    first_visit = np.zeros(log.n_users, dtype=np.int64)
    first_visit[log.user[starts]] = visit[starts]
    last_visit = np.zeros(log.n_users, dtype=np.int64)
    last_visit[log.user[path_ends - 1]] = visit[path_ends - 1]
    return visit - first_visit[log.user], visit == last_visit[log.user]


def _settled_paths(log: EventLog, ends: np.ndarray) -> np.ndarray:
    """Per user: whether the log goes on long enough after their last event to tell they do not come
    back — as long as 99% of the paths' gaps between one visit and the next (``_settled`` for the
    steps of a sequence)."""
    last_rows = np.flatnonzero(ends)[:-1]
    returns = log.user[last_rows + 1] == log.user[last_rows]
    gaps = (log.ts[last_rows + 1] - log.ts[last_rows])[returns]
    quiet = float(np.percentile(gaps, 99)) if len(gaps) else 0.0
    _, path_ends = path_bounds(log)
    last_seen = np.zeros(log.n_users, dtype=np.int64)
    last_seen[log.user[path_ends - 1]] = log.ts[path_ends - 1]
    return last_seen <= log.ts.max() - quiet if len(log) else last_seen > 0


def _settled(named: EventLog, rows: np.ndarray) -> np.ndarray:
    """Per user: whether the log goes on long enough after their last event to tell they stopped —
    as long as 99% of the sequence's steps take to be followed by the next (a learner last seen
    yesterday, who takes a lesson every few days, has not stopped yet)."""
    users, codes, ts = named.user[rows], named.event[rows], named.ts[rows]
    goes_on = (users[1:] == users[:-1]) & (codes[1:] != codes[:-1])
    quiet = float(np.percentile(np.diff(ts)[goes_on], 99)) if goes_on.any() else 0.0
    _, ends = path_bounds(named)
    last_seen = np.zeros(named.n_users, dtype=np.int64)
    last_seen[named.user[ends - 1]] = named.ts[ends - 1]         # rows go by user, then time
    return last_seen <= named.ts.max() - quiet



def _no_stops() -> pd.DataFrame:
    """``stops_for_good``'s frame without rows, its numbers typed as numbers (a merge keeps them so)."""
    import pandas as pd
    return pd.DataFrame({name: pd.Series(dtype=object if name == "event" else float) for name in STOPS_FRAME})


def _last_and_stopped(named: EventLog, rows: np.ndarray, goal: int) -> tuple[np.ndarray, np.ndarray]:
    """Of a sequence's ``rows`` (in log order): each path's last one, and those of them with no goal
    after (the path stops there for good)."""
    users = named.user[rows]
    last_rows = rows[np.append(users[1:] != users[:-1], True)]         # rows go by user, then time
    last_goal = np.full(named.n_users, -1, dtype=np.int64)
    goal_rows = np.flatnonzero(named.event == goal)
    np.maximum.at(last_goal, named.user[goal_rows], goal_rows)
    return last_rows, last_rows[last_goal[named.user[last_rows]] < last_rows]


def _order_kept(codes: np.ndarray, users: np.ndarray, min_seen: int = 5) -> float:
    """Of a user's consecutive steps that change value (a -> b), the share going the way most changes
    between those two values go — counting the pairs of values seen changing ``min_seen`` times or more
    (a pair seen once always "keeps" its way): ~1 for levels and lessons (1 -> 2, never 2 -> 1), ~1/2
    for cities browsed in any order; 0 with no pair seen often enough.

    >>> _order_kept(np.array([1, 2, 3, 1, 2, 2, 3]), np.array([0, 0, 0, 1, 1, 1, 1]), min_seen=1)
    1.0
    >>> _order_kept(np.array([1, 2, 2, 1]), np.array([0, 0, 1, 1]), min_seen=1)
    0.5
    """
    change = (users[1:] == users[:-1]) & (codes[1:] != codes[:-1])
    if not change.any():
        return 0.0
    _, dense = np.unique(codes, return_inverse=True)          # a family's own codes: span^2 stays small
    a, b = dense[:-1][change].astype(np.int64), dense[1:][change].astype(np.int64)
    span = int(dense.max()) + 1
    pairs, pair_of, seen = np.unique(np.minimum(a, b) * span + np.maximum(a, b), return_inverse=True,
                                     return_counts=True)
    forward = np.bincount(pair_of, weights=(a < b).astype(float), minlength=len(pairs))
    often = seen >= min_seen
    if not often.any():
        return 0.0
    return float(np.maximum(forward, seen - forward)[often].sum() / seen[often].sum())


def _with_stops(inside: pd.DataFrame, stops: pd.DataFrame, prop: str, spec: Spec) -> pd.DataFrame:
    """The named family's rows with the stop part (``stops_for_good``) added to their score when it is
    significant and material: ``STOP_RATIO`` times the sequence's other steps and ``MIN_EXCESS`` above."""
    inside = inside.drop(columns=list(STOP_COLUMNS), errors="ignore").merge(
        stops[["event", *STOP_COLUMNS.keys() - {"stop_excess"}, "stop_q"]], on="event", how="left")
    kept = ((inside["stop_q"] < spec.alpha) & (inside["stop_rate"] >= STOP_RATIO * inside["stop_reference"])
            & (inside["stop_rate"] - inside["stop_reference"] >= MIN_EXCESS))
    inside["stop_excess"] = np.where(kept, (inside["stop_rate"] - inside["stop_reference"]).round(4), 0.0)
    inside = inside.drop(columns="stop_q")
    inside["worse_by"] = np.round(inside["worse_by"] + inside["stop_excess"], 4)
    inside["score"] = np.round(inside["worse_by"] * np.sqrt(inside["failing_users"]), 3)
    inside["explanation"] = [_explain(row, spec, prop) for row in inside.itertuples()]
    return inside


def successful_owners(log: EventLog, successful_user: np.ndarray) -> np.ndarray | None:
    """In a per-session log (keys "user#n", see ``common.sessions_as_paths``): per session, the code of
    its user when that user reaches the goal in any session, else -1. None in a per-user log.

    Per session, a paying user's later visits are "failing sessions"; their habits there are not being
    stuck. Per user those events sit in successful paths, so the per-session view also compares with
    successful *users* (all their sessions together), as the per-user view does."""
    owner = session_owners(log)
    if owner is None:
        return None
    succeeds = np.zeros(owner.max() + 1, dtype=bool)
    succeeds[owner[successful_user]] = True
    return np.where(succeeds[owner], owner, -1)


def goal_follows_in_visit(log: EventLog, goal: int, visit: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask: True where the goal comes later in the same visit (the visit converts after it).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user": "u", "event": ["cart", "pay", "done", "cart"],
    ...                       "time": [0, 60_000, 120_000, 9_000_000]})         # a new visit 2.5 h later
    >>> log = EventLog.from_frame(frame)
    >>> goal_follows_in_visit(log, log.event_code("done")).tolist()
    [True, True, False, False]
    """
    n = len(log)
    if not n:
        return np.zeros(0, dtype=bool)
    visit_start = np.ones(n, dtype=bool)
    visit_start[1:] = visit_ends(log)[:-1]
    position = np.arange(n)
    goal_position = np.where(log.event == goal, position, -1)
    last_goal = np.maximum.reduceat(goal_position, np.flatnonzero(visit_start))
    return last_goal[visit_numbers(log) if visit is None else visit] > position


def _counts(log: EventLog, size: int, goal: int, successful_user: np.ndarray, ends: np.ndarray,
            owners: np.ndarray | None, visit: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Paths per event type and group: reaching it, leaving from it, ending on it, looping on it.
    Groups: successful, failing, and (per session) successful users counted over all their sessions.
    ``reach_successful_open``: successful paths reaching the event on a visit that does not go on to
    the goal after it (only such a visit can end there)."""
    out = {}
    looped = loop_rows(log)
    loop_codes, loop_users = loop_paths(log, size, looped)
    last_event, last_user = log.event[ends - 1], log.user[ends - 1]
    left = visit_ends(log)
    by_event = Groups(log.event, size)          # one grouping for every count by event below
    for name, member in (("successful", successful_user), ("failing", ~successful_user)):
        mine = member[log.user]
        out[f"reach_{name}"] = by_event.distinct(log.user, mine)
        out[f"left_{name}"] = by_event.distinct(log.user, mine & left)
        out[f"end_{name}"] = np.bincount(last_event[member[last_user]], minlength=size)
        out[f"loop_{name}"] = np.bincount(loop_codes[member[loop_users]], minlength=size)
    open_visit = successful_user[log.user] & ~goal_follows_in_visit(log, goal, visit)
    out["reach_successful_open"] = by_event.distinct(log.user, open_visit)
    out.update(_visit_counts(log, by_event, successful_user, open_visit, left, looped))
    if owners is not None:
        owner, mine = owners[log.user], owners[log.user] >= 0
        out["reach_other"] = distinct_count(log.event[mine], owner[mine], size)
        out["left_other"] = distinct_count(log.event[mine & left], owner[mine & left], size)
        looped = owners[loop_users] >= 0
        out["loop_other"] = distinct_count(loop_codes[looped], owners[loop_users][looped], size)
    return out


def _visit_counts(log: EventLog, by_event: Groups, successful_user: np.ndarray, open_visit: np.ndarray,
                  left: np.ndarray, looped_rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per event type, counted in *visits* that reach it: how many, how many end there, how many loop
    on it — for failing paths, successful paths, and successful paths' visits that do not go on to the
    goal after it. A failing user who keeps coming back to browse ends and bounces on the browsing
    pages on more of *their* paths simply by having more visits; per visit they do not.

    One stable grouping by event: inside an event's group the visits come in order, so each run of one
    visit is one (visit, event) pair (its first row decides the path's group; its last row whether the
    visit goes on to the goal after it — rows after a visit's last goal are all "open")."""
    n, size = len(log), by_event.size
    visit = log.session[by_event.order]
    run_start = np.ones(n, dtype=bool)
    run_start[1:] = (by_event.keys[1:] != by_event.keys[:-1]) | (visit[1:] != visit[:-1])
    starts = np.flatnonzero(run_start)
    run_event = by_event.keys[starts]
    first_row, last_row = by_event.order[starts], by_event.order[np.append(starts[1:], n) - 1]
    looped = np.maximum.reduceat(looped_rows[by_event.order], starts) if n else np.zeros(0, dtype=bool)
    successful_row = successful_user[log.user]
    runs = {"failing": ~successful_row[first_row], "successful": successful_row[first_row],
            "successful_open": open_visit[last_row]}
    rows = {"failing": ~successful_row, "successful": successful_row, "successful_open": open_visit}
    out = {}
    for name, member in runs.items():
        out[f"visits_{name}"] = np.bincount(run_event[member], minlength=size)
        out[f"visit_left_{name}"] = np.bincount(log.event[rows[name] & left], minlength=size)   # one end per visit
        out[f"visit_loop_{name}"] = np.bincount(run_event[member & looped], minlength=size)
    return out


def _visit_check(c: dict, code: int, minimum: int) -> dict | None:
    """One-sided tests that failing paths' *visits* at the event end there / loop there more often
    than successful paths' (exits: against their visits that did not convert after it); None with
    fewer than ``minimum`` visits on either side."""
    f_visits, s_visits, s_open = (int(c[f"visits_{k}"][code]) for k in ("failing", "successful", "successful_open"))
    if f_visits < minimum or s_visits < minimum:
        return None
    f_end, f_loop = int(c["visit_left_failing"][code]), int(c["visit_loop_failing"][code])
    s_loop = int(c["visit_loop_successful"][code])
    exit_p = (fisher_greater(f_end, f_visits, int(c["visit_left_successful_open"][code]), s_open)
              if s_open >= minimum else np.nan)
    return {"exit": f_end / f_visits, "exit_reference": c["visit_left_successful_open"][code] / max(s_open, 1),
            "exit_p": exit_p, "loop": f_loop / f_visits, "loop_reference": s_loop / s_visits,
            "loop_p": fisher_greater(f_loop, f_visits, s_loop, s_visits)}


def _paths_are_cases(log: EventLog) -> bool:
    """Each path is one visit that lasts a day or more (median): the cases of a process, not sittings
    (a web log whose users visit once keeps its visit ends: a checkout left in its only visit is one)."""
    if not one_visit_per_path(log) or session_owners(log) is not None:
        return False
    return median_path_duration_ms(log) >= CASE_DURATION_MS


def _table(log, spec, goal, c, expected, expected_per_path, waits, successful_user, only=None,
           stops=None, compare_exits: bool = True) -> pd.DataFrame:
    """``waits``: (the dwell part per event code (``_dwell_parts``), ``path_dwell`` before each event,
    the repeat part per event code (``_repeat_parts``))."""
    import pandas as pd
    size = len(log.event_names)
    rows = []
    after, before, repeats = waits[0], _per_event(waits[1]), waits[2]
    for code in range(size):
        f_reach, s_reach = int(c["reach_failing"][code]), int(c["reach_successful"][code])
        if code == goal or f_reach + s_reach == 0 or only is not None and not only[code]:
            continue
        rows.append(_event_row(log.event_names[code], c, code, f_reach, s_reach, expected[code],
                               expected_per_path[code], (after.get(code), before.get(code), repeats.get(code)),
                               successful_user, spec))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    eligible = table["failing_users"] >= spec.min_paths
    table["eligible"] = eligible
    if not compare_exits:
        # Each path one visit (a process's cases): a failing case's visit ends where the case ends, and a
        # successful case's only visit is the converting one, so the step before the goal would always
        # "end more visits". No visit ends are compared; loops, waits and dead ends still are.
        table["exit_p"] = np.nan
    for part in TESTED_PARTS:
        p = table[f"{part}_p"].where(eligible)
        table[f"{part}_q"] = benjamini_hochberg(p.to_numpy())
    for part in TESTED_PARTS:
        kept = (table[f"{part}_q"] < spec.alpha) & _material(table, part)
        if part == "repeat":        # doing it again within a visit is the loop part already: one story, told once
            kept &= table["loop_excess"] <= 0
        table[f"{part}_excess"] = table[f"{part}_excess"].where(kept, 0.0)
    _one_wait_once(table, log, successful_user)
    parts = [table[f"{part}_excess"] for part in TESTED_PARTS]
    if stops is not None:
        table = _with_dead_ends(table, log, stops, spec)
        parts.append(table["stop_excess"])
    table["worse_by"] = np.round(sum(parts), 4)
    table = table.drop(columns="eligible")
    looped = loop_rows(log) if (table["loop_excess"] > 0).any() else None       # once, for every looping row
    table["loop_via"] = [loop_via(log, log.event_code(row.event), ~successful_user, looped) if row.loop_excess > 0
                         else repeat_via(log, log.event_code(row.event), ~successful_user) if row.repeat_excess > 0
                         else None for row in table.itertuples()]
    # Effect first, volume damped: 4x the failing paths counts as much as twice the difference.
    table["score"] = np.round(table["worse_by"] * np.sqrt(table["failing_users"]), 3)
    table["explanation"] = [_explain(row, spec) for row in table.itertuples()]
    table = table.sort_values(["score", "failing_users"], ascending=False, ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def _per_event(table: Columns | None) -> dict[int, Columns]:
    """Event code -> the rows of ``table`` (sorted by event, as ``path_dwell`` and ``path_repeats`` are) for it.

    >>> parts = _per_event(Columns({"event": [0, 0, 2], "path": [1, 2, 1]}))
    >>> sorted(parts), parts[0]["path"].tolist(), parts[2]["path"].tolist()
    ([0, 2], [1, 2], [1])
    """
    if table is None or not len(table):
        return {}
    event = table["event"]
    starts = np.flatnonzero(np.append(True, event[1:] != event[:-1]))
    ends = np.append(starts[1:], len(event))
    return {int(event[start]): Columns({name: values[start:end] for name, values in table.data.items()})
            for start, end in zip(starts, ends)}


def _one_wait_once(table: pd.DataFrame, log: EventLog, successful_user: np.ndarray) -> None:
    """In a process's cases the time after a step is the wait for the next one: where failing cases go on
    from a step to one next step (``SAME_STOPS`` of them) whose wait part counts, the step's dwell is that
    same wait, told once, at the step waited for ("waited 8 d for Assess Damage", not "wait 8 d after
    Check Coverage"). Changes ``table`` in place."""
    if not (table["wait_excess"] > 0).any():
        return
    waited = set(table.loc[table["wait_excess"] > 0, "event"])
    same = (log.user[1:] == log.user[:-1]) & (log.session[1:] == log.session[:-1]) & ~successful_user[log.user[1:]]
    for index in table.index[table["dwell_excess"] > 0]:
        at = np.flatnonzero(same & (log.event[:-1] == log.event_code(table.at[index, "event"])))
        if not len(at):
            continue
        following = np.bincount(log.event[at + 1], minlength=len(log.event_names))
        if log.event_names[int(following.argmax())] in waited and following.max() >= SAME_STOPS * len(at):
            table.at[index, "dwell_excess"] = 0.0


def _with_dead_ends(table: pd.DataFrame, log: EventLog, stops: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The table with the dead-end part (``dead_ends``): counted when significant, ``STOP_RATIO`` times
    its reference and ``MIN_EXCESS`` above it, at an event enough failing paths come back from
    (``min_paths`` visits ending there followed by another: else it is the end of the process) and
    enough successful paths reach (``min_reference``: leaving there is then no outcome of failing)."""
    import pandas as pd
    stops = stops.assign(event=[log.event_names[c] for c in stops["code"]]).drop(columns="code")
    table = table.merge(stops, on="event", how="left")
    kept = ((table["stop_q"] < spec.alpha) & (table["stop_rate"] >= STOP_RATIO * table["stop_reference"])
            & (table["stop_rate"] - table["stop_reference"] >= MIN_EXCESS)
            & (table["stop_goes_on"] >= spec.min_paths) & (table["failing_users"] >= spec.min_paths)
            & (table["successful_users"] >= spec.min_reference))
    table["stop_excess"] = np.where(kept, (table["stop_rate"] - table["stop_reference"]).round(4), 0.0)
    table["stop_goes_on"] = table["stop_goes_on"].fillna(0).astype(np.int64)
    return table.drop(columns="stop_q").pipe(pd.DataFrame.infer_objects)


def _material(table: pd.DataFrame, part: str) -> pd.Series:
    """A significant difference that is also big enough to matter: at least ``MIN_EXCESS`` share points
    and ``MIN_RATIO`` times the reference (a 2-point excess on a page every path ends on is noise
    made significant by volume)."""
    if part in ("exit", "loop"):
        return (table[f"{part}_excess"] >= MIN_EXCESS) & (
            table[f"{part}_rate_failing"] >= MIN_RATIO * table[f"{part}_reference"]) & _holds_per_visit(table, part)
    if part == "repeat":     # failing paths do it more often than they do the log's events typically
        return (table["repeat_excess"] >= MIN_DWELL_EXCESS) & (
            table["repeat_mean_failing"] >= MIN_RATIO * typical_repeat_ratio(table) * table["repeat_mean_successful"])
    return table[f"{part}_excess"] >= MIN_DWELL_EXCESS


def _holds_per_visit(table: pd.DataFrame, part: str) -> pd.Series:
    """The ratio must hold per visit too (where visits were counted): failing users who browse a
    guide page on more visits loop there on more of their paths, though no visit of theirs loops
    there more often than a successful user's (a travel log: 66% vs 52% of users, 44% vs 39% of visits).

    For exits, ``MIN_RATIO`` times the log's typical ratio (``typical_exit_ratio``): where failing
    visitors' visits end at every browsing page 1.2x as often as buyers' visits that do not convert
    (less intent, not a problem of the page), a page must stand out from that."""
    failing, reference = table[f"{part}_rate_failing_visits"], table[f"{part}_rate_successful_visits"]
    if part == "exit":
        reference = reference * typical_exit_ratio(table)
    return failing.isna() | reference.isna() | (failing >= MIN_RATIO * reference)


def typical_exit_ratio(table: pd.DataFrame) -> float:
    """How many times as often failing paths' visits end at an event as successful paths' visits that
    do not convert after it, typically: the median of that ratio over the events ``min_paths`` failing
    paths reach (at least 1). A median over the log's events: one stuck page does not move it.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"exit_rate_failing_visits": [0.45, 0.24, 0.12, 0.9, None],
    ...                       "exit_rate_successful_visits": [0.35, 0.2, 0.1, 0.3, 0.2], "eligible": True})
    >>> round(typical_exit_ratio(table), 3)           # ratios 1.29, 1.2, 1.2, 3.0: median 1.243
    1.243
    """
    failing = table["exit_rate_failing_visits"]
    if "eligible" in table:                        # ``_table`` marks the events enough failing paths reach
        failing = failing.where(table["eligible"])
    reference = table["exit_rate_successful_visits"]
    ratios = (failing / reference.where(reference > 0)).dropna()
    return max(float(ratios.median()), 1.0) if len(ratios) else 1.0


def _event_row(name, c, code, f_reach, s_reach, expected, expected_probabilities, waits, successful_user,
               spec) -> dict:
    f_end, s_end = int(c["left_failing"][code]), int(c["left_successful"][code])
    f_loop, s_loop = int(c["loop_failing"][code]), int(c["loop_successful"][code])
    f_exit = f_end / f_reach if f_reach else np.nan
    s_exit = s_end / s_reach if s_reach else np.nan
    expected_rate = expected / f_reach if f_reach else np.nan
    has_reference = s_reach >= spec.min_reference
    # The exit must beat the base rate, and successful paths when there are enough of them.
    # Without enough successful paths at the event there is nothing to be worse than: no exit part.
    p_base = poisson_binomial_greater(f_end, expected_probabilities) if f_reach else 1.0
    p_success = fisher_greater(f_end, f_reach, s_end, s_reach) if has_reference else np.nan
    reference = max(expected_rate, s_exit) if has_reference else np.nan
    s_open_reach = int(c["reach_successful_open"][code])
    s_exit_open = s_end / s_open_reach if s_open_reach >= spec.min_reference else np.nan
    if has_reference and not np.isnan(s_exit_open):     # like for like: visits that did not convert
        reference = max(reference, s_exit_open)
        p_success = max(p_success, fisher_greater(f_end, f_reach, s_end, s_open_reach))
    f_loop_rate = f_loop / f_reach if f_reach else np.nan
    s_loop_rate = s_loop / s_reach if s_reach else np.nan
    loop_reference, p_loop = s_loop_rate, fisher_greater(f_loop, f_reach, s_loop, s_reach)
    other = _other_sessions(c, code, f_reach, f_end, f_loop, spec.min_reference)
    if other and has_reference:     # per session: also worse than successful users (all their sessions)
        reference, p_success = max(reference, other["exit"]), max(p_success, other["exit_p"])
        loop_reference, p_loop = max(loop_reference, other["loop"]), max(p_loop, other["loop_p"])
    visits = _visit_check(c, code, spec.min_reference)
    if visits and has_reference:    # and worse per visit, not only through more visits
        if not np.isnan(visits["exit_p"]):
            p_success = max(p_success, visits["exit_p"])
        p_loop = max(p_loop, visits["loop_p"])
    row = {"event": name, "users": f_reach + s_reach, "failing_users": f_reach, "successful_users": s_reach,
           "ended_without_goal": int(c["end_failing"][code]), "left_failing": f_end, "left_successful": s_end,
           "exit_rate": round(int(c["end_failing"][code]) / (f_reach + s_reach), 4),
           "exit_rate_failing": _r(f_exit), "exit_rate_successful": _r(s_exit),
           "exit_rate_successful_open": _r(s_exit_open), "successful_users_open": s_open_reach,
           "exit_rate_expected": _r(expected_rate),
           "exit_reference": _r(reference),
           "exit_excess": _r(f_exit - reference) if has_reference else 0.0,
           "exit_p": max(p_base, p_success) if has_reference else np.nan,
           "loop_rate": _r((f_loop + s_loop) / (f_reach + s_reach)),
           "loop_rate_failing": _r(f_loop_rate), "loop_rate_successful": _r(s_loop_rate),
           "loop_reference": _r(loop_reference),
           "loop_excess": _r(f_loop_rate - loop_reference) if has_reference else 0.0,
           "loop_p": p_loop if has_reference else np.nan,
           "exit_rate_successful_users": _r(other["exit"]) if other else np.nan,
           "loop_rate_successful_users": _r(other["loop"]) if other else np.nan,
           "exit_rate_failing_visits": _r(visits["exit"]) if visits else np.nan,
           "exit_rate_successful_visits": _r(visits["exit_reference"]) if visits else np.nan,
           "loop_rate_failing_visits": _r(visits["loop"]) if visits else np.nan,
           "loop_rate_successful_visits": _r(visits["loop_reference"]) if visits else np.nan}
    after, before, repeats = waits
    row.update(after if after is not None and has_reference else _dwell_part(None, successful_user, False, 0))
    # A wait most paths reaching the step have, not a quirk of a few (lab results logged before registration)
    before = before if before is not None and len(before) >= MIN_WAIT_SHARE * (f_reach + s_reach) else None
    row.update(_dwell_part(before, successful_user, has_reference, spec.min_reference, "wait"))
    row.update(repeats if repeats is not None and has_reference else _repeat_part(None, successful_user, False, 0))
    return row


def _repeat_part(counts: Columns | None, successful_user: np.ndarray, has_reference: bool,
                 minimum: int) -> dict:
    """The columns of the repeat part: the mean count per path reaching the event (``path_repeats``),
    failing and successful, and the one-sided Mann-Whitney test of failing paths doing it more often than
    successful ones, each against their own other steps (``relative``)."""
    if counts is None or not has_reference:
        return {"repeat_mean_failing": np.nan, "repeat_mean_successful": np.nan, "repeat_excess": 0.0,
                "repeat_p": np.nan}
    ok = successful_user[counts["path"]]
    failing, successful = (counts["count"][mask].astype(float) for mask in (~ok, ok))
    enough = len(failing) >= minimum and len(successful) >= minimum
    relative = counts["relative"]
    auc, p = auc_greater(relative[~ok], relative[ok]) if enough else (0.5, np.nan)
    return {"repeat_mean_failing": _r(failing.mean(), 2) if len(failing) else np.nan,
            "repeat_mean_successful": _r(successful.mean(), 2) if len(successful) else np.nan,
            "repeat_excess": _r(auc - 0.5), "repeat_p": p}


def _other_sessions(c: dict, code: int, f_reach: int, f_end: int, f_loop: int, minimum: int) -> dict | None:
    """Per session: the share of successful users (over all their sessions) who leave from / loop on
    this event, with the
    one-sided tests of the failing sessions against them; None per user or with too few sessions."""
    if "reach_other" not in c or c["reach_other"][code] < minimum:
        return None
    o_reach, o_end, o_loop = (int(c[f"{k}_other"][code]) for k in ("reach", "left", "loop"))
    return {"exit": o_end / o_reach, "loop": o_loop / o_reach,
            "exit_p": fisher_greater(f_end, f_reach, o_end, o_reach),
            "loop_p": fisher_greater(f_loop, f_reach, o_loop, o_reach)}


def _dwell_part(waits: Columns | None, successful_user: np.ndarray, has_reference: bool,
                minimum: int, part: str = "dwell") -> dict:
    """The columns of a timed part: ``dwell`` (the wait after the event) or ``wait`` (before it)."""
    if waits is None or not has_reference:
        return {f"{part}_median_seconds_failing": np.nan, f"{part}_median_seconds_successful": np.nan,
                f"{part}_excess": 0.0, f"{part}_p": np.nan}
    ok = successful_user[waits["path"]]
    failing, successful = waits["wait"][~ok], waits["wait"][ok]
    enough = len(failing) >= minimum and len(successful) >= minimum
    auc, p = auc_greater(failing, successful) if enough else (0.5, np.nan)
    return {f"{part}_median_seconds_failing": _r(np.median(failing), 1) if len(failing) else np.nan,
            f"{part}_median_seconds_successful": _r(np.median(successful), 1) if len(successful) else np.nan,
            f"{part}_excess": _r(auc - 0.5), f"{part}_p": p}


def _r(value, digits: int = 4) -> float:
    """A number rounded to ``digits``; NaN for None or NaN."""
    return np.nan if value is None or np.isnan(value) else float(np.round(value, digits))


def _explain(row, spec: Spec, sequence: str | None = None) -> str:
    """The parts of a row in words (only the parts that count); ``sequence``: the property whose steps
    the row is one of (its stop part)."""
    import pandas as pd
    unit = spec.unit or "users"        # run() fills it from the log (with_unit)
    failing, successful, reaching = _group_words(spec, unit)
    parts = []
    if getattr(row, "stop_excess", 0) > 0 and sequence:
        parts.append(f"{_pct(row.stop_rate)} of {unit} {_who(unit)} reach it go no further and never reach the goal, "
                     f"vs {_pct(row.stop_reference)} at the other values of {sequence.rsplit('.', 1)[-1]}")
    elif getattr(row, "stop_excess", 0) > 0:           # a dead end (``dead_ends``)
        ending = (f"end their last visit there before they {outcome_verb(spec.goal)}" if spec.unwanted
                  else "stop there for good (no later visit)")
        parts.append(f"{_pct(row.stop_rate)} of {failing} {reaching} {ending}, vs {_pct(row.stop_reference)} "
                     f"expected from how often paths stop after a visit at the same point of their path")
    if row.exit_excess > 0:
        text = f"{_pct(row.exit_rate_failing)} of {failing} {reaching} end a visit there"
        text += f" vs {_pct(row.exit_rate_successful)} of {successful}"
        if not pd.isna(row.exit_rate_successful_open) and row.exit_rate_successful_open > row.exit_rate_successful:
            text += f", {_pct(row.exit_rate_successful_open)} on their visits that did not go on to the goal"
        elif pd.isna(row.exit_rate_successful_open) and row.successful_users >= spec.min_reference:
            which = "who" if unit == "users" else "which"          # cases and sessions are no people
            text += f", {which} nearly all go on to the goal in the same visit"       # no like-for-like reference
        if not pd.isna(row.exit_rate_successful_users):
            text += f" and {_pct(row.exit_rate_successful_users)} of users who succeed (in any session)"
        text += f" ({_pct(row.exit_rate_expected)} expected had they left at random steps)"
        parts.append(text)
    if row.loop_excess > 0:
        via = getattr(row, "loop_via", None)
        text = (f"{_pct(row.loop_rate_failing)} of {failing} loop on it{f' ({via})' if via else ''} vs "
                f"{_pct(row.loop_rate_successful)} of {successful}")
        if not pd.isna(row.loop_rate_successful_users):
            text += f" and {_pct(row.loop_rate_successful_users)} of users who succeed (in any session)"
        parts.append(text)
    if getattr(row, "repeat_excess", 0) > 0:
        via = getattr(row, "loop_via", None)
        parts.append(f"{failing} {reaching} do it {_times(row.repeat_mean_failing)} a visit on average"
                     f"{f' ({via})' if via else ''} vs {_times(row.repeat_mean_successful)} for {successful}")
    if row.dwell_excess > 0:
        parts.append(f"{failing} wait a median {units.duration(row.dwell_median_seconds_failing)} before their "
                     f"next step vs {units.duration(row.dwell_median_seconds_successful)} for {successful}")
    if getattr(row, "wait_excess", 0) > 0:
        parts.append(f"{failing} waited a median {units.duration(row.wait_median_seconds_failing)} for it "
                     f"(since their previous step) vs {units.duration(row.wait_median_seconds_successful)} for "
                     f"{successful}")
    if not parts:
        if row.failing_users < spec.min_paths:
            return f"too few {failing} reach it ({row.failing_users}) to judge"
        if row.successful_users < spec.min_reference:
            return f"too few {successful} reach it ({row.successful_users}) to compare with"
        return f"{failing} do no worse here than {successful}"
    return "; ".join(parts)


def _times(mean: float) -> str:
    """A mean count in words: "once", "4.2 times".

    >>> _times(1.0), _times(4.23)
    ('once', '4.2 times')
    """
    return "once" if round(mean, 1) == 1 else f"{mean:.1f} times"


def _group_words(spec: Spec, unit: str) -> tuple[str, str, str]:
    """The failing and successful groups in words, and "who reach it" after the failing group: "failing users",
    "successful users"; for a goal to avoid, "users who cancel", "users who never cancel" and "and reach it"."""
    if not spec.unwanted:
        return f"failing {unit}", f"successful {unit}", f"{_who(unit)} reach it"
    verb = outcome_verb(spec.goal)
    return f"{unit} {_who(unit)} {verb}", f"{unit} {_who(unit)} {never(verb)}", "and reach it"


def _who(unit: str) -> str:
    """Users "who" reach it; sessions and cases "that" do."""
    return units.who_or_that(unit)





# --- how successful users got unstuck --------------------------------------------------------------------


def unstuck_for(log: EventLog, name: str, goal: int, successful_user: np.ndarray, top: int = 5) -> dict:
    """What successful users did right after their last visit to ``name`` before the goal, and the route
    they took from there to the goal, against what failing users did after their last visit and the
    way they went from there until they left. Counted with arrays, one row per path: at 10M events a
    walk over the 1.7M paths that reach a stuck point took 15-20 s."""
    code = log.event_code(name)
    starts, ends = path_bounds(log)
    first_goal = np.full(log.n_users, len(log), dtype=np.int64)
    hits = np.flatnonzero(log.event == goal)
    first_goal[log.user[hits][::-1]] = hits[::-1]
    at = np.flatnonzero(log.event == code)
    at = at[at < first_goal[log.user[at]]]
    last = at[np.append(log.user[at][1:] != log.user[at][:-1], True)]     # last visit per path, in log order
    path_end = np.zeros(log.n_users, dtype=np.int64)
    path_end[log.user[starts]] = ends
    user = log.user[last]
    ok = successful_user[user].astype(bool)
    end = path_end[user]
    next_code = _next_other_step(log.event, last, end, code)
    # successful paths' route runs to the goal; failing paths' to their last step, then "(left)"
    keys = _route_keys(log, last, np.where(ok, first_goal[user], end - 1))
    n_ok, n_fail = int(ok.sum()), int((~ok).sum())
    s_next = _tally(_counts_first_seen(next_code[ok], log.event_names)) / max(n_ok, 1)
    f_next = _tally(_counts_first_seen(next_code[~ok], log.event_names)) / max(n_fail, 1)
    events = s_next.sub(f_next, fill_value=0).sort_values(ascending=False).index[:top]
    return {"event": name, "successful_users": n_ok, "failing_users": n_fail,
            "next": [{"event": e,
                      "successful_share": round(float(s_next.get(e, 0.0)), 4),
                      "failing_share": round(float(f_next.get(e, 0.0)), 4)} for e in events],
            "failing_left": round(float(f_next.get(LEFT, 0.0)), 4),
            "routes": _top_routes(keys[ok], n_ok, log.event_names),
            "failing_routes": _top_routes(keys[~ok], n_fail, log.event_names, then=LEFT)}


def _next_other_step(event: np.ndarray, position: np.ndarray, end: np.ndarray, code: int) -> np.ndarray:
    """The code of the first step after each ``position`` that is not ``code`` (repeats skipped) before
    its path's ``end``, or -1 where the path ends first.

    >>> _next_other_step(np.array([0, 0, 1, 0, 0]), np.array([0, 3]), np.array([3, 5]), 0).tolist()
    [1, -1]
    """
    following = position + 1
    going = np.flatnonzero(following < end)
    going = going[event[following[going]] == code]
    while len(going):                       # a repeat right after: look one further
        following[going] += 1
        going = going[following[going] < end[going]]
        going = going[event[following[going]] == code]
    inside = following < end
    return np.where(inside, event[np.where(inside, following, 0)], -1)


def _counts_first_seen(codes: np.ndarray, names: list[str]) -> dict[str, int]:
    """{name (``LEFT`` for -1): count}, in the order each is first seen in ``codes`` (``_tally``
    keeps that order for ties).

    >>> _counts_first_seen(np.array([1, -1, 1, 0]), ["a", "b"])
    {'b': 2, '(left)': 1, 'a': 1}
    """
    counts = np.bincount(codes + 1, minlength=len(names) + 1)
    first = np.full(len(names) + 1, len(codes))
    first[codes[::-1] + 1] = np.arange(len(codes))[::-1]        # the last write wins: the first seen
    seen = np.flatnonzero(counts)
    seen = seen[np.argsort(first[seen], kind="stable")]
    return {(LEFT if c == 0 else names[c - 1]): int(counts[c]) for c in seen}


ROUTE_SLOTS = 6         # a route longer than this shows its first 2 and last 3 steps around "…"
_GAP = -2               # the "…" slot of a shortened route's key
_EMPTY = -1             # a slot past a short route's end


def _route_keys(log: EventLog, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """One row per route from ``first`` to ``last`` (inclusive, in one path): the codes of its steps
    with consecutive repeats merged, ``_EMPTY`` after a short route's end, and for a long one its first
    2 steps, ``_GAP``, its last 3. Found from the runs of the whole log, never step by step.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a"] * 4, "event": ["x", "x", "y", "z"], "time": range(4)}))
    >>> _route_keys(log, np.array([0, 1]), np.array([3, 2])).tolist()
    [[0, 1, 2, -1, -1, -1], [0, 1, -1, -1, -1, -1]]
    """
    run_start = np.ones(len(log), dtype=bool)
    run_start[1:] = (log.event[1:] != log.event[:-1]) | (log.user[1:] != log.user[:-1])
    run = np.cumsum(run_start) - 1              # each step's run, numbered along the log
    run_code = log.event[run_start]
    r0, r1 = run[first], run[last]
    steps = r1 - r0 + 1
    keys = np.full((len(first), ROUTE_SLOTS), _EMPTY, dtype=np.int64)
    for slot in range(ROUTE_SLOTS):
        short = steps > slot
        short &= steps <= ROUTE_SLOTS
        keys[short, slot] = run_code[r0[short] + slot]
    long = steps > ROUTE_SLOTS
    keys[long, 0], keys[long, 1], keys[long, 2] = run_code[r0[long]], run_code[r0[long] + 1], _GAP
    for slot, back in ((3, 2), (4, 1), (5, 0)):
        keys[long, slot] = run_code[r1[long] - back]
    return keys


def _top_routes(keys: np.ndarray, paths: int, names: list[str], then: str | None = None, top: int = 3) -> list[dict]:
    """The ``top`` commonest routes among ``keys`` (rows of ``_route_keys``), ties in the order first
    seen, each as "a → b → …" (``then`` appended)."""
    if not len(keys):
        return []
    order = np.lexsort(keys.T[::-1])
    ordered = keys[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group_start = np.flatnonzero(new)
    counts = np.diff(np.append(group_start, len(keys)))
    first_seen = np.minimum.reduceat(order, group_start)
    chosen = np.lexsort((first_seen, -counts))[:top]
    return [{"route": _route_words(ordered[group_start[g]], names, then), "users": int(counts[g]),
             "share": round(int(counts[g]) / max(paths, 1), 4)} for g in chosen]


def _route_words(key: np.ndarray, names: list[str], then: str | None = None) -> str:
    """
    >>> _route_words(np.array([0, 1, _GAP, 2, 1, 0]), ["a", "b", "c"], then=LEFT)
    'a → b → … → c → b → a → (left)'
    """
    words = ["…" if c == _GAP else names[c] for c in key if c != _EMPTY]
    return " → ".join(words + ([then] if then else []))


def _tally(counts: dict[str, int]) -> pd.Series:
    """``pd.Series(values).value_counts()`` of the values counted in ``counts`` (keys in the order first
    seen, as pandas keeps them; ties stay in that order).

    >>> _tally({"b": 1, "a": 2, "c": 1}).to_dict()
    {'a': 2, 'b': 1, 'c': 1}
    """
    import pandas as pd
    index = pd.Index(list(counts), dtype=object)
    return pd.Series(list(counts.values()), index=index, dtype=np.int64, name="count").sort_values(
        ascending=False, kind="stable")


# --- where and since when it is worse ---------------------------------------------------------------


def part_flags(log: EventLog, code: int, part: str, goal: int | None = None,
               sequence: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(paths that reach the event, those of them that leave from it / loop on it / stop there for
    good: their last step of the ``sequence`` (a mask of codes), no ``goal`` after; without a
    ``sequence``, their last event: ``dead_ends``), per user code."""
    reach = np.zeros(log.n_users, dtype=bool)
    reach[log.user[log.event == code]] = True
    flagged = np.zeros(log.n_users, dtype=bool)
    if part == "exit":
        at = (log.event == code) & visit_ends(log)
        flagged[log.user[at]] = True
    elif part == "stop" and sequence is None:          # a dead end: the path's last event, no goal
        ends = visit_ends(log)
        _, path_ends = path_bounds(log)
        last_rows = path_ends - 1
        stopped = last_rows[(log.event[last_rows] == code) & ~users_with_event(log, goal)[log.user[last_rows]]]
        flagged[log.user[stopped]] = True
        reach &= _settled_paths(log, ends)
    elif part == "stop":
        rows = np.flatnonzero(sequence[log.event])
        settled = _settled(log, rows)
        _, stopped_rows = _last_and_stopped(log, rows[settled[log.user[rows]]], goal)
        flagged[log.user[stopped_rows[log.event[stopped_rows] == code]]] = True
        reach &= settled
    elif part == "repeat":
        counts = np.bincount(log.user[log.event == code], minlength=log.n_users)
        flagged = counts >= 2
    else:
        codes, users = loop_paths(log, len(log.event_names))
        flagged[users[codes == code]] = True
    return reach, flagged & reach


def with_unit(spec: Spec, log: EventLog) -> Spec:
    """The spec with the word for a path filled in from the log ("users", "cases", "sessions") unless given."""
    return spec if spec.unit is not None else replace(spec, unit=path_words(log))


def where_and_when(log: EventLog, row, successful_user: np.ndarray, properties: dict[str, np.ndarray],
                   spec: Spec, sequence: np.ndarray | None = None) -> dict:
    """For a stuck point's main part (leaving, looping or stopping for good): the property value where paths that reach it
    do it most (against paths with other values), and whether that changed between the first and the
    last third of the time range (by path start). All paths that reach it count, not only failing ones:
    among failing paths alone, a segment that converts well would look worse (its failing paths are
    the stuck ones). One-sided / two-sided Fisher tests, FDR over the comparisons made for this stuck
    point; only significant ones with ``min_paths`` paths on each side. ``sequence``: the steps (a mask
    of codes) a row found inside an event belongs to, for its stop part.

    And, whatever the main part, who or what handled the step itself (``at_step``, ``step_text``): the
    properties the step's own events carry (``pathprops.step_properties``: its adjuster, its meter
    type), each value against the others on the main part, on the wait for the step (Mann-Whitney)
    and on the share that never reach the goal (Fisher), in the same FDR family."""
    spec = with_unit(spec, log)
    code = log.event_code(row.event)
    excess = {"loop": row.loop_excess, "exit": row.exit_excess, "stop": getattr(row, "stop_excess", 0.0),
              "repeat": getattr(row, "repeat_excess", 0.0)}
    part = max(excess, key=excess.get)          # ties: loop, then exit
    if excess[part] <= 0:
        part = None
    stop_at = (log.event_code(spec.goal), sequence) if part == "stop" else (None, None)
    if part is not None:
        reach, flagged = part_flags(log, code, part, *stop_at)
    else:
        reach = np.zeros(log.n_users, dtype=bool)
        reach[log.user[log.event == code]] = True
        flagged = None
    candidates = _where_candidates(reach, flagged, properties, spec.min_paths) if part else []
    step_tests = _step_candidates(log, code, reach, flagged, successful_user, spec.min_paths, properties)
    # Whether paths stopped for good is clearer the longer they were watched: later starters would
    # always seem to stop more, so no "when" for stopping.
    change = _when_candidate(log, reach, flagged, spec.min_paths) if part not in ("stop", None) else None
    tests = candidates + step_tests + ([change] if change else [])
    q = benjamini_hochberg(np.array([t["p_value"] for t in tests], dtype=float)) if tests else []
    for test, value in zip(tests, q):
        test["q_value"] = float(value)
    out = {"part": part, "where": None, "when": None, "where_text": "", "when_text": ""}
    out.update(_at_step_found(row.event, step_tests, part, spec))
    if part is None:
        return out
    found = [c for c in candidates if c["q_value"] < spec.alpha and _material_segment(c)]
    where = max(found, key=lambda c: c["rate"] - c["rate_others"]) if found else None
    when = change if change and change["q_value"] < spec.alpha else None
    if where is not None:         # a change confined to the worst segment is diluted in the overall rate
        within = _when_candidate(log, reach & (properties[where["property"]] == where["value"]), flagged,
                                 spec.min_paths) if part != "stop" else None
        if within and min(1.0, 2 * within["p_value"]) < spec.alpha and (when is None
                                                                         or within["p_value"] < when["p_value"]):
            when = {**within, "segment": f"{where['property']} = {where['value']}"}
    out.update({"where": where, "when": when})
    if where and out["at_step"] and where["property"] == out["at_step"]["property"]:
        # told by the path's value already: a second "worst for" the same property (an app version
        # at the step after the first touch's) would read as a contradiction
        out.update(step_text="", step_brief="")
    out["where_text"] = (f"worst for {where['property']} = {where['value']}: {_pct(where['rate'])} of those "
                         f"{spec.unit} {_who(spec.unit)} reach it {PART_VERBS[part]} vs {_pct(where['rate_others'])} "
                         f"of the others"
                         ) if where else ""
    out["when_text"] = ((f"among {when['segment']} paths, " if when and when.get("segment") else "")
                        + f"{'up' if when['rate_late'] > when['rate_early'] else 'down'} from "
                        f"{_pct(when['rate_early'])} of {spec.unit} starting {when['early']} to "
                        f"{_pct(when['rate_late'])} of those starting {when['late']}") if when else ""
    return out


PART_VERBS = {"loop": "loop on it", "exit": "end a visit there", "stop": "go no further",
              "repeat": "do it more than once"}


def wait_before_first(log: EventLog, code: int) -> np.ndarray:
    """Per user code: the seconds between the path's first event of type ``code`` and the event before
    it in the same session (NaN where there is none: the path never reaches it, or starts a visit with it).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["x", "y", "y", "y"],
    ...                                         "time": [0, 90_000, 99_000, 0]}))
    >>> wait_before_first(log, log.event_code("y")).tolist()
    [90.0, nan]
    """
    out = np.full(log.n_users, np.nan)
    at = np.flatnonzero(log.event == code)
    first = at[np.append(True, log.user[at][1:] != log.user[at][:-1])]
    previous = first[first > 0] - 1
    same = (log.user[previous] == log.user[previous + 1]) & (log.session[previous] == log.session[previous + 1])
    previous = previous[same]
    out[log.user[previous + 1]] = (log.ts[previous + 1] - log.ts[previous]) / 1000.0
    return out


def _step_candidates(log: EventLog, code: int, reach: np.ndarray, flagged: np.ndarray | None,
                     successful_user: np.ndarray, minimum: int, properties: dict[str, np.ndarray]) -> list[dict]:
    """One test per (step property, value, measure), the value's paths against the other paths reaching
    the step: ``part`` (the stuck point's main part: loop, leave, stop), ``fail`` (never reach the goal)
    and ``wait`` (the wait for the step, since the path's previous event: Mann-Whitney, its size
    P(a path of the value waits longer) - 1/2). Left out: a property whose value at the step is the
    path's own (``properties``: who took the path, told already) and one that restates the outcome."""
    from journey_explorer.analysis.pathprops import step_properties
    out = []
    waits = None
    for name, values in step_properties(log, code).items():
        if _same_as_path(values, properties.get(name), reach) or _restates_goal(values, reach, successful_user):
            continue
        for value in pd_unique(values[reach]):
            mine, others = reach & (values == value), reach & (values != value)
            n, m = int(mine.sum()), int(others.sum())
            if value is None or n < minimum or m < minimum:
                continue
            base = {"property": name, "value": value, "paths": n}
            if flagged is not None:
                x, y = int((flagged & mine).sum()), int((flagged & others).sum())
                out.append({**base, "measure": "part", "rate": round(x / n, 4), "rate_others": round(y / m, 4),
                            "p_value": fisher_greater(x, n, y, m)})
            x, y = int((~successful_user & mine).sum()), int((~successful_user & others).sum())
            out.append({**base, "measure": "fail", "rate": round(x / n, 4), "rate_others": round(y / m, 4),
                        "p_value": fisher_greater(x, n, y, m)})
            waits = wait_before_first(log, code) if waits is None else waits
            own, rest = waits[mine & ~np.isnan(waits)], waits[others & ~np.isnan(waits)]
            if len(own) >= minimum and len(rest) >= minimum:
                auc, p = auc_greater(own, rest)
                out.append({**base, "measure": "wait", "rate": float(np.median(own)),
                            "rate_others": float(np.median(rest)), "excess": round(auc - 0.5, 4), "p_value": p})
    return out


SAME_VALUE = 0.95       # a step's property with the path's own value on this share of its paths is the path's


def _same_as_path(at_step: np.ndarray, of_path: np.ndarray | None, reach: np.ndarray) -> bool:
    """Whether the step's value is the path's own (first touch) on ``SAME_VALUE`` of the paths reaching it."""
    if of_path is None or not reach.any():
        return False
    return float(np.mean(at_step[reach] == of_path[reach])) >= SAME_VALUE


def _restates_goal(values: np.ndarray, reach: np.ndarray, successful_user: np.ndarray, minimum: int = 10) -> bool:
    """Whether a value held by ``minimum`` paths always reaches the goal: a plan that reads "paid" once
    the user upgraded is the goal under another name, not who handled the step.

    >>> _restates_goal(np.array(["paid"] * 10 + ["trial"] * 10, dtype=object), np.ones(20, dtype=bool),
    ...                np.array([True] * 10 + [False, True] * 5))
    True
    """
    for value in pd_unique(values[reach]):
        mine = reach & (values == value)
        if value is not None and mine.sum() >= minimum and successful_user[mine].all():
            return True
    return False


def pd_unique(values: np.ndarray) -> list:
    """The distinct values, in the order first seen (None kept)."""
    import pandas as pd
    return list(pd.unique(values))


def _at_step_found(step: str, tests: list[dict], part: str | None, spec: Spec) -> dict:
    """The step property value worse on the most measures (significant and material: ``MIN_EXCESS``
    share points, or ``MIN_DWELL_EXCESS`` for the wait), then by how many more never reach the goal;
    with its sentence ("worst for org:resource = A_KAISER at Assess Damage: waited a median …")."""
    passed: dict[tuple, dict] = {}
    for test in tests:
        material = (test["excess"] >= MIN_DWELL_EXCESS if test["measure"] == "wait"
                    else _material_segment(test))
        if test["q_value"] < spec.alpha and material:
            passed.setdefault((test["property"], test["value"]), {})[test["measure"]] = test
    if not passed:
        return {"at_step": None, "step_text": "", "step_brief": ""}

    def worse(key):
        fail = passed[key].get("fail")
        return len(passed[key]), (fail["rate"] - fail["rate_others"]) if fail else 0.0

    key = max(passed, key=worse)
    found = passed[key]
    unit, that = spec.unit, _who(spec.unit)
    said = []
    if "wait" in found:
        wait = found["wait"]
        said.append(f"they waited a median {units.duration(wait['rate'])} for it (since their previous step) vs "
                    f"{units.duration(wait['rate_others'])} for the others")
    if "part" in found:
        said.append(f"{_pct(found['part']['rate'])} of them {PART_VERBS[part]} vs "
                    f"{_pct(found['part']['rate_others'])} of the others")
    # For a goal to avoid the "fail" measure counts the paths that do it ("cancel"), else those that never reach it.
    failed = outcome_verb(spec.goal) if spec.unwanted else f"never reach {spec.goal}"
    if "fail" in found:
        fail = found["fail"]
        said.append(f"{_pct(fail['rate'])} {failed} vs {_pct(fail['rate_others'])} of the others")
    paths = next(iter(found.values()))["paths"]
    text = f"worst for {key[0]} = {key[1]} at {step} ({paths:,} {unit} {that} reach it): " + "; ".join(said)
    brief = []        # the same, said short for a list of further stuck points
    if "wait" in found:
        brief.append(f"waited a median {units.duration(found['wait']['rate'])} vs "
                     f"{units.duration(found['wait']['rate_others'])}")
    if "part" in found:
        brief.append(f"{_pct(found['part']['rate'])} {PART_VERBS[part]} vs {_pct(found['part']['rate_others'])}")
    if "fail" in found:
        brief.append(f"{_pct(found['fail']['rate'])} {failed} vs {_pct(found['fail']['rate_others'])}")
    return {"at_step": {"property": key[0], "value": key[1], "tests": found}, "step_text": text,
            "step_brief": f"{key[0]} = {key[1]}: " + "; ".join(brief)}


def _material_segment(candidate: dict) -> bool:
    """A value is named only where it is worse by a size that matters: ``MIN_EXCESS`` share points
    more than the others, as each part must be ("1% vs 0.2%" is significant over thousands of paths,
    and says nothing; "63% vs 53%" does).

    >>> _material_segment({"rate": 0.01, "rate_others": 0.002}), _material_segment({"rate": 0.63, "rate_others": 0.53})
    (False, True)
    """
    return candidate["rate"] - candidate["rate_others"] >= MIN_EXCESS


def _where_candidates(reach, flagged, properties, minimum) -> list[dict]:
    import pandas as pd
    out = []
    for name, values in properties.items():
        for value in pd.unique(values[reach]):
            if value is None:
                continue
            mine = reach & (values == value)
            others = reach & ~(values == value)
            n, m = int(mine.sum()), int(others.sum())
            if n < minimum or m < minimum:
                continue
            x, y = int((flagged & mine).sum()), int((flagged & others).sum())
            out.append({"property": name, "value": value, "paths": n, "rate": round(x / n, 4),
                        "rate_others": round(y / m, 4), "p_value": fisher_greater(x, n, y, m)})
    return out


def _when_candidate(log: EventLog, reach, flagged, minimum) -> dict | None:
    """First third against last third of the time range, by the time each path starts."""
    if not len(log):
        return None
    starts, _ = path_bounds(log)
    start_time = np.full(log.n_users, -1, dtype=np.int64)
    start_time[log.user[starts]] = log.ts[starts]
    low, high = int(log.ts.min()), int(log.ts.max())
    cut1, cut2 = low + (high - low) // 3, low + 2 * (high - low) // 3
    early, late = reach & (start_time < cut1), reach & (start_time >= cut2)
    n, m = int(early.sum()), int(late.sum())
    if n < minimum or m < minimum:
        return None
    x, y = int((flagged & early).sum()), int((flagged & late).sum())
    p = fisher_two_sided_p(x, n, y, m)
    return {"early": f"{_date(low)} – {_date(cut1)}", "late": f"{_date(cut2)} – {_date(high)}",
            "paths_early": n, "paths_late": m, "rate_early": round(x / n, 4), "rate_late": round(y / m, 4),
            "p_value": p}


def _date(ms: int) -> str:
    import pandas as pd
    return str(pd.Timestamp(ms, unit="ms").date())

