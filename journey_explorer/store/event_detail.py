"""Events named by one of their properties: "page_view" becomes "page_view: /pricing", "page_view: /checkout".

Many exports log one generic event for every page or screen and keep what was seen in a property
(GA4's page_view with page_title, Mixpanel's "Page View" with page, an app's screen_view with
screen_name). Paths of one name say nothing; the property is the step. A project keeps which of
its events are named by which property (``RULES_SETTING``) and ``Project.load_event_log`` applies
them, so every view, the CLI and the report see the same names.

``suggest`` finds such events in a log: one event that makes a large share of the log, or has a
generic name, with a text property set on nearly all of its events and a few to a few hundred
values there; and any event that carries its outcome (``payment`` with ``status`` = success /
failed: named by it, a failed payment no longer reaches the goal). ``clear_case`` says whether the
import may name them at once (a page or screen event with a page or screen property, an outcome),
which it reports and the catalog can undo.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from journey_explorer.eventlog import MISSING, EventLog

RULES_SETTING = "event_detail"      # {event name as shown: property name}
MAX_VALUES = 60                     # the commonest values get names of their own; the rest "(other)"
OTHER = "(other)"
MIN_SHARE_OF_LOG = 0.3              # an event this large is generic, whatever its name
MIN_SET_SHARE = 0.9                 # the property must be set on this share of the event's rows
MIN_DISTINCT, MAX_DISTINCT = 3, 500
VARIES_SHARE = 0.5                  # a property changing along the event's rows for this share of users
VARIES_SAMPLE = 500_000             # rows read to tell (the users they belong to)
RISES_SHARE = 0.8                   # a number naming steps goes up along a user's events this often
MAX_VALUES_READ = 200_000           # a property with more distinct values on the event is not read as pages
GENERIC_EVENT = re.compile(r"page.?view|screen.?view|pageview|^page$|^screen$|page viewed|screen viewed|"
                           r"^view$|^click$|^tap$|button.?click|^track$|^event$", re.I)
DETAIL_PROPERTY = re.compile(r"page|screen|path|url|title|route|view|name|label|button|element|level|lesson|step|"
                             r"stage|chapter|module|episode|section|mission", re.I)
# title_id names a title by a code; camelCase titleId too (case-sensitive: "android", "paid" are no ids)
IDENTIFIER = re.compile(r"(?i:(?:^|[._\s-])id$|uuid$|(?:^|[._\s-])key$)|[a-z]Id$")
PAGE_OR_SCREEN_EVENT = re.compile(r"page.?view|screen.?view|pageview|^page$|^screen$", re.I)
PAGE_OR_SCREEN_PROPERTY = re.compile(r"page|screen|path|url|title|route", re.I)
# Where a view came from or started, not what it showed (a thank-you page is nobody's referrer).
NOT_THE_PAGE = re.compile(r"refer|previous|prev\b|prev_|from|origin|source|landing|entrance|entry|exit|initial|first",
                          re.I)


# An event carrying its outcome ("payment" with status = success / failed): one name for both makes
# a failed payment reach the goal. Named by it, "payment: success" is the goal and "payment: failed" a step.
# A word of its own ("status", "payment_status", "result"), not "search_results"; not "state": a US state.
OUTCOME_PROPERTY = re.compile(r"(?:^|[^a-z])(status|result|outcome|success)(?:$|[^a-z])", re.I)
SUCCESS_VALUE = re.compile(r"^(success(ful)?|succeeded|ok|complete[d]?|approved|paid|accepted|passed|captured|"
                           r"authori[sz]ed|confirmed)$", re.I)
FAILURE_VALUE = re.compile(r"^(fail(ed|ure)?|error(ed)?|declined|rejected|denied|cancell?ed|timeout|timed.?out|"
                           r"aborted|refused|expired|insufficient.?funds)$", re.I)
MAX_OUTCOMES = 6


@dataclass(frozen=True)
class Suggestion:
    event: str
    property: str
    values: int            # distinct values on the event's rows
    share_of_log: float    # the event's share of all events
    set_share: float       # share of the event's rows that carry the property
    examples: tuple[str, ...] = ()     # its commonest values
    kind: str = "steps"    # "steps" (pages, screens) or "outcome" (success / failure of the event)

    @property
    def key(self) -> str:
        """Its dismissal key (the hygiene panel's Dismiss)."""
        return f"name:{self.event}"

    def to_json_dict(self) -> dict:
        return {"event": self.event, "property": self.property, "values": self.values,
                "share_of_log": self.share_of_log, "set_share": self.set_share, "examples": list(self.examples),
                "kind": self.kind, "key": self.key}

    @property
    def sentence(self) -> str:
        if self.kind == "outcome":
            return (f"{self.event} carries its outcome in {self.property} ({', '.join(self.examples)}): one name "
                    f"counts a failed {self.event} as reaching it; name them by it?")
        return (f"{self.event} makes {self.share_of_log:.0%} of the events; its property {self.property} "
                f"tells them apart ({self.values} values: {', '.join(self.examples)}, …): name them by it?")


def name_by_property(log: EventLog, rules: dict[str, str], max_values: int = MAX_VALUES) -> EventLog:
    """The log with each ``rules`` event named "event: value" by its property (the ``max_values``
    commonest values; the rest "event: (other)"; rows without the property keep the plain name).
    Rules naming an event or property the log does not have are skipped.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["view", "buy", "view", "view"],
    ...                                         "time": [0, 1, 2, 0], "page": ["/home", None, "/cart", None]}))
    >>> named = name_by_property(log, {"view": "page"})
    >>> [named.event_names[code] for code in named.event], named.event_names
    (['view: /home', 'buy', 'view: /cart', 'view'], ('buy', 'view', 'view: /cart', 'view: /home'))
    """
    labels = np.array(log.event_names, dtype=object)      # label per old code, then per new label code
    row_label = log.event.astype(np.int64)
    for event, prop in rules.items():
        if event not in log.event_names or prop not in log.event_properties:
            continue
        rows = np.flatnonzero(log.event == log.event_code(event))
        column = log.event_properties[prop]
        codes = column.codes[rows]
        carried = codes != MISSING
        named = _value_labels(event, column.values, codes[carried], max_values)
        row_label[rows[carried]] = len(labels) + named.codes
        labels = np.concatenate([labels, named.labels])
    if len(labels) == len(log.event_names):
        return log
    # Names in use only (a page_view always carrying its page leaves no plain "page_view"), sorted and
    # merged with an existing event of the same name.
    used = np.flatnonzero(np.bincount(row_label, minlength=len(labels)))
    names, code_of_used = np.unique(labels[used].astype(str), return_inverse=True)
    new_code = np.zeros(len(labels), dtype=np.int32)
    new_code[used] = code_of_used
    return replace(log, event=new_code[row_label], event_names=tuple(str(n) for n in names))


@dataclass
class _Labels:
    labels: np.ndarray     # one per distinct label
    codes: np.ndarray      # label code per row


def _value_labels(event: str, values: np.ndarray, codes: np.ndarray, max_values: int) -> _Labels:
    """"event: value" for the commonest values (pages by their path, ``value_texts``), "event: (other)"
    for the rest, coded per row. Only the values the rows use are read (a URL column holds millions)."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(values))) if len(codes) else np.zeros(0, dtype=np.int64)
    texts, text_of_used = np.unique(value_texts(values[used]).astype(str), return_inverse=True)
    text_of_value = np.zeros(len(values), dtype=np.int64)
    text_of_value[used] = text_of_used
    row_text = text_of_value[codes]
    counts = np.bincount(row_text, minlength=len(texts))
    ranked = np.argsort(-counts, kind="stable")
    kept = ranked[:max_values][counts[ranked[:max_values]] > 0]
    label_of_text = np.full(len(texts), len(kept), dtype=np.int64)       # the rest: "(other)"
    label_of_text[kept] = np.arange(len(kept))
    labels = [f"{event}: {texts[t]}" for t in kept] + [f"{event}: {OTHER}"]
    return _Labels(np.array(labels, dtype=object), label_of_text[row_text])


URL_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*", re.I)
ID_SEGMENT = re.compile(r"^(?:\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f-]{27,})$", re.I)


def value_texts(values: np.ndarray) -> np.ndarray:
    """The text of each distinct value. A column of URLs or paths is named by page: the path without
    host, query or fragment, and ids as ":id" ("https://shop.com/orders/123?x=1" -> "/orders/:id"), so
    a page is one step, not one per order or campaign.

    >>> value_texts(np.array(["https://a.com/orders/123?gclid=9", "/orders/77/", "/", "https://a.com"], dtype=object)).tolist()
    ['/orders/:id', '/orders/:id', '/', '/']
    >>> value_texts(np.array(["Pricing", 2.0], dtype=object)).tolist()
    ['Pricing', '2']
    """
    texts = [_text(value) for value in values]
    looks_like_pages = sum(t.startswith("/") or bool(URL_PREFIX.match(t)) for t in texts) >= 0.9 * max(len(texts), 1)
    out = np.empty(len(texts), dtype=object)
    out[:] = [_page(t) for t in texts] if looks_like_pages and texts else texts
    return out


def _page(text: str) -> str:
    path = URL_PREFIX.sub("", text).split("#", 1)[0].split("?", 1)[0]
    segments = [":id" if ID_SEGMENT.match(part) else part for part in path.split("/") if part]
    return "/" + "/".join(segments)


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or "(empty)"


def suggest(log: EventLog, min_share: float = MIN_SHARE_OF_LOG) -> list[Suggestion]:
    """Events worth naming by a property (see the module notes), the clearest first; one property per
    event, named like a step (page, screen, path, title, name, button, level, lesson...), a page or
    screen first, then the fewest values. ``min_share``: the share of the log that makes an event
    generic whatever its name (stuck points look inside smaller ones: a game's level_started)."""
    if not len(log):
        return []
    counts = np.bincount(log.event, minlength=len(log.event_names))
    outcomes = _outcome_properties(log, counts)
    found, kinds = [], {}
    for code, event in enumerate(log.event_names):
        share = counts[code] / len(log)
        if counts[code] < 2 or ": " in event:   # named by a property already ("page_view: Pricing")
            continue
        outcome = outcomes.get(code)
        if outcome is not None:
            prop, values, set_share = outcome
            found.append(Suggestion(event, prop, values, round(float(share), 4), round(set_share, 4),
                                    _commonest(log, code, prop), kind="outcome"))
            continue
        if not (share >= min_share or GENERIC_EVENT.search(event)):
            continue
        best = _best_property(log, code, kinds)
        if best is not None:
            prop, values, set_share = best
            found.append(Suggestion(event, prop, values, round(float(share), 4), round(set_share, 4),
                                    _commonest(log, code, prop)))
    return sorted(found, key=lambda s: (not clear_case(s), -s.share_of_log))


def _best_property(log: EventLog, code: int, kinds: dict[str, str | None]) -> tuple[str, int, float] | None:
    """``kinds``: each property's kind of values (``_value_kind``), filled as properties are read."""
    rows = log.event == code
    candidates = []
    for prop in log.event_properties:
        if NOT_THE_PAGE.search(prop):
            continue           # a referrer is another page
        named_like_a_step = bool(DETAIL_PROPERTY.search(prop)) and not IDENTIFIER.search(prop)
        column = log.event_properties[prop]
        if prop not in kinds:
            kinds[prop] = _value_kind(column.values)
        if kinds[prop] is None or not named_like_a_step and len(column.values) > MAX_VALUES:
            continue           # flags and amounts are not names of a step; many values unnamed: ids, free text
        codes = column.codes[rows]
        # It must change along a user's events (pages; lesson 1, 2, 3; level 4, 5): a country, a plan or
        # the device's os.name splits users, not steps; numbers must rise along them (levels, not a price).
        if not _varies_within_users(log, rows, codes) or (
                kinds[prop] == "number" and not _rises_along_paths(log, rows, codes, column.values)):
            continue
        set_share = float((codes != MISSING).mean())
        used = np.flatnonzero(np.bincount(codes[codes != MISSING], minlength=len(column.values)))
        if len(used) > MAX_VALUES_READ:
            continue           # free text or ids: reading them all as pages costs more than it tells
        texts = value_texts(column.values[used])
        values = len(set(texts))
        if set_share >= MIN_SET_SHARE and MIN_DISTINCT <= values <= MAX_DISTINCT:
            # a page's title before its path ("Pricing" reads better than "/pricing"), then fewer values
            paths = sum(str(t).startswith("/") for t in texts) >= 0.9 * len(texts)
            page_property = bool(PAGE_OR_SCREEN_PROPERTY.search(prop)) and not IDENTIFIER.search(prop)
            candidates.append((not page_property, not named_like_a_step, paths, values, prop, set_share))
    if not candidates:
        return None
    *_, values, prop, set_share = min(candidates)
    return prop, values, set_share


def _outcome_properties(log: EventLog, rows: np.ndarray) -> dict[int, tuple[str, int, float]]:
    """Per event code, (property, values, share of rows set) of a status-like property
    (``OUTCOME_PROPERTY``) set on nearly all of the event's rows with 2 to ``MAX_OUTCOMES`` text values
    there, a success and a failure among them ("success" and "failed"). A property is read only when
    its values hold a success and a failure; then one count over (event, value) serves every event.
    ``rows``: the events' counts."""
    out: dict[int, tuple[str, int, float]] = {}
    n_events = len(log.event_names)
    for prop in log.event_properties:
        if not OUTCOME_PROPERTY.search(prop):
            continue
        column = log.event_properties[prop]
        values = column.values
        if len(values) > 50 or not _has_outcomes(values):
            continue
        carried = column.codes != MISSING
        cells = np.bincount(log.event[carried].astype(np.int64) * len(values) + column.codes[carried],
                            minlength=n_events * len(values)).reshape(n_events, len(values))
        for code in np.flatnonzero(rows):
            used = np.flatnonzero(cells[code])
            set_share = float(cells[code].sum() / rows[code])
            if code in out or set_share < MIN_SET_SHARE or not 2 <= len(used) <= MAX_OUTCOMES:
                continue
            if _has_outcomes(values[used]):
                out[int(code)] = (prop, len(used), set_share)
    return out


def _has_outcomes(values) -> bool:
    texts = [str(value).strip() for value in values if isinstance(value, str)]
    return any(SUCCESS_VALUE.match(t) for t in texts) and any(FAILURE_VALUE.match(t) for t in texts)


def _value_kind(values) -> str | None:
    """"text" when (nearly) all values are text, "number" when they are whole numbers (level 7), else
    None (flags, amounts, mixed): only those can name a step."""
    sample = values[:10_000]
    if not len(sample):
        return None
    texts = sum(isinstance(v, str) for v in sample)
    numbers = sum(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in sample)
    return "text" if texts >= 0.9 * len(sample) else "number" if numbers >= 0.9 * len(sample) else None


def _rises_along_paths(log: EventLog, rows: np.ndarray, codes: np.ndarray, values: np.ndarray) -> bool:
    """Whether, where a user's number changes between two of their rows, it goes up at least
    ``RISES_SHARE`` of the time (levels 1, 2, 3; a price or a quantity goes up and down).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aaab"), "event": ["x"] * 4, "time": range(4)}))
    >>> rows, values = np.ones(4, dtype=bool), np.array([1, 2, 3])
    >>> _rises_along_paths(log, rows, np.array([0, 1, 2, 0]), values)
    True
    >>> _rises_along_paths(log, rows, np.array([2, 0, 1, 0]), values)
    False
    """
    users = log.user[rows]
    carried = codes != MISSING
    users, codes = users[carried][:VARIES_SAMPLE], codes[carried][:VARIES_SAMPLE]
    change = (users[1:] == users[:-1]) & (codes[1:] != codes[:-1])
    numbers = np.array([float(v) for v in values])
    rises = numbers[codes[1:][change]] > numbers[codes[:-1][change]]
    return bool(len(rises)) and float(rises.mean()) >= RISES_SHARE


def _varies_within_users(log: EventLog, rows: np.ndarray, codes: np.ndarray) -> bool:
    """Whether at least ``VARIES_SHARE`` of the users with two or more of these rows carrying the
    property see two or more of its values there.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aabb"), "event": ["x"] * 4, "time": range(4)}))
    >>> rows = np.ones(4, dtype=bool)
    >>> _varies_within_users(log, rows, np.array([0, 1, 2, 2])), _varies_within_users(log, rows, np.array([0, 0, 1, 1]))
    (True, False)
    """
    carried = codes != MISSING
    users, values = log.user[rows][carried], codes[carried]
    users, values = users[:VARIES_SAMPLE], values[:VARIES_SAMPLE]     # whole users: a log's rows go by user
    if not len(users):
        return False
    several = np.bincount(users, minlength=log.n_users) >= 2
    return bool(several.any()) and float(value_changes(users, values, log.n_users)[several].mean()) >= VARIES_SHARE


def value_changes(users: np.ndarray, values: np.ndarray, n_users: int) -> np.ndarray:
    """Per user code: whether a property's value changes between two of the user's rows (``users``
    and their ``values`` in log order: rows go by user, so two values means a change between neighbours)."""
    changes = (users[1:] == users[:-1]) & (values[1:] != values[:-1])
    return np.bincount(users[1:][changes], minlength=n_users) > 0


def may_have_clear_case(event_names, property_names) -> bool:
    """Whether ``suggest`` could find a clear case, from names alone (the import asks before loading)."""
    return (any(PAGE_OR_SCREEN_EVENT.search(name) for name in event_names)
            and any(PAGE_OR_SCREEN_PROPERTY.search(name) for name in property_names)) or any(
        OUTCOME_PROPERTY.search(name) for name in property_names)


def _commonest(log: EventLog, code: int, prop: str, count: int = 3) -> tuple[str, ...]:
    column = log.event_properties[prop]
    codes = column.codes[log.event == code]
    named = _value_labels("", column.values, codes[codes != MISSING], count)
    return tuple(label.removeprefix(": ") for label in named.labels[:-1])


def clear_case(suggestion: Suggestion) -> bool:
    """A page or screen event named by a page or screen property, or an event by its outcome: safe to
    apply at import (undoable)."""
    return suggestion.kind == "outcome" or bool(
        PAGE_OR_SCREEN_EVENT.search(suggestion.event) and PAGE_OR_SCREEN_PROPERTY.search(suggestion.property))
