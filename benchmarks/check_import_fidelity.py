"""Read / imported / duplicates / rejected per format: small fixtures in each vendor's documented
shape (written to a temp folder here), then the real logs in ../shared/data when present.

    python benchmarks/check_import_fidelity.py [--data /work/shared/data]

Each fixture carries one row of each kind the duplicate rule must tell apart: an exact repeat
(skipped), a same-time twin with another property value (kept), and, where the format has one, an
insert-id repeat (skipped by the vendor's rule).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from journey_explorer.store.importer import import_file

CSV = ("user_id,event,timestamp,plan,lifecycle\n"
       "u1,review,2024-01-01T10:00:00.000100Z,free,start\n"
       "u1,review,2024-01-01T10:00:00.000100Z,free,complete\n"     # same time, other lifecycle: kept
       "u1,review,2024-01-01T10:00:00.000610Z,free,complete\n"     # 510 µs later: kept
       "u1,review,2024-01-01T10:00:00.000100Z,free,start\n"        # exact repeat: skipped
       "u2,buy,not a time,pro,complete\n")                         # rejected


def fixtures(folder: Path) -> dict[str, Path]:
    out = {}
    out["csv"] = folder / "events.csv"
    out["csv"].write_text(CSV)
    out["tsv"] = folder / "events.tsv"
    out["tsv"].write_text(CSV.replace(",", "\t"))
    records = [{"user": "a", "event": "x", "ts": "2024-01-05T10:00:00Z", "meta": {"k": 1}, "tags": ["p", "q"]},
               {"user": "a", "event": "x", "ts": "2024-01-05T10:00:00Z", "meta": {"k": 2}, "tags": ["p", "q"]},
               {"user": "a", "event": "x", "ts": "2024-01-05T10:00:00Z", "meta": {"k": 1}, "tags": ["p", "q"]}]
    out["json lines"] = folder / "events.jsonl"
    out["json lines"].write_text("\n".join(json.dumps(r) for r in records) + "\n")
    frame = pd.DataFrame({"user_id": ["u1"] * 3, "event": ["a", "a", "a"],
                          "timestamp": pd.to_datetime(["2024-01-01T10:00:00Z"] * 3),
                          "case:signup": pd.to_datetime(["2023-01-01"] * 3), "amount": [1.5, 2.5, 1.5]})
    out["parquet"] = folder / "events.parquet"
    frame.to_parquet(out["parquet"])
    segment = [{"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m1",
                "timestamp": "2024-01-05T10:00:00Z", "properties": {"path": "/a"}},
               {"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m1",     # same messageId: skipped
                "timestamp": "2024-01-05T10:00:05Z", "properties": {"path": "/b"}},
               {"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m2",
                "timestamp": "2024-01-05T10:00:00Z", "properties": {"path": "/a"}}]
    out["segment"] = folder / "segment.jsonl"
    out["segment"].write_text("\n".join(json.dumps(r) for r in segment) + "\n")
    amplitude = [{"event_type": "open", "event_time": "2024-01-05 10:00:00.123456", "user_id": "u1",
                  "$insert_id": "i1", "event_properties": {"screen": "home"}},
                 {"event_type": "open", "event_time": "2024-01-05 10:00:09.000000", "user_id": "u1",
                  "$insert_id": "i1", "event_properties": {"screen": "home"}},                  # insert id: skipped
                 {"event_type": "open", "event_time": "2024-01-05 10:00:00.123456", "user_id": "u1",
                  "$insert_id": "i2", "event_properties": {"screen": "cart"}}]
    out["amplitude"] = folder / "amplitude.json"
    out["amplitude"].write_text("\n".join(json.dumps(r) for r in amplitude) + "\n")
    mixpanel = [{"event": "view", "properties": {"distinct_id": "u1", "time": 1704448800, "$insert_id": "a", "p": 1}},
                {"event": "view", "properties": {"distinct_id": "u1", "time": 1704448800, "$insert_id": "a", "p": 2}},
                {"event": "view", "properties": {"distinct_id": "u1", "time": 1704448801, "$insert_id": "a", "p": 1}}]
    out["mixpanel"] = folder / "mixpanel.jsonl"
    out["mixpanel"].write_text("\n".join(json.dumps(r) for r in mixpanel) + "\n")
    ga4 = [{"event_name": "page_view", "event_timestamp": "1704448800000100", "user_pseudo_id": "p1",
            "event_params": [{"key": "ga_session_id", "value": {"int_value": "1"}}]},
           {"event_name": "page_view", "event_timestamp": "1704448800000610", "user_pseudo_id": "p1",
            "event_params": [{"key": "ga_session_id", "value": {"int_value": "2"}}]}]
    out["ga4"] = folder / "ga4.jsonl"
    out["ga4"].write_text("\n".join(json.dumps(r) for r in ga4) + "\n")
    return out


def row(name: str, project: Path, source: Path) -> str:
    try:
        s = import_file(project, source)
    except Exception as exc:  # noqa: BLE001 - a report line, whatever happened
        return f"{name:22} {type(exc).__name__}: {exc}"[:150]
    lines = f" (lines {', '.join(map(str, s.duplicate_lines[:5]))})" if s.duplicate_lines else ""
    return f"{name:22} {s.format:10} {s.read:>8,} {s.imported:>9,} {s.duplicates:>5,}{lines:18} {s.rejected:>6,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()
    print(f"{'source':22} {'format':10} {'read':>8} {'imported':>9} {'dups':>5}{'':18} {'rejected':>6}")
    with tempfile.TemporaryDirectory(prefix="journey-fidelity-") as folder:
        folder = Path(folder)
        for name, path in fixtures(folder).items():
            print(row(name, folder / f"{name}.journey", path))
        data = Path(args.data)
        if not data.is_dir():
            data = Path("/work/shared/data")
        for path in sorted(data.glob("*")) if data.is_dir() else []:
            if path.suffix in (".md",):
                continue
            print(row(path.name, folder / f"shared-{path.name}.journey", path))


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main()
