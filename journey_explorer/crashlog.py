"""Where tracebacks go: a log file, never the screen. Qt-free, shared by the CLI and the app.

The log lives in the platform's per-user log folder (``JOURNEY_EXPLORER_LOG_DIR`` overrides it);
when that cannot be written, next to the project, then in the temporary folder.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import traceback
from pathlib import Path

LOG_NAME = "journey-explorer.log"
MAX_LOG_BYTES = 1 << 20          # one megabyte, then the log starts over


def user_log_dir() -> Path:
    """The platform's per-user log folder for the app."""
    if os.environ.get("JOURNEY_EXPLORER_LOG_DIR"):
        return Path(os.environ["JOURNEY_EXPLORER_LOG_DIR"])
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home()) / "Journey Explorer" / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "Journey Explorer"
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(state) / "journey-explorer"


def log_exception(exc: BaseException, context: str, near: str | os.PathLike | None = None) -> Path | None:
    """Append ``exc``'s traceback to the log; returns the log's path (None if nowhere was writable)."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    entry = f"--- {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} {context}\n{text}\n"
    folders = [user_log_dir()]
    if near is not None:
        folders.append(Path(os.path.abspath(near)).parent)
    folders.append(Path(tempfile.gettempdir()))
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / LOG_NAME
            mode = "w" if path.exists() and path.stat().st_size > MAX_LOG_BYTES else "a"
            with open(path, mode, encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(entry)
            return path
        except OSError:
            continue
    return None


BUG_WORDS = "this is a bug"


def failure_message(exc: BaseException, context: str, near: str | os.PathLike | None = None) -> str:
    """What a user is told about ``exc`` (the GUI's boundary: a slot, an undo step, a worker task).

    The traceback always goes to the log, never into the message. An expected problem keeps its own
    words (a ``JourneyError`` names the file, row or field and what to do); anything else is a bug,
    and the message says so with the log's path (see ``expected_message``).
    """
    log = log_exception(exc, context, near=near)
    expected = expected_message(exc, near)
    if expected is not None:
        return expected
    where = f"; the details are in {log}" if log else ""
    return f"Unexpected {type(exc).__name__}: {_first_line(exc)} ({BUG_WORDS}{where})"


def expected_message(exc: BaseException, near: str | os.PathLike | None = None) -> str | None:
    """The user-facing message for a foreseen failure, or None when ``exc`` is a bug.

    >>> from journey_explorer.domain import JourneyError
    >>> expected_message(JourneyError("events.csv, line 3: no user id; map a user column"))
    'events.csv, line 3: no user id; map a user column'
    >>> expected_message(ValueError("boom")) is None
    True
    """
    import sqlite3

    from journey_explorer.domain import JourneyError
    if isinstance(exc, JourneyError):
        return str(exc)
    if isinstance(exc, KeyError):            # e.g. an unknown event name given to an analysis
        return str(exc.args[0] if exc.args else exc)
    if isinstance(exc, MemoryError):
        return "Not enough memory for this; close other programs or filter to fewer users, then try again."
    if isinstance(exc, RecursionError):
        return "The input is nested too deeply to read (RecursionError)."
    if isinstance(exc, UnicodeEncodeError) and "surrogates" in str(exc):
        return ("A file name is not valid UTF-8 and a library cannot open it; rename the file "
                "(letters, digits, - and _) and try again.")
    is_sqlite = type(exc) in (sqlite3.DatabaseError, sqlite3.OperationalError)
    if is_sqlite and near is None:          # a worker that does not know which project it read
        if any(word in str(exc).lower() for word in ("locked", "busy")):
            return ("The project is being used by another process; wait for it to finish or close it there, "
                    "then try again.")
        return (f"Reading the project failed ({_first_line(exc)}). Try again; if it repeats, run "
                "'journey-explorer repair PROJECT' or use a backup copy.")
    if isinstance(exc, OSError) or is_sqlite:
        from journey_explorer.store.errors import project_error
        where = near if near is not None else getattr(exc, "filename", None) or ""
        return str(project_error(where, exc))
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
