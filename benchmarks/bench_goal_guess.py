"""The goal guess's scoring (``goals._score_parts``) on imported projects, this code against an older goals.py.

    python benchmarks/bench_goal_guess.py /tmp/k_fintech.journey /tmp/learn1m.journey --before OLD/goals.py

``--before``: a goals.py of an earlier commit (``git show COMMIT:journey_explorer/analysis/goals.py > old.py``),
loaded beside this one (it imports the rest of the package from here). The two are timed in turns, in the same
process on the same loaded log, ``--rounds`` times each; the medians are printed. The guess runs in every CLI
command that has no stored goal (the bench note: ~0.1 s at 1M events).

Measured (usage after a conversion, branch goal5; before = b32fcef's goals.py), 9 rounds each, interleaved,
under ``flock /tmp/bench.lock``, load average 2.2 (2 cores):
  fintech at 1M (gen_k_fintech.py 33000 7: the rule fires)  1,005,139 events  147.0 ms -> 189.9 ms
  learn1m                                                     983,568 events   67.8 ms ->  75.7 ms
  harden_1m                                                 1,000,000 events  125.1 ms -> 132.1 ms
  k_fintech (the rule fires)                                  335,505 events   35.7 ms ->  52.8 ms
  k_o2c (the rule fires)                                      153,065 events   23.5 ms ->  41.7 ms
  j_game                                                      370,871 events   29.6 ms ->  30.7 ms
Where no event is usage after a conversion the check costs ~1-8 ms (a few best-scoring events, each reading
only the pairs of the events that could be its gate); where one is, the conversion's rescoring reads every
(path, event) pair a few times (~20 ms at 1M). A first version read every pair of the usage event's paths per
candidate: fintech at 1M +0.4 s (load 10, so roughly doubled).
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from journey_explorer.analysis import goals  # noqa: E402
from journey_explorer.store.project import Project  # noqa: E402


def load_module(path: str):
    spec = importlib.util.spec_from_file_location("goals_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(module, log) -> float:
    module._REACH.pop(log, None)              # the reach counts are kept per log: count them each time
    started = time.perf_counter()
    module._score_parts(log)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("projects", nargs="+")
    parser.add_argument("--before", help="an older goals.py to time against")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    versions = {"now": goals}
    if args.before:
        versions = {"before": load_module(args.before), **versions}
    for path in args.projects:
        with Project.open(path) as project:
            log = project.load_event_log(with_properties=True)
        times = {name: [] for name in versions}
        for _ in range(args.rounds):
            for name, module in versions.items():
                times[name].append(timed(module, log))
        medians = "  ".join(f"{name} {statistics.median(values) * 1000:7.1f} ms" for name, values in times.items())
        print(f"{Path(path).stem:16s} {len(log):>10,} events  {medians}", flush=True)


if __name__ == "__main__":
    main()
