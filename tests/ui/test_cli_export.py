"""`journey-explorer export` and `report`: the same numbers as the analysis commands, as files."""
from __future__ import annotations

import pytest

from journey_explorer.cli import main


def test_export_png_is_a_full_hd_slide(demo_project_path, tmp_path, qapp):
    from PySide6.QtGui import QImage
    out = tmp_path / "flows.png"
    assert main(["export", str(demo_project_path), "--view", "flows", "--steps", "3", "--out", str(out)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1920, 1080)


def test_export_csv_equals_the_analysis_commands_csv(demo_project_path, tmp_path, qapp):
    steps = "Sign Up,Create Workspace,Subscription Paid"
    exported, analysed = tmp_path / "export.csv", tmp_path / "funnel.csv"
    assert main(["export", str(demo_project_path), "--view", "funnel", "--steps", steps, "--window", "30d",
                 "--out", str(exported)]) == 0
    assert main(["funnel", str(demo_project_path), "--steps", steps, "--window", "30d", "--csv", str(analysed)]) == 0
    assert exported.read_text() == analysed.read_text()


def test_export_refuses_unknown_events_with_one_line(demo_project_path, tmp_path, capsys, qapp):
    assert main(["export", str(demo_project_path), "--view", "stuck", "--goal", "Nope",
                 "--out", str(tmp_path / "x.png")]) == 1
    assert "No event named 'Nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_report_deck_has_a_slide_per_question_with_a_chart(demo_report):
    from pptx import Presentation
    out, summary = demo_report          # the command's deck and --json summary, made once per session
    assert summary["goal"] == "Subscription Paid" and not summary["goal_guessed"]
    slides = list(Presentation(str(out)).slides)
    assert len(slides) == 1 + len(summary["slides"]) == 11      # + tracking plan (issue 17), what changed
    assert [s.shapes.title.text for s in slides[1:]] == [s["title"] for s in summary["slides"]]
    for slide, expected in zip(slides[1:], summary["slides"]):
        # A picture (Sankey, maps, heatmaps, tiles) or a native chart (bars, lines): exactly one.
        assert sum(1 for shape in slide.shapes if shape.shape_type == 13 or shape.has_chart) == 1
        text = " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        # On the slide, the observation as long as its box holds (cut at a word with "…"); whole in the notes.
        assert expected["observation"] in text or (expected["observation"][:200] in text and "…" in text)
        assert expected["observation"] in slide.notes_slide.notes_text_frame.text
    assert "6,000 users" in summary["slides"][0]["observation"]


def test_report_on_a_file_imports_it_into_a_temporary_project(tmp_path, capsys, qapp):
    from pptx import Presentation
    rows = ["case,activity,time"] + [f"c{i},{step},2024-01-0{1 + j}T10:00:00Z" for i in range(6)
                                     for j, step in enumerate(["open", "review", "close" if i % 3 else "reject"])]
    source = tmp_path / "cases.csv"
    source.write_text("\n".join(rows) + "\n")
    out = tmp_path / "cases.pptx"
    assert main(["report", str(source), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "goal: close (guessed" in printed
    assert len(Presentation(str(out)).slides) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv", "cases.pptx"]


@pytest.mark.parametrize("argv, message", [
    (["report", "missing.csv"], "missing.csv"),
])
def test_report_on_a_missing_file_says_which(argv, message, tmp_path, capsys, monkeypatch, qapp):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_export_without_the_analysis_required_options_uses_the_views_defaults(demo_project_path, tmp_path, qapp):
    import pandas as pd
    out = tmp_path / "funnel.csv"
    assert main(["export", str(demo_project_path), "--view", "funnel", "--out", str(out)]) == 0
    # The Funnel view's default: the milestones successful users hit before the goal (the report's funnel).
    from journey_explorer.analysis import narrative
    from journey_explorer.store.project import Project
    with Project.open(demo_project_path) as project:
        log = project.load_event_log()
    expected = narrative.goal_funnel_steps(log, "Subscription Paid")
    assert len(expected) >= 3 and expected[-1] == "Subscription Paid"
    assert pd.read_csv(out)["event"].dropna().tolist()[:len(expected)] == expected


@pytest.mark.parametrize("view, command", [
    ("graph", ["graph"]),
    ("funnel", ["funnel", "--steps", "{shown steps}"]),         # the steps the view chose by default
    ("northstar", ["northstar"]),          # both default to the value event users repeat
])
def test_app_defaults_and_command_defaults_give_the_same_table(view, command, open_window, qtbot,
                                                               demo_project_path, tmp_path):
    """The same question, asked with nobody changing an option, gives the same numbers everywhere."""
    window = open_window(demo_project_path)
    shown = window.show_view(view)
    qtbot.waitUntil(lambda: shown.result is not None and not shown.runner.busy, timeout=30_000)
    from_app = window.export_to(shown, tmp_path / "app.csv")
    from_command = tmp_path / "command.csv"
    command = [",".join(shown.result.spec.steps) if part == "{shown steps}" else part for part in command]
    assert main([command[0], str(demo_project_path), *command[1:], "--csv", str(from_command)]) == 0
    assert from_app.read_text() == from_command.read_text()


def test_export_compare_with_vs_keeps_both_groups(demo_project_path, tmp_path, qapp):
    out = tmp_path / "compare.csv"
    assert main(["export", str(demo_project_path), "--view", "compare", "--segment", "plan=Business",
                 "--vs", "plan=Trial", "--out", str(out)]) == 0
    assert main(["compare", str(demo_project_path), "--segment", "plan=Business", "--vs", "plan=Trial",
                 "--csv", str(tmp_path / "command.csv")]) == 0
    assert out.read_text() == (tmp_path / "command.csv").read_text()


def test_export_keeps_the_options_given_when_the_view_chooses_the_steps(demo_project_path, tmp_path, qapp):
    import pandas as pd
    default, strict = tmp_path / "default.csv", tmp_path / "strict.csv"
    assert main(["export", str(demo_project_path), "--view", "funnel", "--out", str(default)]) == 0
    assert main(["export", str(demo_project_path), "--view", "funnel", "--window", "1h", "--order", "strict",
                 "--out", str(strict)]) == 0
    assert pd.read_csv(default)["event"].dropna().tolist() == pd.read_csv(strict)["event"].dropna().tolist()
    assert pd.read_csv(strict)["users"].iloc[-1] < pd.read_csv(default)["users"].iloc[-1]
    monthly = tmp_path / "monthly.csv"
    assert main(["export", str(demo_project_path), "--view", "northstar", "--period", "month",
                 "--out", str(monthly)]) == 0
    assert len(pd.read_csv(monthly)) < 10                      # months, not weeks
