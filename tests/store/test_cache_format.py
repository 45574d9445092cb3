"""The compact cache format (schema 4) and the upgrade of projects that cached np.save blobs."""
from __future__ import annotations

import io
import json
import sqlite3

import numpy as np
import pytest

from journey_explorer.eventlog import LazyUserKeys
from journey_explorer.store.column_codec import (
    CACHE_COLUMNS,
    CHECK_NAME,
    cache_check,
    decode_column,
    encode_column,
    is_encoded,
)
from journey_explorer.store.errors import ProjectDamaged
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import KEY_SEPARATOR, Project, split_keys
from journey_explorer.store.properties import CODES_PREFIX
from journey_explorer.store.version import SCHEMA_VERSION
from tests.store.stored import flip_stored_byte

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("values, dtype", [
    (np.sort(RNG.integers(0, 3_000_000, 5000)), np.int32),               # rising: stored as steps
    (RNG.integers(1_700_000_000_000, 1_716_000_000_000, 5000), np.int64),  # times
    (RNG.permutation(5000), np.int64),                                   # ids in sorted order
    (RNG.integers(-2**63, 2**63 - 1, 5000, dtype=np.int64), np.int64),   # hashes, full range
    (np.array([-1, 5, -1, 2]), np.int64),                                # session keys
    (RNG.integers(0, 1000, 5000), np.int16),                             # sub_ms
    (np.array([], dtype=np.int64), np.int64),
    (np.array([42]), np.int32),
    (np.broadcast_to(np.int64(3), (10,)), np.int64),                     # a constant column
])
def test_columns_round_trip_exactly_with_their_dtype(values, dtype):
    blob = encode_column(values, dtype)
    back = decode_column(blob)
    assert is_encoded(blob) and back.dtype == dtype
    assert back.tolist() == np.asarray(values).tolist()
    back[:1] = 0        # a loaded column is the caller's to change


@pytest.mark.parametrize("values", [
    np.array([-2**31, 2**31 - 1, 0, -1], dtype=np.int32),        # falls: distance from the minimum, 32 bits
    np.array([-2**31, -5, 2**31 - 1], dtype=np.int32),            # rises: steps
    np.array([0, 2**16 - 1, 7], dtype=np.uint16),
    RNG.integers(-30_000, 30_000, 6000).astype(np.int16),        # compressed
])
def test_a_narrow_column_is_stored_as_its_int64_copy_would_be(values):
    """The steps or distances are worked out in the values' own width: the bytes are the same."""
    assert encode_column(values, np.int32) == encode_column(values.astype(np.int64), np.int32)
    assert decode_column(encode_column(values, np.int64)).tolist() == values.tolist()


def test_columns_encoded_in_one_scratch_array_are_stored_as_alone():
    """The import's cache columns share one work array; no column sees another's values."""
    columns = [np.sort(RNG.integers(0, 1000, 5000)), RNG.integers(1_700_000_000_000, 1_716_000_000_000, 5000),
               RNG.integers(-5, 5, 3000).astype(np.int32), np.array([7])]
    scratch = np.full(5000, 99, dtype=np.int64)
    for values in columns:
        assert encode_column(values, np.int64, scratch) == encode_column(values, np.int64)


def test_a_column_past_32_bits_keeps_its_high_part_apart():
    """Times over months: the low 32 bits (stored as they are) and a narrow high part (compressed)."""
    times = RNG.integers(1_700_000_000_000, 1_716_000_000_000, 20_000)
    header = json.loads(encode_column(times, np.int64)[8:].split(b"}", 1)[0] + b"}")
    assert [dtype for dtype, _, _ in header["parts"]] == ["<u4", "|u1"]
    assert [codec for _, codec, _ in header["parts"]] == ["none", "zstd"]
    assert decode_column(encode_column(times, np.int64)).tolist() == times.tolist()


def test_narrow_columns_take_little_room():
    users = np.sort(RNG.integers(0, 200_000, 1_000_000)).astype(np.int32)
    assert len(encode_column(users, np.int32)) < 0.05 * users.nbytes      # 1 byte a step, then compressed


@pytest.mark.parametrize("cut", [1, 200, 5000])
def test_a_cut_short_column_reads_as_a_value_error(cut):
    """(Changed bytes are the checksum's to find: ``load_arrays`` verifies it before decoding.)"""
    blob = encode_column(RNG.integers(0, 1 << 40, 10_000), np.int64)
    with pytest.raises(ValueError):
        decode_column(blob[:-cut])


