"""The view registry: every entry is complete, and the CLI, the report and pins take their views from it.
Qt-free: none of these tests starts a QApplication."""
from __future__ import annotations

import sys
from dataclasses import fields

import pandas as pd
import pytest

from journey_explorer.analysis import narrative
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import VIEW_BY_KEY, VIEWS, analysis_commands, view
from journey_explorer.state.session import Session
from journey_explorer.state.views import spec_from_dict, spec_to_dict

KEYS = [entry.key for entry in VIEWS]


@pytest.fixture
def log():
    """Three users: a and b buy (b after a detour), c leaves after browsing."""
    rows = [("a", "home", 0), ("a", "cart", 1), ("a", "buy", 2),
            ("b", "home", 0), ("b", "search", 1), ("b", "buy", 5),
            ("c", "search", 0), ("c", "home", 3)]
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    frame["time"] = frame["time"] * 86_400_000          # days apart
    return EventLog.from_frame(frame)


def test_keys_are_unique_and_looked_up_by_name():
    assert len(set(KEYS)) == len(KEYS) and set(VIEW_BY_KEY) == set(KEYS)
    assert view("funnel").title == "Funnel"
    with pytest.raises(JourneyError, match="Unknown view 'nope'.*overview"):
        view("nope")


@pytest.mark.parametrize("key", KEYS)
def test_every_view_has_an_analysis_with_the_protocol_or_a_compute(key):
    entry = view(key)
    module = entry.module()
    if module is None:
        assert entry.compute is not None
        return
    for name in ("Spec", "run"):
        assert hasattr(module, name), f"{module.__name__} lacks {name}"
    for name in ("add_arguments", "spec_from_args"):       # the command line's business: cli.arguments
        assert not hasattr(module, name), f"{module.__name__} still parses arguments ({name})"


@pytest.mark.parametrize("analysis", analysis_commands())
def test_the_cli_reads_every_analysis_spec_from_its_flags(analysis, log):
    """Each analysis command's flags, parsed with their defaults, make that analysis' Spec."""
    import argparse
    import importlib

    from journey_explorer.cli.arguments import add_common_arguments, arguments_for
    parser = argparse.ArgumentParser()
    add_common_arguments(parser)
    arguments_for(analysis).add(parser)
    argv = ["--steps", "home,buy"] if analysis == "funnel" else []     # the one required flag
    spec = arguments_for(analysis).spec(parser.parse_args(argv), log)
    assert isinstance(spec, importlib.import_module(f"journey_explorer.analysis.{analysis}").Spec)


@pytest.mark.parametrize("key", KEYS)
def test_default_spec_is_the_views_spec_and_survives_a_pin(key, log):
    entry = view(key)
    spec = entry.default_spec(log, FilterState(goal="buy"))
    assert isinstance(spec, entry.spec_type())
    assert spec_from_dict(key, spec_to_dict(spec)) == spec


@pytest.mark.parametrize("key", KEYS)
def test_every_view_computes_on_a_small_log(key, log):
    entry = view(key)
    result = entry.run(log, entry.default_spec(log, FilterState(goal="buy")))
    assert result is not None


def test_goal_shaped_defaults_follow_the_filters(log):
    filters = FilterState(goal="buy")
    assert view("flows").default_spec(log, filters).goal == "buy"
    assert view("stuck").default_spec(log, filters).goal == "buy"
    # the north star counts what the goal opens (or the goal); without a goal, the value event users repeat
    from journey_explorer.analysis.interval import default_event, value_event
    assert view("northstar").default_spec(log, filters).event == default_event(log, "buy")
    assert view("northstar").default_spec(log, FilterState()).event == value_event(log)
    # The milestones the buyers hit before buying (home, then cart), then the goal.
    assert view("funnel").default_spec(log, filters).steps == ("home", "cart", "buy")
    # Without a goal: the most common first event.
    assert view("funnel").default_spec(log, FilterState()).steps == ("home",)


def test_overview_counts_from_the_registry(log):
    result = view("overview").run(log, view("overview").default_spec(log, FilterState(goal="buy")))
    assert (result["users"], result["events"], result["reached"]) == (3, 8, 2)


def test_the_overview_tab_computes_through_the_overview_analysis(log):
    from journey_explorer.analysis import overview
    shown = view("overview").run(log, view("overview").default_spec(log, FilterState(goal="buy")))
    analysed = overview.run(log, overview.Spec(goal="buy"))
    assert (shown["users"], shown["events"], shown["sessions"], shown["reached"]) == \
        (analysed.paths, analysed.events, analysed.sessions, analysed.reached)
    # The tab's columns (numpy, no pandas on start-up) are the analysis' numbers.
    weekly, star = shown["weekly"].to_frame(), shown["star"].to_frame()
    assert weekly.equals(analysed.weekly[list(weekly.columns)]) and star.equals(analysed.star[list(star.columns)])
    unknown = view("overview").run(log, view("overview").default_spec(log, FilterState(goal="no such event")))
    assert unknown["reached"] is None and unknown["star"] is None and unknown["users"] == 3


def test_slide_title_names_the_goal_only_where_it_shapes_the_numbers():
    filters = FilterState(goal="buy")
    assert view("stuck").slide_title(filters) == "Stuck points — goal: buy"
    assert view("lifecycle").slide_title(filters) == "Lifecycle"
    assert view("stuck").slide_title(FilterState()) == "Stuck points"


def test_the_cli_offers_every_views_analysis_and_the_command_only_ones():
    from journey_explorer.cli import ANALYSES
    assert set(ANALYSES) == {e.analysis for e in VIEWS if e.analysis} | {"drivers", "overview"}
    assert ANALYSES == analysis_commands()


def test_the_report_asks_every_question_the_narrative_knows():
    """A finding added to the narrative without a registry entry would silently leave the report."""
    from journey_explorer.export.report import report_questions
    from journey_explorer.state.registry import REPORT_ONLY_FINDINGS
    declared = [entry.finding for entry in VIEWS if entry.finding] + list(REPORT_ONLY_FINDINGS)
    bare = [name.rpartition(".")[2] for name in declared]
    assert set(bare) == set(narrative.QUESTIONS)
    assert [m.__name__ for m in report_questions()] == bare


def test_the_registry_imports_no_analysis_module_by_itself():
    """Naming modules keeps `journey-explorer graph` from paying for scipy (compare, stuck)."""
    import subprocess
    code = ("import sys; import journey_explorer.state.registry, journey_explorer.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('journey_explorer.analysis.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "compare" not in out and "flows" not in out and "scipy" not in out


def test_session_filters_once_and_drops_the_old_filter(log):
    session = Session(log=log)
    assert session.filtered(FilterState(goal="buy")) is log                      # no filter: the log itself
    late = FilterState(since="1970-01-04")
    first = session.filtered(late)
    assert session.filtered(late) is first and first.paths_count == 2      # b (buy on day 5), c (home, day 3)
    session.set_log(log)
    assert session.filtered(late) is not first


def test_session_takes_the_projects_goal_unless_one_is_chosen(log):
    from dataclasses import replace
    log = replace(log, default_goal="buy")
    session = Session()
    session.set_log(log)
    assert session.filters.goal == "buy" and session.default_filters() == FilterState(goal="buy")
    chosen = Session(filters=FilterState(goal="cart"))
    chosen.set_log(log)
    assert chosen.filters.goal == "cart"


def test_spec_fields_are_json_values():
    spec = view("overview").default_spec(None, FilterState(goal="buy", by="session"))
    assert {f.name for f in fields(spec)} == {"goal", "by"}
    assert spec_to_dict(spec) == {"goal": "buy", "by": "session"}
