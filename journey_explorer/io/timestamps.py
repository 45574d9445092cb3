"""Turn a column of timestamps into UTC milliseconds, vectorised, without ever guessing day/month.

Supported: ISO 8601 with or without offsets (mixed offsets in one column convert correctly),
``YYYY/MM/DD hh:mm:ss.fff``, day-first or month-first dates once the order is known, epoch seconds /
milliseconds / microseconds (decided by magnitude), a few common textual layouts ("22-Oct-2014
11:15"), datetimes already parsed by a reader (Excel, Parquet), and any explicit strptime pattern.

Rules that hold everywhere:

* Naive times are wall-clock times in the chosen IANA ``timezone``. At the autumn DST change a wall
  time that happens twice is read as the *second* occurrence (standard time, pandas'
  ``ambiguous=False``), a spring-forward time that never happened is moved forward to the first
  valid instant (``nonexistent="shift_forward"``). Both choices are per value and deterministic.
* Sub-millisecond digits are dropped (floored), so results never depend on rounding direction.
* Bad values are not exceptions: they come back with ``ok=False`` and a short reason, so the
  importer can reject that row and go on. Only a decision the user has to make (day/month order)
  or a bad option (unknown timezone, invalid pattern) raises.

Example::

    >>> parse_times(pd.Series(["2024-03-01T10:00:00+01:00", "oops"])).ms[0]
    np.int64(1709283600000)
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from journey_explorer.domain import AmbiguousDateOrder, InputError

SAMPLE_SIZE = 2000
EPOCH_FORMATS = ("epoch_s", "epoch_ms", "epoch_us")
DATE_ORDERS = ("dmy", "mdy")
# 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z: anything outside is not a timestamp.
MIN_MS, MAX_MS = -62_135_596_800_000, 253_402_300_799_999
_MICROS_PER_UNIT = {"epoch_s": 1_000_000.0, "epoch_ms": 1_000.0, "epoch_us": 1.0}
_MS_PER_UNIT = {"epoch_s": 1_000, "epoch_ms": 1}          # integer path; µs is divided

# ASCII digits only: \d would also accept Arabic-Indic and other Unicode digits.
_NUMBER = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?$")
_COMPACT_DATE = re.compile(r"^(?:19|20)[0-9]{6}(?:[0-9]{6})?$")          # 20240301, 20240301101500
_SLASH_YMD = re.compile(r"^[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}")
_DAY_MONTH = re.compile(r"^([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?:$|[ T])")
# An offset only counts after a time with minutes, so the "-15" of "2024-01-15" is not one.
# No \s in patterns run on whole columns: it sends pandas from pyarrow's RE2 to a Python loop.
# An offset after the time: after its seconds or minutes (":SS+02"), or after an hour alone ("T10+02");
# a plain date's "-01" never matches, as the hour must follow T or a space.
_OFFSET_AT_END = (r"(?:[Zz]|(?::[0-9]{2}|[Tt ][0-9]{2})(?:[.,][0-9]+)?[ \t]*[+-][0-9]{2}(?::?[0-9]{2})?)"
                  r"[ \t]*$")
_TIME_LAYOUTS = ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
# Layouts tried when a column is neither ISO, epoch nor numeric day/month (kind "strptime").
_STRPTIME_CANDIDATES = (
    "%Y%m%d%H%M%S", "%Y%m%d",
    "%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M", "%d-%b-%Y", "%d-%b-%y %H:%M", "%d-%b-%y",
    "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y", "%d %B %Y %H:%M:%S", "%d %B %Y %H:%M", "%d %B %Y",
    "%b %d, %Y %H:%M:%S", "%b %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M %p", "%b %d, %Y",
    "%B %d, %Y %H:%M:%S", "%B %d, %Y %I:%M:%S %p", "%B %d, %Y",
    "%a, %d %b %Y %H:%M:%S %z", "%a %b %d %H:%M:%S %Y", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d",
)


@dataclass
class ParsedTimes:
    ms: np.ndarray          # int64 UTC milliseconds; undefined where ok is False
    ok: np.ndarray          # bool
    reasons: np.ndarray     # object: "" where ok, else why not ("missing time", "unparseable time 'x'")


@dataclass
class TimeFormatGuess:
    """How a column's values look.

    ``kind``: "iso" (also for values that are already datetimes, and the fallback when nothing
    fits), "epoch_s" / "epoch_ms" / "epoch_us", "slash_ymd", "dmy", "mdy" or "strptime" (then
    ``format`` holds the pattern). ``ambiguous_day_month`` means the day/month order could not be
    decided (``kind`` is then "dmy" only as a placeholder): ``parse_times`` refuses such a column
    unless the caller gives ``date_order``. ``mixed_day_month`` says why: some values only fit
    day-first and others only month-first. ``example`` is a value that shows the point.
    """

    kind: str
    format: str | None = None
    ambiguous_day_month: bool = False
    example: str | None = None
    mixed_day_month: bool = False


# --- detection ------------------------------------------------------------------------------------


def epoch_unit(magnitude: float) -> str:
    """Seconds ~1e9, milliseconds ~1e12, microseconds ~1e15 (for dates of our era).

    >>> epoch_unit(1.7e9), epoch_unit(1.7e12), epoch_unit(1.7e15)
    ('epoch_s', 'epoch_ms', 'epoch_us')
    """
    if magnitude < 1e11:
        return "epoch_s"
    if magnitude < 1e14:
        return "epoch_ms"
    return "epoch_us"


def detect_time_format(sample: pd.Series) -> TimeFormatGuess:
    """Look at up to 2000 non-empty values and say how to read them (see ``TimeFormatGuess``)."""
    sample = pd.Series(sample)
    if pd.api.types.is_datetime64_any_dtype(sample.dtype):
        return TimeFormatGuess("iso", example=_first_text(sample.dropna()))
    if _is_number_dtype(sample.dtype):
        numbers = pd.to_numeric(sample, errors="coerce").dropna()
        magnitude = _median_magnitude(numbers)
        return TimeFormatGuess(epoch_unit(magnitude), example=_first_text(numbers))
    values = sample.dropna().head(SAMPLE_SIZE * 2)
    objects = values[~values.map(lambda v: isinstance(v, str))] if values.dtype == object else values[:0]
    if len(objects) > len(values) / 2:          # Excel cells that are datetimes or numbers
        return detect_time_format(_typed(objects))
    text = values.astype("str").str.strip()
    text = text[text != ""].head(SAMPLE_SIZE)
    if text.empty:
        return TimeFormatGuess("iso")
    return _guess_from_text(text)


def _median_magnitude(numbers: pd.Series) -> float:
    """Median absolute value of the finite numbers (0 when there are none)."""
    finite = numbers[np.isfinite(numbers.to_numpy(dtype="float64", na_value=np.nan))]
    if not len(finite):
        return 0.0
    with np.errstate(over="ignore"):        # the mean of two huge middle values may be inf: fine
        return float(np.median(np.abs(finite.to_numpy(dtype="float64"))))


def _first_text(values: pd.Series) -> str | None:
    return str(values.iloc[0]) if len(values) else None


def _is_number_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _typed(objects: pd.Series) -> pd.Series:
    """Object cells as a datetime or numeric Series, whichever most of them are."""
    is_datetime = objects.map(lambda v: isinstance(v, (datetime, date, pd.Timestamp)))
    if is_datetime.mean() >= 0.5:
        return _objects_to_utc(objects[is_datetime], "UTC")
    return pd.to_numeric(objects, errors="coerce")


def _guess_from_text(text: pd.Series) -> TimeFormatGuess:
    """Decide the kind from stripped, non-empty strings; the first rule a majority fits wins."""
    example = str(text.iloc[0])
    is_number = text.str.match(_NUMBER)
    if is_number.mean() > 0.5:
        compact = _guess_compact_date(text[is_number])
        if compact:
            return compact
        magnitude = _median_magnitude(pd.to_numeric(text[is_number], errors="coerce"))
        return TimeFormatGuess(epoch_unit(magnitude), example=example)
    if text.str.match(_SLASH_YMD).mean() > 0.5:
        return TimeFormatGuess("slash_ymd", example=example)
    day_month = _guess_day_month(text)
    if day_month:
        return day_month
    if _iso_share(text) > 0.5:
        return TimeFormatGuess("iso", example=example)
    return _guess_strptime(text) or TimeFormatGuess("iso", example=example)


def _guess_compact_date(numbers: pd.Series) -> TimeFormatGuess | None:
    """20240301 / 20240301101500 are dates, not epoch seconds of 1970."""
    if not numbers.str.match(_COMPACT_DATE).all():
        return None
    pattern = "%Y%m%d%H%M%S" if numbers.str.len().max() == 14 else "%Y%m%d"
    parsed = _quiet_to_datetime(numbers, format=pattern, errors="coerce")
    if parsed.notna().all():
        return TimeFormatGuess("strptime", format=pattern, example=str(numbers.iloc[0]))
    return None


def _guess_day_month(text: pd.Series) -> TimeFormatGuess | None:
    """Numeric dates such as 03/04/2024: decided only by a field that is greater than 12."""
    parts = text.str.extract(_DAY_MONTH).dropna(subset=[0])
    if len(parts) <= len(text) / 2:
        return None
    first, second = parts[0].astype("int64"), parts[2].astype("int64")
    day_first, month_first = first > 12, second > 12
    layout = _layout_of(text.loc[parts.index])
    if day_first.any() and month_first.any():
        return TimeFormatGuess("dmy", ambiguous_day_month=True, mixed_day_month=True,
                               example=f"{text.loc[day_first.idxmax()]}' and '{text.loc[month_first.idxmax()]}")
    if day_first.any():
        return TimeFormatGuess("dmy", format=_day_month_format(layout, True),
                               example=str(text.loc[day_first.idxmax()]))
    if month_first.any():
        return TimeFormatGuess("mdy", format=_day_month_format(layout, False),
                               example=str(text.loc[month_first.idxmax()]))
    return TimeFormatGuess("dmy", ambiguous_day_month=True, example=str(text.loc[parts.index[0]]))


def settle_day_month(guess: TimeFormatGuess, more_values: Iterable[pd.Series]) -> TimeFormatGuess:
    """A guess left undecided by the first rows (03/04/2024: the 3rd of April or March the 4th?),
    decided from more of the column: ``more_values`` (batches of the column's values, read only as far
    as needed) until a date whose first field is above 12 (day first) or whose second is (month
    first). A column that never tells is day-first when its dates are dotted (01.09.2025 is d.m.y
    wherever dots are written); otherwise the guess stays undecided and the import asks.

    >>> first_rows = _guess_from_text(pd.Series(["01/09/2025 07:04", "02/09/2025 08:00"]))
    >>> first_rows.ambiguous_day_month
    True
    >>> settle_day_month(first_rows, [pd.Series(["13/09/2025 10:00"])]).kind
    'dmy'
    >>> settle_day_month(first_rows, [pd.Series(["09/13/2025 10:00"])]).kind
    'mdy'
    >>> dotted = _guess_from_text(pd.Series(["01.09.2025 07:04"]))
    >>> settled = settle_day_month(dotted, [pd.Series(["02.09.2025 08:00"])])
    >>> settled.kind, settled.ambiguous_day_month, settled.format
    ('dmy', False, '%d.%m.%Y %H:%M')
    """
    if not guess.ambiguous_day_month or guess.mixed_day_month:
        return guess
    for values in more_values:
        text = values.dropna().astype("str").str.strip()
        decided = _guess_day_month(text[text != ""])
        if decided is not None and (decided.mixed_day_month or not decided.ambiguous_day_month):
            return decided
    if _DAY_MONTH.match(guess.example or "") and _DAY_MONTH.match(guess.example).group(2) == ".":
        layout = _layout_of(pd.Series([guess.example]))
        return TimeFormatGuess("dmy", format=_day_month_format(layout, True), example=guess.example)
    return guess


def _layout_of(text: pd.Series) -> str | None:
    """The strptime pattern (written day-first) that reads most of ``text``, if any."""
    best, best_count = None, 0
    for pattern in _day_month_patterns(dayfirst=True):
        count = int(_quiet_to_datetime(text.head(50), format=pattern, errors="coerce").notna().sum())
        if count > best_count:
            best, best_count = pattern, count
    return best


def _day_month_format(layout: str | None, dayfirst: bool) -> str | None:
    if layout is None or dayfirst:
        return layout
    return layout.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _iso_share(text: pd.Series) -> float:
    return float(_quiet_to_datetime(text, format="ISO8601", utc=True, errors="coerce").notna().mean())


def _guess_strptime(text: pd.Series) -> TimeFormatGuess | None:
    """The common textual layout that reads most of the sample (more than half), if any."""
    head = text.head(200)
    shares = {pattern: _quiet_to_datetime(head, format=pattern, errors="coerce", utc="%z" in pattern)
              .notna().mean() for pattern in _STRPTIME_CANDIDATES}
    pattern, share = max(shares.items(), key=lambda item: item[1])
    if share > 0.5:
        return TimeFormatGuess("strptime", format=pattern, example=str(text.iloc[0]))
    return None


# --- options --------------------------------------------------------------------------------------


def check_timezone(timezone: str) -> str:
    """Return ``timezone`` if it is a known IANA name, else raise ``InputError`` naming it."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(f"unknown timezone '{timezone}' (use an IANA name such as Europe/Amsterdam)") \
            from None
    return timezone


