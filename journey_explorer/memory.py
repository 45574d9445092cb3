"""Keep the memory of freed arrays for the next analysis instead of handing it back at once (Linux).

glibc gives every allocation above 32 MB (a 10M-event column) its own mapping and returns it to the
system when freed; the next array of that size then starts on fresh pages, and each page's first
touch is a fault. An analysis at 10M events makes dozens of such temporaries: stuck points spent
more time in those faults than computing (26 s wall, 11 s of it user time, 205,000 faults per run;
with freed memory kept: 10.9 s, 193 faults, measured in a VM where a first touch is slow). So the
heap serves big arrays too and keeps what is freed (as DuckDB's buffer pool does); the peak is the
same, the memory is only given back when a project is closed (``give_back``); an import returns its
arrays at once (``returned_while``).

Nor does numpy advise the kernel to back its big arrays with huge pages (``NUMPY_MADVISE_HUGEPAGE``,
on by default; a value the user set wins): where transparent huge pages are on "madvise" with direct
defragmentation (this VM, many distributions' default), a fault on such an array may first compact
memory to find a free 2 MB page, a stall of 0.3-0.9 s now and then (stuck points at 1M from the
command line: 1.13-1.65 s, system time 0.14-0.49 s, against a steady 1.14-1.24 s, 0.17-0.23 s without
the advice; 200 MB of arrays made and touched: 0.04-0.96 s against 0.08-0.13 s).

Elsewhere (macOS, Windows, musl) nothing changes.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

_M_TRIM_THRESHOLD = -1      # glibc's mallopt parameters (malloc.h)
_M_MMAP_MAX = -4
_M_MMAP_THRESHOLD = -3
_LARGEST_THRESHOLD = 32 * 2**20     # glibc's own threshold rises up to this; set by hand, it stays there
_KEEP_UP_TO = 2**31 - 1     # free memory at the heap's top beyond this is still returned (mallopt takes an int)
_GLIBC_MMAP_MAX = 65536     # glibc's default: big allocations get mappings of their own
_GLIBC_TRIM_THRESHOLD = 128 * 1024     # glibc's default
_kept = False
_returning = 0              # imports running with freed memory returned (see ``returned_while``)
_keeping = 0                # parts of an import keeping freed memory all the same (``kept_while``)
_changed = False            # glibc's settings changed here once (from then on ``_apply`` sets them all)
_lock = threading.Lock()


@functools.cache
def _glibc():
    """glibc through ctypes (looked up once), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim     # noqa: B018 - absent outside glibc (musl)
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Serve big allocations from the heap and keep freed memory for reuse; whether it could."""
    global _kept
    if _glibc() is None:
        return False
    no_huge_page_advice()
    with _lock:
        _kept = True
        _kept = _apply()
    return _kept


def no_huge_page_advice() -> None:
    """numpy's big arrays without MADV_HUGEPAGE (see the module's notes), unless the user chose; part of
    ``keep_freed_memory``, and alone for an import (which does not keep freed memory)."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"      # read by numpy when it is imported later
    numpy = sys.modules.get("numpy")
    if numpy is not None:                           # already imported: its switch (numpy 1.x and 2.x)
        core = getattr(numpy, "_core", None) or getattr(numpy, "core", None)
        setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
        if setter is not None:
            setter(False)


@contextmanager
def returned_while() -> Iterator[None]:
    """Big arrays get their own mappings again meanwhile, returned when freed (an import: its chunks'
    arrays, kept in the heap, raised its peak at 10M events from 1,342 to 1,630 MB); then kept again."""
    global _returning
    with _lock:
        _returning += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _returning -= 1
            _apply()
        if _kept:
            give_back()


@contextmanager
def kept_while() -> Iterator[None]:
    """Freed big arrays kept for reuse meanwhile, whatever else is asked, and given back after: an
    import's planning makes ~2.4 GB of temporaries at 10M events, 1 GB alive at most, which as
    mappings of their own are each faulted in afresh (2.5 s of a 12 s import in a VM where a first
    touch is slow)."""
    global _keeping
    with _lock:
        _keeping += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _keeping -= 1
            _apply()
        give_back()


def _apply() -> bool:
    """Set glibc's allocator for what is asked now (the caller holds ``_lock``): big arrays from the
    heap with freed memory kept, or (an import running, or nothing asked) mappings of their own.
    Whether glibc took the settings."""
    global _changed
    libc = _glibc()
    if libc is None or not (_kept or _keeping or _changed):
        return False        # glibc's own dynamic thresholds until somebody asks for something
    _changed = True
    if _keeping or (_kept and not _returning):
        return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_UP_TO))
    libc.mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX)
    libc.mallopt(_M_MMAP_THRESHOLD, _LARGEST_THRESHOLD)     # not 128 kB: a mapping per small array
    if not _kept:
        libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_TRIM_THRESHOLD)
    return True


def give_back() -> None:
    """Return the heap's free memory to the system (a project closed: its arrays are gone)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
