"""crashlog.failure_message, the words of the GUI's error boundaries: expected problems keep or get
user-facing words; anything else is a bug with the log's path, and the traceback is in the log."""
from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from journey_explorer.crashlog import failure_message
from journey_explorer.domain import InputError


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:      # noqa: BLE001 - a traceback to log
        return caught


def log_text() -> str:
    return (Path(os.environ["JOURNEY_EXPLORER_LOG_DIR"]) / "journey-explorer.log").read_text()


def test_an_input_error_keeps_its_words_and_is_logged():
    message = failure_message(raised(InputError("no user column; map one", file="events.csv")), "task import")
    assert "events.csv" in message and "bug" not in message
    assert "task import" in log_text() and "InputError" in log_text()


def test_a_busy_project_is_not_a_bug_even_when_the_worker_does_not_know_its_path():
    message = failure_message(raised(sqlite3.OperationalError("database is locked")), "task load")
    assert "another process" in message and "bug" not in message
    named = failure_message(raised(sqlite3.OperationalError("database is locked")), "task load", near="/x/p.journey")
    assert "p.journey" in named and "another process" in named


def test_a_full_disk_names_the_file():
    message = failure_message(raised(OSError(errno.ENOSPC, "No space left on device", "/x/out.png")), "export")
    assert message.startswith("The disk holding /x/out.png is full") and "bug" not in message


def test_anything_else_is_a_bug_with_the_log_and_no_traceback_on_screen():
    message = failure_message(raised(IndexError("index 7 is out of bounds for axis 0 with size 3")), "task flows")
    log = Path(os.environ["JOURNEY_EXPLORER_LOG_DIR"]) / "journey-explorer.log"
    assert message == (f"Unexpected IndexError: index 7 is out of bounds for axis 0 with size 3 "
                       f"(this is a bug; the details are in {log})")
    assert "Traceback (most recent call last)" in log_text() and "raise exc" in log_text()
