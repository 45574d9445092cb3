"""Output files appear whole or not at all: written next to their final name, then renamed.

An error (a full disk, a drawing failure, Ctrl+C) leaves no half-written chart, table or deck behind,
and the file that was there before stays as it was. Qt-free.
"""
from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from journey_explorer.domain import JourneyError

MIN_WIDTH, MAX_WIDTH = 320, 7680
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")      # a chart
TABLE_SUFFIXES = (".csv", ".xlsx")             # the numbers behind it
_UMASK = os.umask(0o022)
os.umask(_UMASK)                      # read once: the process' umask, as a plain open() would apply it


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or those a newly created file would get."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def check_width(width: int) -> int:
    """Image widths from a thumbnail to an 8K screen."""
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise JourneyError(f"An image width of {width} px is out of range: use {MIN_WIDTH} to {MAX_WIDTH}")
    return width


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it replaces ``path``."""
    path = Path(path)
    if not path.parent.is_dir():
        raise JourneyError(f"Cannot write {path}: the folder {path.parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise JourneyError(f"Cannot write {path}: {exc.strerror}") from None
    temporary = Path(temporary)
    try:
        yield temporary
        os.chmod(temporary, _mode_for(path))          # mkstemp makes files private (0600)
        os.replace(temporary, path)
    except OSError as exc:
        raise JourneyError(f"Cannot write {path}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
