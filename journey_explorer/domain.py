"""Plain data shared by every layer: options, results and user-facing errors.

No I/O and no Qt here, so the CLI, the GUI and the tests all speak the same language.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

# --- errors -------------------------------------------------------------------------------------


class JourneyError(Exception):
    """An error whose message is meant for the user (one clear line, no traceback)."""


# How the import window names an option that a message speaks of (``{time_format}`` in its text):
# its controls' labels. The command line names it by its flag instead (``cli.arguments.flag_name``).
IMPORT_OPTION_WORDS = {"format": "the file format", "time_format": "'Time format'",
                       "date_order": "'Day/month order'", "object_type": "'Object type (OCEL)'",
                       "timezone": "'Timezone of naive times'", "drop_columns": "'Leave out columns'",
                       "lifecycle": "'Lifecycle transitions'", "pseudonymize": "'Pseudonymise user ids'",
                       "keep_identical_rows": "'Keep identical rows'", "user": "'User column'",
                       "anonymous": "'Anonymous id column'"}


def name_options(template: str, words: Callable[[str], str], options=IMPORT_OPTION_WORDS) -> str:
    """``template`` with each ``{field}`` of ``options`` named by ``words(field)``; other braces (a
    file's own text quoted in a message) are left alone.

    >>> name_options("choose {date_order} dmy, not {x}", IMPORT_OPTION_WORDS.get)
    "choose 'Day/month order' dmy, not {x}"
    """
    for option in options:
        template = template.replace("{" + option + "}", words(option))
    return template


class InputError(JourneyError):
    """A problem with an input file, located as precisely as we can (file, line, column).

    ``message`` may name import options as ``{field}`` (``{time_format}``): ``str()`` words them as the
    import window does, ``naming(words)`` as a caller chooses (the CLI: by their flags).
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: str | None = None):
        self.file, self.line, self.column, self.reason = file, line, column, message
        super().__init__(self.naming(IMPORT_OPTION_WORDS.__getitem__))

    def naming(self, words: Callable[[str], str]) -> str:
        message = name_options(self.reason, words)
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        if self.column is not None:
            where = f"{where}, column '{self.column}'" if where else f"column '{self.column}'"
        return f"{where}: {message}" if where else message


class AmbiguousDateOrder(InputError):
    """Dates such as 03/04/2024 fit both day/month and month/day: the user has to choose."""


class UnknownEvent(JourneyError):
    """An event name the project does not have; the message suggests the closest names it has.

    >>> str(UnknownEvent("Purchse", ("Purchase", "Signup", "Search")))
    "No event named 'Purchse' in this project; did you mean 'Purchase'?"
    """

    def __init__(self, name: str, known: Sequence[str] = ()):
        self.name, self.suggestions = name, close_names(name, known)
        hint = f"; did you mean {_either(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"No event named '{name}' in this project{hint}")


def close_names(name: str, known: Sequence[str], limit: int = 3) -> tuple[str, ...]:
    """Up to ``limit`` names in ``known`` that look like ``name``, closest first; a name that differs
    only in case comes first (difflib alone ranks 'purchase' far from 'Purchase').

    >>> close_names("purchase", ["Purchase", "Purchased", "Signup"])
    ('Purchase', 'Purchased')
    """
    import difflib
    same_case = [k for k in known if k.lower() == name.lower() and k != name]
    lowered = {k.lower(): k for k in known}
    close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=limit)]
    return tuple(dict.fromkeys(same_case + [c for c in close if c != name]))[:limit]


