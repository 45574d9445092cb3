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


def test_stuck_charts_name_the_groups_of_a_goal_to_avoid_as_the_analysis_does():
    """For a goal to avoid the bars, axis and table say "users who cancel", as the explanations do, not "failing"."""
    from types import SimpleNamespace

    import pandas as pd

    from journey_explorer.analysis import stuck
    from journey_explorer.charts.renderers.stuck import bar_text, groups, table
    from journey_explorer.export.native_charts import _stuck
    row = SimpleNamespace(stop_excess=0, exit_excess=0.3, exit_rate_failing=0.5, exit_reference=0.2,
                          loop_excess=0, dwell_excess=0, failing_users=80)
    rows = pd.DataFrame([{"event": "settings", "score": 0.3}])
    unstuck = [{"event": "settings", "next": [{"event": "help", "successful_share": 0.6, "failing_share": 0.1}]}]
    avoid = SimpleNamespace(spec=stuck.Spec(goal="subscription_cancelled", unit="users", unwanted=True),
                            table=rows, unstuck=unstuck)
    failing, successful, tag = groups(avoid)
    assert (failing, successful, tag) == ("users who cancel", "users who never cancel", "who cancel")
    assert bar_text(row, failing, tag) == "visit ends 50% vs 20% (80 who cancel)"
    assert list(table(avoid, None).columns[-2:]) == ["users who never cancel", "users who cancel"]
    assert _stuck(avoid).value_axis == "how much worse users who cancel do here than users who never cancel"
    reach = SimpleNamespace(spec=stuck.Spec(goal="paid", unit="cases"), table=rows, unstuck=unstuck)
    assert groups(reach) == ("failing cases", "successful cases", "failing")
    counted = SimpleNamespace(spec=reach.spec, unstuck=[], table=rows.assign(failing_users=80, successful_users=5))
    assert list(table(counted, None).columns) == ["event", "score", "failing_cases", "successful_cases"]
    assert bar_text(row) == "visit ends 50% vs 20% (80 failing)"
