"""The default goal: the project's stored goal, else a guess from the shape of the paths.

One Qt-free function (``default_goal``) used by the CLI, the report and the GUI, so they all agree.

The guess scores every event type by structure, the way a person reads a conversion off a log:

- **a minority reaches it**: goals separate users (an event most paths have is a step, not a goal);
  ``reach`` is the share of paths with it, scored 1 between 10 % and 50 %, less below (log scale, 0 at
  0.5 %) and above (0 at 95 %);
- **late**: its first occurrence comes after most of the path's other kinds of events (the share of
  the path's distinct events first seen before it, median over paths);
- **seldom repeated**: the share of its paths that do it exactly once;
- **paths or visits often end after it**: the share of its occurrences that are the last of their
  session (or path), softened (0.1 + 0.9 x the share: a purchase always followed by its thank-you
  page still scores);
- **a follow-up is not the goal it follows**: an optional click after the goal in the same visit (a
  receipt PDF some buyers download, an add-to-calendar after a booking) always ends a visit, the goal
  only the visits without it. When (nearly) all of an event's occurrences come after a late, once-per-path
  event in its visit, and at most 2/3 as often, it is that event's follow-up: a visit ending with only
  follow-ups ends at the goal, and a follow-up scores (1 - its share after the goal). A funnel step
  followed by the conversion looks alike within the visit; it is told apart by data: those who stop at
  it go on elsewhere in the visit, or come back later more than those who convert, or repeat it; and a
  failure or an event carrying an amount follows up nothing (``_with_follow_ups``);
- **usage after a conversion is not the goal, the conversion is**: what only converted paths do, later (a
  transfer after funding the account, tracking the parcel a day after buying, clearing the open item after the
  payment) is late, rare and ends visits too. When (nearly) every path doing an event did a late event before
  it, only some of those go on to it, and mostly in a later visit, the event is usage after that conversion:
  its score moves to the conversion, which is scored without what only converted paths do (it is not "early"
  for being followed by them, and a visit going on with them only has ended at it). A purchase right after
  its checkout (the same visit), the last step of a chain every path of the step before takes, a payment days
  after a trial started early in the path keep their goal (``_usage_after_conversions``);
- conversion-like names (purchase, paid, order, subscribe, gekauft, confirmé, ...: whole words of the
  name, ``CONVERSION_WORDS``) only break near-ties (x1.1); failure-like names (error, failed, cancel,
  ...) are never the goal while another candidate scores.

The score is the product (lateness softened to 0.25 + 0.75 x lateness); the highest score wins. Never the first item of a list,
and never simply the most common last event (a browsing page that everyone ends on scores low on
reach and on repetition).
"""
from __future__ import annotations

import re
import unicodedata
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from journey_explorer.analysis.arrays import Groups, distinct_count, group_medians, run_numbers
from journey_explorer.analysis.common import one_visit_per_path, session_owners
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import DEFAULT_SESSION_GAP_MS, MISSING, EventLog

if TYPE_CHECKING:
    import pandas as pd

# Whole words of a name (``_name_words``), in English and the main European languages; "order" must be a word of
# its own, so German "angefordert" (requested) is no conversion. Accents are folded: "confirmé" is "confirme".
CONVERSION_WORDS = re.compile(
    r"purchas\w*|paid|pay|pays|buy|bought|orders?|ordered|subscri\w*|convert\w*|conversion|upgraded?|renew\w*|won|"
    r"success\w*|succeeded|complete[ds]?|completion|booked|deal|confirmed|approv(?:e[ds]?|al)|resolved?|settled|"
    r"abgeschlossen|gekauft|kauf|bestellt|bestellung|gebucht|bezahlt|bestatigt|bestaetigt|abonniert|"    # German
    r"genehmigt|gelost|geloest|"
    r"(?:confirm|reserv|pay|achet|command|abonn|termin|approuv|regl)ee?s?|achats?|abonnement|reussie?s?|"  # French
    r"resolue?s?|"
    r"(?:pag|compr|reserv|confirm|complet|finaliz|aprob)ad[oa]s?|(?:suscrit|concluid)[oa]s?|compras?|pedidos?|"  # Spanish,
    r"suscripcion|assinatura|pago|resuelt[oa]s?|resolvid[oa]s?|"                                       # Portuguese
    r"betaald|besteld|bestelling|geboekt|gekocht|bevestigd|voltooid|afgerond|aankoop|goedgekeurd|opgelost|"  # Dutch
    r"(?:pag|acquist|prenot|conferm|complet|abbon|approv)at[oaie]|risolt[oaie]|acquisto|ordine|abbonamento")  # Italian
# Parts of a name (anywhere in it, accents folded: ``is_failure_name``) that say the path went wrong or was given up:
# errors, refusals, withdrawals, cancellations, lost deals, in the languages of CONVERSION_WORDS.
FAILURE_WORDS = re.compile(
    r"error|fail|cancel|abandon|declin|reject|churn|refund|timeout|crash|denied|withdr[ae]wn?|abort|"
    r"unsubscri|delete[ds]?_?account|account_?delet|closed_?lost|(?<![a-z])lost(?![a-z])|expired|no_?show|chargeback|dropped_?out|"
    # Sent back or come back for worse (an order returned, a patient back in the ER, a ticket reopened or
    # escalated): not "return to cart", a return visit or returning users, which are navigation or loyalty.
    r"(?<![a-z])return(?:ed|s)?(?![a-z])(?!_(?:to|visit|visitor|user|customer)(?![a-z]))|readmi|re_?open|complain|escalat|"
    r"fehler|fehlgeschlag|gescheitert|storn|abgebrochen|abbruch|gekundigt|kundigung|abgelehnt|widerruf|zuruckgezogen|"  # German
    r"annul|echec|echoue|refus|resili|"                                                              # French
    r"rechaz|fallid|desist|"                                                                        # Spanish, Portuguese
    r"mislukt|geweigerd|afgewezen|opgezegd|ingetrokken|"                                            # Dutch
    r"rifiut|fallit|disdett|ritirat", re.I)                                                         # Italian
