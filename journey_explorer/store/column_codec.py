"""Integer columns of the sorted event cache (schema 4 on) and of the file-order event chunks (schema 5
on) as compact bytes.

A column is stored as the smallest unsigned integers that hold it: the steps between neighbours when it
never falls (user codes, session numbers: mostly 0 or 1, one byte each), else its distance from its
minimum (times: 34 bits over six months, event codes: one byte); past 32 bits, as the low 32 bits and
a second part with the rest (one byte that hardly varies, for times). Each part is compressed with
Zstandard level 1 (python-zstandard, a core dependency: it imports in ~1 ms where pyarrow's codec cost
every command ~35 ms; older files written through pyarrow hold the same standard frames), or zlib
level 1 (stdlib), which older versions wrote when their pyarrow lacked Zstandard. At 10M events
the cache shrinks from 341 MB to ~80 MB; decoding is a cumulative sum or an addition per column.

A blob is ``MAGIC``, a 4-byte header length, a JSON header (dtype, count, base, each part's integer
type, codec and length), then the compressed parts. Arithmetic wraps around, so any int64 (hashes
included) round-trips exactly.

The same module stores the text columns of ``store.event_chunks`` (insert ids, raw properties JSON):
``encode_texts`` compresses a list of text or None as one JSON list behind ``TEXT_MAGIC``.

>>> values = np.array([3, 3, 4, 9, 9], dtype=np.int64)
>>> decode_column(encode_column(values, np.int64)).tolist()
[3, 3, 4, 9, 9]
>>> hashes = np.array([-2**63, 2**63 - 1, 0], dtype=np.int64)
>>> decode_column(encode_column(hashes, np.int64)).tolist() == hashes.tolist()
True
"""
from __future__ import annotations

import json
import sys
import zlib

import numpy as np
import zstandard

CACHE_COLUMNS = {  # name -> dtype of the sorted columnar copy
    "id": np.int64, "user": np.int32, "event": np.int32, "ts": np.int64,
    "session": np.int64, "session_key": np.int64, "insert_hash": np.int64,
    "sub_ms": np.int16,     # µs within the millisecond: orders and tells apart sub-ms events
    "extra_hash": np.int64,  # hash of columns with too many values to store: tells duplicates apart
}
CACHE_DEFAULTS = {"session_key": -1, "insert_hash": 0, "sub_ms": 0, "extra_hash": 0}   # not stored when all default
CHECK_NAME = "check"        # log_cache row: {"events": n, "crc32": ..., "column_crc32": {...}} of the columns above
MAGIC = b"JXC1"
TEXT_MAGIC = b"JXT1"
SMALL_BYTES = 4096      # smaller columns are stored as they are: compressing them costs more than it saves
INCOMPRESSIBLE = 0.95   # a part that compresses to more than this share of its size is stored as it is
_UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)


def is_encoded(blob: bytes) -> bool:
    return bytes(blob[:len(MAGIC)]) == MAGIC


def read_column(blob: bytes) -> np.ndarray:
    """A cached column in either format: ``encode_column``'s, or ``np.save``'s (schema 3 and earlier)."""
    if is_encoded(blob):
        return decode_column(blob)
    import io
    return np.load(io.BytesIO(blob), allow_pickle=False)


