"""The project file: one SQLite database holding sources, users, event types, events and settings.

``Project`` is the only way the rest of the app touches the file. Reads are plain queries; bulk
writes happen in ``store.importer`` inside one transaction. The events are stored twice: in file order as
compressed chunks (``store.event_chunks``), and sorted as the columnar cache (``log_cache``) that
``load_event_log`` reads, so opening never sorts millions of events again.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from journey_explorer.domain import JourneyError, ProjectBusy, ProjectInfo, UnknownEvent
from journey_explorer.eventlog import EventLog, LazyUserKeys, UserPropertySource, compute_sessions
from journey_explorer.store import session_rule
from journey_explorer.store.column_codec import (
    CACHE_COLUMNS,
    CACHE_DEFAULTS,
    CHECK_NAME,
    column_crc,
    read_column,
    whole_crc,
)
from journey_explorer.store.errors import DAMAGE_TYPES, ProjectDamaged, ProjectTooNew, project_error, reads_project
from journey_explorer.store.event_chunks import event_count, has_events
from journey_explorer.store.event_detail import RULES_SETTING, name_by_property
from journey_explorer.store.version import SCHEMA_VERSION

if TYPE_CHECKING:
    import pandas as pd

# pandas and sqlite-utils (which imports pandas) are imported where used: a command that only
# loads the event log starts ~0.4 s faster without them.

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
SUFFIX = ".journey"
USER_KEYS_CHECK = "check:user_keys"
CATALOG_CHECK = "check:catalog"
CHECKS_SETTING = "checksums"    # settings key present once a file has its checksums
KEY_SEPARATOR = "\x1f"      # ASCII unit separator: joins user keys in the cached blob
MAPPED_BYTES = 1 << 40      # the memory map's limit while cached blobs are read: the whole file
GUESS_SETTING = "remembered_goal_guess"     # a cache: the structural goal guess and what it was made from




def event_names_crc(conn: sqlite3.Connection) -> int:
    """CRC-32 of the stored event names (never edited after import: renames set display_name)."""
    names = [name for (name,) in conn.execute("SELECT name FROM event_types ORDER BY id")]
    if not all(isinstance(name, str) for name in names):
        raise ValueError("some stored event names are not text")
    return zlib.crc32(KEY_SEPARATOR.join(names).encode("utf-8", "surrogatepass"))


def catalog_crc(conn: sqlite3.Connection) -> int:
    """CRC-32 of what decides the names shown: every event type's row and the grouping rules."""
    types = conn.execute("SELECT id, name, display_name, hidden, group_name FROM event_types ORDER BY id").fetchall()
    rules = conn.execute("SELECT position, pattern, group_name FROM group_rules ORDER BY position").fetchall()
    # default=repr: a damaged cell (bytes where text belongs) gives a different checksum, not a crash
    text = json.dumps([types, rules], ensure_ascii=False, default=repr)
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def store_catalog_check(conn: sqlite3.Connection) -> None:
    """Record the catalog's checksum (after an import or an edit, inside its transaction), and that
    this file has checksums: from then on a missing one is damage too."""
    conn.execute("INSERT OR REPLACE INTO log_cache(name, data) VALUES (?, ?)",
                 (CATALOG_CHECK, json.dumps({"crc32": catalog_crc(conn)}).encode()))
    conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, 'true')", (CHECKS_SETTING,))


def store_user_keys(conn: sqlite3.Connection, keys: list[str]) -> None:
    """All user keys in code order as one blob (loading 1M keys takes milliseconds, not a query),
    with its CRC-32; keys containing the separator fall back to the users table."""
    text = KEY_SEPARATOR.join(keys)
    if text.count(KEY_SEPARATOR) != max(len(keys) - 1, 0):        # a key holds the separator
        conn.execute("DELETE FROM log_cache WHERE name IN ('user_keys', ?)", (USER_KEYS_CHECK,))
        return
    blob = text.encode("utf-8")
    conn.executemany("INSERT OR REPLACE INTO log_cache(name, data) VALUES (?, ?)",
                     [("user_keys", blob), (USER_KEYS_CHECK, json.dumps({"crc32": zlib.crc32(blob)}).encode())])


LOG_COLUMNS = ("user", "event", "ts", "session")     # what an EventLog is made of


PIECE_KEYS = 100_000       # user keys converted per call while reading them


def read_cache_blobs(conn: sqlite3.Connection, names: tuple[str, ...]) -> dict[str, bytes]:
    """{name: stored bytes} of those cached columns that are stored. Through SQLite's blob handles
    where Python has them (3.11+): they copy with the GIL released, while a query's row is copied
    holding it -- a 43 MB column held the window still for ~0.2-0.3 s while a project opened at 10M
    events (longer on a machine where fresh memory faults slowly).

    >>> conn = sqlite3.connect(":memory:")
    >>> _ = conn.execute("CREATE TABLE log_cache (name TEXT PRIMARY KEY, data BLOB)")
    >>> _ = conn.execute("INSERT INTO log_cache VALUES ('ts', x'6869'), ('user', x'')")
    >>> read_cache_blobs(conn, ("ts", "user", "event"))
    {'ts': b'hi', 'user': b''}
    """
    marks = ", ".join("?" * len(names))
    if not hasattr(conn, "blobopen"):           # Python 3.10
        return dict(conn.execute(f"SELECT name, data FROM log_cache WHERE name IN ({marks})", names))
    blobs = {}
    for name, rowid in conn.execute(f"SELECT name, rowid FROM log_cache WHERE name IN ({marks})", names).fetchall():
        with conn.blobopen("log_cache", "data", rowid, readonly=True) as blob:
            blobs[name] = blob.read()
    return blobs


