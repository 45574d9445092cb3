"""What changed over 26 weeks: time of ``changes.run`` on an in-memory log (target ≤ 2 s at 1M events /
200k users, issue 12).

    python benchmarks/bench_changes.py                       # 1M events, 200k users
    python benchmarks/bench_changes.py --events 200000 --users 40000

The log is generated with numpy: users arrive over 26 weeks and walk a small shop (30 event types,
browsing, cart, checkout, payment, goal, errors) with a planted three-week payment outage, so the
scan has real funnel steps, transitions and a change to find. Prints the time per user and per
session (wall and CPU: on a shared machine the CPU time is the steadier figure), and whether the
outage came out on top.

Measured (2 cores shared, load average ~7): per user best 1.4-2.0 s wall, 0.56 s CPU; per session
1.1-2.4 s wall, 0.59 s CPU; the outage comes out on top both ways.

The per-value funnel scan (``change_segments``), outages first and the stricter recovery (branch chg):
main vs the branch, each run a process of this script, interleaved in one hold of /tmp/bench.lock
(load 2.0-2.4), best of 3 per run, per user / per session:
1M, no properties (2 rounds): main 0.76 / 0.69 and 0.77 / 0.79 s -> branch 0.68 / 0.63 and 0.66 / 0.86 s
(the same work: no property to scan; noise). 1M, ``--properties`` (2 rounds): main 1.31 / 1.08 and
1.38 / 1.37 s -> branch 1.51 / 1.54 and 1.41 / 1.39 s. 10M, ``--properties`` (1 round): main 10.3 / 11.4 s
-> branch 14.7 / 15.6 s; of the ~4 s, ~1.4 s was ``pathprops.without_outcomes`` (a DataFrame groupby per
property, now a bincount on the factorized codes) and ~1.3 s the per-value counts (factorize, a
bincount per step x property). After the former was replaced, a second hold of the lock (load 1.0-1.3):
10M ``--properties`` main 9.44 / 10.24 s -> branch 9.96 / 10.11 s; 10M without properties main 6.46 / 9.30 s
-> branch 7.27 / 7.44 s (the same work: noise); 1M ``--properties`` (2 rounds) main 0.94 / 1.05 and
1.21 / 1.27 s -> branch 1.10 / 1.20 and 1.16 / 1.03 s. So the pass costs ~0.1-0.5 s at 10M with four
properties, within the noise at 1M. ``bench_speed.py --only changes`` (1M, no properties, 1 run each):
0.66 s -> 0.83 s against DuckDB's 1.41 / 1.48 s (0.47x -> 0.56x; the same work as main there).
The top story is the same everywhere.

The goal's outcome first, launches, and a case extract's warm-up and drain left out (branch changes5):
main (b32fcef) vs the branch, each a process of this script, interleaved in one hold of /tmp/bench.lock
(load 2.3 -> 2.0), 1M events, no properties, best of 3 per run, per user / per session: round 1 main
0.38 / 0.52 s -> branch 0.46 / 0.51 s; round 2 main 0.39 / 0.42 s -> branch 0.58 / 0.59 s. So ~0.1-0.2 s
more (the median path duration and the new paths per week, each a pass over the log); same top story.

Renames counted as one (``hygiene.likely_renames`` before the scan), slow transitions censored for
their own gap, new steps (branch chg2): main (1b7a53e) vs the branch, each a process of this script,
interleaved in one hold of /tmp/bench.lock (load 5.9 -> 4.6), 1M events, no properties, best of 3,
per user / per session: with the full pair facts (hygiene's PairFacts and judging on every log) round 1
main 1.30 / 1.39 s (CPU 0.71 / 0.70) -> branch 1.95 / 2.21 s (CPU 1.06 / 1.09), round 2 main
1.36 / 1.37 s -> branch 2.37 / 2.13 s (CPU 1.17 / 1.15): ~0.4 s CPU more. Hence the cheap test first
(``_one_ends_before_another_begins``: a rename needs one name's events all before another's, one
group quantile pass): on projects without a rename it alone decides, in 0.02-0.11 s in process
(m_control, 500k events: 0.09 s). Second hold of the lock, with that test (load 2.7 -> 2.2), the same
way: round 1 main 0.48 / 0.52 s -> branch 0.61 / 0.69 s, round 2 main 0.53 / 0.56 s -> branch
0.70 / 0.74 s (CPU = wall): ~0.15 s more at 1M (the test, the slow transitions' own gaps, new steps).
The top story is the same everywhere.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DAY = 86_400_000
MONDAY = 1704067200000                # 2024-01-01
WEEKS = 26
BROWSE = [f"page_{i}" for i in range(22)]
CHECKOUT = ["cart", "checkout", "payment_details", "purchase"]
ERRORS = ["payment_error", "support_chat"]
OUTAGE_WEEKS = (12, 15)


PROPERTIES = {"country": ["US", "GB", "DE", "FR", "IN", "BR"], "plan": ["free", "pro", "team"],
              "platform": ["web", "ios", "android"], "age": ["18-24", "25-34", "35-49", "50-64", "65+"]}


def generate(events: int, users: int, seed: int = 7, properties: bool = False):
    """Sorted arrays for an EventLog: about ``events`` events by ``users`` users (with ``properties``, four
    user properties of a handful of values each, drawn at random: work for the per-value scan)."""
    from journey_explorer.eventlog import EventLog, compute_sessions
    rng = np.random.default_rng(seed)
    names = BROWSE + CHECKOUT + ERRORS
    code = {name: i for i, name in enumerate(names)}
    start = MONDAY + rng.integers(0, WEEKS * 7 * DAY - DAY, users)
    week = (start - MONDAY) // (7 * DAY)
    outage = (week >= OUTAGE_WEEKS[0]) & (week < OUTAGE_WEEKS[1])
    browse_len = np.maximum(rng.poisson(events / users - 1.3, users), 1)     # checkout adds ~1.3
    carts = rng.random(users) < 0.45
    reach_pay = carts & (rng.random(users) < 0.6)
    error = reach_pay & (rng.random(users) < np.where(outage, 0.7, 0.05))
    buys = reach_pay & (rng.random(users) < np.where(error, 0.25, 0.5))
    lengths = browse_len + carts * 2 + reach_pay + error + buys
    user = np.repeat(np.arange(users), lengths)
    position = np.arange(len(user)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    event = rng.integers(0, len(BROWSE), len(user))
    tail = position - np.repeat(browse_len, lengths)                        # 0, 1, ... after browsing
    steps = [(carts, code["cart"]), (carts, code["checkout"]), (reach_pay, code["payment_details"])]
    for k, (who, step) in enumerate(steps):
        event[(tail == k) & who[user]] = step
    last_step = tail == len(steps)
    event[last_step & error[user]] = code["payment_error"]
    event[last_step & ~error[user] & buys[user]] = code["purchase"]
    event[(tail == len(steps) + 1) & buys[user]] = code["purchase"]
    ts = start[user] + position * 40_000 + rng.integers(0, 20_000, len(user))
    session = compute_sessions(user, ts, 30 * 60_000)
    keys = np.array([f"u{i}" for i in range(users)], dtype=object)
    import pandas as pd
    table = (pd.DataFrame({name: np.array(values, dtype=object)[rng.integers(0, len(values), users)]
                           for name, values in PROPERTIES.items()}) if properties else None)
    return EventLog(user=user.astype(np.int32), event=event.astype(np.int32), ts=ts.astype(np.int64),
                    session=session, event_names=tuple(names), user_keys=keys, default_goal="purchase",
                    user_properties=table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--properties", action="store_true", help="four user properties of a few values each")
    args = parser.parse_args()
    from journey_explorer.analysis import changes
    from journey_explorer.analysis.common import CommonFilter, apply_filter
    log = generate(args.events, args.users, properties=args.properties)
    print(f"{len(log):,} events, {log.n_users:,} users, {len(log.event_names)} event types")
    for by in ("user", "session"):
        paths = apply_filter(log, CommonFilter(by=by))
        times, cpu = [], []
        for _ in range(3):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = changes.run(paths, changes.Spec(paths=by))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        top = result.stories[0]["headline"] if result.stories else "(no change found)"
        print(f"per {by}: best {min(times):.2f} s (CPU {min(cpu):.2f} s), first {times[0]:.2f} s over "
              f"{result.periods.count} {result.periods.unit}s, {result.series_tested} series; top: {top}")


if __name__ == "__main__":
    main()
