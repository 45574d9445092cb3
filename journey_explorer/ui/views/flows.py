"""Flows: the Sankey with its anchors, steps and top-N controls; click a node to drill down."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QCheckBox, QInputDialog, QLabel, QMenu, QMessageBox

from journey_explorer.analysis import flows
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.controls import blocked


class FlowsView(AnalysisView):
    def build_options(self) -> None:
        self.state = replace(self.entry.default_spec(None, self.explorer.filters), goal=None)
        self.sankey = self.chart
        self.sankey.item.nodeClicked.connect(self.node_menu)
        self.start = self.event_choice("From", "(first event)", self._anchors_changed)
        self.end = self.event_choice("To", "(none)", self._anchors_changed)
        self.steps = self.spin("Steps", self.state.steps, 2, flows.MAX_STEPS, lambda v: self.set_state(steps=v))
        self.top = self.spin("Top", self.state.top, 2, 15, lambda v: self.set_state(top=v))
        self.collapse = QCheckBox("Collapse repeats")
        self.collapse.toggled.connect(lambda on: self.set_state(collapse_repeats=on))
        self.split = QCheckBox("Split by goal")
        self.split.toggled.connect(lambda on: self.set_state(split="goal" if on else None))
        self.exclusions = QLabel("")
        for widget in (self.collapse, self.split, self.exclusions):
            self.options.addWidget(widget)

    def _anchors_changed(self) -> None:
        self.set_state(from_event=self.start.value(), to_event=self.end.value())

    def set_state(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self._show_exclusions()
        self.refresh()

    def _show_exclusions(self) -> None:
        self.exclusions.setText(f"Excluded: {', '.join(self.state.exclude)}" if self.state.exclude else "")

    def current_spec(self, log: EventLog):
        return replace(self.state, goal=self.goal())

    def show_spec(self, spec) -> None:
        self.state = spec
        self._show_exclusions()
        with blocked(self.start, self.end, self.steps, self.top, self.collapse, self.split):
            self.start.setCurrentText(spec.from_event or self.start.none_label)
            self.end.setCurrentText(spec.to_event or self.end.none_label)
            self.steps.setValue(spec.steps)
            self.top.setValue(spec.top)
            self.collapse.setChecked(spec.collapse_repeats)
            self.split.setChecked(spec.split == "goal")

    def node_menu(self, step: int, event: str, screen_pos) -> None:
        menu = QMenu(self)
        menu.addAction(f"Start the flow at {event}", lambda: self.start.setCurrentText(event))
        menu.addAction(f"End the flow at {event}", lambda: self.end.setCurrentText(event))
        if event not in (flows.OTHER, flows.DROP_OFF, flows.PATH_START):
            menu.addAction(f"Exclude {event}", lambda: self.set_state(exclude=self.state.exclude + (event,)))
        if event == flows.OTHER:
            menu.addAction("Expand Other (show 3 more events)", lambda: self.top.setValue(self.state.top + 3))
        if self.state.exclude:
            menu.addAction("Clear exclusions", lambda: self.set_state(exclude=()))
        menu.addSeparator()
        menu.addAction("List these users…", lambda: self.list_users(step, event))
        menu.addAction("Save these users as a segment…", lambda: self.save_segment(step, event))
        menu.popup(screen_pos.toPoint() if hasattr(screen_pos, "toPoint") else screen_pos)
        self._menu = menu

    def users_of(self, step: int, event: str) -> list[str]:
        codes = self.result.users_at(step, event)
        return [str(k) for k in self.result.user_keys[codes]]

    def list_users(self, step: int, event: str) -> None:
        users = self.users_of(step, event)
        shown = "\n".join(users[:200]) + (f"\n… and {len(users) - 200:,} more" if len(users) > 200 else "")
        QMessageBox.information(self, f"Step {step}: {event}", f"{len(users):,} users\n\n{shown}")

    def save_segment(self, step: int, event: str) -> None:
        name, ok = QInputDialog.getText(self, "Save segment", "Segment name:", text=f"{event} at step {step}")
        if ok and name and self.explorer.project_path:
            from journey_explorer.store.project import Project
            users = self.users_of(step, event)
            with Project.open(self.explorer.project_path) as project:
                project.save_segment(name, {"users": users})
            self.banner.show_info(f"Saved {len(users):,} users as segment '{name}'.")


VIEW_CLASS = FlowsView
