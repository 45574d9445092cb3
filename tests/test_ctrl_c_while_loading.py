"""Ctrl+C while the modules load — before the commands' own handler exists — ends with one line and
exit code 130 from every entry point (main.py, ``python -m journey_explorer``, the console script)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Loads the app's modules slowly (a pause inside the first import of journey_explorer.domain), says
# when it is there, then starts the entry point named on the command line.
SLOW_START = r"""
import builtins, runpy, sys, time
real_import = builtins.__import__
def slow_import(name, *args, **kwargs):
    if name == "journey_explorer.domain" and "journey_explorer.domain" not in sys.modules:
        print("loading", flush=True)
        time.sleep(30)
    return real_import(name, *args, **kwargs)
builtins.__import__ = slow_import
entry, sys.argv = sys.argv[1], ["journey-explorer", "info", "nowhere.journey"]
if entry == "main.py":
    runpy.run_path("main.py", run_name="__main__")
elif entry == "-m":
    runpy.run_module("journey_explorer", run_name="__main__", alter_sys=True)
else:
    from journey_explorer.__main__ import main      # what the console script calls
    sys.exit(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
@pytest.mark.parametrize("entry", ["main.py", "-m", "console script"])
def test_ctrl_c_while_the_modules_load_is_one_line_and_exit_130(entry):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Ctrl+C as a terminal delivers it, even when this run was started where SIGINT is ignored (a
    # background job, nohup): an ignored SIGINT is inherited and Python would then never raise on it.
    child = subprocess.Popen([sys.executable, "-c", SLOW_START, entry], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert child.stdout.readline().strip() == "loading"
        time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        err = child.communicate(timeout=60)[1]
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines() == ["journey-explorer: interrupted before the command started; nothing was changed"]


def test_the_entry_point_runs_a_command(tmp_path, capsys):
    from journey_explorer.__main__ import main
    assert main(["info", str(tmp_path / "missing.journey")]) == 1
    assert "Traceback" not in capsys.readouterr().err
