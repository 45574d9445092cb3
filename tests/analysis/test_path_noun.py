"""What a path is called: "cases" on a process log (the session rule found one visit per path by
itself), "users" otherwise (a user's own gap of 0 included), "sessions" per session; and the sentences
of stuck, the overview and the north star on a tiny case log say "cases"."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from journey_explorer.analysis import narrative, stuck
from journey_explorer.analysis.common import CommonFilter, apply_filter, subset
from journey_explorer.eventlog import EventLog
from journey_explorer.store import session_rule
from journey_explorer.store.project import Project
from tests.store.test_session_rule import import_file, process_log


def loaded_noun(path) -> str:
    with Project.open(path) as project:
        return project.load_event_log(with_properties=False).path_noun


def test_a_case_named_column_makes_cases(tmp_path):
    source = tmp_path / "log.csv"
    source.write_text(process_log("case:concept:name", hours_apart=0.05, steps=3))     # 3 min apart
    import_file(tmp_path / "p.journey", source)
    assert loaded_noun(tmp_path / "p.journey") == "case"


def test_steps_far_apart_make_cases_and_close_steps_stay_users(tmp_path):
    far, close = tmp_path / "orders.csv", tmp_path / "clicks.csv"
    far.write_text(process_log("order_id", hours_apart=5))
    close.write_text(process_log("visitor", hours_apart=0.05))
    import_file(tmp_path / "far.journey", far)
    import_file(tmp_path / "close.journey", close)
    assert loaded_noun(tmp_path / "far.journey") == "case"
    assert loaded_noun(tmp_path / "close.journey") == "user"
    with Project.open(tmp_path / "far.journey") as project:
        assert project.info().path_noun == "case"


def test_a_users_gap_of_zero_is_one_visit_per_path_but_not_cases(tmp_path):
    source = tmp_path / "clicks.csv"
    source.write_text(process_log("visitor", hours_apart=0.05))
    import_file(tmp_path / "p.journey", source)
    with Project.open(tmp_path / "p.journey") as project:
        project.set_setting(session_rule.GAP_SETTING, 0)
    assert loaded_noun(tmp_path / "p.journey") == "user"


def case_log(cases: int = 60) -> EventLog:
    """Orders: every path ends paid, except every third, which loops on approve and is cancelled."""
    rows = []
    for case in range(cases):
        steps = ["create", "approve", "approve", "approve", "cancel"] if case % 3 == 0 else \
            ["create", "approve", "ship", "pay"]
        rows += [(f"o{case}", step, case * 3_600_000 * 7 + i * 3_600_000 * 30) for i, step in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]),
                              session_gap_ms=session_rule.NO_SPLIT_MS)
    return dataclasses.replace(log, path_noun="case")


def test_per_session_paths_are_sessions_and_a_subset_keeps_the_noun():
    log = case_log()
    assert apply_filter(log, CommonFilter(by="session")).path_noun == "session"
    assert subset(log, np.arange(len(log)) % 2 == 0).path_noun == "case"


def test_stuck_overview_and_north_star_say_cases():
    log = case_log()
    stuck_finding = narrative.stuck_points(log, "pay")
    assert stuck_finding.title == "Cases get stuck at approve"
    assert "failing cases loop on it" in stuck_finding.observation
    assert "user" not in stuck_finding.observation
    overview = narrative.overview(log, "pay")
    assert overview.observation.startswith("60 cases did ") and "per case" in overview.observation
    assert overview.title == "66.7% of cases reach pay"
    star = narrative.north_star(log, "pay")
    assert star.observation.startswith("North star: cases doing pay")
    assert "user" not in star.observation and "user" not in star.title
    # the words stuck's own table carries, as the CLI prints them
    assert stuck.run(log, stuck.Spec(goal="pay")).spec.unit == "cases"


def test_the_same_sentences_say_users_on_a_user_log():
    log = dataclasses.replace(case_log(), path_noun="user")
    assert narrative.stuck_points(log, "pay").title == "Users get stuck at approve"
    assert narrative.overview(log, "pay").observation.startswith("60 users did ")
