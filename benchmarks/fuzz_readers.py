"""Seeded fuzzing of every reader: mutate small valid files, read each as the importer does, count outcomes.

    PYTHONPATH=. python benchmarks/fuzz_readers.py --cases 10000 --seed 15

Each case is a valid sample (CSV, TSV, JSON, JSON Lines, vendor exports, XES, OCEL, Excel, Parquet,
Snowplow, and .gz/.zip wrappings) with 1-4 random byte flips, deletions, insertions, duplications or
a truncation. Outcomes: "read" (the reader accepted it, perhaps rejecting rows), "message" (an error of
the app's own, ``JourneyError``), "unexpected" (anything else: a bug, listed by type and place).
Exit status 1 when any case was unexpected.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import io
import json
import os
import random
import sys
import tempfile
import time
import traceback
import zipfile

from journey_explorer.domain import ImportOptions, JourneyError
from journey_explorer.io.sources import open_source


def _csv(rows: int = 60, delimiter: str = ",") -> bytes:
    lines = [delimiter.join(["user", "event", "time", "plan"])]
    lines += [delimiter.join([f"u{i % 7}", f"e{i % 5}", f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                              '"pro, annual"' if delimiter == "," and i % 9 == 0 else "free"])
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _xlsx() -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["user", "event", "time"])
    for i in range(40):
        sheet.append([f"u{i % 7}", f"e{i % 5}", f"2024-01-01T00:00:{i % 60:02d}Z"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _parquet() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    buffer = io.BytesIO()
    pq.write_table(pa.table({"user": [f"u{i % 7}" for i in range(60)], "event": ["e"] * 60,
                             "time": ["2024-01-01T00:00:00Z"] * 60, "tags": [["a", "b"]] * 60}), buffer)
    return buffer.getvalue()


def _xes() -> bytes:
    events = "".join(f'<event><string key="concept:name" value="a{j}"/>'
                     f'<date key="time:timestamp" value="2024-01-01T00:00:0{j}Z"/></event>' for j in range(5))
    traces = "".join(f'<trace><string key="concept:name" value="c{i}"/>{events}</trace>' for i in range(10))
    return f'<?xml version="1.0"?><log xes.version="1.0">{traces}</log>'.encode()


def _ocel() -> bytes:
    events = {f"e{i}": {"ocel:activity": f"a{i % 3}", "ocel:timestamp": f"2024-01-01T00:00:0{i % 9}Z",
                        "ocel:omap": [f"o{i % 4}"], "ocel:vmap": {}} for i in range(30)}
    objects = {f"o{i}": {"ocel:type": "order", "ocel:ovmap": {}} for i in range(4)}
    return json.dumps({"ocel:global-log": {"ocel:object-types": ["order"]}, "ocel:global-event": {},
                       "ocel:global-object": {}, "ocel:events": events, "ocel:objects": objects}).encode()


def samples() -> list[tuple[str, str, bytes]]:
    """(file name, format option, content) of one small valid file per reader and wrapping."""
    segment = _jsonl({"type": "track", "userId": f"u{i % 7}", "event": f"e{i % 5}",
                      "timestamp": "2024-01-05T10:00:00Z", "properties": {"plan": "pro"}} for i in range(60))
    amplitude = _jsonl({"user_id": f"u{i}", "event_type": "e", "event_time": "2024-01-01 00:00:01.000000",
                        "uuid": f"id{i}"} for i in range(60))
    mixpanel = _jsonl({"event": f"e{i % 5}", "properties": {"distinct_id": f"u{i % 7}", "time": 1704067200 + i,
                                                           "$insert_id": f"i{i}"}} for i in range(60))
    posthog = _jsonl({"event": f"e{i % 5}", "distinct_id": f"u{i % 7}", "timestamp": "2024-01-01T00:00:00Z",
                      "uuid": f"x{i}", "properties": {"$browser": "Firefox"}} for i in range(60))
    ga4 = _jsonl({"event_name": f"e{i % 5}", "user_pseudo_id": f"u{i % 7}", "event_timestamp": 1704067200000000 + i,
                  "event_params": [{"key": "page", "value": {"string_value": "/"}}]} for i in range(60))
    records = [{"user": f"u{i % 7}", "event": f"e{i % 5}", "time": "2024-01-01T00:00:00Z", "n": {"a": i}}
               for i in range(60)]
    snowplow = ("\n".join("\t".join(["app", "web", "2024-01-01 00:00:00.000", "2024-01-01 00:00:00.000",
                                     "2024-01-01 00:00:00.000", "page_view", f"id{i}"] + [""] * 124)
                          for i in range(30)) + "\n").encode()
    return [
        ("events.csv", "auto", _csv()), ("events.tsv", "auto", _csv(delimiter="\t")),
        ("events_semicolon.csv", "auto", _csv(delimiter=";")),
        ("events.csv.gz", "auto", gzip.compress(_csv())), ("events.zip", "auto", _zip({"events.csv": _csv()})),
        ("events.jsonl", "auto", _jsonl(records)), ("events.json", "json", json.dumps(records).encode()),
        ("events.jsonl.gz", "auto", gzip.compress(_jsonl(records))),
        ("segment.jsonl", "segment", segment), ("amplitude.zip", "amplitude",
                                                _zip({"1/a_0.json.gz": gzip.compress(amplitude),
                                                      "1/a_1.json.gz": gzip.compress(amplitude)})),
        ("mixpanel.jsonl", "mixpanel", mixpanel), ("posthog.jsonl", "posthog", posthog),
        ("ga4.jsonl", "ga4", ga4), ("log.xes", "xes", _xes()), ("log.xes.gz", "xes", gzip.compress(_xes())),
        ("log.jsonocel", "ocel", _ocel()), ("events.xlsx", "xlsx", _xlsx()), ("events.parquet", "parquet", _parquet()),
        ("snowplow.tsv", "snowplow", snowplow),
    ]


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if len(data) < 2:
            break
        at, action = rng.randrange(len(data)), rng.random()
        if action < 0.45:
            data[at] = rng.randrange(256)
        elif action < 0.6:
            del data[at:at + rng.randint(1, 64)]
        elif action < 0.75:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif action < 0.85:
            size = rng.randint(1, 256)
            data[at:at] = data[at:at + size]
        elif action < 0.95:
            data[at:at] = rng.choice([b"\xef\xbb\xbf", b'"', b"\n", b"\r", b"\x00", b"[" * 50, b"\xff\xfe", b","])
        else:
            del data[at:]
    return bytes(data)


def read_all(path: str, fmt: str) -> None:
    reader = open_source(path, ImportOptions(format=fmt, object_type="order" if fmt == "ocel" else None))
    reader.columns()
    reader.preview()
    for _ in reader.chunks(25):
        pass
    reader.user_traits()


def run(cases: int, seed: int) -> int:
    rng = random.Random(seed)
    kinds = samples()
    outcomes = collections.Counter()
    by_kind = collections.defaultdict(collections.Counter)
    unexpected = collections.Counter()
    slowest = (0.0, "")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for case in range(cases):
            name, fmt, data = kinds[case % len(kinds)]
            path = os.path.join(folder, name)
            with open(path, "wb") as handle:
                handle.write(mutate(data, rng))
            began = time.perf_counter()
            try:
                read_all(path, fmt)
                outcome = "read"
            except JourneyError:
                outcome = "message"
            except Exception as exc:  # noqa: BLE001 - counting exactly these is the point
                outcome = "unexpected"
                place = traceback.extract_tb(exc.__traceback__)[-1]
                unexpected[f"{name}: {type(exc).__name__} at {os.path.basename(place.filename)}:{place.lineno}"] += 1
            took = time.perf_counter() - began
            slowest = max(slowest, (took, f"{name} case {case}"))
            outcomes[outcome] += 1
            by_kind[name][outcome] += 1
    print(f"{cases:,} cases (seed {seed}) in {time.perf_counter() - started:.0f} s; slowest {slowest[0]:.2f} s "
          f"({slowest[1]})")
    print("  ".join(f"{k}: {outcomes[k]:,}" for k in ("read", "message", "unexpected")))
    for name, counts in by_kind.items():
        print(f"  {name:22} read {counts['read']:5,}  message {counts['message']:5,}  unexpected {counts['unexpected']:3,}")
    for where, count in unexpected.most_common():
        print(f"  UNEXPECTED {count:5,}  {where}")
    return 1 if unexpected else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    return run(args.cases, args.seed)


if __name__ == "__main__":
    sys.exit(main())
