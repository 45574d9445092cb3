"""The entry points: ``import_file`` (lock, build a new project aside, interrupts told truthfully) and
``import_user_properties``.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from journey_explorer import memory
from journey_explorer.domain import ImportOptions, ImportSummary, InputError, JourneyError
from journey_explorer.io.base import SourceReader
from journey_explorer.io.mapping import guess_mapping
from journey_explorer.io.opening import GZIP_MAGIC, ZIP_MAGIC
from journey_explorer.io.sources import open_source
from journey_explorer.store import session_rule
from journey_explorer.store.errors import project_error
from journey_explorer.store.event_chunks import has_events
from journey_explorer.store.importer.encoding import Dictionary, Pseudonymizer, _object_values
from journey_explorer.store.importer.planning import _plan_write
from journey_explorer.store.importer.reading import (
    _add_trait_users,
    _encode_chunk,
    _new_state,
    _read_fast,
    learn_identities,
)
from journey_explorer.store.importer.state import ImportState, Progress
from journey_explorer.store.importer.writing import _insert_users, _summary_before_write, _write, _write_user_keys
from journey_explorer.store.project import (
    Project,
    ProjectLock,
    check_project_path,
)


def import_file(project_path: str | os.PathLike, file_path: str | os.PathLike,
                options: ImportOptions | None = None, progress: Progress | None = None) -> ImportSummary:
    """Import ``file_path`` into the project at ``project_path`` (created when missing).

    ``progress(fraction, rows)`` is called as work proceeds; raising ``ImportCancelled`` (or any
    exception) from it aborts the import and leaves the project exactly as it was.

    The project's lock is taken before anything else, so two imports never create or remove the same
    file. A new project is built under a temporary name beside it and renamed into place after the
    commit: a kill at any moment leaves no half-made project at ``project_path``.

    Raises ``InputError`` for unusable input, ``ProjectBusy`` when another process writes,
    ``ImportInterrupted`` (saying whether the import was committed) on Ctrl+C.
    """
    started = time.perf_counter()
    project_path, file_path = Path(project_path), os.fspath(file_path)
    options = options or ImportOptions()
    if not os.path.isfile(file_path):
        raise InputError("file not found" if not os.path.exists(file_path) else "not a file", file=file_path)
    final = Path(os.path.realpath(project_path))      # a symlink stays; its target gets the project
    check_project_path(final, create=True)
    lock = ProjectLock(project_path)
    lock.acquire()
    try:
        with memory.returned_while():
            summary = _import_locked(project_path, final, file_path, options, progress or (lambda f, n: None))
    finally:
        lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


# The page cache of a new project's connection (KiB). The project is built aside, so no reader
# minds SQLite writing pages out during the transaction, while the writer waits on its encoders
# anyway: at 10M events the commit then takes 0.3 s instead of 0.55-0.85 s. (An existing project
# keeps the 200 MB cache: writing out early would lock its readers out until the commit.)
NEW_PROJECT_CACHE_KIB = 20_000


def _import_locked(project_path: Path, final: Path, file_path: str, options: ImportOptions,
                   progress: Progress) -> ImportSummary:
    """The import, with the project's lock held: into the file itself, or into a new one made aside."""
    new = not final.exists()
    target = _building_path(final) if new else project_path
    if new:
        _remove_stale_builds(final)
    project = None
    try:
        project = Project.open(target, create=new)
        first_events = not has_events(project.conn)      # a new project (the wizard may have made it empty)
        if new:     # nobody reads a project built aside: SQLite may write its pages out as it goes
            project.conn.execute(f"PRAGMA cache_size=-{NEW_PROJECT_CACHE_KIB}")
        summary = _import_into(project, file_path, options, progress)
        if first_events and not summary.already_imported:
            _name_page_events(project, summary)
        project.close()
        project = None
        if new:
            os.replace(target, final)
        return summary
    except InputError as exc:
        _abandon(project, target if new else None)
        if exc.file is None:      # say which file, whichever layer found the problem
            raise type(exc)(exc.reason, file=file_path, line=exc.line, column=exc.column) from None
        raise
    except KeyboardInterrupt:
        renamed = new and not target.exists()           # it landed after the rename
        committed = _committed(final if renamed else target, file_path, project)
        if committed and new and not renamed:
            _finish_new_project(project, target, final)     # the commit stands: put it in place
        else:
            _abandon(project, target if new and not committed else None)
        raise ImportInterrupted(final, file_path, committed) from None
    except BaseException as exc:
        _abandon(project, target if new else None)
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise project_error(project_path, exc) from None
        raise


