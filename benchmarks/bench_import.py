"""Import speed and memory, side by side with the raw limit, in one run.

    python benchmarks/bench_import.py --events 1000000
    python benchmarks/bench_import.py --events 10000000 --skip-raw
    python benchmarks/bench_import.py --events 1000000 --properties 3

The raw limit (DESIGN.md) is pandas ``read_csv`` + dictionary-encoded ``executemany`` + one index,
with none of the checks a real import does. Each measurement runs in its own process so its peak
RSS is its own. Targets (issue 2): ≤ 1.3× the raw limit's time at 1M events; (issue 16) 10M events
≤ 12 s and ≤ 2.5× DuckDB's ``CREATE TABLE AS SELECT * FROM read_csv_auto`` of the same file, in time and
in file size, peak RSS ≤ 1.5 GB. The journey import takes its pyarrow fast path when pyarrow is installed.

Measured for issue 16 (the file-order events stored as compressed chunks, ``store.event_chunks``,
instead of one SQL row per event), 2 cores shared with other jobs (load average 3-4, so wall times
swing ±30 %): this script from /tmp with ``PYTHONPATH`` = the code before / after, before and after
interleaved, 3 runs each, medians (``--skip-raw``, the CSV kept in ``--folder``):

    10M events / 2M users   import s   CPU s   / DuckDB CTAS   peak RSS    file MB (DuckDB 260)
      before                  26.4      20.6       1.41x        1.50 GB    420.7 (1.62x)
      after                   17.3      12.8       1.14x        1.42 GB    233.0 (0.90x)
                              (best after run: 13.1 s wall, DuckDB 9.4 s in the same run)
    1M events / 200k users
      before                   2.5       2.4       1.20x        0.31 GB     41.0 (1.77x)
      after                    1.3       2.0       0.85x        0.33 GB     22.4 (0.97x)

Opening the 10M project (5 alternating fresh processes, medians): ``load_arrays`` 1.43 -> 1.02 s,
``load_event_log`` 2.05 -> 1.64 s, ``verify`` 4.55 -> 1.55 s (it no longer counts 10M rows).
Upgrading a 10M-event schema-4 project to chunks (migration m005, backup copy included): 27 s.

Issue 16, 10M under 12 s with margin (``--before`` side: main at f192eed extracted to a folder; this
script from /tmp with ``PYTHONPATH`` = either, alternated, the CSV kept in ``--folder``). Profiled
first (py-spy, per-phase clocks, an RSS sampler): reading ~6.7 s (of it the users' one hash table
over 10M cells ~1.5 s on one core, at the end, while the reading had left most of a core idle),
planning ~2.7 s on one core (the (user, time) argsort ~1 s, gathering every column by it ~0.6 s),
writing ~2.7 s; peak RSS in the write phase. Changed: the users of the file's first half are
dictionary-encoded on a thread while the second half is read, the rest seeded with their values
(the same codes; ``arrow_csv.whole_column_dictionary``'s ``head``), and the text cells and that
dictionary are handed back to pyarrow's allocator once the column is encoded; the sorted columns are
gathered on two threads. Tried and dropped: encoding the cache's columns on the writing thread too
(two columns' temporaries at once: peak 1.62 GB), a two-thread argsort merged by searchsorted (3x
slower than one argsort), pyarrow kernels for the users' strip and blank checks (no faster than
Python's). The project's tables are byte-identical to f192eed's (1M import compared table by table).
2 alternated rounds, load 1.4-1.6 (DuckDB's CTAS 8.7-9.2 s here against ~7 s on a quiet machine):

    10M events / 2M users   import s        / DuckDB CTAS     peak RSS MB    file MB
      before                  15.74, 14.90    1.71x, 1.70x    1,384, 1,429   233.0 (0.90x)
      after                   12.90, 14.71    1.48x, 1.67x    1,305, 1,354   233.0 (0.90x)

Earlier rounds the same hour (load 1.9-2.9, during other helpers' test suites): before 13.72, 19.47,
13.20 s; after 18.93 and 12.22 s (with the dropped cache change: peak 1,615 MB) and 14.27 s (head on a
pool thread that stayed alive: peak 1,501 MB). Still to do: the same rounds on a quiet machine (the
parts' own clocks suggest ~0.6-0.8 s saved, this morning's quiet 12.3 s to about 11.6 s: not yet
measured so); the users' hash table could be split further.

JSON Lines exports (``--compare FILE --tree BEFORE --tree AFTER``: each file imported by each code
tree in turn, alternated; ``benchmarks/check_json_identity.py`` shows every table of the imported
projects equal, and 3,000 fuzzed reader cases too). Profiled first (py-spy, the 371k-line Amplitude
export j_game.jsonl, ~20 s): parsing the lines with ``json.loads`` ~19 %, of it ~3 points the
checks' Python frames around the C scanner; Python's cyclic collector ~7 s of CPU at load 5 (8 full
passes over the growing records); the Amplitude normaliser ~17 %; the importer's per-row property
JSON and property codes ~27 %. Changed: a line the C scanner reads whole from its first character
takes the scanner's value (exactly what ``json.loads`` returns for it; every other line still goes
to ``json.loads`` for its value or message), the collector is paused while a reader builds its
records (``structured.collection_paused``), the property columns' missing cells are looked up once per
chunk (were twice), a vendor row's properties are added in one dict update. Not done, and why:
``pyarrow.json.read_json`` parses j_game in 2.6 s against 4.7-7.9 s for the per-line loop (load 2-5),
but its records as Python dicts (``to_pylist``, which the vendor normalisers need) cost another
4.8 s, and its merged column types (1 -> 1.0, struct fields in schema order, not each record's key
order) would need a columnar normaliser per vendor to stay identical; orjson is no dependency here.
2 alternated rounds, load 3.4-3.9 (other helpers' suites ran beside; CPU seconds are the steadier figure):

    file (rows)                 wall s (medians)    rows/s            CPU s         peak RSS MB
    j_game.jsonl (370,871)      30.89 -> 21.25      12,007 -> 17,453  19.7 -> 16.9  1,791 -> 1,791
    travel.jsonl (241,598)       9.82 ->  7.41      24,605 -> 32,597   8.7 ->  7.9    868 ->   868

Runs: j_game before 33.15, 28.62 s (CPU 17.9, 21.4), after 20.54, 21.96 s (CPU 17.8, 16.0); travel
before 12.37, 7.27 s (CPU 9.7, 7.7), after 8.52, 6.30 s (CPU 9.1, 6.7). An earlier round at load
2.1-2.7 with only the scanner and the collector change: j_game 20.37 -> 19.14 s, travel 9.10 -> 8.63 s
(3 runs each, medians); rounds at load 9-17 the same hour said nothing either way. The rest of a JSON
import is Python per record and per cell (normalisers, per-row property JSON, property codes): the
next cut is there, not in the parsing.

Excel and a German export (judge report 3, #1): m_xlsx.xlsx (332,341 rows x 10 columns, 15 MB, no <dimension>
in the sheet) took three ~4-minute attempts: openpyxl's read-only mode parses the whole sheet to size it before
the first row, the whole sheet was read before the columns were checked, the event was guessed as the device
column and the day/month order asked about. Now calamine parses the sheet (Rust), only the first 5,000 rows
become Python values before the mapping is checked, equal texts share one string and calamine's copy is
released before the last chunk is encoded; the event is named (Aktion) and the order read from the column.
``--compare FILE --tree BEFORE --tree AFTER --tree-options '{"event": "Aktion", "date_order": "dmy"}'
--tree-options '{}'`` (the branch start needs both hints; the change none), alternated, not under the bench
lock (its queue was 7 deep), load 3.3-4.7:

    file (rows)                            wall s (median)   CPU s         peak RSS MB
    m_xlsx.xlsx (332,341), 1 round         175.21 -> 18.21   83.9 -> 15.9  776 -> 566
    x60k.xlsx (its first 60,000), 2 rounds  18.05 ->  3.28   17.1 ->  4.0  263 -> 230
    m_xlsx_semicolon.csv (332,341), 3       2.66 ->  2.90    2.3 ->  3.1  310 -> 327

The CSV twin's extra ~0.3 s is the day/month order read from the column (a 50k-row pass until a day above 12)
instead of the hint. The reader alone (open + every row as a frame, under the lock at load 9-10 before, load ~8
after): 441.8 s -> 29.6 s, the two frames equal cell for cell and type for type.

10M-event CSV (issue 16), this pass: only profiled (py-spy, load ~10, so ~5x slow): the main thread
spent 32 % reading (pyarrow's parse, the event and time columns per batch), 23 % encoding at the
end (the second half's users hash table ~11 %), 21 % planning (the (user, time) sort ~5 %), 16 %
writing (the users' json_each insert ~8 %: SQLite's json_each scan of 2M keys is most of it; multi-row
VALUES and executemany measured no faster). Nothing changed; no quiet machine to time it on.

10M-event CSV (issue 16), 2 December, main at 25b08e9 as ``before`` (extracted to a folder), 10M events /
2M users. Profiled first (py-spy, per-phase clocks, an RSS sampler; load 7.7): of the main thread,
reading 28 %, encoding at the end 17 % (the second half's users hash table 13 %), planning 32 % (the
(user, time) argsort 16 %, the users' Python strip ~5 %), writing 22 % (the users' json_each insert 13 %,
beside the chunk encoding on the second thread). Changed: the (user, time) order from two SIMD sorts of
packed values instead of one argsort when a user's rank among its rows fits beside the user and the
time (``planning.order_by_sorting_values``; else the argsort as before); the users' head carried on to
3/4 and 7/8 of the rows when the step before is done (``reading.HEAD_SHARES``), so the end encodes the
last eighth, not the second half; the users' strip and blank checks in Python only for values with a
space character at either end or empty (``arrow_csv.may_strip``, one pass in C). Same project: every
table byte-identical to 25b08e9's at 1M (the bench_speed CSV) and at 10M (this CSV); the CLI's JSON
of retention, lifecycle, interval, stuck, graph and changes byte-identical on those 1M projects.
Per-phase clocks (``/tmp/perf_phases.py``-style wrappers, fresh process each), 3 alternated rounds
under the lock, load 5.5 -> 4.1 (other helpers' unlocked jobs kept both cores busy):

    10M events / 2M users      wall s (rounds)             CPU s (rounds)        peak RSS MB
      before                   25.01, 24.79, 14.43         16.2, 15.6, 15.7      1,252-1,302
      after                    21.42, 27.33, 11.27         14.7, 16.8, 14.2      1,258-1,295
    medians per phase (wall / CPU): encoding at the end 4.28 / 2.94 s -> 3.69 / 2.87 s, planning
    5.06 / 3.54 s -> 4.59 / 3.10 s; reading and writing unchanged within the spread.

This script right after (load 4.1, the same CSV, ``--skip-raw``): import 12.12 s against DuckDB's CTAS
8.21 s (1.48x), CPU 15.3 s, peak RSS 1,339 MB, file 230.5 MB against 260.3 MB (0.89x); loading the
event log 0.75 s. The round at load 4.1-4.6 above (14.43 -> 11.27 s) is the nearest to a quiet machine
today; 12 s here is met at that load only in the better runs: the target wants a quiet machine to confirm.
Whole imports after the full suite (``--compare CSV --tree before --tree after --rounds 2``, load 4.0-4.5):
before 18.88, 15.63 s (median 17.25 s, CPU 16.9 s, peak 1,344 MB), after 17.54, 16.17 s (median 16.86 s,
CPU 15.6 s, peak 1,311 MB): ~1 s of CPU less (~7 %), the wall time within the rounds' spread.
Tried and measured, not kept: nothing else. Left: the users' json_each insert (~1.1 s of CPU at 2M
keys, in SQLite), pyarrow's parse (~1.5-2 s CPU), the digest thread's SHA-256 beside the reading.

10M-event CSV (issue 16), 3 December, session 22: this VM charges the first touch of a page heavily and
unevenly (a fresh process touching 2 GB: 20 s one hour, 0.5 s another; freed pages are handed back to the
host within seconds), so an import's wall time follows the pages it faults in, not its CPU. At 698fc7f
an import faulted in 4.95 GB for a 1.2 GB peak (perf: ``clear_page_erms`` 24-27 % of all samples).
Changed: planning and writing keep their freed temporaries for reuse (``memory.kept_while``, given back
between the phases); ``encode_column`` works in the values' own width, joins its blob once and the
cache's columns share one scratch array (a worker thread's 80 MB array is always a fresh mapping);
the sorted user and time columns come from the sort's keys and a first import's ids from the order
(three random 10M-row gathers fewer). Pages faulted in 4.95 -> 2.2 GB, peak RSS 1.17-1.31 GB; every
table byte-identical to 698fc7f's (1M, 1M with 3 property columns, 10M, three files into one project).
``--compare`` against 698fc7f, alternated: 4 rounds 12.79 -> 11.04 s (CPU 15.8 -> 14.5 s), 5 rounds
12.02 -> 10.14 s (CPU 15.2 -> 12.7 s); in a slow hour 14.51 -> 13.04 s. The standard run (with DuckDB)
swung with the host: 10.0-11.9 s against CTAS 4.0-4.8 s (2.45-2.84x) in a quick hour, 16.2-18.3 s
against 6.2-7.5 s (2.23-2.76x) in a slow one. Tried, not kept: the users' last part encoded alone and
matched to the head's values (``index_in``; median 12.09 -> 13.29 s, more CPU on two busy cores),
1 MB or 4 MB parse blocks (no steady gain; 1 MB raised the peak to 1.45 GB), huge pages (compaction
made a 400 MB touch 2-8x slower).

10M-event CSV (issue 16), 4 December, session 23, against 09d3309 (session 22's end). Per-phase clocks,
page faults and an RSS sampler per phase, py-spy, and each batch's arrival time showed: the reading's
first batches came 0.4-0.5 s apart while the digest ran (its ``bytes.count`` held the GIL ~2 ms per 4 MB
block), then 0.05 s; the commit took 0.55-0.85 s (56,000 pages of 4 kB written at once); the writer
waited ~0.5 s for the cache's encoding, queued behind the chunks on one thread; the users' insert
(~0.8 s) ran alone while a core idled; the users' last dictionary step took ~2 s on one core, the other
idle; planning and writing each gave back their memory and faulted it in again. Changed: one kept
part from the reading to the commit, given back between the plan and the writing (faults 2.27 ->
1.5-1.7 GB); 64 kB pages for a new project, and a 20 MB page cache while it is built aside, so SQLite
writes pages out as it goes (commit 0.3 s); the transaction begins before the plan and the users go in
on a second thread while the events are sorted on this one (a worker's big arrays would be fresh
mappings); the cache's encoding on a thread of its own beside the chunks'; the users' last dictionary
step in two halves on two cores (``arrow_csv.dictionary_codes_two_ways``, 1.8-2.2 -> 1.35-1.55 s); the
digest counts lines with numpy, looks for byte order marks itself, runs at a lower priority, and the
fast path checks its line count as soon as it is known (at the latest after the encoding). Every
table identical to 09d3309's at 10M, at 1M with 3 property columns, and for three overlapping files
imported in turn into one project. Tried, not kept: the users encoded chunk by chunk as they are read
(64-bit hashes in numpy, a persistent ``UInt64Factorizer``, every cell checked against its value's
text; the same codes, but ~3 s of CPU against pyarrow's ~2.3 s on a reading phase already using both
cores: no faster), the users' head at other shares (within the noise), no copies of the kept columns
(the faults moved to the plan).

    alternated before/after/after/before, 3 rounds, fresh process each, quick hour (load ~1):
      before (09d3309)   median 9.60 s (8.35-11.48), CPU 12.3 s
      after              median 7.64 s (6.69-9.08),  CPU 11.6 s
    this script right after (with DuckDB): import 7.62 / 8.66 / 9.66 s against CTAS 4.25 / 4.64 /
    4.60 s = 1.79x / 1.87x / 2.10x; peak RSS 1,233-1,251 MB; file 231.7 MB = 0.89x DuckDB's;
    loading the event log 0.31-0.35 s. At 1M: 0.97 s against 1.01 s before (8 rounds), file 23.5 MB
    (1.02x DuckDB's; 64 kB pages). GUI thread during a 10M import (bench_gui_latency): longest gap 70 ms.
    With 3 property columns (``--properties 3``, 614 MB CSV): ~10.4 s either side, 1.81x CTAS, file
    0.91x; peak RSS 1,486 MB before, 1,561-1,569 MB with the reading's freed memory kept into the plan,
    1,492-1,507 MB once it is given back before the plan (the last change; faults +0.4 GB). After it,
    without properties: 8.05 / 8.54 s against CTAS 4.23 / 4.67 s (1.90x / 1.83x), peak 1,244-1,248 MB.

Issue 16, the peak with property columns (4 December, session 24). An RSS timeline with each step's
VmHWM (10 ms samples miss the spikes: read VmHWM) put the peak in the plan: the sorted copies were
gathered on two worker threads, and glibc serves a worker's big arrays from an arena of its own on
fresh pages while the memory the sort had just freed sat unused in the main heap (+150 MB); the
file-order property columns stayed alive to the end of the plan; session numbers made three 80 MB
temporaries; the new events' ids were an 80 MB ``arange``. Changed: the copies are allocated on the
import's thread and the workers fill them (``np.take(out=)``), each column is let go of once taken,
session numbers are computed in place, the new ids are a ``range``. Tables identical to a55c4ea's (1M
with 3 property columns; three overlapping files in turn). The gathers went 0.48 -> 0.19 s (no fresh
pages). Alternated B/A/A/B x2, fresh processes, ``VmHWM`` MiB, quiet machine:

    10M events, 3 property columns (614 MB)   seconds (median)   CPU s         peak RSS MiB
      before (a55c4ea)                          9.39              13.9-14.8     1,505-1,543
      after                                     8.95              12.7-15.2     1,348-1,392
    10M events, no property columns
      before                                    7.11              10.4-11.3     1,210-1,238
      after                                     7.07              10.4-10.9     1,197-1,212
    this script after it: 3 property columns 11.42 s against CTAS 6.08 s (1.88x), peak 1,373 MiB, file
    0.91x; none: 7.91 s against 4.15 s (1.91x), peak 1,211 MiB, file 0.89x.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

EVENT_NAMES = [f"event_{i:02d}" for i in range(40)]
# Property columns of the --properties option: a few-valued text, a ~50-valued text, a number.
PROPERTY_COLUMNS = {
    "platform": lambda rng, n: np.array(["ios", "android", "web"])[rng.integers(0, 3, n)],
    "country": lambda rng, n: np.char.add("c", rng.integers(0, 50, n).astype(str)),
    "price": lambda rng, n: np.round(rng.gamma(2.0, 20.0, n), 2).astype(str),
}


def generate_csv(path: Path, events: int, users: int, seed: int = 1, properties: int = 0) -> None:
    """user_id,event,timestamp rows (ISO 8601 UTC) and ``properties`` extra columns, written in
    chunks to bound memory."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "ms")
    extra = list(PROPERTY_COLUMNS)[:properties]
    with open(path, "w") as handle:
        handle.write(",".join(["user_id", "event", "timestamp", *extra]) + "\n")
        for offset in range(0, events, 1_000_000):
            n = min(1_000_000, events - offset)
            user = rng.integers(0, users, n)
            event = rng.zipf(1.6, n) % len(EVENT_NAMES)
            ms = rng.integers(0, 180 * 86_400_000, n)
            stamps = np.datetime_as_string(start + ms.astype("timedelta64[ms]"), unit="ms")
            frame = pd.DataFrame({"user_id": np.char.add("user_", user.astype(str)),
                                  "event": np.array(EVENT_NAMES)[event],
                                  "timestamp": np.char.add(stamps.astype(str), "Z")})
            for name in extra:
                frame[name] = PROPERTY_COLUMNS[name](rng, n)
            frame.to_csv(handle, header=False, index=False)


