"""Open a source file as bytes, looking through .gz and .zip wrappers, and name what is inside.

Compressed content is streamed, never held whole, and guarded: a member that expands beyond
``ExpansionLimits`` (a size, and a ratio to its compressed size) is refused with a message before it
can fill the memory or the disk. Damage found while decompressing (a bad CRC, a truncated stream,
corrupt deflate data) becomes an ``InputError`` naming the file and the member.
"""
from __future__ import annotations

import gzip
import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from journey_explorer.domain import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
GIB = 1 << 30
MIB = 1 << 20

# What a damaged archive raises from zipfile/gzip/zlib while it is opened or read.
ARCHIVE_ERRORS = (zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, EOFError, OSError, ValueError,
                  NotImplementedError, RuntimeError, struct.error, UnicodeDecodeError, OverflowError)


@dataclass(frozen=True)
class ExpansionLimits:
    """How far a compressed file may expand before it is refused.

    ``max_bytes``: the most any one member (or .gz) may expand to. ``max_ratio``: expanded bytes per
    compressed byte, checked once ``ratio_floor`` bytes came out (small text compresses very well,
    and a real export rarely beats 50:1, while a zip bomb of zeros reaches 1000:1).
    Environment variables ``JOURNEY_EXPLORER_MAX_EXPANDED_GB`` and ``JOURNEY_EXPLORER_MAX_RATIO``
    override the defaults.
    """

    max_bytes: int = 32 * GIB
    max_ratio: float = 100.0
    ratio_floor: int = 256 * MIB


_limits: ExpansionLimits | None = None


def set_expansion_limits(limits: ExpansionLimits | None) -> None:
    """Use ``limits`` for every compressed file opened from now on (None: the defaults again)."""
    global _limits
    _limits = limits


def expansion_limits() -> ExpansionLimits:
    """The limits in force: ``set_expansion_limits``'s, else the defaults with the environment's overrides.

    >>> expansion_limits().max_ratio > 10
    True
    """
    if _limits is not None:
        return _limits
    defaults = ExpansionLimits()
    try:
        gigabytes = float(os.environ.get("JOURNEY_EXPLORER_MAX_EXPANDED_GB", defaults.max_bytes / GIB))
        ratio = float(os.environ.get("JOURNEY_EXPLORER_MAX_RATIO", defaults.max_ratio))
    except ValueError:
        return defaults
    return ExpansionLimits(max_bytes=int(gigabytes * GIB), max_ratio=ratio, ratio_floor=defaults.ratio_floor)


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
    except ARCHIVE_ERRORS as exc:
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
        return open_gzip(path)
    if head.startswith(ZIP_MAGIC) and not path.lower().endswith(".xlsx"):
        members = zip_members(path)
        if len(members) != 1:
            raise InputError(f"the zip holds {len(members)} files; expected one table "
                             "(or an Amplitude export: set {format} to amplitude)",
                             file=path)
        archive = _open_zip(path)
        return open_zip_member(archive, members[0], path, owns_archive=True)
    return open(path, "rb")


def open_gzip(path: str) -> BinaryIO:
    """A .gz file's content, streamed within the expansion limits."""
    try:
        inner = gzip.GzipFile(filename=path, mode="rb")
    except OSError as exc:
        raise InputError(f"cannot open the file ({exc.strerror or exc})", file=path) from None
    return _buffered(GuardedStream(inner, path, os.path.getsize(path), "the gzip data"))


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except ARCHIVE_ERRORS as exc:
        raise InputError(f"not a readable zip archive ({exc})", file=path) from None


