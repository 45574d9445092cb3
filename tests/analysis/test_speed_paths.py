"""The fast paths of issue 16 give the numbers of the slow ones: integer periods against pandas'
calendar, the vectorised 2x2 tests against scipy, n-gram user counts against a plain loop, cohort
labels on a hand-checked log."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from journey_explorer.analysis import compare, lifecycle, retention
from journey_explorer.analysis.effects import two_by_two_tests
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z, a Monday


def make_log(rows):
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


@pytest.mark.parametrize("period, freq", [("day", "D"), ("week", "W-SUN"), ("month", "M")])
def test_period_ordinals_are_pandas_periods(period, freq):
    ts = np.random.default_rng(4).integers(-10**12, 3 * 10**12, 20_000)
    edges = np.array([0, -1, MONDAY - 1, MONDAY, MONDAY + 7 * DAY - 1, 951782400000])   # 2000-02-29
    ts = np.concatenate([ts, edges])
    expected = pd.to_datetime(ts, unit="ms", utc=True).tz_localize(None).to_period(freq).asi8
    assert np.array_equal(lifecycle.period_ordinals(ts, period), expected)
    ordinals = np.unique(expected)[:50]
    starts = [str(pd.Period(ordinal=o, freq=freq).start_time.date()) for o in ordinals]
    assert lifecycle.period_starts(ordinals, period) == starts


def test_lifecycle_weeks_on_a_hand_checked_log():
    rows = [("a", "x", MONDAY), ("a", "x", MONDAY + DAY), ("a", "x", MONDAY + 14 * DAY),     # weeks 0, 2
            ("b", "x", MONDAY + 6 * DAY), ("b", "x", MONDAY + 7 * DAY)]                         # weeks 0, 1
    table = lifecycle.run(make_log(rows), lifecycle.Spec("week")).table
    assert table["period"].tolist() == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert table["new"].tolist() == [2, 0, 0]
    assert table["returning"].tolist() == [0, 1, 0]
    assert table["resurrected"].tolist() == [0, 0, 1]
    assert table["dormant"].tolist() == [0, -1, -1]       # a is away in week 1, b from week 2
    assert table["active"].tolist() == [2, 1, 1]


def test_retention_cohorts_are_labelled_by_calendar_period():
    # a starts Monday 1 Jan, b Wednesday 3 Jan (same week), c Tuesday 9 Jan; the data ends 29 Jan.
    rows = [("a", "x", MONDAY), ("a", "x", MONDAY + 8 * DAY),
            ("b", "x", MONDAY + 2 * DAY),
            ("c", "x", MONDAY + 8 * DAY), ("c", "x", MONDAY + 16 * DAY), ("c", "x", MONDAY + 28 * DAY)]
    weekly = retention.run(make_log(rows), retention.Spec(period="week", max_periods=3)).cohorts
    assert weekly["cohort"].tolist() == ["2024-01-01", "2024-01-08"]
    assert weekly["size"].tolist() == [2, 1]
    assert weekly["p1"].tolist() == [0.5, 1.0]            # a came back in its week 1, b did not; c did
    assert weekly["p2"][0] == 0.0 and pd.isna(weekly["p2"][1])    # c's week 2 is not over when the data ends
    monthly = retention.run(make_log(rows), retention.Spec(period="month", max_periods=1)).cohorts
    assert monthly["cohort"].tolist() == ["2024-01"] and monthly["size"].tolist() == [3]
    daily = retention.run(make_log(rows), retention.Spec(period="day", max_periods=1)).cohorts
    assert daily["cohort"].tolist() == ["2024-01-01", "2024-01-03", "2024-01-09"]


def scipy_p(x, a, y, b):
    table = np.array([[x, a - x], [y, b - y]], dtype=float)
    if (table.sum(0) == 0).any() or (table.sum(1) == 0).any():
        return 1.0
    expected = table.sum(1)[:, None] * table.sum(0)[None, :] / table.sum()
    if (expected < 5).any():
        return stats.fisher_exact(table)[1]
    return stats.chi2_contingency(table, correction=True)[1]


@pytest.mark.parametrize("a_size, b_size", [(100, 100), (40, 3000), (5, 7), (250_000, 180_000), (0, 10)])
def test_two_by_two_p_values_match_scipy(a_size, b_size):
    rng = np.random.default_rng(a_size + b_size)
    a_has = np.concatenate([rng.integers(0, a_size + 1, 300), [0, a_size, min(a_size, 2)]])
    b_has = np.concatenate([rng.integers(0, b_size + 1, 300), [0, b_size, min(b_size, 3)]])
    odds, p = two_by_two_tests(a_has, a_size, b_has, b_size)
    expected = [scipy_p(x, a_size, y, b_size) for x, y in zip(a_has, b_has)]
    assert np.allclose(p, expected, rtol=1e-9, atol=1e-12)


def test_chi_square_hand_checked():
    # [[30, 70], [10, 90]]: expected 20/80 per row; |O - E| = 10, corrected 9.5:
    # 9.5² (2/20 + 2/80) = 11.28125, and P(chi2(1) > 11.28125) = erfc(sqrt(11.28125 / 2)) = 0.000782938...
    _, p = two_by_two_tests(np.array([30]), 100, np.array([10]), 100)
    assert p[0] == pytest.approx(0.0007829382178911184, rel=1e-9)


def test_sequence_user_counts_match_a_plain_loop():
    rng = np.random.default_rng(7)
    rows = [(f"u{u}", f"e{rng.integers(0, 4)}", t * 1000) for u in range(60) for t in range(rng.integers(1, 9))]
    log = make_log(rows)
    result = compare.run(log, compare.Spec(did="e3", top_sequences=200))
    did = {user for user, event, _ in rows if event == "e3"}
    paths: dict[str, list[str]] = {}
    for user, event, _ in rows:
        paths.setdefault(user, []).append(event)
    for n in (2, 3):
        holders: dict[str, set] = {}
        for user, events in paths.items():
            for i in range(len(events) - n + 1):
                holders.setdefault(" → ".join(events[i:i + n]), set()).add(user)
        ours = result.sequences[result.sequences["length"] == n].set_index("sequence")
        assert len(ours) == min(len(holders), 200)
        for sequence, users in holders.items():
            if sequence in ours.index:
                assert ours.loc[sequence, "share_a"] == round(len(users & did) / len(did), 4)
                assert ours.loc[sequence, "share_b"] == round(len(users - did) / (len(paths) - len(did)), 4)


def test_sequences_from_a_huge_alphabet_are_renumbered_with_the_same_counts(monkeypatch):
    rng = np.random.default_rng(8)
    rows = [(f"u{u}", f"e{rng.integers(0, 5)}", t * 1000) for u in range(40) for t in range(rng.integers(1, 7))]
    log = make_log(rows)
    dense = compare.run(log, compare.Spec(did="e1")).sequences
    monkeypatch.setattr(compare, "DENSE_SEQUENCE_CODES", 1)       # every code space counts as huge
    assert compare.run(log, compare.Spec(did="e1")).sequences.equals(dense)