def raw_limit(csv_path: str, db_path: str) -> dict:
    """The floor: parse, encode, executemany, one index. No validation, no sessions, no cache."""
    import sqlite3
    started = time.perf_counter()
    frame = pd.read_csv(csv_path, dtype=str)
    ts = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True).astype("int64") // 1_000_000
    users, user_keys = pd.factorize(frame["user_id"])
    events, event_keys = pd.factorize(frame["event"])
    # property columns, dictionary-encoded like the others (one integer column each)
    extra = [c for c in frame.columns if c in PROPERTY_COLUMNS]
    codes = [pd.factorize(frame[c])[0].tolist() for c in extra]
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER, event_type_id INTEGER, ts INTEGER"
                 + "".join(f", {c} INTEGER" for c in extra) + ")")
    conn.executemany(f"INSERT INTO events(user_id, event_type_id, ts{''.join(', ' + c for c in extra)}) "
                     f"VALUES (?, ?, ?{', ?' * len(extra)})",
                     zip(users.tolist(), events.tolist(), ts.tolist(), *codes))
    conn.execute("CREATE INDEX events_user_ts ON events(user_id, ts)")
    conn.commit()
    conn.close()
    return {"seconds": time.perf_counter() - started}


def duckdb_ctas(csv_path: str, db_path: str) -> dict:
    """DuckDB's own import of the same file: ``CREATE TABLE AS SELECT * FROM read_csv_auto``."""
    import duckdb
    started = time.perf_counter()
    conn = duckdb.connect(db_path)
    conn.execute(f"CREATE TABLE events AS SELECT * FROM read_csv_auto('{csv_path}')")
    conn.close()
    return {"seconds": time.perf_counter() - started}


