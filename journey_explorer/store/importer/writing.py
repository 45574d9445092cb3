"""Writing a plan inside one transaction: sources, users, event types, the events in file order
(``store.event_chunks``), rejected and duplicate rows, the sorted cache and its checks.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict

import numpy as np
import pandas as pd

from journey_explorer.domain import ImportOptions, ImportSummary, JourneyError, Rejection
from journey_explorer.io.base import SourceReader
from journey_explorer.io.mapping import column_for_missing_users, personal_data_columns
from journey_explorer.store import event_chunks, session_rule
from journey_explorer.store import properties as stored_properties
from journey_explorer.store.column_codec import cache_check, encode_column
from journey_explorer.store.errors import ProjectDamaged
from journey_explorer.store.importer.encoding import Dictionary, _json_or_none
from journey_explorer.store.importer.planning import WritePlan
from journey_explorer.store.importer.state import PROPERTY_KEY, ImportState, Progress
from journey_explorer.store.project import (
    CACHE_COLUMNS,
    CACHE_DEFAULTS,
    CHECK_NAME,
    Project,
    event_names_crc,
    store_catalog_check,
    store_user_keys,
)

DUPLICATE_LINES_IN_SUMMARY = 1000    # all of them are stored in duplicate_rows




def _summary_before_write(reader: SourceReader, file_path: str, state: ImportState, plan: WritePlan,
                          options: ImportOptions) -> ImportSummary:
    reasons = Counter(_reason_kind(r.reason) for r in state.rejections)
    traits = getattr(reader, "trait_columns", list)()
    flagged = personal_data_columns(reader.columns() + traits, reader.preview(200), state.mapping.mapped_columns)
    skipped = getattr(reader, "records_not_events", 0)     # read, but not events (identify, start rows)
    notes = list(getattr(reader, "notes", []))
    if state.mapping.time_of_day:
        notes.append(f"Each time is the date in '{state.mapping.time}' and the time of day in "
                     f"'{state.mapping.time_of_day}', read together.")
    if state.identity is not None:
        notes.append(state.identity.note(state.mapping.anonymous, state.mapping.user))
    notes.extend(_missing_user_advice(state))
    if plan.duplicates_within and not state.insert_id_alone:
        notes.append(f"The file gives times to the {plan.duplicates_within}: the {plan.duplicates:,} identical rows "
                     f"skipped may be one action repeated within a {plan.duplicates_within} rather than copies "
                     "(their lines are listed; an export with full times tells them apart, or import with "
                     "{keep_identical_rows} to keep every row).")
    return ImportSummary(
        skipped=skipped, notes=notes,
        read=state.read + skipped, imported=plan.new_count, duplicates=plan.duplicates,
        rejected=len(state.rejections), reject_reasons=dict(reasons), file=file_path,
        reject_examples=_first_of_each_kind(state.rejections,
                                            with_row=not (options.drop_columns or options.pseudonymize)),
        format=reader.format, mapping={k: v for k, v in asdict(state.mapping).items() if v},
        personal_data_columns=[c for c in flagged if c not in options.drop_columns],
        dropped_columns=list(options.drop_columns), pseudonymized=options.pseudonymize,
        duplicate_lines=[line for line, *_ in plan.duplicate_rows[:DUPLICATE_LINES_IN_SUMMARY]],
        unstored_properties=list(state.too_many_values))


# Most rows rejected for a missing user while another column has an id on them: say which column.
MISSING_USER_ADVICE_SHARE = 0.5


def _missing_user_advice(state: ImportState) -> list[str]:
    missing = sum(_reason_kind(r.reason) == "missing user" for r in state.rejections)
    if not state.read or missing < MISSING_USER_ADVICE_SHARE * state.read:
        return []
    column = column_for_missing_users(state.missing_user_filled, missing)
    if column is None:
        return [f"{missing:,} of the {state.read:,} rows have no {state.mapping.user}: choose the column "
                "that names who did each event with {user}."]
    merge = (f", or with {{anonymous}} {column} (a row without a {state.mapping.user} joins the user its {column} "
             "was seen with)") if not state.mapping.anonymous else ""
    return [f"{missing:,} of the {state.read:,} rows have no {state.mapping.user}, but {column} is filled on them: "
            f"to keep them, import with {{user}} {column} (one path per {column}){merge}."]


def _first_of_each_kind(rejections: list[Rejection], with_row: bool = True) -> dict[str, dict]:
    """One example (line, reason, the row as read) of each kind of rejection, for the summary. Without
    the row (``with_row`` False) when columns are left out or user ids pseudonymised: the row as read
    holds both, and the summary is printed and kept."""
    examples: dict[str, dict] = {}
    for rejection in sorted(rejections, key=lambda r: r.line):
        kind = _reason_kind(rejection.reason)
        if kind not in examples:
            examples[kind] = {"line": rejection.line, "reason": rejection.reason,
                              "raw": rejection.raw if with_row else ""}
    return examples


def _reason_kind(reason: str) -> str:
    """Group reasons for counting: "unparseable time 'abc'" -> "unparseable time"."""
    return reason.split(" '")[0].split(" (")[0].split(":")[0].strip()


def _write(project: Project, file_path: str, sha: str, reader: SourceReader, state: ImportState,
           plan: WritePlan, traits: dict, summary: ImportSummary, progress: Progress) -> None:
    """The rest of the import's transaction (begun before the plan, which put the users in), on this
    thread's connection, and its commit. The event chunks are compressed on one thread and the sorted
    cache and the property columns on another meanwhile: numpy and Zstandard release the GIL, as
    SQLite does while it stores the blobs, so the three overlap."""
    _fill_raw_text(reader, state.rejections)
    with ThreadPoolExecutor(1, thread_name_prefix="import-chunks") as chunk_pool, \
            ThreadPoolExecutor(1, thread_name_prefix="import-cache") as cache_pool:
        _write_transaction(project, file_path, sha, reader, state, plan, summary, progress, chunk_pool, cache_pool)


def _write_transaction(project: Project, file_path: str, sha: str, reader: SourceReader, state: ImportState,
                       plan: WritePlan, summary: ImportSummary, progress: Progress, chunk_pool: ThreadPoolExecutor,
                       cache_pool: ThreadPoolExecutor) -> None:
    conn = project.conn
    source_id = _insert_source(conn, file_path, sha, reader, state, summary)
    # Each event chunk is stored by this thread as it lands; the stored rows' columns (~200 MB at
    # 10M events) are then let go of while the cache is still being encoded.
    chunks = _submit_event_chunks(chunk_pool, state, plan, source_id)
    encoded = [cache_pool.submit(_encode_cache, plan.arrays), cache_pool.submit(_encode_property_columns, plan.arrays)]
    try:
        conn.executemany("INSERT INTO event_types(id, name, display_name, hidden) VALUES (?, ?, ?, 0)",
                         [(code, name, name) for name, code in state.events.new.items()])
        _insert_event_chunks(conn, chunks, progress, state.read)
        state.kept, plan.session_in_user = {}, plan.session_in_user[:0].copy()
    except BaseException:
        for future in (*chunks, *encoded):
            if future is not None:      # None: a chunk already stored
                future.cancel()
        raise
    cache, properties = encoded
    try:
        event_chunks.renumber_sessions(conn, *plan.changed_sessions)
    except event_chunks.DamagedEvents as exc:     # never give damaged bytes a fresh checksum
        raise ProjectDamaged(project.path, str(exc)) from None
    conn.executemany("INSERT INTO rejected_rows(source_id, line, reason, raw) VALUES (?, ?, ?, ?)",
                     [(source_id, r.line, r.reason, r.raw) for r in state.rejections])
    conn.executemany("INSERT INTO duplicate_rows(source_id, line, original_line, original_event_id) "
                     "VALUES (?, ?, ?, ?)", [(source_id, *row) for row in plan.duplicate_rows])
    _write_cache(conn, plan.arrays, cache.result())
    project.set_setting(session_rule.STAMP_SETTING, plan.session_stamp)     # the rule the cached sessions follow
    del cache           # its blobs are in the database now
    _check_event_ids(conn, plan)
    store_catalog_check(conn)
    _write_properties(conn, state, plan.arrays, properties.result())
    del properties
    _write_user_keys(conn, state.users)
    if state.pseudonymize is not None and project.get_setting("pseudonym_key") is None:
        project.set_setting("pseudonym_key", state.pseudonymize.key.hex())
    progress(1.0, state.read)     # the last chance to cancel: after the commit the import stands
    conn.execute("COMMIT")


def _fill_raw_text(reader: SourceReader, rejections: list[Rejection]) -> None:
    """Rows the parser itself skipped (ragged lines) get their raw text from the file."""
    missing = {r.line for r in rejections if not r.raw}
    if missing and hasattr(reader, "raw_lines"):
        found = reader.raw_lines(missing)
        for rejection in rejections:
            if not rejection.raw:
                rejection.raw = found.get(rejection.line, "")


def storable_path(path: str) -> str:
    """An absolute path as UTF-8 text: bytes of a name that is not UTF-8 are kept as \\xNN escapes."""
    return os.fsencode(os.path.abspath(path)).decode("utf-8", "backslashreplace")


def _insert_source(conn, file_path, sha, reader, state, summary) -> int:
    cursor = conn.execute(
        "INSERT INTO sources(path, sha256, format, mapping, rows_read, imported, duplicates, rejected, "
        "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (storable_path(file_path), sha, reader.format, json.dumps(summary.mapping), summary.read,
         summary.imported, summary.duplicates, summary.rejected,
         pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")))
    return int(cursor.lastrowid)


USERS_PER_STATEMENT = 100_000


def _insert_users(project: Project, state: ImportState) -> None:
    """The new users and every user's properties (inside the caller's transaction)."""
    conn, users = project.conn, state.users
    first_new = users.first_new
    new_keys = users.final_values[first_new:].tolist()
    # A statement over a JSON array is ~3x faster than executemany for 100k+ plain rows; one array per
    # USERS_PER_STATEMENT keys: json.dumps of 2M keys at once held the GIL ~150 ms (a frozen window).
    for start in range(0, len(new_keys), USERS_PER_STATEMENT):
        if not conn.in_transaction:     # rolled back meanwhile: never write outside the import's transaction
            raise JourneyError("internal error: the import's transaction ended before its users were in")
        conn.execute("INSERT INTO users(id, key) SELECT ? + key, value FROM json_each(?)",
                     (first_new + start, json.dumps(new_keys[start:start + USERS_PER_STATEMENT], ensure_ascii=False)))
    conn.executemany("UPDATE users SET properties = ? WHERE id = ?",
                     [(_json_or_none(props), code) for code, props in state.user_properties.items()
                      if code >= first_new and props])
    updates = [(code, props) for code, props in state.user_properties.items() if code < first_new]
    for code, props in updates:
        row = conn.execute("SELECT properties FROM users WHERE id = ?", (code,)).fetchone()
        merged = json.loads(row[0]) if row and row[0] else {}
        merged.update(props)
        conn.execute("UPDATE users SET properties = ? WHERE id = ?", (_json_or_none(merged), code))



def _submit_event_chunks(pool: ThreadPoolExecutor, state: ImportState, plan: WritePlan,
                        source_id: int) -> list[Future]:
    """The new events in file order, one ``event_chunks.encode_chunk`` task per chunk."""
    rows, keep = state.rows, plan.keep
    columns = {"user": state.kept["user"], "event": state.kept["event"], "ts": state.kept["ts"],
               "sub_ms": state.kept["sub_ms"], "session": plan.session_in_user,
               "insert_id": _optional_text(rows.insert_id, rows.lengths, keep),
               "properties": _optional_text(rows.properties_json, rows.lengths, keep)}
    first_id = int(plan.ids[0]) if len(plan.ids) else 0
    return [pool.submit(event_chunks.encode_chunk, first_id + start, source_id,
                        {name: None if values is None else values[start:start + event_chunks.CHUNK_EVENTS]
                         for name, values in columns.items()})
            for start in event_chunks.chunk_starts(len(plan.ids))]


def _insert_event_chunks(conn, chunks: list[Future | None], progress: Progress, read: int) -> None:
    """Store the encoded chunks in order, each as it lands (its blobs are freed once SQLite has
    them; its place in ``chunks`` becomes None)."""
    for number, future in enumerate(chunks):
        event_chunks.insert_chunk(conn, future.result())
        chunks[number] = None
        progress(0.65 + 0.3 * (number + 1) / len(chunks), read)


def _check_event_ids(conn, plan: WritePlan) -> None:
    """Never commit stored events that disagree with the cache: as many, ids 0, 1, 2 ... in file order."""
    stored, end = event_chunks.stored_span(conn)
    expected = len(plan.arrays["ts"])
    if stored != expected or (len(plan.ids) and end != int(plan.ids[-1]) + 1):
        raise JourneyError(f"internal error: event ids out of step ({stored} events up to id {end - 1}, "
                           f"{expected} in the cache)")


def _optional_text(parts: list, lengths: list[int], keep: np.ndarray) -> np.ndarray | None:
    """One text column (insert ids, properties) over all chunks; None when no chunk has it."""
    if all(p is None for p in parts):
        return None
    filled = [p if p is not None else np.full(n, None, dtype=object) for p, n in zip(parts, lengths)]
    return np.concatenate(filled)[keep]


def _write_properties(conn, state: ImportState, arrays: dict[str, np.ndarray],
                      encoded: dict[str, bytes] | None = None) -> None:
    """Each property's sorted codes and its value list (existing values first, codes unchanged)."""
    codes = {name[len(PROPERTY_KEY):]: values for name, values in arrays.items() if name.startswith(PROPERTY_KEY)}
    values = {name: (state.property_values[name].values if name in state.property_values
                     else state.existing_properties.get(name, [])) for name in codes}
    stored_properties.write_columns(conn, codes, values, encoded)


