"""Human units for what people read on a chart or in a table (Qt-free).

Durations in at most two units ("2 d 3 h", "1 h 20 min", "4 min", "35 s"), shares as percentages
("54.7%"), counts with thousands separators ("12,345"), what a path is ("1 case", "15,500 users").
Exports to CSV/XLSX keep the raw numbers;
these are for labels, legends and the tables on screen.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta

MISSING = "–"
_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _round(value: float) -> int:
    """Half up (Python's round() goes to even: 80.5 min would read as 80)."""
    return int(math.floor(value + 0.5))


def duration(seconds: float | None) -> str:
    """A duration in the largest unit that fits, with the next one when it adds information.

    >>> duration(35), duration(240), duration(4_830), duration(183_600)
    ('35 s', '4 min', '1 h 21 min', '2 d 3 h')
    """
    if _missing(seconds) or seconds < 0:
        return MISSING
    if seconds < 1:
        return "< 1 s" if seconds > 0 else "0 s"
    if _round(seconds) < _MINUTE:
        return f"{_round(seconds)} s"
    if _round(seconds / _MINUTE) < 60:
        return f"{_round(seconds / _MINUTE)} min"
    if _round(seconds / _MINUTE) < 24 * 60:
        return _two_units(_round(seconds / _MINUTE), 60, "h", "min")
    if seconds >= 30 * _DAY:
        return f"{count(_round(seconds / _DAY))} d"
    return _two_units(_round(seconds / _HOUR), 24, "d", "h")


def _two_units(small_total: int, per_big: int, big: str, small: str) -> str:
    whole, rest = divmod(small_total, per_big)
    return f"{whole} {big}" if rest == 0 else f"{whole} {big} {rest} {small}"


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0-1) as a percentage; a share too small to show at ``digits`` says so.

    >>> percent(0.547), percent(1), percent(0.0004), percent(0.25, digits=0)
    ('54.7%', '100.0%', '< 0.1%', '25%')
    """
    if _missing(share):
        return MISSING
    smallest = 10 ** -digits
    if 0 < share * 100 < smallest:
        return f"< {smallest:.{digits}f}%"
    return f"{share * 100:.{digits}f}%"


def short_percent(share: float) -> str:
    """A share as a whole percentage for sentences and bar labels; shares under 1% keep a decimal, so
    a small share never reads as "0%".

    >>> short_percent(0.1837), short_percent(0.004), short_percent(1.0), short_percent(0.0)
    ('18%', '0.4%', '100%', '0%')
    """
    return f"{share:.1%}" if 0 < abs(share) < 0.01 else f"{share:.0%}"


def count(value: float | None) -> str:
    """A count with thousands separators.

    >>> count(1234567), count(0), count(12.0)
    ('1,234,567', '0', '12')
    """
    if _missing(value):
        return MISSING
    return f"{_round(value):,}"


def compact_count(value: float | None) -> str:
    """A count short enough for an edge label: 950, 12.3k, 4.5M.

    >>> compact_count(950), compact_count(12_345), compact_count(4_520_000)
    ('950', '12.3k', '4.5M')
    """
    if _missing(value):
        return MISSING
    if abs(value) < 10_000:
        return count(value)
    if abs(value) < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.1f}M"


def utc_date(ms) -> date:
    """The UTC calendar day of a millisecond timestamp (``pd.Timestamp(ms, unit="ms").date()``
    without pandas).

    >>> utc_date(0), utc_date(1704067199999)
    (datetime.date(1970, 1, 1), datetime.date(2023, 12, 31))
    """
    return (datetime(1970, 1, 1) + timedelta(milliseconds=int(ms))).date()


def plural(noun: str) -> str:
    """The plural of a path's noun ("user", "session", "case") or any regular noun.

    >>> plural("case"), plural("active user")
    ('cases', 'active users')
    """
    return noun + "s"


def singular(paths: str) -> str:
    """The singular of a plural path noun ("cases" -> "case"), as charts are told it (``path_unit``).

    >>> singular("cases"), singular("users")
    ('case', 'user')
    """
    return paths.removesuffix("s")


def counted(value: float, noun: str) -> str:
    """A count with its noun, singular for exactly one: "1 case", "15,500 cases".

    >>> counted(1, "case"), counted(15_500, "case"), counted(0, "session")
    ('1 case', '15,500 cases', '0 sessions')
    """
    return f"{count(value)} {noun if _round(value) == 1 else plural(noun)}"


def path_words(log) -> str:
    """The plural noun for a log's paths ("users", "sessions", "cases"; ``EventLog.path_noun``),
    "users" for anything without one.

    >>> class CaseLog: path_noun = "case"
    >>> path_words(CaseLog()), path_words(object())
    ('cases', 'users')
    """
    return plural(getattr(log, "path_noun", "user"))


def who_or_that(noun: str) -> str:
    """The relative pronoun for a path's noun (singular or plural): users "who" reach it, cases and
    sessions "that" do.

    >>> who_or_that("user"), who_or_that("users"), who_or_that("cases")
    ('who', 'who', 'that')
    """
    return "who" if noun in ("user", "users") else "that"


def nobody(noun: str) -> str:
    """"nobody" among users; "no case", "no session" otherwise (cases are not people).

    >>> nobody("user"), nobody("case")
    ('nobody', 'no case')
    """
    return "nobody" if noun == "user" else f"no {noun}"