def _as_schema_3(path) -> None:
    """Turn a project into what schema 3 wrote: np.save blobs under their checksum, user_version 3."""
    conn = sqlite3.connect(path)
    blobs = {}
    for name, data in conn.execute("SELECT name, data FROM log_cache").fetchall():
        if name in CACHE_COLUMNS or name.startswith(CODES_PREFIX):
            buffer = io.BytesIO()
            np.save(buffer, decode_column(data), allow_pickle=False)
            blobs[name] = buffer.getvalue()
            conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (blobs[name], name))
    check = json.loads(conn.execute("SELECT data FROM log_cache WHERE name = ?", (CHECK_NAME,)).fetchone()[0])
    check.update(cache_check({name: data for name, data in blobs.items() if name in CACHE_COLUMNS}))
    conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (json.dumps(check).encode(), CHECK_NAME))
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_compact_cache'")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()


@pytest.fixture
def project(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("user,event,time,plan\n" + "".join(
        f"u{i % 7},e{i % 3},2024-01-0{1 + i % 5}T10:00:{i % 60:02d}.{i:03d}456Z,{'pro' if i % 2 else ''}\n"
        for i in range(200)))
    path = tmp_path / "p.journey"
    import_file(path, source)
    return path


def test_a_schema_3_project_is_upgraded_to_compact_columns_with_the_same_events(project):
    with Project.open(project) as opened:
        before = opened.load_arrays()
        plan = opened.load_event_log(properties="all").event_properties["plan"].codes.tolist()
    _as_schema_3(project)
    with Project.open(project) as opened:
        assert opened.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        blobs = [data for name, data in opened.conn.execute("SELECT name, data FROM log_cache")
                 if name in CACHE_COLUMNS or name.startswith(CODES_PREFIX)]
        assert blobs and all(is_encoded(data) for data in blobs)
        after = opened.load_arrays()
        assert opened.load_event_log(properties="all").event_properties["plan"].codes.tolist() == plan
    assert {name: values.tolist() for name, values in after.items()} == \
        {name: values.tolist() for name, values in before.items()}


def test_a_damaged_schema_3_cache_stays_damaged_after_the_upgrade(project):
    _as_schema_3(project)
    flip_stored_byte(project, "log_cache", "data", "name", "ts", mask=0xFF)
    with Project.open(project) as opened, pytest.raises(ProjectDamaged):
        opened.load_arrays()


# --- per-column checksums: a command reads and checks only the columns it decodes --------------------


def _check_row(path) -> dict:
    conn = sqlite3.connect(path)
    check = json.loads(conn.execute("SELECT data FROM log_cache WHERE name = ?", (CHECK_NAME,)).fetchone()[0])
    conn.close()
    return check


def _as_before_column_checksums(path) -> None:
    """Turn a project into what the current format wrote before per-column checksums: one over all."""
    check = _check_row(path)
    del check["column_crc32"]
    conn = sqlite3.connect(path)
    conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (json.dumps(check).encode(), CHECK_NAME))
    conn.commit()
    conn.close()


def test_an_import_writes_a_checksum_per_stored_column_and_the_one_over_all(project):
    check = _check_row(project)
    conn = sqlite3.connect(project)
    stored = dict(conn.execute("SELECT name, data FROM log_cache").fetchall())
    conn.close()
    columns = {name: data for name, data in stored.items() if name in CACHE_COLUMNS}
    assert set(check["column_crc32"]) == set(columns) >= {"id", "user", "event", "ts", "session"}
    assert check["crc32"] == cache_check(columns)["crc32"]      # what older versions verify


@pytest.mark.parametrize("column", ["user", "event", "ts", "session"])
def test_a_damaged_column_that_is_read_is_reported(project, column):
    flip_stored_byte(project, "log_cache", "data", "name", column, mask=0x10)
    with Project.open(project) as opened, pytest.raises(ProjectDamaged, match=f"'{column}' differs from its checksum"):
        opened.load_event_log()


def test_a_damaged_column_that_is_not_read_is_reported_when_it_is(project):
    flip_stored_byte(project, "log_cache", "data", "name", "id", mask=0x10)
    with Project.open(project) as opened:
        assert len(opened.load_event_log()) == 200             # the log does not read the ids
        with pytest.raises(ProjectDamaged, match="'id' differs"):
            opened.load_arrays(("id",))
        with pytest.raises(ProjectDamaged, match="'id' differs"):
            opened.verify()                                     # what repair and an import check first


