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
