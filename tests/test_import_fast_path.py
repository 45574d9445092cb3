"""The pyarrow fast path for plain CSV gives byte-for-byte the project the pandas path gives.

Each file is imported twice, with and without pyarrow, and every table and cache blob compared.
Files the fast path must not read (ragged lines, records spanning lines) check
that it steps aside; the others check it ran.
"""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.io import arrow_csv
from journey_explorer.store import importer

pytest.importorskip("pyarrow")

HEADER = "user_id,event,timestamp\n"
ROWS = "".join(f"u{i % 7},e{i % 5},2024-01-0{1 + i % 9}T10:{i % 60:02d}:00Z\n" for i in range(120))
REJECTS = (HEADER + "u9,e1,notatime\n,e1,2024-01-01T00:00:00Z\n  ,e2,2024-01-01T00:00:00Z\n"
           "u1,,2024-01-01T00:00:00Z\nu1,e1,\n\"u,2\",\"e 1\",2024-01-02T00:00:00Z\n\x1c,e1,2024-01-01T00:00:00Z\n"
           "u9,e3,2024-01-03T00:00:00Z\n" + ROWS)

FAST = {
    "property columns": "user_id,event,timestamp,plan,amount\n" + ROWS.replace("Z\n", "Z,pro,12.5\n"),
    "rejected rows, quoted cells, a user first seen in a rejected row": REJECTS,
    "blank lines, also at the end": HEADER + ROWS + "\n" + ROWS + "\n",
    "duplicates and padded values": HEADER + "u1 ,e1,2024-01-01T00:00:00Z\n u1,e1 ,2024-01-01T00:00:00Z\n" + ROWS + ROWS,
    "naive, offset and sub-millisecond times": HEADER + ROWS.replace("Z\n", "\n", 30).replace("Z\n", "+02:00\n", 30)
    .replace(":00Z", ":00.123456789Z"),
    "year 0 and an hour of 24": HEADER + "u1,e1,0000-01-01T00:00:00Z\nu2,e1,2024-12-31T24:00:00Z\n" + ROWS,
    "day-first dates": HEADER + "".join(f"u{i % 7},e{i % 5},{1 + i % 28:02d}/01/2024 10:00\n" for i in range(120)),
    "epoch seconds": HEADER + "".join(f"u{i % 7},e{i % 5},{1700000000 + i}\n" for i in range(120)),
    "session column": "user_id,event,timestamp,session_id\n" + "".join(
        f"u{i % 7},e{i % 5},2024-01-0{1 + i % 9}T10:{i % 60:02d}:00Z,{'' if i % 11 == 0 else f's{i % 13}'}\n"
        for i in range(120)),
    "CRLF, semicolons, no final newline": (HEADER + ROWS).replace(",", ";").replace("\n", "\r\n").rstrip(),
    "no header": ROWS,
}
SLOW = {
    "ragged line": HEADER + ROWS + "u1,e1,2024-01-01T00:00:00Z,extra\n" + ROWS,
    # files joined with cat: the pandas path strips the mark from the cell it starts
    "a byte order mark inside": HEADER + ROWS + "\ufeffu1,e1,2024-01-01T00:00:00Z\n" + ROWS,
    "short line": HEADER + ROWS + "u1,e1\n" + ROWS,
    "record spanning lines": HEADER + "\"u\n1\",e1,2024-01-01T00:00:00Z\n" + ROWS,
    # Arrow ends a record at a bare CR, the line count does not: with a quoted newline the two
    # counts could agree while the line numbers in between are off.
    "bare CR": HEADER + "\"u\n1\",e1,2024-01-01T00:00:00Z\nu2,,2024-01-01T00:00:00Z\ru3,e1,2024-01-01T00:00:00Z\n",
}


def project_contents(path: Path) -> dict:
    conn = sqlite3.connect(path)
    tables = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
              for t in ("users", "event_types", "event_chunks", "rejected_rows", "log_cache")}
    tables["sources"] = conn.execute("SELECT rows_read, imported, duplicates, rejected, mapping FROM sources").fetchall()
    conn.close()
    return tables


def import_both_ways(tmp_path: Path, text: str, monkeypatch, options: ImportOptions | None = None):
    """(fast path used?, project contents with pyarrow, project contents without)."""
    source = tmp_path / "events.csv"
    source.write_bytes(text.encode("utf-8"))
    monkeypatch.setattr(importer.secrets, "token_hex", lambda n: "ab" * n)     # same pseudonym key
    used = []       # what the fast path said each time: its result taken (True) or the pandas path's
    real = importer.run._read_fast
    monkeypatch.setattr(importer.run, "_read_fast", lambda *args: used.append(real(*args)) or used[-1])
    results = []
    for name, pyarrow in (("fast", arrow_csv.pa), ("pandas", None)):
        monkeypatch.setattr(arrow_csv, "pa", pyarrow)
        try:
            summary = importer.import_file(tmp_path / f"{name}.journey", source, options)
            results.append((summary.imported, summary.rejected, project_contents(tmp_path / f"{name}.journey")))
        except InputError as exc:
            results.append(str(exc))
        if name == "fast":
            fast_used = any(used)
    return fast_used, results[0], results[1]


