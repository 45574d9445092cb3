"""The insight analyses (goal guess, value event, stuck points, compare, drivers) on a large random log.

    python benchmarks/bench_insight.py --events 1000000 --users 200000

Random paths (Zipf-distributed event names over 180 days, as in bench_import), with the rarest
common event as the goal; each analysis is timed in-process on the same in-memory ``EventLog``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from journey_explorer.analysis import compare, drivers, goals, interval, stuck  # noqa: E402
from journey_explorer.analysis.common import CommonFilter, apply_filter  # noqa: E402
from journey_explorer.eventlog import DEFAULT_SESSION_GAP_MS, EventLog, compute_sessions  # noqa: E402


def random_log(events: int, users: int, seed: int = 1) -> EventLog:
    rng = np.random.default_rng(seed)
    user = rng.integers(0, users, events)
    names = tuple(f"event_{i:02d}" for i in range(30))
    event = (rng.zipf(1.6, events) % len(names)).astype(np.int32)
    ts = rng.integers(0, 180 * 86_400_000, events)
    order = np.lexsort((ts, user))
    user, event, ts = user[order].astype(np.int32), event[order], ts[order]
    keys = np.array([f"user_{i}" for i in range(users)], dtype=object)
    return EventLog(user=user, event=event, ts=ts, session=compute_sessions(user, ts, DEFAULT_SESSION_GAP_MS),
                    event_names=names, user_keys=keys)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    args = parser.parse_args()
    log = random_log(args.events, args.users)
    reach = np.bincount(log.event, minlength=len(log.event_names))
    goal = log.event_names[int(np.argsort(reach)[len(reach) // 2])]      # a middling event as the goal
    print(f"{len(log):,} events, {log.paths_count:,} users, goal {goal}")
    sessions = apply_filter(log, CommonFilter(by="session"))
    runs = {"goal guess": lambda: goals.guess_goal(log), "value event": lambda: interval.value_event(log),
            "stuck": lambda: stuck.run(log, stuck.Spec(goal=goal)),
            "stuck per session": lambda: stuck.run(sessions, stuck.Spec(goal=goal, unit="sessions")),
            "compare": lambda: compare.run(log, compare.Spec(goal=goal)),
            "drivers": lambda: drivers.run(log, drivers.Spec(goal=goal))}
    for name, run in runs.items():
        started = time.perf_counter()
        run()
        print(f"{name}: {time.perf_counter() - started:.2f} s", flush=True)


if __name__ == "__main__":
    main()
