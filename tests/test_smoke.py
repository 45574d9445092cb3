"""`journey-explorer --smoke-test` (the check the frozen bundle runs) passes here, in a process of its own."""
from __future__ import annotations

import os
import subprocess
import sys


def test_smoke_test_passes_in_a_fresh_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "JOURNEY_EXPLORER_"))}
    env["HOME"] = str(tmp_path)               # it must not need, or touch, the user's files
    env["PYTHONFAULTHANDLER"] = "1"           # a crash (one SIGSEGV in a CI run) prints every thread's stack
    done = subprocess.run([sys.executable, "-m", "journey_explorer.cli", "--smoke-test"], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr + "\nits output:\n" + done.stdout
    assert "smoke test passed" in done.stdout
    from journey_explorer.export.report import report_questions
    slides = f"report.pptx ({len(report_questions()) + 1} slides)"   # a cover and one slide per finding
    assert "North star: computed and drawn" in done.stdout and slides in done.stdout
    assert list(tmp_path.iterdir()) == []
