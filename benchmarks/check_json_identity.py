"""Does a change to the JSON readers change anything they give? Two code trees, the same inputs, compared.

    python benchmarks/check_json_identity.py --before /tmp/main-code --after . [--cases 3000]

For each JSON / JSON Lines file in the data folders (``--data``, default /work/notes/data and
/work/shared/data), each tree imports it into a fresh project in its own process, and every table
of the two projects is compared row by row (``sources.imported_at`` aside: it is the clock), or
the two error messages when the import fails. Then the JSON-family samples of ``fuzz_readers.py``
(JSON Lines, JSON, Segment, Amplitude zip, Mixpanel, PostHog, GA4), seeded and mutated the same way in
both trees, are read as the importer reads them: columns, every cell with its Python type, line
numbers, rejected lines with their reasons, user traits, or the error message. Exit status 1 on
any difference.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_FOLDERS = ("/work/notes/data", "/work/shared/data")
JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz", ".ndjson")
FUZZ_KINDS = ("events.jsonl", "events.json", "events.jsonl.gz", "segment.jsonl", "amplitude.zip",
              "mixpanel.jsonl", "posthog.jsonl", "ga4.jsonl")
CLOCK_COLUMNS = {("sources", "imported_at"), ("_sqlite_migrations", "applied_at")}


# --- in the child process (PYTHONPATH = one tree) -------------------------------------------------


def project_tables(project: str) -> dict[str, str]:
    """A digest of each table's rows in rowid order (or in full order when it has no rowid)."""
    conn = sqlite3.connect(project)
    tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    out = {}
    for table in tables:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info('{table}')")]
        kept = [c for c in columns if (table, c) not in CLOCK_COLUMNS]
        select = ", ".join(f'"{c}"' for c in kept)
        try:
            rows = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid').fetchall()
        except sqlite3.OperationalError:            # WITHOUT ROWID
            rows = sorted(conn.execute(f'SELECT {select} FROM "{table}"').fetchall(), key=repr)
        digest = hashlib.sha256(repr(kept).encode())
        for row in rows:
            digest.update(repr(row).encode())
        out[table] = f"{len(rows)} rows {digest.hexdigest()[:16]}"
    conn.close()
    return out


def import_digest(source: str, folder: str) -> dict:
    from journey_explorer.domain import JourneyError
    from journey_explorer.store.importer import import_file
    project = os.path.join(folder, "check.journey")
    try:
        summary = import_file(project, source)
    except JourneyError as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "project_left": os.path.exists(project)}
    return {"imported": summary.imported, "rejected": summary.rejected, "tables": project_tables(project)}


def reader_digest(path: str, fmt: str) -> str:
    """Everything a reader gives the importer, as text: cells with their types, lines, rejections."""
    from journey_explorer.domain import ImportOptions, JourneyError
    from journey_explorer.io.sources import open_source
    try:
        reader = open_source(path, ImportOptions(format=fmt))
        parts = [repr(reader.columns()), repr(sorted(reader.user_traits().items()))]
        for chunk in reader.chunks(25):
            parts.append(repr(chunk.lines.tolist()))
            parts.append(repr([(r.line, r.reason, r.raw) for r in chunk.rejected]))
            for column in chunk.frame.columns:
                parts.append(repr([(type(v).__name__, v) for v in chunk.frame[column].tolist()]))
    except JourneyError as exc:
        return f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is compared like any outcome
        return f"UNEXPECTED {type(exc).__name__}: {exc}"
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def write_fuzz_cases(folder: str, cases: int, seed: int) -> None:
    """The mutated files, written once for both trees (a zip or gzip sample carries the time it was
    made, so each process making its own would mutate different bytes)."""
    sys.path.insert(0, str(HERE))
    import fuzz_readers
    rng = random.Random(seed)
    kinds = [sample for sample in fuzz_readers.samples() if sample[0] in FUZZ_KINDS]
    kinds += edge_samples()
    listing = []
    for case in range(cases):
        name, fmt, data = kinds[case % len(kinds)]
        os.makedirs(os.path.join(folder, str(case)))
        with open(os.path.join(folder, str(case), name), "wb") as handle:
            handle.write(data if case < len(kinds) else fuzz_readers.mutate(data, rng))
        listing.append((os.path.join(str(case), name), fmt))
    with open(os.path.join(folder, "cases.json"), "w") as handle:
        json.dump(listing, handle)


def fuzz_digests(folder: str) -> list[str]:
    with open(os.path.join(folder, "cases.json")) as handle:
        listing = json.load(handle)
    return [f"{name}: {reader_digest(os.path.join(folder, name), fmt).replace(folder, '<folder>')}"
            for name, fmt in listing]


