"""Hostile and damaged inputs for the readers (issue 15: items 3, 6, 7, 9, 11): each one a message
naming the file, or the bad rows rejected at their true lines; never a traceback, bounded memory."""
from __future__ import annotations

import gzip
import io
import random
import time
import tracemalloc
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journey_explorer.domain import ImportOptions, InputError, JourneyError
from journey_explorer.io import arrow_csv
from journey_explorer.io.opening import ExpansionLimits, set_expansion_limits
from journey_explorer.io.sources import DelimitedReader, open_source
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

ROW = "u1,click,2024-01-01T00:00:00Z\n"


@pytest.fixture
def small_limits():
    set_expansion_limits(ExpansionLimits(max_bytes=4 << 20, max_ratio=1e9, ratio_floor=0))
    yield
    set_expansion_limits(None)


def read_all(reader):
    """Everything a reader yields, as the importer asks for it."""
    reader.columns()
    reader.preview()
    rows = [chunk for chunk in reader.chunks(1000)]
    reader.user_traits()
    return rows


def rejected_lines(project):
    with Project.open(project) as p:
        return [line for (line,) in p.conn.execute("SELECT line FROM rejected_rows ORDER BY line")]


# --- 3. decompression bombs ----------------------------------------------------------------------


def zip_of(path, name, data: bytes):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return path


