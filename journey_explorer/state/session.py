"""What the views of one window share, without Qt: the project, its event log, the filters (with the
goal), the theme's name, and the name the source line gives. The window wraps it to announce changes;
exports, the board and the report build one of their own."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from journey_explorer.analysis.common import CommonFilter, apply_filter
from journey_explorer.eventlog import EventLog
from journey_explorer.state.filters import FilterState


@dataclass
class Session:
    project_path: Path | None = None
    log: EventLog | None = None
    filters: FilterState = field(default_factory=FilterState)
    theme_name: str = "light"
    source_name: str | None = None          # the source line's name when not the project file's
    _filtered: dict = field(default_factory=dict, repr=False)

    def set_log(self, log: EventLog) -> None:
        """A new log; the project's goal becomes the goal when none is chosen."""
        self.log = log
        self._filtered.clear()
        if self.filters.goal is None and log.default_goal in log.event_names:
            self.filters = self.filters.with_changes(goal=log.default_goal)

    def default_filters(self) -> FilterState:
        """No filter, the project's goal (what an export without a pin's filters shows)."""
        log = self.log
        return FilterState(goal=log.default_goal if log is not None and log.default_goal in log.event_names else None)

    def filtered(self, filters: FilterState) -> EventLog:
        """The log under ``filters``' time range, segment and path unit; computed once per filter."""
        common = filters.common()
        if common == CommonFilter():
            return self.log
        key = (id(self.log), common)
        filtered = self._filtered.get(key)
        if filtered is None:                # views compute on worker threads: no read after the write
            filtered = apply_filter(self.log, common)
            self._filtered = {key: filtered}          # keep only the latest
        return filtered

    def source_label(self) -> str:
        return self.source_name or (self.project_path.name if self.project_path else "project")
