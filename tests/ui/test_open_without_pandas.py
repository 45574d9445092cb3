"""Opening a project draws the Overview without importing pandas (issue 16: cold start ≤ 1 s; pandas'
import alone was ~0.5 s of it). In a fresh interpreter: other tests' imports would hide a regression."""
from __future__ import annotations

import os
import subprocess
import sys

CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from journey_explorer.ui.main_window import MainWindow

# The side checks (tracking hygiene, completions) start the moment the first view is drawn and may
# import pandas then, before the poll below looks: they are kept out so only the first view's path counts.
MainWindow._start_side_checks = lambda self: None

app = QApplication([])
window = MainWindow(sys.argv[1])
window.show()
outcome = []

def poll():
    view = window.current_view()
    if view is not None and window.explorer.log is not None and view.result is not None and not view.runner.busy \
            and view.drawn_result is view.result:
        outcome.append((view.key, "pandas" in sys.modules))
        app.quit()
        return
    QTimer.singleShot(5, poll)

QTimer.singleShot(0, poll)
QTimer.singleShot(60_000, app.quit)
app.exec()
print(outcome)
"""


def test_opening_a_project_draws_the_overview_without_pandas(demo_project_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", CHILD, str(demo_project_path)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[('overview', False)]"
