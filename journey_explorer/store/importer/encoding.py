"""Text to integer codes: the dictionaries that number users, events and sessions, the pseudonymizer,
and the small helpers that clean and hash text cells.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journey_explorer.io import arrow_csv
from journey_explorer.store import properties as stored_properties
from journey_explorer.store.properties import ABSENT, flatten, normalise_value, text_hashes

try:    # pandas' incremental hash-table factorizer: private API, so a plain-Python fallback below
    from pandas._libs.hashtable import ObjectFactorizer
except ImportError:         # pragma: no cover - exercised by tests through _DictFactorizer directly
    ObjectFactorizer = None


class _DictFactorizer:
    """The part of ``ObjectFactorizer`` we use, in plain Python (slower; used if pandas drops it)."""

    def __init__(self, size_hint: int):
        self._index: dict = {}
        self._values: list = []

    @property
    def count(self) -> int:
        return len(self._values)

    def factorize(self, values: np.ndarray, na_sentinel: int = -1) -> np.ndarray:
        codes = np.empty(len(values), dtype=np.int64)
        index, uniques = self._index, self._values
        for i, value in enumerate(values):
            if value is None or (isinstance(value, float) and value != value):
                codes[i] = na_sentinel
                continue
            code = index.get(value)
            if code is None:
                code = index[value] = len(uniques)
                uniques.append(value)
            codes[i] = code
        return codes

    @property
    def uniques(self):
        return self

    def to_array(self) -> np.ndarray:
        out = np.empty(len(self._values), dtype=object)
        out[:] = self._values
        return out


def _new_factorizer(size_hint: int):
    try:
        return ObjectFactorizer(size_hint)
    except TypeError:           # missing (None) or a changed signature
        return _DictFactorizer(size_hint)


# --- encoding dictionaries ------------------------------------------------------------------------


class Dictionary:
    """Raw strings -> integer codes, continuing the codes already in the project.

    While reading, every value gets a *provisional* code from pandas' incremental hash-table
    factorizer (one C call per chunk; codes stay consistent across chunks). ``finish`` then cleans
    the distinct values only — surrounding spaces removed, optionally pseudonymised — merges values
    that became equal, and gives the ``remap`` from provisional to final dense codes. Existing
    project values keep their codes.
    """

    def __init__(self, existing_in_code_order: list[str]):
        self._factorizer = _new_factorizer(max(len(existing_in_code_order), 1024))
        existing = np.array(existing_in_code_order, dtype=object)
        if len(existing):
            self._factorizer.factorize(existing)
        self.first_new = len(existing)
        self._blank = np.zeros(len(existing), dtype=bool)    # per provisional code
        self._adopted: np.ndarray | None = None             # all values, when pyarrow encoded them
        self._strippable: np.ndarray | None = None          # then per new value: may strip change it
        self.remap: np.ndarray | None = None
        self.final_values: np.ndarray | None = None

    def encode(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Provisional codes and a mask of missing values (None, NaN, blank) for a column chunk."""
        if self._adopted is not None:
            raise RuntimeError("this dictionary was filled by encode_all")
        before = self._factorizer.count
        codes = self._factorizer.factorize(values, na_sentinel=-1)
        if self._factorizer.count > before:
            added = self._factorizer.uniques.to_array()[before:]
            self._blank = np.concatenate([self._blank, [not str(v).strip() for v in added]])
        missing = codes < 0
        missing[~missing] = self._blank[codes[~missing]]
        return codes, missing

    def encode_indexed(self, indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``encode`` for cells given as indices into their distinct ``values`` (-1: empty cell)."""
        if not len(values):
            return np.full(len(indices), -1, dtype=np.int64), np.ones(len(indices), dtype=bool)
        codes, missing = self.encode(values)
        empty = indices < 0
        return np.where(empty, -1, codes[indices]), np.where(empty, True, missing[indices])

    def encode_all(self, chunks: list, head: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``encode`` for a whole column of pyarrow text chunks at once, before any other encode.

        Same codes, but one C++ hash table instead of a Python string per cell: at 2M distinct
        users this is ~5x faster than the incremental factorizer. ``head``: the first chunks'
        codes, worked out beforehand (``start_head``'s result).
        """
        if self._factorizer.count != self.first_new or self._adopted is not None:
            raise RuntimeError("encode_all must be the only encode")
        codes, values, strippable = arrow_csv.whole_column_dictionary(self._values(), chunks, head)
        self._adopted = values
        self._strippable = strippable[self.first_new:]
        new_blank = np.zeros(len(values) - self.first_new, dtype=bool)     # a blank value is strippable
        check = np.flatnonzero(self._strippable)
        new_blank[check] = [not v.strip() for v in values[self.first_new:][check]]
        self._blank = np.concatenate([self._blank, new_blank])
        missing = codes < 0
        missing[~missing] = self._blank[codes[~missing]]
        return codes, missing

    def start_head(self, chunks: list, previous: Future | None = None) -> Future:
        """``encode_all``'s work on the chunks read so far, on a thread (pyarrow's hash table releases
        the GIL) while the rest of the file is read; hand its result to ``encode_all``. ``previous``:
        a finished head of the first chunks, which this one carries on from. The thread
        ends with the task: pyarrow's allocator hands a finished thread's memory back with the rest's
        (a live one keeps it: +80 MB at the import's peak)."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="import-users")
        head = pool.submit(arrow_csv.dictionary_head, self._values(), list(chunks),
                           previous.result() if previous is not None else None)
        pool.shutdown(wait=False)
        return head

    def _values(self) -> np.ndarray:
        return self._adopted if self._adopted is not None else self._factorizer.uniques.to_array()

    def finish(self, used: list[np.ndarray], transform=None) -> None:
        """Clean the new values (strip, then ``transform`` on the distinct cleaned values).

        ``used``: provisional codes of accepted rows; values seen only in rejected rows get no code.
        """
        values = self._values()
        in_use = np.zeros(len(values) + 1, dtype=bool)
        for codes in used:
            in_use[codes] = True
        new, changed = _stripped(values[self.first_new:], in_use[self.first_new:-1], self._strippable)
        present = new != None  # noqa: E711 - element-wise comparison
        if transform is not None and len(new):
            new[present] = transform(new[present])
        canonical = np.concatenate([values[:self.first_new], new])
        if changed or transform is not None:     # values may have become equal: merge them
            self.remap, self.final_values = pd.factorize(canonical)
        else:       # distinct as read, and still: dense codes in order, without hashing them again
            kept = np.concatenate([np.ones(self.first_new, dtype=bool), present])
            self.remap = np.where(kept, np.cumsum(kept) - 1, -1)
            self.final_values = canonical[kept]
        self.remap = np.append(self.remap, -1)   # provisional -1 (missing) stays -1

    def final(self, provisional: np.ndarray) -> np.ndarray:
        return self.remap[provisional]

    def __len__(self) -> int:
        return len(self.final_values) if self.final_values is not None else len(self._values())

    @property
    def new(self) -> dict[str, int]:
        """Values added during this import, with their final codes."""
        return {value: self.first_new + i for i, value in enumerate(self.final_values[self.first_new:])}


def _stripped(values: np.ndarray, keep: np.ndarray, strippable: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """``str(v).strip() or None`` where ``keep``, None elsewhere; and whether any kept value changed
    (when none did, the values are still distinct and need no second factorize). ``strippable``:
    which values strip may change (``arrow_csv.may_strip``); the others are kept as they are.

    >>> out, changed = _stripped(np.array(["a", " b", "c", " "], dtype=object), np.array([True, True, False, True]),
    ...                          np.array([False, True, False, True]))
    >>> out.tolist(), changed
    (['a', 'b', None, None], True)
    """
    out = np.full(len(values), None, dtype=object)
    if strippable is not None:
        out[keep & ~strippable] = values[keep & ~strippable]
        keep = keep & strippable
    out[keep] = [str(v).strip() or None for v in values[keep]]
    return out, bool((out[keep] != values[keep]).any())


class Pseudonymizer:
    """Keyed hash of user ids; the key lives in the project so later imports agree."""

    def __init__(self, key_hex: str):
        self.key = bytes.fromhex(key_hex)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return np.array([self.pseudonym(v) if v else v for v in values], dtype=object)

    def pseudonym(self, value: str) -> str:
        return "u_" + hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


# --- text cells ---------------------------------------------------------------------------------


@dataclass
class CleanText:
    """A text column as codes into its distinct values, with surrounding spaces removed.

    Working on the distinct values only is what keeps this fast: a column of 1M rows usually has
    a few thousand. ``missing`` marks None, NaN and blank cells.
    """

    codes: np.ndarray
    uniques: np.ndarray
    missing: np.ndarray

    @classmethod
    def of(cls, values: pd.Series) -> "CleanText":
        codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=None))
        cleaned = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
        codes = np.where(codes < 0, len(uniques), codes)      # NA -> the trailing "" slot
        return cls(codes=codes, uniques=cleaned, missing=(cleaned == "")[codes])

    def values(self) -> np.ndarray:
        return self.uniques[self.codes]


def _object_values(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype=object, na_value=None)


def _hash_text(values: np.ndarray | None) -> np.ndarray | None:
    """Stable 64-bit hashes (0 for missing) so insert ids can be compared as integers."""
    if values is None:
        return None
    hashed = pd.util.hash_array(np.where(pd.isna(values), "", values).astype(object)).view(np.int64)
    hashed[pd.isna(values)] = 0
    return hashed


def _normalised_hashes(cells: np.ndarray) -> np.ndarray:
    plain = [normalise_value(cell) for cell in cells]
    return text_hashes(np.array([None if v is ABSENT else str(v) for v in plain] + [None], dtype=object)[:-1])

def _json_or_none(values: dict | None) -> str | None:
    """User properties as JSON, flattened and typed as event properties are (``address.city``,
    dates as ISO text, ...)."""
    plain = {k: stored_properties.normalise_value(v) for k, v in flatten(values or {}).items()}
    plain = {k: v for k, v in plain.items() if v is not stored_properties.ABSENT}
    if not plain:
        return None
    return json.dumps(plain, ensure_ascii=False, default=str)
