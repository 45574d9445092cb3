"""Readers for everything that is not delimited text: JSON, JSON Lines, Excel, Parquet, XES, and
the exports of Segment, Amplitude, Mixpanel, GA4 and PostHog (recognised by their fields).

Generic JSON/Excel/Parquet keep the file's own column names (``io.mapping`` guesses the roles).
XES and vendor readers know their fields, so they emit the canonical columns of ``io.base`` and a
``fixed_mapping``.
"""
from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import zipfile
from datetime import date, datetime
from typing import Any, Iterator

import numpy as np
import pandas as pd

from journey_explorer.domain import ColumnMapping, ImportOptions, InputError, Rejection
from journey_explorer.io import ocel, vendors
from journey_explorer.io.base import VENDOR_MAPPING, InMemoryReader, SourceChunk, frame_chunks
from journey_explorer.io.opening import (
    ARCHIVE_ERRORS,
    ZIP_MAGIC,
    check_archive_expansion,
    inner_name,
    open_binary,
    open_zip_member,
    zip_members,
)
from journey_explorer.io.xes import XesReader

SNIFF_RECORDS = 20


# --- detection -----------------------------------------------------------------------------------


def sniff_structured(path: str) -> str | None:
    """The format of a non-delimited file, or None for delimited text."""
    name = inner_name(path).lower()
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if name.endswith(".xlsx") or (magic.startswith(ZIP_MAGIC) and _is_xlsx(path)):
        return "xlsx"
    if name.endswith(".parquet") or magic == b"PAR1":
        return "parquet"
    if magic.startswith(ZIP_MAGIC) and len(zip_members(path)) > 1:
        return "amplitude" if _amplitude_zip(path) else None
    if name.endswith((".xes", ".xes.gz")):
        return "xes"
    if name.endswith((".xmlocel", ".jsonocel")):
        return "ocel"
    head = _head_text(path)
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        if ocel.looks_like_ocel_xml(head):
            return "ocel"
        return "xes" if "<log" in head[:2000] else None
    if stripped.startswith("[") or stripped.startswith("{"):
        if ocel.looks_like_ocel(head):
            return "ocel"
        shape = json_shape(stripped)
        records = _first_records(stripped, shape)
        return vendors.detect(records) or shape
    return None


def json_shape(text: str) -> str:
    r""""json" for one document (an array, or an object holding the records, pretty-printed or
    not), "jsonl" for one object per line.

    >>> json_shape('{\n  "events": [\n    {"a": 1}\n  ]\n}')
    'json'
    >>> json_shape('{"a": 1}\n{"a": 2}')
    'jsonl'
    """
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    first, _, rest = text.partition("\n")
    try:
        value = json.loads(first)
    except (ValueError, RecursionError):
        return "json"          # the first object spans lines: a pretty-printed document
    if not rest.strip() and isinstance(value, dict) and _wraps_records(value):
        return "json"          # a one-line document holding the records
    return "jsonl"


RECORD_KEYS = ("events", "data", "records", "results", "rows", "batch", "logs", "entries")


def _wraps_records(value: dict) -> bool:
    """An object that wraps its records under a conventional key ({"events": [...]}, Segment's
    {"batch": [...]}), as opposed to one record that holds a list of objects (GA4's event_params)."""
    return vendors.detect([value]) is None and any(
        isinstance(value.get(key), list) and value[key] and all(isinstance(x, dict) for x in value[key])
        for key in RECORD_KEYS)


def record_list(value: dict) -> list | None:
    """The records an object holds: its longest list of objects ({"events": [...]}), else None."""
    lists = {k: v for k, v in value.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)}
    named = [lists[k] for k in RECORD_KEYS if k in lists]
    return named[0] if named else (max(lists.values(), key=len) if lists else None)