# Failures that happen to a path (an error, a timeout, a payment that failed), as against an end someone
# decides (a claim rejected, a subscription cancelled): what users meet on the way, not how the path ends.
INCIDENT_WORDS = re.compile(r"error|fail|timeout|timed_?out|crash|fehler|fehlgeschlag|gescheitert|echec|echoue|fallid|"
                            r"mislukt|fallit", re.I)
MIN_REACH_PATHS = 2       # an event one path has is an accident, not a goal
AMOUNT_NAME = re.compile(r"amount|value|price|revenue|total|sum\b|cost|paid|spend|gmv|betrag|montant|importe|prix|preis",
                         re.I)    # a duration, a rating or a count of results is no amount
AMOUNT_WEIGHT = 10.0


def default_goal(log: EventLog) -> str:
    """The project's goal when it names an event of this log, else ``guess_goal``."""
    if log.default_goal and log.default_goal in log.event_names:
        return log.default_goal
    return guess_goal(log)


def guess_goal(log: EventLog) -> str:
    """The event type whose structure looks most like a goal (see the module notes). Kept per log (logs
    are immutable): the window's loader guesses it off the GUI thread, the goal box then reads it."""
    known = _GUESSES.get(log)
    if known is not None:
        return known
    whole = _WHOLE_LOGS.get(log)
    if whole is not None and len(whole) and guess_goal(whole) in log.event_names:
        _GUESSES[log] = guess = guess_goal(whole)
        return guess
    names, parts = _score_parts(log)
    candidates = np.flatnonzero(parts["reach"] > 0) if names else np.zeros(0, dtype=np.int64)
    if not len(candidates):
        raise JourneyError("the log has no events to guess a goal from")
    # A failure is never the goal while anything else scores (a payment error is late and rare too).
    failure = parts["name"][candidates] < 1.0
    if (parts["score"][candidates][~failure] > 0).any():
        candidates = candidates[~failure]
    # goal_scores' order without pandas: score, then reach, both descending; ties stay in name order
    # (a stable sort, as pandas' sort_values by two columns is).
    ranked = candidates[np.lexsort((-parts["reach"][candidates], -parts["score"][candidates]))]
    _GUESSES[log] = guess = str(names[_named_alternative(log, parts, ranked)])
    return guess


# Alternative endings: a process ends one way or another (a claim is paid or withdrawn, a deal won or lost). The
# rarer ending is later and ends more paths, so structure favours it; when it has no conversion-like name and an
# ending of its own (at most ALTERNATIVE_OVERLAP of the paths of the rarer of the two have both) has one and scores
# at least ALTERNATIVE_SCORE of its score, the name decides: "Pay Claim" over "Claim closed by customer".
ALTERNATIVE_OVERLAP, ALTERNATIVE_SCORE = 0.1, 0.5


def _named_alternative(log: EventLog, parts: dict[str, np.ndarray], ranked: np.ndarray) -> int:
    """The guess among the ``ranked`` candidates (best first): the best, unless it has no conversion-like name and
    a conversion-named alternative ending of it scores nearly as well (see the notes above)."""
    best = int(ranked[0])
    if parts["name"][best] != 1.0:
        return best
    named = [int(code) for code in ranked[1:] if parts["name"][code] > 1.0
             and parts["score"][code] >= ALTERNATIVE_SCORE * parts["score"][best]]
    if not named:
        return best
    best_paths = np.unique(log.user[log.event == best])
    for code in named:
        paths = np.unique(log.user[log.event == code])
        both = np.intersect1d(best_paths, paths, assume_unique=True).size
        if both <= ALTERNATIVE_OVERLAP * min(len(paths), len(best_paths)):
            return code
    return best


_GUESSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WHOLE_LOGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()     # part -> the log it was cut from
# The guess's rules, for a guess kept with the project (``store.project.remember_goal_guess``): a
# change to how the guess scores must change this, so no project answers with the old rules' goal.
GUESS_RULES = 5         # 2: follow-up clicks after the goal, conversion words by whole word in six languages;
                        # 3: usage after a conversion is not the goal, the conversion (its gate) is;
                        # 4: the same in a log whose paths are one visit each (a process's cases);
                        # 5: more failure and conversion words (withdraw, lost, pay, approve...), and a
                        #    conversion-named alternative ending over an unnamed rarer one


def guess_from_whole(part: EventLog, whole: EventLog) -> None:
    """Guess ``part``'s goal (a date range, a segment, sessions as paths of ``whole``) from ``whole``,
    when asked: the same question keeps the same goal, as in the window (what is left of a log has
    other structure: per session nobody comes back, so a click after the goal looks like one)."""
    if part is not whole:
        _WHOLE_LOGS[part] = whole


def remember_guess(log: EventLog, goal: str) -> None:
    """Take ``goal`` as ``guess_goal(log)``'s answer: a guess kept with the project for this very log."""
    if goal in log.event_names:
        _GUESSES[log] = goal


def known_guess(log: EventLog) -> str | None:
    """``guess_goal(log)``'s answer when it is known already (guessed or remembered), else None."""
    return _GUESSES.get(log)


def goal_reach(log: EventLog, by_event: Groups | None = None) -> np.ndarray:
    """Per event code, the paths that have it (the goal box lists events by it); kept per log, so the
    window's loader works it out off the GUI thread (~0.3 s at 10M events). ``by_event``: the log's
    events grouped by code (``Groups(log.event, ...)``) when the caller has them (saves grouping again)."""
    known = _REACH.get(log)
    if known is None:
        if by_event is not None and np.all(log.user[1:] >= log.user[:-1]):
            known = by_event.distinct(log.user)
        else:
            known = distinct_count(log.event, log.user, len(log.event_names))
        _REACH[log] = known
    return known


