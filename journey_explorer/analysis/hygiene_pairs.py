"""Evidence that two event names are one action, and how much to believe it.

Signals per pair (each a few array look-ups, from facts computed once per log):

- **names** (``hygiene_names``): the same once spelling habits are set aside, similar, or unrelated;
- **together**: share of the rarer name's sessions that also hold the other. One action under two
  names almost never appears twice in one session; two different actions (add / remove from cart) do;
- **neighbours**: overlap of their directly-follows neighbourhoods (what comes just before and just
  after, within sessions; the two names counted as one symbol): 1 - total variation distance;
- **position**: the median step of a session at which each occurs.
  Where most sessions hold fewer than ``MIN_SESSION_STEPS`` events (process logs: a case's steps
  are hours apart) these three are taken within whole paths instead;
- **switch**: one name's events all fall before a day and the other's after it, while the log's
  volume (standardised by path age, ``hygiene_volume``) says both would otherwise have been seen
  there: a rename in a release;
- **platform**: each name carries only one value of an event property that most events carry with
  several values (``platform=ios`` vs ``android``).

Confidence = sigmoid(sum of log-odds): prior -2.0; names same +2.5, similar +1.0; together in at
most 2 % of sessions +1.0, 10 % +0.3, 30 % -1.0, more -2.5; neighbours agreeing 70 %+ +1.0, 50 %+
+0.3, 30 %+ -1.0, less -2.5; same typical step +0.3, far apart -0.7; switch +2.0; platform split
+2.0 (only when the names agree once the platform's own words are set aside: ``share_ios`` /
``share_android``; two unrelated names split by platform are as likely two platform-only features).
A signal without enough data (``MIN_SESSIONS``, ``MIN_NEIGHBOUR_EVENTS``) adds 0. Names alone reach "medium" (0.62) but
not "high", and behaviour that disagrees pulls them under the threshold. Similar or unrelated
names are judged (and suggested) only with a switch or a platform split: alternatives
(``Release A`` / ``Release B``) share neighbours and exclude each other too, so behaviour alone
cannot tell them from one action; without that signal their confidence stays at
``NOT_SUGGESTED_CAP``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from journey_explorer.analysis.hygiene_names import SAME, SIMILAR, UNRELATED, candidate_name_pairs, name_match, words
from journey_explorer.analysis.hygiene_volume import DailyVolume, median_count, unique_counts
from journey_explorer.eventlog import MISSING, EventLog

PRIOR_LOGIT = -2.0
NAME_WEIGHT = {SAME: 2.5, SIMILAR: 1.0}
MIN_NEIGHBOUR_EVENTS = 20      # fewer transitions than this: neighbourhoods are not compared
MIN_SESSIONS = 10              # fewer sessions than this: togetherness is not judged
SWITCH_PURITY = 0.95           # share of each name's events on its own side of the switch day
MIN_EXPECTED_ABSENT = 10.0     # an absence means something only where this many were expected
MIN_GAP_DAYS = 7               # a stop and a start this many days apart are two changes, not one rename
PLATFORM_SHARE = 0.95          # a name "only" with a value: at least this share of its tagged events
MIN_TAGGED = 10
MAX_PROPERTY_VALUES = 20
MIXED_NAME_SHARE = 0.9         # a name below this dominant share carries the property "mixed"
BEHAVIOUR_SCREEN = 0.6         # unrelated names: neighbourhood cosine needed to look further
MAX_SCREENED_NAMES = 400       # behaviour-only screening is quadratic: the most used names only
MIN_SCREENED_EVENTS = 30
MIN_SESSION_STEPS = 3          # median events per session below this: compare within whole paths
NOT_SUGGESTED_CAP = 0.4        # confidence of a pair without a name match or a structural signal


@dataclass
class PairEvidence:
    a: str
    b: str
    match: str
    confidence: float
    structural: bool                       # a switch date or a platform split was found
    evidence: list[str] = field(default_factory=list)
    signals: dict = field(default_factory=dict)
    switch_day: str | None = None          # the day the later name took over (a rename)
    later: str | None = None               # the name in use after the switch

    def to_json_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "name_match": self.match, "confidence": round(self.confidence, 3),
                "evidence": self.evidence, "signals": self.signals}


def behaviour_unit(log: EventLog) -> tuple[np.ndarray, str]:
    """The stretch of a path that behaviour is compared within: sessions, unless most sessions are
    too short to have neighbours (process logs, where a case's steps are hours or days apart:
    then whole paths). Returns (non-decreasing unit index per event, its word)."""
    per_session = np.bincount(log.session) if len(log) else np.zeros(0, dtype=np.int64)
    if len(log) and median_count(per_session[per_session > 0]) >= MIN_SESSION_STEPS:
        return log.session, "session"
    return log.user.astype(np.int64), "path"


class PairFacts:
    """Per-name facts every pair is judged from, computed once for the log."""

    def __init__(self, log: EventLog, volume: DailyVolume):
        self.log, self.volume = log, volume
        self.names = log.event_names
        n = len(self.names)
        self.counts = np.bincount(log.event, minlength=n)
        self.unit, self.unit_word = behaviour_unit(log)
        self.cumulative = cumulative_volume(volume)
        self._switch_windows()
        self._sessions(log, n)
        self._neighbours(log, n)
        self.properties = [_property_profile(name, column, log.event, n)
                           for name, column in log.event_properties.items()]
        self.properties = [p for p in self.properties if p is not None]

    def _sessions(self, log: EventLog, n: int) -> None:
        """Sessions (units) holding each name, and pairwise ones holding both (sparse product)."""
        keys = unique_counts(self.unit.astype(np.int64) * n + log.event)[0]
        session, event = keys // n, keys % n
        self.sessions = np.bincount(event, minlength=n)
        # Only units with two names or more can hold a pair: the product skips the others.
        shared = np.bincount(session)[session] > 1
        session, event = session[shared], event[shared]
        import scipy.sparse as sparse  # imported when used: scipy costs ~0.5 s at start-up
        presence = sparse.csr_matrix((np.ones(len(session), dtype=np.int32), (session, event)),
                                     shape=(int(session.max()) + 1 if len(session) else 0, n))
        self.together = (presence.T @ presence).tocsr()
        # Step of a session at which each event happens (1-based), summarised per name.
        starts = np.ones(len(log), dtype=bool)
        starts[1:] = self.unit[1:] != self.unit[:-1]
        first = np.maximum.accumulate(np.where(starts, np.arange(len(log)), 0))
        step = np.arange(len(log)) - first + 1
        self.median_step = median_per_name(log.event, step, n)

    def _neighbours(self, log: EventLog, n: int) -> None:
        """Directly-follows counts within units; column ``n`` is the unit's start (for
        predecessors) or end (for successors). One count of transitions serves both: the
        predecessors of b are the transitions into b."""
        same = self.unit[1:] == self.unit[:-1]
        width = n + 1
        # Transitions (a -> b) inside units, plus (a -> end) where a unit ends; rows: a, columns: b or end.
        following = np.where(same, log.event[1:], n).astype(np.int64)
        following = np.append(following, n)
        counts = np.bincount(log.event.astype(np.int64) * width + following, minlength=n * width).reshape(n, width)
        self.succ = counts
        starts = np.bincount(log.event[np.append(True, ~same)], minlength=n)
        self.pred = np.hstack([counts[:, :n].T, starts[:, None]])

    # --- candidates -----------------------------------------------------------------------------

    def candidates(self) -> dict[tuple[int, int], str]:
        """Pairs worth judging: names that match, plus pairs of unrelated names whose behaviour
        looks alike (frequent names, similar neighbours, hardly ever in one session)."""
        pairs = candidate_name_pairs(self.names)
        for pair in self._behaviour_screen():
            pairs.setdefault(pair, name_match(self.names[pair[0]], self.names[pair[1]]))
        return pairs

    def _behaviour_screen(self) -> list[tuple[int, int]]:
        frequent = np.flatnonzero(self.counts >= MIN_SCREENED_EVENTS)
        frequent = frequent[np.argsort(-self.counts[frequent], kind="stable")][:MAX_SCREENED_NAMES]
        if len(frequent) < 2:
            return []
        profile = np.hstack([_unit_rows(self.pred[frequent]), _unit_rows(self.succ[frequent])]) / math.sqrt(2)
        cosine = profile @ profile.T
        together = self.together[frequent][:, frequent].toarray()
        rarer = np.minimum.outer(self.sessions[frequent], self.sessions[frequent])
        alike = (cosine >= BEHAVIOUR_SCREEN) & (together <= 0.05 * np.maximum(rarer, 1))
        i, j = np.nonzero(np.triu(alike, k=1))
        return [tuple(sorted((int(frequent[x]), int(frequent[y])))) for x, y in zip(i, j)]

    def _switch_windows(self) -> None:
        """Per name, the first day boundary by which ``SWITCH_PURITY`` of its events happened, and
        the last by which at most 1 - ``SWITCH_PURITY`` had: a switch from i to j needs the first of
        i to come no later than the last of j (a cheap test before ``find_switch``)."""
        share_before = self.cumulative[0]
        enough = self.volume.observed.sum(axis=1) >= 5 if self.volume.days else np.zeros(len(self.names), bool)
        self.reach = np.where(enough, np.argmax(share_before >= SWITCH_PURITY, axis=1), np.iinfo(np.int64).max)
        self.until = (share_before <= 1 - SWITCH_PURITY).sum(axis=1) - 1

    def worth_judging(self, i: int, j: int, match: str) -> bool:
        """Same names always; others only when a switch or a platform split is possible."""
        return (match == SAME or self.reach[i] <= self.until[j] or self.reach[j] <= self.until[i]
                or any(profile.split(i, j) is not None for profile in self.properties))

    # --- judging one pair -----------------------------------------------------------------------

    def judge(self, i: int, j: int, match: str) -> PairEvidence:
        pair = PairEvidence(self.names[i], self.names[j], match, 0.0, False)
        logit = PRIOR_LOGIT + NAME_WEIGHT.get(match, 0.0)
        # Structural signals first: without them a pair of unrelated names is not worth the rest.
        logit += self._switch(i, j, pair) + self._platform(i, j, pair)
        structural_lines, pair.evidence = pair.evidence, [_NAME_WORDS[match]]
        if match != SAME and not pair.structural:       # could be alternatives: not judged further
            pair.confidence = min(_sigmoid(logit), NOT_SUGGESTED_CAP)
            return pair
        for signal in (self._together, self._neighbour_signal, self._position):
            logit += signal(i, j, pair)
        pair.evidence += structural_lines              # names, behaviour, then the date / platform
        pair.confidence = _sigmoid(logit)
        pair.signals["logit"] = round(logit, 2)
        return pair

    def _together(self, i: int, j: int, pair: PairEvidence) -> float:
        rarer = int(min(self.sessions[i], self.sessions[j]))
        if rarer < MIN_SESSIONS:
            return 0.0
        both = int(self.together[i, j])
        share = both / rarer
        pair.signals["same_session_share"] = round(share, 4)
        pair.signals["unit"] = unit = self.unit_word
        if share <= 0.02:
            pair.evidence.append(f"never in the same {unit} (0 of {rarer:,})" if both == 0 else
                                 f"almost never in the same {unit} ({both:,} of {rarer:,})")
            return 1.0
        pair.evidence.append(f"together in {share:.0%} of the {unit}s of the rarer name ({both:,} of {rarer:,})")
        return 0.3 if share <= 0.10 else -1.0 if share <= 0.30 else -2.5

    def _neighbour_signal(self, i: int, j: int, pair: PairEvidence) -> float:
        similarity = neighbour_similarity(self.pred, self.succ, i, j, MIN_NEIGHBOUR_EVENTS)
        if similarity is None:
            return 0.0
        pair.signals["neighbour_similarity"] = round(similarity, 3)
        pair.evidence.append(f"{similarity:.0%} of what comes just before and after them agrees")
        return 1.0 if similarity >= 0.7 else 0.3 if similarity >= 0.5 else -1.0 if similarity >= 0.3 else -2.5

    def _position(self, i: int, j: int, pair: PairEvidence) -> float:
        si, sj = self.median_step[i], self.median_step[j]
        if np.isnan(si) or np.isnan(sj) or min(self.counts[i], self.counts[j]) < MIN_NEIGHBOUR_EVENTS:
            return 0.0
        pair.signals["median_session_step"] = [float(si), float(sj)]
        gap, top = abs(si - sj), max(si, sj)
        if gap <= max(1.0, 0.25 * top):
            pair.evidence.append(f"both typically step {si:g}{'' if si == sj else f' / {sj:g}'} of a {self.unit_word}")
            return 0.3
        pair.evidence.append(f"typically step {si:g} vs step {sj:g} of a {self.unit_word}")
        return -0.7 if gap > max(2.0, 0.5 * top) else 0.0

    def _switch(self, i: int, j: int, pair: PairEvidence) -> float:
        found = find_switch(self.volume, i, j, self.cumulative)
        if found is None:
            return 0.0
        first, second, day, purity = found
        pair.structural = True
        pair.switch_day, pair.later = self.volume.date(day), self.names[second]
        pair.signals["switch"] = {"before": self.names[first], "after": self.names[second],
                                  "day": pair.switch_day, "purity": round(purity, 4)}
        pair.evidence.append(f"{self.names[first]} stops and {self.names[second]} starts on {pair.switch_day} "
                             f"({purity:.0%} of each on its side of that day): a rename in a release?")
        return 2.0

    def _platform(self, i: int, j: int, pair: PairEvidence) -> float:
        for profile in self.properties:
            split = profile.split(i, j)
            if split is not None:
                (value_i, share_i, n_i), (value_j, share_j, n_j) = split
                pair.signals["platform"] = {"property": profile.name, "values": [value_i, value_j]}
                pair.evidence.append(
                    f"{pair.a} only with {profile.name}={value_i} ({share_i:.0%} of {n_i:,} events), "
                    f"{pair.b} only with {profile.name}={value_j} ({share_j:.0%} of {n_j:,})")
                # With a switch the split is the release's own property (tracking_plan = v1 / v2).
                if pair.switch_day is None and not names_agree_without(pair.a, pair.b, (value_i, value_j)):
                    # Two platform-only features (a consent prompt on one system, a permission
                    # prompt on the other; Apple Pay / Google Pay) split the same way and sit in the
                    # same place of the flow: a split between unrelated names proves nothing.
                    pair.evidence.append("the names differ apart from the platform: two platform-only "
                                         "features look just like this")
                    return 0.0
                pair.structural = True
                return 2.0
        return 0.0


def names_agree_without(a: str, b: str, values) -> bool:
    """The two names match once the words of the property's values are taken out of both: the name
    itself says it is one system's version (``share_ios`` / ``share_android``).

    >>> names_agree_without("share_ios", "share_android", ("ios", "android"))
    True
    >>> names_agree_without("att_prompt_shown", "notification_permission_shown", ("ios", "android"))
    False
    """
    if name_match(a, b) != UNRELATED:
        return True
    value_words = {word for value in values for word in words(str(value))}
    rest_a = [word for word in words(a) if word not in value_words]
    rest_b = [word for word in words(b) if word not in value_words]
    return bool(rest_a) and bool(rest_b) and name_match(" ".join(rest_a), " ".join(rest_b)) != UNRELATED


_NAME_WORDS = {
    SAME: "the names agree once case, separators, plurals and word order are set aside",
    SIMILAR: "the names are similar",
    UNRELATED: "the names differ (found by behaviour)",
}


def _sigmoid(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


def median_per_name(event: np.ndarray, step: np.ndarray, n_names: int, cap: int = 1000) -> np.ndarray:
    """Median of ``step`` (1, 2, ...) per name (NaN for absent names; of two middle values the upper),
    from a histogram: steps beyond ``cap`` count as ``cap`` (that far into a session is "very late"
    either way).

    >>> median_per_name(np.array([0, 0, 0, 1]), np.array([1, 2, 9, 4]), 3).tolist()
    [2.0, 4.0, nan]
    """
    counts = np.bincount(event.astype(np.int64) * cap + np.minimum(step, cap) - 1,
                         minlength=n_names * cap).reshape(n_names, cap)
    totals = counts.sum(axis=1)
    below = np.cumsum(counts, axis=1)
    median = (below < (totals[:, None] + 1) / 2).sum(axis=1) + 1.0
    return np.where(totals > 0, median, np.nan)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix.astype(float)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def neighbour_similarity(pred: np.ndarray, succ: np.ndarray, i: int, j: int, minimum: int) -> float | None:
    """Mean of predecessor and successor overlap (1 - total variation distance), the two names
    counted as one symbol; None when either has fewer than ``minimum`` transitions.

    >>> pred = np.array([[0, 0, 5, 5], [0, 0, 5, 5], [0, 0, 0, 9]])     # names 0, 1 both follow 2 or start
    >>> succ = np.array([[0, 9, 1, 0], [9, 0, 1, 0], [0, 0, 0, 9]])     # 0 -> 1 and 1 -> 0: the same symbol
    >>> round(neighbour_similarity(pred, succ, 0, 1, minimum=5), 2)
    1.0
    """
    out = []
    for matrix in (pred, succ):
        rows = matrix[[i, j]].astype(float)
        rows[:, i] += rows[:, j]
        rows[:, j] = 0
        totals = rows.sum(axis=1)
        if totals.min() < minimum:
            return None
        shares = rows / totals[:, None]
        out.append(float(np.minimum(shares[0], shares[1]).sum()))
    return sum(out) / 2


def cumulative_volume(volume: DailyVolume) -> tuple[np.ndarray, np.ndarray]:
    """Per name and day boundary ``d``: (share of its events on days before ``d``, expected count
    before ``d``), each ``(names, days + 1)``."""
    observed = np.concatenate([np.zeros((volume.observed.shape[0], 1)), np.cumsum(volume.observed, axis=1)], axis=1)
    expected = np.concatenate([np.zeros((volume.expected.shape[0], 1)), np.cumsum(volume.expected, axis=1)], axis=1)
    return observed / np.maximum(observed[:, -1:], 1), expected


def find_switch(volume: DailyVolume, i: int, j: int, cumulative=None) -> tuple[int, int, int, float] | None:
    """(earlier name, later name, first day of the later one, purity) when one name's events all
    come before a day and the other's from it on, and each would have been seen on the other's side
    at the log's volume (``MIN_EXPECTED_ABSENT``); else None. ``cumulative``: ``cumulative_volume``
    (computed once for many pairs)."""
    if volume.days < 2 or min(volume.observed[i].sum(), volume.observed[j].sum()) < 5:
        return None
    share_before, expected_before = cumulative if cumulative is not None else cumulative_volume(volume)
    best = None
    for first, second in ((i, j), (j, i)):
        purity = np.minimum(share_before[first], 1 - share_before[second])     # boundary d: days < d
        day = len(purity) - 1 - int(np.argmax(purity[::-1]))                     # the last of equal bests
        if purity[day] < SWITCH_PURITY or not 0 < day < volume.days:
            continue
        # The expected counts sum to each name's observed total over the log (hygiene_volume).
        missing_second = expected_before[second, day]
        missing_first = expected_before[first, -1] - expected_before[first, day]
        if min(missing_second, missing_first) < MIN_EXPECTED_ABSENT or _gap_between(volume, expected_before,
                                                                                    first, second, day):
            continue
        if best is None or purity[day] > best[3]:
            best = (first, second, day, float(purity[day]))
    return best


def _gap_between(volume: DailyVolume, expected_before: np.ndarray, first: int, second: int, day: int) -> bool:
    """Whether weeks pass between the first name's last day and the second's first day in which either
    would have been seen at its usual share of the volume: one thing stopped and another began later,
    not a rename (which switches over a day)."""
    seen_first = np.flatnonzero(volume.observed[first][:day])
    seen_second = np.flatnonzero(volume.observed[second][day:])
    if not len(seen_first) or not len(seen_second):
        return False
    gap_start, gap_end = int(seen_first[-1]) + 1, day + int(seen_second[0])     # days [gap_start, gap_end)
    if gap_end - gap_start < MIN_GAP_DAYS:         # a release day, a weekend: still a switch
        return False
    expected = [expected_before[name, gap_end] - expected_before[name, gap_start] for name in (first, second)]
    return max(expected) >= MIN_EXPECTED_ABSENT


@dataclass
class PropertyProfile:
    """Which value of one event property each name carries: ``dominant[e]`` (value), ``share[e]``
    (of the name's tagged events) and ``tagged[e]``; ``platform_like``: most events carry the
    property with mixed values, so a name bound to one value stands out."""

    name: str
    values: np.ndarray
    dominant: np.ndarray
    share: np.ndarray
    tagged: np.ndarray

    def split(self, i: int, j: int):
        ok = (min(self.tagged[i], self.tagged[j]) >= MIN_TAGGED and min(self.share[i], self.share[j]) >= PLATFORM_SHARE
              and self.dominant[i] != self.dominant[j])
        if not ok:
            return None
        return tuple((self.values[self.dominant[k]], float(self.share[k]), int(self.tagged[k])) for k in (i, j))


def _property_profile(name: str, column, event: np.ndarray, n_names: int) -> PropertyProfile | None:
    """The profile of a low-cardinality property (2 to ``MAX_PROPERTY_VALUES`` values); None otherwise
    or when it is not platform-like (``page`` is bound to the event by design: it tells nothing)."""
    n_values = len(column.values)
    if not 2 <= n_values <= MAX_PROPERTY_VALUES:
        return None
    tagged = column.codes != MISSING
    counts = np.bincount(event[tagged].astype(np.int64) * n_values + column.codes[tagged],
                         minlength=n_names * n_values).reshape(n_names, n_values)
    per_name = counts.sum(axis=1)
    share = counts.max(axis=1) / np.maximum(per_name, 1)
    mixed = per_name[(share < MIXED_NAME_SHARE) & (per_name > 0)].sum()
    if per_name.sum() == 0 or mixed / per_name.sum() < 0.5:
        return None
    return PropertyProfile(name, column.values, counts.argmax(axis=1), share, per_name)
