"""An .xlsx is opened on its header and first rows, and its rows are read only when imported (calamine):
the cells arrive as openpyxl gave them (whole numbers as ints, empty cells as missing), every row keeps its
spreadsheet row number, and a mapping that needs the user's word is refused before the sheet is read."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from journey_explorer.io.mapping import UnconfirmedMapping, guess_mapping
from journey_explorer.io.sources import open_source
from journey_explorer.io.structured import ExcelReader
from journey_explorer.store.importer import import_file
from tests.store.stored import stored_events


def workbook(path, rows, header=("customer", "action", "occurred_at", "amount"), origin=(1, 1)):
    """Write ``rows`` below ``header``, the header's first cell at (row, column) ``origin``."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(values):
            if value is not None:
                sheet.cell(row=origin[0] + r, column=origin[1] + c, value=value)
    book.save(path)
    return path


ROWS = [(10234, "open", datetime(2025, 9, 1, 10, 0), 12.5),
        (10234, "buy", date(2025, 9, 2), 30),
        (None, None, None, None),                          # an empty row inside the data: kept, rejected
        (10235, "open", "2025-09-03T08:00:00Z", None),
        (None, None, None, None)]                          # an empty row at the end: not a row at all


@pytest.fixture
def head_rows(monkeypatch):
    """Open workbooks on ``rows`` first rows, so that a small sheet is read by calamine too."""
    def use(rows: int):
        monkeypatch.setattr(ExcelReader, "HEAD_ROWS", rows)
    return use


@pytest.mark.parametrize("head", [1, 5_000])
def test_cells_and_row_numbers_are_the_same_whoever_reads_the_sheet(tmp_path, head_rows, head):
    head_rows(head)
    path = workbook(tmp_path / "events.xlsx", ROWS)
    summary = import_file(tmp_path / "p.journey", path)
    assert summary.imported == 3 and summary.rejected == 1
    assert summary.reject_examples["missing user"]["line"] == 4           # the spreadsheet's row number
    events = stored_events(tmp_path / "p.journey")
    assert [(e["user"], e["event"], e["properties"]) for e in events] == [
        ("10234", "open", {"amount": 12.5}), ("10234", "buy", {"amount": 30}), ("10235", "open", None)]
    assert [e["ts"] for e in events] == [1756720800000, 1756771200000, 1756886400000]   # 09-01 10:00, 09-02, 09-03 08:00


def test_a_table_that_starts_below_and_right_of_a1_reads_as_openpyxl_read_it(tmp_path, head_rows):
    path = workbook(tmp_path / "offset.xlsx", ROWS[:2], origin=(3, 2))
    whole = [chunk.frame.values.tolist() for chunk in ExcelReader(str(path), None).chunks(10)]
    head_rows(1)
    streamed = ExcelReader(str(path), None)
    assert [chunk.frame.values.tolist() for chunk in streamed.chunks(10)] == whole
    assert [list(chunk.lines) for chunk in streamed.chunks(2)] == [[2, 3], [4, 5]]


def test_a_guess_to_confirm_is_refused_before_the_sheet_is_read(tmp_path, head_rows, monkeypatch):
    head_rows(10)
    rows = [(f"c{i % 7}", ["a", "b", "c"][i % 3], f"2025-09-01T10:{i % 60:02d}:00Z", "x") for i in range(50)]
    path = workbook(tmp_path / "unnamed.xlsx", rows, header=("who", "what", "when", "note"))

    def all_rows(*_args):
        raise AssertionError("the rows below the head were read before the mapping was checked")
    monkeypatch.setattr(ExcelReader, "chunks", all_rows)
    with pytest.raises(UnconfirmedMapping):
        guess_mapping(open_source(str(path)))