_REACH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def goal_scores(log: EventLog) -> pd.DataFrame:
    """Per event type: the parts of the goal score and the score, best first."""
    import pandas as pd
    names, parts = _score_parts(log)
    if not names:
        return pd.DataFrame()
    frame = pd.DataFrame(parts, index=names)
    frame = frame[frame["reach"] > 0]
    return frame.sort_values(["score", "reach"], ascending=[False, False])


_SCORE_PARTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()     # log -> _score_parts (logs are immutable)


def _score_parts(log: EventLog) -> tuple[list[str], dict[str, np.ndarray]]:
    """The event names and, per name, the parts of its score and the score (numpy: ``guess_goal``
    does without pandas, whose import costs more than the guess). No names for an empty log. Kept per
    log: the guess, the outcome to avoid and the weak-guess note each read them (~1 s at 10M events)."""
    known = _SCORE_PARTS.get(log)
    if known is None:
        known = _SCORE_PARTS[log] = _compute_score_parts(log)
    return known


def _compute_score_parts(log: EventLog) -> tuple[list[str], dict[str, np.ndarray]]:
    size = len(log.event_names)
    if not len(log):
        return [], {}
    # Where visits end needs none of the (path, event) pairs: it is counted beside them, on the other
    # core (numpy releases the GIL; ~15 ms of the guess's ~0.1 s at 1M events).
    with ThreadPoolExecutor(max_workers=1) as pool:
        endings = pool.submit(_visit_endings, log, size)
        paths = log.paths_count
        by_event = Groups(log.event, size)
        firsts, pair_event, pair_count, pair_rows, pair_paths = path_event_pairs(log, size, by_event, grouped=True)
        users = _REACH.get(log)
        if users is None:                          # goal_reach's counts, from the pairs at hand
            _REACH[log] = users = np.bincount(pair_event, minlength=size)
        reach = users / max(paths, 1)
        parts = {"reach": reach, "reach_score": _reach_score(reach, users), "lateness": _lateness(log, size, firsts),
                 "once": _once(size, pair_event, pair_count), "ends_after": endings.result().share,
                 "amount": np.where(carries_amount(log, size), AMOUNT_WEIGHT, 1.0)}
    parts["name"] = np.array([name_weight(name) for name in log.event_names])
    parts["ends_after"], parts["follow_up"] = _with_follow_ups(log, endings.result(), by_event, parts)
    parts["score"] = _combined_score(parts)
    pairs = _FirstOccurrences(log, firsts, pair_rows, pair_paths, np.bincount(pair_event, minlength=size))
    used_after = _usage_after_conversions(log, pairs, by_event, endings.result().last_rows, parts)
    names = np.asarray(log.event_names, dtype=object)
    parts["usage_after"] = np.where(used_after >= 0, names[used_after], "")
    return list(log.event_names), parts


def _combined_score(parts: dict[str, np.ndarray], events=slice(None)) -> np.ndarray:
    """The product of the score's parts (for ``events``). Lateness leans rather than decides (a goal
    reached early by a few paths is still a goal)."""
    return (parts["reach_score"][events] * (0.25 + 0.75 * parts["lateness"][events]) * parts["once"][events]
            * (0.1 + 0.9 * parts["ends_after"][events]) * parts["name"][events] * parts["amount"][events]
            * (1.0 - parts["follow_up"][events]))


def name_weight(name: str) -> float:
    """0.5 for a failure-like name, 1.1 for a conversion-like one (one of its words is a ``CONVERSION_WORDS``
    word), else 1.

    >>> [name_weight(name) for name in ["police_abgeschlossen", "rueckruf_angefordert", "orderPlaced",
    ...                                 "Réservation confirmée", "payment_failed", "unsubscribe",
    ...                                 "Pay Claim", "Approve Claim", "Withdraw Claim", "ticket_resolved"]]
    [1.1, 1.0, 1.1, 1.1, 0.5, 0.5, 1.1, 1.1, 0.5, 1.1]
    """
    if is_failure_name(name):
        return 0.5
    return 1.1 if any(CONVERSION_WORDS.fullmatch(word) for word in name_words(name)) else 1.0


def is_failure_name(name: str) -> bool:
    """Whether the name says the path went wrong or was given up (a ``FAILURE_WORDS`` part, read in the name's
    words joined by "_": "deleteAccount" is "delete_account", "Zurückgezogen" is "zuruckgezogen").

    >>> [is_failure_name(name) for name in ["Withdraw Claim", "deal_closed_lost", "Antrag zurückgezogen",
    ...                                     "lost_password_clicked", "closed", "Pay Claim", "slot_lost"]]
    [True, True, True, True, False, False, True]
    >>> [is_failure_name(name) for name in ["Return ER", "Order Returned", "Ticket Reopened", "Re-open case",
    ...                                     "return_to_cart", "Return visit", "returning_user", "Escalate to L2"]]
    [True, True, True, True, False, False, False, True]
    """
    return bool(FAILURE_WORDS.search("_".join(name_words(name))))


def is_incident_name(name: str) -> bool:
    """Whether the name says something went wrong on the way (``INCIDENT_WORDS``) rather than how the path ended.

    >>> [is_incident_name(name) for name in ["payment_error", "Payment Failed", "Zahlung fehlgeschlagen",
    ...                                      "Reject Claim", "subscription_cancelled"]]
    [True, True, True, False, False]
    """
    return bool(INCIDENT_WORDS.search("_".join(name_words(name))))


def name_words(name: str) -> list[str]:
    """The words of an event name, lower case and without accents: split at anything but letters and digits
    and where camel case turns to a capital.

    >>> name_words("Bestellung_bestätigt"), name_words("orderPlaced"), name_words("page_view: Thank you")
    (['bestellung', 'bestatigt'], ['order', 'placed'], ['page', 'view', 'thank', 'you'])
    """
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    folded = "".join(char for char in unicodedata.normalize("NFKD", spaced) if not unicodedata.combining(char))
    return re.findall(r"[a-z0-9]+", folded.lower())


