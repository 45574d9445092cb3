"""What every view obeys: time range, segment, goal and path unit. Qt-free and serialisable."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from journey_explorer.analysis.common import CommonFilter

STATE_VERSION = 1


@dataclass(frozen=True)
class FilterState:
    since: str | None = None          # ISO date, inclusive
    until: str | None = None          # ISO date, exclusive
    segment: tuple[str, ...] = ()     # "prop=value", "did EVENT", saved segment names (all must hold)
    goal: str | None = None
    avoid_goal: bool | None = None    # the goal is an outcome to avoid (a cancellation); None: by its name
    by: str = "user"                  # "user" or "session"
    match: str = "first"              # property value of a path: "first" touch or "any" event

    def common(self) -> CommonFilter:
        return CommonFilter(since=self.since, until=self.until, segment=self.segment, by=self.by,
                            match=self.match)

    def goal_unwanted(self) -> bool:
        """Whether the goal is an outcome to avoid: as chosen (``avoid_goal``), else by its name (cancel, churn...:
        ``analysis.goals.goal_is_unwanted``).

        >>> FilterState(goal="subscription_cancelled").goal_unwanted(), FilterState(goal="buy", avoid_goal=True).goal_unwanted()
        (True, True)
        """
        from journey_explorer.analysis.goals import goal_is_unwanted
        return goal_is_unwanted(self.goal, self.avoid_goal)

    def with_changes(self, **changes) -> "FilterState":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {"version": STATE_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "FilterState":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "segment" in known:
            known["segment"] = tuple(known["segment"])
        return cls(**known)

    def describe(self, with_dates: bool = True, paths: str = "users") -> str:
        """One line for subtitles and deck covers, the end date inclusive as people read ranges;
        ``paths``: what the log's paths are, for "all cases" (``analysis.units.path_words``).

        >>> FilterState(since="2026-01-01", until="2026-03-01", segment=("plan=Pro",), by="session").describe()
        '2026-01-01 – 2026-02-28 · plan=Pro · per session'
        """
        parts = []
        if with_dates and (self.since or self.until):
            parts.append(f"{self.since or '…'} – {_last_day(self.until) if self.until else '…'}")
        parts += list(self.segment)
        if self.segment and self.match == "any":
            parts.append("property on any event")
        if self.by == "session":
            parts.append("per session")
        return " · ".join(parts) or (f"all {paths}, all time" if with_dates else f"all {paths}")


def _last_day(until: str) -> str:
    """The exclusive end of a range as its last included day ("2026-03-01" -> "2026-02-28")."""
    from datetime import date, timedelta
    try:
        return (date.fromisoformat(until) - timedelta(days=1)).isoformat()
    except ValueError:
        return until          # a date-time is shown as given
