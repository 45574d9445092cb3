"""What the delimited reader needs to know about the bytes pandas parses, learnt as they stream by.

pandas numbers records, not lines, and stops at the first byte that is not valid UTF-8. A
``ScanningStream`` sits between the file and pandas and notes, at C speed per block: whether a
newline falls inside a quoted field (records then span lines, and line numbers need correcting),
the first invalid UTF-8 byte (and its line), and a byte order mark after the start of the file (two
files joined with ``cat``). The reader pays for a per-cell check only once one of these was seen.
"""
from __future__ import annotations

import codecs
import io

import numpy as np

BOM = codecs.BOM_UTF8
NEWLINE, QUOTE = 10, 34


class ScanningStream(io.RawIOBase):
    """A binary stream that passes ``inner``'s bytes through and notes what it saw in them."""

    def __init__(self, inner, check_utf8: bool, ascii_compatible: bool = True):
        super().__init__()
        self._inner = inner
        self._ascii = ascii_compatible
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict") if check_utf8 else None
        self._offset = 0                 # bytes passed through so far
        self._lines = 0                  # newlines passed through so far
        self._in_quotes = False
        self.quoted_newline = False      # some newline fell inside a quoted field
        self.invalid_utf8_line: int | None = None   # line of the first invalid UTF-8 byte
        self.inner_bom = False           # a UTF-8 BOM after the file's first bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._inner.read(len(buffer))
        if data:
            self._scan(data)
            buffer[:len(data)] = data
        return len(data)

    def _scan(self, block: bytes) -> None:
        if self._ascii:
            self._scan_quotes(block)
            if not self.inner_bom:
                found = block.find(BOM, 1 if self._offset == 0 else 0)
                self.inner_bom = found >= 0 and self._offset + found > 0
        if self._decoder is not None and self.invalid_utf8_line is None:
            try:
                self._decoder.decode(block)
            except UnicodeDecodeError as exc:
                self.invalid_utf8_line = self._lines + block.count(b"\n", 0, exc.start) + 1
                self._decoder = None
        self._offset += len(block)
        self._lines += block.count(b"\n")

    def _scan_quotes(self, block: bytes) -> None:
        """Quote parity at each newline: an odd count of quotes before it means it is inside a field.

        An over-estimate when a quote appears inside an unquoted field (then the reader merely checks
        cells it did not need to); the line numbers themselves come from the parsed cells.
        """
        if block.find(b'"') < 0:
            self.quoted_newline |= self._in_quotes and block.find(b"\n") >= 0
            return
        array = np.frombuffer(block, dtype=np.uint8)
        quotes = np.flatnonzero(array == QUOTE)
        newlines = np.flatnonzero(array == NEWLINE)
        before = np.searchsorted(quotes, newlines) + self._in_quotes
        self.quoted_newline |= bool((before % 2 == 1).any())
        self._in_quotes = (len(quotes) + self._in_quotes) % 2 == 1

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def record_lines(logical: np.ndarray, spans: np.ndarray | None, shift: int) -> tuple[np.ndarray, int]:
    """File lines of records numbered ``logical`` (one line each, as pandas counts them), given how many
    lines each spans (None: one each) and the extra lines of all earlier records (``shift``).

    Returns the lines and the shift for the records after these.

    >>> lines, shift = record_lines(np.array([2, 3, 4]), np.array([1, 3, 1]), 0)
    >>> lines.tolist(), shift
    ([2, 3, 6], 2)
    """
    if spans is None:
        return logical + shift, shift
    extra = np.asarray(spans, dtype=np.int64) - 1
    before = np.concatenate(([0], np.cumsum(extra)[:-1])) if len(extra) else extra
    return logical + shift + before, shift + int(extra.sum())


def lines_of_skipped(skipped: list[int], logical: np.ndarray, spans: np.ndarray | None, shift: int) -> list[int]:
    """File lines of records pandas skipped (``skipped``, its numbers), placed among the parsed rows."""
    if spans is None or not len(logical):
        return [number + shift for number in skipped]
    extra = np.cumsum(np.asarray(spans, dtype=np.int64) - 1)
    result = []
    for number in skipped:
        earlier = int(np.searchsorted(logical, number))     # parsed rows before this record
        result.append(number + shift + (int(extra[earlier - 1]) if earlier else 0))
    return result
