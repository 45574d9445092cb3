"""Fast path for plain delimited text: pyarrow's multi-threaded CSV reader and hash tables.

pyarrow is a dependency; should an installation lack it, the pandas path does the same work, slower.
When a file is uncompressed UTF-8 text, the importer reads it here in record batches of text columns:
at 10M rows this is ~4x faster than pandas' C parser, which builds a Python string per cell. Whatever
the pandas reader treats specially (a ragged or blank line, an invalid byte) raises ``NotSimple``, and
the importer starts again on the pandas path, which reports such lines exactly. The importer also
checks that every line held one record.
"""
from __future__ import annotations

import codecs
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np

from journey_explorer.io.opening import GZIP_MAGIC, ZIP_MAGIC
from journey_explorer.io.timestamps import MAX_MS, MIN_MS

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
except ImportError:     # the pandas path does the same work, slower
    pa = None

BLOCK_BYTES = 16 << 20          # per parsed block; two blocks parse in parallel on two cores
_ZONE_AT_END = re.compile(r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)$")


class NotSimple(Exception):
    """This file needs the pandas reader."""


def can_read(reader) -> bool:
    """pyarrow is installed and ``reader`` reads uncompressed UTF-8 delimited text."""
    if pa is None or reader.format != "csv" or getattr(reader, "encoding", None) != "utf-8":
        return False
    with open(reader.path, "rb") as handle:
        head = handle.read(4)
    return not head.startswith((GZIP_MAGIC, ZIP_MAGIC))


BOM = codecs.BOM_UTF8.decode("utf-8")


def _starts_with_bom(batch: "pa.RecordBatch") -> bool:
    """A cell that starts with a UTF-8 byte order mark (files joined with ``cat``): the pandas path
    strips it from the cells it starts; pyarrow would keep it in the value (a second, invisible user
    id). Checked per batch on the parsed text (~0.1 s at 10M rows; scanning the raw file was 0.5 s)."""
    return any(pc.any(pc.starts_with(column, BOM)).as_py() for column in batch.columns)


def record_batches(reader, check_marks: bool = True) -> Iterator["pa.RecordBatch"]:
    """All rows in file order, every column as text (None for an empty cell, as pandas reads it).
    ``check_marks`` False: the caller finds byte order marks in the file itself (the importer's
    digest does, beside the reading)."""
    columns = reader.columns()
    try:
        stream = pa_csv.open_csv(
            native_file(reader.path),
            read_options=pa_csv.ReadOptions(column_names=columns, skip_rows=1 if reader.has_header else 0,
                                            block_size=BLOCK_BYTES),
            # A blank line then has the wrong number of fields and stops the read, like a ragged one.
            parse_options=pa_csv.ParseOptions(delimiter=reader.delimiter, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                  null_values=[""], strings_can_be_null=True))
        for batch in stream:
            if check_marks and _starts_with_bom(batch):
                raise NotSimple("a byte order mark inside the file")
            yield batch
        release_unused_memory()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise NotSimple(str(exc)) from None


def native_file(path: str) -> "pa.NativeFile":
    """``path`` opened for pyarrow by its bytes: a file name that is not valid UTF-8 (``caf\\xe9.csv``
    on Linux, which Python holds with a surrogate escape) would make pyarrow's own open fail."""
    return pa.OSFile(os.fsencode(path), mode="r")


VALUES_SLICE = 200_000      # text values made into Python objects at a time (~10 ms holding the GIL)


def column_values(column: "pa.Array") -> np.ndarray:
    """Text cells as Python objects (None where empty), as the pandas reader gives them. A slice at a
    time: making 2M user ids into Python strings in one call held the GIL ~110 ms (the import
    window's progress froze that long at 10M events).

    >>> column_values(pa.array(["a", None, "b"])).tolist()
    ['a', None, 'b']
    """
    if len(column) <= VALUES_SLICE:
        return column.to_numpy(zero_copy_only=False)
    return np.concatenate([column.slice(start, VALUES_SLICE).to_numpy(zero_copy_only=False)
                           for start in range(0, len(column), VALUES_SLICE)])


def batch_dictionary(column: "pa.Array") -> tuple[np.ndarray, np.ndarray]:
    """(index of each cell's value, -1 where empty; the distinct values in order of appearance)."""
    encoded = column.dictionary_encode()
    return (pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64),
            column_values(encoded.dictionary))


