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


# What reading damaged bytes raises, besides sqlite3.DatabaseError: numpy's header parser (ValueError,
# SyntaxError, tokenize.TokenError), JSON text (ValueError), a value of the wrong type (TypeError,
# re.error), an index out of range, pandas' out-of-bounds times (ValueError), undecodable text.
def _damage_types() -> tuple[type[BaseException], ...]:
    import re
    import tokenize
    return (ValueError, TypeError, IndexError, KeyError, OverflowError, UnicodeDecodeError, EOFError,
            SyntaxError, tokenize.TokenError, re.error, MemoryError)


DAMAGE_TYPES = _damage_types()


def database_path(conn: sqlite3.Connection) -> Path:
    """The file behind a connection (for messages about it)."""
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
        return Path(row[2]) if row and row[2] else Path("project")
    except sqlite3.Error:
        return Path("project")


def reads_project(method):
    """Decorate a method that reads a project file: damaged bytes become ``ProjectDamaged`` and
    SQLite's errors their message (busy, read-only, ...), whatever the query or parser hit them.
    The object needs ``path`` or ``conn``; a plain function takes the connection first."""
    import functools

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except JourneyError:
            raise
        except sqlite3.Error as exc:
            raise project_error(_where(self), exc) from None
        except OSError as exc:        # pandas wraps SQLite's errors in its own DatabaseError(OSError)
            cause = exc.__cause__ or exc.__context__
            raise project_error(_where(self), cause if isinstance(cause, sqlite3.Error) else exc) from None
        except DAMAGE_TYPES as exc:
            raise ProjectDamaged(_where(self), f"{type(exc).__name__}: {str(exc)[:150]}") from None
    return guarded


def _where(owner) -> Path:
    if isinstance(owner, sqlite3.Connection):     # a module function taking the connection first
        return database_path(owner)
    path = getattr(owner, "path", None)
    if path is not None:
        return Path(path)
    conn = getattr(owner, "conn", None) or getattr(owner, "_conn", None)
    return database_path(conn) if conn is not None else Path("project")
