"""What a segment or a breakdown on a property adds to a view's time (issue 12: at most 50 %).

    python benchmarks/bench_properties.py                 # 1M events, 200k users, 3 property columns
    python benchmarks/bench_properties.py --events 200000 --users 40000

A synthetic log is built in memory (no import): ``plan`` is user-level (4 values), ``platform``
session-level (3 values, missing on a tenth of the events), ``page`` event-level (40 values). For
each view: the time without a property, with a segment on a property (``platform=ios``, first touch,
filtering included), with a segment matched on any event, with a behavioural cohort, and with a
breakdown by ``plan``; best of ``--repeat`` runs, in process. Times are CPU seconds of this
process (``time.process_time``): on a machine shared with other work, wall-clock minima still swing
by 2x between runs, which would drown a 50 % budget.

Measured 2026-12-01 (2-core machine shared with other work; CPU s, plain -> added by breakdown /
segment first touch / segment any event / cohort; run-to-run noise about ±15 points):
  funnel 0.050 s: +12 % / +22 % / +17 % / +7 %      flows 0.122 s: +19 % / +25 % / +18 % / +19 %
  retention 0.605 s: +25 % / +16 % / +13 % / +22 %  overview 0.258 s: +24 % / +3 % / +2 % / +21 %
  compare 1.087 s (its "who" table included): -4 % / +5 % / +2 % / -4 %
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from journey_explorer.analysis import compare, flows, funnel, overview, retention  # noqa: E402
from journey_explorer.analysis.common import CommonFilter, apply_filter  # noqa: E402
from journey_explorer.eventlog import EventLog, PropertyColumn, compute_sessions  # noqa: E402

DAY = 86_400_000
EVENTS = ["visit", "search", "view", "cart", "checkout", "pay", "help", "login", "share", "export",
          "invite", "settings", "error", "logout", "upgrade", "rate", "comment", "like", "follow", "open"]


def synthetic_log(n_events: int, n_users: int, seed: int = 7) -> EventLog:
    rng = np.random.default_rng(seed)
    user = np.sort(rng.integers(0, n_users, n_events)).astype(np.int32)
    event = rng.choice(len(EVENTS), n_events, p=_weights()).astype(np.int32)
    # Minutes between clicks, and now and then a day or more: a few sessions per user.
    gaps = rng.exponential(3 * 60_000, n_events).astype(np.int64)
    away = rng.random(n_events) < 0.25
    gaps[away] += rng.exponential(3 * DAY, int(away.sum())).astype(np.int64)
    start = rng.integers(0, 180 * DAY, n_users)
    starts = np.ones(n_events, dtype=bool)
    starts[1:] = user[1:] != user[:-1]
    gaps[starts] = 0
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n_events), 0))
    ts = start[user] + (np.cumsum(gaps) - np.cumsum(gaps)[group_start])
    session = compute_sessions(user, ts, 30 * 60_000)
    plan = rng.choice(4, n_users, p=[0.6, 0.2, 0.15, 0.05])[user]
    platform_of_session = rng.choice(3, int(session[-1]) + 1, p=[0.5, 0.3, 0.2])
    platform = np.where(rng.random(n_events) < 0.1, -1, platform_of_session[session])
    page = rng.integers(0, 40, n_events)
    properties = {
        "plan": PropertyColumn(plan.astype(np.int32), np.array(["Free", "Starter", "Team", "Business"], dtype=object)),
        "platform": PropertyColumn(platform.astype(np.int32), np.array(["ios", "web", "android"], dtype=object)),
        "page": PropertyColumn(page.astype(np.int32), np.array([f"/page/{i}" for i in range(40)], dtype=object)),
    }
    return EventLog(user=user, event=event, ts=ts, session=session, event_names=tuple(EVENTS),
                    user_keys=np.array([f"u{i}" for i in range(n_users)], dtype=object),
                    event_properties=properties, default_goal="pay")


def _weights() -> np.ndarray:
    weights = 1 / np.arange(1, len(EVENTS) + 1)
    return weights / weights.sum()


VIEWS = {
    "funnel": lambda log, key: funnel.run(log, funnel.Spec(steps=("visit", "cart", "pay"), window_ms=30 * DAY,
                                                           breakdown=key)),
    "flows": lambda log, key: flows.run(log, flows.Spec(steps=10, breakdown=key)),
    "retention": lambda log, key: retention.run(log, retention.Spec(period="week", breakdown=key)),
    "overview": lambda log, key: overview.run(log, overview.Spec(goal="pay", breakdown=key)),
    "compare": lambda log, key: compare.run(log, compare.Spec(goal="pay", breakdown=key)),
}
# Segments that keep most paths, so the time measured is the segment's cost, not a smaller log.
SEGMENTS = {"segment": (("platform in ios,web,android",), "first"),
            "segment_any": (("platform in ios,web,android",), "any"),
            "cohort": (("did not upgrade >= 5 within 7d",), "first")}


def measure(log: EventLog, repeat: int) -> list[dict]:
    """Best of ``repeat`` per variant; the variants take turns, so a busy moment on a shared machine
    does not fall on one of them only."""
    rows = []
    for name, view in VIEWS.items():
        variants = {"plain": lambda view=view: view(apply_filter(log, CommonFilter()), None),
                    "breakdown": lambda view=view: view(apply_filter(log, CommonFilter()), "plan")}
        for label, (segment, match) in SEGMENTS.items():
            flt = CommonFilter(segment=segment, match=match)
            variants[label] = lambda flt=flt, view=view: view(apply_filter(log, flt), None)
        times = {label: [] for label in variants}
        for _ in range(repeat):
            for label, call in variants.items():
                started = time.process_time()
                call()
                times[label].append(time.process_time() - started)
        plain = min(times["plain"])
        row = {"view": name, "plain_s": round(plain, 3)}
        for label in list(variants)[1:]:
            seconds = min(times[label])
            row[f"{label}_s"] = round(seconds, 3)
            row[f"{label}_added"] = f"{seconds / plain - 1:+.0%}"
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    log = synthetic_log(args.events, args.users)
    print(f"log: {len(log):,} events, {log.n_users:,} users, {int(log.session[-1]) + 1:,} sessions "
          f"({time.perf_counter() - started:.1f} s to build)", flush=True)
    measure(log, args.repeat)


if __name__ == "__main__":
    main()
