"""The explorer's views: thin renderers of (filters + view state) -> analysis result -> chart + table.

Every view computes off the GUI thread through its own ``TaskRunner`` (a newer request cancels the
older one) and shows errors inline. The numbers come from the same ``analysis`` functions as the CLI.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from journey_explorer.analysis import compare, flows, funnel, graph, lifecycle, northstar, retention, stuck
from journey_explorer.analysis.common import CommonFilter, apply_filter
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.charts import basic
from journey_explorer.charts.sankey import SankeyLayout, SankeyWidget
from journey_explorer.charts.theme import LIGHT, OKABE_ITO, Theme
from journey_explorer.state.filters import FilterState
from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.widgets import Banner, Tile, make_table


class Explorer(QObject):
    """What the views share: the loaded log, the filters, the theme. ``changed`` asks for a redraw."""

    changed = Signal()

    def __init__(self, project_path: Path | None = None, theme: Theme = LIGHT):
        super().__init__()
        self.project_path = project_path
        self.log: EventLog | None = None
        self.filters = FilterState()
        self.theme = theme
        self.source_name: str | None = None     # the source line's name when not the project's file

    def set_log(self, log: EventLog) -> None:
        self.log = log
        if self.filters.goal is None and log.default_goal in log.event_names:
            self.filters = self.filters.with_changes(goal=log.default_goal)
        self.changed.emit()

    def set_filters(self, filters: FilterState) -> None:
        self.filters = filters
        self.changed.emit()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.changed.emit()


class AnalysisView(QWidget):
    """Options row, inline banner, chart above a table of the same numbers."""

    key = ""                   # the view's name in pins, the CLI and settings (state.views.VIEW_MODULES)
    title = ""
    uses_goal = False          # whether the goal shapes this view's numbers (said in export titles)
    drawn = Signal()           # the chart and table show the latest result
    pin_requested = Signal()   # the user asked to pin this chart to the board

    def __init__(self, explorer: Explorer, headless: bool = False):
        super().__init__()
        self.explorer = explorer
        self.headless = headless   # drawn on demand for an export: no background work, no auto refresh
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._show_result)
        self.runner.failed.connect(self._show_error)
        self.result = None
        self.options = QHBoxLayout()
        self.banner = Banner()
        self.chart = self.make_chart()
        self.table, self.model = make_table()
        layout = QVBoxLayout(self)
        layout.addLayout(self.options)
        layout.addWidget(self.banner)
        if headless:
            # Drawn for an export: the chart stands alone, so it can take the slide's proportions.
            self.chart.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
            self.table.setParent(self)       # owned by the view, so it goes when the view does
            self.table.hide()
        else:
            splitter = QSplitter(Qt.Orientation.Vertical)
            splitter.addWidget(self.chart)
            splitter.addWidget(self.table)
            splitter.setSizes([700, 250])
            layout.addWidget(splitter, 1)
        self.build_options()
        self.options.addStretch(1)
        pin = QPushButton("Pin to board")
        pin.setToolTip("Keep this chart, as it is set now, on the Board (Ctrl+B)")
        pin.clicked.connect(self.pin_requested)
        self.options.addWidget(pin)
        explorer.changed.connect(self.refresh)

    # --- to implement per view ----------------------------------------------------------------

    def make_chart(self) -> QWidget:
        plot = pg.PlotWidget()
        return plot

    def build_options(self) -> None:
        """Add controls to ``self.options``; each control changes the view state and refreshes."""

    def current_spec(self, log: EventLog):
        """The analysis options the controls show, as the analysis module's Spec (GUI thread)."""
        return None

    def show_spec(self, spec) -> None:
        """Set the controls to ``spec`` (a pin or the CLI), without recomputing for each control."""

    def compute(self, log: EventLog, spec):
        raise NotImplementedError

    def render(self, result) -> None:
        raise NotImplementedError

    # --- machinery ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute for the current filters; a hidden view waits until it is shown."""
        log = self.explorer.log
        if log is None or self.headless:
            return
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self.banner.hide()
        self.runner.start(self._task, log, self.explorer.filters, self.current_spec(log))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if getattr(self, "_stale", True):
            self.refresh()

    def _task(self, log: EventLog, filters: FilterState, spec, progress):
        filtered = apply_filter(log, filters.common())
        progress(0.3)
        if len(filtered) == 0:
            from journey_explorer.domain import JourneyError
            raise JourneyError("No events match the filters.")
        return self.compute(filtered, spec)

    def draw_now(self, spec=None) -> None:
        """Compute and draw in this thread (exports, pins, reports): the same numbers, no waiting."""
        log = self.explorer.log
        if spec is None:
            spec = self.current_spec(log)
        else:
            self.show_spec(spec)
        self.result = self._task(log, self.explorer.filters, spec, lambda _: None)
        self.render(self.result)

    def _show_result(self, result) -> None:
        self.result = result
        # Draw on the next turn of the event loop, so input and timers queued meanwhile go first.
        QTimer.singleShot(0, lambda: self._draw(result))

    def _draw(self, result) -> None:
        if result is not self.result:
            return                 # a newer result arrived in between
        try:
            self.render(result)
        except Exception as exc:  # noqa: BLE001 - a drawing problem must not take the window down
            self._show_error(f"Could not draw this view: {exc}")
        self.drawn.emit()

    def _show_error(self, message: str) -> None:
        self.banner.show_error(message)

    def goal(self) -> str | None:
        return self.explorer.filters.goal

    def event_names(self) -> list[str]:
        return list(self.explorer.log.event_names) if self.explorer.log is not None else []

    def combo(self, label: str, items: list[str], on_change, current: str | None = None) -> QComboBox:
        box = QComboBox()
        box.addItems(items)
        if current is not None and current in items:
            box.setCurrentText(current)
        box.currentTextChanged.connect(on_change)
        self.options.addWidget(QLabel(label))
        self.options.addWidget(box)
        return box

    def event_choice(self, label: str, none_label: str | None, on_change) -> "EventChoice":
        """An event picker in the options row that follows the loaded log's event names."""
        box = EventChoice(self.explorer, none_label)
        self.options.addWidget(QLabel(label))
        self.options.addWidget(box)
        box.currentTextChanged.connect(on_change)
        self.explorer.changed.connect(box.fill)
        return box

    def spin(self, label: str, value: int, low: int, high: int, on_change) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setValue(value)
        box.valueChanged.connect(on_change)
        self.options.addWidget(QLabel(label))
        self.options.addWidget(box)
        return box

    def caption(self, title: str | None = None):
        """Title, subtitle (filters, date range, users) and source line for exports."""
        from journey_explorer.export.images import Caption
        log, filters = self.explorer.log, self.explorer.filters
        if title is None:
            title = self.title + (f" — goal: {filters.goal}" if filters.goal and self.uses_goal else "")
        parts = [filters.describe(with_dates=False)]      # the dates follow, as the data has them
        shown = apply_filter(log, filters.common()) if log is not None and filters.common() != CommonFilter() else log
        if shown is not None and len(shown):
            first = pd.Timestamp(int(shown.ts.min()), unit="ms").date()
            last = pd.Timestamp(int(shown.ts.max()), unit="ms").date()
            unit = "sessions" if filters.by == "session" else "users"
            parts += [f"{first} – {last}", f"{shown.paths_count:,} {unit}"]
        project = self.explorer.source_name or (
            self.explorer.project_path.name if self.explorer.project_path else "project")
        source = f"Source: {project} · Journey Explorer · {pd.Timestamp.now().date()}"
        return Caption(title=title, subtitle=" · ".join(parts), source=source)

    def current_state(self) -> tuple[object, FilterState]:
        """What a pin or an export needs to draw this view again: its Spec and the filters."""
        return self.current_spec(self.explorer.log), self.explorer.filters