class ImportInterrupted(JourneyError):
    """Ctrl+C during an import; ``committed`` says, from the database, whether the import stands."""

    def __init__(self, project_path, file_path, committed: bool):
        self.committed = committed
        name, file = Path(project_path).name, Path(file_path).name
        if committed:
            text = f"interrupted after the import was saved: {file} is in the project {name}"
        else:
            text = f"interrupted; {file} was not imported and the project {name} was left as it was"
        super().__init__(text)


def interrupted_import_message(project_path, file_path) -> str:
    """What an interrupt around ``import`` did, read from the project (for an interrupt that lands
    outside ``import_file``, e.g. while its summary is printed)."""
    final = Path(os.path.realpath(project_path))
    committed = final.is_file() and _committed(final, os.fspath(file_path), None)
    return str(ImportInterrupted(final, file_path, committed))


def _committed(database: Path, file_path: str, project: Project | None) -> bool:
    """Is ``file_path`` recorded as a source of ``database``? The sources row is written in the same
    transaction as the events, so it tells exactly whether the import committed."""
    sha = _known_digest(file_path)
    if sha is None or not database.is_file():
        return False            # interrupted before the file was read or the project made
    if project is not None:
        _rollback_quietly(project)      # an open transaction is not a commit
    try:
        conn = sqlite3.connect(os.fsencode(database), timeout=5.0)
        try:
            row = conn.execute("SELECT 1 FROM sources WHERE sha256 = ?", (sha,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def _finish_new_project(project: Project | None, building: Path, final: Path) -> None:
    if project is not None:
        project.close()
    os.replace(building, final)


def _building_path(final: Path) -> Path:
    """Where a new project is built before it gets its name (hidden, beside it, same disk)."""
    return final.with_name(f".{final.name}.importing-{os.getpid()}")


def _remove_stale_builds(final: Path) -> None:
    """Leftovers of imports that were killed. Only the lock holder builds, and we hold the lock."""
    for leftover in final.parent.glob(f".{final.name}.importing-*"):
        try:
            leftover.unlink()
        except OSError:
            pass


def _abandon(project: Project | None, remove: Path | None) -> None:
    """Undo everything: roll back, close, and remove the new project this import was building."""
    if project is not None:
        _rollback_quietly(project)
        try:
            project.close()
        except Exception:   # noqa: BLE001 - the original error matters more
            pass
    if remove is not None:
        _remove_project_files(remove)


def _rollback_quietly(project: Project) -> None:
    try:
        if project.conn.in_transaction:
            project.conn.execute("ROLLBACK")
    except Exception:   # noqa: BLE001 - the original error matters more than a failed rollback
        pass


def _remove_project_files(path: Path) -> None:
    for candidate in (path, Path(str(path) + "-journal")):
        try:
            candidate.unlink()
        except FileNotFoundError:
            pass


def file_sha256(path: str) -> str:
    return _digest_and_lines(path)[0]


def _digest_and_lines(path: str, stop: threading.Event | None = None) -> tuple[str, int | None]:
    """SHA-256 of the file and its number of lines (the fast reader must read one row per line).

    The count is None when the fast reader must not read the file: a line ends in a bare CR (Arrow
    ends a record there, the line count does not, and the two could disagree unnoticed), or a byte
    order mark sits after its start (files joined with ``cat``: the pandas reader strips it from the
    cells it starts). ``stop`` set: give up (``_Stopped``)."""
    digest, newlines, bare_cr, last, tail, marks = hashlib.sha256(), 0, 0, b"", b"", False
    stamp = _file_stamp(path)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(4 << 20), b""):
            if stop is not None and stop.is_set():
                raise _Stopped()
            digest.update(block)
            newlines += _newlines(block)
            if b"\r" in block or last == b"\r":        # LF-only files skip the CR counts
                bare_cr += block.count(b"\r") - block.count(b"\r\n") - (last == b"\r" and block[:1] == b"\n")
            # a mark across two blocks, or in this one (not at the file's very start)
            marks = marks or _byte_order_mark_in(tail + block[:2]) or _byte_order_mark_in(block, start=0 if tail else 1)
            tail, last = block[-2:], block[-1:]
    _DIGESTS[stamp] = digest.hexdigest()
    return digest.hexdigest(), None if bare_cr or marks else newlines + (last not in (b"\n", b""))


def _newlines(block: bytes) -> int:
    """How many LF bytes: numpy's count lets go of the GIL (``bytes.count`` held it ~2 ms per 4 MB
    block, which slowed the reading's main thread while the digest ran) and is ~4x faster."""
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))


