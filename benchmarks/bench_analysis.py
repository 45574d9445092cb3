"""Path graph and flows against DuckDB answering the same counting question, in one run.

    python benchmarks/bench_analysis.py --events 1000000
    python benchmarks/bench_analysis.py --events 10000000 --skip-duckdb

Measured (issue 3): whole-process `journey-explorer graph` and `flows --steps 10` on an imported
project vs DuckDB reading the CSV in a fresh process; in-process, each view vs DuckDB on an in-memory
table; at 10M events each view ≤ 1.5 s with peak RSS ≤ 2 GB.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_import import generate_csv, peak_rss_mb  # noqa: E402

DIRECTLY_FOLLOWS_SQL = """
SELECT event, next_event, count(*) AS n FROM (
    SELECT event, lead(event) OVER (PARTITION BY user_id ORDER BY ts, rownum) AS next_event
    FROM events)
WHERE next_event IS NOT NULL GROUP BY ALL
"""
FLOW_SQL = """
SELECT step, event, count(*) FROM (
    SELECT event, row_number() OVER (PARTITION BY user_id ORDER BY ts, rownum) AS step FROM events)
WHERE step <= 10 GROUP BY ALL
"""
LOAD_SQL = ("CREATE TABLE events AS SELECT user_id, event, timestamp AS ts, row_number() OVER () AS rownum "
            "FROM read_csv('{csv}', header=true, columns={{'user_id': 'VARCHAR', 'event': 'VARCHAR', "
            "'timestamp': 'TIMESTAMPTZ'}})")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def duckdb_fresh_process(csv: str, sql: str) -> float:
    code = ("import duckdb; c = duckdb.connect(); "
            f"c.execute({LOAD_SQL.format(csv=csv)!r}); c.execute({sql!r}).fetchall()")
    return timed([sys.executable, "-c", code])


def duckdb_in_process(csv: str) -> dict[str, float]:
    import duckdb
    connection = duckdb.connect()
    connection.execute(LOAD_SQL.format(csv=csv))
    out = {}
    for name, sql in (("graph", DIRECTLY_FOLLOWS_SQL), ("flows", FLOW_SQL)):
        started = time.perf_counter()
        connection.execute(sql).fetchall()
        out[name] = time.perf_counter() - started
    return out


def ours_in_process(project: str) -> dict[str, float]:
    from journey_explorer.analysis import flows, graph
    from journey_explorer.memory import keep_freed_memory
    from journey_explorer.store.project import Project
    keep_freed_memory()                          # as the app and the CLI do
    started = time.perf_counter()
    with Project.open(project) as p:
        log = p.load_event_log()
    out = {"load": time.perf_counter() - started}
    for name, call in (("graph", lambda: graph.run(log)), ("flows", lambda: flows.run(log, flows.Spec(steps=10)))):
        call()                                   # warm
        started = time.perf_counter()
        call()
        out[name] = time.perf_counter() - started
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-duckdb", action="store_true")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "journey_explorer.cli"]
    with tempfile.TemporaryDirectory(prefix="journey-bench-") as folder:
        csv, project = os.path.join(folder, "events.csv"), os.path.join(folder, "bench.journey")
        generate_csv(Path(csv), args.events, max(args.events // 5, 1))
        subprocess.run(cli + ["import", project, csv, "--json"], check=True, stdout=subprocess.DEVNULL)
        print(f"{args.events:,} events, {args.events // 5:,} users")
        graph_cli = timed(cli + ["graph", project, "--json"])
        flows_cli = timed(cli + ["flows", project, "--steps", "10", "--json"])
        code = (f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_analysis as b; "
                f"print(json.dumps(b.ours_in_process({project!r})))")
        ours = eval(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                   text=True).stdout.strip())
        print(f"whole process   journey graph {graph_cli:6.2f} s   journey flows --steps 10 {flows_cli:6.2f} s")
        print(f"in process      load {ours['load']:.2f} s   graph {ours['graph']:.3f} s   flows {ours['flows']:.3f} s"
              f"   peak RSS {ours['peak_rss_mb']:,.0f} MB")
        if not args.skip_duckdb:
            fresh_graph = duckdb_fresh_process(csv, DIRECTLY_FOLLOWS_SQL)
            fresh_flows = duckdb_fresh_process(csv, FLOW_SQL)
            duck = duckdb_in_process(csv)
            print(f"duckdb process  graph {fresh_graph:6.2f} s   flows {fresh_flows:6.2f} s")
            print(f"duckdb in-mem   graph {duck['graph']:.3f} s   flows {duck['flows']:.3f} s")
            print(f"ratios          whole process graph {graph_cli / fresh_graph:.2f}x flows {flows_cli / fresh_flows:.2f}x"
                  f" | in process graph {ours['graph'] / duck['graph']:.2f}x flows {ours['flows'] / duck['flows']:.2f}x")


if __name__ == "__main__":
    main()