@contextmanager
def blocked(*widgets: QWidget):
    """Set several controls without each one asking for a recompute."""
    previous = [w.blockSignals(True) for w in widgets]
    try:
        yield
    finally:
        for widget, was in zip(widgets, previous):
            widget.blockSignals(was)


def duration_text(ms: int) -> str:
    """30 days in ms -> "30d" (the funnel window control's spelling)."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms // 1000}s"


class EventChoice(QComboBox):
    """An event picker that refills itself when the log changes, keeping the current choice."""

    def __init__(self, explorer: Explorer, none_label: str | None = None, default: str | None = None):
        super().__init__()
        self.explorer, self.none_label, self.default = explorer, none_label, default
        self.setMinimumContentsLength(18)
        self.fill()

    def fill(self) -> None:
        current = self.currentText() or self.default
        self.blockSignals(True)
        self.clear()
        if self.none_label:
            self.addItem(self.none_label)
        if self.explorer.log is not None:
            self.addItems(list(self.explorer.log.event_names))
        if current and self.findText(current) >= 0:
            self.setCurrentText(current)
        self.blockSignals(False)

    def value(self) -> str | None:
        text = self.currentText()
        return None if not text or text == self.none_label else text


def tiles_over_trend(captions: dict[str, str]) -> tuple[QWidget, dict[str, Tile], pg.PlotWidget]:
    """A row of KPI tiles above a trend chart (Overview, North star)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    row = QHBoxLayout()
    tiles = {key: Tile(caption) for key, caption in captions.items()}
    for tile in tiles.values():
        row.addWidget(tile)
    layout.addLayout(row)
    trend = pg.PlotWidget()
    layout.addWidget(trend, 1)
    return box, tiles, trend