def open_zip_member(archive: zipfile.ZipFile, member: str, path: str, owns_archive: bool = False) -> BinaryIO:
    """One member of an open zip, streamed within the limits (gunzipped too if it is a .gz)."""
    what = f"member '{member}' of the zip"
    try:
        info = archive.getinfo(member)
        inner = archive.open(member)
    except ARCHIVE_ERRORS as exc:
        raise InputError(f"{what} is damaged ({exc})", file=path) from None
    compressed = max(1, min(info.compress_size, os.path.getsize(path)))
    stream = _buffered(GuardedStream(inner, path, compressed, what, archive if owns_archive else None))
    if stream.peek(2)[:2] == GZIP_MAGIC:
        # The gzip's own size is the member's expanded size, which the outer guard bounds.
        return _buffered(GuardedStream(gzip.GzipFile(fileobj=stream, mode="rb"), path, info.file_size or 1,
                                       f"the gzip data in {what}", stream))
    return stream


def check_archive_expansion(path: str, what: str = "the workbook", kind: str = "zip archive") -> None:
    """Refuse a zip-based file (an .xlsx) whose members would expand beyond ``ExpansionLimits``,
    before a library that unzips it itself (openpyxl) reads a byte of it.

    The sizes checked are the ones the zip declares: Python's ``zipfile`` never returns more than a
    member's declared size (a member that lies is cut there and fails its CRC check), so they bound
    what the library can unpack. Each member, and all of them together, must keep within the size
    limit, and within the ratio once ``ratio_floor`` bytes would come out. A file that is no zip at
    all is "not a readable {kind}".
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [(info.filename, info.file_size, info.compress_size) for info in archive.infolist()]
    except ARCHIVE_ERRORS as exc:
        raise InputError(f"not a readable {kind} ({type(exc).__name__}: {exc})", file=path) from None
    on_disk = max(1, os.path.getsize(path))
    totals = ("all its parts together", sum(m[1] for m in members), sum(m[2] for m in members))
    for name, expanded, compressed in members + [totals]:
        _refuse_expansion(path, f"{what}, {name}", expanded, max(1, min(compressed, on_disk)), expansion_limits())


def _refuse_expansion(path: str, what: str, expanded: int, compressed: int, limits: ExpansionLimits) -> None:
    ratio = expanded / compressed
    too_big = expanded > limits.max_bytes
    too_dense = expanded > limits.ratio_floor and ratio > limits.max_ratio
    if too_big or too_dense:
        name = os.path.basename(path)
        limit = (f"{limits.max_bytes / GIB:.3g} GB" if too_big
                 else f"{limits.max_ratio:g} times its compressed size")
        raise InputError(f"{name} expands to more than {limit} ({what}: {expanded / GIB:.3g} GB "
                         f"from {compressed / MIB:.3g} MB, ratio {ratio:,.0f}:1): refused "
                         "as a likely decompression bomb; unpack it yourself if it is genuine",
                         file=path)


def _buffered(raw: io.RawIOBase) -> io.BufferedReader:
    return io.BufferedReader(raw, buffer_size=1 << 20)


class GuardedStream(io.RawIOBase):
    """A decompressing stream that counts what comes out and turns damage into ``InputError``."""

    def __init__(self, inner, path: str, compressed_bytes: int, what: str, owner=None):
        super().__init__()
        self._inner, self._owner = inner, owner
        self._path, self._what = path, what
        self._compressed = max(1, compressed_bytes)
        self._expanded = 0
        self._limits = expansion_limits()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._inner.read(len(buffer))
        except InputError:
            raise
        except ARCHIVE_ERRORS as exc:
            raise InputError(f"{self._what} is damaged or truncated after {self._expanded:,} bytes "
                             f"({type(exc).__name__}: {exc})", file=self._path) from None
        self._expanded += len(data)
        self._check()
        buffer[:len(data)] = data
        return len(data)

    def _check(self) -> None:
        _refuse_expansion(self._path, f"{self._what}, so far", self._expanded, self._compressed, self._limits)

    def close(self) -> None:
        if not self.closed:
            for resource in (self._inner, self._owner):
                try:
                    if resource is not None:
                        resource.close()
                except ARCHIVE_ERRORS:
                    pass
        super().close()
