"""The command line: documented JSON shapes, exit codes, one clear line on errors."""
from __future__ import annotations

import json

from journey_explorer.cli import main

CSV = ("user,event,time\n"
       "u1,signup,2024-01-01T10:00:00Z\nu1,pay,2024-01-02T10:00:00Z\n"
       "u2,signup,2024-01-03T10:00:00Z\nu2,oops,later\n")


def test_import_json_line_and_info(tmp_path, capsys):
    source = tmp_path / "e.csv"
    source.write_text(CSV)
    project = tmp_path / "p.journey"
    assert main(["import", str(project), str(source), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip())
    assert list(out)[:8] == ["read", "imported", "duplicates", "rejected", "reject_reasons", "users",
                             "event_types", "seconds"]
    assert (out["read"], out["imported"], out["rejected"], out["users"], out["event_types"]) == (4, 3, 1, 2, 2)
    assert out["reject_reasons"] == {"unparseable time": 1}
    assert main(["import", str(project), str(source), "--json"]) == 0
    again = json.loads(capsys.readouterr().out.strip())
    assert again["imported"] == 0 and again["already_imported"] is True
    assert main(["info", str(project), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["events"], info["users"], info["event_types"], info["sessions"]) == (3, 2, 2, 3)
    assert info["first_time"].startswith("2024-01-01T10:00:00")


def test_fatal_error_is_one_clear_line(tmp_path, capsys):
    source = tmp_path / "junk.csv"
    source.write_bytes(b"\x00\x01\x02\xff" * 500)
    code = main(["import", str(tmp_path / "p.journey"), str(source)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and "junk.csv" in err
    assert not (tmp_path / "p.journey").exists()


def test_missing_file(tmp_path, capsys):
    assert main(["import", str(tmp_path / "p.journey"), str(tmp_path / "nope.csv")]) == 1
    assert "file not found" in capsys.readouterr().err


def test_every_analysis_command_answers_on_the_demo(demo_project_path, tmp_path, capsys):
    project = str(demo_project_path)
    commands = [["graph", "--min-share", "0.05"], ["flows", "--steps", "4", "--split", "goal"], ["stuck"],
                ["compare"], ["funnel", "--steps", "Sign Up,Checkout Started,Subscription Paid", "--window", "30d"],
                ["retention", "--period", "week"], ["lifecycle"], ["interval", "--event", "Login"],
                ["northstar", "--event", "Dashboard Shared", "--csat", "csat", "--revenue", "revenue"]]
    for command in commands:
        assert main([command[0], project, *command[1:], "--json"]) == 0, command
        document = json.loads(capsys.readouterr().out)
        assert document, command
    csv_path = tmp_path / "graph.csv"
    assert main(["graph", project, "--csv", str(csv_path)]) == 0
    import pandas as pd
    table = pd.read_csv(csv_path)
    assert {"source", "target", "count"} <= set(table.columns) and table["count"].sum() > 0


def test_common_filters_change_the_numbers(demo_project_path, capsys):
    project = str(demo_project_path)
    main(["graph", project, "--json"])
    everyone = json.loads(capsys.readouterr().out)["paths"]
    main(["graph", project, "--segment", "channel=Partner Referral", "--json"])
    partners = json.loads(capsys.readouterr().out)["paths"]
    main(["graph", project, "--by", "session", "--json"])
    sessions = json.loads(capsys.readouterr().out)["paths"]
    main(["graph", project, "--since", "2026-06-01", "--json"])
    june = json.loads(capsys.readouterr().out)["paths"]
    assert partners < everyone < sessions and june < everyone


def test_unknown_event_is_one_clear_line(demo_project_path, capsys):
    assert main(["flows", str(demo_project_path), "--from", "Nope"]) == 1
    assert "No event named 'Nope'" in capsys.readouterr().err


def test_help_lists_every_command(capsys):
    import pytest
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("import", "info", "demo", "graph", "flows", "stuck", "compare", "funnel", "retention",
                    "lifecycle", "interval", "northstar"):
        assert command in out


def test_a_misspelt_event_is_named_with_the_close_names_it_may_be(demo_project_path, capsys):
    assert main(["funnel", str(demo_project_path), "--steps", "Sign up,Subscription paid"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("journey-explorer: error: No event named 'Sign up' in this project; did you mean 'Sign Up'")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_option_error_names_the_flag_on_the_command_line(demo_project_path, capsys):
    assert main(["flows", str(demo_project_path), "--steps", "21"]) == 1
    assert capsys.readouterr().err.strip() == "journey-explorer: error: --steps must be between 1 and 20, not 21"
    assert main(["compare", str(demo_project_path), "--period-a", "2026-04-01..2026-05-01"]) == 1
    assert "needs both periods: --period-b is missing" in capsys.readouterr().err


def test_report_on_a_file_takes_every_import_option_a_message_suggests():
    """The import note says '--keep-identical-rows to keep every row': `report FILE` must accept it,
    and every other option an import message names."""
    from journey_explorer.cli import _column_options, build_parser
    from journey_explorer.cli.arguments import flag_name
    from journey_explorer.domain import IMPORT_OPTION_WORDS
    parser = build_parser()
    report = parser._subparsers._group_actions[0].choices["report"]
    missing = [flag_name(option) for option in IMPORT_OPTION_WORDS
               if flag_name(option) not in report._option_string_actions]
    assert missing == []
    args = parser.parse_args(["report", "export.csv", "--keep-identical-rows", "--drop-columns", "email, phone",
                              "--sheet", "Export", "--pseudonymize"])
    options = _column_options(args)
    assert options.keep_identical_rows and options.pseudonymize and options.sheet == "Export"
    assert options.drop_columns == ("email", "phone")


def test_a_segment_of_one_user_is_counted_in_the_singular(tmp_path, capsys):
    source = tmp_path / "e.csv"
    source.write_text(CSV)
    project = tmp_path / "p.journey"
    assert main(["import", str(project), str(source), "--json"]) == 0
    capsys.readouterr()
    assert main(["segments", str(project), "--save", "payers", "--segment", "did pay"]) == 0
    assert "payers: 1 user\n" in capsys.readouterr().out


def test_info_on_a_project_of_one_user_counts_in_the_singular(tmp_path, capsys):
    source = tmp_path / "e.csv"
    source.write_text("user,event,time\nu1,signup,2024-01-01T10:00:00Z\n")
    project = tmp_path / "p.journey"
    assert main(["import", str(project), str(source), "--json"]) == 0
    capsys.readouterr()
    assert main(["info", str(project)]) == 0
    assert "  1 event, 1 user, 1 event type, 1 session (" in capsys.readouterr().out