def edge_samples() -> list[tuple[str, str, bytes]]:
    """Lines the scanner's fast path must hand to json.loads (or read exactly as it does)."""
    lines = ['{"user": "u1", "event": "a", "time": "2024-01-01T00:00:00Z", "n": 1}',
             ' {"user": "u1", "event": "b", "time": "2024-01-01T00:00:01Z", "n": 1.0}',      # leading space
             '{"user": "u1", "event": "c", "time": "2024-01-01T00:00:02Z", "n": 1e400} \t',   # trailing space, inf
             '\ufeff{"user": "u1", "event": "d", "time": "2024-01-01T00:00:03Z"}',           # a BOM mid-file
             '{"user": "u1", "event": "e", "time": "2024-01-01T00:00:04Z", "n": NaN}',
             '{"user": "u1", "event": "f", "time": "2024-01-01T00:00:05Z", "n": 123456789012345678901234567890}',
             '{"user": "u1", "event": "g", "time": "2024-01-01T00:00:06Z", "s": "\\ud800"}',  # a lone surrogate
             '{"user": "u1", "event": "h", "time": "2024-01-01T00:00:07Z", "k": 1, "k": "two"}',
             '{"user": "u1", "event": "i", "time": "2024-01-01T00:00:08Z", "deep": ' + "[" * 3000 + "]" * 3000 + "}",
             '{"user": "u1", "event": "j", "time": "2024-01-01T00:00:09Z"}{"x": 1}',
             '[1, 2]', '"text"', '{"user": "u1", "event": "k", "time": "2024-01-01T00:00:10Z", "n": -0}',
             '{"user": "u1", "event": "l", "time": "2024-01-01T00:00:11Z", "bad": "a\tb"}',   # a raw tab
             '{"user": "u1", "event": "m", "time": "2024-01-01T00:00:12Z", "o": {"p": {"q": [1, {"r": null}]}}}',
             '{"user": "u1", "event": "n", "time": "2024-01-01T00:00:13Z", "n": 2}\x0b']
    text = "\n".join(lines) + "\n"
    return [("edges.jsonl", "jsonl", text.encode("utf-8", "surrogatepass")),
            ("edges_crlf.jsonl", "jsonl", text.replace("\n", "\r\n").encode("utf-8", "surrogatepass"))]


def child(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "import":
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(import_digest(argv[1], folder)).replace(folder, "<folder>"))
    else:
        print(json.dumps(fuzz_digests(argv[1])))


# --- the comparison -----------------------------------------------------------------------------


def run_in(tree: str, *args: str) -> object:
    env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve()), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"the child in {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def json_files(folders: list[str]) -> list[Path]:
    found = []
    for folder in folders:
        if os.path.isdir(folder):
            found += [p for p in sorted(Path(folder).iterdir()) if p.name.lower().endswith(JSON_SUFFIXES)]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the code tree to compare against (holds journey_explorer/)")
    parser.add_argument("--after", default=str(HERE.parent))
    parser.add_argument("--data", action="append", help="a folder of files to import (repeatable)")
    parser.add_argument("--cases", type=int, default=3000, help="fuzzed reader cases (0: none)")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    differences = 0
    for path in json_files(args.data or list(DATA_FOLDERS)):
        before, after = run_in(args.before, "import", str(path)), run_in(args.after, "import", str(path))
        same = before == after
        differences += not same
        print(f"{path.name:24} {'identical' if same else 'DIFFERENT'}  "
              f"{before.get('imported', before.get('error'))} imported, {len(before.get('tables', {}))} tables")
        if not same:
            for key in sorted(set(before.get("tables", {})) | set(after.get("tables", {}))):
                if before.get("tables", {}).get(key) != after.get("tables", {}).get(key):
                    print(f"    {key}: {before.get('tables', {}).get(key)} -> {after.get('tables', {}).get(key)}")
            if "error" in before or "error" in after:
                print(f"    {before.get('error')} -> {after.get('error')}")
    if args.cases:
        with tempfile.TemporaryDirectory(prefix="journey-json-fuzz-") as folder:
            write_fuzz_cases(folder, args.cases, args.seed)
            before, after = run_in(args.before, "fuzz", folder), run_in(args.after, "fuzz", folder)
        unlike = [(b, a) for b, a in zip(before, after) if b != a]
        errors = sum("Error:" in b or "UNEXPECTED" in b for b in before)
        print(f"fuzzed JSON readers: {len(before):,} cases (seed {args.seed}; {errors:,} end in a message), "
              f"{len(unlike)} different")
        for b, a in unlike[:20]:
            print(f"    {b}\n    -> {a}")
        differences += len(unlike)
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