def encode_column(values: np.ndarray, dtype, scratch: np.ndarray | None = None) -> bytes:
    """``values`` (read back as ``dtype``) as a compact blob. ``scratch``: an int64 array at least as
    long, worked in instead of a new one (several 10M-event columns encoded in a row on a thread: a
    new 80 MB array each would be a fresh mapping, each page faulted in anew)."""
    values = _integers(values)
    count = len(values)
    rising = count > 1 and bool(np.all(values[1:] >= values[:-1]))
    # The work array is made in one step from the values in their own width (no int64 copy first):
    # in int64 arithmetic, which wraps like the uint64 arithmetic of the format, so the bits are the same.
    work = scratch[:count] if scratch is not None and len(scratch) >= count else np.empty(count, dtype=np.int64)
    if rising:
        base = int(values[0]) % 2**64
        work[:1] = 0
        np.subtract(values[1:], values[:-1], out=work[1:], dtype=np.int64)
    else:
        lowest = values[np.argmin(values)] if count else 0
        base = int(lowest) % 2**64
        np.subtract(values, np.int64(lowest), out=work, dtype=np.int64)
    parts = _parts(work.view(np.uint64))
    del work
    codecs, bodies = zip(*(_compress(part) for part in parts))
    header = json.dumps({"dtype": np.dtype(dtype).str, "count": count, "steps": rising, "base": base,
                         "parts": [[part.dtype.str, codec, len(body)] for part, codec, body in zip(parts, codecs, bodies)],
                         }).encode()
    return b"".join([MAGIC, len(header).to_bytes(4, "little"), header, *bodies])     # one copy of the bodies


def _integers(values) -> np.ndarray:
    """``values`` as an integer array: as they are when their integers fit in int64, else as int64."""
    values = np.asarray(values)
    if values.dtype == np.int64 or (values.dtype.kind in "iu" and values.dtype.itemsize < 8):
        return values
    return values.astype(np.int64)


def decode_column(blob: bytes) -> np.ndarray:
    """The array ``encode_column`` stored; ValueError when the blob does not read back whole."""
    view = memoryview(blob)
    if not is_encoded(view):
        raise ValueError("not an encoded column")
    length = int.from_bytes(view[4:8], "little")
    header = json.loads(bytes(view[8:8 + length]))
    count, target = int(header["count"]), np.dtype(header["dtype"])
    parts, start = [], 8 + length
    for stored, codec, size in header["parts"]:
        stored = np.dtype(stored)
        raw = _decompress(codec, view[start:start + size], stored.itemsize * count)
        parts.append(raw.view(stored))
        start += size
    work = _joined(parts)
    # Arithmetic in the target's width wraps like the uint64 arithmetic of the encoder: exact.
    base = np.array(header["base"], dtype=np.uint64).astype(target)
    if header["steps"]:
        # Converted before the sum: a sum that converts its items holds the GIL throughout (~0.2 s at 10M).
        values = np.cumsum(work if work.dtype == target else work.astype(target), dtype=target)
    elif len(parts) > 1 and target.itemsize == work.itemsize:
        values = work.view(target)      # joined parts are a new uint64 array: the same bits, one copy fewer
    else:
        values = work.astype(target)
    values += base
    return values


def _narrowest(largest: int):
    for dtype in _UNSIGNED:
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.uint64


def _parts(work: np.ndarray) -> list[np.ndarray]:
    """``work`` (uint64) in the narrowest integers; past 32 bits, as its low 32 bits and the rest in
    a second, narrow part (times over months need 34 bits: 4 bytes and a nearly constant byte)."""
    largest = int(work.max()) if len(work) else 0
    if largest < 1 << 32:
        return [work.astype(_narrowest(largest))]
    halves = work.view(np.uint32)       # each value's low and high 32 bits, in the machine's order
    low, high = (halves[0::2], halves[1::2]) if sys.byteorder == "little" else (halves[1::2], halves[0::2])
    return [low.astype(np.uint32), high.astype(_narrowest(largest >> 32))]


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    low, high = parts
    work = high.astype(np.uint64)
    work <<= np.uint64(32)
    work |= low
    return work


def _compress(part: np.ndarray) -> tuple[str, bytes]:
    """A part's codec and bytes; stored as it is when small, or when compressing saves under
    ``INCOMPRESSIBLE`` of it (a time column's low 32 bits: reading it back then costs a copy, not a
    decompression).

    >>> _compress(np.zeros(10_000, dtype=np.uint8))[0], _compress(np.arange(10_000, dtype=np.uint32) * 2654435761)[0]
    ('zstd', 'none')
    """
    if part.nbytes < SMALL_BYTES:
        return "none", part.tobytes()
    codec, packed = "zstd", zstandard.ZstdCompressor(level=1).compress(part)
    if len(packed) > INCOMPRESSIBLE * part.nbytes:
        return "none", memoryview(part).cast("B")      # the part's own bytes, joined into the blob once
    return codec, packed