def _byte_order_mark_in(data: bytes, start: int = 0) -> bool:
    """Does U+FEFF's UTF-8 (EF BB BF) begin at or after ``start``? In numpy, without the GIL.

    >>> _byte_order_mark_in(b"a\\xef\\xbb\\xbfb"), _byte_order_mark_in(b"\\xef\\xbb\\xbfa", 1)
    (True, False)
    >>> _byte_order_mark_in(b"\\xef\\xbc\\x81")       # a full-width "!" (EF BC 81) is no mark
    False
    """
    values = np.frombuffer(data, dtype=np.uint8)
    leads = np.flatnonzero(values[start:len(values) - 2] == 0xEF) + start
    return bool(np.any((values[leads + 1] == 0xBB) & (values[leads + 2] == 0xBF)))


class _Stopped(Exception):
    """The import no longer needs the digest."""


class _AlreadyImported(Exception):
    """The file's digest is among the project's sources: nothing to import."""


class _Digest:
    """``_digest_and_lines`` on a thread, while the file is read: hashlib and file reads release the
    GIL, so at 10M rows the ~1 s digest hides behind pyarrow's parse instead of coming before it."""

    def __init__(self, path: str):
        self._stop = threading.Event()
        self._outcome: tuple | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), name="import-digest", daemon=True)
        self._stamp = _file_stamp(path)
        _RUNNING[self._stamp] = self
        self._thread.start()

    def _run(self, path: str) -> None:
        _run_behind()
        try:
            self._outcome = (_digest_and_lines(path, self._stop), None)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
            self._outcome = (None, exc)
        finally:
            _RUNNING.pop(self._stamp, None)

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None) -> tuple[str, int | None]:
        self._thread.join(timeout)
        if self._outcome is None:
            raise TimeoutError("the file digest is not finished")
        value, error = self._outcome
        if error is not None:
            raise error
        return value

    def stop(self) -> None:
        self._stop.set()


DIGEST_NICENESS = 10


def _run_behind() -> None:
    """This thread yields the cores to the reading (Linux: a thread has its own niceness): the
    digest competed with pyarrow's parse for ~1 s at 10M rows, when the reading needs its line
    count only at the end, and its SHA-256 only for the commit."""
    if not sys.platform.startswith("linux"):        # elsewhere a thread id is no process id
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DIGEST_NICENESS)
    except (AttributeError, OSError):
        pass


# Digests computed in this process, by (path, size, mtime): an interrupt handler can then ask the
# project whether this file's import committed without reading the file again. A digest still
# being worked out on its thread is in _RUNNING.
_DIGESTS: dict[tuple, str] = {}
_RUNNING: dict[tuple, _Digest] = {}


def _file_stamp(path: str) -> tuple:
    info = os.stat(path)
    return (os.path.abspath(path), info.st_size, info.st_mtime_ns)


def _known_digest(path: str) -> str | None:
    try:
        stamp = _file_stamp(path)
    except OSError:
        return None
    running = _RUNNING.get(stamp)
    if running is not None and stamp not in _DIGESTS:
        try:        # an interrupt landed while the file was being read: finish its digest
            running.result(timeout=60)
        except Exception:  # noqa: BLE001 - no digest: the import cannot have committed
            return None
    return _DIGESTS.get(stamp)


