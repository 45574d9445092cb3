"""Importing delimited text into a project: counts, mapping, sessions, duplicates, privacy, safety."""
from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from journey_explorer.domain import (
    AmbiguousDateOrder,
    ImportCancelled,
    ImportOptions,
    InputError,
    JourneyError,
    ProjectBusy,
)
from journey_explorer.io import arrow_csv
from journey_explorer.store import event_chunks, importer
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project
from tests.store.stored import stored_events

BASIC = """user_id,event,timestamp,plan
u1,signup,2024-01-01T10:00:00Z,free
u1,login,2024-01-01T10:05:00Z,free
u2,signup,2024-01-01T11:00:00+01:00,pro
u1,purchase,2024-01-01T12:00:00Z,free
u2,login,2024-01-02T09:00:00Z,pro
"""


@pytest.fixture(autouse=True, params=["pyarrow", "pandas"])
def csv_path(request, monkeypatch):
    """Every test runs on both ways of reading CSV: pyarrow's fast path and the pandas reader."""
    if request.param == "pandas":
        monkeypatch.setattr(arrow_csv, "pa", None)
    elif arrow_csv.pa is None:
        pytest.skip("pyarrow is not installed")
    return request.param


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_basic_import_counts_and_times(tmp_path):
    project = tmp_path / "p.journey"
    summary = import_file(project, write(tmp_path, "e.csv", BASIC))
    assert (summary.read, summary.imported, summary.rejected, summary.duplicates) == (5, 5, 0, 0)
    assert (summary.users, summary.event_types) == (2, 3)
    assert summary.mapping["user"] == "user_id" and summary.mapping["time"] == "timestamp"
    with Project.open(project) as p:
        log = p.load_event_log()
    # u2's signup at 11:00+01:00 is 10:00 UTC = 1704103200000 ms
    u2 = list(log.user_keys).index("u2")
    assert log.ts[log.user == u2].tolist() == [1704103200000, 1704186000000]
    names = [log.event_names[e] for e in log.event[log.user == list(log.user_keys).index("u1")]]
    assert names == ["signup", "login", "purchase"]
    # the extra column is an event property (the fast path keeps no per-row JSON copy)
    plan = log.event_properties["plan"]
    assert [plan.value_at(i) for i in np.flatnonzero(log.user == list(log.user_keys).index("u1"))][0] == "free"
    assert stored_events(project)[0]["properties"] in (None, {"plan": "free"})


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path, delimiter):
    text = BASIC.replace(",", delimiter)
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "e.txt", text))
    assert summary.imported == 5


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path, encoding):
    text = BASIC.replace("signup", "café_signup")
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "e.csv", text, encoding))
    with Project.open(tmp_path / "p.journey") as p:
        names = set(p.load_event_log().event_names)
    assert summary.imported == 5 and "café_signup" in names


def test_gzip_and_zip_are_opened_transparently(tmp_path):
    gz = tmp_path / "e.csv.gz"
    gz.write_bytes(gzip.compress(BASIC.encode()))
    assert import_file(tmp_path / "a.journey", gz).imported == 5
    zipped = tmp_path / "e.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("export/events.csv", BASIC)
    assert import_file(tmp_path / "b.journey", zipped).imported == 5


def test_guesses_process_mining_columns(tmp_path):
    text = (",concept:name,time:timestamp,Activity,case:concept:name,case:creator\n"
            "0,register,2010-12-30 14:32:00+01:00,register,3,Nitro\n"
            "1,examine,2010-12-30 15:06:00+01:00,examine,3,Nitro\n")
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "pm.csv", text))
    assert summary.mapping["user"] == "case:concept:name"
    assert summary.mapping["event"] == "concept:name"
    assert summary.mapping["time"] == "time:timestamp"
    with Project.open(tmp_path / "p.journey") as p:
        assert p.user_properties().to_dict("records") == [{"creator": "Nitro"}]
    assert summary.describe().endswith("The project now has 1 case and 2 event types.")     # not "1 users"


def test_the_summary_counts_users_when_the_paths_are_users(tmp_path):
    text = "user_id,event,ts\nu1,open,2024-01-01T00:00:00\nu2,open,2024-01-01T00:01:00\n"
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "web.csv", text))
    assert summary.describe().endswith("The project now has 2 users and 1 event type.")


def test_guesses_sepsis_style_columns(tmp_path):
    text = ("Case ID;Activity;Complete Timestamp;Age\n"
            "A;ER Registration;2014/10/22 11:15:41.000;85\n"
            "A;Leucocytes;2014/10/22 11:27:00.000;85\n")
    summary = import_file(tmp_path / "p.journey", write(tmp_path, "s.csv", text))
    assert (summary.mapping["user"], summary.mapping["event"], summary.mapping["time"]) == (
        "Case ID", "Activity", "Complete Timestamp")
    with Project.open(tmp_path / "p.journey") as p:
        assert p.load_event_log().ts.tolist() == [1413976541000, 1413977220000]


