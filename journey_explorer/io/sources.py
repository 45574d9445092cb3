"""Open any supported file as a ``SourceReader``: format detection, and the delimited-text reader.

Delimited text is the common case (warehouse CSV exports, process-mining logs), so it gets the fast
path: pandas' C parser in chunks, with the delimiter, encoding and header sniffed from the start.
Everything else (JSON, Excel, Parquet, XES, vendor exports) is handled in ``io.structured``.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import warnings
from typing import Iterator

import numpy as np
import pandas as pd

from journey_explorer.domain import FORMATS, ImportOptions, InputError, Rejection
from journey_explorer.io.base import SourceChunk, SourceReader
from journey_explorer.io.opening import inner_name, open_binary
from journey_explorer.io.textscan import ScanningStream, lines_of_skipped, record_lines

SNIFF_BYTES = 64 * 1024
# A header wider than the sniffing window is read on to its end (5,000 columns is ~60 KB), up to this
# much; a first line longer than that is no table header (a 10 MB line without a newline is refused).
MAX_SAMPLE_BYTES = 8 << 20
UTF8 = ("utf-8", "utf-8-sig")
_SURROGATE = re.compile("[\udc80-\udcff]")        # an undecodable byte, kept by surrogateescape
DELIMITERS = (",", ";", "\t", "|")
# Past this many columns the preview is parsed by the csv module into one block of cells: pandas'
# read_csv builds a Series per column (100,000 columns: ~80 s for three rows) and the surrogate
# replace a regex per column.
WIDE_COLUMNS = 1000
_BAD_LINE = re.compile(r"Skipping line (\d+): (.*)")


def open_source(path: str, options: ImportOptions | None = None) -> SourceReader:
    """Open ``path`` for import, detecting its format unless ``options.format`` names one.

    Raises ``InputError`` (with the file name) when the file is missing, empty or not a table.
    """
    options = options or ImportOptions()
    path = os.fspath(path)
    if not os.path.exists(path):
        if "\ufffd" in path:        # a non-UTF-8 name that a file dialog or a drop could not spell
            raise InputError("file not found: its name is not valid UTF-8 and was read with a replaced "
                             "character; rename the file (letters, digits, - and _) and try again", file=path)
        raise InputError("file not found", file=path)
    if os.path.getsize(path) == 0:
        raise InputError("the file is empty", file=path)
    fmt = options.format
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})", file=path)
    if fmt == "auto":
        fmt = detect_format(path)
    from journey_explorer.io import lifecycle
    if fmt == "csv":
        return lifecycle.wrap(DelimitedReader(path), options)
    if fmt == "snowplow":
        from journey_explorer.io.snowplow import SnowplowReader
        return SnowplowReader(path)
    from journey_explorer.io.structured import open_structured
    return lifecycle.wrap(open_structured(path, fmt, options), options)


def detect_format(path: str) -> str:
    """The format name of ``path``: a structured/vendor format, else "csv" for delimited text."""
    from journey_explorer.io.structured import sniff_structured
    structured = sniff_structured(path)
    if structured:
        return structured
    with open_binary(path) as stream:
        head = stream.read(SNIFF_BYTES)
    if looks_binary(head):
        raise InputError("this is not a table: the file holds binary data "
                         f"({inner_name(path)!r} is not CSV, Excel, JSON, Parquet or XES)", file=path)
    from journey_explorer.io.snowplow import looks_like_snowplow
    if looks_like_snowplow(head):
        return "snowplow"
    return "csv"


def looks_binary(head: bytes) -> bool:
    """NUL bytes outside UTF-16 text, or mostly control characters, mean binary data."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        # UTF-16 without BOM has a NUL in every other byte; anything else with NULs is binary.
        return not (head[1::2].count(0) > len(head) * 0.4 or head[0::2].count(0) > len(head) * 0.4)
    control = sum(1 for b in head[:4096] if b < 9 or 13 < b < 32)
    return control > len(head[:4096]) * 0.05


# --- delimited text ------------------------------------------------------------------------------