def check_parse_options(time_format: str | None, timezone: str, date_order: str | None) -> None:
    """Raise ``InputError`` for an unknown timezone or date order, or an invalid pattern."""
    check_timezone(timezone)
    _check_options(time_format, date_order)


def _check_options(time_format: str | None, date_order: str | None) -> None:
    if date_order is not None and date_order not in DATE_ORDERS:
        raise InputError(f"unknown date order '{date_order}' (use dmy or mdy)")
    if time_format is None or time_format in EPOCH_FORMATS:
        return
    if "%" not in time_format:
        raise InputError(f"invalid {{time_format}} '{time_format}': give a strptime pattern such as "
                         "'%d/%m/%Y %H:%M' or one of epoch_s, epoch_ms, epoch_us")
    try:
        _quiet_to_datetime(pd.Series(["0"]), format=time_format, errors="coerce")
    except ValueError as exc:
        raise InputError(f"invalid {{time_format}} '{time_format}': {exc}") from None


def _ambiguous_error(guess: TimeFormatGuess, column: str | None, first_line: int | None):
    where = f" in column '{column}'" if column else ""
    if guess.mixed_day_month:
        problem = f"dates{where} such as '{guess.example}' put the day first in some rows and the month first in others"
    else:
        problem = f"dates{where} such as '{guess.example}' fit both day/month and month/day order"
    return AmbiguousDateOrder(f"{problem}; choose the order: {{date_order}} dmy or mdy "
                              "(or give an exact {time_format} such as '%d/%m/%Y %H:%M')",
                              line=first_line, column=column)