def columns_dictionaries(columns: list) -> list[tuple[np.ndarray, np.ndarray]]:
    """``batch_dictionary`` of each of ``columns`` (pyarrow text of equal length), in a few calls
    for all of them: one hash table over every cell, then one factorize of (column, value) pairs.
    A wide file's batch (100,000 columns of a few rows) then costs milliseconds instead of ~80 µs of
    pyarrow calls per column.

    The pairs are met column after column, so each column's values get consecutive numbers in
    order of first appearance: the same indices and values as ``batch_dictionary``.

    >>> [(i.tolist(), v.tolist()) for i, v in columns_dictionaries([pa.array(["b", None, "b"]), pa.array(["x", "b", "x"])])]
    [([0, -1, 0], ['b']), ([0, 1, 0], ['x', 'b'])]
    """
    import pandas as pd
    if not columns:
        return []
    rows = len(columns[0])
    encoded = pa.concat_arrays(columns).dictionary_encode()       # record_batches: all text
    dictionary = column_values(encoded.dictionary)
    indices = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    present = indices >= 0
    column_of = np.repeat(np.arange(len(columns), dtype=np.int64), rows)
    pairs = column_of * (len(dictionary) + 1) + indices
    local = np.full(len(indices), -1, dtype=np.int64)
    numbers, distinct = pd.factorize(pairs[present])
    distinct_column = distinct // (len(dictionary) + 1)
    starts = np.searchsorted(distinct_column, np.arange(len(columns) + 1))
    local[present] = numbers - starts[column_of[present]]
    values = dictionary[distinct % (len(dictionary) + 1)] if len(distinct) else np.zeros(0, dtype=object)
    return [(local[j * rows:(j + 1) * rows], values[starts[j]:starts[j + 1]]) for j in range(len(columns))]