def sniff_encoding(head: bytes) -> str:
    """BOMs first, then UTF-8 if the sample decodes, else cp1252 (a superset of latin-1's printables).

    >>> sniff_encoding("café crème".encode("cp1252"))
    'cp1252'
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head[:200]:
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:      # a character cut by the end of the sample
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter giving the most columns, consistently, over the sample lines.

    >>> sniff_delimiter(["a;b;c", "1;2,5;3"])
    ';'
    """
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv_rows(lines, delimiter) if row]
        if not counts or max(counts) < 2:
            continue
        typical = max(set(counts), key=counts.count)
        consistency = counts.count(typical) / len(counts)
        score = consistency * 100 + typical
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_rows(lines: list[str], delimiter: str) -> list[list[str]]:
    """The sample's rows, or none when a field passes the csv module's 128 KB limit (a wide line
    tried with the wrong delimiter is one huge field: that delimiter simply does not fit).

    >>> csv_rows(["a;" * 70_000], ",")
    []
    """
    try:
        return list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return []


def sniff_header(rows: list[list[str]]) -> bool:
    """A header row is all text (no numbers, no dates) and its names are unique."""
    if not rows:
        return False
    first = rows[0]
    if len(set(first)) != len(first) and any(first):
        return False

    def numeric(cell: str) -> bool:
        return bool(re.fullmatch(r"[-+]?\d+([.,]\d+)?([eE][-+]?\d+)?", cell.strip()))

    def datelike(cell: str) -> bool:
        return bool(re.match(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", cell.strip()))

    # Exports nearly always have a header; a first row holding a number or a date is data.
    return not any(numeric(c) or datelike(c) for c in first)


class DelimitedReader:
    """CSV / TSV / semicolon / pipe separated text, streamed in chunks with exact line numbers."""

    fixed_mapping = None

    def __init__(self, path: str):
        self.path = path
        self.format = "csv"
        with open_binary(path) as stream:
            head, complete = read_sample(stream, path)
        if not head.strip():
            raise InputError("the file is empty", file=path)
        self.encoding = sniff_encoding(head)
        text = head.decode(self.encoding, errors="replace")
        sample_lines = text.splitlines()[:50]
        if not complete and len(sample_lines) > 1:
            sample_lines = sample_lines[:-1]      # the last line may be cut mid-way
        self.delimiter = sniff_delimiter(sample_lines)
        rows = csv_rows(sample_lines, self.delimiter)
        self.has_header = sniff_header(rows)
        header = rows[0] if rows else []
        self._columns = ([self._clean_name(c, i) for i, c in enumerate(header)] if self.has_header
                         else [f"column_{i + 1}" for i in range(len(header))])
        if len(self._columns) < 2:
            raise InputError("this is not an event table: found a single column "
                             f"(delimiter tried: {', '.join(repr(d) for d in DELIMITERS)})", file=path)
        self._check_encoding(head)

    @staticmethod
    def _clean_name(name: str, index: int) -> str:
        name = name.strip().lstrip("\ufeff")
        return name or f"Unnamed: {index}"

    def _check_encoding(self, head: bytes) -> None:
        if self.encoding in ("utf-8", "utf-8-sig"):
            return
        text = head.decode(self.encoding, errors="replace")
        if "\ufffd" in text:
            raise InputError(f"cannot decode the text as {self.encoding}", file=self.path)

    def columns(self) -> list[str]:
        return list(self._columns)

    def _read_csv(self, stream=None, **kwargs):
        stream = stream or open_binary(self.path)
        # UTF-8 keeps an invalid byte as a lone surrogate, so only the rows holding one are rejected.
        errors = "surrogateescape" if self.encoding in UTF8 else "strict"
        return pd.read_csv(
            # dtype=object: plain Python strings; pandas 3's Arrow strings cost ~40% more here.
            stream, sep=self.delimiter, encoding=self.encoding, dtype=object,
            header=0 if self.has_header else None, names=self._columns,
            keep_default_na=False, na_values=[""], skip_blank_lines=False,
            on_bad_lines="warn", encoding_errors=errors, engine="c", **kwargs)

    def preview(self, rows: int = 20) -> pd.DataFrame:
        if len(self._columns) > WIDE_COLUMNS:
            frame = self._wide_preview(rows)
            if frame is not None:
                return frame
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                frame = self._read_csv(nrows=rows)
            except (UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise InputError(f"cannot read the table ({exc})", file=self.path) from None
        # The preview only guesses columns and shows rows: an undecodable byte reads as U+FFFD there
        # (the import itself rejects such rows), so no text column carries a lone surrogate onward.
        return frame.replace(_SURROGATE, "\ufffd", regex=True) if self.encoding in UTF8 else frame

    def _wide_preview(self, rows: int) -> pd.DataFrame | None:
        """``preview`` of a wide file as one block of cells, read as pandas reads them: empty cells
        missing (NaN), a short row padded, a row with too many fields skipped, a blank line a row of
        missing cells; an undecodable byte is U+FFFD. None when the csv module cannot read the start
        (a cell past its field limit): pandas does it then."""
        width = len(self._columns)
        with open_binary(self.path) as stream:
            text = io.TextIOWrapper(stream, encoding=self.encoding, errors="replace", newline="")
            try:
                records = csv.reader(text, delimiter=self.delimiter)
                if self.has_header:
                    next(records, None)
                kept = [record for record in itertools.islice(records, rows * 2 + 10) if len(record) <= width][:rows]
            except csv.Error:
                return None
        table = np.full((len(kept), width), np.nan, dtype=object)
        for i, record in enumerate(kept):
            cells = np.array(record, dtype=object)
            cells[cells == ""] = np.nan
            table[i, :len(record)] = cells
        return pd.DataFrame(table, columns=pd.Index(self._columns, dtype=object), dtype=object)

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        next_line = 2 if self.has_header else 1
        scan = ScanningStream(open_binary(self.path), check_utf8=self.encoding in UTF8,
                              ascii_compatible=not self.encoding.startswith("utf-16"))
        shift = 0                  # extra lines of earlier records that spanned several lines
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for frame in self._read_csv(io.BufferedReader(scan, 1 << 20), chunksize=chunk_rows):
                    bad = self._bad_lines(caught)
                    caught.clear()
                    frame = frame.reset_index(drop=True)
                    logical, next_line = self._line_numbers(len(frame), next_line, bad)
                    spans = _line_spans(frame) if scan.quoted_newline else None
                    skipped = lines_of_skipped([line for line, _ in bad], logical, spans, shift)
                    lines, shift = record_lines(logical, spans, shift)
                    rejected = [Rejection(line, reason, "") for line, (_, reason) in zip(skipped, bad)]
                    if scan.inner_bom:
                        frame = _strip_boms(frame)
                    if scan.invalid_utf8_line is not None:
                        frame, lines = _reject_undecodable(frame, lines, rejected)
                    yield SourceChunk(frame, lines, rejected)
        except UnicodeDecodeError as exc:
            line = scan.invalid_utf8_line or next_line
            raise InputError(f"the text is not valid {self.encoding} ({exc.reason}); re-save the file as "
                             "UTF-8", file=self.path, line=line) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"cannot parse the table ({exc})", file=self.path) from None
        except pd.errors.EmptyDataError:
            raise InputError("the file has no rows", file=self.path) from None
        finally:
            scan.close()

    @staticmethod
    def _bad_lines(caught) -> list[tuple[int, str]]:
        bad = []
        for warning in caught:
            for match in _BAD_LINE.finditer(str(warning.message)):
                bad.append((int(match.group(1)), match.group(2).strip()))
        return sorted(bad)

    @staticmethod
    def _line_numbers(rows: int, start: int, bad: list[tuple[int, str]]) -> tuple[np.ndarray, int]:
        """pandas' record number of each parsed row, skipping records it dropped as ragged.

        Counts one line per record; ``textscan.record_lines`` adds the lines of quoted newlines.
        """
        span = np.arange(start, start + rows + len(bad), dtype=np.int64)
        if bad:
            span = span[~np.isin(span, [line for line, _ in bad])]
        lines = span[:rows]
        return lines, int(lines[-1]) + 1 if rows else start + len(bad)

    def user_traits(self) -> dict[str, dict]:
        return {}

    def parse_lines(self, numbers: np.ndarray) -> pd.DataFrame:
        """Some lines (1-based, ascending, each one record, ending in \\n) parsed as ``chunks`` parses
        them, one row per number."""
        found = _lines_by_number(self.path, numbers.tolist(), self.encoding)
        texts = [found.get(int(number), "") for number in numbers]
        frame = pd.DataFrame(None, index=range(len(texts)), columns=self._columns, dtype=object)
        filled = [i for i, text in enumerate(texts) if text]     # a blank line is a row of empty cells
        if filled:
            parsed = pd.read_csv(io.StringIO("\n".join(texts[i] for i in filled)), sep=self.delimiter,
                                 dtype=object, header=None, names=self._columns, keep_default_na=False,
                                 na_values=[""], skip_blank_lines=False, engine="c")
            frame.iloc[filled] = parsed.to_numpy(dtype=object)
        return frame

    def raw_lines(self, wanted: set[int]) -> dict[int, str]:
        """The raw text of some lines (for rejected rows), read in one pass."""
        found: dict[int, str] = {}
        if not wanted:
            return found
        last = max(wanted)
        with open_binary(self.path) as stream:
            text = io.TextIOWrapper(stream, encoding=self.encoding, errors="replace", newline="")
            for number, line in enumerate(text, start=1):
                if number in wanted:
                    found[number] = line.rstrip("\r\n")
                if number >= last:
                    break
        return found


def read_sample(stream, path: str) -> tuple[bytes, bool]:
    """The start of a text file for sniffing: 64 KiB, or more when the first line (a wide header) is
    longer, so the sample holds the header and a few rows. Also whether the sample is the whole file.

    A first line without a line break within ``MAX_SAMPLE_BYTES`` is refused rather than read on.
    """
    head = stream.read(SNIFF_BYTES)
    if len(head) < SNIFF_BYTES:
        return head, True
    while True:
        first_end = _first_line_end(head)
        wanted = SNIFF_BYTES if first_end < 0 else 4 * (first_end + 1)   # the header and ~3 rows as wide
        if first_end >= 0 and len(head) >= wanted:
            return head, False
        if len(head) >= MAX_SAMPLE_BYTES:
            if first_end < 0:
                raise InputError(f"the first line is longer than {MAX_SAMPLE_BYTES >> 20} MB without a line "
                                 "break: this is not a table of events", file=path)
            return head, False
        more = stream.read(min(max(wanted - len(head), len(head)), MAX_SAMPLE_BYTES - len(head)))
        if not more:
            return head, True
        head += more


def _first_line_end(head: bytes) -> int:
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    return min(ends) if ends else -1


def _line_spans(frame: pd.DataFrame) -> np.ndarray:
    """Lines each row spans: one, plus the newlines inside its (quoted) cells."""
    spans = np.ones(len(frame), dtype=np.int64)
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            spans += column.str.count("\n").fillna(0).to_numpy(dtype=np.int64)
    return spans


def _strip_boms(frame: pd.DataFrame) -> pd.DataFrame:
    """U+FEFF at the start of a cell is a byte order mark from a joined file, not part of the value."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            marked = column.str.startswith("\ufeff", na=False).to_numpy(dtype=bool)
            if marked.any():
                frame.loc[marked, name] = column[marked].str.lstrip("\ufeff")
    return frame


def _reject_undecodable(frame: pd.DataFrame, lines: np.ndarray, rejected: list[Rejection]):
    """Rows holding bytes that are not UTF-8 become rejections (the rest of the file is kept)."""
    bad = np.zeros(len(frame), dtype=bool)
    first_column: dict[int, str] = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        hit = column.str.contains(_SURROGATE, na=False).to_numpy(dtype=bool)
        for row in np.flatnonzero(hit & ~bad):
            first_column[int(row)] = str(name)
        bad |= hit
    if not bad.any():
        return frame, lines
    for row in np.flatnonzero(bad):
        rejected.append(Rejection(int(lines[row]), f"not UTF-8 text in column '{first_column[int(row)]}' "
                                  "(re-save the file as UTF-8)", ""))
    rejected.sort(key=lambda rejection: rejection.line)
    return frame[~bad].reset_index(drop=True), lines[~bad]


def _lines_by_number(path: str, numbers: list[int], encoding: str) -> dict[int, str]:
    """Lines of a plain file ending in \\n (CR LF too), by ascending 1-based number: whole blocks are
    skipped by counting their newlines, ~5x faster than iterating the lines of a 10M-line file."""
    found: dict[int, str] = {}
    wanted = iter(numbers)
    target = next(wanted, None)
    first_line, carry = 1, b""
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(4 << 20), b""):
            block = carry + block
            complete = block.count(b"\n")
            while target is not None and target < first_line + complete:
                lines = block.split(b"\n")
                while target is not None and target < first_line + complete:
                    found[target] = lines[target - first_line].decode(encoding, errors="replace").rstrip("\r")
                    target = next(wanted, None)
            carry = block[block.rfind(b"\n") + 1:] if complete else block
            first_line += complete
    if target is not None and target == first_line and carry:      # the last line has no newline
        found[target] = carry.decode(encoding, errors="replace").rstrip("\r")
    return found
