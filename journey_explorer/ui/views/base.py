"""What every view shares: the explorer (the session, announcing changes), and ``AnalysisView``, a
thin renderer of (filters + options) -> analysis result -> chart + table.

A view is built from its registry entry: the analysis and the default options come from
``state.registry``, the chart from ``charts.renderers``; a subclass only adds option controls
(``build_options``, ``current_spec``, ``show_spec``) and interactions. Every view computes off the
GUI thread through its own ``TaskRunner`` (a newer request cancels the older one) and shows errors
inline. The numbers come from the same functions as the CLI and the exports.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget

from journey_explorer.charts.renderers import renderer as chart_renderer
from journey_explorer.charts.theme import LIGHT, Theme
from journey_explorer.charts.warm_up import plotting_imported, wait_for_plotting
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.export.render import caption_for, compute_view
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import ViewEntry
from journey_explorer.state.session import Session
from journey_explorer.tasks import TaskRunner, later
from journey_explorer.ui.flow_layout import FlowLayout
from journey_explorer.ui.views.controls import Binder, EventChoice
from journey_explorer.ui.widgets import Banner, format_table, make_table

_ALL_DRAWN = object()


class Explorer(QObject):
    """The window's ``Session`` (log, filters, project) and theme; ``changed`` asks for a redraw."""

    changed = Signal()

    def __init__(self, project_path: Path | None = None, theme: Theme = LIGHT):
        super().__init__()
        self.session = Session(project_path, theme_name=theme.name)
        self.theme = theme

    # The session's fields, read as the views always have.
    log = property(lambda self: self.session.log)
    filters = property(lambda self: self.session.filters)

    @property
    def project_path(self) -> Path | None:
        return self.session.project_path

    @project_path.setter
    def project_path(self, path: Path | None) -> None:
        self.session.project_path = path

    def set_log(self, log: EventLog, filters: FilterState | None = None) -> None:
        if filters is not None:
            self.session.filters = filters
        self.session.set_log(log)
        self.changed.emit()

    def set_filters(self, filters: FilterState) -> None:
        self.session.filters = filters
        self.changed.emit()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.session.theme_name = theme.name
        self.changed.emit()


