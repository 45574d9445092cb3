"""Do the logs import as before? One JSON line per file: the user column chosen, rows read / imported /
rejected, users and event types -- run with the old code and the new one, then compare the lines.

    PYTHONPATH=/work/main python benchmarks/check_import_identity.py > /tmp/ids_before.jsonl
    PYTHONPATH=$PWD      python benchmarks/check_import_identity.py > /tmp/ids_after.jsonl
    diff /tmp/ids_before.jsonl /tmp/ids_after.jsonl

Files: every event log in /work/notes/data and /work/shared/data (or the paths given), imported with
no column hints into a temporary project, as a client's first import would be.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from journey_explorer.domain import JourneyError
from journey_explorer.store.importer import import_file

FOLDERS = (Path("/work/notes/data"), Path("/work/shared/data"))
SUFFIXES = (".csv", ".jsonl", ".json", ".xes", ".gz", ".parquet")


def files(arguments: list[str]) -> list[Path]:
    if arguments:
        return [Path(a) for a in arguments]
    return sorted(p for folder in FOLDERS if folder.is_dir() for p in folder.iterdir()
                  if p.name.endswith(SUFFIXES))


def one(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        try:
            summary = import_file(Path(folder) / "p.journey", path)
        except JourneyError as exc:
            return {"file": path.name, "error": str(exc)[:200]}
    mapping = summary.mapping
    return {"file": path.name, "user": mapping.get("user"), "anonymous": mapping.get("anonymous"),
            "read": summary.read, "imported": summary.imported, "rejected": summary.rejected,
            "duplicates": summary.duplicates, "users": summary.users, "event_types": summary.event_types,
            "personal_data": summary.personal_data_columns}


if __name__ == "__main__":
    for path in files(sys.argv[1:]):
        print(json.dumps(one(path)), flush=True)
