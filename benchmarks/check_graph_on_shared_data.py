"""Check the path graph against a plain pandas directly-follows count on real logs.

    python benchmarks/check_graph_on_shared_data.py [../shared/data]

Each file is imported through the real pipeline; the reference reads the same file independently
(pandas/ElementTree), sorts by (case, UTC time, file order) and counts consecutive pairs. Exact
duplicate events are dropped from the reference too, as the importer skips them.
"""
from __future__ import annotations

import gzip
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from journey_explorer.analysis import graph
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

CSV_COLUMNS = {"running-example.csv": ("case:concept:name", "concept:name", "time:timestamp", ","),
               "receipt.csv": ("case:concept:name", "concept:name", "time:timestamp", ","),
               "sepsis.csv": ("Case ID", "Activity", "Complete Timestamp", ";")}


def reference_from_csv(path: Path, user: str, event: str, time: str, sep: str) -> pd.DataFrame:
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)   # a case may be called "NA"
    raw = frame[time].str.replace("/", "-", n=2, regex=False)
    return pd.DataFrame({"user": frame[user], "event": frame[event],
                         "ts": pd.to_datetime(raw, format="ISO8601", utc=True)})


def reference_from_xes(path: Path) -> pd.DataFrame:
    ns = "{http://www.xes-standard.org/}"
    rows = []
    root = ET.fromstring(gzip.decompress(path.read_bytes()))
    for trace in root.iter(f"{ns}trace"):
        case = next(a.get("value") for a in trace if a.get("key") == "concept:name")
        for event in trace.iter(f"{ns}event"):
            attributes = {a.get("key"): a.get("value") for a in event}
            rows.append((case, attributes["concept:name"], attributes["time:timestamp"]))
    frame = pd.DataFrame(rows, columns=["user", "event", "ts"])
    frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601", utc=True)
    return frame


def directly_follows(frame: pd.DataFrame) -> dict:
    frame = frame.drop_duplicates(["user", "event", "ts"]).reset_index(names="order")
    frame = frame.sort_values(["user", "ts", "order"], kind="stable")
    frame["next"] = frame.groupby("user")["event"].shift(-1)
    return frame.dropna(subset=["next"]).groupby(["event", "next"]).size().to_dict()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[2] / "shared" / "data")
    for path in sorted(folder.iterdir()):
        if path.name in CSV_COLUMNS:
            expected = directly_follows(reference_from_csv(path, *CSV_COLUMNS[path.name]))
        elif path.name.endswith(".xes.gz"):
            expected = directly_follows(reference_from_xes(path))
        else:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "check.journey"
            import_file(project, path)
            with Project.open(project) as p:
                result = graph.run(p.load_event_log())
        got = {(e["source"], e["target"]): e["count"] for e in result.edges()}
        status = "same" if got == expected else "DIFFERENT"
        print(f"{path.name:22} {len(got):4} edges, {sum(got.values()):6} transitions: {status}")


if __name__ == "__main__":
    main()
