"""What can go wrong with a project file, in words a user can act on.

SQLite reports everything as ``sqlite3.Error`` with a terse text; ``project_error`` turns that (and
the OS errors around it) into a ``JourneyError`` naming the project and what to do.
"""
from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from journey_explorer.domain import JourneyError, ProjectBusy


class ProjectDamaged(JourneyError):
    """The project file cannot be read as it was written (bytes changed on disk, a bad copy)."""

    def __init__(self, path, detail: str = ""):
        self.path = Path(path)
        why = f" ({detail})" if detail else ""
        super().__init__(f"This project file is damaged: {self.path}{why}. Try 'journey-explorer repair "
                         f"{self.path}', or use a backup copy.")


class ProjectTooNew(JourneyError):
    """The project was written by a newer Journey Explorer: opening it here could lose data."""


class DiskFull(JourneyError):
    """No space left: nothing was written."""


# SQLite's words -> what we say. Checked in order; the first match wins.
_SQLITE_MESSAGES = (
    (("locked", "busy"), ProjectBusy,
     "The project {name} is being used by another process; wait for it to finish or close it there, "
     "then try again."),
    (("disk is full", "database or disk is full"), DiskFull,
     "The disk holding {name} is full; nothing was saved. Free some space and try again."),
    (("readonly", "read-only"), JourneyError,
     "The project {name} (or its folder) is read-only; copy it to a folder you can write to, or change "
     "its permissions."),
    (("unable to open",), JourneyError,
     "Cannot open the project {name}: check that its folder exists and that you may write to it."),
)


def project_error(path, exc: BaseException) -> JourneyError:
    """A user-facing error for ``exc`` raised while using the project at ``path``."""
    path = Path(path)
    text = str(exc).lower()
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return _os_error(path, exc)
    if isinstance(exc, sqlite3.OperationalError) or "disk" in text:
        for words, kind, message in _SQLITE_MESSAGES:
            if any(word in text for word in words):
                return kind(message.format(name=path.name))
        if "disk i/o" in text:
            return JourneyError(f"Reading or writing {path} failed (disk I/O error); nothing was saved. "
                                "Check the disk and try again.")
    return ProjectDamaged(path, str(exc)[:200])


def _os_error(path: Path, exc: OSError) -> JourneyError:
    where = exc.filename or path
    if exc.errno == errno.ENOSPC:
        return DiskFull(f"The disk holding {where} is full; nothing was saved. Free some space and try again.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return JourneyError(f"Cannot write {where}: permission denied (a read-only folder or file?). "
                            "Choose a folder you can write to.")
    if exc.errno == errno.EISDIR:
        return JourneyError(f"{where} is a folder, not a project file: name a file such as "
                            f"{Path(where) / 'project.journey'}")
    return JourneyError(f"Cannot use {where}: {exc.strerror or exc}")