def split_keys(blob: bytes, piece_bytes: int = 1 << 20) -> np.ndarray:
    """The user keys joined by ``KEY_SEPARATOR`` in ``blob``, as an object array, read a piece of
    about ``piece_bytes`` at a time: one split of 2M keys holds the GIL for ~0.2 s (the window
    freezes while a project loads), a piece for a few ms.

    >>> split_keys("a\x1fbc\x1f\x1fd".encode(), piece_bytes=2).tolist()
    ['a', 'bc', '', 'd']
    """
    separator = KEY_SEPARATOR.encode()
    keys: list[str] = []
    start = 0
    while True:
        cut = blob.find(separator, start + piece_bytes)
        if cut < 0:
            keys.extend(blob[start:].decode("utf-8").split(KEY_SEPARATOR))
            break
        keys.extend(blob[start:cut].decode("utf-8").split(KEY_SEPARATOR))
        start = cut + len(separator)
    out = np.empty(len(keys), dtype=object)
    for begin in range(0, len(keys), PIECE_KEYS):       # np.array(keys) would hold the GIL throughout too
        out[begin:begin + PIECE_KEYS] = keys[begin:begin + PIECE_KEYS]
    return out


class ProjectLock:
    """A sidecar ``.lock`` file naming the process that writes to the project.

    SQLite alone would answer a second writer with "database is locked" after a timeout; the lock
    lets us say which process holds the project. The same process may take it again (the GUI and
    its import worker); a lock left by a process that no longer runs is taken over. The lock holds
    the pid and the process' start time, so a pid the OS reused for another program is not taken
    for the writer. It sits beside the real file (symlinks resolved): two names, one lock.
    """

    def __init__(self, path: Path):
        self.path = Path(os.path.realpath(path) + ".lock")
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                owner = self._owner()
                if owner == os.getpid():
                    return        # this process already writes here (e.g. GUI + worker)
                if owner is not None:
                    raise ProjectBusy(
                        f"The project {self.path.name[:-5]} is open in another Journey Explorer process "
                        f"(pid {owner}); close it there and try again.") from None
                self._remove()    # stale lock from a process that died (or an unreadable one)
                continue
            except OSError as exc:
                raise project_error(self.path, exc) from None
            self._write_owner(fd)
            self.held = True
            return

    def _write_owner(self, fd: int) -> None:
        """Write "pid start-time"; on failure (a full disk) leave no empty lock file behind."""
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()} {_start_time(os.getpid())!r}")
        except OSError as exc:
            self._remove()
            raise project_error(self.path, exc) from None
        except BaseException:
            self._remove()
            raise

    def release(self) -> None:
        if self.held and self._owner() == os.getpid():
            self._remove()
        self.held = False

    def _owner(self) -> int | None:
        """The pid of the live process holding the lock, or None (no lock, or a stale one)."""
        try:
            fields = self.path.read_text().split()
            pid = int(fields[0]) if fields else 0
            started = float(fields[1]) if len(fields) > 1 else None
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if pid <= 0 or not _process_alive(pid):
            return None
        if started is not None and pid != os.getpid():
            now = _start_time(pid)
            if now is not None and abs(now - started) > 1.0:
                return None       # the pid now belongs to another program: the writer is gone
        return pid

    def _remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _process_alive(pid: int) -> bool:
    """Does process ``pid`` run? psutil asks the OS portably (``os.kill(pid, 0)`` would send
    CTRL_C_EVENT on Windows)."""
    import psutil
    return psutil.pid_exists(pid)