def _is_xlsx(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except ARCHIVE_ERRORS:
        return False


def _amplitude_zip(path: str) -> bool:
    members = zip_members(path)
    return all(m.endswith((".json.gz", ".json", ".gz")) for m in members)


def _head_text(path: str, size: int = 64 * 1024) -> str:
    with open_binary(path) as stream:
        head = stream.read(size)
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    return head.decode("latin-1")


def _first_records(head: str, shape: str) -> list[dict]:
    """A few parsed records from the start of a JSON/JSONL file (best effort, for detection)."""
    records: list[dict] = []
    if shape == "jsonl":
        for line in head.splitlines()[:SNIFF_RECORDS]:
            value, problem = _parse_json_line(line)
            if not problem:
                records.append(value)
        return records
    try:
        whole = json.loads(head)          # a small document fits in the sample
    except (ValueError, RecursionError):
        whole = None
    if isinstance(whole, list):
        return [r for r in whole[:SNIFF_RECORDS] if isinstance(r, dict)]
    if isinstance(whole, dict):
        return (record_list(whole) or [whole])[:SNIFF_RECORDS]
    decoder = json.JSONDecoder()
    if "[" not in head:
        return records
    position = head.index("[") + 1
    while len(records) < SNIFF_RECORDS:
        while position < len(head) and head[position] in " \t\r\n,":
            position += 1
        try:
            value, position = decoder.raw_decode(head, position)
        except (ValueError, RecursionError):
            break
        if isinstance(value, dict):
            records.append(value)
    return records


# --- opening -------------------------------------------------------------------------------------


def open_structured(path: str, fmt: str, options: ImportOptions):
    """A reader for ``path`` in format ``fmt`` (see ``domain.FORMATS``)."""
    if fmt == "xlsx":
        return ExcelReader(path, options.sheet)
    if fmt == "parquet":
        return ParquetReader(path)
    if fmt == "xes":
        return XesReader(path)
    if fmt == "ocel":
        return ocel.OcelReader(path, options.object_type)
    if fmt in ("json", "jsonl"):
        return JsonReader(path, fmt)
    if fmt in vendors.NORMALISERS:
        return VendorReader(path, fmt, options)
    raise InputError(f"unknown format '{fmt}'", file=path)




# --- JSON ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def collection_paused():
    """No automatic cyclic garbage collection inside (unless it is already off, as on the window's
    GUI thread, which collects on a timer). Reading JSON makes millions of dicts that all stay alive,
    and CPython's collector traversed them again and again as they piled up (a full pass each time
    they grew by a quarter): ~40 % of parsing a 371k-line export. Parsed JSON holds no cycles, so
    nothing collectable waits; the first pass after this one sees the new objects once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_json_records(path: str, shape: str) -> tuple[list[dict], np.ndarray, list[Rejection]]:
    """All records of a JSON array or JSON Lines file (records = objects), with line numbers.

    A broken line of JSON Lines is a rejection; a broken JSON array is fatal.
    """
    text = _decoded(path)
    if shape == "json":
        try:
            value = json.loads(text)
        except RecursionError:
            raise InputError(f"the JSON is nested too deeply to read (more than about {MAX_DEPTH} levels of "
                             "brackets): not an event export", file=path) from None
        except ValueError as exc:
            if getattr(exc, "msg", "") == "Extra data" and json_shape(text) == "jsonl":
                return _json_lines(text)          # --format json on a JSON Lines file
            line = getattr(exc, "lineno", None)
            raise InputError(f"not valid JSON ({getattr(exc, 'msg', exc)})", file=path, line=line) from None
        return _document_records(value, path)
    records, lines, rejected = _json_lines(text)
    if len(records) == 1 and not rejected and _wraps_records(records[0]):
        return _document_records(records[0], path)      # a one-line {"events": [...]} document
    return records, lines, rejected


def _document_records(value, path: str) -> tuple[list[dict], np.ndarray, list[Rejection]]:
    """Records of one JSON document: an array of objects, or an object holding one (else itself)."""
    if isinstance(value, dict):
        value = record_list(value) or [value]
    if not isinstance(value, list):
        raise InputError("the JSON holds no list of records", file=path)
    numbered = [(i, r) for i, r in enumerate(value, start=1)]
    rejected = [Rejection(i, "not a JSON object", json.dumps(r, default=str)[:2000])
                for i, r in numbered if not isinstance(r, dict)]
    kept = [(i, r) for i, r in numbered if isinstance(r, dict)]
    return [r for _, r in kept], np.array([i for i, _ in kept], dtype=np.int64), rejected


def _json_lines(text: str) -> tuple[list[dict], np.ndarray, list[Rejection]]:
    records, lines, rejected = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, problem = _parse_json_line(line)
        if problem:
            rejected.append(Rejection(number, problem, line[:2000]))
            continue
        records.append(value)
        lines.append(number)
    return records, np.array(lines, dtype=np.int64), rejected


MAX_DEPTH = 1000      # Python's json stops near its recursion limit; no event record nests this deep


# The C scanner ``json.loads`` runs once its checks pass (a decoder with the defaults, as json.loads's own).
_SCAN_JSON_VALUE = json.JSONDecoder().scan_once


def _parse_json_line(line: str) -> tuple[dict | None, str]:
    """(the object on one line, ""), or (None, why the line is not a record).

    A line the scanner reads whole from its first character is exactly what ``json.loads`` returns
    for it (``JSONDecoder.decode``: no BOM, no leading or trailing whitespace, one value); skipping
    the checks' Python frames reads ~1.6x faster. Any other line takes ``json.loads`` itself, for
    its value or its message.

    >>> _parse_json_line('{"a": 1}'), _parse_json_line(' {"a": 1.0} ')
    (({'a': 1}, ''), ({'a': 1.0}, ''))
    >>> _parse_json_line('{"a": 1}}'), _parse_json_line('[1]')
    ((None, 'not valid JSON (Extra data)'), (None, 'not a JSON object'))
    """
    try:
        value, end = _SCAN_JSON_VALUE(line, 0)
    except (StopIteration, ValueError, RecursionError):
        end = -1
    if end == len(line):
        return (value, "") if isinstance(value, dict) else (None, "not a JSON object")
    return _parse_json_line_checked(line)


def _parse_json_line_checked(line: str) -> tuple[dict | None, str]:
    """``_parse_json_line`` by ``json.loads`` (any line; the message of a broken one)."""
    try:
        value = json.loads(line)
    except RecursionError:
        return None, f"JSON nested more than about {MAX_DEPTH} levels deep"
    except ValueError as exc:
        return None, f"not valid JSON ({getattr(exc, 'msg', exc)})"
    if not isinstance(value, dict):
        return None, "not a JSON object"
    return value, ""


def _decoded(path: str) -> str:
    with open_binary(path) as stream:
        raw = stream.read()
    if not raw.strip():
        raise InputError("the file is empty", file=path)
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("the JSON text is neither UTF-8 nor UTF-16", file=path)


class JsonReader(InMemoryReader):
    """Generic JSON / JSON Lines: nested objects flattened to "a.b" columns, lists kept as JSON
    text; values keep their JSON type (an integer stays an integer)."""

    fixed_mapping = None

    def __init__(self, path: str, shape: str):
        with collection_paused():
            self._read(path, shape)

    def _read(self, path: str, shape: str) -> None:
        self.path, self.format = path, shape
        records, self._lines, self._rejected = read_json_records(path, shape)
        if not records:
            raise InputError("no JSON records found" + (f" ({len(self._rejected)} broken lines)"
                                                         if self._rejected else ""), file=path)
        try:
            flat = [vendors.flatten(r) for r in records]
        except RecursionError:
            raise InputError(f"a JSON record is nested too deeply to read (about {MAX_DEPTH} levels)",
                             file=path) from None
        self._frame = pd.DataFrame(flat, dtype=object)


# --- vendors -------------------------------------------------------------------------------------


class VendorReader:
    """A vendor export: records normalised to canonical columns by ``vendors.NORMALISERS``."""

    def __init__(self, path: str, fmt: str, options: ImportOptions | None = None):
        with collection_paused():
            self._read(path, fmt, options or ImportOptions())

    def _read(self, path: str, fmt: str, options: ImportOptions) -> None:
        self.path, self.format = path, fmt
        records, lines, rejected = self._records(path, fmt)
        try:
            normalised = vendors.NORMALISERS[fmt](records, timezone=options.timezone)
        except RecursionError:
            raise InputError(f"a {fmt} record is nested too deeply to read (about {MAX_DEPTH} levels)",
                             file=path) from None
        del records                     # only the normalised rows are needed from here on
        dropped = set(options.drop_columns)
        self._trait_names = sorted({name for values in normalised.traits.values() for name in values})
        self._traits = {user: {k: v for k, v in values.items() if k not in dropped}
                        for user, values in normalised.traits.items()}
        self._rejected = rejected
        if not normalised.rows and normalised.not_events:
            raise InputError(f"the file holds {normalised.not_events:,} {fmt} records that describe users "
                             "(identify, alias, group) and no events", file=path)
        self._frame = normalised.frame()
        normalised.rows.clear()
        self._lines = lines[normalised.kept] if len(lines) else lines
        self.records_not_events = normalised.not_events
        self.notes = normalised.notes
        self.fixed_mapping = ColumnMapping(**{**VENDOR_MAPPING.__dict__, "time_format": normalised.time_format})

    def name_properties_with_container(self) -> None:
        """Name the event's own properties "properties.plan", as projects imported them before they
        were named bare: a project holding such names keeps one name per property across imports."""
        if self.format not in vendors.BARE_PROPERTIES:
            return
        rename = {}
        for column in self._frame.columns:
            if column in vendors.CANONICAL or column.startswith("context."):
                continue
            rename[column] = "properties." + column.removeprefix("source.")
        self._frame = self._frame.rename(columns=rename)

    @staticmethod
    def _records(path: str, fmt: str):
        if fmt == "amplitude" and _is_zip(path):
            return _amplitude_zip_records(path)
        return read_json_records(path, json_shape(_head_text(path)))

    def trait_columns(self) -> list[str]:
        """Names of the user traits (``traits.email``), which ``--drop-columns`` may name too."""
        return list(self._trait_names)

    def columns(self) -> list[str]:
        return list(self._frame.columns)

    def preview(self, rows: int = 20) -> pd.DataFrame:
        return self._frame.head(rows)

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        return frame_chunks(self._frame, self._lines, chunk_rows, self._rejected)

    def user_traits(self) -> dict[str, dict]:
        return self._traits


def _is_zip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4).startswith(ZIP_MAGIC)


def _amplitude_zip_records(path: str):
    """Amplitude's export: a zip of gzipped JSON-lines files (one per hour)."""
    records, lines, rejected = [], [], []
    record_number = 0
    try:
        archive = zipfile.ZipFile(path)
    except ARCHIVE_ERRORS as exc:
        raise InputError(f"not a readable zip archive ({exc})", file=path) from None
    with archive:
        for member in sorted(zip_members(path)):
            # Streamed line by line: an hour's file is never held whole, and the guard bounds it.
            with open_zip_member(archive, member, path) as stream:
                for raw in stream:
                    line = _decode_line(raw, member, path)
                    if not line.strip():
                        continue
                    record_number += 1
                    value, problem = _parse_json_line(line)
                    if problem:
                        rejected.append(Rejection(record_number, f"{problem} in {member}", line[:2000]))
                        continue
                    records.append(value)
                    lines.append(record_number)
    return records, np.array(lines, dtype=np.int64), rejected


def _decode_line(raw: bytes, member: str, path: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"member {member} is not UTF-8 text ({exc.reason} at byte {exc.start} of a line)",
                         file=path) from None


# --- Excel and Parquet ---------------------------------------------------------------------------


class ExcelReader:
    """An .xlsx sheet (the first, or a named one); line numbers are spreadsheet rows.

    calamine, a compiled reader, parses the sheet when the file is opened (332k rows x 10 columns: ~5-12
    s, where openpyxl took ~200 s: even its streaming mode parses the whole sheet to size it when the
    file does not say its dimensions). Only the header and the first ``HEAD_ROWS`` rows become Python
    values then, so the columns are checked, and a mapping that needs the user's word is refused, before
    the rows are; ``chunks`` turns the rest into frames one chunk at a time. Without calamine installed,
    openpyxl reads the sheet as before, slowly.
    """

    fixed_mapping = None
    HEAD_ROWS = 5_000

    def __init__(self, path: str, sheet: str | None):
        self.path, self.format = path, "xlsx"
        check_archive_expansion(path, "the workbook", "Excel workbook")    # an .xlsx is a zip: the .zip guard
        try:
            self.sheet, self._cells = _calamine_sheet(path, sheet)
            rows = list(itertools.islice(self._rows(), self.HEAD_ROWS + 1))
        except ImportError:
            self.sheet, self._cells = _openpyxl_head(path, sheet, self.HEAD_ROWS + 1)
            rows = self._cells
        self._whole_sheet_in_head = len(rows) <= self.HEAD_ROWS
        if self._whole_sheet_in_head:
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
        if not rows:
            raise InputError("the sheet is empty", file=path)
        self._header = [str(v).strip() if v is not None else f"Unnamed: {i}" for i, v in enumerate(rows[0])]
        self._head = self._frame(rows[1:])

    def columns(self) -> list[str]:
        return list(self._header)

    def preview(self, rows: int = 20) -> pd.DataFrame:
        """The first ``rows`` rows, at most ``HEAD_ROWS``."""
        return self._head.head(rows)

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        if self._whole_sheet_in_head:
            yield from frame_chunks(self._head, np.arange(2, len(self._head) + 2, dtype=np.int64), chunk_rows)
            return
        body = _without_trailing_blanks(self._rows())
        next(body, None)          # the header
        lines, rows = 2, []
        for row in body:
            rows.append(row)
            if len(rows) == chunk_rows:
                yield SourceChunk(self._frame(rows), np.arange(lines, lines + len(rows), dtype=np.int64), [])
                lines, rows = lines + len(rows), []
        # Every row is a Python value now: calamine's copy of the sheet (~200 MB for 332k rows) goes
        # before the last chunk is encoded; another pass parses the file again.
        body = None
        self._cells = None if not isinstance(self._cells, list) else self._cells
        if rows or lines == 2:          # an empty sheet body still yields one chunk
            yield SourceChunk(self._frame(rows), np.arange(lines, lines + len(rows), dtype=np.int64), [])

    def user_traits(self) -> dict[str, dict]:
        return {}

    def _frame(self, rows: list[list]) -> pd.DataFrame:
        width = len(self._header)
        for r in rows:            # in place: a second copy of 332k rows is a few hundred MB
            r[:] = [_excel_value(v) for v in r[:width]] + [None] * (width - len(r))
        return pd.DataFrame(rows, columns=self._header, dtype=object)

    def _rows(self) -> Iterator[list]:
        """Every row of the sheet from its first (A1's) on, cells as openpyxl gives them."""
        if isinstance(self._cells, list):           # no calamine: openpyxl again, from the top
            return _openpyxl_rows(self.path, self.sheet)
        if self._cells is None:
            self._cells = _calamine_sheet(self.path, self.sheet)[1]
        top, left = self._cells.start or (0, 0)
        texts: dict[str, str] = {}
        return _from_first_row((_calamine_row(row, left, texts) for row in self._cells.iter_rows()), top)


def _calamine_sheet(path: str, sheet: str | None):
    """(name, calamine's parsed sheet): the named sheet or the first worksheet (chart sheets left out)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum
    try:
        workbook = CalamineWorkbook.from_path(path)
    except Exception as exc:  # noqa: BLE001 - calamine raises its own kinds for a broken file
        raise InputError(f"not a readable Excel workbook ({type(exc).__name__}: {exc})", file=path) from None
    try:
        names = workbook.sheet_names
        if sheet is not None and sheet not in names:
            raise InputError(f"no sheet named '{sheet}' (sheets: {', '.join(names)})", file=path)
        worksheets = [s.name for s in workbook.sheets_metadata if s.typ == SheetTypeEnum.WorkSheet]
        if sheet is None and not worksheets:
            raise InputError("the workbook has no sheets", file=path)
        name = sheet or worksheets[0]
        try:
            return name, workbook.get_sheet_by_name(name)
        except Exception as exc:  # noqa: BLE001 - calamine raises its own kinds for a broken sheet
            raise InputError(f"the sheet '{name}' is damaged ({type(exc).__name__}: {exc})", file=path) from None
    finally:
        workbook.close()


def _openpyxl_head(path: str, sheet: str | None, rows: int) -> tuple[str, list[list]]:
    """(sheet name, its first ``rows`` rows) read by openpyxl."""
    from openpyxl import load_workbook
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise InputError(f"not a readable Excel workbook ({type(exc).__name__}: {exc})", file=path) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise InputError(f"no sheet named '{sheet}' (sheets: {', '.join(workbook.sheetnames)})", file=path)
        if not workbook.worksheets:
            raise InputError("the workbook has no sheets", file=path)
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        try:       # read-only sheets are parsed as they are read: damage shows up here
            return worksheet.title, [list(r) for r in worksheet.iter_rows(max_row=rows, values_only=True)]
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken sheet
            raise InputError(f"the sheet '{worksheet.title}' is damaged ({type(exc).__name__}: {exc})",
                             file=path) from None
    finally:
        workbook.close()


def _openpyxl_rows(path: str, sheet: str) -> Iterator[list]:
    from openpyxl import load_workbook
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for row in workbook[sheet].iter_rows(values_only=True):
            yield list(row)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken sheet
        raise InputError(f"the sheet '{sheet}' is damaged ({type(exc).__name__}: {exc})", file=path) from None
    finally:
        workbook.close()


def _calamine_row(row: list, left: int, texts: dict[str, str]) -> list:
    """A calamine row as openpyxl gives it: empty cells None, whole numbers int (calamine reads every
    number as a float: customer number 10234 must not become '10234.0'), dates as midnight datetimes,
    and the empty columns left of the data restored. Equal texts become one object, kept in ``texts``
    (calamine makes a new string per cell: 332k rows of event names, regions and ids took ~250 MB)."""
    cells = [None] * left
    for value in row:
        kind = type(value)
        if kind is str:
            cells.append(texts.setdefault(value, value) if value else None)
        elif kind is float and value.is_integer():
            cells.append(int(value))
        elif kind is date:
            cells.append(datetime(value.year, value.month, value.day))
        else:
            cells.append(value)
    return cells


def _from_first_row(rows: Iterator[list], top: int) -> Iterator[list]:
    """The rows from the sheet's first row on. calamine's rows start at the sheet's first row and its
    columns at the data's first column (``_calamine_row`` pads those); should its rows start at the
    data's first row instead, its first row holds a value and the empty rows above are put back."""
    first = next(rows, None)
    if first is None:
        return
    if top > 0 and any(v is not None for v in first):
        yield from ([None] * len(first) for _ in range(top))
    yield first
    yield from rows


def _without_trailing_blanks(rows: Iterator[list]) -> Iterator[list]:
    """The rows, less the empty ones at the end (held back until a row with a value follows them)."""
    blanks = []
    for row in rows:
        if all(v is None for v in row):
            blanks.append(row)
            continue
        yield from blanks
        blanks.clear()
        yield row


def _plain_nested(value):
    """pyarrow's Python form of a nested value, JSON-ready (maps arrive as lists of key/value pairs)."""
    if isinstance(value, dict):
        return {str(k): _plain_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_nested(v) for v in value]
    return value


def _excel_value(value: Any) -> Any:
    """Datetimes become ISO text (naive: read in the import's timezone), the rest stays."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class ParquetReader:
    """Parquet via pyarrow, streamed by record batches."""

    fixed_mapping = None

    def __init__(self, path: str):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError("Parquet needs pyarrow, which this installation lacks: pip install pyarrow",
                             file=path) from None
        self.path, self.format = path, "parquet"
        try:
            self._file = pq.ParquetFile(pa.OSFile(os.fsencode(path)))     # by its bytes: a non-UTF-8 name opens too
        except Exception as exc:  # noqa: BLE001 - pyarrow's errors vary by damage
            raise InputError(f"not a readable Parquet file ({exc})", file=path) from None

    def columns(self) -> list[str]:
        return list(self._file.schema_arrow.names)

    def preview(self, rows: int = 20) -> pd.DataFrame:
        batch = next(self._batches(rows), None)
        return self._frame(batch) if batch is not None else pd.DataFrame(columns=self.columns())

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        line = 1
        for batch in self._batches(chunk_rows):
            frame = self._frame(batch)
            yield SourceChunk(frame, np.arange(line, line + len(frame), dtype=np.int64))
            line += len(frame)

    def _batches(self, size: int):
        """Record batches; damage found in a row group (a bad page, a cut file) said as a message."""
        import pyarrow as pa
        batches, read = self._file.iter_batches(batch_size=size), 0
        while True:
            try:
                batch = next(batches, None)
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise InputError(f"the Parquet data is damaged after row {read:,} ({exc})", file=self.path) from None
            if batch is None:
                return
            read += batch.num_rows
            yield batch

    @staticmethod
    def _frame(batch) -> pd.DataFrame:
        """The batch as pandas, with list/struct/map columns as JSON text (like JSON's lists)."""
        import pyarrow.types as types
        frame = batch.to_pandas()
        for field in batch.schema:
            if types.is_nested(field.type):
                frame[field.name] = [None if v is None else json.dumps(_plain_nested(v), ensure_ascii=False, default=str)
                                     for v in batch.column(field.name).to_pylist()]
        return frame

    def user_traits(self) -> dict[str, dict]:
        return {}
