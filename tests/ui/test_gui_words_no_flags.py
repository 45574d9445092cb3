"""Issue 11: the window never quotes a command-line flag; the CLI names its flags (both audiences)."""
from __future__ import annotations

import re

import pytest

from journey_explorer.cli.arguments import cli_message, flag_name
from journey_explorer.domain import ImportOptions, ImportSummary, InputError
from journey_explorer.io import vendors
from journey_explorer.store.importer import import_file

FLAG = re.compile(r"(?<![\w-])--[a-z]")


def test_import_summary_advice_names_controls_in_the_window_and_flags_in_the_cli():
    notes = []
    vendors._mixpanel_utc(__import__("numpy").array([0.0]), __import__("numpy").array([float("nan")]), "UTC", notes)
    summary = ImportSummary(file="e.csv", personal_data_columns=["email"], notes=notes)
    window = summary.describe()
    assert not FLAG.search(window), window
    assert "'Leave out columns'" in window and "'Timezone of naive times'" in window
    cli = summary.describe(flag_name)
    assert "--drop-columns" in cli and "--pseudonymize" in cli and "--timezone" in cli
    assert "{" not in window + cli
    assert not any(FLAG.search(n) for n in summary.to_json_dict()["notes"])
    assert any("--timezone" in n for n in summary.to_json_dict(flag_name)["notes"])


def test_unknown_dropped_column_names_the_control_or_the_flag(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("user,event,time\nu1,a,2024-01-01T00:00:00\n")
    with pytest.raises(InputError) as caught:
        import_file(tmp_path / "p.journey", source, ImportOptions(drop_columns=("nope",)))
    assert str(caught.value).startswith(f"{source}: 'Leave out columns' names nope"), str(caught.value)
    assert not FLAG.search(str(caught.value))
    assert "--drop-columns names nope" in cli_message(caught.value)


def test_lifecycle_note_names_the_control_in_the_window_and_the_flag_in_the_cli(tmp_path):
    source = tmp_path / "process.csv"
    source.write_text("case:concept:name,concept:name,time:timestamp,lifecycle:transition\n"
                      "c1,A,2024-01-01T00:00:00,start\nc1,A,2024-01-01T00:01:00,complete\n"
                      "c1,B,2024-01-01T00:02:00,complete\n")
    summary = import_file(tmp_path / "p.journey", source)
    assert "'Lifecycle transitions' can name them" in summary.describe()
    assert not FLAG.search(summary.describe())
    assert "--lifecycle can name them" in summary.describe(flag_name)