def _start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None when it cannot be read."""
    import psutil
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


PAGE_BYTES = 65536


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection (we issue BEGIN/COMMIT ourselves) with import-friendly pragmas."""
    # os.fsencode: a file name that is not valid UTF-8 (undecodable bytes on Linux) still opens.
    conn = sqlite3.connect(os.fsencode(path), isolation_level=None, timeout=2.0, check_same_thread=False)
    # A new file gets 64 kB pages (an existing one keeps its own): the events and the cache are big
    # blobs, stored in 16x fewer pages. At 10M events an import's commit writes 3,500 pages instead
    # of 56,000 (0.54 s against 0.72 s; the blobs' inserts are quicker too).
    conn.execute(f"PRAGMA page_size={PAGE_BYTES}")
    conn.execute("PRAGMA journal_mode=DELETE")   # rollback journal: a failed import restores every byte
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-200000")    # ~200 MB page cache for bulk inserts
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class Project:
    """An open project file."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = Path(path)
        self.conn = conn
        self.lock = ProjectLock(self.path)

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = False) -> "Project":
        """Open (and upgrade) a project; with ``create`` a missing file becomes a new empty project.

        Refuses a project written by a newer Journey Explorer; an older one is upgraded after a
        backup copy is made beside it (``NAME.v2-backup``).
        """
        path = Path(path)
        check_project_path(path, create)
        conn = None
        try:
            conn = connect(path)
            project = cls(path, conn)
            project._upgrade_schema()
        except JourneyError:
            _close_quietly(conn)
            raise
        except (sqlite3.Error, OSError) as exc:
            _close_quietly(conn)
            raise project_error(path, exc) from None
        except DAMAGE_TYPES as exc:       # a damaged schema or migration table
            _close_quietly(conn)
            raise ProjectDamaged(path, f"{type(exc).__name__}: {str(exc)[:150]}") from None
        return project

    def _upgrade_schema(self) -> None:
        """Run pending migrations; an up-to-date file is recognised by its user_version alone."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise ProjectTooNew(
                f"The project {self.path.name} was made by a newer Journey Explorer (project format {version}; "
                f"this version reads up to {SCHEMA_VERSION}). Open it with the newer version; it was not changed.")
        if self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            self.backup_copy(f"v{version}-backup")
        from journey_explorer.store.schema import migrate
        migrate(self.db)

    def backup_copy(self, label: str) -> Path:
        """A consistent copy of the file beside it (``NAME.LABEL``, numbered if taken), written whole
        or not at all (SQLite's online backup into a temporary file, then a rename)."""
        target = self.path.with_name(f"{self.path.name}.{label}")
        number = 1
        while target.exists():
            number += 1
            target = self.path.with_name(f"{self.path.name}.{label}{number}")
        temporary = target.with_name(target.name + ".partial")
        copy = sqlite3.connect(os.fsencode(temporary))
        try:
            self.conn.backup(copy)
        finally:
            copy.close()
        os.replace(temporary, target)
        return target

    @property
    def db(self):
        """A sqlite-utils view of the same connection (schema work and small tables)."""
        from sqlite_utils import Database
        return Database(self.conn)

    @classmethod
    def create(cls, path: str | os.PathLike) -> "Project":
        return cls.open(path, create=True)

    def close(self) -> None:
        self.lock.release()
        self.conn.close()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- settings -----------------------------------------------------------------------------

    @reads_project
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)",
                          (key, json.dumps(value)))

    @property
    def default_goal(self) -> str | None:
        return self.get_setting("default_goal")

    @default_goal.setter
    def default_goal(self, event_name: str | None) -> None:
        self.set_setting("default_goal", event_name)

    def log_stamp(self) -> list | None:
        """What decides the event log ``load_event_log`` makes, to remember what was worked out from
        it: the cached columns' checksums and count, the catalog's checksum (names shown, hidden
        events, groups), the event detail rules and the sources. None for a file from before the
        cache's checksum (nothing is remembered for it)."""
        from journey_explorer.store.properties import cache_stamp
        row = self.conn.execute("SELECT data FROM log_cache WHERE name = ?", (CHECK_NAME,)).fetchone()
        if row is None:
            return None
        return [json.loads(bytes(row[0])), catalog_crc(self.conn), self.event_detail_rules(),
                list(cache_stamp(self.conn)), self._session_rule_in_effect()]

    def _session_rule_in_effect(self) -> dict:
        """The session stamp loads will follow (the stored one while it holds; else the rule's version
        and the setting, the data deciding the rest the same way each time)."""
        stored = self.get_setting(session_rule.STAMP_SETTING)
        if session_rule.stamp_holds(stored, self.session_gap_setting):
            return stored
        return {"rule": session_rule.RULE_VERSION, "setting": self.session_gap_setting, "cut_on_load": True}

    def remembered_goal_guess(self, stamp: Any) -> str | None:
        """The goal guess remembered for ``stamp`` (``log_stamp`` and the guess's rules), else None."""
        remembered = self.get_setting(GUESS_SETTING)
        if not isinstance(remembered, dict) or remembered.get("stamp") != json.loads(json.dumps(stamp)):
            return None
        return remembered.get("goal") if isinstance(remembered.get("goal"), str) else None

    @property
    def session_gap_setting(self) -> float | None:
        """The user's session gap in minutes (``session_rule.GAP_SETTING``; 0: one visit per path), or
        None: chosen from the data (``session_rule``). Set it with ``set_setting``; the next load cuts
        the sessions again."""
        value = self.get_setting(session_rule.GAP_SETTING)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def session_gap_ms(self, user: np.ndarray, ts: np.ndarray, more_sources: tuple = ()) -> int:
        """The inactivity gap (ms; ``session_rule.NO_SPLIT_MS``: one visit per path) for these sorted
        events of the project's sources plus ``more_sources`` ((format, mapping) of a file being imported)."""
        sources = [(source["format"], source["mapping"]) for source in self.sources()] + list(more_sources)
        return session_rule.choose_gap_ms(self.session_gap_setting, session_rule.structure_says_cases(sources),
                                          user, ts)

    def _session_gap_in_effect(self, arrays: dict[str, np.ndarray]) -> tuple[int, bool]:
        """(the gap in ms the sessions of ``load_arrays`` follow, whether the cached ones already do).

        The cached sessions hold while the stamp of the rule that cut them holds. A file from before
        the stamp was cut by the default gap (rule 1) and holds too when the rule chooses it again."""
        stored, setting = self.get_setting(session_rule.STAMP_SETTING), self.session_gap_setting
        if session_rule.stamp_holds(stored, setting):
            return int(stored["gap_ms"]), True
        user = arrays["user"] if "user" in arrays else self.load_arrays(("user",), as_stored=True)["user"]
        gap_ms = self.session_gap_ms(user, arrays["ts"])
        return gap_ms, stored is None and setting is None and gap_ms == session_rule.DEFAULT_GAP_MS

    def path_noun(self, arrays: dict[str, np.ndarray]) -> str:
        """What a path of this project is called, "case" or "user" (``session_rule.path_noun``), by the
        rule the sessions of ``arrays`` (``load_arrays``) follow."""
        return session_rule.path_noun(self.session_gap_setting, self._session_gap_in_effect(arrays)[0])

    def _sessions_now(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The sessions by the current rule: the cached ones while they hold, else cut again from the
        cached users, times and session keys (nothing is written; the next import stores them)."""
        gap_ms, cached_hold = self._session_gap_in_effect(arrays)
        if cached_hold:
            return arrays["session"]
        user = arrays["user"] if "user" in arrays else self.load_arrays(("user",), as_stored=True)["user"]
        if not self._has_session_keys():
            return compute_sessions(user, arrays["ts"], gap_ms)       # no session column: no keys to read
        keys = self.load_arrays(("session_key",), as_stored=True)["session_key"]
        return session_rule.sessions_with_keys(user, arrays["ts"], keys, gap_ms)

    def _has_session_keys(self) -> bool:
        """Is a session column's key cached (a column holding only its default, -1, is not stored)?"""
        return self.conn.execute("SELECT 1 FROM log_cache WHERE name = 'session_key'").fetchone() is not None

    @reads_project
    def load_arrays(self, columns: tuple[str, ...] | None = None, as_stored: bool = False) -> dict[str, np.ndarray]:
        """The sorted columnar copy of all events (empty arrays for an empty project); with
        ``columns``, only those are read and decoded (and filled in when not stored).
        The sessions are those of the current rule (``_sessions_now``); ``as_stored``: as cached.

        The copy is checked against the row count and checksums stored with it at commit: changed
        bytes raise ``ProjectDamaged`` instead of wrong numbers or an obscure error. Each column read
        is checked against its own checksum; a file from before per-column checksums (they come
        with its next import or repair) has one over all columns, so all are read and checked."""
        names = tuple(CACHE_COLUMNS)
        wanted = names if columns is None else ("ts", *(name for name in columns if name != "ts"))  # ts: the count
        check = self.conn.execute("SELECT data FROM log_cache WHERE name = ?", (CHECK_NAME,)).fetchone()
        try:
            stored = json.loads(bytes(check[0])) if check is not None else None
            per_column = stored.get("column_crc32") if stored is not None else None
            blobs = self._cache_blobs(wanted if per_column is not None else names)
            if per_column is not None:
                _check_columns(blobs, wanted, per_column)
            elif stored is not None and whole_crc(blobs) != stored.get("crc32"):
                raise ValueError("its checksum differs from the one stored at the last import")
            arrays = {name: read_column(data) for name, data in blobs.items() if name in wanted}   # after the checksum
            if stored is not None:
                self._verify_cache(arrays, stored)
            elif self._has_checks():
                raise ValueError("its checksum is missing")
            elif not blobs and has_events(self.conn):
                raise ValueError("it is missing although the project holds events")
        except sqlite3.DatabaseError as exc:
            raise project_error(self.path, exc) from None
        except (ValueError, OSError, EOFError, TypeError, KeyError, UnicodeDecodeError, AttributeError) as exc:
            raise ProjectDamaged(self.path, f"the cached event log does not read back: {exc}") from None
        count = len(arrays.get("ts", ()))
        for name in wanted:
            dtype = CACHE_COLUMNS[name]
            if name not in arrays:
                arrays[name] = np.full(count, CACHE_DEFAULTS.get(name, 0), dtype=dtype)
            elif len(arrays[name]) != count or arrays[name].dtype != dtype:
                raise ProjectDamaged(self.path, f"the cached column '{name}' does not match the others")
        if "session" in wanted and not as_stored:
            arrays["session"] = self._sessions_now(arrays)
        return arrays

    def _cache_blobs(self, names: tuple[str, ...]) -> dict[str, bytes]:
        """The stored bytes of those cached columns that are stored (a column holding only its
        default is not)."""
        with self._mapped():
            return read_cache_blobs(self.conn, names)

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        """SQLite reads the file through a memory map meanwhile: a blob of megabytes is a copy from
        the mapped pages, not a read call per 4 kB page (~5 ms of a million events' columns). Only
        while the blobs are read: a mapped file is no place for a long-lived connection's writes."""
        self.conn.execute(f"PRAGMA mmap_size = {MAPPED_BYTES}")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA mmap_size = 0")

    def _verify_cache(self, arrays: dict, stored: dict) -> None:
        """Raise ValueError when the event names or the event count differ from ``stored``."""
        count = len(arrays.get("ts", ()))
        if "events" in stored and count != stored["events"]:
            raise ValueError(f"it holds {count:,} events, not {stored['events']:,}")
        if "event_names_crc32" in stored and event_names_crc(self.conn) != stored["event_names_crc32"]:
            raise ValueError("the stored event names differ from their checksum")
        # a sum over a few dozen chunk rows; it walks the table's pages, so a zeroed one is noticed too
        rows = event_count(self.conn)
        if rows != count:
            raise ValueError(f"{rows:,} events stored but {count:,} cached")

    @reads_project
    def verify(self) -> None:
        """The thorough check (``info``, ``repair``, before an import writes): SQLite's own
        quick_check, the stored events' count against the cache, and the cache's checksum."""
        try:
            problems = [row[0] for row in self.conn.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise ProjectDamaged(self.path, "; ".join(problems)[:200])
            rows = event_count(self.conn)
        except sqlite3.DatabaseError as exc:
            raise project_error(self.path, exc) from None
        cached = len(self.load_arrays()["ts"])
        if rows != cached:
            raise ProjectDamaged(self.path, f"{rows:,} events stored but {cached:,} in the cached log")

    @reads_project
    def event_types(self) -> pd.DataFrame:
        import pandas as pd
        return pd.read_sql_query(
            "SELECT id, name, display_name, hidden, group_name FROM event_types ORDER BY id", self.conn)

    @reads_project
    def user_keys(self) -> np.ndarray:
        """User ids as imported (position = user code); read from the cached blob when present
        (and checked against the CRC-32 stored with it)."""
        keys = self._user_keys()
        return keys.array() if isinstance(keys, LazyUserKeys) else keys

    def _user_keys(self) -> np.ndarray | LazyUserKeys:
        """``user_keys()`` for a loaded log: the cached blob is read and checked now (damage shows when
        the project is opened), but split into ids only when something uses them (``split_keys``: a
        piece at a time, so the window keeps answering)."""
        with self._mapped():
            raw = read_cache_blobs(self.conn, ("user_keys",)).get("user_keys")
        if raw is None:     # keys holding the separator: the users table
            keys = [key for (key,) in self.conn.execute("SELECT key FROM users ORDER BY id")]
            return np.array(keys, dtype=object)
        check = self.conn.execute("SELECT data FROM log_cache WHERE name = ?", (USER_KEYS_CHECK,)).fetchone()
        if check is None and self._has_checks():
            raise ProjectDamaged(self.path, "the stored user ids' checksum is missing")
        if check is not None and zlib.crc32(raw) != json.loads(bytes(check[0]))["crc32"]:
            raise ProjectDamaged(self.path, "the stored user ids differ from their checksum")
        if not raw:
            return np.zeros(0, dtype=object)
        # The separator byte never occurs inside a UTF-8 character: counted on the bytes.
        return LazyUserKeys(raw.count(KEY_SEPARATOR.encode()) + 1, lambda: split_keys(raw))

    @reads_project
    def user_properties(self) -> pd.DataFrame:
        """One row per user id (index = id), one column per property (last value imported)."""
        return user_property_frame(self.conn)

    @reads_project
    def user_property_names(self) -> list[str]:
        """The user properties' names, in the order ``user_properties()`` has its columns."""
        return user_property_names(self.conn)

    @reads_project
    def load_event_log(self, with_properties: bool = True, properties: str | list[str] = "lazy",
                       arrays: dict | None = None) -> EventLog:
        """The project's events as an ``EventLog``: display names merged, group rules applied,
        hidden events left out. ``with_properties=False`` skips parsing user properties (faster
        for analyses that do not segment).

        ``properties`` chooses the event properties: ``"lazy"`` (each read from the file when a view
        first uses it), ``"all"``, or a list of names (read now; unknown names are skipped). Property
        codes are sliced like the events when events are hidden.
        ``arrays``: ``load_arrays()`` when the caller has them already (read once on open).
        User properties are read when first asked (``EventLog.user_property`` / ``properties()``).
        """
        from journey_explorer.store.properties import cache_stamp
        rules = self.event_detail_rules()
        arrays = self.load_arrays(LOG_COLUMNS) if arrays is None else arrays
        names, lookup, visible = self._event_name_lookup()
        event = lookup[arrays["event"]] if len(arrays["event"]) else arrays["event"]
        keep = visible[arrays["event"]] if len(arrays["event"]) else np.zeros(0, dtype=bool)
        if keep.all():              # nothing hidden: no copies
            keep = slice(None)
        log = EventLog(user=arrays["user"][keep], event=event[keep].astype(np.int32, copy=False),
                       ts=arrays["ts"][keep], session=arrays["session"][keep],
                       event_names=tuple(names), user_keys=self._user_keys(),
                       user_properties=StoredUserProperties(self.path, cache_stamp(self.conn))
                       if with_properties else None,
                       default_goal=self.default_goal,
                       event_properties=self._event_properties(_with_detail(properties, rules),
                                                               len(arrays["ts"]), keep),
                       path_noun=self.path_noun(arrays))
        return name_by_property(log, rules) if rules else log

    def event_detail_rules(self) -> dict[str, str]:
        """Events named by a property ({event name as shown: property}; ``store.event_detail``)."""
        return dict(self.get_setting(RULES_SETTING, {}) or {})

    def shown_event_names(self) -> list[str]:
        """The event names the views show before any is named by a property: display names and groups."""
        return self._event_name_lookup()[0]

    def set_event_detail(self, event: str, prop: str | None) -> None:
        """Name ``event`` by its property ``prop`` ("page_view: /pricing"), or plainly again (None).
        ``event`` is a name the views show (a display name or a group's name)."""
        if prop is not None and prop not in self.event_property_names():
            raise JourneyError(f"The project has no event property '{prop}'")
        if prop is not None and event not in self.shown_event_names():
            raise UnknownEvent(event, self.shown_event_names())
        rules = self.event_detail_rules()
        if prop is None:
            rules.pop(event, None)
        else:
            rules[event] = prop
        self.set_setting(RULES_SETTING, rules)

    def _event_properties(self, which: str | list[str], size: int, keep):
        from journey_explorer.store import properties as stored
        if which == "lazy":
            selections = () if isinstance(keep, slice) else (keep,)
            return stored.StoredProperties(str(self.path.resolve()), stored.stored_names(self.conn), size,
                                           stored.cache_stamp(self.conn), selections)
        names = stored.stored_names(self.conn) if which == "all" else list(which)
        return stored.load_columns(self.conn, names, size, keep)

    @reads_project
    def event_property_names(self) -> list[str]:
        """Event property names, in the order they first appeared."""
        from journey_explorer.store.properties import stored_names
        return stored_names(self.conn)

    def _event_name_lookup(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Map stored event type ids to codes of the names shown: display name, then group rules.

        Returns (names, code per type id, visible per type id).
        """
        self.verify_catalog()
        rows = self.conn.execute(
            "SELECT id, name, display_name, hidden, group_name FROM event_types ORDER BY id").fetchall()
        if not rows:
            return [], np.zeros(0, dtype=np.int32), np.zeros(0, dtype=bool)
        rules = [(re.compile(pattern), group) for pattern, group in self.group_rules()]

        def shown(name: str, display: str | None, group: str | None) -> str:
            if group:
                return group
            label = display or name
            return next((g for regex, g in rules if regex.search(label)), label)

        ids = np.array([r[0] for r in rows])
        labels = [shown(name, display, group) for _, name, display, _, group in rows]
        is_visible = np.array([not hidden for *_, hidden, _ in rows])
        names = sorted({label for label, ok in zip(labels, is_visible) if ok})
        code_of = {name: code for code, name in enumerate(names)}
        lookup = np.zeros(int(ids.max()) + 1, dtype=np.int32)
        visible = np.zeros(len(lookup), dtype=bool)
        for type_id, label, ok in zip(ids, labels, is_visible):
            lookup[type_id] = code_of.get(label, 0)
            visible[type_id] = ok
        return names, lookup, visible

    def _has_checks(self) -> bool:
        """Were checksums written into this file? (Projects from before them have none to verify.)"""
        return self.get_setting(CHECKS_SETTING) is not None

    @reads_project
    def verify_catalog(self) -> None:
        row = self.conn.execute("SELECT data FROM log_cache WHERE name = ?", (CATALOG_CHECK,)).fetchone()
        if row is None and self._has_checks():
            raise ProjectDamaged(self.path, "the event catalog's checksum is missing")
        if row is not None and json.loads(bytes(row[0]))["crc32"] != catalog_crc(self.conn):
            raise ProjectDamaged(self.path, "the event catalog (display names, hidden events, groups) "
                                            "differs from its checksum")

    # --- catalog edits (rename / merge / hide / group) ----------------------------------------

    @reads_project
    def event_catalog(self) -> pd.DataFrame:
        """Every stored event name with its display name, hidden flag, group, events and users."""
        import pandas as pd
        columns = self.event_catalog_columns(arrays=None, ordered=False)
        if not len(columns["name"]):
            return pd.DataFrame(columns=["name", "display_name", "hidden", "group", "events", "users"])
        return pd.DataFrame(columns).sort_values("events", ascending=False, ignore_index=True)

    @reads_project
    def event_catalog_columns(self, arrays: dict | None = None, ordered: bool = True) -> dict[str, np.ndarray]:
        """``event_catalog()`` as numpy columns (name -> array), in the same row order, without
        pandas (what the window's side panel shows on open). ``arrays``: ``load_arrays()`` when the
        caller has them already."""
        arrays = self.load_arrays(LOG_COLUMNS) if arrays is None else arrays
        rows = self.conn.execute(
            "SELECT id, name, display_name, hidden, group_name FROM event_types ORDER BY id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        size = int(ids.max()) + 1 if len(ids) else 0
        events = np.bincount(arrays["event"], minlength=size)
        pairs = np.sort(arrays["event"].astype(np.int64) << 32 | arrays["user"].astype(np.int64))
        pairs = pairs[np.append(True, pairs[1:] != pairs[:-1])] if len(pairs) else pairs   # distinct
        users = np.bincount((pairs >> 32).astype(np.int64), minlength=size)
        columns = {
            "name": _objects([r[1] for r in rows]),
            "display_name": _objects([r[2] if r[2] is not None else r[1] for r in rows]),
            "hidden": np.array([bool(r[3]) for r in rows], dtype=bool),
            "group": _objects([r[4] for r in rows]),
            "events": events[ids].astype(np.int64), "users": users[ids].astype(np.int64)}
        if not ordered or not len(ids):
            return columns
        # sort_values("events", ascending=False)'s order, ties included (pandas' nargsort, quicksort)
        backwards = columns["events"][::-1]
        order = np.arange(len(ids))[::-1][backwards.argsort(kind="quicksort")][::-1]
        return {name: values[order] for name, values in columns.items()}

    def _type_id(self, name: str) -> int:
        row = self.conn.execute("SELECT id FROM event_types WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = [n for (n,) in self.conn.execute("SELECT name FROM event_types")]
            raise UnknownEvent(name, known)
        return int(row[0])

    @contextmanager
    def _catalog_edit(self) -> Iterator[None]:
        """One transaction for an edit and the catalog's new checksum (a kill between the two must
        not make an intact project look damaged); busy or read-only become messages."""
        own = not self.conn.in_transaction
        try:
            if own:
                self.conn.execute("BEGIN IMMEDIATE")
            yield
            store_catalog_check(self.conn)
            if own:
                self.conn.execute("COMMIT")
        except BaseException as exc:
            if own and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise project_error(self.path, exc) from None
            raise

    def rename_event(self, name: str, display_name: str) -> None:
        """Show ``name`` as ``display_name``; two names given the same display name are merged. A rule
        naming the event by a property follows it to its new name (when no other event keeps the old)."""
        before = self.shown_event_names()
        with self._catalog_edit():
            self.conn.execute("UPDATE event_types SET display_name = ? WHERE id = ?",
                              (display_name or name, self._type_id(name)))
        self._move_detail_rule(before)         # after the catalog's new checksum (names read through it)

    def _move_detail_rule(self, before: list[str]) -> None:
        rules = self.event_detail_rules()
        after = self.shown_event_names()
        gone, new = set(before) - set(after), set(after) - set(before)
        moved = {old: rules.pop(old) for old in gone if old in rules}
        if moved and len(new) == 1:
            rules[new.pop()] = next(iter(moved.values()))
            self.set_setting(RULES_SETTING, rules)

    def merge_events(self, names: list[str], into: str) -> None:
        for name in names:
            self.rename_event(name, into)

    def set_hidden(self, name: str, hidden: bool = True) -> None:
        with self._catalog_edit():
            self.conn.execute("UPDATE event_types SET hidden = ? WHERE id = ?", (int(hidden), self._type_id(name)))

    @reads_project
    def group_rules(self) -> list[tuple[str, str]]:
        return [(p, g) for p, g in self.conn.execute(
            "SELECT pattern, group_name FROM group_rules ORDER BY position")]

    def set_group_rules(self, rules: list[tuple[str, str]]) -> None:
        """Replace the regex grouping rules (``[("^product_.*", "Product Page")]``), applied in order."""
        for pattern, _ in rules:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise JourneyError(f"Invalid pattern '{pattern}': {exc}") from None
        with self._catalog_edit():
            self.conn.execute("DELETE FROM group_rules")
            self.conn.executemany("INSERT INTO group_rules(position, pattern, group_name) VALUES (?, ?, ?)",
                                  [(i, p, g) for i, (p, g) in enumerate(rules)])

    # --- segments -----------------------------------------------------------------------------

    def save_segment(self, name: str, definition: dict) -> None:
        self.conn.execute("INSERT OR REPLACE INTO segments(name, definition) VALUES (?, ?)",
                          (name, json.dumps(definition)))

    @reads_project
    def segments(self) -> dict[str, dict]:
        return {n: json.loads(d) for n, d in self.conn.execute("SELECT name, definition FROM segments")}

    # --- the insight board --------------------------------------------------------------------

    @property
    def board(self):
        from journey_explorer.store.board import Board
        return Board(self.conn)

    # --- facts --------------------------------------------------------------------------------

    @reads_project
    def sources(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, path, sha256, format, mapping, rows_read, imported, duplicates, rejected, "
            "imported_at FROM sources ORDER BY id")
        keys = ("id", "path", "sha256", "format", "mapping", "rows_read", "imported", "duplicates",
                "rejected", "imported_at")
        out = []
        for row in rows:
            item = dict(zip(keys, row))
            item["mapping"] = json.loads(item["mapping"] or "{}")
            out.append(item)
        return out

    @reads_project
    def rejected_rows(self, source_id: int | None = None) -> pd.DataFrame:
        import pandas as pd
        query = ("SELECT s.path AS source, r.line, r.reason, r.raw FROM rejected_rows r "
                 "JOIN sources s ON s.id = r.source_id")
        params: tuple = ()
        if source_id is not None:
            query += " WHERE r.source_id = ?"
            params = (source_id,)
        return pd.read_sql_query(query + " ORDER BY r.source_id, r.line", self.conn, params=params)

    @reads_project
    def duplicate_rows(self, source_id: int | None = None) -> pd.DataFrame:
        """Rows skipped as duplicates: source, line, the line it repeats (empty when it repeats an
        event of an earlier import) and that event's id."""
        import pandas as pd
        query = ("SELECT s.path AS source, d.line, d.original_line, d.original_event_id FROM duplicate_rows d "
                 "JOIN sources s ON s.id = d.source_id")
        params: tuple = ()
        if source_id is not None:
            query += " WHERE d.source_id = ?"
            params = (source_id,)
        return pd.read_sql_query(query + " ORDER BY d.source_id, d.line", self.conn, params=params)

    @reads_project
    def info(self, arrays: dict | None = None) -> ProjectInfo:
        arrays = self.load_arrays(LOG_COLUMNS) if arrays is None else arrays
        ts = arrays["ts"]

        def iso(ms: int) -> str:         # as pandas.Timestamp(ms, unit="ms", tz="UTC").isoformat()
            return (EPOCH + dt.timedelta(milliseconds=int(ms))).isoformat()

        return ProjectInfo(
            path=str(self.path), events=int(len(ts)),
            users=_distinct_count(arrays["user"]),
            event_types=int(self.conn.execute(   # NOT INDEXED: count the checked table, not its index
                "SELECT count(*) FROM event_types NOT INDEXED").fetchone()[0]),
            sessions=_distinct_count(arrays["session"]),
            first_time=iso(ts.min()) if len(ts) else None,
            last_time=iso(ts.max()) if len(ts) else None,
            sources=[{k: s[k] for k in ("path", "format", "rows_read", "imported", "duplicates",
                                         "rejected", "imported_at")} for s in self.sources()],
            default_goal=self.default_goal,
            session_gap_minutes=session_rule.gap_minutes(self._session_gap_in_effect(arrays)[0]),
            path_noun=self.path_noun(arrays))

    # --- what other modules once wrote as raw SQL ---------------------------------------------------

    def wait_when_busy(self, seconds: float) -> None:
        """How long a write waits for another process (an import) holding the file, before it fails
        with ``sqlite3.OperationalError`` ("database is locked"); 0 fails at once."""
        self.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def label_sources(self, label: str) -> None:
        """Name every source ``label`` instead of the path it was imported from (the built-in demo
        is imported from a temporary file nobody should see)."""
        self.conn.execute("UPDATE sources SET path = ?", (label,))


def _with_detail(properties: str | list[str], rules: dict[str, str]) -> str | list[str]:
    """The chosen properties plus those that name events (every view must see the same names)."""
    if isinstance(properties, str):
        return properties
    return list(dict.fromkeys([*properties, *rules.values()]))


def _distinct_count(values: np.ndarray) -> int:
    """How many distinct values (``len(np.unique(values))``): the cached log is sorted by user and
    its sessions are numbered in order, so one pass usually does; np.unique would also import numpy.ma
    (~0.06 s at start-up).

    >>> _distinct_count(np.array([0, 0, 1, 3])), _distinct_count(np.array([2, 1, 2])), _distinct_count(np.array([]))
    (3, 2, 0)
    """
    if len(values) == 0:
        return 0
    if not (values[1:] >= values[:-1]).all():
        values = np.sort(values)
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1


def _check_columns(blobs: dict[str, bytes], wanted: tuple[str, ...], per_column: dict) -> None:
    """ValueError unless every wanted column is stored exactly when its checksum says so, with the
    bytes it had at commit (a column missing from both holds only its default)."""
    for name in wanted:
        if (name in blobs) != (name in per_column):
            raise ValueError(f"the cached column '{name}' is {'missing' if name in per_column else 'not expected'}")
        if name in blobs and column_crc(name, blobs[name]) != per_column[name]:
            raise ValueError(f"the cached column '{name}' differs from its checksum")


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# --- user properties: one JSON object per user, read when (and as far as) something asks -------------


def user_property_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """One row per user id (index = id), one column per property (last value imported)."""
    import pandas as pd
    count = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    rows = conn.execute("SELECT id, properties FROM users WHERE properties IS NOT NULL ORDER BY id")
    ids, records = [], []
    for user_id, text in rows:
        ids.append(user_id)
        records.append(json.loads(text))
    if not records:
        return pd.DataFrame(index=range(count))
    return pd.DataFrame.from_records(records, index=ids).reindex(range(count))


def user_property_names(conn: sqlite3.Connection) -> list[str]:
    """Every key of the users' JSON objects, in order of first appearance (users by id, keys as
    written): the column order of ``user_property_frame``. SQLite walks the JSON; no value is
    built in Python."""
    rows = conn.execute(
        "SELECT j.key, min(u.id) FROM users AS u, json_each(u.properties) AS j "
        "WHERE u.properties IS NOT NULL GROUP BY j.key").fetchall()
    # the first user holding a key; within that user, the key's place in the object
    first = dict(rows)
    places = {}
    for key, user in first.items():
        places[key] = (user, conn.execute("SELECT j.id FROM users AS u, json_each(u.properties) AS j "
                                          "WHERE u.id = ? AND j.key = ?", (user, key)).fetchone()[0])
    return sorted(first, key=places.__getitem__)


def user_property_column(conn: sqlite3.Connection, name: str) -> np.ndarray:
    """One user property per user id, as ``user_property_frame(conn)[name]`` holds it (a column of
    numbers with gaps or mixed int/float is float, gaps NaN; else gaps None), without pandas.
    ``KeyError`` when no user has it."""
    count = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    if '"' in name or "\\" in name:         # not writable as a JSON path label: read the objects here
        rows = [(user_id, json.loads(text)) for user_id, text in
                conn.execute("SELECT id, properties FROM users WHERE properties IS NOT NULL ORDER BY id")]
        rows = [(user_id, record[name], "") for user_id, record in rows if name in record]
    else:
        path = f'$."{name}"'
        rows = conn.execute("SELECT id, json_extract(properties, ?), json_type(properties, ?) FROM users "
                            "WHERE properties IS NOT NULL AND json_type(properties, ?) IS NOT NULL ORDER BY id",
                            (path, path, path)).fetchall()
    if not rows:
        raise KeyError(name)
    values = []
    for _, value, kind in rows:
        if kind == "true" or kind == "false":
            value = kind == "true"
        elif kind == "object" or kind == "array":
            value = json.loads(value)
        values.append(value)
    present = [v for v in values if v is not None]
    numeric = bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    out = np.empty(count, dtype=object)
    if numeric and (len(present) < count or any(isinstance(v, float) for v in present)):
        out[:] = np.nan                    # as pandas makes it: float64, NaN for the gaps
        values = [np.nan if v is None else float(v) for v in values]
    ids = np.fromiter((user_id for user_id, _, _ in rows), dtype=np.int64, count=len(rows))
    column = np.empty(len(values), dtype=object)
    column[:] = values
    out[ids] = column
    return out


class StoredUserProperties(UserPropertySource):
    """A loaded log's user properties, read from the project file when first used: the names by
    SQLite alone, a column at a time, or all of them as a DataFrame. Reading after the project
    changed (another import) raises ``JourneyError`` rather than returning other users' values."""

    def __init__(self, path: Path, stamp: tuple):
        self.path, self.stamp = Path(path).resolve(), stamp
        self._names: list[str] | None = None
        self._columns: dict[str, np.ndarray] = {}
        self._frame = None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        from journey_explorer.store.properties import cache_stamp
        conn = sqlite3.connect(self.path.as_uri() + "?mode=ro", uri=True)     # as_uri escapes ? and #
        try:
            if cache_stamp(conn) != self.stamp:
                raise JourneyError("The project changed since its events were loaded (a new import?); "
                                   "load it again to use its user properties.")
            yield conn
        except sqlite3.DatabaseError as exc:
            raise project_error(self.path, exc) from None
        finally:
            conn.close()

    def names(self) -> list[str]:
        if self._names is None:
            if self._frame is not None:
                self._names = [str(c) for c in self._frame.columns]
            else:
                with self._connection() as conn:
                    self._names = user_property_names(conn)
        return list(self._names)

    def column(self, name: str) -> np.ndarray:
        if name not in self._columns:
            if self._frame is not None:
                self._columns[name] = self._frame[name].to_numpy(dtype=object)
            else:
                with self._connection() as conn:
                    self._columns[name] = user_property_column(conn, name)
        return self._columns[name]

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            with self._connection() as conn:
                self._frame = user_property_frame(conn)
        return self._frame


def remember_goal_guess(path: str | os.PathLike, stamp: list, goal: str) -> bool:
    """Keep ``goal``, guessed from the event log ``stamp[0]`` (``log_stamp``) names, in the project, so
    the next command reads it instead of guessing again (~0.1 s at 1M events, ~1 s at 10M).

    A cache, written only when nobody writes the project (its lock is free) and the log is still the
    one guessed from; a file that cannot be written (read-only, busy, damaged) is left alone.
    Returns whether it was written."""
    lock = ProjectLock(Path(path))
    try:
        lock.acquire()
    except (JourneyError, OSError):
        return False
    try:
        with Project.open(path) as project:
            project.conn.execute("PRAGMA busy_timeout = 100")     # another reader's moment: not worth a wait
            project.conn.execute("BEGIN IMMEDIATE")
            if project.log_stamp() != stamp[0]:
                project.conn.execute("ROLLBACK")
                return False
            project.set_setting(GUESS_SETTING, {"stamp": stamp, "goal": goal})
            project.conn.execute("COMMIT")
        return True
    except (JourneyError, sqlite3.Error, OSError, ValueError):
        return False
    finally:
        lock.release()


def _is_sqlite(path: Path) -> bool:
    if path.stat().st_size == 0:
        return True          # an empty file: SQLite treats it as a new database
    with open(path, "rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def check_project_path(path: Path, create: bool) -> None:
    """Refuse, with a clear message, what SQLite would fail on obscurely (or silently accept)."""
    try:
        if path.is_dir():
            raise JourneyError(f"{path} is a folder, not a project file: name a file such as "
                               f"{path / ('project' + SUFFIX)}")
        if not path.exists():
            if not create:
                raise JourneyError(f"No project at {path} (create one with 'journey-explorer import' or "
                                   "'journey-explorer demo')")
            if not path.parent.is_dir():
                raise JourneyError(f"Cannot create {path}: the folder {path.parent} does not exist")
            return
        if not _is_sqlite(path):
            raise JourneyError(f"{path} is not a Journey Explorer project (not an SQLite file)")
    except OSError as exc:
        raise project_error(path, exc) from None


def _close_quietly(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except sqlite3.Error:
            pass


def is_project_file(path: str | os.PathLike) -> bool:
    """An existing, non-empty SQLite file: a project (or a file to hand to ``Project.open``)."""
    path = Path(path)
    return path.is_file() and path.stat().st_size > 0 and _is_sqlite(path)