def test_bad_rows_are_rejected_with_line_and_reason(tmp_path):
    text = ("user,event,time\n"
            "u1,a,2024-01-01T00:00:00Z\n"
            ",b,2024-01-01T00:01:00Z\n"          # line 3: missing user
            "u1,,2024-01-01T00:02:00Z\n"         # line 4: missing event
            "u1,c,not a time\n"                  # line 5: bad time
            "u1,d,2024-01-01T00:03:00Z,extra\n"  # line 6: ragged
            "u2,e,2024-01-01T00:04:00Z\n")
    project = tmp_path / "p.journey"
    summary = import_file(project, write(tmp_path, "bad.csv", text))
    assert (summary.read, summary.imported, summary.rejected) == (6, 2, 4)
    with Project.open(project) as p:
        rejected = p.rejected_rows()
    assert rejected["line"].tolist() == [3, 4, 5, 6]
    reasons = rejected["reason"].tolist()
    assert reasons[0].startswith("missing user") and reasons[1].startswith("missing event")
    assert "time" in reasons[2] and "fields" in reasons[3]
    assert rejected["raw"].tolist()[3] == "u1,d,2024-01-01T00:03:00Z,extra"
    assert sum(summary.reject_reasons.values()) == 4


def test_ambiguous_day_month_needs_a_choice(tmp_path):
    text = "user,event,time\nu1,a,03/04/2024 10:00\nu1,b,05/06/2024 10:00\n"
    path = write(tmp_path, "amb.csv", text)
    with pytest.raises(AmbiguousDateOrder) as err:
        import_file(tmp_path / "p.journey", path)
    assert "time" in str(err.value) and "amb.csv" in str(err.value)
    assert not (tmp_path / "p.journey").exists()
    summary = import_file(tmp_path / "p.journey", path, ImportOptions(date_order="dmy"))
    with Project.open(tmp_path / "p.journey") as p:
        # 3 April 2024 10:00 UTC
        assert summary.imported == 2 and p.load_event_log().ts[0] == 1712138400000


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"user,event,time\n", "no rows"),
    (bytes(range(256)) * 40, "binary"),
    (b"just one column\nvalue\n", "single column"),
])
def test_malformed_files_give_clear_messages(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        import_file(tmp_path / "p.journey", path)
    assert message in str(err.value) and "bad.csv" in str(err.value)
    assert not (tmp_path / "p.journey").exists()


def test_truncated_gzip_is_reported(tmp_path):
    data = gzip.compress((BASIC * 2000).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        import_file(tmp_path / "p.journey", path)
    assert "gzip" in str(err.value) and "cut.csv.gz" in str(err.value)


def test_invalid_utf8_after_the_sniffed_start_rejects_that_row_at_its_line(tmp_path):
    body = "u1,a,2024-01-01T00:00:00Z\n" * 5000
    path = tmp_path / "mixed.csv"
    path.write_bytes(("user,event,time\n" + body).encode() + b"u1,caf\xe9,2024-01-01T00:00:00Z\n")
    summary = import_file(tmp_path / "p.journey", path)
    assert summary.imported + summary.duplicates == 5000 and summary.rejected == 1
    with Project.open(tmp_path / "p.journey") as project:
        ((line, reason),) = project.conn.execute("SELECT line, reason FROM rejected_rows").fetchall()
    assert line == 5002 and "UTF-8" in reason


def test_reimporting_the_same_file_adds_nothing(tmp_path):
    project, source = tmp_path / "p.journey", write(tmp_path, "e.csv", BASIC)
    import_file(project, source)
    before = sha(project)
    again = import_file(project, source)
    assert again.already_imported and again.imported == 0 and "already imported" in again.describe()
    assert sha(project) == before


def test_exact_duplicates_are_skipped_within_and_across_files(tmp_path):
    project = tmp_path / "p.journey"
    doubled = BASIC + "u1,login,2024-01-01T10:05:00Z,free\n"
    first = import_file(project, write(tmp_path, "a.csv", doubled))
    assert (first.imported, first.duplicates) == (5, 1)
    overlap = "user_id,event,timestamp\nu1,signup,2024-01-01T10:00:00Z\nu3,signup,2024-01-03T10:00:00Z\n"
    second = import_file(project, write(tmp_path, "b.csv", overlap))
    assert (second.imported, second.duplicates, second.users) == (1, 1, 3)
    with Project.open(project) as p:
        assert p.info().events == 6


def test_failure_mid_import_leaves_project_byte_for_byte(tmp_path, monkeypatch):
    project = tmp_path / "p.journey"
    import_file(project, write(tmp_path, "a.csv", BASIC))
    before = sha(project)
    more = "user_id,event,timestamp\n" + "".join(
        f"u{i % 50},e{i % 7},2024-02-01T00:{i % 60:02d}:{i % 59:02d}Z\n" for i in range(3000))
    monkeypatch.setattr(event_chunks, "CHUNK_EVENTS", 500)
    real = importer._write_cache

    def crash(*args, **kwargs):
        raise RuntimeError("disk pulled out")

    monkeypatch.setattr(importer, "_write_cache", crash)
    with pytest.raises(RuntimeError):
        import_file(project, write(tmp_path, "b.csv", more))
    assert sha(project) == before
    assert not Path(str(project) + "-journal").exists()
    monkeypatch.setattr(importer, "_write_cache", real)
    assert import_file(project, tmp_path / "b.csv").imported == 3000


def test_cancel_from_progress_leaves_project_unchanged(tmp_path):
    project = tmp_path / "p.journey"
    import_file(project, write(tmp_path, "a.csv", BASIC))
    before = sha(project)
    seen = []

    def progress(fraction, rows):
        seen.append(fraction)
        if fraction > 0.62:
            raise ImportCancelled()

    more = "user_id,event,timestamp\n" + "u9,x,2024-03-01T00:00:00Z\n" * 10 + "u9,y,2024-03-01T00:01:00Z\n"
    with pytest.raises(ImportCancelled):
        import_file(project, write(tmp_path, "b.csv", more), progress=progress)
    assert sha(project) == before and seen


def test_new_project_is_removed_when_import_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "_write_cache", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        import_file(tmp_path / "new.journey", write(tmp_path, "a.csv", BASIC))
    assert not (tmp_path / "new.journey").exists()


def test_pseudonymization_is_stable_across_imports(tmp_path):
    project = tmp_path / "p.journey"
    import_file(project, write(tmp_path, "a.csv", BASIC), ImportOptions(pseudonymize=True))
    more = "user_id,event,timestamp\nu1,logout,2024-01-05T00:00:00Z\n"
    summary = import_file(project, write(tmp_path, "b.csv", more), ImportOptions(pseudonymize=True))
    with Project.open(project) as p:
        keys = list(p.user_keys())
        raw = p.path.read_bytes()
    assert summary.users == 2 and all(k.startswith("u_") for k in keys)
    assert b"u1," not in raw and "u1" not in keys


def test_drop_columns_and_personal_data_flags(tmp_path):
    text = ("user_id,event,timestamp,email,ip_address,plan\n"
            "u1,a,2024-01-01T00:00:00Z,ann@example.com,10.0.0.1,free\n")
    project = tmp_path / "p.journey"
    summary = import_file(project, write(tmp_path, "a.csv", text), ImportOptions(drop_columns=("email",)))
    assert summary.personal_data_columns == ["ip_address"]
    with Project.open(project) as p:
        props = {name: column.value_at(0) for name, column in p.load_event_log().event_properties.items()}
    assert props == {"ip_address": "10.0.0.1", "plan": "free"}
    with pytest.raises(InputError, match="nosuch"):
        import_file(tmp_path / "q.journey", tmp_path / "a.csv", ImportOptions(drop_columns=("nosuch",)))


def test_sessions_from_gap_and_from_column(tmp_path):
    gap = ("user,event,time\nu1,a,2024-01-01T00:00:00Z\nu1,b,2024-01-01T00:29:00Z\n"
           "u1,c,2024-01-01T01:00:00Z\nu2,a,2024-01-01T01:00:00Z\n")
    import_file(tmp_path / "g.journey", write(tmp_path, "g.csv", gap))
    with Project.open(tmp_path / "g.journey") as p:
        assert p.load_event_log().session.tolist() == [0, 0, 1, 2]
    assert [e["session"] for e in stored_events(tmp_path / "g.journey")] == [0, 0, 1, 0]
    column = ("user,event,time,session_id\nu1,a,2024-01-01T00:00:00Z,s1\nu1,b,2024-01-01T05:00:00Z,s1\n"
              "u1,c,2024-01-01T05:01:00Z,s2\n")
    import_file(tmp_path / "c.journey", write(tmp_path, "c.csv", column))
    with Project.open(tmp_path / "c.journey") as p:
        assert p.load_event_log().session.tolist() == [0, 0, 1]


def test_ties_keep_file_order(tmp_path):
    text = "user,event,time\nu1,b,2024-01-01T00:00:00Z\nu1,a,2024-01-01T00:00:00Z\nu1,c,2024-01-01T00:00:00Z\n"
    import_file(tmp_path / "p.journey", write(tmp_path, "t.csv", text))
    with Project.open(tmp_path / "p.journey") as p:
        log = p.load_event_log()
    assert [log.event_names[e] for e in log.event] == ["b", "a", "c"]


def test_project_open_in_another_process_gives_a_clear_message(tmp_path):
    project = tmp_path / "p.journey"
    import_file(project, write(tmp_path, "a.csv", BASIC))
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        Path(str(project) + ".lock").write_text(str(holder.pid))
        with pytest.raises(ProjectBusy) as err:
            import_file(project, write(tmp_path, "b.csv", BASIC.replace("u1", "u7")))
        assert "another Journey Explorer process" in str(err.value) and str(holder.pid) in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    # The holder has gone: its stale lock is taken over (u2's rows repeat the first file: duplicates).
    summary = import_file(project, tmp_path / "b.csv")
    assert (summary.imported, summary.duplicates) == (3, 2)


def test_unknown_override_column_is_named(tmp_path):
    with pytest.raises(InputError, match="--user names column 'who'"):
        import_file(tmp_path / "p.journey", write(tmp_path, "a.csv", BASIC), ImportOptions(user="who"))


def test_all_rows_rejected_is_a_fatal_error(tmp_path):
    text = "user,event,time\nu1,a,yesterday\nu2,b,tomorrow\n"
    with pytest.raises(InputError, match="none of the 2 rows"):
        import_file(tmp_path / "p.journey", write(tmp_path, "a.csv", text))
    assert not (tmp_path / "p.journey").exists()


def test_not_a_project_file(tmp_path):
    fake = tmp_path / "fake.journey"
    fake.write_text("hello")
    with pytest.raises(JourneyError, match="not a Journey Explorer project"):
        Project.open(fake)


def test_event_catalog_counts(tmp_path):
    import_file(tmp_path / "p.journey", write(tmp_path, "a.csv", BASIC))
    with Project.open(tmp_path / "p.journey") as p:
        catalog = p.event_catalog().set_index("name")
        p.rename_event("login", "Sign In")
        p.merge_events(["purchase"], "Sign In")
        p.set_hidden("signup")
        log = p.load_event_log()
    assert catalog.loc["login", "events"] == 2 and catalog.loc["login", "users"] == 2
    assert catalog.loc["signup", "users"] == 2 and catalog.loc["purchase", "users"] == 1
    assert log.event_names == ("Sign In",) and len(log) == 3
    assert np.all(log.event == 0)


def test_a_european_spreadsheet_export_keeps_its_decimal_commas_as_numbers(tmp_path):
    """Semicolons, German column names, day.month.year times and decimal commas, as a spreadsheet saves a
    CSV in Germany."""
    from journey_explorer.store.project import Project
    source = tmp_path / "export.csv"
    source.write_text("kunde;ereignis;zeitstempel;betrag\n"
                      "a;view;03.02.2025 10:15;\n"
                      "a;order;03.02.2025 10:20;1.234,50\n"
                      "b;order;14.02.2025 09:00;12,50\n"
                      "c;order;28.02.2025 18:30;7\n", encoding="cp1252")
    importer.import_file(tmp_path / "p.journey", source)
    with Project.open(tmp_path / "p.journey") as project:
        log = project.load_event_log()
    amounts = log.event_properties["betrag"]
    assert sorted(amounts.value_at(i) for i in range(len(log)) if amounts.value_at(i) is not None) == [7, 12.5, 1234.5]
    assert str(np.datetime64(int(log.ts.max()), "ms")) == "2025-02-28T18:30:00.000"


def test_identical_rows_of_a_file_with_minute_times_are_said_to_be_maybe_repeats(tmp_path):
    source = tmp_path / "minutes.csv"
    source.write_text("user,event,time\na,scroll,2025-02-03 10:15\na,scroll,2025-02-03 10:15\na,buy,2025-02-03 10:16\n")
    summary = importer.import_file(tmp_path / "p.journey", source)
    assert summary.duplicates == 1
    assert any(note.startswith("The file gives times to the minute: the 1 identical rows") for note in summary.notes)
    assert "import with 'Keep identical rows' to keep every row" in summary.describe()      # as the window names it
    assert "--keep-identical-rows" in summary.describe(lambda field: "--" + field.replace("_", "-"))
    kept = importer.import_file(tmp_path / "k.journey", source, ImportOptions(keep_identical_rows=True))
    assert (kept.duplicates, kept.imported) == (0, 3)
    seconds = tmp_path / "ms.csv"
    seconds.write_text("user,event,time\nb,scroll,2025-02-03 10:15:00.120\nb,scroll,2025-02-03 10:15:00.120\n")
    assert not any("gives times" in note for note in importer.import_file(tmp_path / "q.journey", seconds).notes)
