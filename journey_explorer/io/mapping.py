"""Guess which columns hold the user, the event, the time and the session; flag personal data.

Names decide first (exports use a small vocabulary: ``user_id``, ``Case ID``, ``case:concept:name``,
``event``, ``Activity``, ``concept:name``, ``timestamp``, ``Complete Timestamp`` ...); the contents
break ties and fill gaps (a column that parses as dates is a time, a low-cardinality text column is
an event). The caller can override each choice.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import warnings

import numpy as np
import pandas as pd

from journey_explorer.domain import ColumnMapping, ImportOptions, InputError
from journey_explorer.io.base import SourceReader

# Ordered: earlier patterns win. Matched against a normalised name (lower case, separators -> " ").
USER_NAMES = ("case:concept:name", "user id", "userid", "user", "distinct id", "customer id", "client id",
              "account id", "visitor id", "member id", "person id", "case id", "caseid", "case", "anonymous id",
              "device id", "uid", "customer", "client", "account", "visitor", "member", "person",
              # who the log follows, by domain: a learner, a player, a patient, a subscriber...
              "learner", "student", "player", "patient", "subscriber", "shopper", "buyer", "guest", "employee",
              "rider", "contact", "lead id", "profile id", "install id", "installation id", "household",
              # client files from continental Europe: German, French, Spanish, Dutch, Italian
              "kunden id", "kundennummer", "kunde", "benutzer", "nutzer", "id client", "utilisateur",
              "id usuario", "usuario", "cliente", "klant", "gebruiker", "utente")
EVENT_NAMES = ("concept:name", "event name", "event type", "event", "activity", "action", "event action",
               "step", "name", "type",
               "ereignis", "aktivität", "événement", "evenement", "activité", "evento", "acción",
               "accion", "actividad", "gebeurtenis", "activiteit", "attività",
               # the words for an action in client files from continental Europe: German, French,
               # Spanish, Dutch, Portuguese, Italian (see WORD_START_NAMES)
               "aktion", "vorgang", "handlung", "aktivitaet", "activite", "actie", "handeling",
               "ação", "acao", "atividade", "azione", "attivita")
# Matched only at the start of a word of a column name ("Aktionstyp", "tipo de ação"), never inside
# one: a "Transaktion" or a "transactie" is no action.
WORD_START_NAMES = frozenset(("aktion", "vorgang", "handlung", "aktivitaet", "activite", "actie", "handeling",
                              "ação", "acao", "atividade", "azione", "attivita"))
TIME_NAMES = ("time:timestamp", "timestamp", "event time", "event timestamp", "complete timestamp", "time",
              "datetime", "date time", "occurred at", "created at", "ts", "date", "when", "start timestamp",
              "epoch", "unix", "tstamp", "time stamp", "millis", "logged at", "sent at", "received at",
              "zeitstempel", "zeitpunkt", "datum", "horodatage", "date heure", "fecha hora", "fecha",
              "marca de tiempo", "tijdstip", "tijd", "data ora")
# Ids set on every event before the person is known (a device, a cookie, a browser): with a user id
# filled only after login, rows without a user are stitched through them (``io.identity``).
ANONYMOUS_NAMES = ("anonymous id", "anonymousid", "anon id", "anonymous user id", "device id", "deviceid",
                   "visitor id", "visitorid", "cookie id", "client id", "user pseudo id", "browser id",
                   "install id", "installation id", "guest id")
SESSION_NAMES = ("session id", "sessionid", "session", "ga session id", "$session id", "visit id")
INSERT_ID_NAMES = ("$insert id", "insert id", "message id", "messageid", "event id", "uuid")

PERSONAL_NAME = re.compile(
    r"(e-?mail|ip ?addr|\bip\b|first ?name|last ?name|full ?name|"
    r"surname|^name$|user ?name|address|street|postcode|zip ?code|birth|\bssn\b|passport)")
TRAIT_CONTAINERS = ("traits", "user properties", "$set", "person", "person properties", "identity")
EMAIL_VALUE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
IP_VALUE = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$")
# A phone number is personal; the phone itself is not: "mobile_model_name", "phone_brand", "mobile os"
# describe the device. A phone word counts unless the name speaks of the device (and not of a number).
PHONE_NAME = re.compile(r"phone|mobile|\btel\b")
DEVICE_NAME = re.compile(r"\b(model|brand|make|manufacturer|vendor|os|operating system|platform|category|"
                         r"type|version|browser|app|device|carrier|screen|resolution)\b")
NUMBER_NAME = re.compile(r"\b(number|no|nr|num|nummer|numero|número)\b")


def _personal_name(name: str) -> bool:
    """Does a normalised column name say personal data (an email, a phone number, a birth date...)?

    >>> [_personal_name(n) for n in ("email", "mobile", "phone number", "mobile model name", "phone brand")]
    [True, True, True, False, False]
    >>> _personal_name("device phone number"), _personal_name("device.category")
    (True, False)
    """
    if PERSONAL_NAME.search(name):
        return True
    return bool(PHONE_NAME.search(name)) and (bool(NUMBER_NAME.search(name)) or not DEVICE_NAME.search(name))


@functools.lru_cache(maxsize=1 << 18)      # each guess asks again for every column's name (100,000 in a wide file)
def normalise(name: str) -> str:
    """Lower case with ``_``/``-``/spaces collapsed to one space.

    >>> normalise(" Complete_Timestamp ")
    'complete timestamp'
    """
    return re.sub(r"[\s_\-]+", " ", str(name).strip().lower())


def _by_name(columns: list[str], patterns: tuple[str, ...], taken: set[str]) -> tuple[str | None, bool]:
    """(column, exact): the first column whose normalised name equals a pattern, else one containing it."""
    normalised = {c: normalise(c) for c in columns if c not in taken}
    for pattern in patterns:
        for column, norm in normalised.items():
            if norm == pattern:
                return column, True
    for pattern in patterns:
        if len(pattern) < 4:           # "ts", "uid": too short to match inside other names
            continue
        for column, norm in normalised.items():
            # Case-level attributes ("case:enddate") describe the path, not the event.
            if norm.startswith("case:") and not pattern.startswith("case"):
                continue
            if pattern in WORD_START_NAMES and not re.search(rf"\b{re.escape(pattern)}", norm):
                continue
            if pattern in norm:
                return column, False
    return None, False


def _parses_as_time(values: pd.Series, share: float = 0.9) -> bool:
    """Do at least ``share`` of the sampled values look like timestamps (dates or epoch numbers)?"""
    sample = values.dropna().astype(str).str.strip()
    sample = sample[sample != ""].head(200)
    if sample.empty:
        return False
    if sample.str.fullmatch(r"\d{9,16}(\.\d+)?").mean() >= share:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", utc=True, format="mixed", dayfirst=False)
    datelike = sample.str.contains(r"\d[-/.:]\d")
    return (parsed.notna() & datelike).mean() >= share


def structured_columns(preview: pd.DataFrame) -> set[str]:
    """Columns holding lists or objects (JSON text, or Python lists/dicts): never a user, event or time.

    >>> sorted(structured_columns(pd.DataFrame({"tags": ['["a"]', '[]'], "user": ["u1", "u2"]})))
    ['tags']
    """
    def nested(cells: np.ndarray) -> np.ndarray:
        return np.fromiter((isinstance(v, (list, dict, tuple, np.ndarray))
                            or (isinstance(v, str) and v.strip()[:1] in ("[", "{") and v.strip()[-1:] in ("]", "}"))
                            for v in cells), dtype=bool, count=len(cells))
    shares = _shares_by_column(preview, [nested])[0]
    return {column for column, share in zip(preview.columns, shares) if share >= 0.5}


def _shares_by_column(preview: pd.DataFrame, tests: list, first: int | None = None) -> list[np.ndarray]:
    """For each ``test`` (present cells -> bool per cell), the share of each column's present cells
    that pass it (NaN for a column without any), over the first ``first`` present cells of a column.

    All cells go through each test at once: a file of 100,000 columns costs one call, not 100,000."""
    cells = preview.to_numpy(dtype=object).T          # one row per column
    present = ~pd.isna(cells)
    if first is not None:
        present &= np.cumsum(present, axis=1) <= first
    column = np.nonzero(present)[0]
    values = cells[present]
    count = np.bincount(column, minlength=len(cells)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [np.bincount(column, weights=test(values), minlength=len(cells)) / count for test in tests]


def _hashable(value):
    return str(value) if isinstance(value, (list, dict, set, tuple, np.ndarray)) else value


def _mostly_numbers(values: pd.Series, share: float = 0.9) -> bool:
    """Do at least ``share`` of the non-empty values read as numbers?

    >>> _mostly_numbers(pd.Series(["3", "10", None])), _mostly_numbers(pd.Series(["open", "3"]))
    (True, False)
    """
    present = values.dropna()
    present = present[present.astype(str).str.strip() != ""]
    return bool(len(present)) and bool(pd.to_numeric(present.astype(str), errors="coerce").notna().mean() >= share)


def _by_content(preview: pd.DataFrame, taken: set[str], needs_event: bool = True, user: str | None = None,
                sample: pd.DataFrame | None = None) -> dict[str, str]:
    """Fallback guesses from values: time = parses as dates; event = the text column whose values change
    most within a user's rows (``_likeliest_event``, on ``sample``: more rows than the preview);
    user = more distinct values than the event but repeated. ``user`` is the user column when its
    name said so."""
    guesses: dict[str, str] = {}
    preview = preview.apply(lambda column: column.map(_hashable))      # lists and dicts as text
    free = [c for c in preview.columns if c not in taken]
    for column in free:
        if _parses_as_time(preview[column]):
            guesses["time"] = column
            break
    text_columns = [c for c in free if c != guesses.get("time")
                    and preview[c].notna().mean() > 0.9
                    and not pd.to_numeric(preview[c], errors="coerce").notna().all()]
    by_cardinality = sorted(text_columns, key=lambda c: preview[c].nunique())
    if by_cardinality and needs_event:
        guesses["event"] = by_cardinality.pop(0)
    repeated = [c for c in by_cardinality if preview[c].nunique() < len(preview)]
    if not repeated:       # whole numbers only when no text column can be the user (a qty is a number too)
        repeated = [c for c in free if c != guesses.get("time") and c not in text_columns and _ids(preview[c])
                    and preview[c].nunique() < len(preview)]
    if repeated:
        # Ids carry digits or an @ (L-482913, ann@x.io); a platform or a country does not, however few
        # users the first rows of a file grouped by user show.
        guesses["user"] = max(repeated, key=lambda c: (_id_like(preview[c]), preview[c].nunique()))
    owner = user or guesses.get("user")
    if needs_event and owner and guesses.get("event"):
        sample = preview if sample is None else sample.apply(lambda column: column.map(_hashable))
        candidates = [c for c in text_columns if c != owner]
        guesses["event"] = _likeliest_event(sample, candidates, owner) or guesses["event"]
    return guesses


def _likeliest_event(sample: pd.DataFrame, candidates: list[str], user: str) -> str | None:
    """The candidate column that looks most like an event: its value changes from one of a user's rows
    to the next (a device, a region or a tariff stays the same for a user; a process log's resource
    group changes less often than its activity), with a moderate number of distinct values (not one
    per row, like an id or a free text); fewest distinct values breaks ties. None when no user has two
    rows in ``sample`` (nothing to tell a constant from an event by).

    >>> rows = pd.DataFrame({"who": ["a", "a", "a", "b", "b", "c", "c"],
    ...                      "device": ["pc", "pc", "pc", "tab", "tab", "pc", "pc"],
    ...                      "step": ["home", "search", "buy", "home", "search", "home", "home"]})
    >>> _likeliest_event(rows, ["device", "step"], "who")
    'step'
    """
    candidates = [c for c in candidates if c in sample and sample[c].nunique() >= 2]
    if user not in sample or not candidates:
        return None
    by_user = sample.sort_values(user, kind="stable")          # each user's rows together, in file order
    same_user = by_user[user].eq(by_user[user].shift()).to_numpy()
    if not same_user.any():
        return None

    def looks_like_an_event(column: str) -> tuple:
        values = by_user[column]
        changes = (values.ne(values.shift()).to_numpy() & same_user).sum() / same_user.sum()
        distinct = sample[column].nunique()
        moderate = distinct <= max(2, sample[column].notna().sum() // 2)
        # rounded to tenths: a label that changes about as often as the event loses to its fewer values
        return moderate, round(float(changes), 1), -distinct

    best = max(candidates, key=looks_like_an_event)
    return best if looks_like_an_event(best)[1] > 0 else None


def _id_like(values: pd.Series) -> bool:
    """Half the values or more carry a digit or an @ (ids, emails), as a platform or country does not."""
    present = values.dropna().astype(str)
    return bool(len(present)) and bool(present.str.contains(r"[\d@]").mean() >= 0.5)


def _per_row_ids(values: pd.Series) -> bool:
    """An identifier per row: (nearly) every value different, or ids (``_id_like``) more than half different.

    >>> _per_row_ids(pd.Series(["e1", "e2", "e3", "e4"])), _per_row_ids(pd.Series(["click", "view", "click"]))
    (True, False)
    >>> _per_row_ids(pd.Series(["level_1", "level_2", "level_1", "level_2"]))      # a level per event: repeated
    False
    """
    present = values.dropna()
    if len(present) < 2:
        return False
    distinct = present.astype(str).nunique()
    return distinct >= 0.9 * len(present) or (_id_like(present) and distinct > len(present) / 2)


def _repeats_a_vocabulary(preview: pd.DataFrame, taken: set[str], fewer_than: str) -> bool:
    """Whether a free text column repeats a small vocabulary (at least two values, at most half as many as
    rows), with fewer distinct values than column ``fewer_than``: a better event column than that one.

    >>> frame = pd.DataFrame({"event_id": ["e1", "e2", "e3", "e4"], "screen": ["open", "buy", "open", "open"]})
    >>> _repeats_a_vocabulary(frame, set(), "event_id"), _repeats_a_vocabulary(frame, {"screen"}, "event_id")
    (True, False)
    """
    limit = preview[fewer_than].nunique()
    for column in preview.columns:
        if column in taken or column == fewer_than:
            continue
        values = preview[column].map(_hashable).dropna()
        if not len(values) or pd.to_numeric(values, errors="coerce").notna().all():
            continue
        distinct = values.nunique()
        if 2 <= distinct <= max(2, len(values) // 2) and distinct < limit:
            return True
    return False


def _ids(values: pd.Series) -> bool:
    """Whole numbers that could be user ids (not amounts with decimals), set on 90% of the rows."""
    numbers = pd.to_numeric(values, errors="coerce")
    return bool(numbers.notna().mean() > 0.9) and bool((numbers.dropna() % 1 == 0).all())


def guess_mapping(reader: SourceReader, options: ImportOptions | None = None,
                  allow_content_only: bool = False) -> ColumnMapping:
    """The column mapping for ``reader``: the vendor's own, or guessed, with the caller's overrides.

    Raises ``InputError`` naming the missing role (and the available columns) when no column fits,
    and ``UnconfirmedMapping`` when the user, event or time was guessed from values alone (no name
    evidence) and not given by the caller, unless ``allow_content_only`` (the wizard asks instead).
    """
    options = options or ImportOptions()
    overrides = {"user": options.user, "event": options.event, "time": options.time,
                 "session": options.session, "anonymous": options.anonymous}
    columns = reader.columns()
    for role, column in overrides.items():
        if column and column not in columns:
            raise InputError(f"--{role} names column '{column}', which is not in the file "
                             f"(columns: {', '.join(columns)})", file=reader.path)
    from_content: set[str] = set()
    if reader.fixed_mapping is not None:
        base = reader.fixed_mapping
        chosen = {"user": base.user, "event": base.event, "time": base.time, "session": base.session,
                  "insert_id": base.insert_id}
    else:
        chosen = _guess_roles(reader, columns, overrides, from_content)
    chosen.update({role: col for role, col in overrides.items() if col})
    missing = [role for role in ("user", "event", "time") if not chosen.get(role)]
    if missing:
        raise InputError(f"cannot tell which column holds the {' and the '.join(missing)}; "
                         f"choose with --{' --'.join(missing)} (columns: {', '.join(columns)})",
                         file=reader.path)
    time_format = options.time_format
    if reader.fixed_mapping is not None and not time_format:
        time_format = reader.fixed_mapping.time_format
    mapping = ColumnMapping(user=chosen["user"], event=chosen["event"], time=chosen["time"],
                         session=chosen.get("session"), insert_id=chosen.get("insert_id"),
                         anonymous=chosen.get("anonymous") if chosen.get("anonymous") != chosen["user"] else None,
                         properties_column=reader.fixed_mapping.properties_column
                         if reader.fixed_mapping is not None else None,
                         time_format=time_format, timezone=options.timezone,
                         date_order=options.date_order)
    mapping = _with_time_of_day(mapping, reader.preview(200), columns)
    unconfirmed = {role: chosen[role] for role in ("user", "event", "time")
                   if role in from_content and not overrides.get(role)}
    # Times describe themselves (they parse as dates or epoch numbers): a time column found by its values
    # is enough when the user and the event were found by their names.
    if set(unconfirmed) == {"time"}:
        unconfirmed = {}
    if unconfirmed and not allow_content_only:
        raise UnconfirmedMapping(mapping, unconfirmed, file=reader.path)
    return mapping


TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d([.,]\d+)?)?(\s*[AaPp]\.?[Mm]\.?)?$")
DATE_ONLY = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}/\d{1,2}/\d{1,2})$")
# Named like the half it holds: a duration (45:10) is no time of day, an expiry date no event date.
CLOCK_NAME = re.compile(r"time|hour|clock|uhrzeit|zeit|heure|hora|tijd|ora", re.I)
DATE_NAME = re.compile(r"date|day|datum|fecha|jour|dag|data|tag", re.I)


def _with_time_of_day(mapping: ColumnMapping, preview: pd.DataFrame, columns: list[str]) -> ColumnMapping:
    """A time column of dates only with exactly one other column of times of day named like one (or
    the other way round): read as one time, the date's column first ("Date" 2025-03-01 + "Time"
    10:00:05). Hours above 23 or a column named otherwise ("duration" 45:10) are not a time of day."""
    if mapping.time_format or not len(preview) or mapping.time not in preview:
        return mapping
    taken = mapping.mapped_columns

    def holds(column: str, pattern: re.Pattern) -> bool:
        values = preview[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        return bool(len(values)) and bool(values.str.match(pattern).mean() >= 0.9)

    for first, second, name in ((DATE_ONLY, TIME_OF_DAY, CLOCK_NAME), (TIME_OF_DAY, DATE_ONLY, DATE_NAME)):
        if not holds(mapping.time, first):
            continue
        partners = [c for c in columns if c not in taken and c in preview and name.search(str(c)) and holds(c, second)]
        if len(partners) == 1:
            date, clock = (mapping.time, partners[0]) if first is DATE_ONLY else (partners[0], mapping.time)
            return dataclasses.replace(mapping, time=date, time_of_day=clock)
    return mapping


def time_text(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.Series:
    """The text of each row's time: the time column, or its date and ``time_of_day`` joined by a space
    (missing when either is).

    >>> m = ColumnMapping("u", "e", "d", time_of_day="t")
    >>> time_text(pd.DataFrame({"d": ["2025-03-01", None], "t": ["10:00", "11:00"]}), m).tolist()
    ['2025-03-01 10:00', None]
    """
    if not mapping.time_of_day:
        return frame[mapping.time]
    date, clock = frame[mapping.time], frame[mapping.time_of_day]
    joined = (date.astype(str).str.strip() + " " + clock.astype(str).str.strip()).astype(object)
    joined[date.isna() | clock.isna()] = None
    return joined


class UnconfirmedMapping(InputError):
    """No column name says which is the user, event or time: some were guessed from values alone.

    A profile table (one row per customer with counts and a signup date) can look like events to a
    content guess; importing it "successfully" would be worse than asking. ``mapping`` is the guess,
    ``guessed`` the roles (role -> column) that need the user's word.
    """

    def __init__(self, mapping: ColumnMapping, guessed: dict[str, str], *, file: str | None = None):
        self.mapping, self.guessed = mapping, dict(guessed)
        listed = ", ".join(f"{role} = '{column}'" for role, column in guessed.items())
        confirm = " ".join(f"--{role} {_quoted(getattr(mapping, role))}" for role in ("user", "event", "time"))
        super().__init__(f"no column name says which column holds the {' / '.join(guessed)}; guessed from the "
                         f"values alone: {listed}. If this is an event log and the guess is right, confirm with "
                         f"{confirm} (or name other columns)", file=file)


def _quoted(column: str) -> str:
    return f"'{column}'" if any(ch in column for ch in " \"'$") else column


EVENT_SAMPLE_ROWS = 5_000


def _guess_roles(reader: SourceReader, columns: list[str], overrides: dict,
                 from_content: set[str]) -> dict[str, str | None]:
    """Roles by name, then by content; the roles filled from content are added to ``from_content``."""
    preview = reader.preview(200)
    # Lists and objects are properties, whatever they are called ("events": [...]).
    taken = {c for c in overrides.values() if c} | structured_columns(preview)
    chosen: dict[str, str | None] = {}
    exact_roles: set[str] = set()
    for role, names in (("user", USER_NAMES), ("time", TIME_NAMES), ("event", EVENT_NAMES),
                        ("session", SESSION_NAMES), ("insert_id", INSERT_ID_NAMES)):
        if overrides.get(role):
            continue
        column, exact = _by_name(columns, names, taken)
        if column:
            chosen[role] = column
            taken.add(column)
            if exact:
                exact_roles.add(role)
    # A column only partly named like a time ("update_date") must mostly hold times; an exact name
    # ("timestamp") is trusted, and its unreadable values are rejected row by row.
    if (chosen.get("time") and "time" not in exact_roles and len(preview)
            and not _parses_as_time(preview[chosen["time"]], share=0.5)):
        taken.discard(chosen.pop("time"))
    # Likewise a column only partly named like an event that holds numbers is a count
    # ("Events.App Launched.count" in a profile export), not event names.
    if (chosen.get("event") and "event" not in exact_roles and len(preview)
            and _mostly_numbers(preview[chosen["event"]])):
        taken.discard(chosen.pop("event"))
    # Nor is a column only partly named like an event ("event_id") that holds an id per row, when another
    # column repeats a small vocabulary (the screens): every row would be its own event type.
    if (chosen.get("event") and "event" not in exact_roles and len(preview)
            and _per_row_ids(preview[chosen["event"]])
            and _repeats_a_vocabulary(preview, taken | set(chosen.values()), fewer_than=chosen["event"])):
        taken.discard(chosen.pop("event"))
        if not chosen.get("insert_id") and not overrides.get("insert_id"):      # "event id" names one
            column, _ = _by_name(columns, INSERT_ID_NAMES, taken)
            if column:
                chosen["insert_id"] = column
                taken.add(column)
    if chosen.get("user") and not overrides.get("anonymous") and len(preview):
        chosen.update(_identity_columns(preview, columns, chosen["user"], taken | set(chosen.values())))
    if len(preview) and not all(chosen.get(r) or overrides.get(r) for r in ("user", "event", "time")):
        needs_event = not (chosen.get("event") or overrides.get("event"))
        # Whether a column changes within a user's rows needs users with several rows: a time-sorted
        # export shows few in its first 200
        sample = reader.preview(EVENT_SAMPLE_ROWS) if needs_event else None
        user = overrides.get("user") or chosen.get("user")
        for role, column in _by_content(preview, taken | set(chosen.values()), needs_event, user, sample).items():
            if not chosen.get(role) and not overrides.get(role):
                chosen[role] = column
                from_content.add(role)
    return chosen


MOSTLY_EMPTY, FILLED = 0.5, 0.9


def _identity_columns(preview: pd.DataFrame, columns: list[str], user: str, taken: set[str]) -> dict[str, str]:
    """A user column found by its name but empty on some rows: who the other rows belong to.

    With an anonymous id (``ANONYMOUS_NAMES``) filled where the user is not, the two are stitched
    (``{"anonymous": column}``): a user id filled only after login, as in web and app logs. Else a
    mostly-empty user column gives way to a column named like a user that is filled on nearly every
    row (``{"user": column}``): never most of a log rejected for a "missing user" another column holds.

    >>> rows = pd.DataFrame({"user_id": [None, None, "u1"], "anonymous_id": ["a1", "a1", "a1"]})
    >>> _identity_columns(rows, list(rows), "user_id", {"user_id"})
    {'anonymous': 'anonymous_id'}
    >>> rows = pd.DataFrame({"user_id": [None, None, "u1"], "customer": ["c1", "c2", "c1"]})
    >>> _identity_columns(rows, list(rows), "user_id", {"user_id"})
    {'user': 'customer'}
    """
    if user not in preview:
        return {}
    filled = _filled(preview[user])
    if filled.all():
        return {}
    others = [c for c in columns if c not in taken and c != user and c in preview]
    anonymous, _ = _by_name(others, ANONYMOUS_NAMES, set())
    if anonymous and _filled(preview[anonymous])[~filled].mean() >= FILLED:
        return {"anonymous": anonymous}
    if filled.mean() >= MOSTLY_EMPTY:
        return {}
    candidates = [c for c in others if _names_an_identity(c)]
    while candidates:
        named, _ = _by_name(candidates, USER_NAMES + ANONYMOUS_NAMES, set())
        if named is None:
            break
        if _filled(preview[named]).mean() >= FILLED:
            return {"user": named}
        candidates.remove(named)
    return {}


def _names_an_identity(column: str) -> bool:
    """A column that may stand in for the user: named exactly like a user or anonymous id, or an id
    ("customer_id"). ``user_agent``, ``client_version``, ``account_type`` or ``membership_tier`` contain
    a user word and are no identity.

    >>> [_names_an_identity(c) for c in ("customer", "visitor_id", "user_agent", "account_type")]
    [True, True, False, False]
    """
    name = normalise(column)
    return name in USER_NAMES or name in ANONYMOUS_NAMES or name.endswith(" id") or name.endswith("id")


def column_for_missing_users(filled_on_missing: dict[str, int], missing: int) -> str | None:
    """The column named like a user or anonymous id that is filled on nearly all of the ``missing``
    rows rejected for a missing user (``filled_on_missing``: column -> how many of them it fills).

    >>> column_for_missing_users({"country": 100, "anonymous_id": 100, "referrer": 40}, 100)
    'anonymous_id'
    >>> column_for_missing_users({"country": 100}, 100) is None
    True
    """
    filling = [column for column, count in filled_on_missing.items()
               if missing and count >= FILLED * missing and _names_an_identity(column)]
    return _by_name(filling, USER_NAMES + ANONYMOUS_NAMES, set())[0]


def _filled(values: pd.Series) -> np.ndarray:
    """Cells holding something: not missing and not blank."""
    return (values.notna() & (values.astype(str).str.strip() != "")).to_numpy(dtype=bool)


def personal_data_columns(columns: list[str], preview: pd.DataFrame | None = None,
                          mapped: set[str] = frozenset()) -> list[str]:
    """Columns that look like personal data, by name or by content (emails, IP addresses).

    >>> personal_data_columns(["user_id", "email", "plan"])
    ['email']
    """
    flagged, by_value = [], _personal_values(preview) if preview is not None else {}
    for column in columns:
        norm = normalise(column)
        if column in mapped and norm in EVENT_NAMES:
            continue
        by_name = _personal_name(norm) and not norm.startswith(("event", "concept", "case:concept"))
        container, _, leaf = norm.rpartition(".")
        # A nested field is judged by its own name too (traits.name); a "name" inside event
        # properties is usually a page or product name, so only traits-like containers count.
        if container and _personal_name(leaf) and (leaf != "name" or container.endswith(TRAIT_CONTAINERS)):
            by_name = True
        if by_name or by_value.get(column, False):
            flagged.append(column)
    return flagged


def _personal_values(preview: pd.DataFrame) -> dict[str, bool]:
    """Columns whose first 200 present values are mostly emails or IP addresses."""
    def matching(pattern):
        return lambda cells: pd.Series(cells, dtype=object).astype(str).str.strip().str.match(pattern).to_numpy(bool)
    email, ip = _shares_by_column(preview, [matching(EMAIL_VALUE), matching(IP_VALUE)], first=200)
    return {column: bool(e > 0.5 or i > 0.5) for column, e, i in zip(preview.columns, email, ip)}


def nested_field_hint(names: list[str], columns: list[str]) -> str:
    """"; did you mean traits.email?" when a name given is the last part of nested fields.

    >>> nested_field_hint(["email"], ["user", "traits.email", "context.traits.email"])
    '; did you mean traits.email or context.traits.email?'
    """
    matches = [c for name in names for c in columns if str(c).endswith(f".{name}")]
    return f"; did you mean {' or '.join(matches)}?" if matches else ""