# --- Overview --------------------------------------------------------------------------------------


class OverviewView(AnalysisView):
    key = "overview"
    uses_goal = True
    title = "Overview"

    def make_chart(self) -> QWidget:
        box, self.tiles, self.trend = tiles_over_trend({
            "users": "users", "events": "events", "sessions": "sessions", "range": "time range",
            "conversion": "reached the goal"})
        return box

    def compute(self, log: EventLog, spec):
        users = log.paths_count
        goal = self.goal()
        reached = None
        if goal and goal in log.event_names:
            reached = int(np.unique(log.user[log.event == log.event_code(goal)]).size)
        weekly = lifecycle.run(log, lifecycle.Spec(period="week")).table
        star = northstar.run(log, northstar.Spec(event=goal, period="week")).table if reached is not None else None
        return {"users": users, "events": len(log), "sessions": int(np.unique(log.session).size),
                "first": int(log.ts.min()), "last": int(log.ts.max()), "reached": reached, "goal": goal,
                "weekly": weekly, "star": star}

    def render(self, result) -> None:
        first = pd.Timestamp(result["first"], unit="ms").date()
        last = pd.Timestamp(result["last"], unit="ms").date()
        unit = "sessions" if self.explorer.filters.by == "session" else "users"
        self.tiles["users"].set(f"{result['users']:,}", unit)
        self.tiles["events"].set(f"{result['events']:,}")
        self.tiles["sessions"].set(f"{result['sessions']:,}")
        self.tiles["range"].set(f"{(last - first).days + 1:,} days", f"{first} – {last}")
        if result["reached"] is not None:
            self.tiles["conversion"].set(f"{result['reached'] / max(result['users'], 1):.1%}",
                                         f"reached {result['goal']}")
        lines = {f"weekly active {unit}": result["weekly"]["active"].to_numpy()}
        if result["star"] is not None:
            lines[f"users doing {result['goal']} (north star)"] = result["star"]["metric"].to_numpy()
        basic.line_chart(self.trend, result["weekly"]["period"].tolist(), lines, self.explorer.theme)
        table = result["weekly"][["period", "active", "new", "returning", "resurrected", "dormant"]]
        if result["star"] is not None:
            table = table.assign(north_star=result["star"]["metric"].to_numpy())
        self.model.set_frame(table)


# --- Flows -----------------------------------------------------------------------------------------


class FlowsView(AnalysisView):
    key = "flows"
    title = "Flows"

    def make_chart(self) -> QWidget:
        self.sankey = SankeyWidget(self.explorer.theme)
        self.sankey.item.nodeClicked.connect(self.node_menu)
        return self.sankey

    def build_options(self) -> None:
        self.state = flows.Spec(steps=5, top=6)
        self.start = self.event_choice("From", "(first event)", self._anchors_changed)
        self.end = self.event_choice("To", "(none)", self._anchors_changed)
        self.steps = self.spin("Steps", self.state.steps, 2, flows.MAX_STEPS,
                               lambda v: self.set_state(steps=v))
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

    def compute(self, log: EventLog, spec):
        result = flows.run(log, spec)
        # The Sankey's geometry and picture are built here, off the GUI thread.
        result.layout = SankeyLayout(result.node_rows, result.link_rows, result.paths, self.explorer.theme)
        return result

    def render(self, result) -> None:
        split = result.spec.split is not None
        self.sankey.set_theme(self.explorer.theme)
        self.sankey.show_layout(result.layout)
        self.model.set_frame(result.links if split else result.links.drop(columns="group"))

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
            with Project.open(self.explorer.project_path) as project:
                project.save_segment(name, {"users": self.users_of(step, event)})
            self.banner.show_info(f"Saved {len(self.users_of(step, event)):,} users as segment '{name}'.")


