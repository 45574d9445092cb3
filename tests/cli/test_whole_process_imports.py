"""Whole-process speed (issue 16): these commands answer in JSON without importing pandas (~0.5 s of a
run); their numbers are checked against the pandas code they replaced in tests/analysis/test_numpy_paths.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

CHECK = """
import json, sys
from journey_explorer.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules}))
"""


def run_cli(argv: list[str]) -> tuple[dict, dict]:
    """The command's JSON, and whether it exited 0 without importing pandas (a fresh process)."""
    done = subprocess.run([sys.executable, "-c", CHECK, *argv], capture_output=True, text=True, check=True)
    *answer, status = done.stdout.strip().splitlines()
    return json.loads("\n".join(answer)), json.loads(status)


@pytest.fixture(scope="module")
def project_without_goal(demo_project_path, tmp_path_factory):
    """The demo without its stored goal: the graph command guesses one."""
    from journey_explorer.store.project import Project
    path = tmp_path_factory.mktemp("nogoal") / "demo.journey"
    shutil.copy(demo_project_path, path)
    with Project.open(path) as project:
        project.default_goal = None
    return path


# (north star needs no pandas either, unless CSAT and revenue properties exist, as in the demo: PPP uses it)
@pytest.mark.parametrize("command", [["lifecycle"], ["retention"], ["graph"]])
def test_command_answers_without_pandas(command, project_without_goal):
    answer, status = run_cli([command[0], str(project_without_goal), "--json", *command[1:]])
    assert status == {"code": 0, "pandas": False}
    assert answer                                       # a real answer, not an empty document


def test_graph_guesses_the_goal_without_pandas_as_the_window_would(project_without_goal):
    from journey_explorer.analysis.goals import goal_scores
    from journey_explorer.store.project import Project
    answer, status = run_cli(["graph", str(project_without_goal), "--json"])
    with Project.open(project_without_goal) as project:
        log = project.load_event_log()
    assert log.default_goal is None and status["pandas"] is False
    assert answer["goal"] == goal_scores(log).index[0]
    assert answer["variants"] and all(row["reached_goal"] in (True, False) for row in answer["variants"])


SPLIT_CHECK = """
import json, sys
from journey_explorer import eventlog
from journey_explorer.cli import main
made = []
load = eventlog.LazyUserKeys.__init__
eventlog.LazyUserKeys.__init__ = lambda self, *args: made.append(self) or load(self, *args)
code = main(sys.argv[1:])
print(json.dumps({"code": code, "lazy": len(made), "split": sum(keys._keys is not None for keys in made)}))
"""


@pytest.mark.parametrize("command", [["graph"], ["interval", "--event", "Subscription Paid"], ["retention"]])
def test_a_command_that_prints_no_user_id_never_splits_them(command, demo_project_path):
    done = subprocess.run([sys.executable, "-c", SPLIT_CHECK, command[0], str(demo_project_path), "--json", *command[1:]],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "lazy": 1, "split": 0}


@pytest.mark.parametrize("preset, expected", [(None, "1"), ("3", "3")])
def test_a_command_starts_no_blas_threads_unless_told_to(preset, expected):
    env = {name: value for name, value in os.environ.items() if name != "OPENBLAS_NUM_THREADS"}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = "import os, sys, journey_explorer.cli; print(os.environ['OPENBLAS_NUM_THREADS'], 'numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split() == [expected, "True"]


GC_CHECK = """
import gc, sys
from journey_explorer.cli import main
loading = gc.get_threshold()[0]
how = sys.argv.pop()
code = main() if how == "--from-command-line" else main(sys.argv[1:])
print(code, loading, gc.get_threshold()[0], gc.get_freeze_count() > 10_000)
"""


@pytest.mark.parametrize("how", ["--from-command-line", "--called"])
def test_a_command_line_keeps_its_loaded_modules_out_of_the_collectors_passes(how, demo_project_path):
    done = subprocess.run([sys.executable, "-c", GC_CHECK, "retention", str(demo_project_path), "--json", how],
                          capture_output=True, text=True)
    code, loading, after, frozen = done.stdout.split()[-4:]
    assert code == "0" and (loading, after) == ("10000", "700")         # rare passes while loading, the usual ones after
    assert frozen == ("True" if how == "--from-command-line" else "False")     # a test calling main: untouched
