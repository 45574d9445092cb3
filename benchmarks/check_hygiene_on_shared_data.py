"""Tracking-plan hygiene on real logs nobody here wrote: which merges it would suggest, what it calls broken.

    python benchmarks/check_hygiene_on_shared_data.py [../shared/data]

Each file is imported through the real pipeline into a temporary project. These are process-mining
logs with clean, fixed activity names: a suggested merge here would be a false pair, so the script
exits non-zero on any. Breakages are printed for a reader to judge (issue 17's note explains them).

Then, on the same real paths, a rename is planted: from the log's median time on, one of its
frequent activities is called by a re-spelling (``ER Registration`` -> ``er_registrations``) or by
an unrelated name (``Renamed step``). Each should come out as the top suggestion, and alone.
"""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from journey_explorer.analysis import hygiene
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

FILES = ("running-example.csv", "receipt.csv", "sepsis.csv", "helpdesk.xes.gz")


def check(path: Path, folder: str) -> int:
    project = Path(folder) / f"{path.name}.journey"
    import_file(project, path)
    with Project.open(project) as opened:
        log = opened.load_event_log()
    started = time.perf_counter()
    result = hygiene.run(log)
    seconds = time.perf_counter() - started
    print(f"{path.name}: {len(log):,} events, {len(log.event_names)} names, {seconds:.2f} s; "
          f"{len(result.suggestions)} suggested merges, {len(result.considered)} pairs judged in full")
    for suggestion in result.suggestions:
        print(f"  FALSE PAIR? {' + '.join(suggestion.names)} ({suggestion.confidence:.0%}): "
              f"{'; '.join(suggestion.evidence)}")
    for breakage in result.breakages:
        print(f"  broken? {breakage.message}")
    for note in result.notes:
        print(f"  note: {note}")
    return len(result.suggestions) + plant_renames(log)


def plant_renames(log) -> int:
    """Plant renames of the 2nd, 4th and 6th most frequent activities; returns the false pairs."""
    counts = np.bincount(log.event, minlength=len(log.event_names))
    cut = np.quantile(log.ts, 0.5)
    false_pairs = 0
    for code in np.argsort(-counts, kind="stable")[1:7:2]:
        old = log.event_names[code]
        for new in (old.lower().replace(" ", "_") + "s", "Renamed step"):
            event = log.event.copy()
            event[(event == code) & (log.ts >= cut)] = len(log.event_names)
            result = hygiene.run(replace(log, event=event, event_names=log.event_names + (new,)))
            found = [s for s in result.suggestions if set(s.names) == {old, new}]
            false_pairs += len(result.suggestions) - len(found)
            print(f"  planted {old!r} -> {new!r} from {hygiene.checks.iso_date(cut)}: "
                  + (f"found ({found[0].confidence:.0%}, rank {result.suggestions.index(found[0]) + 1})"
                     if found else "not found")
                  + (f"; {len(result.suggestions) - len(found)} other suggestion(s)" if len(result.suggestions) > len(found)
                     else ""))
    return false_pairs


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
    false_pairs = 0
    with tempfile.TemporaryDirectory(prefix="journey-hygiene-") as temp:
        for name in FILES:
            if (folder / name).exists():
                false_pairs += check(folder / name, temp)
    sys.exit(1 if false_pairs else 0)


if __name__ == "__main__":
    main()