@pytest.mark.parametrize("case", list(FAST))
def test_fast_path_matches_pandas_path(tmp_path, monkeypatch, case):
    # Without a header the columns are guessed from values alone, which must be confirmed.
    options = ImportOptions(user="column_1", event="column_2", time="column_3") if case == "no header" else None
    fast_used, fast, slow = import_both_ways(tmp_path, FAST[case], monkeypatch, options)
    assert fast_used
    assert fast == slow


@pytest.mark.parametrize("case", ["rejected rows, quoted cells, a user first seen in a rejected row",
                                  "naive, offset and sub-millisecond times", "year 0 and an hour of 24"])
def test_time_columns_split_into_pieces_pyarrow_can_cast(tmp_path, monkeypatch, case):
    monkeypatch.setattr(importer, "SMALLEST_TIME_PIECE", 3)
    fast_used, fast, slow = import_both_ways(tmp_path, FAST[case], monkeypatch)
    assert fast_used
    assert fast == slow


@pytest.mark.parametrize("case", list(SLOW))
def test_fast_path_steps_aside(tmp_path, monkeypatch, case):
    fast_used, fast, slow = import_both_ways(tmp_path, SLOW[case], monkeypatch)
    assert not fast_used
    assert fast == slow


@pytest.mark.parametrize("case", list(SLOW))
def test_fast_path_steps_aside_when_the_line_count_comes_after_the_encoding(tmp_path, monkeypatch, case):
    """The digest (line count) runs behind the reading: when it is not known at the end of the
    reading, the rows are encoded first and checked after (an error in between, from line numbers
    that are off, sends the file to the pandas path too)."""
    from journey_explorer.store.importer import run
    monkeypatch.setattr(run._Digest, "done", lambda self: False)
    fast_used, fast, slow = import_both_ways(tmp_path, SLOW[case], monkeypatch)
    assert not fast_used and fast == slow


@pytest.mark.parametrize("options", [ImportOptions(pseudonymize=True), ImportOptions(timezone="Europe/Amsterdam"),
                                     ImportOptions(timezone="Mars/Olympus"), ImportOptions(chunk_rows=7)])
def test_fast_path_honours_options(tmp_path, monkeypatch, options):
    text = REJECTS + ROWS.replace("Z\n", "\n")
    fast_used, fast, slow = import_both_ways(tmp_path, text, monkeypatch, options)
    assert fast == slow


def test_invalid_utf8_after_the_sniffed_head_is_rejected_the_same(tmp_path, monkeypatch):
    text = HEADER + ROWS * 600 + "u\udcff1,e1,2024-01-01T00:00:00Z\n"
    source = tmp_path / "bad.csv"
    source.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    outcomes = []
    for pyarrow in (arrow_csv.pa, None):
        monkeypatch.setattr(arrow_csv, "pa", pyarrow)
        summary = importer.import_file(tmp_path / f"{pyarrow is None}.journey", source)
        outcomes.append((summary.imported, summary.rejected, summary.reject_reasons))
    assert outcomes[0] == outcomes[1] and outcomes[0][1] == 1


CELLS = ["u1", "u2", " u1", "", "  ", "\"u,3\"", "\"\"", "e1", "\"e 1\"", "x\"y", "\"a\"\"b\"", "\x1c", "nan",
         "2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01 10:00:00+01:00", "2024-01-01", "1700000000",
         "03/04/2024", "2024-01-01T00:00:00.1234567Z", "0000-01-01T00:00:00Z", "2024-02-30T00:00:00Z"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.sampled_from(CELLS), min_size=2, max_size=4), max_size=10),
       newline=st.sampled_from(["\n", "\r\n", "\n\n"]), end=st.sampled_from(["", "\n", "\n\n"]))
def test_random_files_give_the_same_project_on_both_paths(tmp_path_factory, rows, newline, end):
    tmp_path = tmp_path_factory.mktemp("random")
    text = newline.join(["user_id,event,timestamp"] + [",".join(row) for row in rows]) + end
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(importer, "SMALLEST_TIME_PIECE", 2)     # split time columns down to pairs
        _, fast, slow = import_both_ways(tmp_path, text, monkeypatch)
    assert fast == slow


def test_time_format_is_detected_from_the_same_rows_on_both_paths(tmp_path, monkeypatch):
    """Wide rows put fewer rows in each Arrow batch than the pandas path's first chunk; the time format
    must still be decided on the same sample (here: the only day-first date is at line 1802)."""
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 64 << 10)
    dates = ["13/01/2024 10:00" if i == 1800 else f"{1 + i % 12:02d}/{1 + i % 12:02d}/2024 10:00" for i in range(2000)]
    text = "user_id,event,timestamp,payload\n" + "".join(f"u{i},e{i % 4},{d},{'x' * 200}\n" for i, d in enumerate(dates))
    fast_used, fast, slow = import_both_ways(tmp_path, text, monkeypatch, ImportOptions(drop_columns=("payload",)))
    assert fast_used
    assert fast == slow and fast[0] == 2000          # read day first on both paths, nothing rejected


