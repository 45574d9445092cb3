"""Fuzz project files: mutate the bytes and pages of a small project, then use it as the app does.

Only the app's own errors (``JourneyError`` and its kinds: damaged, busy, too new, ...) may escape;
anything else is a traceback a user would see. The suite runs ~200 seeded cases
(``tests/store/test_project_fuzz.py``); this script runs as many as asked and prints figures:

    PYTHONPATH=. python benchmarks/fuzz_projects.py --cases 10000
"""
from __future__ import annotations

import argparse
import functools
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from journey_explorer.domain import JourneyError


def make_base_project(folder: Path) -> Path:
    """A small project with sessions, properties, insert ids, a rejected row and user properties."""
    import pandas as pd

    from journey_explorer.store.importer import import_file, import_user_properties
    lines = ["user,event,time,session,plan,insert_id"]
    for u in range(40):
        for step, event in enumerate(("open", "browse", "cart", "buy" if u % 3 else "leave")):
            lines.append(f"u{u},{event},2024-02-{1 + u % 27:02d}T1{step}:00:00.{u:03d}Z,s{u % 7},"
                         f"p{u % 4},i{u}-{step}")
    lines.append("u1,oops,not a time,s1,p1,ix")
    source = folder / "base.csv"
    source.write_text("\n".join(lines) + "\n")
    path = folder / "base.journey"
    import_file(path, source)
    import_user_properties(path, pd.DataFrame({"user": ["u1", "u2"], "country": ["FR", "DE"]}))
    return path


def page_size(data: bytes) -> int:
    """The SQLite file's page size, from its header (1 stands for 65536)."""
    size = int.from_bytes(data[16:18], "big") if len(data) >= 18 else 4096
    return 65536 if size == 1 else size or 4096


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One of: flipped bytes, a zeroed page, a page copied over another, a truncation, random bytes.
    Flips and noise mostly land on bytes in use: in a small project with 64 kB pages, most of the
    file is the free space of its pages, where a change tells nothing."""
    out = bytearray(data)
    page = page_size(data)
    pages = max(1, len(out) // page)
    kind = rng.choice(("flip", "flip", "zero_page", "copy_page", "truncate", "noise_run", "header"))
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            out[_position(data, rng)] ^= 1 << rng.randrange(8)
    elif kind == "zero_page":
        number = rng.randrange(1, pages) if pages > 1 else 0
        out[number * page:(number + 1) * page] = bytes(page)
    elif kind == "copy_page" and pages > 2:
        a, b = rng.sample(range(1, pages), 2)
        out[b * page:(b + 1) * page] = out[a * page:(a + 1) * page]
    elif kind == "truncate":
        del out[rng.randrange(100, len(out)):]
    elif kind == "noise_run":
        start = _position(data, rng)
        run = rng.randint(1, 512)
        out[start:start + run] = bytes(rng.randrange(256) for _ in range(len(out[start:start + run])))
    else:                                    # the 100-byte header: page size, counts, versions
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(16, 100)] = rng.randrange(256)
    return bytes(out)


def _position(data: bytes, rng: random.Random) -> int:
    """A byte's position: three times in four one that is not zero (a byte in use), else any."""
    if rng.random() < 0.25:
        return rng.randrange(len(data))
    filled = _filled(data)
    return int(filled[rng.randrange(len(filled))]) if len(filled) else rng.randrange(len(data))


@functools.lru_cache(maxsize=4)
def _filled(data: bytes):
    import numpy as np
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8))


def use_project(path: Path) -> None:
    """What the commands do with a project: open, info, the log with every property, the catalog."""
    from journey_explorer.store.project import Project
    with Project.open(path) as project:
        project.info()
        log = project.load_event_log(properties="all")
        project.event_catalog()
        project.rejected_rows()
        project.duplicate_rows()
        project.board.pins() if hasattr(project.board, "pins") else None
        lazy = project.load_event_log(properties="lazy")
        for name in list(lazy.event_properties)[:3]:
            lazy.event_properties[name]
        assert len(log.ts) >= 0


def import_into(path: Path, folder: Path) -> None:
    """A further import into the (mutated) project: it must refuse damage, not write over it."""
    from journey_explorer.store.importer import import_file
    source = folder / "more.csv"
    if not source.exists():
        source.write_text("user,event,time\nu1,open,2024-03-01T10:00:00Z\nz9,buy,2024-03-02T10:00:00Z\n")
    import_file(path, source)


def answers(path: Path) -> tuple:
    """What a user would read off the project: counts, times, names, ids, the event log's times."""
    from journey_explorer.store.project import Project
    with Project.open(path) as project:
        info = project.info()
        log = project.load_event_log(properties="all")
        return (info.events, info.users, info.event_types, info.sessions, info.first_time, info.last_time,
                tuple(log.event_names), tuple(log.user_keys), log.ts.tobytes(), log.session.tobytes())


def try_repair(path: Path) -> str:
    """``repair`` on a damaged copy: refused with a message, or done and the project usable (or, if
    damage remains outside the cache, still refused with a message)."""
    from journey_explorer.store.repair import repair_project
    try:
        repair_project(path)
    except JourneyError:
        return "damaged, repair refused"
    try:
        use_project(path)
        return "damaged, repaired"
    except JourneyError:
        return "damaged, repaired, still refused"


def run_case(base: bytes, seed: int, folder: Path, reference: tuple | None = None) -> str:
    """Mutate with ``seed`` and use the copy (every 8th case also imports into it); returns the
    outcome's name. Unexpected errors raise. With ``reference`` (the base's ``answers``), a copy that
    opens without complaint is also told apart: same answers, or silently different ones."""
    rng = random.Random(seed)
    path = folder / f"case-{seed}.journey"
    path.write_bytes(mutate(base, rng))
    try:
        if seed % 8 == 0:
            import_into(path, folder)
        use_project(path)
        if reference is not None and seed % 8 != 0:
            return "ok, same answers" if answers(path) == reference else "ok, DIFFERENT answers"
        return "ok"
    except JourneyError as exc:
        if type(exc).__name__ == "ProjectDamaged" and seed % 4 == 1:      # a quarter also try repair
            return try_repair(path)
        return type(exc).__name__
    finally:
        for leftover in folder.glob(f"case-{seed}.journey*"):
            leftover.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="journey-fuzz-"))
    try:
        base_path = make_base_project(folder)
        base, reference = base_path.read_bytes(), answers(base_path)
        outcomes, escapes = Counter(), Counter()
        started = time.perf_counter()
        for seed in range(args.seed, args.seed + args.cases):
            try:
                outcomes[run_case(base, seed, folder, reference)] += 1
            except Exception as exc:    # noqa: BLE001 - what we are hunting
                key = f"{type(exc).__name__} at {traceback.extract_tb(exc.__traceback__)[-1].name}"
                escapes[key] += 1
                outcomes["ESCAPED"] += 1
                if escapes[key] == 1:
                    print(f"seed {seed}: {key}: {str(exc)[:120]}", file=sys.stderr)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.cases:,} mutated projects ({len(base):,} bytes each) in {seconds:.1f} s "
          f"({1000 * seconds / args.cases:.1f} ms per case)")
    for name, count in outcomes.most_common():
        print(f"  {name:>20}: {count:,}")
    for key, count in escapes.most_common():
        print(f"  escaped {key}: {count:,}")
    return 1 if escapes else 0


if __name__ == "__main__":
    raise SystemExit(main())
