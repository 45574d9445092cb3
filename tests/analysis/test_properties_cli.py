"""The CLI over properties: catalog, saved cohorts, segments and breakdowns on the demo project."""
from __future__ import annotations

import json
import shutil

from journey_explorer.cli import main


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0, argv
    return json.loads(capsys.readouterr().out)


def test_properties_command_lists_levels_and_top_values(demo_project_path, capsys):
    document = run_json(capsys, "properties", str(demo_project_path), "--json")
    by_name = {p["property"]: p for p in document["properties"]}
    assert by_name["channel"]["level"] == "user"
    assert sum(v["users"] for v in by_name["channel"]["top"]) <= by_name["channel"]["users"]
    assert main(["properties", str(demo_project_path)]) == 0
    assert "channel: user-level text" in capsys.readouterr().out


def test_saved_cohort_is_reusable_as_a_segment(demo_project_path, tmp_path, capsys):
    project = tmp_path / "demo.journey"
    shutil.copy(demo_project_path, project)
    saved = run_json(capsys, "segments", str(project), "--save", "dashboard habit",
                     "--segment", "did View Dashboard >= 3", "--json")
    size = {row["name"]: row["paths"] for row in saved}["dashboard habit"]
    assert size > 0
    by_name = run_json(capsys, "graph", str(project), "--segment", "dashboard habit", "--json")["paths"]
    by_text = run_json(capsys, "graph", str(project), "--segment", "did View Dashboard >= 3", "--json")["paths"]
    everyone = run_json(capsys, "graph", str(project), "--json")["paths"]
    assert by_name == by_text == size < everyone


def test_breakdown_and_segment_errors_on_the_cli(demo_project_path, capsys):
    project = str(demo_project_path)
    document = run_json(capsys, "overview", project, "--goal", "Subscription Paid", "--breakdown", "channel", "--json")
    assert sum(g["paths"] for g in document["groups"]) == document["paths"]
    assert sum(g["reached"] for g in document["groups"]) == document["reached"]
    assert main(["flows", project, "--segment", "chanel=Webinar"]) == 1
    assert "Did you mean 'channel'" in capsys.readouterr().err