def _name_page_events(project: Project, summary: ImportSummary) -> None:
    """A new project whose paths are one page or screen event (page_view with page_title) names that
    event by its page at once ("page_view: Pricing"), as it names an event carrying its outcome
    ("payment: failed"), and says so; the catalog undoes it."""
    from journey_explorer.store import event_detail
    names = [name for (name,) in project.conn.execute("SELECT name FROM event_types")]
    if not event_detail.may_have_clear_case(names, project.event_property_names()):
        return
    for suggestion in event_detail.suggest(project.load_event_log(with_properties=False)):
        if event_detail.clear_case(suggestion):
            project.set_event_detail(suggestion.event, suggestion.property)
            summary.notes.append(f"{suggestion.event} events are named by their {suggestion.property} "
                                 f"({suggestion.values} values: '{suggestion.event}: {suggestion.examples[0]}', …); "
                                 "the catalog's menu names them plainly again.")


def _import_into(project: Project, file_path: str, options: ImportOptions,
                 progress: Progress) -> ImportSummary:
    digest = _Digest(file_path)
    try:
        # Freed arrays are kept for reuse from the reading to the commit: each step's temporaries
        # (joins, sorts, gathers, the encoders' and SQLite's copies) then land on pages faulted in
        # already; given back before and after the plan and when the import ends.
        with memory.kept_while():
            return _import_digesting(project, file_path, options, progress, digest)
    except _AlreadyImported:
        return _already_imported(project, file_path)
    except KeyboardInterrupt:
        raise           # the digest finishes: the interrupt handler asks the project about it
    except BaseException:
        digest.stop()
        raise


def _import_digesting(project: Project, file_path: str, options: ImportOptions, progress: Progress,
                      digest: _Digest) -> ImportSummary:
    """The import, while ``digest`` works out the file's SHA-256 and line count beside the reading.
    As soon as the digest is known, a file already in the project stops the import (``_AlreadyImported``)."""
    seen = project.conn.execute("SELECT sha256 FROM sources").fetchall()
    known = {sha for (sha,) in seen}

    def check_digest() -> None:
        if digest.done() and digest.result()[0] in known:
            raise _AlreadyImported()

    def watched(fraction: float, rows: int) -> None:
        check_digest()
        progress(fraction, rows)

    project.load_arrays()         # a damaged project is refused before the file is read
    project.verify_catalog()
    reader = open_source(file_path, options)
    if hasattr(reader, "name_properties_with_container") and any(
            name.startswith("properties.") for name in project.event_property_names()):
        reader.name_properties_with_container()       # the names its earlier imports gave them
    _preview_once(reader)
    mapping = guess_mapping(reader, options)
    identity = learn_identities(reader, mapping, options.chunk_rows, watched)
    state = _new_state(project, reader, mapping, options, identity)
    estimated = _estimate_rows(reader, file_path, digest.result()[1] if digest.done() else None)
    if not _read_fast(state, reader, digest, estimated, watched, options.chunk_rows):
        state = _new_state(project, reader, mapping, options, identity)      # start again on the pandas path
        for chunk in reader.chunks(options.chunk_rows):
            _encode_chunk(state, chunk, reader)
            watched(min(0.6, 0.6 * state.read / max(estimated, 1)), state.read)
    sha = digest.result()[0]
    check_digest()
    traits = reader.user_traits()
    _add_trait_users(state, traits)
    progress(0.6, state.read)
    # What the reading freed is given back before the plan: kept, it added to the plan's peak (10M
    # events with three property columns: 1.58 GB, against 1.47 GB given back).
    memory.give_back()
    # The transaction begins here: the users go in while the events are sorted.
    project.conn.execute("BEGIN IMMEDIATE")
    plan = _plan_write(project, state, reader.format, meanwhile=lambda: _insert_users(project, state))
    memory.give_back()      # the writer's threads could not reuse what the plan freed (arenas of their own)
    if plan.new_count == 0 and not any(state.rows.lengths):
        raise InputError(_nothing_imported_message(state), file=file_path)
    summary = _summary_before_write(reader, file_path, state, plan, options)
    _write(project, file_path, sha, reader, state, plan, traits, summary, progress)
    summary.users = len(state.users)
    summary.path_noun = session_rule.path_noun(plan.session_stamp["setting"], plan.session_stamp["gap_ms"])
    summary.event_types = len(state.events)
    return summary


