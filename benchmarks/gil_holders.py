"""Which call held the GIL while the window could not respond: an import (or an analysis) on a worker
thread, a 5 ms tick on the main thread standing in for the GUI, and a sampler thread naming the lines.

    python benchmarks/gil_holders.py import events.csv
    python benchmarks/gil_holders.py stuck project.journey --goal pay

A tick more than ``--over`` ms late is a stall. The sampler wakes every millisecond; when it wakes late,
the GIL was held meanwhile, and the line each other thread stands on is the call that held it (it has
just returned, or is still running). A stall the sampler does not see was spent elsewhere (the main
thread descheduled, a page fault). Found with it (issue 16): the import's 2M user ids made into Python
strings in one call (~110 ms) and dumped to JSON at once (~150 ms).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import traceback


class Sampler:
    """Every millisecond, the time; after a late wake-up, the other threads' innermost lines."""

    def __init__(self, skip: set[int], over_s: float):
        self.skip, self.over_s = skip, over_s
        self.seen: list[tuple[float, float, list[str]]] = []
        self.running = True

    def run(self) -> None:
        self.skip.add(threading.get_ident())
        last = time.perf_counter()
        while self.running:
            time.sleep(0.001)
            now = time.perf_counter()
            if now - last > self.over_s * 0.6:
                self.seen.append((last, now - last, self.lines()))
            last = now

    def lines(self) -> list[str]:
        found = []
        for ident, frame in sys._current_frames().items():
            if ident not in self.skip:
                stack = traceback.extract_stack(frame)[-3:]
                found.append(" <- ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.line}" for f in reversed(stack)))
        return found


def work(args) -> None:
    from journey_explorer.memory import keep_freed_memory, no_huge_page_advice
    if args.what == "import":
        from journey_explorer.domain import ImportOptions
        from journey_explorer.store.importer import import_file
        from journey_explorer.ui.import_wizard import GUI_CHUNK_ROWS
        no_huge_page_advice()           # as the app does
        with tempfile.TemporaryDirectory() as folder:
            import_file(os.path.join(folder, "sampled.journey"), args.path, ImportOptions(chunk_rows=GUI_CHUNK_ROWS))
        return
    import importlib

    from journey_explorer.store.project import Project
    keep_freed_memory()
    module = importlib.import_module(f"journey_explorer.analysis.{args.what}")
    with Project.open(args.path) as project:
        log = project.load_event_log()
    module.run(log, module.Spec(goal=args.goal) if args.goal else module.Spec())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", help="'import', or an analysis module's name (stuck, compare, ...)")
    parser.add_argument("path", help="the file to import, or the project to analyse")
    parser.add_argument("--goal")
    parser.add_argument("--over", type=float, default=90, help="a stall: a tick this many ms late")
    args = parser.parse_args()
    sampler = Sampler({threading.get_ident()}, args.over / 1000)
    done = threading.Event()

    def worker() -> None:
        try:
            work(args)
        finally:
            done.set()

    started = time.perf_counter()
    threading.Thread(target=sampler.run, daemon=True).start()
    threading.Thread(target=worker, daemon=True).start()
    stalls, last = [], time.perf_counter()
    while not done.is_set():
        time.sleep(0.005)
        now = time.perf_counter()
        if now - last > args.over / 1000:
            stalls.append((last, now - last))
        last = now
    sampler.running = False
    print(f"{args.what}: {time.perf_counter() - started:.1f} s, {len(stalls)} stalls over {args.over:.0f} ms")
    for start, length in stalls:
        print(f"stall at {start - started:6.2f} s: {length * 1000:.0f} ms")
        for at, gap, lines in sampler.seen:
            if at < start + length and at + gap > start:
                for line in lines:
                    print(f"    held {gap * 1000:.0f} ms: {line[:300]}")


if __name__ == "__main__":
    main()