def _decompress(codec: str, body: memoryview, size: int) -> np.ndarray:
    if codec == "zstd":
        try:            # a decompressor per call: one is not safe to share between threads
            raw = zstandard.ZstdDecompressor().decompress(body, max_output_size=size)
        except zstandard.ZstdError as exc:      # damaged bytes
            raise ValueError(f"a cached column does not decompress ({exc})") from None
        raw = np.frombuffer(raw, dtype=np.uint8)
    elif codec == "none":
        raw = np.frombuffer(body, dtype=np.uint8)
    elif codec == "zlib":
        try:
            raw = np.frombuffer(zlib.decompress(body), dtype=np.uint8)
        except zlib.error as exc:
            raise ValueError(f"a cached column does not decompress ({exc})") from None
    else:
        raise ValueError(f"unknown cache codec {codec!r}")
    if len(raw) != size:
        raise ValueError("a cached column has the wrong length")
    return raw


def encode_texts(values) -> bytes:
    """A column of text or None (insert ids, raw properties JSON) as one compressed blob: a JSON list
    (ASCII-escaped, so lone surrogates survive) behind ``TEXT_MAGIC`` and a header like a column's.

    >>> decode_texts(encode_texts(["a", None, "\u00e9\\n"]))
    ['a', None, 'é\\n']
    """
    body = json.dumps(list(values)).encode("ascii")
    codec, packed = _compress(np.frombuffer(body, dtype=np.uint8))
    header = json.dumps({"count": len(values), "codec": codec, "size": len(body)}).encode()
    return TEXT_MAGIC + len(header).to_bytes(4, "little") + header + packed


def decode_texts(blob: bytes) -> list:
    """The list ``encode_texts`` stored; ValueError when the blob does not read back whole."""
    view = memoryview(blob)
    if bytes(view[:len(TEXT_MAGIC)]) != TEXT_MAGIC:
        raise ValueError("not an encoded text column")
    length = int.from_bytes(view[4:8], "little")
    header = json.loads(bytes(view[8:8 + length]))
    raw = _decompress(header["codec"], view[8 + length:], int(header["size"]))
    values = json.loads(raw.tobytes())
    if not isinstance(values, list) or len(values) != header["count"]:
        raise ValueError("a text column has the wrong length")
    return values


def cache_check(blobs: dict[str, bytes]) -> dict:
    """What ``load_arrays`` verifies, written beside the cached columns: the CRC-32 of each column's
    name and bytes (``column_crc32``: a command reads and checks only the columns it decodes), and of
    all of them together in CACHE_COLUMNS order (``crc32``: what files from before per-column
    checksums carry, and what older versions of the app verify, so a new file still opens in them).
    zlib's CRC runs at ~1 GB/s: ~10 ms for a million events' columns.

    >>> check = cache_check({"user": b"ab", "ts": b"cd"})
    >>> check["column_crc32"] == {"user": column_crc("user", b"ab"), "ts": column_crc("ts", b"cd")}
    True
    """
    columns = {name: column_crc(name, blobs[name]) for name in CACHE_COLUMNS if name in blobs}
    return {"crc32": whole_crc(blobs), "column_crc32": columns}


def column_crc(name: str, blob: bytes) -> int:
    """One cached column's CRC-32 (its name first: a column stored under another name differs)."""
    return zlib.crc32(blob, zlib.crc32(name.encode()))


def whole_crc(blobs: dict[str, bytes]) -> int:
    """The CRC-32 over every cached column, names and bytes, in CACHE_COLUMNS order."""
    crc = 0
    for name in CACHE_COLUMNS:
        if name in blobs:
            crc = zlib.crc32(name.encode(), crc)
            crc = zlib.crc32(blobs[name], crc)
    return crc
