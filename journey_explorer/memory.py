"""Keep the memory of freed arrays for the next analysis instead of handing it back at once (Linux).

glibc gives every allocation above 32 MB (a 10M-event column) its own mapping and returns it to the
system when freed; the next array of that size then starts on fresh pages, and each page's first
touch is a fault. An analysis at 10M events makes dozens of such temporaries: stuck points spent
more time in those faults than computing (26 s wall, 11 s of it user time, 205,000 faults per run;
with freed memory kept: 10.9 s, 193 faults, measured in a VM where a first touch is slow). So the
heap serves big arrays too and keeps what is freed (as DuckDB's buffer pool does); the peak is the
same, the memory is only given back when a project is closed (``give_back``).

Elsewhere (macOS, Windows, musl) nothing changes.
"""
from __future__ import annotations

import sys

_M_TRIM_THRESHOLD = -1      # glibc's mallopt parameters (malloc.h)
_M_MMAP_MAX = -4
_KEEP_UP_TO = 2**31 - 1     # free memory at the heap's top beyond this is still returned (mallopt takes an int)


def _glibc():
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
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_UP_TO))


def give_back() -> None:
    """Return the heap's free memory to the system (a project closed: its arrays are gone)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
