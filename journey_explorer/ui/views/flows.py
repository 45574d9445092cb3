"""Flows: the Sankey with its anchors, steps and top-N controls; click a node to drill down."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QListWidget,
    QMenu,
    QVBoxLayout,
)

from journey_explorer.analysis import flows
from journey_explorer.analysis.units import counted
from journey_explorer.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.breakdown_choice import NO_BREAKDOWN, add_breakdown
from journey_explorer.ui.views.controls import blocked
from journey_explorer.ui.widgets import plain_label


class UserListDialog(QDialog):
    """The paths of a Sankey node: a scrolling list that fits the screen, with Copy and Save as segment."""

    def __init__(self, parent, title: str, users: list[str], save) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.users = users
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(users):,} {'path' if len(users) == 1 else 'paths'} at this node"))
        self.list = QListWidget()
        self.list.addItems(users)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy)
        segment = buttons.addButton("Save as segment…", QDialogButtonBox.ButtonRole.ActionRole)
        segment.clicked.connect(save)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        screen = (parent.screen() if parent is not None else QApplication.primaryScreen()).availableGeometry()
        self.resize(min(420, screen.width()), min(560, int(screen.height() * 0.8)))   # never taller than the screen

    def copy(self) -> None:
        QApplication.clipboard().setText("\n".join(self.users))


class FlowsView(AnalysisView):
    def build_options(self) -> None:
        default = self.entry.default_spec(None, self.explorer.filters)
        self.excluded: tuple[str, ...] = ()          # set from a node's menu, not by a control
        bind = self.binder.bind
        self.start = bind("from_event", self.event_choice("From", "(first event)", self.refresh))
        self.end = bind("to_event", self.event_choice("To", "(none)", self.refresh))
        self.steps = bind("steps", self.spin("Steps", default.steps, 2, flows.MAX_STEPS, lambda _: self.refresh()))
        self.top = bind("top", self.spin("Top", default.top, 2, 15, lambda _: self.refresh()))
        self.collapse = bind("collapse_repeats", QCheckBox("Collapse repeats"))
        self.split = bind("split", QCheckBox("Split by goal"), lambda on: "goal" if on else None,
                          lambda split: split == "goal")
        self.exclusions = plain_label("")          # event names, shown as they are (never as HTML)
        self.collapse.toggled.connect(lambda _: self.refresh())
        self.split.toggled.connect(self._split_chosen)
        for widget in (self.collapse, self.split, self.exclusions):
            self.options.addWidget(widget)
        self.breakdown = add_breakdown(self, self._breakdown_chosen)

    @property
    def sankey(self):
        return self.chart

    def chart_made(self, chart) -> None:
        chart.item.nodeClicked.connect(self.node_menu)

    # A flow splits by the goal or by a property, not both: choosing one clears the other.
    def _split_chosen(self, on: bool) -> None:
        if on:
            with blocked(self.breakdown):
                self.breakdown.setCurrentText(NO_BREAKDOWN)
        self.refresh()

    def _breakdown_chosen(self) -> None:
        if self.breakdown.currentText() != NO_BREAKDOWN:
            with blocked(self.split):
                self.split.setChecked(False)
        self.refresh()

    def exclude(self, events: tuple[str, ...]) -> None:
        self.excluded = events
        self.exclusions.setText(f"Excluded: {', '.join(events)}" if events else "")
        self.refresh()

    def current_spec(self, log: EventLog):
        """The controls, the exclusions, and the goal of the filters (a pinned goal is not kept)."""
        return replace(super().current_spec(log), exclude=self.excluded)

    def show_spec(self, spec) -> None:
        self.excluded = spec.exclude
        self.exclusions.setText(f"Excluded: {', '.join(spec.exclude)}" if spec.exclude else "")
        super().show_spec(spec)

    def node_menu(self, step: int, event: str, screen_pos) -> None:
        menu = QMenu(self)
        menu.addAction(f"Start the flow at {event}", lambda: self.start.setCurrentText(event))
        menu.addAction(f"End the flow at {event}", lambda: self.end.setCurrentText(event))
        if event not in (flows.OTHER, flows.DROP_OFF, flows.PATH_START):
            menu.addAction(f"Exclude {event}", lambda: self.exclude(self.excluded + (event,)))
        if event == flows.OTHER:
            menu.addAction("Expand Other (show 3 more events)", lambda: self.top.setValue(self.top.value() + 3))
        if self.excluded:
            menu.addAction("Clear exclusions", lambda: self.exclude(()))
        menu.addSeparator()
        menu.addAction("List these users…", lambda: self.list_users(step, event))
        menu.addAction("Save these users as a segment…", lambda: self.save_segment(step, event))
        menu.popup(screen_pos.toPoint() if hasattr(screen_pos, "toPoint") else screen_pos)
        self._menu = menu

    def users_of(self, step: int, event: str) -> list[str]:
        codes = self.result.users_at(step, event)
        return [str(k) for k in self.result.user_keys[codes]]

    def list_users(self, step: int, event: str) -> None:
        dialog = UserListDialog(self, f"Step {step}: {event}", self.users_of(step, event),
                                lambda: self.save_segment(step, event))
        self._user_list = dialog            # kept for tests; the dialog is modeless
        dialog.show()

    def save_segment(self, step: int, event: str) -> None:
        name, ok = QInputDialog.getText(self, "Save segment", "Segment name:", text=f"{event} at step {step}")
        if ok and name and self.explorer.project_path:
            from journey_explorer.store.project import Project
            users = self.users_of(step, event)
            with Project.open(self.explorer.project_path) as project:
                project.save_segment(name, {"users": users})
            self.banner.show_info(f"Saved {counted(len(users), self.explorer.log.path_noun)} as segment '{name}'.")


VIEW_CLASS = FlowsView