def carries_amount(log: EventLog, size: int) -> np.ndarray:
    """Per event type: whether it carries an amount of its own — an event property named like money
    (``AMOUNT_NAME``: order_value, amount, revenue...) holding numbers, set on at least 80 % of the
    type's events and on at most 2 % of all other events. Only such columns' per-event codes are read
    (the name and the distinct values decide first).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user": list("aabbcc") * 10, "event": ["view", "buy"] * 30, "time": range(60),
    ...                       "value": [None, 10.5] * 30, "page": ["home", None] * 30})
    >>> frame.loc[frame.event == "buy", "value"] = [float(i) for i in range(30)]
    >>> carries_amount(EventLog.from_frame(frame), 2).tolist()       # event names sort: buy, view
    [True, False]
    """
    found = np.zeros(size, dtype=bool)
    events = np.bincount(log.event, minlength=size)
    for name in log.event_properties:
        if not AMOUNT_NAME.search(name):
            continue
        column = log.event_properties[name]
        values = column.values
        # More distinct values than the commonest event type has events: set on several types (an id).
        if not 2 <= len(values) <= events.max(initial=0):
            continue
        sample = values[:10_000]
        numbers = sum(1 for value in sample if isinstance(value, (int, float)) and not isinstance(value, bool))
        if numbers < 0.9 * len(sample):
            continue
        set_on = np.bincount(log.event[column.codes != MISSING], minlength=size)
        elsewhere = set_on.sum() - set_on
        found |= (set_on >= 0.8 * np.maximum(events, 1)) & (elsewhere <= 0.02 * (len(log) - events))
    return found


def _reach_score(reach: np.ndarray, paths_with: np.ndarray) -> np.ndarray:
    """1 for a share of paths between 10 % and 50 %; below, falling on a log scale to 0 at 0.5 % (a goal
    a handful of paths reach separates little); above, falling to 0 at 95 % (a goal everyone reaches
    separates no one).

    >>> _reach_score(np.array([0.01, 0.3, 0.725, 0.99]), np.array([10, 300, 725, 990])).round(2).tolist()
    [0.23, 1.0, 0.5, 0.0]
    """
    low = np.clip(np.log(np.maximum(reach, 1e-12) / 0.005) / np.log(0.10 / 0.005), 0.0, 1.0)
    high = np.clip((0.95 - reach) / 0.45, 0.0, 1.0)
    return np.where(paths_with >= MIN_REACH_PATHS, low * high, 0.0)


def path_event_pairs(log: EventLog, size: int, by_event: Groups | None = None,
                     grouped: bool = False) -> tuple[np.ndarray, ...]:
    """Each (path, event) pair: the row of its first occurrence (rows in path order), its event and
    how often the path has it. One stable grouping by event (a radix sort below 65,536 event types):
    a path's rows are contiguous, so inside an event's group its rows stay together and in order.
    ``grouped``: also the pairs' first rows and paths in that grouping (by event, then path).

    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     {"user": ["a", "a", "a", "b"], "event": ["x", "y", "x", "x"], "time": [0, 1, 2, 0]}))
    >>> [part.tolist() for part in path_event_pairs(log, 2)]
    [[0, 1, 3], [0, 0, 1], [2, 1, 1]]
    >>> [part.tolist() for part in path_event_pairs(log, 2, grouped=True)[3:]]     # x: a's, b's; y: a's
    [[0, 3, 1], [0, 1, 0]]
    """
    by_event = Groups(log.event, size) if by_event is None else by_event
    paths = log.user[by_event.order]
    starts = np.ones(len(paths), dtype=bool)
    starts[1:] = (by_event.keys[1:] != by_event.keys[:-1]) | (paths[1:] != paths[:-1])
    is_first = np.zeros(len(paths), dtype=bool)
    is_first[by_event.order[starts]] = True
    pair_starts = np.flatnonzero(starts)
    pairs = np.flatnonzero(is_first), by_event.keys[pair_starts], np.diff(np.append(pair_starts, len(paths)))
    return (*pairs, by_event.order[pair_starts], paths[pair_starts]) if grouped else pairs


def _lateness(log: EventLog, size: int, firsts: np.ndarray) -> np.ndarray:
    """Median over paths of the share of the path's other distinct events first seen before it.

    In numpy (a pandas drop_duplicates + groupby took ~0.4 s at 1M events): from the first occurrence
    of each (path, event) (``path_event_pairs``), a rank and a count per path; then a median per event.
    """
    if not len(log):
        return np.zeros(size)
    path, event = log.user[firsts], log.event[firsts]
    new_path = np.ones(len(path), dtype=bool)
    new_path[1:] = path[1:] != path[:-1]
    run_start = np.flatnonzero(new_path)
    run_length = np.diff(np.append(run_start, len(path)))
    run = run_numbers(run_start, len(path))
    rank = np.arange(len(path)) - run_start[run]
    distinct = run_length[run]
    share = np.where(distinct > 1, rank / np.maximum(distinct - 1, 1), 1.0)
    medians = group_medians(event, share, size)     # pandas' median: the two middle values averaged
    return np.where(np.isnan(medians), 0.0, medians)


def _once(size: int, pair_event: np.ndarray, pair_count: np.ndarray) -> np.ndarray:
    """Share of the paths with the event that do it exactly once (from ``path_event_pairs``)."""
    once = np.bincount(pair_event[pair_count == 1], minlength=size)
    return once / np.maximum(np.bincount(pair_event, minlength=size), 1)


