"""Turn a column of timestamps into UTC milliseconds, vectorised, without ever guessing day/month.

Supported: ISO 8601 with or without offsets (mixed offsets in one column convert correctly),
``YYYY/MM/DD hh:mm:ss.fff``, day-first or month-first dates once the order is known, epoch seconds /
milliseconds / microseconds (decided by magnitude), datetimes already parsed by a reader (Excel,
Parquet), and any explicit strptime pattern. Naive times are read in the chosen IANA timezone.
Bad values are not exceptions: they come back with ``ok=False`` and a reason, so the importer can
reject that row and go on.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from journey_explorer.domain import AmbiguousDateOrder, InputError

SAMPLE_SIZE = 2000
EPOCH_FORMATS = ("epoch_s", "epoch_ms", "epoch_us")
_NUMERIC = re.compile(r"^[-+]?\d+(\.\d+)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T](.*))?$")
_SLASH_YMD = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_TIME_PARTS = ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")


@dataclass
class ParsedTimes:
    ms: np.ndarray          # int64 UTC milliseconds; undefined where ok is False
    ok: np.ndarray          # bool
    reasons: np.ndarray     # object: "" where ok, else why not


@dataclass
class TimeFormatGuess:
    """What a column's values look like. ``kind``: iso, slash_ymd, dmy, mdy, day_month (order
    unknown), epoch_s, epoch_ms, epoch_us, datetime (already parsed), or unknown."""

    kind: str
    format: str | None = None
    ambiguous_day_month: bool = False
    example: str | None = None


def _text_sample(values: pd.Series) -> pd.Series:
    sample = values.dropna().head(SAMPLE_SIZE * 2).astype(str).str.strip()
    return sample[sample != ""].head(SAMPLE_SIZE)


def epoch_unit(magnitude: float) -> str:
    """Seconds ~1e9, milliseconds ~1e12, microseconds ~1e15 (today's dates).

    >>> epoch_unit(1.7e9), epoch_unit(1.7e12), epoch_unit(1.7e15)
    ('epoch_s', 'epoch_ms', 'epoch_us')
    """
    if magnitude < 1e11:
        return "epoch_s"
    if magnitude < 1e14:
        return "epoch_ms"
    return "epoch_us"


def detect_time_format(sample: pd.Series) -> TimeFormatGuess:
    """Look at up to 2000 non-empty values and say how to read them."""
    if pd.api.types.is_datetime64_any_dtype(sample.dtype):
        return TimeFormatGuess("datetime")
    if pd.api.types.is_numeric_dtype(sample.dtype) and not pd.api.types.is_bool_dtype(sample.dtype):
        values = pd.to_numeric(sample, errors="coerce").dropna()
        return TimeFormatGuess(epoch_unit(float(values.abs().median())) if len(values) else "unknown")
    text = _text_sample(sample)
    if text.empty:
        return TimeFormatGuess("unknown")
    example = str(text.iloc[0])
    numeric = text.str.match(_NUMERIC)
    if numeric.mean() > 0.5:
        magnitude = float(pd.to_numeric(text[numeric]).abs().median())
        return TimeFormatGuess(epoch_unit(magnitude), example=example)
    if text.str.match(_SLASH_YMD).mean() > 0.5:
        return TimeFormatGuess("slash_ymd", example=example)
    parts = text.str.extract(_DAY_MONTH).dropna(subset=[0])
    if len(parts) > len(text) * 0.5:
        first, second = parts[0].astype(int), parts[2].astype(int)
        if (first > 12).any() and not (second > 12).any():
            return TimeFormatGuess("dmy", example=example)
        if (second > 12).any() and not (first > 12).any():
            return TimeFormatGuess("mdy", example=example)
        if not (first > 12).any() and not (second > 12).any():
            return TimeFormatGuess("day_month", ambiguous_day_month=True, example=example)
        return TimeFormatGuess("unknown", example=example)   # both orders seen: not one format
    return TimeFormatGuess("iso", example=example)


def check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(f"unknown timezone '{timezone}' (use an IANA name such as Europe/Amsterdam)") \
            from None
    return timezone


def parse_times(values: pd.Series, *, time_format: str | None = None, timezone: str = "UTC",
                date_order: str | None = None, guess: TimeFormatGuess | None = None,
                column: str | None = None, first_line: int | None = None) -> ParsedTimes:
    """Parse a column into UTC milliseconds.

    ``time_format``: None (detect, or use ``guess``), "epoch_s" / "epoch_ms" / "epoch_us", or a
    strptime pattern. ``date_order`` ("dmy"/"mdy") settles dates like 03/04/2024; without it such a
    column raises ``AmbiguousDateOrder``. Naive times are in ``timezone``; at a DST change an
    ambiguous local time is read as the first of the two, a non-existent one is moved forward.
    """
    check_timezone(timezone)
    values = values.reset_index(drop=True)
    if time_format in EPOCH_FORMATS:
        stamps = _from_epoch(values, time_format)
    elif time_format:
        stamps = _from_pattern(values, time_format, timezone)
    else:
        guess = guess or detect_time_format(values)
        stamps = _from_guess(values, guess, timezone, date_order, column, first_line)
    return _result(values, stamps)


def _from_guess(values: pd.Series, guess: TimeFormatGuess, timezone: str, date_order: str | None,
                column: str | None, first_line: int | None) -> pd.Series:
    kind = guess.kind
    if kind == "datetime" or pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _localise(pd.to_datetime(values, errors="coerce"), timezone)
    if kind in EPOCH_FORMATS:
        return _from_epoch(values, None)
    if kind == "day_month":
        if date_order not in ("dmy", "mdy"):
            where = f" in column '{column}'" if column else ""
            raise AmbiguousDateOrder(
                f"dates like '{guess.example}'{where} could be day/month or month/day; choose the order "
                "with --date-order dmy or --date-order mdy (or give --time-format)",
                line=first_line, column=column)
        kind = date_order
    if kind in ("dmy", "mdy"):
        return _day_month(values, dayfirst=(kind == "dmy"), timezone=timezone)
    text = values.astype(object)
    if kind == "slash_ymd":
        text = text.str.replace("/", "-", n=2, regex=False)
    stamps = _iso(text, timezone)
    failed = stamps.isna()
    if failed.any():      # second chance for the few values with stray spaces
        retry = failed & text.notna()
        if retry.any():
            stamps[retry] = _iso(_clean(text[retry]), timezone)
    return stamps


def _clean(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), None)
    return pd.Series(text, dtype=object).map(lambda v: v.strip() if isinstance(v, str) else v)


def _iso(text: pd.Series, timezone: str) -> pd.Series:
    """ISO 8601 in one vectorised pass; offsets are honoured, naive values are in ``timezone``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if timezone == "UTC":
            return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        has_offset = text.str.contains(_OFFSET, na=False)
        out = pd.to_datetime(text.where(has_offset), format="ISO8601", utc=True, errors="coerce")
        naive = pd.to_datetime(text.where(~has_offset), format="ISO8601", errors="coerce")
        return out.where(has_offset, _localise(naive, timezone))


def _day_month(values: pd.Series, *, dayfirst: bool, timezone: str) -> pd.Series:
    """Dates like 22/10/2014 14:05 with a known order; separators / . - and several time layouts."""
    text = _clean(values)
    date = "%d{0}%m{0}%Y" if dayfirst else "%m{0}%d{0}%Y"
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for separator in "/.-":
            for year in ("%Y", "%y"):
                day_part = date.format(separator).replace("%Y", year)
                for pattern in [day_part] + [f"{day_part} {t}" for t in _TIME_PARTS]:
                    todo = result.isna() & text.notna()
                    if not todo.any():
                        break
                    parsed = pd.to_datetime(text[todo], format=pattern, errors="coerce")
                    result[todo] = parsed.astype("datetime64[ns]")
    return _localise(result, timezone)


def _from_pattern(values: pd.Series, pattern: str, timezone: str) -> pd.Series:
    text = _clean(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "%z" in pattern or "%Z" in pattern:
            return pd.to_datetime(text, format=pattern, utc=True, errors="coerce")
        try:
            parsed = pd.to_datetime(text, format=pattern, errors="coerce")
        except ValueError as exc:
            raise InputError(f"invalid --time-format '{pattern}': {exc}") from None
    return _localise(parsed, timezone)


def _from_epoch(values: pd.Series, unit: str | None) -> pd.Series:
    """Epoch numbers in ``unit``; with None, each value's unit follows from its magnitude."""
    numbers = pd.to_numeric(_clean(values) if values.dtype == object else values, errors="coerce")
    numbers = numbers.astype("float64")
    if unit is None:
        size = numbers.abs()
        factor = np.where(size < 1e11, 1000.0, np.where(size < 1e14, 1.0, 0.001))
    else:
        factor = {"epoch_s": 1000.0, "epoch_ms": 1.0, "epoch_us": 0.001}[unit]
    ms = (numbers * factor).round()
    valid = ms.abs() < 4e14          # beyond ~AD 14,600: not a timestamp
    return pd.to_datetime(ms.where(valid), unit="ms", utc=True, errors="coerce")


def _localise(stamps: pd.Series, timezone: str) -> pd.Series:
    stamps = pd.to_datetime(stamps, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        return stamps.dt.tz_convert("UTC")
    if timezone == "UTC":
        return stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_localize(timezone, ambiguous=np.ones(len(stamps), dtype=bool),
                                 nonexistent="shift_forward").dt.tz_convert("UTC")


def _result(values: pd.Series, stamps: pd.Series) -> ParsedTimes:
    stamps = pd.Series(stamps).reset_index(drop=True)
    ok = stamps.notna().to_numpy()
    ms = np.zeros(len(stamps), dtype=np.int64)
    if ok.any():
        ms[ok] = stamps[ok].dt.tz_convert("UTC").astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    reasons = np.full(len(stamps), "", dtype=object)
    if not ok.all():
        raw = values.reset_index(drop=True)
        bad = np.flatnonzero(~ok)
        for i in bad:
            value = raw.iloc[i]
            text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
            reasons[i] = f"unparseable time '{text[:40]}'" if text else "missing time"
    return ParsedTimes(ms=ms, ok=ok, reasons=reasons)