def _already_imported(project: Project, file_path: str) -> ImportSummary:
    users = project.conn.execute("SELECT count(*) FROM users").fetchone()[0]
    types = project.conn.execute("SELECT count(*) FROM event_types").fetchone()[0]
    return ImportSummary(file=file_path, already_imported=True, users=users, event_types=types)


def _nothing_imported_message(state: ImportState) -> str:
    if not state.read:
        return "the file has a header but no rows"
    reasons = Counter(r.reason.split(" '")[0] for r in state.rejections).most_common(3)
    first = state.rejections[0] if state.rejections else None
    where = f" (first at line {first.line}: {first.reason})" if first else ""
    return (f"none of the {state.read:,} rows could be imported: "
            + ", ".join(f"{n:,} {r}" for r, n in reasons) + where)


def _preview_once(reader: SourceReader) -> None:
    """Mapping, progress estimate and summary each ask for the same preview: parse it once (a file of
    100,000 columns takes seconds to preview). Nobody changes the frame it returns."""
    read, previews = reader.preview, {}

    def preview(rows: int = 20):
        if rows not in previews:
            previews[rows] = read(rows)
        return previews[rows]
    reader.preview = preview


def _estimate_rows(reader: SourceReader, file_path: str, line_count: int | None) -> int:
    """Rows expected (only used for the progress bar): the lines of plain text (counted, or from the
    first MB's lines when the count is not known yet), else from the bytes per row of the preview."""
    if reader.format == "csv":
        with open(file_path, "rb") as handle:
            head = handle.read(1 << 20)
        if not head.startswith((GZIP_MAGIC, ZIP_MAGIC)):
            header = getattr(reader, "has_header", True)
            if line_count is not None:
                return max(line_count - header, 1)
            if head.count(b"\n"):
                return max(int(os.path.getsize(file_path) * head.count(b"\n") / len(head)) - header, 1)
    try:
        sample = reader.preview(200)
        sample_bytes = len(sample.to_csv(index=False).encode()) / max(len(sample), 1)
        return max(int(os.path.getsize(file_path) / max(sample_bytes, 1)), 1)
    except Exception:  # noqa: BLE001 - an estimate is never worth failing the import for
        return 1




def import_user_properties(project_path: str | os.PathLike, users: pd.DataFrame, key_column: str = "user",
                           pseudonymize: bool = False) -> int:
    """Attach properties (plan, company size, ...) to users, one row per user; returns rows matched.

    Users not yet in the project are added (they may arrive with a later event import). All rows are
    written in one transaction.
    """
    if key_column not in users:
        raise InputError(f"the user table has no column '{key_column}'")
    lock = ProjectLock(project_path)
    lock.acquire()              # before the file is opened (or created): one writer at a time
    try:
        return _import_user_properties_locked(project_path, users, key_column, pseudonymize)
    finally:
        lock.release()


def _import_user_properties_locked(project_path, users: pd.DataFrame, key_column: str, pseudonymize: bool) -> int:
    with Project.open(project_path, create=True) as project:
        dictionary = Dictionary([k for (k,) in project.conn.execute("SELECT key FROM users ORDER BY id")])
        provisional, _ = dictionary.encode(_object_values(users[key_column]))
        key = project.get_setting("pseudonym_key") if pseudonymize else None
        if pseudonymize and key is None:
            raise InputError("pseudonymised user properties need a project whose events were "
                             "imported with {pseudonymize}")
        dictionary.finish([provisional], Pseudonymizer(key) if key else None)
        codes = dictionary.final(provisional)
        records = users.drop(columns=[key_column]).to_dict("records")
        state = ImportState(mapping=None, users=dictionary, events=None, sessions=None, pseudonymize=None,
                            property_columns=[], user_property_columns=[])
        for code, record in zip(codes, records):
            state.user_properties[int(code)] = {k: v for k, v in record.items() if not pd.isna(v)}
        try:
            project.conn.execute("BEGIN IMMEDIATE")
            _insert_users(project, state)
            _write_user_keys(project.conn, dictionary)
            project.conn.execute("COMMIT")
        except BaseException:
            _rollback_quietly(project)
            raise
    return len(records)