# A follow-up (a receipt download, an add-to-calendar click after the booking) comes after its goal in the same
# visit (FOLLOW_UP_SHARE of its occurrences), and is optional: at most FOLLOW_UP_MAX as often as the goal, which
# is late, done once per path (HOST_ONCE, HOST_LATENESS), and whose visits often end right at it (HOST_ENDS),
# else with only follow-ups (HOST_ENDS_WITH_FOLLOW_UPS: no one goes on elsewhere in the visit).
FOLLOW_UP_SHARE, FOLLOW_UP_MAX = 0.95, 2 / 3
HOST_ONCE, HOST_LATENESS, HOST_ENDS, HOST_ENDS_WITH_FOLLOW_UPS = 0.9, 0.75, 0.2, 0.9
# A funnel step followed by the conversion looks the same within the visit, but those who stop at the step
# come back later more often than those who convert (they retry): a follow-up leaves that unchanged. That tells
# something only where paths come back: at least RETURNING_VISITS of the visits are followed by another one of
# their path (none are when every session is a path of its own).
COMING_BACK_MARGIN, RETURNING_VISITS = 0.15, 0.1


def _with_follow_ups(log: EventLog, endings: _VisitEndings, by_event: Groups,
                     parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The share of each event's occurrences that end their visit, counting an ending followed only by the
    event's follow-ups (an optional click after the goal) as an ending; and per event, the share of its
    occurrences after the goal it follows up (0 for an event that follows up none).

    Without this, a click some buyers make on the thank-you page always ends a visit and wins over the purchase
    it follows (which then ends only the other visits). Only a few late, once-per-path events are hosts.
    """
    counts = endings.counts
    ends_after, follow_up = parts["ends_after"].copy(), np.zeros(len(counts))
    hosts = np.flatnonzero((parts["reach_score"] > 0) & (parts["once"] >= HOST_ONCE) & (parts["name"] >= 1.0)
                           & (parts["lateness"] >= HOST_LATENESS) & (parts["ends_after"] >= HOST_ENDS))
    visits = len(endings.last_rows)
    person = _person_of_rows(log)
    people = int(person[-1]) + 1 if len(person) else 0
    if not len(hosts) or visits - people < RETURNING_VISITS * visits:
        return ends_after, follow_up
    # An event carrying an amount is a goal of its own; a failure is no optional click.
    may_follow = (parts["amount"] == 1.0) & (parts["name"] >= 1.0)
    for host in hosts.tolist():
        rows = by_event.order[by_event.bounds[host]:by_event.bounds[host + 1]]      # in row order (a stable sort)
        tails = _Tails(log, rows, endings.last_rows, person)
        after = np.bincount(log.event[tails.rows[tails.of_first]], minlength=len(counts)) / np.maximum(counts, 1)
        follows = may_follow & (after >= FOLLOW_UP_SHARE) & (counts <= FOLLOW_UP_MAX * counts[host])
        follows[host] = False
        ending = _ending_with_follow_ups(log, tails, follows) if follows.any() else None
        if ending is not None:
            ends_after[host] = ending
            follow_up[follows] = np.maximum(follow_up[follows], after[follows])
    return ends_after, follow_up


def _ending_with_follow_ups(log: EventLog, tails: _Tails, follows: np.ndarray) -> float | None:
    """The share of the host's occurrences followed by nothing but ``follows`` in their visit; None when the
    host looks like a funnel step rather than a goal with follow-ups: some visits go on elsewhere after it,
    or those who stop right at it come back later more than those who follow it up."""
    others_after = np.bincount(tails.owner, weights=~follows[log.event[tails.rows]], minlength=len(tails.starts))
    plain, followed = tails.lengths == 0, (others_after == 0) & (tails.lengths > 0)
    ending = float((plain | followed).mean())
    if ending < HOST_ENDS_WITH_FOLLOW_UPS or not plain.any() or not followed.any():
        return None
    comes_back = tails.path_goes_on
    return None if comes_back[plain].mean() > comes_back[followed].mean() + COMING_BACK_MARGIN else ending


def _person_of_rows(log: EventLog) -> np.ndarray:
    """Per row, who did it: the path, or with sessions as paths (``--by session``) the sessions' user,
    so that "comes back later" still means the person's next visit."""
    owners = session_owners(log)
    return log.user if owners is None else owners[log.user]


class _Tails:
    """The rest of the visit after each of an event's rows (``starts``): its rows, and which start each
    belongs to. ``last_rows``: the rows that end a visit, in order; ``person``: who did each row."""

    def __init__(self, log: EventLog, starts: np.ndarray, last_rows: np.ndarray, person: np.ndarray):
        self.starts = starts
        if len(log) and log.session[-1] - log.session[0] + 1 == len(last_rows):
            visit = log.session[starts] - log.session[0]         # sessions numbered 0, 1, 2... (as loaded)
        else:
            visit = np.searchsorted(last_rows, starts)         # the visit's last row is the first at or after it
        visit_ends = last_rows[visit] + 1
        self.lengths = visit_ends - self.starts - 1
        self.owner = np.repeat(np.arange(len(self.starts)), self.lengths)
        offsets = np.cumsum(self.lengths) - self.lengths
        self.rows = self.starts[self.owner] + 1 + np.arange(len(self.owner)) - offsets[self.owner]
        # The first occurrence of its visit: the tails of later ones lie inside its own.
        first = np.ones(len(self.starts), dtype=bool)
        first[1:] = visit[1:] != visit[:-1]
        self.of_first = first[self.owner]
        # The path has a later visit (its next row, if any, is the same path's).
        next_row = np.minimum(visit_ends, len(log) - 1)
        self.path_goes_on = (visit_ends < len(log)) & (person[next_row] == person[self.starts])


class _VisitEndings(NamedTuple):
    share: np.ndarray          # per event: the share of its occurrences that are the last of their visit
    counts: np.ndarray         # per event: its occurrences
    last_rows: np.ndarray      # the rows that end a visit (the last of their session or path), in order


def _visit_endings(log: EventLog, size: int) -> _VisitEndings:
    """Where visits end, and the share of each event's occurrences that end one."""
    last = np.ones(len(log), dtype=bool)
    last[:-1] = (log.user[1:] != log.user[:-1]) | (log.session[1:] != log.session[:-1])
    counts = np.bincount(log.event, minlength=size)
    return _VisitEndings(np.bincount(log.event[last], minlength=size) / np.maximum(counts, 1), counts,
                         np.flatnonzero(last))


# Usage after a conversion. Once converted, paths do what only converted paths can: send a transfer after funding
# the account, track the parcel or review the seller days after buying, clear the open item after the payment.
# Such an event is late, rarer than the conversion, seldom repeated and ends visits: it scores like a goal, and
# better than the conversion, which converted paths go on from. It is told by its gate: (nearly) every path doing
# it did the conversion before (GATE_SHARE of them), only some of the converted do it (at most USAGE_OF_GATE_MAX),
# and mostly in a later visit than the conversion's (USAGE_LATER of its occurrences). The goal is the gate: the
# usage event's score moves to it. Not usage:
# - a purchase right after its checkout: the same visit (a funnel, or a follow-up: ``_with_follow_ups``);
# - the last step of a chain every gate path goes on to (a process's printout after its check);
# - a payment days after a trial started early in the path: a conversion is late (HOST_LATENESS, as a
#   follow-up's host), and no failure, no follow-up, and not on (nearly) every path;
# - an event whose nearest earlier step is no clean gate (a patient's return after one of several kinds of
#   release): the gate is the rarest event NEAR_GATE of its paths did before it, and must be one of GATE_SHARE.
# Only the USAGE_CANDIDATES best-scoring events are checked, then the conversion that took over the lead, if
# any (up to USAGE_ROUNDS times: a chain of gates).
USAGE_CANDIDATES, USAGE_ROUNDS = 8, 3
NEAR_GATE, GATE_SHARE, USAGE_OF_GATE_MAX, USAGE_LATER = 0.9, 0.97, 0.8, 0.5


def _usage_after_conversions(log: EventLog, pairs: _FirstOccurrences, by_event: Groups, last_rows: np.ndarray,
                             parts: dict[str, np.ndarray]) -> np.ndarray:
    """Per event, the conversion it is usage after (its code), else -1. Each usage event's score moves to its
    conversion (it keeps the better of the two) and becomes 0; the conversion's lateness and visit endings are
    counted without what only converted paths do (``_rescore_conversion``). ``parts["score"]`` is updated."""
    score = parts["score"]
    used_after = np.full(len(score), -1)
    checked, rescored = np.zeros(len(score), dtype=bool), np.zeros(len(score), dtype=bool)
    top = np.argsort(-score, kind="stable")[:USAGE_CANDIDATES]
    for _ in range(USAGE_ROUNDS):
        top = top[(score[top] > 0) & ~checked[top]]
        # The rarest first: a gate has more paths than its usage event, and may be usage after a gate of its own.
        for usage in top[np.argsort(pairs.paths[top], kind="stable")].tolist():
            checked[usage] = True
            gate = _conversion_gate(log, pairs, by_event, parts, usage)
            if gate < 0:
                continue
            while used_after[gate] >= 0:         # the gate was found to be usage itself (an earlier round)
                gate = used_after[gate]
            if not rescored[gate]:
                _rescore_conversion(log, pairs, by_event, last_rows, parts, gate)
                rescored[gate] = True
            used_after[usage] = gate
            score[gate], score[usage] = max(score[gate], score[usage]), 0.0
        best = int(np.argmax(score))
        if checked[best]:
            break
        top = np.array([best])                  # a conversion that took over the lead: is it usage itself?
    return used_after


def _conversion_gate(log: EventLog, pairs: _FirstOccurrences, by_event: Groups, parts: dict[str, np.ndarray],
                     usage: int) -> int:
    """The conversion ``usage`` is done after (see the notes above ``_usage_after_conversions``), else -1.

    The nearest gate is sought among the events with at least NEAR_GATE times ``usage``'s paths, the fewest
    first, each read alone, and no further than the commonest conversion-like event: most are never read."""
    paths = pairs.paths
    conversion_like = ((parts["lateness"] >= HOST_LATENESS) & (parts["reach_score"] > 0) & (parts["name"] >= 1.0)
                       & (parts["follow_up"] == 0) & (paths * USAGE_OF_GATE_MAX >= paths[usage]))
    conversion_like[usage] = False
    if not conversion_like.any():
        return -1
    farthest = paths[conversion_like].max()
    nearby = np.flatnonzero((paths >= NEAR_GATE * paths[usage]) & (paths <= farthest))
    nearby = nearby[nearby != usage]
    first_usage = pairs.first_row_by_path(usage)
    # The fewest paths first; of two with as many, the later (the purchase, not its checkout).
    for gate in nearby[np.lexsort((-parts["lateness"][nearby], paths[nearby]))].tolist():
        share = pairs.share_before(gate, first_usage) / paths[usage]
        if share < NEAR_GATE:
            continue
        if not conversion_like[gate] or share < GATE_SHARE:
            return -1                          # the nearest step is no clean gate, or no conversion
        return gate if _later_share(log, by_event, gate, usage) >= USAGE_LATER else -1
    return -1


def _later_share(log: EventLog, by_event: Groups, gate: int, usage: int) -> float:
    """The share of ``usage``'s occurrences that lie in another visit than the last ``gate`` before them. In
    a log whose paths are one visit each (the cases of a process), "another visit" is what a visit gap
    would have cut: at least ``DEFAULT_SESSION_GAP_MS`` later (an open item cleared days after payment)."""
    gate_rows, usage_rows = _rows_of(by_event, gate), _rows_of(by_event, usage)
    previous = gate_rows[np.maximum(np.searchsorted(gate_rows, usage_rows) - 1, 0)]
    # only a gate before it on its own path counts (the nearest earlier gate row may be another path's)
    own = (previous < usage_rows) & (log.user[previous] == log.user[usage_rows])
    if not own.any():
        return 0.0
    previous, usage_rows = previous[own], usage_rows[own]
    if one_visit_per_path(log):
        return float(np.mean(log.ts[usage_rows] - log.ts[previous] >= DEFAULT_SESSION_GAP_MS))
    return float(np.mean(log.session[previous] != log.session[usage_rows]))


def _rescore_conversion(log: EventLog, pairs: _FirstOccurrences, by_event: Groups, last_rows: np.ndarray,
                        parts: dict[str, np.ndarray], gate: int) -> None:
    """A conversion's lateness and visit endings without its consequences (events GATE_SHARE of whose paths
    first did them after it, on at most USAGE_OF_GATE_MAX of its paths: a welcome e-mail opened, a comment only
    subscribers can post): they come after it by nature, and a visit that goes on with them only (or with
    follow-ups) has ended at the conversion. Its score is the better of the old and the new."""
    consequences = pairs.consequences(gate)
    parts["lateness"][gate] = max(parts["lateness"][gate], pairs.lateness_without(gate, consequences))
    tails = _Tails(log, _rows_of(by_event, gate), last_rows, log.user)
    ending_events = consequences | (parts["follow_up"] > 0)
    others_after = np.bincount(tails.owner, weights=~ending_events[log.event[tails.rows]],
                               minlength=len(tails.starts))
    parts["ends_after"][gate] = max(parts["ends_after"][gate], float(np.mean(others_after == 0)))
    parts["score"][gate] = max(parts["score"][gate], float(_combined_score(parts, gate)))


def _rows_of(by_event: Groups, event: int) -> np.ndarray:
    """The event's rows, in row order (``Groups`` sorts stably)."""
    return by_event.order[by_event.bounds[event]:by_event.bounds[event + 1]]


class _FirstOccurrences:
    """Each (path, event) pair's first row and path, grouped by event (within an event, by path:
    ``path_event_pairs(..., grouped=True)``); ``firsts``: the same rows in row order; ``paths``: per event, the
    paths that have it. Questions read one event's pairs at a time."""

    def __init__(self, log: EventLog, firsts: np.ndarray, rows: np.ndarray, path: np.ndarray, paths: np.ndarray):
        self.firsts, self.rows, self.path, self.paths = firsts, rows, path, paths
        self.bounds = np.concatenate([[0], np.cumsum(self.paths)])
        self.path_count = int(log.user[-1]) + 1 if len(log) else 0
        self.log, self._event = log, None

    @property
    def event(self) -> np.ndarray:
        """Each pair's event (made when first asked: only a conversion's rescoring reads every pair)."""
        if self._event is None:
            self._event = np.repeat(np.arange(len(self.paths)), self.paths)
        return self._event

    def _of(self, event: int) -> slice:
        return slice(self.bounds[event], self.bounds[event + 1])

    def first_row_by_path(self, event: int) -> np.ndarray:
        """Per path code, the row of its first ``event`` (-1: none)."""
        first = np.full(self.path_count, -1)
        first[self.path[self._of(event)]] = self.rows[self._of(event)]
        return first

    def share_before(self, event: int, first_other: np.ndarray) -> int:
        """The paths that did ``event`` before the row ``first_other`` (``first_row_by_path``) gives them."""
        return int(np.count_nonzero(self.rows[self._of(event)] < first_other[self.path[self._of(event)]]))

    def consequences(self, gate: int) -> np.ndarray:
        """Per event, whether GATE_SHARE of its paths first did it after their first ``gate``, on at most
        USAGE_OF_GATE_MAX as many paths."""
        bound = self.first_row_by_path(gate)[self.path]
        after = np.bincount(self.event[(bound >= 0) & (self.rows > bound)], minlength=len(self.paths))
        return (after >= GATE_SHARE * self.paths) & (self.paths > 0) & (self.paths <= USAGE_OF_GATE_MAX * self.paths[gate])

    def lateness_without(self, event: int, left_out: np.ndarray) -> float:
        """``_lateness`` of ``event`` with the ``left_out`` events taken out of every path."""
        own_rows, own_paths = self.rows[self._of(event)], self.path[self._of(event)]
        # Among the row-ordered firsts a path's pairs are together: its distinct events, and those before.
        path_of_firsts = self.log.user[self.firsts]
        start = np.searchsorted(path_of_firsts, own_paths, side="left")
        distinct = np.searchsorted(path_of_firsts, own_paths, side="right") - start
        earlier = np.searchsorted(self.firsts, own_rows) - start
        own_index = np.full(self.path_count, -1)
        own_index[own_paths] = np.arange(len(own_paths))
        index = own_index[self.path]
        left = left_out[self.event] & (index >= 0)               # the left-out pairs of ``event``'s paths
        distinct = distinct - np.bincount(index[left], minlength=len(own_paths))
        left &= self.rows < own_rows[index]
        earlier = earlier - np.bincount(index[left], minlength=len(own_paths))
        return float(np.median(np.where(distinct > 1, earlier / np.maximum(distinct - 1, 1), 1.0)))


# An unwanted goal (an outcome to avoid: a cancellation, a withdrawn claim) is told with a verb: "43% of users
# cancel (subscription_cancelled)". The verb of the first failure stem in the name (English), else "do GOAL".
OUTCOME_VERBS = (("unsubscri", "unsubscribe"), ("cancel", "cancel"), ("churn", "churn"), ("withdr", "withdraw"),
                 ("abandon", "abandon"), ("refund", "ask for a refund"), ("delet", "delete their account"),
                 ("lost", "are lost"), ("reject", "are rejected"), ("declin", "are declined"), ("fail", "fail"))


def goal_is_unwanted(goal: str | None, asked: bool | None = None) -> bool:
    """Whether ``goal`` is an outcome to avoid: as ``asked`` (``--avoid``, the goal box's choice), else by its
    name (a goal named like a failure — cancel, churn, unsubscribe, delete account — is one to avoid).

    >>> goal_is_unwanted("subscription_cancelled"), goal_is_unwanted("purchase"), goal_is_unwanted("purchase", True)
    (True, False, True)
    """
    if asked is not None:
        return bool(asked)
    return bool(goal) and is_failure_name(goal)


def outcome_verb(goal: str) -> str:
    """What a path does that reaches the unwanted ``goal``, for sentences ("users who cancel").

    >>> outcome_verb("subscription_cancelled"), outcome_verb("deleteAccount"), outcome_verb("support_ticket")
    ('cancel', 'delete their account', 'do support_ticket')
    """
    words = "_".join(name_words(goal))
    return next((verb for stem, verb in OUTCOME_VERBS if stem in words), f"do {goal}")


def never(verb: str) -> str:
    """The verb of ``outcome_verb`` negated: "never cancel", "are never rejected"."""
    return f"are never {verb[4:]}" if verb.startswith("are ") else f"never {verb}"


def outcome_groups(goal: str, noun: str = "user") -> tuple[str, str]:
    """The two groups of an unwanted goal in words: those who do it and those who never do.

    >>> outcome_groups("subscription_cancelled"), outcome_groups("Reject Claim", "case")
    (('users who cancel', 'users who never cancel'), ('cases that are rejected', 'cases that are never rejected'))
    """
    from journey_explorer.analysis.units import plural, who_or_that
    verb, paths = outcome_verb(goal), f"{plural(noun)} {who_or_that(noun)}"
    return f"{paths} {verb}", f"{paths} {never(verb)}"


def _is_the_guess(log: EventLog, goal: str | None) -> bool:
    """Whether ``goal`` is the structural guess, not a goal the project keeps or the user chose."""
    return bool(goal) and log.default_goal != goal and goal == guess_goal(log)


# Under this score no event looks like a goal: e.g. every part perfect but none of its visits ending with it.
WEAK_GOAL_SCORE = 0.1


def weak_guess_note(log: EventLog, goal: str) -> str | None:
    """A sentence saying the goal is only the likeliest of poor candidates, when ``goal`` is the structural guess
    (not one the project keeps) and scores under ``WEAK_GOAL_SCORE`` (helpdesk.xes's "Wait": reached by 27% of
    tickets, yet ending 1% of its visits); else None."""
    if not _is_the_guess(log, goal):
        return None
    names, parts = _score_parts(log)
    event = names.index(goal)
    if parts["score"][event] >= WEAK_GOAL_SCORE:
        return None
    noun = "cases" if log.path_noun == "case" else "users"
    return (f"No event stands out as this log's goal: {goal} is only the likeliest ({parts['reach'][event]:.0%} of "
            f"{noun} reach it, {parts['ends_after'][event]:.0%} of its visits end with it, where a goal usually "
            f"ends them). Choose the goal that matters here (the Goal box, or --goal).")


def avoid_question_note(log: EventLog, goal: str) -> str | None:
    """When ``goal`` is the guess and a failure-named event looks at least as much like the log's end
    (``outcome_to_avoid``: sepsis.csv's "Return ER"), a sentence offering who does it as the question."""
    if not _is_the_guess(log, goal):
        return None
    avoid = outcome_to_avoid(log)
    if avoid is None:
        return None
    return (f"{avoid} ends paths as a goal would, but its name reads as an outcome to avoid: who does it is a "
            f"question of its own (make it the goal with 'to avoid' ticked, or --avoid).")


def counted_outcome_groups(goal: str, noun: str, sizes: tuple[int, int]) -> tuple[str, str]:
    """``outcome_groups`` with their sizes, in the singular for one: "1 user who cancels", "80 users who never
    cancel".

    >>> counted_outcome_groups("subscription_cancelled", "user", (1, 1_200))
    ('1 user who cancels', '1,200 users who never cancel')
    >>> counted_outcome_groups("Reject Claim", "case", (40, 1))
    ('40 cases that are rejected', '1 case that is never rejected')
    """
    from journey_explorer.analysis.units import counted, who_or_that
    verb = outcome_verb(goal)
    return tuple(f"{counted(size, noun)} {who_or_that(noun)} {one_does(said) if round(size) == 1 else said}"
                 for size, said in zip(sizes, (verb, never(verb))))


def one_does(verb: str) -> str:
    """A verb of ``outcome_verb`` (or ``never``) for one path: "cancels", "never cancels", "is rejected",
    "deletes their account", "does support_ticket".

    >>> [one_does(verb) for verb in ("cancel", "never unsubscribe", "are never lost", "do support_ticket", "withdraw")]
    ['cancels', 'never unsubscribes', 'is never lost', 'does support_ticket', 'withdraws']
    """
    first, _, rest = verb.partition(" ")
    if first == "never":
        return f"never {one_does(rest)}"
    irregular = {"are": "is", "do": "does", "have": "has"}
    said = irregular.get(first) or first + ("es" if first.endswith(("s", "sh", "ch", "x", "z")) else "s")
    return f"{said} {rest}".rstrip()


def outcome_to_avoid(log: EventLog) -> str | None:
    """The failure-named event that scores as well as the guess or better, by structure (a cancellation 44% of users reach,
    late, ending their paths), else None: the question may be who does it (``--avoid``), never the guess."""
    names, parts = _score_parts(log)
    if not names:
        return None
    failure = (parts["name"] < 1.0) & (parts["reach"] > 0)
    if not failure.any():
        return None
    # Compared by structure alone: the name's weight halves a failure's score, which keeps it from being the guess,
    # not from being the better question (patients returning to the ER, 28% of cases, late, ending their paths).
    structure = parts["score"] / parts["name"]
    best = int(np.flatnonzero(failure)[np.argmax(structure[failure])])
    guess = guess_goal(log)
    return names[best] if names[best] != guess and structure[best] >= structure[names.index(guess)] else None
