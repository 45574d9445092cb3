"""Human units, checked by hand."""
from __future__ import annotations

import math

import pytest

from journey_explorer.analysis import units


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (0.4, "< 1 s"), (35, "35 s"), (59.4, "59 s"), (59.6, "1 min"), (240, "4 min"),
    (3_569, "59 min"), (3_600, "1 h"), (4_830, "1 h 21 min"), (86_399, "1 d"),   # 23 h 59.98 min rounds up
    (183_600, "2 d 3 h"), (2 * 86_400, "2 d"), (2_148_776.6, "24 d 21 h"), (45 * 86_400, "45 d"),
    (None, "–"), (math.nan, "–"), (-5, "–"),
])
def test_duration(seconds, text):
    assert units.duration(seconds) == text


@pytest.mark.parametrize("share, digits, text", [
    (0.547, 1, "54.7%"), (0.5, 0, "50%"), (1.0, 1, "100.0%"), (0.0, 1, "0.0%"), (0.0004, 1, "< 0.1%"),
    (0.004, 0, "< 1%"), (None, 1, "–"),
])
def test_percent(share, digits, text):
    assert units.percent(share, digits) == text


@pytest.mark.parametrize("value, text, short", [
    (0, "0", "0"), (999, "999", "999"), (1_234, "1,234", "1,234"), (534_385, "534,385", "534.4k"),
    (4_520_000, "4,520,000", "4.5M"), (None, "–", "–"),
])
def test_counts(value, text, short):
    assert units.count(value) == text
    assert units.compact_count(value) == short