# --- parsing --------------------------------------------------------------------------------------


def parse_times(values: pd.Series, *, time_format: str | None = None, timezone: str = "UTC",
                date_order: str | None = None, guess: TimeFormatGuess | None = None,
                column: str | None = None, first_line: int | None = None) -> ParsedTimes:
    """Parse a column into UTC milliseconds.

    ``time_format``: None (use ``guess``, or detect), "epoch_s" / "epoch_ms" / "epoch_us", or a
    strptime pattern. ``date_order`` ("dmy"/"mdy") settles dates like 03/04/2024; without it such
    a column raises ``AmbiguousDateOrder`` (``column`` and ``first_line`` locate the message).
    Naive times are in ``timezone`` (see the module docstring for DST).
    """
    check_parse_options(time_format, timezone, date_order)
    values = pd.Series(values).reset_index(drop=True)
    times = _Times(len(values))
    if time_format is None and guess is None and not pd.api.types.is_datetime64_any_dtype(values.dtype):
        guess = settle_day_month(detect_time_format(values), [values])
    context = _Context(time_format, timezone, date_order, guess, column, first_line)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        times.put(slice(None), *_stamps_to_ms(_to_utc(values, timezone)))
    elif _is_number_dtype(values.dtype) and not _is_pattern(time_format):
        times.put(slice(None), *_epoch_numbers(_number_array(values), context.epoch_unit))
    else:
        _parse_mixed(values, context, times)
    return times.finish(values)