# --- Path graph ------------------------------------------------------------------------------------


class PathGraphView(AnalysisView):
    key = "graph"
    title = "Path graph"

    def build_options(self) -> None:
        self.state = graph.Spec(min_share=graph.DEFAULT_MIN_SHARE, min_edge_share=graph.DEFAULT_MIN_SHARE)
        self.sliders = {"min_share": self._slider("Activities reached by at least", "min_share"),
                        "min_edge_share": self._slider("Paths at least", "min_edge_share", suffix=" of the busiest")}

    def _slider(self, caption: str, field: str, suffix: str = " of paths") -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 50)
        slider.setValue(int(getattr(self.state, field) * 100))
        slider.setFixedWidth(160)
        label = QLabel(f"{slider.value()}%{suffix}")

        def changed(value: int) -> None:
            label.setText(f"{value}%{suffix}")
            self.state = replace(self.state, **{field: value / 100})
            self.refresh()

        slider.valueChanged.connect(changed)
        for widget in (QLabel(caption), slider, label):
            self.options.addWidget(widget)
        return slider

    def current_spec(self, log: EventLog):
        return self.state

    def show_spec(self, spec) -> None:
        self.state = spec
        for field, slider in self.sliders.items():
            value = getattr(spec, field)
            with blocked(slider):
                slider.setValue(round((spec.min_share if value is None else value) * 100))

    def compute(self, log: EventLog, spec):
        return graph.run(log, spec)

    def render(self, result) -> None:
        basic.path_graph(self.chart, result.graph, self.explorer.theme)
        self.model.set_frame(result.to_frame())


# --- Stuck points ----------------------------------------------------------------------------------


class StuckView(AnalysisView):
    key = "stuck"
    uses_goal = True
    title = "Stuck points"

    def current_spec(self, log: EventLog):
        return stuck.Spec(goal=self.goal())

    def compute(self, log: EventLog, spec):
        return stuck.run(log, spec)

    def render(self, result) -> None:
        top = result.table.head(12)
        texts = [f"exit {r.exit_rate:.0%} · loops {r.loop_rate_failing:.0%} · {int(r.users):,} users"
                 for r in top.itertuples()]
        basic.ranked_bars(self.chart, top["event"].tolist(), top["score"].tolist(), self.explorer.theme,
                          value_text=texts, colours=[OKABE_ITO[5]] * len(top))
        basic.axis_label(self.chart, "bottom", "stuck score (see the rank explanation)", self.explorer.theme)
        unstuck = [{"stuck at": u["event"], "next event": n["event"],
                    "successful users": n["successful_share"], "failing users": n["failing_share"]}
                   for u in result.unstuck for n in u["next"]]
        table = result.table if not unstuck else pd.concat(
            [result.table, pd.DataFrame(unstuck)], ignore_index=True)
        self.model.set_frame(table)
        self.chart.setToolTip(stuck.RANK_EXPLANATION)


# --- Compare ---------------------------------------------------------------------------------------


class CompareView(AnalysisView):
    key = "compare"
    uses_goal = True
    title = "Compare"

    def make_chart(self) -> QWidget:
        box = QSplitter(Qt.Orientation.Horizontal)
        self.effects = pg.PlotWidget()
        self.matrix = pg.PlotWidget()
        box.addWidget(self.effects)
        box.addWidget(self.matrix)
        box.setSizes([600, 500])
        return box

    def build_options(self) -> None:
        self.did = self.event_choice("Groups", "(successful vs failing)", self.refresh)

    def current_spec(self, log: EventLog):
        did = self.did.value()
        return compare.Spec(did=did) if did else compare.Spec(goal=self.goal())

    def show_spec(self, spec) -> None:
        with blocked(self.did):
            self.did.setCurrentText(spec.did or self.did.none_label)

    def compute(self, log: EventLog, spec):
        return compare.run(log, spec)

    def render(self, result) -> None:
        top = result.events.head(15)
        marks = ["***" if q < 0.001 else "**" if q < 0.01 else "*" if q < 0.05 else "" for q in top["q_value"]]
        basic.diverging_bars(self.effects, top["event"].tolist(), top["difference"].tolist(), marks,
                             self.explorer.theme, *result.labels)
        matrix = result.step_matrix.set_index("step")
        columns = list(matrix.abs().max().sort_values(ascending=False).index[:8])
        basic.heatmap(self.matrix, matrix[columns].to_numpy().T, columns,
                      [str(s) for s in matrix.index], self.explorer.theme, diverging=True, fmt="{:+.0%}")
        basic.axis_label(self.matrix, "bottom", "step", self.explorer.theme)
        self.model.set_frame(result.events)