@pytest.mark.parametrize("wrapper", ["zip", "gz", "zip of gz"])
def test_a_member_expanding_past_the_size_limit_is_refused_with_little_memory(tmp_path, small_limits, wrapper):
    text = ("user,event,time\n" + ROW * 1_200_000).encode()        # 36 MB, compresses ~500:1
    if wrapper == "zip":
        path = zip_of(tmp_path / "archive.zip", "events.csv", text)
    elif wrapper == "gz":
        path = tmp_path / "archive.csv.gz"
        path.write_bytes(gzip.compress(text))
    else:
        path = zip_of(tmp_path / "archive.zip", "events.csv.gz", gzip.compress(text))
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"archive\.(zip|csv\.gz) expands to more than 0\.00391 GB .*refused"):
        read_all(open_source(str(path)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - started < 10
    assert peak < 20 << 20, f"peak {peak / 1e6:.0f} MB for a 4 MB limit: a member was read whole"


def test_ratio_guard_refuses_a_dense_member_below_the_size_limit(tmp_path):
    path = zip_of(tmp_path / "bomb.zip", "events.csv", ("user,event,time\n" + ROW * 300_000).encode())
    set_expansion_limits(ExpansionLimits(max_bytes=1 << 40, max_ratio=20, ratio_floor=1 << 20))
    try:
        with pytest.raises(InputError, match=r"bomb\.zip expands to more than 20 times .*ratio"):
            read_all(open_source(str(path)))
    finally:
        set_expansion_limits(None)


def test_an_ordinary_zip_within_the_limits_reads_every_row(tmp_path, small_limits):
    path = zip_of(tmp_path / "fine.zip", "events.csv", ("user,event,time\n" + ROW * 1000).encode())
    assert sum(len(chunk.frame) for chunk in read_all(open_source(str(path)))) == 1000


# --- 6. wide headers and endless lines -----------------------------------------------------------


def test_a_header_wider_than_the_sniffing_window_keeps_columns_aligned(tmp_path):
    names = ["user", "event", "time"] + [f"property_{i:05d}" for i in range(5000)]      # ~75 KB header
    rows = [["u1", "click", "2024-01-01T00:00:00Z"] + [str(i) for i in range(5000)]] * 3
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(",".join(r) for r in [names, *rows]) + "\n")
    reader = open_source(str(path))
    assert reader.columns() == names
    (chunk,) = read_all(reader)
    assert chunk.rejected == [] and len(chunk.frame) == 3
    assert chunk.frame["property_04999"].tolist() == ["4999"] * 3
    assert chunk.lines.tolist() == [2, 3, 4]


def test_ten_megabytes_without_a_line_break_are_refused_quickly(tmp_path):
    path = tmp_path / "endless.csv"
    path.write_bytes(b"a," * (5 << 20))
    started = time.perf_counter()
    with pytest.raises(InputError, match="first line is longer than 8 MB"):
        read_all(open_source(str(path)))
    assert time.perf_counter() - started < 10


# --- 11. positions -------------------------------------------------------------------------------


def test_invalid_utf8_far_down_is_rejected_at_its_own_line_and_the_rest_kept(tmp_path):
    lines = [b"user,event,time"] + [b"u%d,click,2024-01-01T00:00:00Z" % i for i in range(6000)]
    lines[5001] = b"u\xff\xfe,click,2024-01-01T00:00:00Z"          # line 5,002 of the file
    path = tmp_path / "latin.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    chunks = read_all(open_source(str(path)))
    assert [(r.line, "UTF-8" in r.reason) for c in chunks for r in c.rejected] == [(5002, True)]
    assert sum(len(c.frame) for c in chunks) == 5999
    project = tmp_path / "p.journey"
    summary = import_file(project, path)
    assert summary.imported == 5999 and rejected_lines(project) == [5002]


def test_line_numbers_after_a_quoted_multiline_field(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text('user,event,time\n'
                    'u1,"two\nlines",2024-01-01T00:00:00Z\n'      # lines 2-3
                    'u2,click,2024-01-01T00:00:01Z\n'             # line 4
                    'u3,click,2024-01-01T00:00:02Z,extra\n'       # line 5: ragged
                    'u4,click,not a time\n'                        # line 6: a bad time
                    'u5,click,2024-01-01T00:00:03Z\n')             # line 7
    (chunk,) = read_all(open_source(str(path)))
    assert chunk.lines.tolist() == [2, 4, 6, 7]
    assert [r.line for r in chunk.rejected] == [5]
    project = tmp_path / "p.journey"
    import_file(project, path, ImportOptions(user="user", event="event", time="time"))
    assert rejected_lines(project) == [5, 6]


def test_a_bom_in_the_middle_of_a_file_is_not_part_of_the_user(tmp_path):
    first = "\ufeffuser,event,time\nu1,a,2024-01-01T00:00:00Z\n"
    second = "\ufeffu1,b,2024-01-01T00:00:01Z\n\ufeffu2,c,2024-01-01T00:00:02Z\n"
    path = tmp_path / "joined.csv"
    path.write_bytes((first + second).encode("utf-8"))
    (chunk,) = read_all(open_source(str(path)))
    assert chunk.frame["user"].tolist() == ["u1", "u1", "u2"]
    with pytest.raises(arrow_csv.NotSimple, match="byte order mark"):      # the fast path hands it on
        list(arrow_csv.record_batches(DelimitedReader(str(path))))
    summary = import_file(tmp_path / "p.journey", path)
    assert summary.users == 2


# --- 9. hostile JSON and lists as users ----------------------------------------------------------


def test_deeply_nested_json_document_is_a_message(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        read_all(open_source(str(path)))


def test_deeply_nested_json_line_is_rejected_and_the_others_kept(tmp_path):
    path = tmp_path / "deep.jsonl"
    good = '{"user": "u1", "event": "a", "time": "2024-01-01T00:00:00Z"}'
    path.write_text(good + "\n" + '{"user": ' + "[" * 100_000 + "]" * 100_000 + "}\n" + good + "\n")
    chunks = read_all(open_source(str(path)))
    assert [(r.line, "nested" in r.reason) for c in chunks for r in c.rejected] == [(2, True)]
    assert sum(len(c.frame) for c in chunks) == 2


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_a_list_as_the_user_is_imported_as_its_text(tmp_path, kind):
    if kind == "jsonl":
        path = tmp_path / "list.jsonl"
        path.write_text('{"user": ["a", "b"], "event": "x", "time": "2024-01-01T00:00:00Z"}\n'
                        '{"user": "c", "event": "y", "time": "2024-01-01T00:00:01Z"}\n')
    else:
        path = tmp_path / "list.parquet"
        pq.write_table(pa.table({"user": [["a", "b"], ["c"]], "event": ["x", "y"],
                                 "time": ["2024-01-01T00:00:00Z"] * 2}), path)
    summary = import_file(tmp_path / "p.journey", path, ImportOptions(user="user", event="event", time="time"))
    assert summary.imported == 2 and summary.users == 2


# --- 7. damaged compressed data (seeded mutator) -------------------------------------------------


def sample_files(tmp_path):
    """Small valid files of every compressed kind, each a few KB."""
    rows = "user,event,time\n" + "".join(f"u{i % 7},e{i % 5},2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z\n"
                                         for i in range(400))
    jsonl = "".join(f'{{"user": "u{i % 7}", "event": "e{i % 5}", "time": "2024-01-01T00:00:{i % 60:02d}Z"}}\n'
                    for i in range(300))
    amplitude = "".join(f'{{"user_id": "u{i}", "event_type": "e", "event_time": "2024-01-01 00:00:0{i % 9}.000000",'
                        f' "uuid": "id{i}"}}\n' for i in range(200))
    files = {}
    files["events.csv.gz"] = gzip.compress(rows.encode())
    files["events.jsonl.gz"] = gzip.compress(jsonl.encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("events.csv", rows)
    files["events.zip"] = buffer.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("1/2024-01-01_0.json.gz", gzip.compress(amplitude.encode()))
        archive.writestr("1/2024-01-01_1.json.gz", gzip.compress(amplitude.encode()))
    files["amplitude.zip"] = buffer.getvalue()
    return files


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Damage past the first 30 bytes (the headers stay readable, the data does not)."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        action = rng.random()
        at = rng.randrange(30, len(data))
        if action < 0.6:
            data[at] = rng.randrange(256)
        elif action < 0.8:
            del data[at:at + rng.randint(1, 64)]
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def test_damaged_compressed_files_give_only_the_apps_errors(tmp_path):
    rng = random.Random(15)
    outcomes = {"read": 0, "message": 0}
    for name, data in sample_files(tmp_path).items():
        for case in range(60):
            path = tmp_path / f"{case}-{name}"
            path.write_bytes(mutate(data, rng))
            try:
                read_all(open_source(str(path)))
                outcomes["read"] += 1
            except JourneyError as exc:
                assert str(path) in str(exc), str(exc)
                outcomes["message"] += 1
            path.unlink()
    assert outcomes["message"] > 60, outcomes       # most damage is noticed, and said


def test_every_reader_under_seeded_mutation_raises_only_the_apps_errors():
    """A short run of benchmarks/fuzz_readers.py (the long run takes ~1 minute for 10,000 cases)."""
    import importlib.util
    from pathlib import Path
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_readers.py"
    spec = importlib.util.spec_from_file_location("fuzz_readers", script)
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    assert fuzz.run(cases=19 * 20, seed=7) == 0


def test_a_header_longer_than_the_csv_field_limit_is_sniffed(tmp_path):
    names = ["user", "event", "time"] + [f"property_{i:05d}" for i in range(20_000)]      # ~300 KB
    path = tmp_path / "wider.csv"
    path.write_text(",".join(names) + "\n" + ",".join(["u1", "click", "2024-01-01"] + ["1"] * 20_000) + "\n")
    reader = DelimitedReader(str(path))
    assert reader.delimiter == "," and reader.columns() == names


def test_a_zip_of_several_tables_names_the_amplitude_format_for_each_audience(tmp_path):
    from journey_explorer.cli.arguments import cli_message
    from journey_explorer.io.opening import open_binary
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.csv", "user,event,time\n")
        zipped.writestr("b.csv", "user,event,time\n")
    with pytest.raises(InputError) as refused:
        open_binary(str(archive))
    assert str(refused.value).endswith("the zip holds 2 files; expected one table "
                                       "(or an Amplitude export: set the file format to amplitude)")
    assert cli_message(refused.value).endswith("(or an Amplitude export: set --format to amplitude)")
