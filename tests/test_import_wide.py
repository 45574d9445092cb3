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
