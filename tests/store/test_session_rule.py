"""How events are cut into sessions: visits of a web log, one visit per case of a process log, the
user's gap setting taking effect after import, and projects cut by the older rule cut again on load."""
from __future__ import annotations

import numpy as np

from journey_explorer.domain import ImportOptions
from journey_explorer.store import session_rule
from journey_explorer.store.importer import import_file as import_any
from journey_explorer.store.project import Project


def process_log(user_column: str, hours_apart: float, cases: int = 30, steps: int = 4) -> str:
    """``cases`` paths of ``steps`` events, consecutive steps ``hours_apart`` apart."""
    lines = [f"{user_column},activity,time"]
    for case in range(cases):
        for step in range(steps):
            minutes = case * 7 + step * hours_apart * 60
            lines.append(f"c{case},step{step},2024-01-01T00:00:00Z+{minutes}m")
    return "\n".join(_with_times(lines)) + "\n"


def _with_times(lines: list[str]) -> list[str]:
    """Turn the '+Nm' offsets into ISO times."""
    import pandas as pd
    out = [lines[0]]
    for line in lines[1:]:
        head, time = line.rsplit(",", 1)
        base, offset = time.split("+")
        out.append(f"{head},{(pd.Timestamp(base) + pd.Timedelta(minutes=float(offset[:-1]))).isoformat()}")
    return out


def import_file(project, source):
    """Import with the first column as the user (a name like order_id is confirmed by hand)."""
    user = source.read_text().split(",", 1)[0]
    return import_any(project, source, ImportOptions(user=user))


def sessions_of(path) -> int:
    with Project.open(path) as project:
        return len(np.unique(project.load_event_log(with_properties=False).session))


def test_steps_hours_apart_are_one_visit_per_path(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text(process_log("order_id", hours_apart=5))     # 90 steps, all 5 h apart
    import_file(tmp_path / "p.journey", source)
    assert sessions_of(tmp_path / "p.journey") == 30             # was 120: every step its own visit


def test_steps_minutes_apart_keep_the_inactivity_gap(tmp_path):
    lines = ["user,event,time"]
    for user in range(30):          # two visits a day apart, three events a minute apart in each
        for visit in range(2):
            for step in range(3):
                lines.append(f"u{user},e{step},2024-01-0{1 + visit}T10:0{step}:00Z")
    source = tmp_path / "web.csv"
    source.write_text("\n".join(lines) + "\n")
    import_file(tmp_path / "p.journey", source)
    assert sessions_of(tmp_path / "p.journey") == 60


def test_a_case_id_column_says_cases_even_for_close_steps(tmp_path):
    source = tmp_path / "log.csv"
    source.write_text(process_log("case:concept:name", hours_apart=0.05, steps=3))     # 3 min apart
    import_file(tmp_path / "p.journey", source)
    assert sessions_of(tmp_path / "p.journey") == 30
    assert session_rule.is_case_column("Case ID") and not session_rule.is_case_column("user_id")


def test_an_explicit_session_column_wins(tmp_path):
    lines = ["order_id,event,time,session_id"]
    for case in range(30):
        for step in range(4):           # 5 h apart, but the file says which visit each event is in
            lines.append(f"c{case},s{step},2024-01-01T{step * 5:02d}:00:00Z,v{case}-{step // 2}")
    source = tmp_path / "log.csv"
    source.write_text("\n".join(lines) + "\n")
    import_file(tmp_path / "p.journey", source)
    assert sessions_of(tmp_path / "p.journey") == 60
    with Project.open(tmp_path / "p.journey") as project:        # cut again on load: the keys still cut
        project.set_setting(session_rule.GAP_SETTING, 0)
    assert sessions_of(tmp_path / "p.journey") == 60


def test_a_gap_set_after_import_takes_effect(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text(process_log("order_id", hours_apart=5))
    import_file(tmp_path / "p.journey", source)
    with Project.open(tmp_path / "p.journey") as project:
        project.set_setting(session_rule.GAP_SETTING, 30)
    assert sessions_of(tmp_path / "p.journey") == 120
    with Project.open(tmp_path / "p.journey") as project:
        info = project.info()
        assert (info.sessions, info.session_gap_minutes) == (120, 30)
        project.set_setting(session_rule.GAP_SETTING, 0)         # 0: one visit per path
    assert sessions_of(tmp_path / "p.journey") == 30


def test_a_project_cut_by_the_older_rule_is_cut_again_on_load(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text(process_log("order_id", hours_apart=5))
    with Project.open(tmp_path / "p.journey", create=True) as project:
        project.set_setting(session_rule.GAP_SETTING, 30)         # as every import was cut before
    import_file(tmp_path / "p.journey", source)
    with Project.open(tmp_path / "p.journey") as project:         # an old file: no stamp, no setting
        project.conn.execute("DELETE FROM settings WHERE key IN (?, ?)",
                             (session_rule.STAMP_SETTING, session_rule.GAP_SETTING))
        assert len(np.unique(project.load_arrays(("session",), as_stored=True)["session"])) == 120
        stamp_before = project.log_stamp()
    assert sessions_of(tmp_path / "p.journey") == 30
    with Project.open(tmp_path / "p.journey") as project:      # a goal guess made from other visits is not reused
        project.set_setting(session_rule.GAP_SETTING, 30)
        assert project.log_stamp() != stamp_before


def test_an_app_opened_once_a_day_for_a_step_or_two_keeps_its_visits():
    """200 users open the app once a day for 30 days, two events a minute apart on every other day and
    one on the others: 29 of 44 steps are a day apart (66%), yet the visits are visits."""
    from journey_explorer.store.session_rule import DEFAULT_GAP_MS, choose_gap_ms
    day, minute = 86_400_000, 60_000
    user, ts = [], []
    for u in range(200):
        for d in range(30):
            times = [d * day, d * day + minute] if d % 2 == 0 else [d * day]
            user += [u] * len(times)
            ts += times
    assert choose_gap_ms(None, False, np.array(user), np.array(ts, dtype=np.int64)) == DEFAULT_GAP_MS
