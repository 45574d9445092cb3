"""`hygiene PROJECT`: suggestions and breakages as JSON, merging through the catalog, dismissals kept."""
from __future__ import annotations

import json

import pandas as pd

from journey_explorer.analysis import hygiene
from journey_explorer.cli import main
from journey_explorer.store.project import Project

START = pd.Timestamp("2026-01-01", tz="UTC")


def renamed_project(tmp_path) -> str:
    """200 users over 60 days; their invite is 'invite_teammate' until day 30, 'Invite Teammates' after."""
    rows = []
    for u in range(200):
        day = u * 60 // 200
        t = START + pd.Timedelta(days=day, seconds=37 * u)
        invite = "invite_teammate" if day < 30 else "Invite Teammates"
        for k, event in enumerate(["visit", "signup", invite, "setup", "pay"]):
            rows.append((f"u{u:03d}", event, (t + pd.Timedelta(seconds=95 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    source = tmp_path / "events.csv"
    pd.DataFrame(rows, columns=["user", "event", "time"]).to_csv(source, index=False)
    project = tmp_path / "p.journey"
    assert main(["import", str(project), str(source), "--json"]) == 0
    return str(project)


def hygiene_json(capsys, *argv) -> dict:
    capsys.readouterr()
    assert main(["hygiene", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_the_rename_and_its_stop_and_start(tmp_path, capsys):
    project = renamed_project(tmp_path)
    document = hygiene_json(capsys, project)
    (top,) = document["suggestions"]
    assert set(top["names"]) == {"Invite Teammates", "invite_teammate"}
    assert top["target"] == "Invite Teammates" and top["level"] == "high"
    assert top["pairs"][0]["signals"]["switch"]["day"] == "2026-01-31"
    assert {b["kind"] for b in document["breakages"]} == {"stops", "starts"}


def test_dismissals_are_remembered_in_the_project(tmp_path, capsys):
    project = renamed_project(tmp_path)
    key = hygiene_json(capsys, project)["suggestions"][0]["key"]
    assert hygiene_json(capsys, project, "--dismiss", key)["suggestions"] == []
    with Project.open(project) as opened:
        assert key in hygiene.dismissed_keys(opened)
    assert hygiene_json(capsys, project)["suggestions"] == []                 # still dismissed next time
    assert len(hygiene_json(capsys, project, "--all")["suggestions"]) == 1    # --all shows it
    assert len(hygiene_json(capsys, project, "--undismiss", key)["suggestions"]) == 1


def test_merge_goes_through_the_catalog_and_can_be_undone(tmp_path, capsys):
    project = renamed_project(tmp_path)
    after = hygiene_json(capsys, project, "--merge", "1")
    assert after["suggestions"] == [] and after["breakages"] == []            # the stop and start were the rename
    with Project.open(project) as opened:
        log = opened.load_event_log()
        assert "invite_teammate" not in log.event_names
        assert (log.event == log.event_code("Invite Teammates")).sum() == 200
    # The same merge from Python, then undone.
    with Project.open(project) as opened:
        opened.rename_event("Invite Teammates", "Invite Teammates")
        opened.rename_event("invite_teammate", "invite_teammate")
        suggestion = hygiene.run(opened.load_event_log()).suggestions[0]
        previous = hygiene.apply_merge(opened, suggestion)
        assert previous == {"Invite Teammates": "Invite Teammates", "invite_teammate": "invite_teammate"}
        hygiene.undo_merge(opened, previous)
        assert {"invite_teammate", "Invite Teammates"} <= set(opened.load_event_log().event_names)


def test_an_unknown_suggestion_is_one_clear_line(tmp_path, capsys):
    project = renamed_project(tmp_path)
    assert main(["hygiene", project, "--merge", "7"]) == 1
    assert "No suggested merge '7'" in capsys.readouterr().err


def test_csv_lists_suggestions_and_breakages(tmp_path, capsys):
    project = renamed_project(tmp_path)
    assert main(["hygiene", project, "--csv", str(tmp_path / "h.csv")]) == 0
    table = pd.read_csv(tmp_path / "h.csv")
    assert table["type"].tolist() == ["merge", "stops", "starts"]
    assert table.loc[0, "target"] == "Invite Teammates" and table.loc[1, "first"] == "2026-01-31"
    assert table.loc[1, "count"] == 0 and table.loc[0, "count"] == 200


def test_text_output_numbers_the_suggestions(tmp_path, capsys):
    project = renamed_project(tmp_path)
    capsys.readouterr()
    assert main(["hygiene", project]) == 0
    out = capsys.readouterr().out
    assert "1. Invite Teammates + invite_teammate -> Invite Teammates  [high" in out
    assert "invite_teammate stops on 2026-01-31" in out