def test_a_cancel_at_the_last_progress_call_still_leaves_the_project_as_it_was(tmp_path):
    from journey_explorer.domain import ImportCancelled
    source = tmp_path / "events.csv"
    source.write_text(HEADER + ROWS)
    project = tmp_path / "p.journey"
    importer.import_file(project, source)
    before = project.read_bytes()
    second = tmp_path / "more.csv"
    second.write_text(HEADER + ROWS.replace("u", "w"))

    def cancel_at_the_end(fraction, rows):
        if fraction >= 1.0:
            raise ImportCancelled()

    with pytest.raises(ImportCancelled):
        importer.import_file(project, second, progress=cancel_at_the_end)
    assert project.read_bytes() == before


@pytest.mark.parametrize("case", ["rejected rows, quoted cells, a user first seen in a rejected row",
                                  "duplicates and padded values", "session column"])
def test_users_of_the_first_half_encoded_while_the_rest_is_read_give_the_same_project(tmp_path, monkeypatch, case):
    """A large file's users are encoded in steps (the first half's on a thread while the second half
    is read, carried on to 3/4 and 7/8 of it): here every file counts as large and is read in many
    small batches, into a new project and into one holding users already. Each step is waited for,
    so the next share read carries it on."""
    from journey_explorer.store.importer import reading
    monkeypatch.setattr(reading, "HEAD_ROWS", 0)
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 512)
    monkeypatch.setattr(arrow_csv, "TWO_WAYS_ROWS", 0)      # the rest after the head: in two halves
    heads, pyarrow = [], arrow_csv.pa
    start_head = importer.Dictionary.start_head

    def finished_head(self, chunks, previous=None):
        heads.append("carried on" if previous is not None else "begun")
        head = start_head(self, chunks, previous)
        head.result()
        return head
    monkeypatch.setattr(importer.Dictionary, "start_head", finished_head)
    fast_used, fast, slow = import_both_ways(tmp_path, FAST[case], monkeypatch)
    assert fast_used and heads and fast == slow
    later = tmp_path / "later.csv"
    later.write_text(HEADER + "".join(f"v{i % 9},e{i % 4},2024-02-0{1 + i % 9}T11:{i % 60:02d}:00Z\n"
                                      for i in range(200)) + ROWS)
    contents = []
    for name, module in (("fast", pyarrow), ("pandas", None)):
        monkeypatch.setattr(arrow_csv, "pa", module)
        importer.import_file(tmp_path / f"{name}.journey", later)
        contents.append(project_contents(tmp_path / f"{name}.journey"))
    assert heads.count("begun") == 2 and "carried on" in heads and contents[0] == contents[1]


cells = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", " e", "é", ""]))


@settings(max_examples=300, deadline=None)
@given(seed=st.lists(st.sampled_from(["a", "b", "x", "y"]), unique=True),
       chunks=st.lists(st.lists(cells, max_size=6), min_size=2, max_size=6))
def test_two_way_dictionary_gives_the_codes_of_one_pass(seed, chunks):
    """The final users' step on two cores (two halves, then the second's new values matched to the
    first's) numbers every cell as one pass over the whole column does."""
    pa = arrow_csv.pa
    seed_values, arrays = pa.array(seed, type=pa.string()), [pa.array(c, type=pa.string()) for c in chunks]
    codes, values = arrow_csv.dictionary_codes_two_ways(seed_values, arrays, min_rows=0)
    one_codes, one_values = arrow_csv.dictionary_codes(seed_values, arrays)
    assert codes.tolist() == one_codes.tolist() and values.to_pylist() == one_values.to_pylist()


def test_may_strip_knows_every_character_python_strips():
    """``may_strip`` looks for the characters ``str.strip`` removes, at either end of a value."""
    spaces = "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())
    assert arrow_csv.PYTHON_SPACES == spaces
    values = [f"{space}a" for space in spaces] + [f"a{space}" for space in spaces] + [space for space in spaces]
    values += ["", "a", "a b", "\u200b", "é\u0301", "a\x00"]
    strippable = arrow_csv.may_strip(arrow_csv.pa.array(values))
    assert strippable.tolist() == [value.strip() != value or not value.strip() for value in values]


@pytest.mark.parametrize("offset", [-2, -1, 0, 5])
def test_the_digest_finds_a_byte_order_mark_across_its_blocks(tmp_path, offset):
    """The digest reads 4 MB blocks: a mark split between two is found too; one at the file's very
    start is the file's own (and does not stop the fast path)."""
    from journey_explorer.store.importer import run
    mark, block = "\ufeff".encode(), 4 << 20
    inside = tmp_path / "inside.csv"
    inside.write_bytes(b"a\n" * ((block + offset) // 2) + b"b" * ((block + offset) % 2) + mark + b"c\n")
    at_start = tmp_path / "start.csv"
    at_start.write_bytes(mark + b"a\n" * (block // 2 + 3))
    assert run._digest_and_lines(str(inside))[1] is None
    assert run._digest_and_lines(str(at_start))[1] == block // 2 + 3
