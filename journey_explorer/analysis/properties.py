"""Properties: what each one is, segments on any of them, and breakdowns by their values.

A property is any column besides user / event / time / session, kept per event
(``EventLog.event_properties``), or a user property (``EventLog.user_properties``: ``case:`` columns
and the demo's plan/channel, one value per user).

The rule, stated once and used by segments, breakdowns and "who differs" alike:
- a path's value is the **first** value it carries among the events analysed, the time range
  applied ("first touch"): per-user paths take the user's first value, per-session paths the
  session's first value;
- with ``match="any"`` ("any event"), a path matches a condition when any of its events carries a
  matching value;
- ``!=`` and ``not in`` match exactly the paths that ``=`` and ``in`` do not (so a path without the
  property matches ``platform!=ios``);
- a user property is the user's value for every path of theirs.

Conditions: ``KEY=VALUE``, ``KEY!=VALUE``, ``KEY in a,b``, ``KEY not in a,b``, ``KEY>=N`` (also
``>``, ``<``, ``<=``). Values of a numeric property are compared as numbers ("3" = 3.0), text in
alphabetical order (so ISO dates compare as dates); ``=`` finds a value whatever its case.
"""
from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import MISSING, EventLog

if TYPE_CHECKING:
    import pandas as pd

LEVELS = ("user", "session", "event")
NONE_LABEL, OTHER_LABEL = "(none)", "Other"
DEFAULT_TOP = 5                  # breakdown groups shown before "Other"
MAX_CHANGING_SHARE = 0.01        # a property is user-level when at most 1 % of users carry two values
MATCH_RULES = ("first", "any")   # first touch, any event


# --- errors (worded for a person: the GUI shows them as they are) --------------------------------


class PropertyError(JourneyError):
    """A property or value the project does not have."""


class UnknownProperty(PropertyError):
    def __init__(self, name: str, known: list[str]):
        self.name, self.known = name, known
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        listed = ", ".join(known[:8]) + ("…" if len(known) > 8 else "") if known else "none"
        super().__init__(f"No property '{name}'.{hint} (known: {listed})")