# --- Funnel ----------------------------------------------------------------------------------------


class FunnelView(AnalysisView):
    key = "funnel"
    title = "Funnel"

    def build_options(self) -> None:
        self.steps_edit = QLineEdit()
        self.steps_edit.setPlaceholderText("comma-separated steps")
        self.steps_edit.setMinimumWidth(420)
        self.steps_edit.editingFinished.connect(self.refresh)
        self.options.addWidget(QLabel("Steps"))
        self.options.addWidget(self.steps_edit)
        self.window = self.combo("Window", ["none", "1d", "7d", "30d", "90d"], lambda _: self.refresh(),
                                 funnel.DEFAULT_WINDOW)
        self.order = self.combo("Order", ["sequential", "strict", "any"], lambda _: self.refresh())

    def default_steps(self, log: EventLog) -> list[str]:
        """Most common first event, the most common events between, then the goal."""
        firsts = np.bincount(log.event[log.path_starts()], minlength=len(log.event_names))
        steps = [log.event_names[int(firsts.argmax())]]
        goal = self.goal()
        if goal and goal not in steps:
            steps.append(goal)
        return steps

    def current_spec(self, log: EventLog):
        names = [s.strip() for s in self.steps_edit.text().split(",") if s.strip()] or self.default_steps(log)
        window = self.window.currentText()
        return funnel.Spec(steps=tuple(names), order=self.order.currentText(),
                           window_ms=None if window == "none" else funnel.parse_duration(window))

    def show_spec(self, spec) -> None:
        window = "none" if spec.window_ms is None else duration_text(spec.window_ms)
        with blocked(self.steps_edit, self.window, self.order):
            self.steps_edit.setText(", ".join(spec.steps))
            if self.window.findText(window) < 0:
                self.window.addItem(window)
            self.window.setCurrentText(window)
            self.order.setCurrentText(spec.order)

    def compute(self, log: EventLog, spec):
        return funnel.run(log, spec)

    def render(self, result) -> None:
        if not self.steps_edit.text():
            self.steps_edit.setText(", ".join(result.spec.steps))
        table = result.table
        basic.funnel_bars(self.chart, table["event"].tolist(), table["users"].tolist(), self.explorer.theme)
        went = [{"lost after": result.spec.steps[w["lost_after_step"] - 1], "went next": n["event"],
                 "users": n["users"], "share": n["share"]} for w in result.went_next for n in w["next"]]
        self.model.set_frame(pd.concat([table, pd.DataFrame(went)], ignore_index=True) if went else table)


# --- Retention -------------------------------------------------------------------------------------