def journey_import(csv_path: str, db_path: str, options: dict | None = None) -> dict:
    from journey_explorer.domain import ImportOptions
    from journey_explorer.store.importer import import_file
    try:
        from journey_explorer.memory import no_huge_page_advice
        no_huge_page_advice()           # as the app and the command line do (a --tree from before has none)
    except ImportError:
        pass
    started = time.perf_counter()
    summary = import_file(db_path, csv_path, ImportOptions(**(options or {})))
    return {"seconds": time.perf_counter() - started, "imported": summary.imported}


def load_log(csv_path: str, db_path: str) -> dict:
    from journey_explorer.memory import keep_freed_memory
    from journey_explorer.store.project import Project
    keep_freed_memory()                 # as the app and the CLI do for everything but an import
    started = time.perf_counter()
    with Project.open(db_path) as project:
        log = project.load_event_log()
    return {"seconds": time.perf_counter() - started, "events": len(log)}


def cpu_seconds() -> float:
    """This process's CPU time (user + system, all threads): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM resets at exec, unlike ru_maxrss after a fork)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(kind: str, csv_path: str, db_path: str, tree: str | None = None, options: dict | None = None) -> dict:
    """Run one measurement in a fresh process (with ``tree``'s code when given, and import ``options``);
    add its peak RSS and the file size."""
    extra = f", {options!r}" if options else ""
    code = (f"import json, resource, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import bench_import as b; r = b.{kind}({csv_path!r}, {db_path!r}{extra}); "
            "r['peak_rss_mb'] = b.peak_rss_mb(); r['cpu_seconds'] = b.cpu_seconds(); print(json.dumps(r))")
    env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())} if tree else None
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if os.path.exists(db_path):
        result["file_mb"] = os.path.getsize(db_path) / 1e6
    return result


def compare_trees(files: list[str], trees: list[str], rounds: int, options: list[dict] | None = None) -> None:
    """Import each file with each code tree in turn, ``rounds`` times (alternated: the machine's load
    falls on both alike); each import's seconds, rows/s and peak RSS, then the medians. ``options``:
    the import options of each tree (e.g. the hints an older tree needs), default none."""
    options = options or [{} for _ in trees]
    with tempfile.TemporaryDirectory(prefix="journey-bench-") as temporary:
        for path in files:
            results: dict[str, list[dict]] = {tree: [] for tree in trees}
            for round_number in range(rounds):
                for tree in trees if round_number % 2 == 0 else trees[::-1]:
                    project = os.path.join(temporary, f"compare-{round_number}-{len(results[tree])}.journey")
                    result = run_child("journey_import", path, project, tree, options[trees.index(tree)])
                    results[tree].append(result)
                    os.remove(project)
                    print(f"  {os.path.basename(path)} {tree}: {result['seconds']:.2f} s "
                          f"({result['imported'] / result['seconds']:,.0f} rows/s, CPU {result['cpu_seconds']:.1f} s, "
                          f"peak {result['peak_rss_mb']:,.0f} MB, load {os.getloadavg()[0]:.1f})", flush=True)
            for tree, runs in results.items():
                seconds = float(np.median([r["seconds"] for r in runs]))
                cpu = float(np.median([r["cpu_seconds"] for r in runs]))
                print(f"{os.path.basename(path)} {tree}: median {seconds:.2f} s, {runs[0]['imported'] / seconds:,.0f} rows/s, "
                      f"CPU {cpu:.1f} s, peak RSS {max(r['peak_rss_mb'] for r in runs):,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", nargs="+", metavar="FILE",
                        help="import these files with each --tree in turn instead (alternated rounds)")
    parser.add_argument("--tree", action="append", help="a folder holding journey_explorer/ (with --compare)")
    parser.add_argument("--tree-options", action="append", metavar="JSON",
                        help="with --compare: each --tree's import options in turn, e.g. "
                             "'{\"event\": \"Aktion\", \"date_order\": \"dmy\"}' for a tree that needs hints")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=None, help="default: events / 5")
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--folder", help="keep the generated CSV here and reuse it (default: a temporary folder)")
    parser.add_argument("--properties", type=int, default=0, choices=range(len(PROPERTY_COLUMNS) + 1),
                        help="extra property columns in the generated file (0-3)")
    args = parser.parse_args()
    if args.compare:
        options = [json.loads(text) for text in args.tree_options] if args.tree_options else None
        compare_trees(args.compare, args.tree or [str(Path(__file__).resolve().parents[1])], args.rounds, options)
        return
    users = args.users or max(args.events // 5, 1)
    with tempfile.TemporaryDirectory(prefix="journey-bench-") as temporary:
        folder = args.folder or temporary
        csv_path = os.path.join(folder, f"events-{args.events}-{users}-{args.properties}.csv")
        started = time.perf_counter()
        if not os.path.exists(csv_path):
            generate_csv(Path(csv_path), args.events, users, properties=args.properties)
        print(f"generated {args.events:,} events / {users:,} users / {args.properties} property columns "
              f"({os.path.getsize(csv_path) / 1e6:.0f} MB CSV) in {time.perf_counter() - started:.1f} s")
        rows = []
        if not args.skip_raw:
            rows.append(("raw limit", run_child("raw_limit", csv_path, os.path.join(temporary, "raw.db"))))
        if not args.skip_duckdb:
            duck = os.path.join(temporary, "duck.duckdb")
            rows.append(("duckdb CTAS", run_child("duckdb_ctas", csv_path, duck)))
        project = os.path.join(temporary, "bench.journey")
        rows.append(("journey import", run_child("journey_import", csv_path, project)))
        rows.append(("load event log", run_child("load_log", csv_path, project)))
        print(f"{'':16} {'seconds':>8} {'events/s':>12} {'peak RSS MB':>12} {'file MB':>8} {'CPU s':>7}")
        for name, r in rows:
            print(f"{name:16} {r['seconds']:8.2f} {args.events / r['seconds']:12,.0f} "
                  f"{r['peak_rss_mb']:12,.0f} {r.get('file_mb', 0):8.1f} {r['cpu_seconds']:7.1f}")
        by_name = dict(rows)
        journey = by_name["journey import"]
        if "raw limit" in by_name:
            print(f"import / raw limit: {journey['seconds'] / by_name['raw limit']['seconds']:.2f}x (target ≤ 1.3x)")
        if "duckdb CTAS" in by_name:
            duck = by_name["duckdb CTAS"]
            print(f"import / duckdb CTAS: {journey['seconds'] / duck['seconds']:.2f}x time, "
                  f"{journey['file_mb'] / duck['file_mb']:.2f}x file size (targets ≤ 2.5x each)")


if __name__ == "__main__":
    main()
