"""The stuck chart's bar label says every part that makes an event stuck (the renderer needs Qt)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest


def test_a_bar_stuck_by_repeats_says_how_often_not_no_worse():
    pytest.importorskip("PySide6")
    from journey_explorer.charts.renderers.stuck import bar_text
    row = SimpleNamespace(stop_excess=0, exit_excess=0, loop_excess=0, dwell_excess=0, wait_excess=0,
                          repeat_excess=0.5, repeat_mean_failing=4.62, repeat_mean_successful=1.0, failing_users=222)
    assert bar_text(row) == "done 4.6× a visit vs 1.0× (222 failing)"
