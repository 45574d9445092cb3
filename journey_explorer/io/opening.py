"""Open a source file as bytes, looking through .gz and .zip wrappers, and name what is inside."""
from __future__ import annotations

import gzip
import io
import os
import zipfile
from typing import BinaryIO

from journey_explorer.domain import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def inner_name(path: str) -> str:
    """The name that tells the content's format: "a.csv.gz" -> "a.csv"; a zip -> its first member.

    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "events.csv.gz")
    >>> with gzip.open(path, "wt") as handle: _ = handle.write("user,event,time")
    >>> inner_name(path)
    'events.csv'
    """
    base = os.path.basename(path)
    head = _head(path, 4)
    if head.startswith(GZIP_MAGIC):
        return base[:-3] if base.lower().endswith(".gz") else base
    if head.startswith(ZIP_MAGIC) and not base.lower().endswith(".xlsx"):
        members = zip_members(path)
        return members[0] if len(members) == 1 else base
    return base


def zip_members(path: str) -> list[str]:
    """Data members of a zip (folders and macOS metadata left out)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [n for n in archive.namelist()
                    if not n.endswith("/") and not n.startswith("__MACOSX/")
                    and not os.path.basename(n).startswith(".")]
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a readable zip archive ({exc})", file=path) from None


def _head(path: str, size: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise InputError(f"cannot open the file ({exc.strerror})", file=path) from None


def open_binary(path: str) -> BinaryIO:
    """The file's content as a binary stream: gunzipped, or the single member of a zip.

    A zip with several members (an Amplitude export) is opened by its own reader instead.
    """
    head = _head(path, 4)
    if not os.path.isfile(path):
        raise InputError("not a file", file=path)
    if head.startswith(GZIP_MAGIC):
        return _checked_gzip(path)
    if head.startswith(ZIP_MAGIC) and not path.lower().endswith(".xlsx"):
        members = zip_members(path)
        if len(members) != 1:
            raise InputError(f"the zip holds {len(members)} files; expected one table "
                             "(or an Amplitude export, which is read with --format amplitude)",
                             file=path)
        archive = zipfile.ZipFile(path)
        return _maybe_gunzip(archive.open(members[0]), path)
    return open(path, "rb")


def _maybe_gunzip(stream: BinaryIO, path: str) -> BinaryIO:
    raw = stream.read()
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"the compressed data is damaged ({exc})", file=path) from None
    return io.BytesIO(raw)


def _checked_gzip(path: str) -> BinaryIO:
    """A gzip stream that reports truncation as an InputError instead of EOFError."""
    return _GzipWithMessages(path)


class _GzipWithMessages(gzip.GzipFile):
    def __init__(self, path: str):
        super().__init__(filename=path, mode="rb")
        self._path = path

    def read(self, size: int = -1) -> bytes:  # noqa: D102 - same contract as GzipFile.read
        try:
            return super().read(size)
        except (EOFError, OSError, gzip.BadGzipFile) as exc:
            raise InputError(f"the gzip data is truncated or damaged ({exc})", file=self._path) from None

    def read1(self, size: int = -1) -> bytes:  # noqa: D102
        try:
            return super().read1(size)
        except (EOFError, OSError, gzip.BadGzipFile) as exc:
            raise InputError(f"the gzip data is truncated or damaged ({exc})", file=self._path) from None

    def readinto(self, buffer) -> int:  # noqa: D102
        try:
            return super().readinto(buffer)
        except (EOFError, OSError, gzip.BadGzipFile) as exc:
            raise InputError(f"the gzip data is truncated or damaged ({exc})", file=self._path) from None