def test_a_lost_column_or_one_its_checksum_does_not_list_is_damage(project):
    conn = sqlite3.connect(project)
    conn.execute("DELETE FROM log_cache WHERE name = 'session'")
    conn.commit()
    conn.close()
    with Project.open(project) as opened, pytest.raises(ProjectDamaged, match="'session' is missing"):
        opened.load_event_log()
    check = _check_row(project)
    del check["column_crc32"]["session"]      # as if the column held only its default
    conn = sqlite3.connect(project)
    conn.execute("UPDATE log_cache SET data = ? WHERE name = ?", (json.dumps(check).encode(), CHECK_NAME))
    conn.execute("INSERT INTO log_cache(name, data) VALUES ('session', ?)", (encode_column(np.zeros(200), np.int64),))
    conn.commit()
    conn.close()
    with Project.open(project) as opened, pytest.raises(ProjectDamaged, match="'session' is not expected"):
        opened.load_event_log()


def test_a_project_from_before_column_checksums_opens_is_checked_whole_and_gets_them_at_its_next_import(project, tmp_path):
    with Project.open(project) as opened:
        before = {name: values.tolist() for name, values in opened.load_arrays().items()}
    _as_before_column_checksums(project)
    with Project.open(project) as opened:
        assert {name: values.tolist() for name, values in opened.load_arrays().items()} == before
    flip_stored_byte(project, "log_cache", "data", "name", "id", mask=0x10)
    with Project.open(project) as opened, pytest.raises(ProjectDamaged, match="checksum differs"):
        opened.load_event_log()                     # one checksum over all: the unread ids count too
    flip_stored_byte(project, "log_cache", "data", "name", "id", mask=0x10)     # back as it was
    more = tmp_path / "more.csv"
    more.write_text("user,event,time\nu99,e1,2024-02-01T10:00:00Z\n")
    import_file(project, more)
    assert "column_crc32" in _check_row(project)
    with Project.open(project) as opened:
        assert len(opened.load_event_log()) == 201


def test_a_loaded_log_splits_its_user_ids_only_when_used(project):
    with Project.open(project) as opened:
        keys = opened.user_keys()
        log = opened.load_event_log()
    assert isinstance(log.user_keys, LazyUserKeys) and log.n_users == len(keys) == 7
    assert log.user_keys._keys is None                          # not split yet
    assert list(log.user_keys) == keys.tolist() and log.user_keys[log.user[:3]].tolist() == keys[log.user[:3]].tolist()


@pytest.mark.parametrize("piece_bytes", [1, 3, 7, 1 << 20])
def test_user_keys_read_in_pieces_are_one_split(piece_bytes):
    """``split_keys`` reads the cached user ids a piece at a time (one split of 2M ids froze the
    window): the same ids in the same order, for any piece size, empty and multi-byte ids included."""
    keys = ["u1", "", "zoë", "日本", "", "a" * 9, "x"]
    blob = KEY_SEPARATOR.join(keys).encode("utf-8")
    read = split_keys(blob, piece_bytes=piece_bytes)
    assert read.dtype == object and read.tolist() == keys


def test_properties_written_per_group_of_empty_cells_equal_the_row_by_row_cleaning():
    """The properties JSON of rows with empty cells (NaN, None, "") is written per group of rows with the
    same empty cells; the records equal those of cleaning each row's line, with many groups too."""
    import json

    import pandas as pd

    from journey_explorer.store.importer import reading
    frame = pd.DataFrame({"a": ["x", None, "", "y", "zoë"], "b": [1.5, 2.0, None, None, 3.0],
                          "c": [None, None, None, None, None]})
    lines = frame.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    expected = [reading._drop_nulls(line) for line in lines]
    for groups in (reading.MAX_EMPTY_PATTERNS, 0):       # grouped, and the row-by-row fallback
        old, reading.MAX_EMPTY_PATTERNS = reading.MAX_EMPTY_PATTERNS, groups
        try:
            got = reading._without_empties(frame)
        finally:
            reading.MAX_EMPTY_PATTERNS = old
        assert [json.loads(g) if g else None for g in got] == [json.loads(e) if e else None for e in expected]
    assert reading._without_empties(frame)[2] is None       # "" and two NaN: no properties at all


def test_properties_of_a_wide_file_are_grouped_by_empty_cells_too():
    """More than 62 columns: the rows' patterns of empty cells are keyed by packed bits instead."""
    import json

    import pandas as pd

    from journey_explorer.store.importer import reading
    frame = pd.DataFrame({f"p{j}": [None if (i + j) % 3 == 0 else f"v{i}" for i in range(9)] for j in range(70)})
    lines = reading._json_lines(frame)
    expected = [json.loads(e) if e else None for e in (reading._drop_nulls(line) for line in lines)]
    assert [json.loads(g) if g else None for g in reading._without_empties(frame)] == expected
