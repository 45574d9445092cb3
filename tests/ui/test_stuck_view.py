"""The stuck view: a stuck step found inside an event (its lesson) is one click from naming the
event by that property in every view."""
from __future__ import annotations

import pandas as pd

from journey_explorer.store.project import Project
from tests.analysis.test_stuck import _lessons_rows


def settle_view(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.runner.busy and view.result is not None
                    and (view.drawn_result is view.result or view.banner.isVisible()), timeout=60_000)


def test_name_the_event_by_the_step_it_was_stuck_inside(open_window, qtbot, tmp_path):
    from journey_explorer.store.importer import import_file
    frame = pd.DataFrame(_lessons_rows(), columns=["user", "event", "time", "lesson"])
    frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(tmp_path / "lessons.csv", index=False)
    import_file(tmp_path / "lessons.journey", tmp_path / "lessons.csv")
    with Project.open(tmp_path / "lessons.journey") as project:
        project.default_goal = "subscribe"
    window = open_window(tmp_path / "lessons.journey")
    view = window.show_view("stuck")
    settle_view(qtbot, view)
    assert view.drawn_result.stuck.iloc[0]["event"] == "lesson_started: L3"
    assert view.name_button.isVisible() and view.name_button.text() == "Name lesson_started by lesson"
    with qtbot.waitSignal(view.name_requested):
        view.name_button.click()
    assert not view.name_button.isEnabled()         # a second click would push a second undo step
    with Project.open(tmp_path / "lessons.journey") as project:
        assert project.event_detail_rules() == {"lesson_started": "lesson"}
    qtbot.waitUntil(lambda: view.drawn_result is not None and "lesson_started: L3" in view.drawn_result.table[
        "event"].tolist() and view.drawn_result.table["inside_event"].isna().all(), timeout=60_000)
    assert not view.name_button.isVisible()         # named now: the step is an event of its own


def test_a_stuck_bar_never_reads_a_small_share_as_zero():
    """A bar's "visit ends 0.4% vs 0.1%" must not print as "0% vs 0%" (it read as no difference)."""
    from types import SimpleNamespace

    from journey_explorer.charts.renderers.stuck import bar_text
    row = SimpleNamespace(stop_excess=0, exit_excess=0.003, exit_rate_failing=0.004, exit_reference=0.001,
                          loop_excess=0.2, loop_rate_failing=0.25, loop_reference=0.05, dwell_excess=0,
                          failing_users=1234)
    assert bar_text(row) == "visit ends 0.4% vs 0.1% · loop 25% vs 5% (1,234 failing)"
