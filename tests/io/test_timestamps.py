"""Timestamp parsing: every expected value is UTC milliseconds worked out by hand.

Anchors used below (days since 1970-01-01 times 86,400,000):
  2011-10-11 = 1,318,291,200,000   (14,975 days to 2011-01-01, +283 days)
  2014-10-22 = 1,413,936,000,000   (16,071 days to 2014-01-01, +294 days)
  2024-01-01 = 1,704,067,200,000   (19,723 days)
  2024-03-01 = 1,709,251,200,000   (+31 +29 days)
  2024-03-31 = 1,711,843,200,000   (+90 days)
  2024-10-27 = 1,729,987,200,000   (+300 days)
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_explorer.domain import AmbiguousDateOrder, InputError
from journey_explorer.io.timestamps import detect_time_format, parse_times

HOUR = 3_600_000
MAR_1_2024 = 1_709_251_200_000
MAR_31_2024 = 1_711_843_200_000
OCT_27_2024 = 1_729_987_200_000


def parsed(values, **options):
    """(ms, ok, reason) per value, to compare with a hand-written list."""
    times = parse_times(pd.Series(values), **options)
    return [(int(ms) if ok else None, reason) for ms, ok, reason in zip(times.ms, times.ok, times.reasons)]


def ms_of(values, **options):
    result = parsed(values, **options)
    assert all(reason == "" for _, reason in result), result
    return [ms for ms, _ in result]


# --- ISO 8601 -------------------------------------------------------------------------------------


def test_iso_spellings():
    ten_am = MAR_1_2024 + 10 * HOUR                                   # 1_709_287_200_000
    assert ms_of(["2024-03-01T10:00:00Z", "2024-03-01 10:00:00", "  2024-03-01T10:00:00  ",
                  "2024-03-01T10:00", "2024-03-01", "2024-03-01T10:00:00 UTC",
                  "2024-03-01t10:00:00z"]) == [1_709_287_200_000, ten_am, ten_am, ten_am, MAR_1_2024,
                                               ten_am, ten_am]


def test_fractional_seconds_of_one_to_nine_digits_are_floored_to_ms():
    ten_am = 1_709_287_200_000
    assert ms_of(["2024-03-01T10:00:00.1", "2024-03-01T10:00:00.12", "2024-03-01T10:00:00.123456",
                  "2024-03-01T10:00:00.123456789", "2024-03-01T10:00:00.9999", "2024-03-01T10:00:00,5"]) \
        == [ten_am + 100, ten_am + 120, ten_am + 123, ten_am + 123, ten_am + 999, ten_am + 500]
    # before 1970 floor goes down: 0.5 ms before the epoch is millisecond -1
    assert ms_of(["1969-12-31T23:59:59.9995Z"]) == [-1]


def test_mixed_offsets_in_one_column_convert_to_utc():
    # 13:45:40.276 at +02:00 is 11:45:40.276 UTC; at +01:00 it is 12:45:40.276 UTC
    oct_11_2011 = 1_318_291_200_000
    at_1145 = oct_11_2011 + 11 * HOUR + 45 * 60_000 + 40_276         # 1_318_333_540_276
    assert ms_of(["2011-10-11 13:45:40.276000+02:00", "2011-10-11 13:45:40.276000+01:00",
                  "2011-10-11T08:45:40.276-0300", "2011-10-11T11:45:40.276Z"]) \
        == [at_1145, at_1145 + HOUR, at_1145, at_1145]


def test_an_offset_after_an_hour_alone_is_not_applied_twice():
    # 10:00 at +02:00 is 08:00 UTC whatever the zone chosen for naive times; a date alone stays naive.
    eight = MAR_1_2024 + 8 * HOUR
    times = parse_times(pd.Series(["2024-03-01T10+02", "2024-03-01 10+02:00", "2024-03-01"]),
                        timezone="Europe/Berlin")
    assert times.ms.tolist() == [eight, eight, MAR_1_2024 - HOUR]      # Berlin is UTC+1 in March


def test_slash_ymd_like_the_sepsis_log():
    assert detect_time_format(pd.Series(["2014/10/22 11:15:41.000"])).kind == "slash_ymd"
    # 2014-10-22 + 11:15:41 = 1_413_936_000_000 + 40_541_000
    assert ms_of(["2014/10/22 11:15:41.000", "2014/10/22 11:15:41"]) == [1_413_976_541_000] * 2


def test_years_out_of_range():
    assert parsed(["10000-01-01", "0001-01-01", "9999-12-31T23:59:59.999999999"]) == [
        (None, "unparseable time '10000-01-01'"),
        (-62_135_596_800_000, ""),            # 719,162 days before 1970
        (253_402_300_799_999, ""),            # the last millisecond of year 9999
    ]


# --- time zones -----------------------------------------------------------------------------------


def test_naive_times_in_a_named_zone_with_dst():
    amsterdam = parsed(["2024-01-15 12:00", "2024-07-01 12:00", "2024-10-27 02:30", "2024-03-31 02:30",
                        "2024-10-27T02:30:00+02:00"], timezone="Europe/Amsterdam")
    assert amsterdam == [
        (1_704_067_200_000 + 14 * 86_400_000 + 11 * HOUR, ""),       # winter, +01:00 -> 11:00 UTC
        (1_704_067_200_000 + 182 * 86_400_000 + 10 * HOUR, ""),      # summer, +02:00 -> 10:00 UTC
        (OCT_27_2024 + HOUR + 30 * 60_000, ""),      # 02:30 happens twice: standard time (+01:00)
        (MAR_31_2024 + HOUR, ""),                     # 02:30 never happens: moved to 03:00 CEST
        (OCT_27_2024 + 30 * 60_000, ""),              # an explicit offset wins over the zone
    ]


def test_datetime_values_from_excel_or_parquet():
    naive = pd.Series(pd.to_datetime(["2024-07-01 12:00"]))
    aware = pd.Series(pd.to_datetime(["2024-07-01 12:00+02:00"]))
    july_1 = 1_704_067_200_000 + 182 * 86_400_000
    assert ms_of(naive, timezone="Europe/Amsterdam") == [july_1 + 10 * HOUR]
    assert ms_of(aware) == [july_1 + 10 * HOUR]
    cells = pd.Series([dt.datetime(2024, 3, 1, 10), dt.date(2024, 3, 1), "2024-03-01T10:00:00Z",
                       dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))], dtype=object)
    assert ms_of(cells) == [MAR_1_2024 + 10 * HOUR, MAR_1_2024, MAR_1_2024 + 10 * HOUR, MAR_1_2024 + 9 * HOUR]


def test_invalid_timezone_names_it():
    with pytest.raises(InputError, match="Mars/Olympus"):
        parse_times(pd.Series(["2024-03-01"]), timezone="Mars/Olympus")


# --- epochs ---------------------------------------------------------------------------------------


def test_epoch_units_by_magnitude():
    assert detect_time_format(pd.Series([1_700_000_000])).kind == "epoch_s"
    assert detect_time_format(pd.Series(["1700000000123"])).kind == "epoch_ms"
    assert detect_time_format(pd.Series([1.7e15])).kind == "epoch_us"
    assert ms_of(pd.Series([1_700_000_000, 1_700_000_001])) == [1_700_000_000_000, 1_700_000_001_000]
    assert ms_of(["1700000000", "1700000000.0", " 1700000000.5 "]) == [
        1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_500]
    assert ms_of(pd.Series([1_700_000_000_123_456])) == [1_700_000_000_123]       # µs floored
    assert ms_of(pd.Series([1_700_000_000.123])) == [1_700_000_000_123]           # no 122.999 error


def test_seconds_and_milliseconds_mixed_in_one_column():
    # Mixpanel exports do this; each number's magnitude picks its unit
    assert ms_of(pd.Series([1_704_448_800, 1_704_448_800_500])) == [1_704_448_800_000, 1_704_448_800_500]


def test_explicit_epoch_unit_is_used_as_given():
    assert ms_of(pd.Series([5_000, 86_400_000]), time_format="epoch_ms") == [5_000, 86_400_000]
    assert ms_of(["86400"], time_format="epoch_s") == [86_400_000]
    assert ms_of(pd.Series([1_500]), time_format="epoch_us") == [1]


def test_epoch_missing_garbage_and_out_of_range():
    assert parsed(pd.Series([1_700_000_000, None], dtype="Int64")) == [(1_700_000_000_000, ""),
                                                                      (None, "missing time")]
    assert parsed(["1700000000", "soon", "", "1e20"]) == [
        (1_700_000_000_000, ""), (None, "unparseable time 'soon'"), (None, "missing time"),
        (None, "time out of range '1e20'")]


def test_compact_dates_are_not_epoch_seconds():
    guess = detect_time_format(pd.Series(["20240301", "20240302"]))
    assert (guess.kind, guess.format) == ("strptime", "%Y%m%d")
    assert ms_of(["20240301", "20240302"]) == [MAR_1_2024, MAR_1_2024 + 86_400_000]


# --- day / month order ----------------------------------------------------------------------------


def test_day_first_decided_by_a_first_field_over_12():
    guess = detect_time_format(pd.Series(["03/04/2024 10:00", "22/10/2014 11:15"]))
    assert (guess.kind, guess.ambiguous_day_month, guess.example) == ("dmy", False, "22/10/2014 11:15")
    # 3 April 2024 = 2024-01-01 + 93 days
    assert ms_of(["03/04/2024 10:00", "22/10/2014 11:15", "3.4.24", "1/2/2024 1:05 PM"]) == [
        1_704_067_200_000 + 93 * 86_400_000 + 10 * HOUR, 1_413_936_000_000 + 11 * HOUR + 15 * 60_000,
        1_704_067_200_000 + 93 * 86_400_000, 1_704_067_200_000 + 31 * 86_400_000 + 13 * HOUR + 5 * 60_000]


def test_month_first_decided_by_a_second_field_over_12():
    guess = detect_time_format(pd.Series(["03/04/2024 10:00", "10/22/2014 11:15"]))
    assert (guess.kind, guess.ambiguous_day_month) == ("mdy", False)
    # 4 March 2024 = 2024-03-01 + 3 days
    assert ms_of(["03/04/2024 10:00", "10/22/2014 11:15"]) == [
        MAR_1_2024 + 3 * 86_400_000 + 10 * HOUR, 1_413_936_000_000 + 11 * HOUR + 15 * 60_000]


def test_truly_ambiguous_dates_raise_until_the_order_is_given():
    values = pd.Series(["03/04/2024 10:00", "05/06/2024 11:00"])
    assert detect_time_format(values).ambiguous_day_month
    with pytest.raises(AmbiguousDateOrder) as err:
        parse_times(values, column="When", first_line=2)
    message = str(err.value)        # as the import window says it: its controls' labels
    assert "'When'" in message and "03/04/2024 10:00" in message and "'Day/month order' dmy or mdy" in message
    assert "exact 'Time format'" in message and err.value.line == 2 and "--" not in message
    from journey_explorer.cli.arguments import cli_message
    said = cli_message(err.value)   # as the command line says it: its flags
    assert "--date-order dmy or mdy" in said and "exact --time-format" in said and "'When'" in said
    assert ms_of(values, date_order="dmy")[0] == 1_704_067_200_000 + 93 * 86_400_000 + 10 * HOUR
    assert ms_of(values, date_order="mdy")[0] == MAR_1_2024 + 3 * 86_400_000 + 10 * HOUR


def test_both_orders_in_one_column_are_not_silently_picked():
    with pytest.raises(AmbiguousDateOrder, match="day first in some rows"):
        parse_times(pd.Series(["13/04/2024", "04/13/2024"]))
    # once the user chooses, the rows that do not fit are rejected, not reinterpreted
    assert parsed(["13/04/2024", "04/13/2024"], date_order="dmy") == [
        (1_704_067_200_000 + 103 * 86_400_000, ""), (None, "unparseable time '04/13/2024'")]


# --- explicit and textual formats -------------------------------------------------------------------


def test_explicit_strptime_pattern_in_a_zone_and_with_offsets():
    assert ms_of(["01.03.2024 10:00"], time_format="%d.%m.%Y %H:%M",
                 timezone="America/New_York") == [MAR_1_2024 + 15 * HOUR]          # EST is -05:00
    assert ms_of(["01/03/2024 10:00 +0100", "01/03/2024 10:00 -0500"],
                 time_format="%d/%m/%Y %H:%M %z") == [MAR_1_2024 + 9 * HOUR, MAR_1_2024 + 15 * HOUR]


def test_bad_options_raise_input_errors():
    for options in ({"time_format": "%Q"}, {"time_format": "day-month"}, {"date_order": "ymd"}):
        with pytest.raises(InputError):
            parse_times(pd.Series(["2024-03-01"]), **options)


def test_textual_month_layout_is_detected():
    guess = detect_time_format(pd.Series(["22-Oct-2014 11:15:41", "23-Oct-2014 09:00:00"]))
    assert (guess.kind, guess.format) == ("strptime", "%d-%b-%Y %H:%M:%S")
    assert ms_of(["22-Oct-2014 11:15:41"]) == [1_413_976_541_000]


# --- bad values -------------------------------------------------------------------------------------


def test_garbage_and_missing_values_are_rejected_with_a_reason():
    values = pd.Series(["2024-03-01", "not a date", "", None, np.nan, "   ", "2024-02-30",
                        "x" * 60], index=range(100, 108))            # a chunk from mid-file
    assert parsed(values) == [
        (MAR_1_2024, ""), (None, "unparseable time 'not a date'"), (None, "missing time"),
        (None, "missing time"), (None, "missing time"), (None, "missing time"),
        (None, "unparseable time '2024-02-30'"), (None, "unparseable time '" + "x" * 40 + "'")]


def test_a_column_of_garbage_only_is_all_rejected():
    result = parse_times(pd.Series(["abc", "def"]))
    assert not result.ok.any() and list(result.reasons) == ["unparseable time 'abc'", "unparseable time 'def'"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=30), st.none(),
                          st.from_regex(r"[0-9]{1,4}[/.\- :T][0-9]{1,2}[/.\-:][0-9]{1,4}", fullmatch=True)),
                max_size=12),
       st.sampled_from(["UTC", "Europe/Amsterdam"]))
def test_random_text_never_raises_anything_but_a_user_error(values, timezone):
    try:
        result = parse_times(pd.Series(values, dtype=object), timezone=timezone)
    except (AmbiguousDateOrder, InputError):
        return
    assert len(result.ms) == len(result.ok) == len(result.reasons) == len(values)
    assert all((reason == "") == bool(ok) for ok, reason in zip(result.ok, result.reasons))