def _encode_property_columns(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    """The blobs ``write_columns`` stores, by property name (no connection needed: any thread)."""
    scratch = _scratch(arrays)
    return {name[len(PROPERTY_KEY):]: encode_column(values, np.int32, scratch) for name, values in arrays.items()
            if name.startswith(PROPERTY_KEY) and len(values) and (values >= 0).any()}


def _scratch(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """One work array for encoding all of ``arrays``' columns (see ``encode_column``)."""
    return np.empty(len(arrays["ts"]), dtype=np.int64)


def _write_user_keys(conn, users: Dictionary) -> None:
    store_user_keys(conn, users.final_values.tolist())


def _encode_cache(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    """The cached columns as blobs; columns that hold only their default are left out (no
    connection needed: any thread)."""
    blobs, scratch = {}, _scratch(arrays)
    for name, dtype in CACHE_COLUMNS.items():
        values = arrays[name]
        if name in CACHE_DEFAULTS and _all_default(values, CACHE_DEFAULTS[name]):
            continue
        blobs[name] = encode_column(values, dtype, scratch)
    return blobs


def _all_default(values: np.ndarray, default: int) -> bool:
    if values.strides == (0,):      # a constant column (planning._constant)
        return not len(values) or bool(values[0] == default)
    return bool(np.all(values == default))


def _write_cache(conn, arrays: dict[str, np.ndarray], blobs: dict[str, bytes] | None = None) -> None:
    """Store the sorted arrays; columns that hold only their default (no session column, no insert
    ids) are left out, which saves ~16 bytes per event. Their row count and checksum go beside them
    (``Project.load_arrays`` verifies them). ``blobs``: ``_encode_cache(arrays)`` if already made."""
    blobs = _encode_cache(arrays) if blobs is None else blobs
    for name in CACHE_COLUMNS:
        if name in blobs:
            conn.execute("INSERT OR REPLACE INTO log_cache(name, data) VALUES (?, ?)", (name, blobs[name]))
        else:
            conn.execute("DELETE FROM log_cache WHERE name = ?", (name,))
    check = {"events": int(len(arrays["ts"])), **cache_check(blobs), "event_names_crc32": event_names_crc(conn)}
    conn.execute("INSERT OR REPLACE INTO log_cache(name, data) VALUES (?, ?)",
                 (CHECK_NAME, json.dumps(check).encode()))