def whole_column_dictionary(first: np.ndarray, chunks: list, head: tuple | None = None,
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the cells of ``chunks`` (-1 where empty), the distinct values, ``first`` leading, and
    per value whether ``str.strip`` may change it (``may_strip``).

    One hash table over the whole column, in order of first appearance: the codes a value-by-value
    factorizer seeded with ``first`` would give, without a Python string per cell. ``head``: the
    first chunks' ``dictionary_head`` (seeded with ``first``), worked out while the rest was read;
    the rest is then encoded seeded with their distinct values, which keep their codes (the caller
    hands the head's memory back once it lets go of it: ``release_unused_memory``).
    """
    if head is None:
        codes, dictionary = dictionary_codes_two_ways(pa.array(first, type=pa.string()), chunks)
    else:
        head_codes, head_values, head_chunks = head
        rest, dictionary = dictionary_codes_two_ways(head_values, chunks[head_chunks:])
        codes = np.concatenate([head_codes, rest])
        del head_codes, head_values, rest
    values, strippable = column_values(dictionary), may_strip(dictionary)
    del dictionary
    release_unused_memory()
    return codes, values, strippable


# What ``str.strip()`` removes: the characters for which ``str.isspace`` holds (tests check the list).
PYTHON_SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                 "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def may_strip(values: "pa.Array") -> np.ndarray:
    """Per text value: whether ``str.strip`` may change it or leave nothing (it is empty, or begins
    or ends with a space character). The others need no Python strip: one pass in C over 2M user
    ids instead of a Python call per id (~0.2 s).

    >>> may_strip(pa.array(["a b", " a", "a\u3000", "", "x\x1f", "é"])).tolist()
    [False, True, True, True, True, False]
    """
    spaces = pa.array(list(PYTHON_SPACES), type=pa.string())
    first, last = pc.utf8_slice_codeunits(values, 0, 1), pc.utf8_slice_codeunits(values, -1)
    strippable = pc.or_(pc.or_(pc.is_in(first, value_set=spaces), pc.is_in(last, value_set=spaces)),
                        pc.equal(pc.binary_length(values), 0))
    return pc.fill_null(strippable, True).to_numpy(zero_copy_only=False)


def dictionary_codes(seed: "pa.Array", chunks: list) -> tuple[np.ndarray, "pa.Array"]:
    """Codes of the cells of ``chunks`` (-1 where empty) into their distinct values in order of first
    appearance after the distinct text ``seed`` (whose values keep codes 0, 1, ...), and those values."""
    encoded = pa.chunked_array([seed, *chunks], type=pa.string()).dictionary_encode()
    if not encoded.num_chunks:          # nothing at all (pyarrow keeps no empty chunk)
        return np.zeros(0, dtype=np.int32), seed
    codes = [pc.fill_null(chunk.indices, -1).to_numpy() for chunk in encoded.chunks]
    return np.concatenate(codes)[len(seed):], encoded.chunk(0).dictionary


TWO_WAYS_ROWS = 1_000_000      # from this many cells, ``dictionary_codes_two_ways`` splits the work


def dictionary_codes_two_ways(seed: "pa.Array", chunks: list, min_rows: int | None = None,
                              ) -> tuple[np.ndarray, "pa.Array"]:
    """``dictionary_codes`` on two cores: each half of the chunks encoded on its own (both seeded
    with ``seed``), then the values new in the second half matched to those new in the first, which
    keep their codes; the others follow them in order of first appearance. At 5M cells of 2M user
    ids ~1.4 s against ~2.2 s in one go (pyarrow's hash table lets go of the GIL). Fewer than
    ``min_rows`` cells (default ``TWO_WAYS_ROWS``): in one go.

    >>> seed = pa.array(["a"])
    >>> chunks = [pa.array(["b", "a"]), pa.array([None, "c"]), pa.array(["c", "d"]), pa.array(["b", "e"])]
    >>> codes, values = dictionary_codes_two_ways(seed, chunks, min_rows=0)
    >>> codes.tolist(), values.to_pylist()
    ([1, 0, -1, 2, 2, 3, 1, 4], ['a', 'b', 'c', 'd', 'e'])
    """
    rows = np.cumsum([len(chunk) for chunk in chunks])
    if len(chunks) < 2 or rows[-1] < (TWO_WAYS_ROWS if min_rows is None else min_rows):
        return dictionary_codes(seed, chunks)
    half = int(np.searchsorted(rows, rows[-1] / 2)) + 1
    half = min(max(half, 1), len(chunks) - 1)
    with ThreadPoolExecutor(1, thread_name_prefix="import-users-half") as pool:
        second = pool.submit(dictionary_codes, seed, chunks[half:])
        first_codes, first_values = dictionary_codes(seed, chunks[:half])
        second_codes, second_values = second.result()
    new_first, new_second = first_values[len(seed):], second_values[len(seed):]
    found = pc.index_in(new_second, value_set=new_first)        # null: first seen in the second half
    fresh = pc.is_null(found).to_numpy(zero_copy_only=False)
    remap = np.empty(len(second_values) + 1, dtype=np.int64)    # the last slot: an empty cell (-1)
    remap[:len(seed)] = np.arange(len(seed))
    remap[len(seed):-1] = np.where(fresh, len(first_values) + np.cumsum(fresh) - 1,
                                   len(seed) + pc.fill_null(found, 0).to_numpy(zero_copy_only=False))
    remap[-1] = -1
    codes = np.concatenate([first_codes, remap[second_codes].astype(first_codes.dtype)])
    return codes, pa.concat_arrays([first_values, new_second.filter(pa.array(fresh))])


def dictionary_head(first: np.ndarray, chunks: list, previous: tuple | None = None,
                    ) -> tuple[np.ndarray, "pa.Array", int]:
    """``dictionary_codes`` of the chunks read so far, seeded with ``first`` (for
    ``whole_column_dictionary``'s ``head``), and how many chunks that is. ``previous``: the head of
    the first of these chunks, whose values seed the rest (the same codes as one pass).

    >>> chunks = [pa.array(["b", "a"]), pa.array([None, "c", "b"]), pa.array(["d", "a"])]
    >>> codes, values, count = dictionary_head(np.array(["a"], dtype=object), chunks[:2])
    >>> codes.tolist(), values.to_pylist(), count
    ([1, 0, -1, 2, 1], ['a', 'b', 'c'], 2)
    >>> codes, values, count = dictionary_head(np.array(["a"], dtype=object), chunks, (codes, values, count))
    >>> codes.tolist(), values.to_pylist(), count
    ([1, 0, -1, 2, 1, 3, 0], ['a', 'b', 'c', 'd'], 3)
    """
    if previous is None:
        codes, values = dictionary_codes(pa.array(first, type=pa.string()), chunks)
        return codes, values, len(chunks)
    head_codes, head_values, head_chunks = previous
    rest, values = dictionary_codes(head_values, chunks[head_chunks:])
    return np.concatenate([head_codes, rest]), values, len(chunks)


def release_unused_memory() -> None:
    """Hand freed Arrow buffers back to the system: mimalloc keeps them (~400 MB at 10M rows) and
    the rest of the import would stack its own peak on top."""
    pa.default_memory_pool().release_unused()


def iso_us(column: "pa.Array", naive_is_utc: bool) -> np.ndarray | None:
    """UTC microseconds of ISO 8601 text when pyarrow reads every cell, else None.

    The first cell picks the cast: with an offset or Z, to a zoned type (which fails on naive
    cells); otherwise, only when the chosen timezone is UTC, to a naive one (which fails on zoned
    cells, slowly: hence not both). None sends the cells to ``parse_times``, which explains each bad
    one; so do empty cells and years outside 1..9999 (pyarrow reads year 0). Microseconds are kept
    so rows a fraction of a millisecond apart stay apart and in order.
    """
    if column.null_count or not len(column):
        return None
    zoned = _ZONE_AT_END.search(column[0].as_py()) is not None
    if not zoned and not naive_is_utc:
        return None
    try:
        micros = pc.cast(column, pa.timestamp("us", "UTC" if zoned else None)).to_numpy().view(np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if micros.min() < MIN_MS * 1000 or micros.max() > MAX_MS * 1000 + 999:
        return None
    return micros


def iso_ms(column: "pa.Array", naive_is_utc: bool) -> np.ndarray | None:
    """``iso_us`` floored to UTC milliseconds."""
    micros = iso_us(column, naive_is_utc)
    return None if micros is None else np.floor_divide(micros, 1000)


def concat(arrays: list) -> "pa.Array":
    return pa.concat_arrays(arrays)