def _number_array(values: pd.Series) -> np.ndarray:
    """int64 when the column holds integers without gaps (exact), else float64 with NaN."""
    if pd.api.types.is_signed_integer_dtype(values.dtype) and not values.isna().any():
        return values.to_numpy(dtype="int64")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _is_pattern(time_format: str | None) -> bool:
    return bool(time_format) and time_format not in EPOCH_FORMATS


@dataclass
class _Context:
    """The caller's choices, carried through the parsing helpers."""

    time_format: str | None
    timezone: str
    date_order: str | None
    guess: TimeFormatGuess | None
    column: str | None
    first_line: int | None

    @property
    def epoch_unit(self) -> str | None:
        """The unit the caller chose, or None: each number's own magnitude decides."""
        return self.time_format if self.time_format in EPOCH_FORMATS else None


class _Times:
    """Results filled in piece by piece; reasons are written once at the end."""

    def __init__(self, size: int):
        self.ms = np.zeros(size, dtype=np.int64)
        self.ok = np.zeros(size, dtype=bool)
        self.out_of_range = np.zeros(size, dtype=bool)

    def put(self, where, ms: np.ndarray, ok: np.ndarray, out_of_range: np.ndarray | None = None) -> None:
        self.ms[where] = np.where(ok, ms, 0)
        self.ok[where] = ok
        if out_of_range is not None:
            self.out_of_range[where] = out_of_range

    def finish(self, values: pd.Series) -> ParsedTimes:
        reasons = np.full(len(self.ok), "", dtype=object)
        bad = np.flatnonzero(~self.ok)
        if len(bad):
            raw = values.iloc[bad]
            text = raw.astype("str").str.strip().str.slice(0, 40)
            missing = (raw.isna() | (text == "")).to_numpy()
            label = np.where(self.out_of_range[bad], "time out of range '", "unparseable time '").astype(object)
            described = (label + text.fillna("").to_numpy(dtype=object) + "'").astype(object)
            reasons[bad] = np.where(missing, "missing time", described)
        return ParsedTimes(ms=self.ms, ok=self.ok, reasons=reasons)