def _either(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


class OptionError(JourneyError):
    """An analysis option (a field of its ``Spec``) that the analysis cannot use.

    ``template`` says what is wrong, with ``{option}`` where the option is named: ``str()`` names it
    in plain words (``default_name``), the CLI by its flag and the window by its control, through
    ``naming(name)``. ``option`` is the Spec field, so each side can look its own name up.
    """

    def __init__(self, option: str, template: str, default_name: str | None = None):
        self.option, self.template = option, template
        super().__init__(self.naming(lambda _: default_name or option.replace("_", " ")))

    def naming(self, words: Callable[[str], str]) -> str:
        """The message with the option named by ``words(option)``."""
        message = self.template.replace("{option}", words(self.option))
        return message[:1].upper() + message[1:]


class ChoiceError(OptionError):
    """An option set to a value outside its choices.

    >>> str(ChoiceError("period", "year", ("day", "week", "month")))
    "Period must be day, week or month, not 'year'"
    """

    def __init__(self, option: str, value, choices: Sequence[str]):
        self.value, self.choices = value, tuple(choices)
        words = ", ".join(self.choices[:-1]) + f" or {self.choices[-1]}" if len(self.choices) > 1 else self.choices[0]
        super().__init__(option, f"{{option}} must be {words}, not '{value}'")


class StepCountError(OptionError):
    """Too few or too many steps: ``count`` given, ``minimum`` to ``maximum`` (None: no upper limit).

    >>> str(StepCountError(20, 1, 12))
    'Steps must be between 1 and 12, not 20'
    >>> StepCountError(1, 2, what="a funnel").naming(lambda option: "--" + option)
    'A funnel needs at least 2 --steps, not 1'
    """

    def __init__(self, count: int, minimum: int, maximum: int | None = None, *, what: str = "",
                 option: str = "steps"):
        self.count, self.minimum, self.maximum = count, minimum, maximum
        if maximum is None:
            template = f"{what or 'this'} needs at least {minimum} {{option}}, not {count}"
        else:
            template = f"{{option}} must be between {minimum} and {maximum}, not {count}"
        super().__init__(option, template)


class MissingGoal(OptionError):
    """An analysis that needs a goal got none (none chosen, and the project has no default goal).

    >>> str(MissingGoal("stuck points"))
    "Stuck points need a goal: choose one in the Goal box, or set the project's default goal"
    >>> MissingGoal("stuck points").naming(lambda option: "give --goal EVENT")
    "Stuck points need a goal: give --goal EVENT, or set the project's default goal"
    """

    def __init__(self, what: str, need: str = "need"):
        self.what = what
        super().__init__("goal", f"{what} {need} a goal: {{option}}, or set the project's default goal",
                         default_name="choose one in the Goal box")


class GroupsNotChosen(OptionError):
    """A comparison without its two groups (no goal, no segments, no event, no periods).

    >>> str(GroupsNotChosen())
    'Compare needs two groups: choose a goal, or an event under Groups'
    """

    def __init__(self) -> None:
        super().__init__("groups", "compare needs two groups: choose {option}",
                         default_name="a goal, or an event under Groups")


class ProjectBusy(JourneyError):
    """The project file is open for writing in another process."""


class ImportCancelled(JourneyError):
    """The user cancelled an import; the project was left as it was."""

    def __init__(self) -> None:
        super().__init__("Import cancelled; the project was left unchanged.")


# --- import -------------------------------------------------------------------------------------

FORMATS = ("auto", "csv", "xlsx", "jsonl", "json", "parquet", "xes", "ocel",
           "segment", "amplitude", "mixpanel", "ga4", "posthog", "snowplow")
# How process logs with a lifecycle:transition column are read (see io.lifecycle).
LIFECYCLE_MODES = ("auto", "complete", "split", "all")


@dataclass
class ColumnMapping:
    """Which source columns hold who / what / when.

    ``time_format`` is a strptime pattern, ``"epoch_s"``/``"epoch_ms"``/``"epoch_us"``, or None to detect.
    ``date_order`` ("dmy" or "mdy") resolves dates like 03/04/2024; None means "detect, and refuse to guess".
    ``properties_column`` names a column that already holds a JSON object of properties (vendor readers).
    ``time_of_day``: spreadsheet exports split the date and the time ("Date", "Time"); the two are
    read together as one time.
    ``anonymous``: a column with an anonymous (device, cookie) id set on every row, where ``user`` is set
    only once the person is known; rows without a user are stitched to it (``io.identity``).
    """

    user: str
    event: str
    time: str
    session: str | None = None
    insert_id: str | None = None
    properties_column: str | None = None
    time_format: str | None = None
    timezone: str = "UTC"
    date_order: str | None = None
    time_of_day: str | None = None     # a column with the time of day when ``time`` holds dates only
    anonymous: str | None = None

    @property
    def mapped_columns(self) -> set[str]:
        return {c for c in (self.user, self.event, self.time, self.session, self.insert_id,
                            self.properties_column, self.time_of_day, self.anonymous) if c}


@dataclass
class ImportOptions:
    """What the caller (CLI flags or the import wizard) chose; None means "detect"."""

    format: str = "auto"
    user: str | None = None
    event: str | None = None
    time: str | None = None
    session: str | None = None
    anonymous: str | None = None     # stitched to the user; with ``user`` given, only when given too
    time_format: str | None = None
    timezone: str = "UTC"
    date_order: str | None = None
    pseudonymize: bool = False
    drop_columns: tuple[str, ...] = ()
    sheet: str | None = None
    chunk_rows: int = 500_000
    lifecycle: str = "auto"          # one of LIFECYCLE_MODES
    object_type: str | None = None   # OCEL: the object type whose life is a path
    keep_identical_rows: bool = False  # times to the minute: a row equal to another is a repeat, not a copy


@dataclass
class Rejection:
    """One source row that could not be imported."""

    line: int
    reason: str
    raw: str = ""


@dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    reject_examples: dict[str, dict] = field(default_factory=dict)   # reason kind -> first line, reason, row
    users: int = 0
    path_noun: str = "user"           # what a path of the project is: "case" when each is one case
    event_types: int = 0
    seconds: float = 0.0
    file: str = ""
    format: str = ""
    mapping: dict[str, Any] = field(default_factory=dict)
    already_imported: bool = False
    personal_data_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    pseudonymized: bool = False
    duplicate_lines: list[int] = field(default_factory=list)   # skipped rows (first 1000; all in the project)
    unstored_properties: list[str] = field(default_factory=list)   # too many distinct values (ids, free text)
    skipped: int = 0                 # records read that are not events (identify calls, start rows)
    notes: list[str] = field(default_factory=list)   # what the reader decided (timezone, identities)

    def to_json_dict(self, words: Callable[[str], str] = IMPORT_OPTION_WORDS.__getitem__) -> dict[str, Any]:
        """The one-line JSON the CLI prints (the documented keys first); ``words`` names the options
        that ``notes`` speak of (``{timezone}``), as in ``describe``."""
        keys = ("read", "imported", "duplicates", "rejected", "reject_reasons", "users",
                "event_types", "seconds")
        full = asdict(self)
        out = {k: full[k] for k in keys}
        out["seconds"] = round(self.seconds, 3)
        out.update({k: v for k, v in full.items() if k not in keys})
        out["notes"] = [name_options(note, words) for note in self.notes]
        return out

    def describe(self, words: Callable[[str], str] = IMPORT_OPTION_WORDS.__getitem__) -> str:
        """A short human summary for the wizard (and, with ``words`` = the CLI's flag names, the terminal).

        Notes and advice name import options as ``{field}``; ``words(field)`` says how: by default as
        the import window labels them.

        >>> summary = ImportSummary(file="e.csv", personal_data_columns=["email"],
        ...                         notes=["Read as UTC (give {timezone} with the project's zone)."])
        >>> print(summary.describe())                                # doctest: +ELLIPSIS
        Read 0 rows from e.csv (); imported 0 events in 0.0 s.
        Read as UTC (give 'Timezone of naive times' with the project's zone).
        Columns that look like personal data: email (consider 'Leave out columns' or 'Pseudonymise user ids').
        ...
        >>> print(summary.describe(lambda option: "--" + option.replace("_", "-")))  # doctest: +ELLIPSIS
        Read ...
        Read as UTC (give --timezone with the project's zone).
        Columns that look like personal data: email (consider --drop-columns or --pseudonymize).
        ...
        """
        if self.already_imported:
            return f"{self.file} was already imported into this project; nothing was added."
        lines = [f"Read {self.read:,} rows from {self.file} ({self.format}); "
                 f"imported {self.imported:,} events in {self.seconds:.1f} s."]
        if self.duplicates:
            shown = ", ".join(map(str, self.duplicate_lines[:10]))
            more = ", ..." if self.duplicates > 10 else ""
            lines.append(f"Skipped {self.duplicates:,} duplicate rows (identical to an earlier row, or the "
                         f"same insert id) at lines {shown}{more}.")
        if self.rejected:
            reasons = ", ".join(f"{n:,} {r}" for r, n in sorted(self.reject_reasons.items(),
                                                              key=lambda kv: -kv[1]))
            lines.append(f"Rejected {self.rejected:,} rows: {reasons}.")
            lines.extend(self._rejection_examples())
        if self.unstored_properties:
            lines.append("Not kept as properties (over a million distinct values, like an id or free text): "
                         + ", ".join(self.unstored_properties) + ".")
        lines.extend(name_options(note, words) for note in self.notes)
        if self.personal_data_columns:
            lines.append(name_options("Columns that look like personal data: "
                                      + ", ".join(self.personal_data_columns)
                                      + " (consider {drop_columns} or {pseudonymize}).", words))
        paths = self.path_noun if self.users == 1 else self.path_noun + "s"
        types = "event type" if self.event_types == 1 else "event types"
        lines.append(f"The project now has {self.users:,} {paths} and {self.event_types:,} {types}.")
        return "\n".join(lines)

    def _rejection_examples(self, kinds: int = 3, width: int = 120) -> list[str]:
        """The first rejected line of the most common kinds, as read (cut to ``width`` characters)."""
        lines = []
        for kind, _ in sorted(self.reject_reasons.items(), key=lambda kv: -kv[1])[:kinds]:
            example = self.reject_examples.get(kind)
            if example:
                raw = example["raw"] if len(example["raw"]) <= width else example["raw"][:width - 1] + "…"
                lines.append(f"  e.g. line {example['line']:,}: {example['reason']}" + (f": {raw}" if raw else ""))
        return lines


@dataclass
class ProjectInfo:
    path: str
    events: int
    users: int
    event_types: int
    sessions: int
    first_time: str | None
    last_time: str | None
    sources: list[dict[str, Any]]
    default_goal: str | None
    session_gap_minutes: float      # inf: one visit per path (``store.session_rule``)
    path_noun: str = "user"         # what a path is: "user", or "case" (``session_rule.path_noun``)

    def to_json_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not math.isfinite(self.session_gap_minutes):     # JSON has no infinity: null = no gap cuts visits
            out["session_gap_minutes"] = None
        return out
