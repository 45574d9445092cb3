"""The structural goal guess is kept with the project: a command that guessed the whole log's goal
writes it, the next command on the same log reads it instead of guessing, and any change to what the
log is made of (an import, a rename, a hidden event) makes the guess be worked out again."""
from __future__ import annotations

import json

import pytest

from journey_explorer.analysis import goals
from journey_explorer.cli import main
from journey_explorer.store.import_undo import project_stamp
from journey_explorer.store.project import GUESS_SETTING, Project, ProjectLock, _start_time

CSV = "user,event,time\n" + "".join(
    f"u{n},visit,2024-01-0{1 + n % 5}T10:00:00Z\nu{n},browse,2024-01-0{1 + n % 5}T10:01:00Z\n"
    + (f"u{n},buy,2024-01-0{1 + n % 5}T10:02:00Z\n" if n % 3 == 0 else "")
    for n in range(30))


@pytest.fixture
def project(tmp_path, capsys):
    source = tmp_path / "e.csv"
    source.write_text(CSV)
    path = tmp_path / "p.journey"
    assert main(["import", str(path), str(source), "--json"]) == 0
    capsys.readouterr()
    return path


@pytest.fixture
def guesses(monkeypatch):
    """How many times the goal was worked out from the log's structure."""
    calls = []
    score_parts = goals._score_parts

    def counted(log):
        calls.append(len(log))
        return score_parts(log)
    monkeypatch.setattr(goals, "_score_parts", counted)
    return calls


def graph(path, capsys, *extra) -> dict:
    assert main(["graph", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def remembered(path):
    with Project.open(path) as project:
        return project.get_setting(GUESS_SETTING)


def test_the_next_command_reads_the_guess_instead_of_guessing(project, capsys, guesses):
    first = graph(project, capsys)
    assert len(guesses) == 1 and remembered(project)["goal"] == first["goal"] == "buy"
    assert graph(project, capsys) == first
    assert main(["stuck", str(project), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["goal"] == "buy"
    assert len(guesses) == 1


def test_a_changed_log_is_guessed_again(project, capsys, guesses):
    graph(project, capsys)
    with Project.open(project) as opened:
        opened.rename_event("buy", "purchase")
    assert graph(project, capsys)["goal"] == "purchase"
    assert len(guesses) == 2 and remembered(project)["goal"] == "purchase"
    with Project.open(project) as opened:
        opened.set_hidden("buy")
    assert graph(project, capsys)["goal"] != "purchase"
    assert len(guesses) == 3


def test_a_guess_from_other_rules_or_another_log_is_not_taken(project, capsys, guesses, monkeypatch):
    graph(project, capsys)
    with Project.open(project) as opened:
        stamp = remembered(project)["stamp"]
        opened.set_setting(GUESS_SETTING, {"stamp": stamp, "goal": "visit"})
        assert opened.remembered_goal_guess(stamp) == "visit"
        assert opened.remembered_goal_guess([stamp[0], stamp[1] + 1]) is None
    assert graph(project, capsys)["goal"] == "visit"        # what is kept is what is read
    monkeypatch.setattr(goals, "GUESS_RULES", goals.GUESS_RULES + 1)
    assert graph(project, capsys)["goal"] == "buy"
    assert len(guesses) == 2


def test_a_filtered_log_takes_the_whole_logs_guess_and_a_stored_goal_is_never_remembered(project, capsys, guesses):
    # a date range asks about the whole log's goal (as the window does): guessed on the whole log, kept
    assert graph(project, capsys, "--since", "2024-01-03")["goal"] == "buy"
    assert guesses == [70] and remembered(project)["goal"] == "buy"
    with Project.open(project) as opened:
        opened.set_setting(GUESS_SETTING, None)
    with Project.open(project) as opened:
        opened.default_goal = "browse"
    assert graph(project, capsys)["goal"] == "browse"
    assert len(guesses) == 1 and remembered(project) is None


def test_a_busy_project_is_left_alone_and_undo_ignores_the_guess(project, capsys, guesses):
    with Project.open(project) as opened:
        before = project_stamp(opened.conn)
    lock = ProjectLock(project)
    lock.path.write_text(f"1 {_start_time(1)!r}")          # process 1 (it runs) writes the project
    try:
        graph(project, capsys)
    finally:
        lock.path.unlink()
    assert remembered(project) is None
    graph(project, capsys)
    assert remembered(project) is not None
    with Project.open(project) as opened:
        assert project_stamp(opened.conn) == before


def test_per_session_paths_ask_about_the_whole_logs_goal(project, capsys, guesses):
    """``--by session`` guesses on the users' paths (then keeps that guess), as the window does."""
    assert main(["stuck", str(project), "--by", "session", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["goal"] == "buy"
    assert len(guesses) == 1 and remembered(project)["goal"] == "buy"