def _parse_mixed(values: pd.Series, context: _Context, times: _Times) -> None:
    """Text, plus (in object columns from Excel/JSON) cells that are datetimes or numbers."""
    is_text, is_datetime, is_number = _cell_types(values)
    if is_datetime.any():
        stamps = _objects_to_utc(values[is_datetime], context.timezone)
        times.put(is_datetime, *_stamps_to_ms(stamps))
    if is_number.any():
        numbers = pd.to_numeric(values[is_number], errors="coerce")
        times.put(is_number, *_epoch_numbers(numbers.to_numpy(dtype="float64"), context.epoch_unit))
    if is_text.any():
        text = values[is_text] if is_text.all() else values[is_text].reset_index(drop=True)
        times.put(is_text, *_parse_text(text.astype("str"), context))


def _cell_types(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of text, datetime and number cells (missing cells count as text; they fail later)."""
    size = len(values)
    nothing = np.zeros(size, dtype=bool)
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return np.ones(size, dtype=bool), nothing, nothing
    objects = values.to_numpy()
    is_datetime = np.fromiter((isinstance(v, (datetime, date, np.datetime64)) for v in objects), bool, size)
    is_number = np.fromiter((isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                             and v == v for v in objects), bool, size)      # v == v drops NaN
    return ~is_datetime & ~is_number, is_datetime, is_number


def _parse_text(text: pd.Series, context: _Context) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Strings (missing values allowed) by the explicit format or the guessed kind."""
    if context.time_format in EPOCH_FORMATS:
        return _epoch_text(text, context.time_format)
    if context.time_format:
        return _stamps_to_ms(_from_pattern(text, context.time_format, context.timezone))
    guess = context.guess or TimeFormatGuess("iso")
    if guess.kind in EPOCH_FORMATS:
        return _epoch_text(text, None)
    if guess.kind == "strptime" and guess.format:
        return _stamps_to_ms(_from_pattern(text, guess.format, context.timezone))
    if guess.kind in DATE_ORDERS:
        if guess.ambiguous_day_month and context.date_order is None:
            raise _ambiguous_error(guess, context.column, context.first_line)
        dayfirst = (context.date_order or guess.kind) == "dmy"
        return _day_month(text, dayfirst, context.timezone)
    return _iso(text, context.timezone)


def _iso(text: pd.Series, timezone: str) -> tuple[np.ndarray, np.ndarray, None]:
    """ISO 8601 in one vectorised pass; a second pass on cleaned-up text for the few that failed."""
    ms, ok = _stamps_to_ms(_iso_pass(text, timezone))[:2]
    retry = ~ok & text.notna().to_numpy()
    if retry.any():
        retry_ms, retry_ok = _stamps_to_ms(_iso_pass(_tidy_iso(text[retry]), timezone))[:2]
        ms[retry], ok[retry] = retry_ms, retry_ok
    return ms, ok, None


def _iso_pass(text: pd.Series, timezone: str) -> pd.Series:
    """Values with an offset (or Z) become UTC by it; naive ones are wall time in ``timezone``."""
    stamps = _quiet_to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if timezone == "UTC":
        return stamps
    naive = ~text.str.contains(_OFFSET_AT_END, na=False, regex=True).to_numpy()
    if naive.any():     # with utc=True pandas read naive values as UTC; re-read them as local time
        local = _localise(stamps[naive].dt.tz_localize(None), timezone)
        stamps = stamps.astype(local.dtype) if stamps.dtype != local.dtype else stamps
        stamps[naive] = local
    return stamps


def _tidy_iso(text: pd.Series) -> pd.Series:
    """Near-ISO spellings: 2014/10/22, decimal comma, lower-case t/z, a trailing UTC/GMT, and
    nanosecond digits in years that nanoseconds cannot reach (cut to microseconds; we keep ms)."""
    text = text.str.strip()
    text = text.str.replace(r"(\.[0-9]{6})[0-9]+", r"\1", regex=True)
    text = text.str.replace(r"^([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})", r"\1-\2-\3", regex=True)
    text = text.str.replace(r"(:[0-9]{2}),([0-9])", r"\1.\2", regex=True)
    text = text.str.replace(r"^([0-9-]{8,10})t", r"\1T", regex=True)
    return text.str.replace(r"[ \t]*(?:[Zz]|UTC|GMT)$", "Z", regex=True)


def _day_month(text: pd.Series, dayfirst: bool, timezone: str) -> tuple[np.ndarray, np.ndarray, None]:
    """Dates like 22/10/2014 14:05 in a known order; separators / . - and several time layouts.

    Fast path: a four-digit-year date is rewritten to ISO order (2014-10-22 14:05) and read by the
    vectorised ISO parser. What is left (two-digit years, AM/PM) goes through strptime patterns,
    each tried only on the values no earlier pattern could read, likeliest first.
    """
    as_iso = r"\3-\2-\1" if dayfirst else r"\3-\1-\2"
    rewritten = text.str.replace(r"^[ \t]*([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})", as_iso, regex=True)
    ms, ok, _ = _iso(rewritten, timezone)
    todo = ~ok & text.notna().to_numpy()
    if not todo.any():
        return ms, ok, None
    rest = text[todo].str.strip()
    patterns = _day_month_patterns(dayfirst)
    head = rest.head(20)
    patterns.sort(key=lambda p: -int(_quiet_to_datetime(head, format=p, errors="coerce").notna().sum()))
    for pattern in patterns:
        if not todo.any():
            break
        part_ms, part_ok = _stamps_to_ms(_localise(_quiet_to_datetime(text[todo].str.strip(), format=pattern,
                                                                      errors="coerce"), timezone))[:2]
        ms[todo], ok[todo] = part_ms, part_ok
        todo &= ~ok
    return ms, ok, None


def _day_month_patterns(dayfirst: bool) -> list[str]:
    patterns = []
    for separator in "/.-":
        for year in ("%Y", "%y"):
            fields = ("%d", "%m", year) if dayfirst else ("%m", "%d", year)
            day = separator.join(fields)
            patterns += [day] + [f"{day}{gap}{t}" for t in _TIME_LAYOUTS for gap in (" ", "T")
                                 if gap == " " or t.startswith("%H")]
    return patterns


def _from_pattern(text: pd.Series, pattern: str, timezone: str) -> pd.Series:
    """An explicit strptime pattern; with %z offsets are honoured, otherwise times are local."""
    text = text.str.strip()
    if "%z" in pattern or "%Z" in pattern:
        return _quiet_to_datetime(text, format=pattern, utc=True, errors="coerce")
    return _localise(_quiet_to_datetime(text, format=pattern, errors="coerce"), timezone)


def _epoch_text(text: pd.Series, unit: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers stored as strings ("1700000000", "1700000000.0"); text that is no number fails."""
    try:                      # fast path: every value is a number (Python's float() syntax)
        numbers = text.astype("float64").to_numpy()
    except (ValueError, TypeError):
        text = text.str.strip()
        is_number = text.str.match(_NUMBER).fillna(False).to_numpy(dtype=bool)
        numbers = np.full(len(text), np.nan)
        numbers[is_number] = text[is_number].astype("float64").to_numpy()
    return _epoch_numbers(numbers, unit)


def _epoch_numbers(numbers: np.ndarray, unit: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch numbers in ``unit`` -> (ms, ok, out_of_range). Integers are converted exactly.

    With ``unit`` None every number's magnitude picks its unit (``epoch_unit``): exports such as
    Mixpanel's mix seconds and milliseconds in one column. This misreads only millisecond or
    microsecond values before 1973, so give an explicit unit for such data.
    """
    if unit is None:
        return _epoch_by_magnitude(numbers)
    if numbers.dtype.kind == "i":
        return _epoch_integers(numbers.astype(np.int64), unit)
    numbers = numbers.astype("float64")
    finite = np.isfinite(numbers)
    # Far beyond year 9999 anyway; clipping keeps the multiplication from overflowing.
    bounded = np.clip(np.where(finite, numbers, 0.0), -1e18, 1e18)
    micros = np.round(bounded * _MICROS_PER_UNIT[unit])        # rounding undoes binary fraction error
    ms_float = np.floor(micros / 1000.0)
    in_range = (ms_float >= MIN_MS) & (ms_float <= MAX_MS)
    ok = finite & in_range
    ms = np.where(ok, ms_float, 0.0).astype(np.int64)
    return ms, ok, finite & ~in_range


def _epoch_by_magnitude(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    size = np.abs(numbers.astype("float64"))
    units = np.where(size < 1e11, 0, np.where(size < 1e14, 1, 2))    # same thresholds as epoch_unit
    ms, ok, out_of_range = (np.zeros(len(numbers), dtype=np.int64), np.zeros(len(numbers), dtype=bool),
                            np.zeros(len(numbers), dtype=bool))
    for code, unit in enumerate(EPOCH_FORMATS):
        mask = units == code
        if mask.any():
            ms[mask], ok[mask], out_of_range[mask] = _epoch_numbers(numbers[mask], unit)
    return ms, ok, out_of_range


def _epoch_integers(numbers: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if unit == "epoch_us":
        ms = numbers // 1000
    else:
        factor = _MS_PER_UNIT[unit]
        limit = MAX_MS // factor + 1
        safe = (numbers >= -limit) & (numbers <= limit)         # no int64 overflow when multiplying
        ms = np.where(safe, numbers, 0) * factor
        ms = np.where(safe, ms, MAX_MS + 1)
    ok = (ms >= MIN_MS) & (ms <= MAX_MS)
    return ms, ok, ~ok


def _objects_to_utc(objects: pd.Series, timezone: str) -> pd.Series:
    """Python/NumPy datetimes and dates (naive ones are local time) as a UTC Series."""
    aware = objects.map(lambda v: getattr(v, "tzinfo", None) is not None).to_numpy(dtype=bool)
    out = pd.Series(pd.NaT, index=objects.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = _quiet_to_datetime(objects[aware], utc=True, errors="coerce").astype(out.dtype)
    if (~aware).any():
        naive = _quiet_to_datetime(objects[~aware].map(_as_naive_datetime), errors="coerce")
        out[~aware] = _localise(naive, timezone).astype(out.dtype)
    return out


def _as_naive_datetime(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _to_utc(stamps: pd.Series, timezone: str) -> pd.Series:
    if getattr(stamps.dt, "tz", None) is not None:
        return stamps.dt.tz_convert("UTC")
    return _localise(stamps, timezone)


def _localise(naive: pd.Series, timezone: str) -> pd.Series:
    """Naive wall times in ``timezone`` -> UTC. DST: repeated hour -> standard time (the second
    occurrence); skipped hour -> shifted forward to the first valid instant."""
    naive = pd.Series(naive)
    if timezone == "UTC":
        return naive.dt.tz_localize("UTC")
    standard_time = np.zeros(len(naive), dtype=bool)
    return naive.dt.tz_localize(timezone, ambiguous=standard_time,
                                nonexistent="shift_forward").dt.tz_convert("UTC")


def _stamps_to_ms(stamps) -> tuple[np.ndarray, np.ndarray, None]:
    """(UTC ms floored, ok) of a datetime Series, whatever its resolution (s, ms, us, ns)."""
    stamps = pd.Series(stamps)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    as_ms = stamps.to_numpy().astype("datetime64[ms]")          # numpy floors to the coarser unit
    ok = ~np.isnat(as_ms)
    return np.where(ok, as_ms.view(np.int64), 0), ok, None


def _quiet_to_datetime(values, **kwargs):
    """``pd.to_datetime`` without its "could not infer format" chatter; bad values become NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, **kwargs)