class RetentionView(AnalysisView):
    key = "retention"
    title = "Retention"

    def make_chart(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        self.readout = QLabel()
        self.readout.setWordWrap(True)
        self.readout.setStyleSheet("font-weight: bold;")
        row = QSplitter(Qt.Orientation.Horizontal)
        self.curve = pg.PlotWidget()
        self.cohorts = pg.PlotWidget()
        row.addWidget(self.curve)
        row.addWidget(self.cohorts)
        layout.addWidget(self.readout)
        layout.addWidget(row, 1)
        return box

    def build_options(self) -> None:
        self.start = self.event_choice("Start", "(first event)", self.refresh)
        self.period = self.combo("Period", ["week", "day", "month"], lambda _: self.refresh())
        self.mode = self.combo("Mode", ["on", "on-or-after"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        return retention.Spec(start_event=self.start.value(), period=self.period.currentText(),
                              mode=self.mode.currentText())

    def show_spec(self, spec) -> None:
        with blocked(self.start, self.period, self.mode):
            self.start.setCurrentText(spec.start_event or self.start.none_label)
            self.period.setCurrentText(spec.period)
            self.mode.setCurrentText(spec.mode)

    def compute(self, log: EventLog, spec):
        return retention.run(log, spec)

    def render(self, result) -> None:
        self.readout.setText(result.readout)
        curve = result.curve[result.curve["eligible"] > 0]
        basic.line_chart(self.curve, [str(p) for p in curve["period"]],
                         {"retained users": curve["share"].to_numpy()}, self.explorer.theme, percent=True)
        basic.axis_label(self.curve, "bottom", f"{result.spec.period}s since start", self.explorer.theme)
        if result.flattens_at is not None:
            self.curve.addItem(pg.InfiniteLine(result.flattens_at, angle=90,
                                               pen=pg.mkPen(self.explorer.theme.muted, style=Qt.PenStyle.DashLine)))
        cohorts = result.cohorts.tail(16)
        columns = [c for c in cohorts.columns if c.startswith("p")]
        matrix = cohorts[columns].astype(float).to_numpy()
        labels = [f"{c} ({s:,})" for c, s in zip(cohorts["cohort"], cohorts["size"])]
        basic.heatmap(self.cohorts, matrix, labels, [c[1:] for c in columns], self.explorer.theme)
        self.model.set_frame(result.cohorts)


# --- Lifecycle -------------------------------------------------------------------------------------


class LifecycleView(AnalysisView):
    key = "lifecycle"
    title = "Lifecycle"

    def build_options(self) -> None:
        self.period = self.combo("Period", ["week", "month", "day"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        return lifecycle.Spec(period=self.period.currentText())

    def show_spec(self, spec) -> None:
        with blocked(self.period):
            self.period.setCurrentText(spec.period)

    def compute(self, log: EventLog, spec):
        return lifecycle.run(log, spec)

    def render(self, result) -> None:
        table = result.table
        colours = {"new": OKABE_ITO[0], "returning": OKABE_ITO[2], "resurrected": OKABE_ITO[1],
                   "dormant": OKABE_ITO[5]}
        basic.stacked_bars(self.chart, table["period"].tolist(),
                           {name: table[name].to_numpy() for name in colours}, colours, self.explorer.theme)
        self.model.set_frame(table)


# --- North star ------------------------------------------------------------------------------------


class NorthStarView(AnalysisView):
    key = "northstar"
    title = "North star"

    def make_chart(self) -> QWidget:
        box, self.tiles, self.trend = tiles_over_trend({
            "metric": "users doing it (last full period)", "depth": "repeat it within the period",
            "frequency": "times per user", "efficiency": "days to first time"})
        return box

    def build_options(self) -> None:
        self.event = self.event_choice("Critical event", "(the goal)", self.refresh)
        self.period = self.combo("Period", ["week", "month", "day"], lambda _: self.refresh())

    def current_spec(self, log: EventLog):
        event = self.event.value() or self.goal() or log.event_names[0]
        csat, revenue = northstar.property_columns(log)
        return northstar.Spec(event=event, period=self.period.currentText(), csat=csat, revenue=revenue)

    def show_spec(self, spec) -> None:
        with blocked(self.event, self.period):
            self.event.setCurrentText(spec.event)
            self.period.setCurrentText(spec.period)

    def compute(self, log: EventLog, spec):
        return northstar.run(log, spec)

    def render(self, result) -> None:
        table = result.table
        full = table.iloc[-2] if len(table) > 1 else table.iloc[-1]     # the last period is usually partial
        self.tiles["metric"].set(f"{int(full['metric']):,}", f"users doing {result.spec.event} ({full['period']})")
        self.tiles["depth"].set(f"{full['depth']:.0%}")
        self.tiles["frequency"].set("—" if pd.isna(full["frequency"]) else f"{full['frequency']:.2f}")
        self.tiles["efficiency"].set("—" if pd.isna(full["efficiency_days"]) else f"{full['efficiency_days']:.1f}")
        basic.line_chart(self.trend, table["period"].tolist(), {"north star": table["metric"].to_numpy()},
                         self.explorer.theme)
        self.model.set_frame(table)


VIEW_CLASSES: list[type[AnalysisView]] = [OverviewView, FlowsView, PathGraphView, StuckView, CompareView,
                                          FunnelView, RetentionView, LifecycleView, NorthStarView]
VIEW_BY_KEY: dict[str, type[AnalysisView]] = {cls.key: cls for cls in VIEW_CLASSES}
