"""The in-memory event log every analysis works on.

Events are held as parallel numpy arrays sorted by (user, time, file order), so a user's path is a
contiguous slice and a directly-follows count is one ``bincount``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.domain import UnknownEvent

if TYPE_CHECKING:      # pandas is imported lazily: loading a log for the graph must not pay for it
    import pandas as pd

DEFAULT_SESSION_GAP_MS = 30 * 60 * 1000
MISSING = -1      # property code of an event that does not carry the property


@dataclass(frozen=True, eq=False)
class PropertyColumn:
    """One event property, dictionary-encoded and aligned with the log's event arrays.

    ``codes``: int32, one per event (same order as ``EventLog.ts``); ``MISSING`` (-1) where the event
    does not carry the property. ``values``: object array of the distinct values, indexed by code; a
    value keeps its type (str, int, float, bool), so numbers stay numbers.

    >>> column = PropertyColumn(np.array([0, -1, 1], dtype=np.int32), np.array(["ios", "web"], dtype=object))
    >>> column.value_at(2), column.value_at(1)
    ('web', None)
    """

    codes: np.ndarray
    values: np.ndarray

    def value_at(self, position: int):
        code = int(self.codes[position])
        return None if code == MISSING else self.values[code]

    def take(self, keep) -> "PropertyColumn":
        """The column for a subset of events (a boolean mask or an index array); values unchanged."""
        return PropertyColumn(self.codes[keep], self.values)


class TakenProperties(Mapping):
    """The event properties of a subset of the events: a column is cut when first read, so that
    filtering a log never touches (or loads) properties the view does not use."""

    def __init__(self, source: Mapping[str, PropertyColumn], keep):
        self._source, self._keep, self._taken = source, keep, {}

    def __getitem__(self, name: str) -> PropertyColumn:
        if name not in self._taken:
            self._taken[name] = self._source[name].take(self._keep)
        return self._taken[name]

    def __iter__(self):
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def __contains__(self, name) -> bool:
        return name in self._source


class LazyUserKeys:
    """User ids made when first used: splitting a million of them into an object array costs ~20 ms,
    which a command that never prints a user id (most of them) should not pay. ``len`` is known
    without them (``EventLog.n_users``); indexing, iteration and numpy functions (``np.isin``,
    ``np.concatenate``) see the object array ``load()`` returns.

    >>> keys = LazyUserKeys(2, lambda: np.array(["u1", "u2"], dtype=object))
    >>> len(keys), keys[1], list(keys[np.array([1, 0])]), np.isin(keys, ["u2"]).tolist()
    (2, 'u2', ['u2', 'u1'], [False, True])
    """

    def __init__(self, count: int, load):
        self._count, self._load, self._keys = count, load, None

    def array(self) -> np.ndarray:
        if self._keys is None:
            self._keys = self._load()
            if len(self._keys) != self._count:     # a loader that disagrees with the count is a bug
                raise ValueError(f"{len(self._keys):,} user ids where {self._count:,} were counted")
        return self._keys

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self.array()[index]

    def __iter__(self):
        return iter(self.array())

    def __array__(self, dtype=None, copy=None):
        keys = self.array()
        if dtype is not None:
            return keys.astype(dtype)
        return keys.copy() if copy else keys

    def tolist(self) -> list:
        return self.array().tolist()


@dataclass(frozen=True, eq=False)
class EventLog:
    """Sorted, dictionary-encoded events.

    ``user``: int32 user codes, non-decreasing; ``user_keys[code]`` is the user id as imported (an
    object array, or a ``LazyUserKeys`` that becomes one when first used).
    ``event``: int32 codes into ``event_names``.
    ``ts``: int64 UTC milliseconds, non-decreasing within a user (ties keep file order).
    ``session``: int64 global session index, non-decreasing; a new value starts each session.
    ``user_properties``: one row per user code (index = code), columns = user properties; a
    ``UserPropertySource`` (a project's, read when first used) or a DataFrame. Read it through
    ``user_property_names``, ``user_property`` (one column, no pandas) or ``properties()`` (all).
    ``event_properties``: every other column of the source, per event (name -> ``PropertyColumn``);
    nested vendor fields carry dotted names (``traits.plan``). Empty when loaded without properties.
    ``saved_segments``: the project's saved segments (name -> definition), so a segment can name one.
    """

    user: np.ndarray
    event: np.ndarray
    ts: np.ndarray
    session: np.ndarray
    event_names: tuple[str, ...]
    user_keys: np.ndarray | LazyUserKeys
    user_properties: pd.DataFrame | UserPropertySource | None = None     # None: loaded without properties
    default_goal: str | None = None
    event_properties: Mapping[str, PropertyColumn] = field(default_factory=dict)
    saved_segments: Mapping[str, dict] = field(default_factory=dict)
    # A per-session log (``analysis.common.sessions_as_paths``): per path, the code of its user in the
    # whole log. None in a per-user log (a case id such as "PO#1" does not make a log per-session).
    path_owner: np.ndarray | None = None
    # What one path is, for every sentence and axis about paths (``analysis.units.path_words``): "user";
    # "case" when the session rule found the paths are cases of a process (``store.session_rule``);
    # "session" in a per-session log. Kept by ``dataclasses.replace``, so filtered logs say the same.
    path_noun: str = "user"

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, session_gap_ms: int = DEFAULT_SESSION_GAP_MS,
                   user_properties: pd.DataFrame | None = None,
                   default_goal: str | None = None) -> "EventLog":
        """Build a log from a DataFrame with columns ``user``, ``event``, ``time`` (and optional ``session``).

        ``time`` may be datetimes, ISO strings, or integer milliseconds. Row order is the file order.
        Every other column becomes an event property (``event_properties``), values keeping their
        type; ``None``/NaN means the event does not carry it. Meant for tests and small inputs;
        imports go through ``store``.

        >>> import pandas as pd
        >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a"], "event": ["x", "y"], "time": [0, 1000]}))
        >>> log.paths_count
        1
        """
        import pandas as pd
        time = frame["time"]
        if pd.api.types.is_numeric_dtype(time):
            ts = time.to_numpy(dtype=np.int64)
        else:
            ts = (pd.to_datetime(time, utc=True, format="mixed").astype("datetime64[ms, UTC]")
                  .astype("int64").to_numpy())
        user_keys, user_codes = np.unique(frame["user"].astype(str).to_numpy(), return_inverse=True)
        names, event_codes = np.unique(frame["event"].astype(str).to_numpy(), return_inverse=True)
        order = np.lexsort((np.arange(len(frame)), ts, user_codes))
        user_codes, event_codes, ts = user_codes[order], event_codes[order], ts[order]
        explicit = None
        if "session" in frame:
            explicit = pd.factorize(frame["session"].astype(str).to_numpy()[order])[0]
        session = compute_sessions(user_codes, ts, session_gap_ms, explicit)
        props = user_properties if user_properties is not None else pd.DataFrame(index=range(len(user_keys)))
        if user_properties is not None and "user" in user_properties:
            props = (user_properties.set_index(user_properties["user"].astype(str))
                     .drop(columns="user").reindex(user_keys).reset_index(drop=True))
        extra = [c for c in frame.columns if c not in CORE_COLUMNS]
        event_properties = {str(c): encode_property(frame[c].to_numpy(dtype=object)[order]) for c in extra}
        return cls(user=user_codes.astype(np.int32), event=event_codes.astype(np.int32), ts=ts,
                   session=session, event_names=tuple(str(n) for n in names), user_keys=user_keys,
                   user_properties=props, default_goal=default_goal, event_properties=event_properties)

    # --- basic facts --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def n_users(self) -> int:
        return len(self.user_keys)

    @property
    def paths_count(self) -> int:
        """Users that have at least one event."""
        return int(self.path_starts().sum()) if len(self.user) else 0

    def properties(self) -> pd.DataFrame:
        """User properties, one row per user code (empty columns when loaded without them)."""
        import pandas as pd
        if self.user_properties is None:
            return pd.DataFrame(index=range(self.n_users))
        if isinstance(self.user_properties, UserPropertySource):
            return self.user_properties.frame()
        return self.user_properties

    def user_property_names(self) -> list[str]:
        """The user properties' names (no values read).

        >>> import pandas as pd
        >>> EventLog.from_frame(pd.DataFrame({"user": ["a"], "event": ["x"], "time": [0]}),
        ...                     user_properties=pd.DataFrame({"user": ["a"], "plan": ["pro"]})).user_property_names()
        ['plan']
        """
        if self.user_properties is None:
            return []
        if isinstance(self.user_properties, UserPropertySource):
            return self.user_properties.names()
        return [str(c) for c in self.user_properties.columns]

    def user_property(self, name: str) -> np.ndarray:
        """One user property, an object array per user code (``None`` or NaN where a user has none);
        numbers as ``properties()`` holds them (a column of numbers with gaps is float). ``KeyError``
        for an unknown name."""
        if self.user_properties is None:
            raise KeyError(name)
        if isinstance(self.user_properties, UserPropertySource):
            return self.user_properties.column(name)
        return self.user_properties[name].to_numpy(dtype=object)

    def take_users(self, rows: np.ndarray):
        """The user properties for new user codes (``rows[new code]`` = old code); what
        ``user_properties`` holds for a re-keyed log."""
        if self.user_properties is None:
            return None
        if isinstance(self.user_properties, UserPropertySource):
            return self.user_properties.take(rows)
        return self.user_properties.iloc[rows].reset_index(drop=True)

    def event_code(self, name: str) -> int:
        """Code of an event name; ``UnknownEvent`` (naming close names) when the log has none such."""
        try:
            return self.event_names.index(name)
        except ValueError:
            raise UnknownEvent(name, self.event_names) from None

    def path_starts(self) -> np.ndarray:
        """Boolean mask: True where a new user's path begins."""
        starts = np.ones(len(self.user), dtype=bool)
        starts[1:] = self.user[1:] != self.user[:-1]
        return starts


CORE_COLUMNS = ("user", "event", "time", "session")


class UserPropertySource:
    """User properties read when first asked (``store.project.StoredUserProperties``): the names
    alone, one column, or all of them as a DataFrame. Loading a log costs nothing for them."""

    def names(self) -> list[str]:
        raise NotImplementedError

    def column(self, name: str) -> np.ndarray:
        raise NotImplementedError

    def frame(self) -> pd.DataFrame:
        raise NotImplementedError

    def take(self, rows: np.ndarray) -> "UserPropertySource":
        return TakenUserProperties(self, rows)

    # read like the DataFrame it stands for (code written before it existed)
    @property
    def columns(self) -> list[str]:
        return self.names()

    def __getitem__(self, name: str):
        return self.frame()[name]


class TakenUserProperties(UserPropertySource):
    """Another source's user properties re-keyed (``rows[new code]`` = old code), cut when read."""

    def __init__(self, source: UserPropertySource, rows: np.ndarray):
        self._source, self._rows = source, np.asarray(rows)

    def names(self) -> list[str]:
        return self._source.names()

    def column(self, name: str) -> np.ndarray:
        return self._source.column(name)[self._rows]

    def frame(self) -> pd.DataFrame:
        return self._source.frame().iloc[self._rows].reset_index(drop=True)


def encode_property(values: np.ndarray) -> PropertyColumn:
    """Dictionary-encode one column of per-event values; ``None``/NaN/"" become ``MISSING``.

    >>> column = encode_property(np.array(["ios", None, "web", "ios"], dtype=object))
    >>> column.codes.tolist(), column.values.tolist()
    ([0, -1, 1, 0], ['ios', 'web'])
    """
    # Codes in order of first appearance (as pandas.factorize), without pandas: a dict does it.
    code_of: dict = {}
    codes = np.fromiter((MISSING if _missing(v) else code_of.setdefault(v, len(code_of)) for v in values),
                        dtype=np.int32, count=len(values))
    # Plain Python values (int, float, str, bool): numbers stay numbers, numpy types do not leak out.
    distinct = np.empty(len(code_of), dtype=object)
    distinct[:] = [v.item() if hasattr(v, "item") else v for v in code_of]
    if len(distinct) and all(isinstance(v, float) and v.is_integer() for v in distinct):
        distinct[:] = [int(v) for v in distinct]      # an integer column that had gaps (NaN made it float)
    return PropertyColumn(codes, distinct)


def _missing(value) -> bool:
    """None, NaN, NaT or "" (what ``pandas.isna`` and an empty cell mean), for one value."""
    if value is None or (isinstance(value, str) and value == "") or type(value).__name__ == "NAType":
        return True
    try:
        return bool(value != value)          # NaN, NaT
    except (TypeError, ValueError):
        return False


def compute_sessions(user: np.ndarray, ts: np.ndarray, gap_ms: int,
                     explicit: np.ndarray | None = None) -> np.ndarray:
    """Global session index for events sorted by (user, ts).

    A session starts at each new user and, without an explicit session column, after an inactivity
    gap longer than ``gap_ms``. With ``explicit`` (a code per event), a session starts whenever the
    code changes within a user.

    >>> compute_sessions(np.array([0, 0, 0, 1]), np.array([0, 10, 100, 5]), gap_ms=50).tolist()
    [0, 0, 1, 2]
    """
    if len(user) == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(len(user), dtype=bool)
    same_user = user[1:] == user[:-1]
    if explicit is None:
        new[1:] = ~same_user | (np.diff(ts) > gap_ms)
    else:
        new[1:] = ~same_user | (explicit[1:] != explicit[:-1])
    return np.cumsum(new.astype(np.int64)) - 1       # converted first: a converting sum holds the GIL
