"""The project lock tells a live writer from a dead one portably (psutil, not os.kill)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from journey_explorer.domain import ProjectBusy
from journey_explorer.store.project import ProjectLock, _process_alive


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_process_alive_for_this_process_and_not_for_a_finished_one():
    assert _process_alive(os.getpid())
    assert not _process_alive(dead_pid())


def test_a_stale_lock_is_taken_over_and_a_live_one_refused(tmp_path):
    lock = ProjectLock(tmp_path / "p.journey")
    lock.path.write_text(str(dead_pid()))
    lock.acquire()
    assert lock.held and lock.path.read_text().split()[0] == str(os.getpid())
    lock.release()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as sleeper:
        try:
            lock.path.write_text(str(sleeper.pid))
            with pytest.raises(ProjectBusy, match=str(sleeper.pid)):
                ProjectLock(tmp_path / "p.journey").acquire()
        finally:
            sleeper.kill()
