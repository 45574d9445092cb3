"""What every view obeys: time range, segment, goal and path unit. Qt-free and serialisable."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from journey_explorer.analysis.common import CommonFilter

STATE_VERSION = 1


@dataclass(frozen=True)
class FilterState:
    since: str | None = None          # ISO date, inclusive
    until: str | None = None          # ISO date, exclusive
    segment: tuple[str, ...] = ()     # "prop=value" conditions
    goal: str | None = None
    by: str = "user"                  # "user" or "session"

    def common(self) -> CommonFilter:
        return CommonFilter(since=self.since, until=self.until, segment=self.segment, by=self.by)

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

    def describe(self) -> str:
        """One line for chart subtitles: "2026-01-01 – 2026-03-01 · plan=Pro · per session"."""
        parts = []
        if self.since or self.until:
            parts.append(f"{self.since or '…'} – {self.until or '…'}")
        parts += list(self.segment)
        if self.by == "session":
            parts.append("per session")
        return " · ".join(parts) or "all users, all time"