class UnknownValue(PropertyError):
    def __init__(self, name: str, value: str, known: list[str]):
        self.name, self.value = name, value
        close = difflib.get_close_matches(value, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        listed = ", ".join(known[:8]) + ("…" if len(known) > 8 else "")
        super().__init__(f"No event has {name} '{value}'.{hint} (values: {listed})")


class SegmentSyntaxError(JourneyError):
    """A segment that cannot be read."""


# --- finding a property --------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A property resolved in a log: ``codes`` per event (``per_user`` False) or per user code
    (``per_user`` True), ``MISSING`` where absent; ``values`` the distinct values by code."""

    name: str
    codes: np.ndarray
    values: np.ndarray
    per_user: bool

    @property
    def numeric(self) -> bool:
        return is_numeric(self.values)


def is_numeric(values: np.ndarray) -> bool:
    return len(values) > 0 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def property_names(log: EventLog) -> list[str]:
    """Event properties first, then user properties not also kept per event."""
    names = [str(n) for n in log.event_properties]
    names += [c for c in log.user_property_names() if c not in names and c != "user"]
    return names


def resolve(log: EventLog, name: str) -> Source:
    """The property called ``name``; ``plan`` also finds ``case:plan`` and the other way round."""
    names = property_names(log)
    wanted = name.strip()
    lowered = {n.lower(): n for n in names}
    for candidate in (wanted, f"case:{wanted}", wanted.removeprefix("case:")):
        if candidate in names:
            return _source(log, candidate)
        if candidate.lower() in lowered:
            return _source(log, lowered[candidate.lower()])
    raise UnknownProperty(wanted, names)


def _source(log: EventLog, name: str) -> Source:
    if name in log.event_properties:
        column = log.event_properties[name]
        return Source(name, column.codes, column.values, per_user=False)
    from journey_explorer.eventlog import encode_property
    column = log.user_property(name)
    encoded = encode_property(column)
    codes = np.full(log.n_users, MISSING, dtype=np.int32)
    codes[:len(encoded.codes)] = encoded.codes[:log.n_users]
    return Source(name, codes, encoded.values, per_user=True)


# --- a path's value ------------------------------------------------------------------------------


def first_codes(codes: np.ndarray, owner: np.ndarray, size: int, within: np.ndarray | None = None) -> np.ndarray:
    """Per owner (path) the code of its first event carrying a value; ``owner`` is non-decreasing.

    >>> first_codes(np.array([-1, 2, 1, -1, 0]), np.array([0, 0, 0, 1, 2]), 3).tolist()
    [2, -1, 0]
    """
    out = np.full(size, MISSING, dtype=np.int32)
    if len(codes) == 0:
        return out
    if within is None:
        # Usually a path's first event carries the value: take those, and scan only the other paths.
        starts = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
        out[owner[starts]] = codes[starts]
        unresolved = np.zeros(size, dtype=bool)
        unresolved[owner[starts]] = codes[starts] == MISSING
        if not unresolved.any():
            return out
        valid = unresolved[owner] & (codes != MISSING)
    else:
        valid = within & (codes != MISSING)
    index = np.flatnonzero(valid)
    holder = owner[index]
    first = np.ones(len(index), dtype=bool)
    first[1:] = holder[1:] != holder[:-1]
    out[holder[first]] = codes[index[first]]
    return out


def paths_with_events(log: EventLog) -> np.ndarray:
    """Boolean per user code: the path has events in this log (a filter may leave some empty)."""
    has_events = np.zeros(log.n_users, dtype=bool)
    has_events[log.user[np.flatnonzero(log.path_starts())]] = True    # (an index is faster than a mask)
    return has_events


def path_owner(log: EventLog, by: str) -> tuple[np.ndarray, int]:
    """Per event the path it belongs to (user code, or global session index) and the path count."""
    if by == "session":
        return log.session, (int(log.session[-1]) + 1 if len(log) else 0)
    return log.user, log.n_users


def _user_of_owner(log: EventLog, owner: np.ndarray, size: int) -> np.ndarray:
    """The user code of every path (identity for per-user paths)."""
    if owner is log.user:
        return np.arange(size)
    user_of = np.zeros(size, dtype=np.int64)
    user_of[owner] = log.user
    return user_of


def path_values(log: EventLog, source: Source, owner: np.ndarray, size: int,
                within: np.ndarray | None = None) -> np.ndarray:
    """Per path, the code of its first-touch value (``MISSING`` when it carries none)."""
    if source.per_user:
        return source.codes[_user_of_owner(log, owner, size)]
    return first_codes(source.codes, owner, size, within)


# --- conditions ------------------------------------------------------------------------------------

_SYMBOL = re.compile(r"^\s*(?P<key>[^=!<>]+?)\s*(?P<op>!=|>=|<=|=|>|<)\s*(?P<value>.*?)\s*$")
_IN = re.compile(r"^\s*(?P<key>.+?)\s+(?P<op>not\s+in|in)\s+(?P<value>.+?)\s*$", re.IGNORECASE)
_ORDER_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Condition:
    """``key op values``; ``op`` is one of = != in "not in" > >= < <=."""

    key: str
    op: str
    values: tuple[str, ...]

    @property
    def negated(self) -> bool:
        return self.op in ("!=", "not in")

    def value_test(self, source: Source) -> np.ndarray:
        """Per distinct value of the property: does it satisfy the (positive) condition?"""
        if self.op in _ORDER_OPS:
            return self._compare(source)
        if source.numeric:
            numbers = np.array(source.values, dtype=float)
            wanted = [_number(v, self.key) for v in self.values]
            ok = np.isin(numbers, wanted)
            missing = [v for v, n in zip(self.values, wanted) if n not in numbers]
        else:
            texts = np.array([_text(v) for v in source.values], dtype=object)
            known = set(texts)
            folded = {t.casefold(): t for t in texts}           # "true" finds True, "ios" finds iOS
            wanted = [v if v in known else folded.get(v.casefold(), v) for v in self.values]
            ok = np.isin(texts, wanted)
            missing = [v for v, w in zip(self.values, wanted) if w not in known]
        if missing:
            raise UnknownValue(source.name, missing[0], sorted({_text(v) for v in source.values}, key=str))
        return ok

    def _compare(self, source: Source) -> np.ndarray:
        """< <= > >=: numbers as numbers; a text property in alphabetical order (ISO dates sort as dates)."""
        compare = _ORDER_OPS[self.op]
        numeric = np.array([isinstance(v, (int, float)) and not isinstance(v, bool) for v in source.values], bool)
        if numeric.any():
            target = _number(self.values[0], self.key)
            return np.array([ok and compare(v, target) for v, ok in zip(source.values, numeric)], dtype=bool)
        return np.array([compare(_text(v), self.values[0]) for v in source.values], dtype=bool)

    def paths(self, log: EventLog, owner: np.ndarray, size: int, within: np.ndarray | None,
              match: str) -> np.ndarray:
        """Boolean per path (owner)."""
        source = resolve(log, self.key)
        ok_value = np.append(self.value_test(source), False)        # code -1 (missing) -> False
        if match == "any" and not source.per_user:
            hit = ok_value[source.codes]
            if within is not None:
                hit &= within
            found = np.zeros(size, dtype=bool)
            if len(owner):          # paths are runs of equal owners: OR over each run
                starts = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
                found[owner[starts]] = np.logical_or.reduceat(hit, starts)
        else:
            found = ok_value[path_values(log, source, owner, size, within)]
        return ~found if self.negated else found

    def __str__(self) -> str:
        joined = ",".join(self.values)
        return f"{self.key} {self.op} {joined}" if "in" in self.op else f"{self.key}{self.op}{joined}"


def _text(value) -> str:
    return str(value).strip()


def _number(text: str, key: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise PropertyError(f"'{key}' holds numbers; '{text}' is not one") from None


def parse_condition(text: str, known: list[str] | None = None) -> Condition:
    """A property condition, e.g. "plan = Pro", "platform in ios,android", "age>=30".

    A text that reads both ways ("logged in app=yes": key "logged in app", or key "logged" in
    "app=yes") is read with the key among ``known`` property names; without them, as "in".

    >>> parse_condition("platform in ios, android")
    Condition(key='platform', op='in', values=('ios', 'android'))
    """
    readings = [r for r in (_symbol_reading(text), _in_reading(text)) if r is not None]
    if not readings:
        raise SegmentSyntaxError(
            f"Cannot read the segment '{text.strip()}': write property=value, property!=value, "
            "property in a,b, 'did EVENT', or the name of a saved segment")
    names = {n.lower() for n in known or ()} | {n.lower().removeprefix("case:") for n in known or ()}
    known_key = [r for r in readings if r.key.lower().removeprefix("case:") in names]
    if known_key:
        chosen = known_key[0]
    elif len(readings) == 2 and _IN.match(readings[0].key):
        chosen = readings[1]          # "a in b=c" without a property "a in b": the "in" reading
    else:
        chosen = readings[0]
    if not chosen.values or chosen.values == ("",):
        raise SegmentSyntaxError(f"The segment '{text.strip()}' has no value after '{chosen.op}'")
    return chosen


def _symbol_reading(text: str) -> Condition | None:
    found = _SYMBOL.match(text)
    if not found or not found["key"].strip():
        return None
    return Condition(found["key"].strip(), found["op"], (found["value"],))


def _in_reading(text: str) -> Condition | None:
    found = _IN.match(text)
    if not found:
        return None
    op = "not in" if found["op"].lower().startswith("not") else "in"
    return Condition(found["key"].strip(), op, tuple(v.strip() for v in found["value"].split(",") if v.strip()))


# --- segments (property conditions, behavioural cohorts, saved segments) --------------------------






# --- breakdowns -----------------------------------------------------------------------------------


@dataclass
class Breakdown:
    """Paths of the analysed log in groups by a property's first-touch value: the ``top`` values
    with most paths, then "Other" (the remaining values) and "(none)" (no value), when not empty."""

    key: str
    labels: list[str]        # group names, largest first; Other and (none) last
    group: np.ndarray        # per path (user code of the analysed log): index into labels, -1 = no events
    sizes: np.ndarray        # paths per group

    def masks(self):
        """(label, boolean mask over path codes) per group."""
        for index, label in enumerate(self.labels):
            yield label, self.group == index

    def to_json_dict(self) -> dict:
        return {"property": self.key, "groups": [{"group": label, "paths": int(n)}
                                                 for label, n in zip(self.labels, self.sizes)]}


def breakdown(log: EventLog, key: str, top: int = DEFAULT_TOP) -> Breakdown:
    """Group the log's paths by ``key`` (first touch); see ``Breakdown``.

    Paths are the log's user codes, so call it on the analysed (filtered) log: per-session logs give
    each session its own value.
    """
    source = resolve(log, key)
    codes = path_values(log, source, log.user, log.n_users)
    has_events = paths_with_events(log)
    counts = np.bincount(codes[has_events & (codes != MISSING)], minlength=len(source.values))
    ranked = [int(c) for c in np.argsort(-counts, kind="stable") if counts[c] > 0]
    kept = ranked[:top]
    labels = [_text(source.values[c]) for c in kept]
    group_of_code = np.full(len(source.values) + 1, -1, dtype=np.int64)    # last slot: missing
    group_of_code[kept] = np.arange(len(kept))
    if len(ranked) > top:
        group_of_code[ranked[top:]] = len(labels)
        labels.append(OTHER_LABEL)
    if (has_events & (codes == MISSING)).any():
        group_of_code[-1] = len(labels)
        labels.append(NONE_LABEL)
    group = np.where(has_events, group_of_code[codes], -1)
    sizes = np.bincount(group[group >= 0], minlength=len(labels))
    return Breakdown(key=source.name, labels=labels, group=group, sizes=sizes)


# --- the catalog ----------------------------------------------------------------------------------


def classify(log: EventLog, source: Source) -> dict:
    """Level (user / session / event) and how many users and sessions carry more than one value."""
    if source.per_user:
        users = int((source.codes[:log.n_users] != MISSING).sum())
        return {"level": "user", "events": None, "users": users, "changing_users": 0, "changing_sessions": 0}
    carrying = source.codes != MISSING
    changing = {}
    for by in ("user", "session"):
        owner, size = path_owner(log, by)
        first = first_codes(source.codes, owner, size)
        differs = carrying & (source.codes != first[owner])
        changing[by] = _distinct_sorted(owner[np.flatnonzero(differs)])
    index = np.flatnonzero(carrying)
    users, sessions = _distinct_sorted(log.user[index]), _distinct_sorted(log.session[index])
    if changing["user"] <= MAX_CHANGING_SHARE * users:
        level = "user"
    elif changing["session"] <= MAX_CHANGING_SHARE * sessions:
        level = "session"
    else:
        level = "event"
    return {"level": level, "events": int(carrying.sum()), "users": users,
            "changing_users": changing["user"], "changing_sessions": changing["session"]}


def _distinct_sorted(values: np.ndarray) -> int:
    """Distinct values of a non-decreasing array (user codes and sessions of a sorted log)."""
    return int(len(values) and 1 + np.count_nonzero(values[1:] != values[:-1]))


def top_values(log: EventLog, source: Source, top: int = 5) -> list[dict]:
    """The values most users carry: [{"value", "users", "events"}], most users first."""
    from journey_explorer.analysis.arrays import distinct_count
    size = len(source.values)
    if source.per_user:
        codes = source.codes[:log.n_users]
        users = np.bincount(codes[codes != MISSING], minlength=size)
        events = np.bincount(codes[log.user][codes[log.user] != MISSING], minlength=size)
    else:
        carrying = source.codes != MISSING
        users = distinct_count(source.codes[carrying], log.user[carrying], size)
        events = np.bincount(source.codes[carrying], minlength=size)
    order = np.argsort(-users, kind="stable")[:top]
    return [{"value": source.values[c], "users": int(users[c]), "events": int(events[c])}
            for c in order if users[c] > 0]


def catalog(log: EventLog, top: int = 5) -> "pd.DataFrame":
    """One row per property: name, level, type, events and users carrying it, distinct values,
    users/sessions with more than one value, and the top values ("ios (1,204) · web (310)")."""
    import pandas as pd
    rows = []
    for name in property_names(log):
        source = _source(log, name)
        facts = classify(log, source)
        values = top_values(log, source, top)
        kind = "number" if source.numeric else (
            "boolean" if len(source.values) and all(isinstance(v, bool) for v in source.values) else "text")
        rows.append({"property": name, **facts, "type": kind, "distinct": len(source.values),
                     "top_values": " · ".join(f"{_text(v['value'])} ({v['users']:,})" for v in values),
                     "top": values})
    columns = ["property", "level", "type", "events", "users", "distinct", "changing_users",
               "changing_sessions", "top_values", "top"]
    return pd.DataFrame(rows, columns=columns)


# --- who differs -----------------------------------------------------------------------------------

MAX_WHO_VALUES = 20     # per property: the values most paths carry (ids and free text stay out)
MIN_COVERAGE = 0.5      # a property whose top values cover fewer paths than this looks like an id
MIN_OUTCOME_PATHS = 20  # below this, a property that splits the groups perfectly may be chance


def who_differs(log: EventLog, a: np.ndarray, b: np.ndarray, label: str = "value") -> "pd.DataFrame":
    """Paths of group A vs group B by first-touch property value, with compare's statistics.

    ``a``/``b``: boolean masks over the log's path (user) codes. One row per property value:
    paths with it in each group, shares, difference, odds ratio, p-value and a Benjamini-Hochberg
    q-value across every value of every property; plus ``rate_with`` / ``rate_without``: the share of
    paths in A among paths with / without the value ("Partner Referral users reach the goal at 41 %
    vs 12 %").

    A property whose every value belongs to one group only (a plan bought, revenue) is the outcome,
    not who the users are: it is left out and named in ``table.attrs["outcomes"]``.
    """
    import pandas as pd

    from journey_explorer.analysis.effects import effect_table
    has_events = paths_with_events(log)
    a, b = a & has_events, b & has_events
    a_size, b_size = int(a.sum()), int(b.sum())
    names, properties, values, a_has, b_has, outcomes = [], [], [], [], [], []
    for name in property_names(log):
        source = _source(log, name)
        codes = path_values(log, source, log.user, log.n_users)
        counted = (a | b) & (codes != MISSING)
        total = np.bincount(codes[counted], minlength=len(source.values))
        chosen = [int(c) for c in np.argsort(-total, kind="stable")[:MAX_WHO_VALUES] if total[c] > 0]
        if not chosen or total[chosen].sum() < MIN_COVERAGE * counted.sum():
            continue
        in_a = np.bincount(codes[counted & a], minlength=len(source.values))
        in_b = np.bincount(codes[counted & b], minlength=len(source.values))
        if _separates(in_a[chosen], in_b[chosen]):
            outcomes.append(name)
            continue
        for code in chosen:
            names.append(f"{name} = {_text(source.values[code])}")
            properties.append(name)
            values.append(source.values[code])
            a_has.append(in_a[code])
            b_has.append(in_b[code])
    columns = ["property", label, "users_a", "users_b", "share_a", "share_b", "difference", "odds_ratio",
               "p_value", "q_value", "rate_with", "rate_without"]
    if not names:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["outcomes"] = outcomes
        return empty
    a_has, b_has = np.array(a_has, dtype=np.int64), np.array(b_has, dtype=np.int64)
    table = effect_table(names, a_has, a_size, b_has, b_size, "name")
    lookup = {n: (p, v) for n, p, v in zip(names, properties, values)}
    table.insert(0, "property", [lookup[n][0] for n in table["name"]])
    table.insert(1, label, [lookup[n][1] for n in table["name"]])
    with_value = table["users_a"] + table["users_b"]
    table["rate_with"] = np.round(table["users_a"] / with_value.clip(lower=1), 4)
    without = (a_size + b_size) - with_value
    table["rate_without"] = np.round((a_size - table["users_a"]) / without.clip(lower=1), 4)
    table = table.drop(columns="name")[columns]
    table.attrs["outcomes"] = outcomes
    return table


def _separates(in_a: np.ndarray, in_b: np.ndarray) -> bool:
    """Every value is carried by paths of one group only, on enough paths to mean it."""
    return (in_a.sum() > 0 and in_b.sum() > 0 and in_a.sum() + in_b.sum() >= MIN_OUTCOME_PATHS
            and bool(np.all(np.minimum(in_a, in_b) == 0)))


# --- the catalog as the CLI prints it --------------------------------------------------------------


def catalog_json(log: EventLog) -> dict:
    """The ``properties --json`` document: the stated rule and one entry per property."""
    table = catalog(log)
    return {"rule": "a path's value is its first one (first touch); per-session paths use the session's",
            "properties": [{k: _plain(v) for k, v in row.items() if k != "top_values"}
                           for row in table.to_dict("records")]}


def _plain(value):
    """JSON-ready: NaN (a number column with gaps) becomes None, numpy numbers Python ones."""
    if isinstance(value, float) and np.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def catalog_text(log: EventLog) -> str:
    """One line per property, for the terminal."""
    table = catalog(log)
    if table.empty:
        return "No properties in this project (only user, event, time and session columns)."
    lines = []
    for row in table.to_dict("records"):
        lines.append(f"{row['property']}: {row['level']}-level {row['type']}, {row['users']:,} users, "
                     f"{row['distinct']:,} values — {row['top_values']}")
    return "\n".join(lines)


# --- words and completions --------------------------------------------------------------------------

SIGNIFICANT_Q = 0.05     # a "who" difference is said only below this q-value...
MIN_PATHS_SAID = 30      # ...and when at least this many paths carry the value


def who_sentences(table: "pd.DataFrame", reached: str = "reach the goal", limit: int = 3,
                  unit: str = "users") -> list[str]:
    """The strongest "who" differences in words, e.g. "channel Partner Referral: 43.5 % reach the goal
    vs 15.8 % of the other users (618 users)"; only significant ones on enough paths, one per property."""
    said, properties_said = [], set()
    strong = table[(table["q_value"] < SIGNIFICANT_Q) & (table["users_a"] + table["users_b"] >= MIN_PATHS_SAID)]
    lift = strong["rate_with"] - strong["rate_without"]
    # Largest gaps first; of two mirror images (two values of a two-valued property), the better one.
    strong = strong.assign(_gap=lift.abs().round(6), _lift=lift).sort_values(["_gap", "_lift"], ascending=False)
    for row in strong.itertuples():
        if row.property in properties_said or len(said) == limit:
            continue
        properties_said.add(row.property)
        paths = int(row.users_a + row.users_b)
        said.append(f"{row.property} {_text(row.value)}: {row.rate_with:.1%} {reached} vs {row.rate_without:.1%} "
                    f"of the other {unit} ({paths:,} {unit})")
    return said


def segment_suggestions(log: EventLog, values_per_property: int = 5) -> list[str]:
    """What a segment box can offer: saved segments, "property=value" for each property's top values,
    and "did EVENT" / "did not EVENT" for every event."""
    out = list(log.saved_segments)
    for name in property_names(log):
        source = _source(log, name)
        out += [f"{name}={_text(v['value'])}" for v in top_values(log, source, values_per_property)]
    for event in log.event_names:
        out += [f"did {event}", f"did not {event}"]
    return out