class AnalysisView(QWidget):
    """Options row, inline banner, chart above a table of the same numbers."""

    drawn = Signal()           # the chart and table show the latest result
    pin_requested = Signal()   # the user asked to pin this chart to the board

    def __init__(self, entry: ViewEntry, explorer: Explorer):
        super().__init__()
        self.entry, self.explorer = entry, explorer
        self.key, self.title = entry.key, entry.title
        self._renderer = None     # the chart renderer and its canvas are made when first needed:
        self._chart = None        # start-up builds every tab but draws only the first
        self._chart_visible = True
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._show_result)
        self.runner.failed.connect(self._show_error)
        self.result = None
        self.result_spec = None
        self._result_table = None     # the result's table, formatted on the worker thread
        self.drawn_result = None   # the result the chart and table show (the latest once drawn)
        self.options = FlowLayout()     # wraps on a narrow window instead of widening it
        self.banner = Banner()
        self.table, self.model = make_table()
        self.binder = Binder()     # option controls <-> the view's Spec (see build_options)
        layout = QVBoxLayout(self)
        layout.addLayout(self.options)
        layout.addWidget(self.banner)
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(QWidget())       # the chart's place (see ``chart``)
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

    @property
    def chart_renderer(self):
        if self._renderer is None:
            self._renderer = chart_renderer(self.entry.chart_name)
        return self._renderer

    @property
    def chart(self):
        """The chart's canvas, made on first use (a PlotWidget costs ~25 ms; most tabs are never opened
        at start-up)."""
        if self._chart is None:
            wait_for_plotting()         # never beside pyqtgraph's import on the window's loading thread
            self._chart = self.chart_renderer.make_canvas(self.explorer.theme)
            sizes = self.splitter.sizes()
            if 0 in sizes:          # made while presenting (table hidden): keep the table a share for later
                sizes = [700, 250]
            self.splitter.replaceWidget(0, self._chart).deleteLater()
            self._chart.setVisible(self._chart_visible)    # once in the splitter: never a window of its own
            self.splitter.setSizes(sizes)
            self.chart_made(self._chart)
        return self._chart

    def set_chart_visible(self, visible: bool) -> None:
        """Show or hide the chart without making a canvas that was never drawn on."""
        self._chart_visible = visible
        if self._chart is not None:
            self._chart.setVisible(visible)

    # --- for a view with options to override ---------------------------------------------------

    def build_options(self) -> None:
        """Add controls to ``self.options`` and bind them to Spec fields (``self.binder.bind``);
        each control refreshes the view when changed."""

    def current_spec(self, log: EventLog):
        """The analysis options the controls show (GUI thread): the view's own choice for this log
        and filters, with every bound control's value."""
        return self.binder.read(self.entry.default_spec(log, self.explorer.filters))

    # A view whose own options search the log (the critical event of the north star and the usage
    # interval: seconds at 10M events for a goal not seen before) has them worked out on its worker.
    default_on_worker = False

    def spec_to_compute(self, log: EventLog):
        """The options handed to the worker (GUI thread): ``current_spec``; for ``default_on_worker``,
        a function the worker calls to make it (the controls read now, the view's default there);
        the funnel leaves its own steps to its ``_compute``."""
        if not self.default_on_worker:
            return self.current_spec(log)
        chosen, entry = self.binder.values(), self.entry
        return lambda full_log, filters: replace(entry.default_spec(full_log, filters), **chosen)

    def show_spec(self, spec) -> None:
        """Set the controls to ``spec`` (a pin or the CLI), without recomputing for each control."""
        self.binder.show(spec)

    def chart_made(self, chart) -> None:
        """The chart's canvas was just made: e.g. connect its signals."""

    def shown(self, result, spec) -> None:
        """After drawing: e.g. show the options the view chose by itself."""

    # --- machinery ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute for the current filters; a hidden view waits until it is shown."""
        log = self.explorer.log
        if log is None:
            return
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self.banner.hide()
        spec = self.spec_to_compute(log)
        task = (self._compute, self.explorer.session, self.explorer.filters, spec, self.explorer.theme)
        if self._chart is None and plotting_imported():
            # The canvas on a turn of its own before the analysis starts: beside a computing worker the
            # GUI thread gets the GIL only in turns, and making it took 4x as long (retention's two
            # plots: ~25 ms alone, 100-150 ms beside the analysis at 10M events).
            self.runner.start_after(self._make_chart, *task)
            return
        self.runner.start(*task)
        if self._chart is None:      # made while the analysis runs, not after it: pyqtgraph's import with it
            later(self._make_chart, self)

    def _make_chart(self) -> None:
        self.chart  # noqa: B018 - the property makes the canvas

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if getattr(self, "_stale", True):
            self.refresh()

    def _compute(self, session: Session, filters: FilterState, spec, theme, progress):
        """Worker thread: the result, and the table under the chart built and formatted here too (pandas
        reshaping and formatting thousands of cells would block the GUI thread at 10M events)."""
        if callable(spec):        # the view's default options, worked out here (see ``spec_to_compute``)
            spec = spec(session.log, filters)
        progress(0.1)
        result = compute_view(session, self.entry, spec, filters, theme, progress)
        try:
            table = format_table(chart_renderer(self.entry.chart_name).table(result, spec))
        except Exception as exc:  # noqa: BLE001 - said when drawing, as a drawing problem always was
            table = exc
        return spec, result, table

    def _show_result(self, computed) -> None:
        self.result_spec, self.result, self._result_table = computed
        later(lambda result=self.result: self._draw(result), self)

    def _draw(self, result) -> None:
        if result is not self.result:
            return                 # a newer result arrived in between
        try:
            parts = self.chart_renderer.steps(result, self.result_spec, self.chart, self.explorer.theme)
        except Exception as exc:  # noqa: BLE001 - a drawing problem must not take the window down
            self._show_error(f"Could not draw this view: {exc}")
            self.drawn.emit()
            return
        # Painted once, after the last part and on a turn of its own: a part and the chart's paint in
        # one turn doubled the turn (retention's last part 30-60 ms, then ~50 ms painting both plots).
        self._drawing = result
        self.chart.setUpdatesEnabled(False)
        self._draw_part(result, self._drawing_turns(result, parts))

    _drawing = None        # the result whose drawing turned the chart's updates off, until it ends

    def _drawing_turns(self, result, parts):
        """The chart's parts, then what follows them, a turn each: at 10M events any two of them in one
        turn went over 100 ms (the usage interval's first layout ~70 ms, its paint as much, and the table
        swapped in repainted the whole tab, the chart too)."""
        yield from parts
        yield
        table_shown = self._show_table(result)      # while the chart's updates are off: it is painted once
        yield
        if not self._chart_visible:
            # Hidden until it had numbers (a project just opened): shown and laid out, after ``shown`` (the
            # process map watches its chart's size from then on, and fits its boxes' type to it).
            self.set_chart_visible(True)
            yield
        # Layouts still pending (the table's, after the chart took its place) done first: one of them
        # repainted the whole tab, the chart a second time, in the paint's turn (retention's two plots).
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self._end_drawing(result)                   # painted
        yield
        if table_shown:
            self.drawn_result = result
        self.drawn.emit()

    def _end_drawing(self, result) -> None:
        """The chart's updates back on, unless a newer result's drawing has turned them off since: a
        superseded drawing must not let the newer one's unfinished parts paint."""
        if self._drawing is result:
            self._drawing = None
            self.chart.setUpdatesEnabled(True)

    def _draw_part(self, result, turns) -> None:
        """One part of the chart per turn of the event loop (two plots in one turn took 100-150 ms at
        10M events), then its layout, the table, its paint and ``drawn``, each on a turn of its own."""
        if result is not self.result:
            turns.close()          # a newer result draws the chart from its start
            self._end_drawing(result)
            return
        try:
            if next(turns, _ALL_DRAWN) is not _ALL_DRAWN:
                later(lambda: self._draw_part(result, turns), self)
        except Exception as exc:  # noqa: BLE001 - a drawing problem must not take the window down
            self._end_drawing(result)
            self._show_error(f"Could not draw this view: {exc}")
            self.drawn.emit()

    def _show_table(self, result) -> bool:
        """The result's table in place of the last one; False (and said) when it could not be made."""
        try:
            if isinstance(self._result_table, Exception):
                raise self._result_table
            self.model.show_table(self._result_table)
            self.shown(result, self.result_spec)
        except Exception as exc:  # noqa: BLE001 - a drawing problem must not take the window down
            self._show_error(f"Could not draw this view: {exc}")
            return False
        return True

    def _show_error(self, message: str) -> None:
        self.banner.show_error(message)

    def goal(self) -> str | None:
        return self.explorer.filters.goal

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
        """Title, subtitle (filters, date range, users) and source line, as an export gets them."""
        return caption_for(self.explorer.session, self.entry, self.explorer.filters, title)

    def current_state(self) -> tuple[object, FilterState]:
        """What a pin or an export needs to draw this view again: its Spec and the filters."""
        if self.explorer.log is None:
            raise JourneyError("No project is loaded.")
        return self.current_spec(self.explorer.log), self.explorer.filters


def add_count_scheduled(view: AnalysisView, counts_as: str):
    """The "Count scheduled events" check box (retention, lifecycle): events sent on a schedule (a
    monthly renewal) are left out of ``counts_as`` unless it is ticked."""
    box = view.binder.bind("count_scheduled", QCheckBox("Count scheduled events"))
    box.setToolTip(f"Events sent on a schedule rather than done by the user (a monthly renewal, a daily reminder: "
                   f"the same gap for every user, mostly alone in the visit) do not count as {counts_as} "
                   f"unless this is ticked.")
    box.toggled.connect(lambda _: view.refresh())
    view.options.addWidget(box)
    return box
