"""A file with thousands of columns imports in seconds (issue 15: 100,000 columns took minutes,
most of it in per-column work on the preview)."""
from __future__ import annotations

import time

from journey_explorer.io.mapping import personal_data_columns, structured_columns
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

COLUMNS = 5000
EMAIL_AT = 3999         # a column far from the start, holding emails under a harmless name
LIST_AT = 4321          # and one holding JSON lists


def wide_csv(path, rows: int = 3) -> None:
    header = ["user", "event", "time"] + [f"c{i}" for i in range(COLUMNS)]
    lines = [",".join(header)]
    for row in range(rows):
        cells = [str((i * 7 + row) % 5) for i in range(COLUMNS)]
        cells[EMAIL_AT] = f"person{row}@example.com"
        cells[LIST_AT] = '"[1, 2]"'
        lines.append(",".join([f"u{row}", f"e{row % 2}", f"2024-01-0{row + 1}T10:00:00Z", *cells]))
    path.write_text("\n".join(lines) + "\n")


def test_thousands_of_columns_import_in_seconds_with_every_property(tmp_path):
    source = tmp_path / "wide.csv"
    wide_csv(source)
    started = time.perf_counter()
    summary = import_file(tmp_path / "p.journey", source)
    seconds = time.perf_counter() - started
    assert summary.imported == 3 and summary.rejected == 0
    assert summary.personal_data_columns == [f"c{EMAIL_AT}"]
    with Project.open(tmp_path / "p.journey") as project:
        log = project.load_event_log(properties=["c0", f"c{COLUMNS - 1}"])
        assert len(project.event_property_names()) == COLUMNS
    assert [log.event_properties["c0"].value_at(i) for i in range(3)] == [0, 1, 2]
    assert seconds < 30         # 20 s before (5,000 columns), ~2 s now; generous for a busy machine


def test_guesses_on_a_wide_preview_judge_each_column_by_its_own_cells(tmp_path):
    import pandas as pd
    preview = pd.DataFrame({"a": ["x@y.com", None, "z@w.org"], "b": ["1.2.3.4", "x", "y"],
                            "c": [None, None, None], "d": ['["a"]', "{}", None], "e": [[1], "t", "u"]})
    assert personal_data_columns(list(preview.columns) + ["traits.email"], preview) == ["a", "traits.email"]
    assert structured_columns(preview) == {"d"}


def test_a_wide_preview_reads_each_cell_as_pandas_does(tmp_path, monkeypatch):
    """The csv-module preview of a wide file (one block of cells) against pandas' own read_csv."""
    from journey_explorer.io import sources
    width = sources.WIDE_COLUMNS + 5
    header = ",".join(["user", "event", "time"] + [f"c{i}" for i in range(width)])
    full = [f"v{i % 3}" for i in range(width)]
    rows = [",".join(["u1", "e", "2024-01-01T10:00:00Z", *full]),
            ",".join(["u2", "e", "2024-01-01T10:00:00Z", "", '"a, quoted"', *full[2:]]),   # empty, quoted
            ",".join(["u3", "e", "2024-01-01T10:00:00Z", *full[:10]]),                      # short row
            "",                                                                              # blank line
            ",".join(["u4", "e", "2024-01-01T10:00:00Z", *full, "one too many"]),           # skipped
            ",".join(["u5", "e", "2024-01-01T10:00:00Z", *full])]
    source = tmp_path / "wide.csv"
    source.write_bytes(("\n".join([header, *rows]) + "\n").encode().replace(b"v2", b"v\xff", 1))
    wide = sources.DelimitedReader(str(source)).preview(20)
    monkeypatch.setattr(sources, "WIDE_COLUMNS", 10 ** 9)
    narrow = sources.DelimitedReader(str(source)).preview(20)
    assert wide.shape == narrow.shape == (5, width + 3)
    assert wide.astype(str).equals(narrow.astype(str)) and wide.isna().equals(narrow.isna())


def test_a_100000_column_preview_and_batch_encoding_take_no_per_column_pandas(tmp_path):
    """A regression to per-column pandas work (Series per column, a regex per column) takes a minute."""
    import numpy as np
    import pyarrow as pa

    from journey_explorer.io import arrow_csv
    from journey_explorer.io.sources import DelimitedReader
    columns = 100_000
    source = tmp_path / "wider.csv"
    cells = ",".join(str(i % 7) for i in range(columns))
    source.write_text("user,event,time," + ",".join(f"c{i}" for i in range(columns)) + "\n"
                      + "".join(f"u{r},e,2024-01-0{r + 1}T10:00:00Z,{cells}\n" for r in range(3)))
    started = time.perf_counter()
    preview = DelimitedReader(str(source)).preview(20)
    batch = [pa.array([str(i % 7), None, str(i % 5)]) for i in range(columns)]
    encoded = arrow_csv.columns_dictionaries(batch)
    seconds = time.perf_counter() - started
    assert preview.shape == (3, columns + 3) and preview.iloc[2, -1] == str((columns - 1) % 7)
    assert [encoded[i][0].tolist() for i in (0, 5)] == [[0, -1, 0], [0, -1, 1]]
    assert all(np.array_equal(e[1], arrow_csv.batch_dictionary(b)[1]) for e, b in zip(encoded[:50], batch))
    assert seconds < 20         # ~0.5 s quiet, ~5 s on a loaded machine; pandas' preview alone took ~80 s


def test_a_wide_file_stores_the_same_properties_as_column_by_column(tmp_path, monkeypatch):
    from journey_explorer.store.importer import reading
    source = tmp_path / "wide.csv"
    header = ["user", "event", "time"] + [f"p{i}" for i in range(reading.MANY_COLUMNS + 10)]
    lines = [",".join(header)]
    for row in range(40):
        cells = ["" if (row + i) % 6 == 0 else f" v{(row * i) % 4} " if i % 3 else str(row % 5)
                 for i in range(len(header) - 3)]
        lines.append(",".join([f"u{row % 7}", f"e{row % 3}", f"2024-01-01T10:{row:02d}:00Z", *cells]))
    source.write_text("\n".join(lines) + "\n")
    stored = []
    for many in (reading.MANY_COLUMNS, 10 ** 9):
        monkeypatch.setattr(reading, "MANY_COLUMNS", many)
        project = tmp_path / f"p{many}.journey"
        import_file(project, source)
        with Project.open(project) as opened:
            log = opened.load_event_log(properties=header[3:])
            stored.append({name: [log.event_properties[name].value_at(i) for i in range(len(log))]
                           for name in header[3:]})
    assert stored[0] == stored[1]
