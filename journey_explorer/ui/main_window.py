"""The explorer window: project side panel, a filter bar every view obeys, and the views as tabs."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QByteArray, QDate, QStringListModel, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from journey_explorer import memory
from journey_explorer.charts.theme import THEMES, stylesheet
from journey_explorer.charts.warm_up import import_analyses_in_background, import_plotting_in_background
from journey_explorer.domain import JourneyError
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import VIEWS
from journey_explorer.store.project import Project
from journey_explorer.tasks import TaskRunner, freeze_long_lived, later, thaw_long_lived
from journey_explorer.ui.board import BoardView
from journey_explorer.ui.flow_layout import FlowLayout, grouped
from journey_explorer.ui.hygiene_panel import HygienePanel
from journey_explorer.ui.project_loader import STATE_SETTING, EarlyLoad, load_project_log
from journey_explorer.ui.settings import Settings, load_settings, save_settings
from journey_explorer.ui.start_page import StartPage
from journey_explorer.ui.views import AnalysisView, Explorer, make_view
from journey_explorer.ui.widgets import Banner, FrameModel, ask_text, message_box, plain_label

INFO_SECONDS = 8                # an information banner goes away by itself
FIRST_VIEW_GRACE_MS = 5000      # the side checks start after the first view drawn, or after this (board, error)
CHART_IMPORT_AFTER_MS = 150    # a load still running this long after it started imports pyqtgraph beside it


def segment_suggestions(log, progress=None) -> tuple:
    """Background task: the segment box's completions for ``log`` (they read every property's
    values: ~0.25-0.5 s on the demo, so after the first view, off the GUI thread)."""
    from journey_explorer.analysis.properties import segment_suggestions
    try:
        return log, segment_suggestions(log)
    except JourneyError:
        return log, []


PER_PATH, PER_SESSION = 0, 1        # the Paths box's items: per user (per case in a case log), per session


class SegmentCompleter(QCompleter):
    """Completes the condition after the last "&" of a segment box, case-insensitively, matching
    anywhere in a suggestion ("chan" offers "channel=Partner Referral"); the conditions before it stay."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.suggestions = QStringListModel(self)        # parented: PySide would otherwise collect it
        self.setModel(self.suggestions)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setMaxVisibleItems(12)

    def set_suggestions(self, suggestions: list[str]) -> None:
        self.suggestions.setStringList(list(dict.fromkeys(suggestions)))

    def splitPath(self, path: str) -> list[str]:
        return [path.rsplit("&", 1)[-1].strip()]

    def pathFromIndex(self, index) -> str:
        chosen = super().pathFromIndex(index)
        text = self.widget().text() if self.widget() is not None else ""
        if "&" not in text:
            return chosen
        return f"{text.rsplit('&', 1)[0].rstrip()} & {chosen}"


class LazyViews(Mapping):
    """The analysis views by registry key, in tab order; each is built the first time it is asked
    for (its tab opened, ``MainWindow.view``): start-up builds the first tab's only, not every tab's
    controls and their modules. ``built()`` is what exists so far."""

    def __init__(self, build):
        self._build = build            # (ViewEntry) -> AnalysisView
        self._views: dict[str, AnalysisView] = {}

    def __getitem__(self, key: str) -> AnalysisView:
        if key not in self._views:
            entry = next((e for e in VIEWS if e.key == key), None)
            if entry is None:
                raise KeyError(key)
            self._views[key] = self._build(entry)
        return self._views[key]

    def __contains__(self, key) -> bool:          # without building it
        return any(entry.key == key for entry in VIEWS)

    def __iter__(self):
        return (entry.key for entry in VIEWS)

    def __len__(self) -> int:
        return len(VIEWS)

    def built(self) -> list[AnalysisView]:
        return [self._views[entry.key] for entry in VIEWS if entry.key in self._views]


class ProjectEdit(QUndoCommand):
    """An undoable write to the project file. A write that fails (the project busy in another
    process, a read-only file) is a message, and the project and the undo stack keep agreeing: a
    first do that failed is not recorded; a failed undo or redo is stepped back over, so the step
    can be tried again."""

    def __init__(self, window: "MainWindow", text: str):
        super().__init__(text)
        self.window = window
        self._done_once = False
        self._step_back = False

    def write(self, forward: bool) -> None:
        """Do (``forward``) or undo the change in the project file."""
        raise NotImplementedError

    def redo(self) -> None:
        self._guarded(True)

    def undo(self) -> None:
        self._guarded(False)

    def _guarded(self, forward: bool) -> None:
        if self._step_back:              # the stack steps back over a failed undo or redo: nothing to write
            self._step_back = False
            return
        try:
            self.write(forward)
        except Exception as exc:  # noqa: BLE001 - the undo step's error boundary
            from journey_explorer.crashlog import failure_message
            self.window.show_error(failure_message(exc, f"{'redo' if forward else 'undo'} {self.text()}",
                                                   near=self.window.project_path))
            if forward and not self._done_once:
                self.setObsolete(True)   # never done: QUndoStack.push does not record it
            else:
                self._step_back = True
                QTimer.singleShot(0, lambda at=self.window.undo.index(): self._restore(forward, at))
            return
        self._done_once = True
        self.window.reload()

    def _restore(self, forward: bool, at: int) -> None:
        """After the stack has moved past a step that failed, move it back (the step is not done/undone)."""
        stack = self.window.undo
        if forward and stack.index() == at + 1:
            stack.undo()
        elif not forward and stack.index() == at - 1:
            stack.redo()
        self._step_back = False


class AvoidGoalEdit(QUndoCommand):
    """Tick or untick "to avoid" beside the goal (the goal is an outcome to avoid); one undo step. It is
    this goal's choice: undone or redone once another goal is picked, it leaves that goal alone."""

    def __init__(self, window: "MainWindow", avoid: bool):
        super().__init__("goal to avoid" if avoid else "goal to reach")
        self.window, self.avoid = window, avoid
        self.goal = window.goal.currentData()

    def redo(self) -> None:
        self._show(self.avoid)

    def undo(self) -> None:
        self._show(not self.avoid)

    def _show(self, avoid: bool) -> None:
        if self.window.goal.currentData() != self.goal:
            return
        self.window.show_goal_avoided(avoid)
        self.window.filters_changed()


class CatalogEdit(ProjectEdit):
    """Rename (or merge, by giving an existing name) or hide an event type; undoable."""

    def __init__(self, window: "MainWindow", name: str, field: str, old, new):
        super().__init__(window, f"{field} {name}")
        self.name, self.field, self.old, self.new = name, field, old, new

    def write(self, forward: bool) -> None:
        value = self.new if forward else self.old
        with Project.open(self.window.project_path) as project:
            if self.field == "rename":
                project.rename_event(self.name, value)
            else:
                project.set_hidden(self.name, bool(value))


class GroupRuleEdit(ProjectEdit):
    """Add a regex grouping rule ("^product_" -> "Product Page"); undo restores the previous rules."""

    def __init__(self, window: "MainWindow", pattern: str, group: str):
        super().__init__(window, f"group {pattern} as {group}")
        self.pattern, self.group = pattern, group
        self.before: list[tuple[str, str]] = []

    def write(self, forward: bool) -> None:
        with Project.open(self.window.project_path) as project:
            if forward:
                self.before = project.group_rules()
                project.set_group_rules(self.before + [(self.pattern, self.group)])
            else:
                project.set_group_rules(self.before)


class EventDetailEdit(ProjectEdit):
    """Name an event by one of its properties ("page_view: Pricing"), or plainly again; undoable."""

    def __init__(self, window: "MainWindow", event: str, prop: str | None):
        super().__init__(window, f"name {event} by {prop}" if prop else f"name {event} plainly")
        self.event, self.prop = event, prop
        self.before: str | None = None

    def write(self, forward: bool) -> None:
        with Project.open(self.window.project_path) as project:
            if forward:
                self.before = project.event_detail_rules().get(self.event)
            project.set_event_detail(self.event, self.prop if forward else self.before)


EXPORT_WIDTHS = (1280, 1920, 2560, 3840)      # 16:9: HD, full HD (the default), QHD, 4K
EXPORT_TYPES = {"PNG image (*.png)": ".png", "SVG vector (*.svg)": ".svg", "PDF (*.pdf)": ".pdf",
                "CSV table (*.csv)": ".csv", "Excel table (*.xlsx)": ".xlsx"}


class MainWindow(QMainWindow):
    def __init__(self, project_path: Path | None = None, settings: Settings | None = None,
                 early_load: EarlyLoad | None = None):
        """``early_load``: ``project_path`` already being read since launch (``app.main``); its
        result is taken instead of reading the file again."""
        super().__init__()
        self.settings = settings or load_settings()
        self.project_path = Path(project_path) if project_path else None
        self.early_load = early_load
        self.explorer = Explorer(self.project_path, THEMES.get(self.settings.theme, THEMES["light"]))
        self.loader = TaskRunner(self)
        self.loader.finished.connect(self._loaded)
        self.loader.failed.connect(self._load_failed)
        self.suggester = TaskRunner(self)
        self.suggester.finished.connect(self._suggestions_ready)
        self.pending_checks = None     # (path, log): the hygiene check and completions, started after the first view
        self.info_timer = QTimer(self, singleShot=True, interval=INFO_SECONDS * 1000)
        self.info_timer.timeout.connect(lambda: self.banner.hide() if not self.banner.is_error else None)
        self.project_is_demo = False
        self.restore_state = False     # the next load is a newly opened project: restore its saved state
        self.normal_geometry = None    # the window's geometry (a QRect) before presentation mode
        self.undo = QUndoStack(self)
        self.goal_project: str | None = None       # the project whose events the goal picker lists
        self.setAcceptDrops(True)
        self._build_menus()
        self._build_central()
        self._build_side_panel()
        self.apply_theme()
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        self._build_presentation_keys()
        if self.project_path:
            self.open_project(self.project_path)
        else:
            self.show_start_page()

    # --- layout -------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New project from file…", self.new_project_from_file, QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open project…", self.choose_project, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Recent projects")
        self._action(file_menu, "&Import file…", self.import_file, "Ctrl+I")
        self._action(file_menu, "&Close project", self.close_project, QKeySequence.StandardKey.Close)
        self._action(file_menu, "&Export current view…", self.export_view, "Ctrl+E")
        self._action(file_menu, "&Copy chart", self.copy_chart, "Ctrl+Shift+C")
        self._action(file_menu, "&Pin chart to board", self.pin_current_view, "Ctrl+B")
        self.report_action = self._action(file_menu, "Create &report…", self.create_report, "Ctrl+R")
        self.report_action.setToolTip("A slide deck of the findings for the current goal and filters")
        self._build_width_menu(file_menu.addMenu("Export &width"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo.createUndoAction(self, "&Undo"))
        edit_menu.actions()[-1].setShortcut(QKeySequence.StandardKey.Undo)
        edit_menu.addAction(self.undo.createRedoAction(self, "&Redo"))
        edit_menu.addSeparator()
        self.undo_import_action = self._action(edit_menu, "Undo import", self.undo_last_import)
        self.undo_import_action.setEnabled(False)
        edit_menu.aboutToShow.connect(self.update_undo_import)
        view_menu = self.menuBar().addMenu("&View")
        self.dark_action = self._action(view_menu, "&Dark theme", self.toggle_dark)
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.settings.theme == "dark")
        self.presentation_action = self._action(view_menu, "&Presentation mode", self.toggle_presentation, "F11")
        self.presentation_action.setCheckable(True)
        self._fill_recent()

    def _build_width_menu(self, menu) -> None:
        """PNG and clipboard width, kept in the settings (vector and table exports do not depend on it)."""
        group = QActionGroup(self)
        for width in EXPORT_WIDTHS:
            action = menu.addAction(f"{width} × {width * 9 // 16} px", lambda w=width: self._set_export_width(w))
            action.setCheckable(True)
            action.setChecked(width == self.settings.export_width)
            group.addAction(action)

    def _set_export_width(self, width: int) -> None:
        self.settings.export_width = width

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)        # shortcuts keep working when the menu bar is hidden
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_projects:
            self.recent_menu.addAction(path, lambda p=path: self.open_project(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_projects))

    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        self.filter_bar = self._build_filter_bar()
        self.filter_summary = plain_label()      # presentation mode: the filters in one line
        self.filter_summary.setStyleSheet("font-size: 13pt; padding: 2px 6px;")
        self.filter_summary.hide()
        self.banner = Banner()
        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(True)      # the tab titles never widen the window
        # Each view's tab holds a blank stand-in until the view is built (when its tab is opened).
        self.view_by_key = LazyViews(self._build_view)
        # Saved options of views not built yet: applied when their tab is first opened (building every
        # view with saved options on open stalled the window ~1 s at 10M events).
        self.pending_view_options: dict[str, dict] = {}
        self._placing_view = False
        for entry in VIEWS:                       # in tab order
            self.tabs.addTab(QWidget(), entry.title)
        self.tabs.currentChanged.connect(self._tab_opened)
        self.tabs.currentChanged.connect(self._update_summary)
        self.board = BoardView(self.explorer)
        self.tabs.addTab(self.board, self.board.title)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.filter_summary)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.start_page = StartPage()
        self.start_page.open_requested.connect(lambda path: self.open_project(Path(path)))
        self.start_page.demo_requested.connect(self.open_demo)
        self.start_page.new_from_file_requested.connect(self.new_project_from_file)
        self.loading_page = plain_label(alignment=Qt.AlignmentFlag.AlignCenter)   # between two projects
        self.pages = QStackedWidget()
        for page in (self.start_page, self.loading_page, central):
            self.pages.addWidget(page)
        self.work_page = central
        self.setCentralWidget(self.pages)
        self._tab_opened(self.tabs.currentIndex())

    @property
    def views(self) -> list[AnalysisView]:
        """Every analysis view, in tab order (building those not built yet)."""
        return [self.view_by_key[entry.key] for entry in VIEWS]

    def _tab_opened(self, index: int) -> None:
        if self._placing_view or not 0 <= index < len(VIEWS):
            return                # tabs shift while a view takes its stand-in's place: not an opened tab
        if not isinstance(self.tabs.widget(index), AnalysisView):
            self.view_by_key[VIEWS[index].key]        # builds it: a stand-in is never left showing

    def _build_view(self, entry) -> AnalysisView:
        """Make the view of ``entry`` and put it in its tab, in place of the stand-in."""
        view = make_view(entry, self.explorer)
        index = VIEWS.index(entry)
        stand_in, showing = self.tabs.widget(index), self.tabs.currentIndex() == index
        self._placing_view = True
        try:
            self.tabs.insertTab(index, view, entry.title)     # the stand-in moves one to the right...
            if showing:
                self.tabs.setCurrentIndex(index)
            self.tabs.removeTab(index + 1)                    # ...and goes, never showing another tab meanwhile
        finally:
            self._placing_view = False
        stand_in.deleteLater()
        if entry.key in self.pending_view_options:
            self._apply_view_options(view, self.pending_view_options.pop(entry.key))
        view.drawn.connect(lambda: later(self._start_side_checks, self))     # not in the drawing's last turn
        view.pin_requested.connect(lambda v=view: self.pin_view(v))
        view.runner.failed.connect(lambda _message, v=view: self.show_failed(v))
        view.drawn.connect(lambda v=view: self.view_drawn(v))
        if view.key == "changes":          # a story's evidence, one click away
            view.compare_requested.connect(self.compare_periods)
            view.window_requested.connect(self.set_time_window)
            view.segment_requested.connect(self.set_segment)
        if view.key == "stuck":            # a stuck step found inside an event: name the event by it
            view.name_requested.connect(self.name_event_by)
        view.table.setVisible(not self.settings.presentation)
        view.set_chart_visible(False)      # as opening a project leaves every view: shown once it draws
        return view

    def _build_filter_bar(self) -> QWidget:
        bar = QWidget()
        row = FlowLayout(bar)      # wraps on a narrow window (a 1024 px projector) instead of widening it
        dates = []
        self.use_since, self.since = QCheckBox("From"), QDateEdit(calendarPopup=True)
        self.use_until, self.until = QCheckBox("until"), QDateEdit(calendarPopup=True)
        for check, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.filters_changed)
            edit.dateChanged.connect(self.filters_changed)
            dates += [check, edit]
        row.addWidget(grouped(*dates))
        self.segment = QLineEdit()
        self.segment.setPlaceholderText("segment, e.g. channel=Partner Referral")
        self.segment.setClearButtonEnabled(True)
        self.segment.setMinimumWidth(240)
        self.segment.editingFinished.connect(self.filters_changed)
        self.segment_completer = SegmentCompleter(self.segment)
        self.segment.setCompleter(self.segment_completer)
        # Choosing a suggestion filters at once (queued: after the completer has set the box's text).
        self.segment_completer.activated.connect(self.filters_changed, Qt.ConnectionType.QueuedConnection)
        self.match = QComboBox()
        self.match.addItem("first touch", "first")
        self.match.addItem("any event", "any")
        self.match.setToolTip(
            "Which value of a property a path has. First touch: per user, the user's first value; "
            "per session, the session's value. Any event: a path matches if any of its events carries the value.")
        self.match.currentIndexChanged.connect(self.filters_changed)
        self.goal = QComboBox()
        self.goal.setMinimumContentsLength(20)
        self.goal.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.goal.setToolTip("The event that counts as success; your choice is kept in the project")
        self.goal.currentIndexChanged.connect(self.goal_changed)
        self.goal.activated.connect(self.goal_chosen)
        # An outcome to avoid (a cancellation) as the goal: its paths are the failing ones. Set by the goal's name
        # (cancel, churn...) when the goal changes; the user's toggle is one undo step, saved with the filters.
        self.avoid_goal = QCheckBox("to avoid")
        self.avoid_goal.setToolTip("The goal is an outcome to avoid (a cancellation, a churn): the paths that do it "
                                   "are the failing ones, the others the successful ones")
        self.avoid_goal.clicked.connect(lambda checked: self.undo.push(AvoidGoalEdit(self, checked)))
        self.by = QComboBox()
        self.by.addItems(["per user", "per session"])
        self.by.currentTextChanged.connect(self.filters_changed)
        row.addWidget(grouped(QLabel("Segment"), self.segment, self.match))
        row.addWidget(grouped(QLabel("Goal"), self.goal, self.avoid_goal))
        row.addWidget(grouped(QLabel("Paths"), self.by))
        return bar

    def _build_side_panel(self) -> None:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        self.project_label = plain_label()      # file names and values as they are, never HTML
        self.project_label.setWordWrap(True)
        self.project_label.setStyleSheet("font-weight: bold;")
        self.sources = QListWidget()
        self.catalog, self.catalog_model = QTableView(), FrameModel()
        self.catalog.setModel(self.catalog_model)
        self.catalog.verticalHeader().setVisible(False)
        self.catalog.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.catalog.customContextMenuRequested.connect(self.catalog_menu)
        self.segments = QListWidget()
        self.hygiene = HygienePanel()
        self.hygiene.merge_requested.connect(self.merge_suggestion)
        self.hygiene.message.connect(lambda text, error: (self.show_error if error else self.show_info)(text))
        # The event list and its tracking check share the panel's height as two tabs (a projector is 720 px high).
        self.catalog_tabs = QTabWidget()
        self.catalog_tabs.addTab(self.catalog, "Events")
        self.catalog_tabs.addTab(self.hygiene, "Checks")
        self.catalog_tabs.tabBar().setUsesScrollButtons(False)
        self.catalog_tabs.setTabToolTip(0, "Right-click an event to rename, merge or hide it")
        self.catalog_tabs.setTabToolTip(1, "Names that look like one action, and tracking that looks broken")
        self.hygiene.found.connect(self._show_tracking_count)
        for title, widget in (("Sources", self.sources), ("Event catalog", self.catalog_tabs),
                              ("Saved segments", self.segments)):
            layout.addWidget(QLabel(title))
            layout.addWidget(widget, 3 if widget is self.catalog_tabs else 1)
        layout.insertWidget(0, self.project_label)
        self.dock = QDockWidget("Project", self)
        self.dock.setWidget(panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

    # --- project --------------------------------------------------------------------------------

    def open_project(self, path: Path) -> None:
        """Leave the open project (its state saved, its views and banners cleared), then load ``path``."""
        self.board.flush_pending_notes()          # notes belong to the project they were typed in
        if self.project_path is not None and self.explorer.log is not None:
            self.save_project_state()
        self.clear_project()
        from journey_explorer.demo_project import is_demo_project
        self.project_path = Path(path)
        if self.early_load is not None:
            if self.early_load.path == self.project_path:
                self.early_load.wait_until_open()     # it may be upgrading the file, which we open below
            else:
                self.early_load = None        # another project was asked for
        self.project_is_demo = is_demo_project(self.project_path)
        self.explorer.project_path = self.project_path
        self.setWindowTitle(f"{self.project_path.stem} — Journey Explorer")
        self.settings.remember_project(str(self.project_path))
        self._save_settings_now()          # a crash or a kill later must not forget the project
        self._fill_recent()
        self.loading_page.setText(f"Opening {self.project_path.stem}…")
        self.pages.setCurrentWidget(self.loading_page)
        self.start_page.show_problem("")
        self.dock.hide()                 # shown again with the new project's facts
        self.restore_state = True
        self.reload()

    def clear_project(self) -> None:
        """Forget everything shown for the open project: results, charts, tables, banners, side panel."""
        from journey_explorer.store.import_undo import discard_undo
        discard_undo(self.project_path)          # an import's undo lasts while its project is open
        # Views whose options were changed here start from their own choice in the next project.
        self.views_to_reset = set(self.view_options()) if self.explorer.log is not None else set()
        self.loader.cancel()
        self.pending_view_options = {}            # the old project's saved options, never shown
        self.pending_checks = None                # nor its checks: their timer would hold its log until it fires
        self.explorer.session.log = None          # and with it the old project's filtered logs
        self.explorer.session.filters = FilterState()
        for view in self.view_by_key.built():
            view.runner.cancel()
            view.result = view.result_spec = view.drawn_result = None
            view.model.clear()
            view.banner.hide()
            view.set_chart_visible(False)    # shown again once this view draws the new project's numbers
        self.banner.hide()
        self.undo.clear()                # its edits name the old project's events
        self.hygiene.runner.cancel()
        self.hygiene.result = None
        self.hygiene.merges.clear()
        self.hygiene.breakages.clear()
        self._show_tracking_count(0)
        self.sources.clear()
        self.segments.clear()
        self.catalog_model.clear()
        self.project_label.clear()
        self.show_saved_filters({})      # a project without saved filters starts unfiltered
        self.goal.blockSignals(True)
        self.goal.clear()
        self.goal.blockSignals(False)
        thaw_long_lived()                # the project's objects are let go of: their cycles collected now
        memory.give_back()               # and the memory their arrays kept for reuse

    def _load_failed(self, message: str) -> None:
        """A project that could not be opened (missing, a folder, damaged): back to the start page
        with the message, and off the recent list -- the window sat on "Opening …" for ever."""
        if self.explorer.log is None and self.pages.currentWidget() is self.loading_page:
            failed = self.project_path
            self.clear_project()
            self.project_path = None
            if failed is not None:
                self.settings.forget_project(str(failed))
                self._save_settings_now()
                self._fill_recent()
            self.show_start_page()
            self.start_page.show_problem(message)
            return
        self.show_error(message)

    def show_start_page(self) -> None:
        self.start_page.set_recent(self.settings.recent_projects)
        self.pages.setCurrentWidget(self.start_page)
        self.dock.hide()
        self.setWindowTitle("Journey Explorer")

    def close_project(self) -> None:
        """Back to the start page; the project's filters and tab are kept in it."""
        self.board.flush_pending_notes()
        if self.project_path is not None and self.explorer.log is not None:
            self.save_project_state()
        self.clear_project()
        self.project_path = self.explorer.project_path = None
        self.project_is_demo = False
        self.show_start_page()

    def open_demo(self) -> None:
        from journey_explorer.demo_project import ensure_demo_project
        self.open_project(ensure_demo_project())

    def reload(self) -> None:
        if self.pages.currentWidget() is not self.loading_page:     # a newly opened project says so there
            self.show_info("Loading the project…")
        early, self.early_load = self.early_load, None        # read once: a later reload reads the file
        if early is not None and early.path == self.project_path:
            self.loader.start(early.result)
        else:
            self.loader.start(load_project_log, self.project_path)
        # A slow load (a big project) hides pyqtgraph's import on a thread of its own, instead of the
        # first chart's import freezing the window after it. A quick one (the demo at start-up) is
        # done before that would help: the thread would only compete with the first view for the GIL.
        QTimer.singleShot(CHART_IMPORT_AFTER_MS, self._import_charts_if_still_loading)

    def _import_charts_if_still_loading(self) -> None:
        if self.loader.busy:
            import_plotting_in_background()

    def _name_paths(self, noun: str) -> None:
        """The Paths box says what a path is: "per case" in a case log, where a session is the whole case
        (as many sessions as cases), so "per session" is no other view of it and is greyed out."""
        self.by.setItemText(PER_PATH, f"per {noun}")
        self.by.model().item(PER_SESSION).setEnabled(noun != "case")
        if noun == "case" and self.by.currentIndex() == PER_SESSION:
            self.by.setCurrentIndex(PER_PATH)

    def _loaded(self, loaded: dict) -> None:
        if loaded.get("path") != str(self.project_path):
            return                       # a project left while it was loading
        self.banner.hide()
        if getattr(self, "pending_info", None):         # said once the project shows it
            self.show_info(self.pending_info)
            self.pending_info = None
        self.pages.setCurrentWidget(self.work_page)
        self.dock.setVisible(not self.settings.presentation)
        info, log = loaded["info"], loaded["log"]
        from journey_explorer.analysis.units import counted
        self.project_label.setText(f"{self.project_path.name}\n{counted(info.users, info.path_noun)} · "
                                   f"{counted(info.events, 'event')}")
        self.sources.clear()
        for source in info.sources:
            self.sources.addItem(f"{Path(source['path']).name} — {source['imported']:,} events ({source['format']})")
        self.segments.clear()
        self.segments.addItems(sorted(loaded["segments"]))
        self.catalog_model.set_frame(loaded["catalog"][["name", "display_name", "hidden", "events", "users"]])
        self.catalog.resizeColumnsToContents()
        self._name_paths(info.path_noun)
        self.fill_goals(log, same_project=loaded.get("path") == self.goal_project)
        self.goal_project = loaded.get("path")
        first = QDate.fromString(str(info.first_time)[:10], "yyyy-MM-dd")
        last = QDate.fromString(str(info.last_time)[:10], "yyyy-MM-dd")
        for edit, date in ((self.since, first), (self.until, last.addDays(1))):
            edit.blockSignals(True)
            edit.setDate(date)
            edit.blockSignals(False)
        opened, saved = self.restore_state, loaded.get("state") if self.restore_state else None
        if saved:
            self.show_saved_filters(saved.get("filters") or {})
        self.restore_state = False
        # The tab first, while no log is set: only the view on screen then computes and draws (the
        # overview, on screen until now, computed and drew at 10M events beside the saved tab's view).
        if saved and saved.get("tab") in self.view_by_key:
            self.show_view(saved["tab"])
        elif saved and saved.get("tab") == "board":
            self.tabs.setCurrentWidget(self.board)
        elif opened:
            self.tabs.setCurrentIndex(0)         # a project opened for the first time starts at the overview
        self.explorer.set_log(log, self.current_filters())
        kept = (saved.get("views") or {}) if saved else {}
        for key in getattr(self, "views_to_reset", set()) - set(kept):
            view = self.view_by_key[key]
            try:
                view.show_spec(view.entry.default_spec(log, self.explorer.filters))
            except (JourneyError, KeyError, ValueError, TypeError):
                continue
            view.refresh()
        self.views_to_reset = set()
        self.restore_view_options(kept)
        self._update_summary()
        # The tracking check and the segment box's completions wait for the first view drawn (or a
        # moment): run beside it they would share its two cores and import pandas (~0.5 s).
        self.pending_checks = (self.project_path, log)
        if self.current_view() is None:           # the board: no view to wait for
            self._start_side_checks()
        else:
            QTimer.singleShot(FIRST_VIEW_GRACE_MS, self._start_side_checks)
        freeze_long_lived()                # the project and the modules loaded with it: out of full collections

    def _start_side_checks(self) -> None:
        pending, self.pending_checks = self.pending_checks, None
        if pending is None or pending[1] is not self.explorer.log:
            return
        self.hygiene.check(*pending)
        self.suggester.start(segment_suggestions, pending[1])
        import_analyses_in_background()       # the other tabs' modules, before they are first shown

    # --- state kept in the project ---------------------------------------------------------------

    def project_state(self) -> dict:
        """What the project remembers of this window: the filters (the goal is kept on its own) and the tab."""
        filters = self.current_filters().to_dict()
        filters.pop("goal", None)
        view = self.current_view()
        return {"filters": filters, "tab": view.key if view is not None else "board", "views": self.view_options()}

    def view_options(self) -> dict:
        """Each view's options (its Spec as JSON) where the user changed them from the view's own
        choice: a view never touched follows the data and the goal when the project opens again."""
        from journey_explorer.state.views import spec_to_dict
        log, options = self.explorer.log, {}
        if log is None:
            return options
        options.update(self.pending_view_options)      # saved, and their tabs not opened since
        for view in self.view_by_key.built():
            spec = view.result_spec          # the options of the chart on screen (None: never shown)
            if spec is None:
                continue
            try:
                if spec == view.entry.default_spec(log, self.explorer.filters):
                    continue
                options[view.key] = spec_to_dict(spec)
            except (JourneyError, KeyError, ValueError, TypeError):
                continue
        return options

    def restore_view_options(self, saved: dict) -> None:
        """Show each view's saved options (the goal always the project's current one); a view whose
        saved options no longer fit the data keeps its own choice."""
        built = {view.key: view for view in self.view_by_key.built()}
        self.pending_view_options = {}
        for key, data in (saved or {}).items():
            if key not in self.view_by_key or not isinstance(data, dict):
                continue
            if key in built:
                self._apply_view_options(built[key], data)
            else:                    # shown when its tab is first opened
                self.pending_view_options[key] = data

    def _apply_view_options(self, view: AnalysisView, data: dict) -> None:
        from dataclasses import fields, replace

        from journey_explorer.state.views import spec_from_dict
        try:
            spec = spec_from_dict(view.key, data)
            if spec is None:
                return
            names = {f.name for f in fields(spec)}
            if "goal" in names:
                spec = replace(spec, goal=self.explorer.filters.goal)
            if "unwanted" in names:          # the goal box's choice: an outcome to avoid
                spec = replace(spec, unwanted=self.explorer.filters.goal_unwanted())
            view.show_spec(spec)
        except (JourneyError, KeyError, ValueError, TypeError):
            return
        view.refresh()

    def save_project_state(self) -> None:
        """Keep the filters and tab in the project (not in the read-only demo, which opens as built)."""
        if self.project_path is None or self.project_is_demo:
            return
        try:
            with Project.open(self.project_path) as project:
                project.set_setting(STATE_SETTING, self.project_state())
        except JourneyError as exc:       # e.g. another program holds the project: not worth a dialog
            self.show_error(f"The filters and tab could not be kept in the project: {exc}")

    def show_saved_filters(self, saved: dict) -> None:
        """Set the filter bar to a project's saved filters, without recomputing for each control."""
        filters = FilterState.from_dict(saved)
        widgets = (self.use_since, self.since, self.use_until, self.until, self.segment, self.match, self.by)
        for widget in widgets:
            widget.blockSignals(True)
        for check, edit, value in ((self.use_since, self.since, filters.since),
                                   (self.use_until, self.until, filters.until)):
            check.setChecked(bool(value))
            edit.setEnabled(bool(value))
            if value:
                edit.setDate(QDate.fromString(value[:10], "yyyy-MM-dd"))
        self.segment.setText(" & ".join(filters.segment))
        self.match.setCurrentIndex(max(self.match.findData(filters.match), 0))
        self.by.setCurrentIndex(PER_SESSION if filters.by == "session" else PER_PATH)
        for widget in widgets:
            widget.blockSignals(False)
        self.show_goal_avoided(filters.avoid_goal)

    # --- banners and failed views --------------------------------------------------------------

    def show_info(self, message: str) -> None:
        """An information line that goes away after a few seconds (none while presenting)."""
        if self.settings.presentation:
            return
        self.banner.show_info(message)
        self.info_timer.start()

    def show_error(self, message: str) -> None:
        """An error line that stays until the next successful action (shown even while presenting)."""
        self.info_timer.stop()
        self.banner.show_error(message)

    def show_failed(self, view: AnalysisView) -> None:
        """A view whose compute failed shows its message instead of a chart that no longer matches."""
        view.set_chart_visible(False)
        view.model.clear()

    def view_drawn(self, view: AnalysisView) -> None:
        failed = view.banner.is_error and not view.banner.isHidden()
        view.set_chart_visible(not failed)
        if failed:
            self.show_failed(view)
        elif self.banner.is_error:
            self.banner.hide()           # the next successful action clears an old error

    def _update_summary(self, *_) -> None:
        """Presentation mode's one line: project, filters and goal."""
        if self.project_path is None:
            return
        filters = self.current_filters()
        goal = (f" · {'outcome to avoid' if filters.goal_unwanted() else 'goal'}: {filters.goal}" if filters.goal
                else "")
        from journey_explorer.analysis.units import path_words
        described = filters.describe(paths=path_words(self.explorer.log))
        self.filter_summary.setText(f"{self.project_path.stem} · {described}{goal}")

    def compare_periods(self, period_a: str, period_b: str) -> None:
        """Compare period A with period B (e.g. before a change and its window) on the Compare tab."""
        self.view("compare").set_periods((period_a, period_b))
        self.show_view("compare")

    def set_segment(self, condition: str, match: str | None = None) -> None:
        """Set the segment box to one condition ("property=value"), for every view; ``match`` ("first"
        or "any") also sets which of a path's values counts."""
        self.segment.setText(condition)
        if match is not None and self.match.findData(match) >= 0:
            self.match.blockSignals(True)          # one recompute, below
            self.match.setCurrentIndex(self.match.findData(match))
            self.match.blockSignals(False)
        self.filters_changed()
        self.show_info(f"Showing the segment {condition} (clear the segment box to see everyone again).")

    def _save_settings_now(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:             # a read-only home: the app works on, without its memory
            self.show_error(f"Settings could not be saved ({exc.strerror or exc}); recent projects will "
                            f"not be remembered.")

    def set_time_window(self, since: str, until: str) -> None:
        """Set the filter bar's dates to [since, until) (until exclusive, as the filter reads it)."""
        widgets = (self.use_since, self.since, self.use_until, self.until)
        for widget in widgets:
            widget.blockSignals(True)
        self.use_since.setChecked(True)
        self.use_until.setChecked(True)
        self.since.setEnabled(True)
        self.until.setEnabled(True)
        self.since.setDate(QDate.fromString(since[:10], "yyyy-MM-dd"))
        self.until.setDate(QDate.fromString(until[:10], "yyyy-MM-dd"))
        for widget in widgets:
            widget.blockSignals(False)
        self.filters_changed()
        self.show_info(f"Showing {since} until {until} (untick From and until to see all dates again).")

    def fill_goals(self, log, same_project: bool) -> None:
        """The goal picker: events by how many paths reach them, with their counts. Selected: the
        choice kept in the project, else the structural guess marked "(guessed)" -- never simply the
        first name in the list. A reload of the same project (after a catalog edit) keeps the choice."""
        from journey_explorer.analysis.goals import goal_reach, guess_goal  # not via narrative: ~0.08 s of imports
        from journey_explorer.analysis.units import counted
        current = self.goal.currentData() if same_project else None
        stored = log.default_goal if log.default_goal in log.event_names else None
        try:
            guessed = None if stored else guess_goal(log)
        except JourneyError:          # no events to guess from (a project whose import failed)
            guessed = None
        chosen = current if current in log.event_names else stored or guessed
        # The same goal of the same project keeps its "to avoid" choice; another goal follows its name.
        avoid = self.avoid_goal.isChecked() if current is not None and chosen == current else None
        reach = goal_reach(log)
        self.goal.blockSignals(True)
        self.goal.clear()
        for code in sorted(range(len(log.event_names)), key=lambda c: (-reach[c], log.event_names[c])):
            name = log.event_names[code]
            mark = " (guessed)" if name == guessed else ""
            self.goal.addItem(f"{name}{mark} — {counted(reach[code], log.path_noun)}", name)
        self.goal.setCurrentIndex(max(self.goal.findData(chosen), 0))
        self.goal.blockSignals(False)
        self.show_goal_avoided(avoid)

    def fill_segment_suggestions(self, log) -> None:
        """The segment box's completions: saved segments, property=value for top values, did/did not EVENT."""
        self.segment_completer.set_suggestions(segment_suggestions(log)[1])

    def _suggestions_ready(self, done: tuple) -> None:
        log, suggestions = done
        if log is self.explorer.log:               # not a project left meanwhile
            self.segment_completer.set_suggestions(suggestions)

    def goal_chosen(self, index: int) -> None:
        """The user picked a goal: keep it in the project (restored on reopen) and drop the guess mark."""
        name = self.goal.itemData(index)
        if not name or self.project_path is None:
            return
        try:
            with Project.open(self.project_path) as project:
                project.default_goal = name
        except JourneyError as exc:
            self.show_error(f"The goal could not be kept in the project: {exc}")
            return
        guessed = self.goal.findText(" (guessed)", Qt.MatchFlag.MatchContains)
        if guessed >= 0:
            self.goal.setItemText(guessed, self.goal.itemText(guessed).replace(" (guessed)", "", 1))

    def goal_changed(self, *_) -> None:
        """Another goal: whether it is to avoid follows its name again (a cancellation is), then the views."""
        self.show_goal_avoided(None)
        self.filters_changed()

    def show_goal_avoided(self, avoid: bool | None) -> None:
        """Tick "to avoid" as chosen (``avoid``), else as the goal's name says; no recomputing."""
        from journey_explorer.analysis.goals import goal_is_unwanted
        self.avoid_goal.blockSignals(True)
        self.avoid_goal.setChecked(goal_is_unwanted(self.goal.currentData(), avoid))
        self.avoid_goal.blockSignals(False)

    def current_filters(self) -> FilterState:
        from journey_explorer.analysis.goals import goal_is_unwanted
        segment = tuple(part.strip() for part in self.segment.text().split("&") if part.strip())
        goal = self.goal.currentData() or None
        # Kept only when it differs from what the goal's name says: a saved choice, not a copy of the default.
        avoid = self.avoid_goal.isChecked()
        return FilterState(
            since=self.since.date().toString("yyyy-MM-dd") if self.use_since.isChecked() else None,
            until=self.until.date().toString("yyyy-MM-dd") if self.use_until.isChecked() else None,
            segment=segment, goal=goal, avoid_goal=None if avoid == goal_is_unwanted(goal) else avoid,
            by="session" if self.by.currentIndex() == PER_SESSION else "user",
            match=self.match.currentData() or "first")

    def filters_changed(self, *_) -> None:
        if self.explorer.log is not None:
            self.explorer.set_filters(self.current_filters())
            self._update_summary()

    def catalog_menu(self, position) -> None:
        index = self.catalog.indexAt(position)
        if not index.isValid():
            return
        row = self.catalog_model.frame.iloc[index.row()]
        menu = QMenu(self)
        menu.addAction("Rename or merge…", lambda: self.rename_event(row["name"], row["display_name"]))
        menu.addAction("Show" if row["hidden"] else "Hide",
                       lambda: self.undo.push(CatalogEdit(self, row["name"], "hide", row["hidden"], not row["hidden"])))
        menu.addAction("Group events matching a pattern…", lambda: self.add_group_rule(row["name"]))
        menu.addAction("Name by a property…", lambda: self.name_by_property(row["display_name"] or row["name"]))
        menu.popup(self.catalog.viewport().mapToGlobal(position))
        self._menu = menu

    def _show_tracking_count(self, count: int) -> None:
        self.catalog_tabs.setTabText(1, f"Checks ({count})" if count else "Checks")

    def name_by_property(self, event: str) -> None:
        """Ask which event property names ``event`` ("page_view: Pricing"), or none (its plain name)."""
        from PySide6.QtWidgets import QInputDialog
        plain = "(its plain name)"
        with Project.open(self.project_path) as project:
            names, current = project.event_property_names(), project.event_detail_rules().get(event)
            shown = project.shown_event_names()
        if event not in shown:
            self.show_error(f"'{event}' is shown as part of a group (a grouping rule): name the group's events "
                            "by a property from the group's row instead.")
            return
        if not names:
            self.show_info("This project's events carry no properties to name them by.")
            return
        choices = [plain, *names]
        chosen, ok = QInputDialog.getItem(self, "Name by a property", f"Name each {event} event by:", choices,
                                          choices.index(current) if current in choices else 0, False)
        if ok and chosen != (current or plain):
            self.undo.push(EventDetailEdit(self, event, None if chosen == plain else chosen))

    def name_event_by(self, event: str, prop: str) -> None:
        """Name ``event`` by ``prop`` in every view: one undo step."""
        self.undo.push(EventDetailEdit(self, event, prop))
        self.show_info(f"{event} is now named by its {prop} (Ctrl+Z undoes it).")

    def merge_suggestion(self, suggestion) -> None:
        """Merge a suggested group of names into its target: one undo step renaming every stored
        name behind them (a grouping rule's names cannot be merged here, and say so). A suggestion
        to name an event by a property (``store.event_detail``) is one undo step too."""
        from journey_explorer.store.event_detail import Suggestion as NamingSuggestion
        if isinstance(suggestion, NamingSuggestion):
            self.name_event_by(suggestion.event, suggestion.property)
            return
        from journey_explorer.analysis.hygiene import stored_names
        catalog = self.catalog_model.frame
        stored = {shown: stored_names(catalog, shown) for shown in suggestion.names}
        missing = [shown for shown, names in stored.items() if not names]
        if missing:
            self.show_error(f"'{missing[0]}' comes from a grouping rule or from naming an event by a property: "
                            "change that rule instead.")
            return
        display = catalog.set_index("name")["display_name"].to_dict()
        self.banner.hide()               # a step that fails says so here (ProjectEdit)
        self.undo.beginMacro(f"merge {' + '.join(suggestion.names)} into {suggestion.target}")
        for name in sorted({n for names in stored.values() for n in names}):
            if display[name] != suggestion.target:
                self.undo.push(CatalogEdit(self, name, "rename", display[name], suggestion.target))
        self.undo.endMacro()
        merged = self.undo.command(self.undo.index() - 1)
        if merged is not None and merged.childCount() == 0:      # every rename failed (and said why)
            merged.setObsolete(True)
            self.undo.undo()             # an obsolete step is dropped, not kept as an empty "merge"
        if self.banner.isHidden():
            self.show_info(f"Merged {' + '.join(suggestion.names)} into {suggestion.target} (Ctrl+Z undoes it).")

    def add_group_rule(self, example: str) -> None:
        pattern, ok = ask_text(self, "Group events", "Regular expression (e.g. ^product_):",
                               text=f"^{example}")
        if not ok or not pattern:
            return
        group, ok = ask_text(self, "Group events", f"Show events matching {pattern} as:")
        if ok and group:
            try:
                self.undo.push(GroupRuleEdit(self, pattern, group))
            except JourneyError as exc:
                self.show_error(str(exc))

    def rename_event(self, name: str, shown: str) -> None:
        new, ok = ask_text(self, "Rename or merge",
                           f"Show '{name}' as (an existing name merges the two):", text=shown)
        if ok and new and new != shown:
            self.undo.push(CatalogEdit(self, name, "rename", shown, new))

    # --- files --------------------------------------------------------------------------------

    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self.settings.last_folder,
                                              "Journey projects (*.journey)")
        if path:
            self.open_project(Path(path))

    def import_file(self, file_path: str | None = None) -> None:
        """Import into the open project (Ctrl+I); a file dropped or chosen from the start page asks
        where it goes first (``import_new_file``). The built-in demo is never the target."""
        if file_path or self.project_path is None or self.project_is_demo:
            if not file_path:
                self.new_project_from_file()
            else:
                self.import_new_file(file_path)
            return
        self.run_import_wizard(self.project_path, file_path)

    def run_import_wizard(self, project_path: Path, file_path: str | None, is_new: bool = False) -> None:
        """Import into ``project_path``; a new project opens once its events are in (and is removed
        again if the wizard is cancelled before importing anything)."""
        from journey_explorer.store.import_undo import discard_undo, prepare_undo
        from journey_explorer.ui.import_wizard import ImportWizard
        wizard = ImportWizard(project_path, file_path, self)
        screen = self.screen().availableGeometry()       # its buttons stay on a 1280×720 projector
        wizard.resize(min(wizard.width(), screen.width() - 40), min(wizard.height(), screen.height() - 60))
        if is_new:
            wizard.imported.connect(lambda: self.open_project(Path(project_path)))
            wizard.rejected.connect(lambda: self._remove_if_empty(Path(project_path)))
        else:
            try:              # what "Undo import of <file>" puts back
                prepare_undo(project_path)
            except (JourneyError, OSError) as exc:
                discard_undo(project_path)
                self.show_error(f"This import cannot be undone (no snapshot of the project: {exc}).")
            wizard.imported.connect(lambda: self._imported_into_open_project(wizard))
            wizard.rejected.connect(self.update_undo_import)
        wizard.open()
        self._wizard = wizard

    def _imported_into_open_project(self, wizard) -> None:
        """Keep the import's undo and offer it on the summary page, then show the new events."""
        from PySide6.QtWidgets import QPushButton

        from journey_explorer.store.import_undo import seal_undo
        summary = wizard.progress_page.summary
        file_name = Path(summary.file).name if summary is not None else "the file"
        try:
            sealed = seal_undo(wizard.project_path, file_name)
        except (JourneyError, OSError):
            sealed = False
        if sealed:
            button = QPushButton(f"Undo import of {file_name}")
            button.setToolTip("Put the project back as it was before this import (also in the Edit menu)")

            def undo_and_close() -> None:
                if self.undo_last_import():
                    wizard.accept()
            button.clicked.connect(undo_and_close)
            wizard.summary_page.layout().addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)   # as wide as its text
            wizard.undo_button = button
        self.update_undo_import()
        self.reload()

    def update_undo_import(self) -> None:
        """The Edit menu's "Undo import of <file>": enabled while the project is unchanged since it."""
        from journey_explorer.store.import_undo import undoable_import
        name = undoable_import(self.project_path) if not self.project_is_demo else None
        self.undo_import_action.setText(f"Undo import of {name}" if name else "Undo import")
        self.undo_import_action.setEnabled(name is not None)

    def undo_last_import(self) -> bool:
        """Restore the project as it was before its last import (refused once it changed since)."""
        from journey_explorer.store.import_undo import undo_import
        if self.project_path is None:
            return False
        self.board.flush_pending_notes()
        try:
            name = undo_import(self.project_path)
        except JourneyError as exc:
            self.show_error(str(exc))
            self.update_undo_import()
            return False
        self.update_undo_import()
        self.pending_info = f"Undid the import of {name}: the project is as it was before it."
        self.reload()
        return True

    def _remove_if_empty(self, path: Path) -> None:
        try:
            with Project.open(path) as project:
                empty = not project.sources()
        except JourneyError:
            return
        if empty:
            path.unlink(missing_ok=True)

    def new_project_from_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "New project from file", self.settings.last_folder,
                                              "Event files (*.csv *.tsv *.txt *.gz *.zip *.xlsx *.json *.jsonl "
                                              "*.jsonocel *.parquet *.xes);;All files (*)")
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.import_new_file(path)

    def projects_folder(self) -> Path:
        """Where new projects go: beside the latest recent project that is not the demo."""
        from journey_explorer.demo_project import default_demo_path, default_projects_folder
        demo = default_demo_path().resolve()
        for recent in self.settings.recent_projects:
            if Path(recent).exists() and Path(recent).resolve() != demo:
                return Path(recent).parent
        return default_projects_folder()

    def import_target_dialog(self, file_path: str):
        """The dialog asking where ``file_path`` goes (tests answer it without showing it)."""
        from journey_explorer.ui.import_wizard import ImportTargetDialog
        return ImportTargetDialog(file_path, self.projects_folder(), self.project_path, self.project_is_demo, self)

    def import_new_file(self, file_path: str) -> None:
        """Ask: a new project named after the file (default) or the open project; then import."""
        dialog = self.import_target_dialog(file_path)
        if dialog.exec() != dialog.DialogCode.Accepted:
            return
        self.import_into(*dialog.target(), file_path)

    def import_into(self, target: Path, is_new: bool, file_path: str) -> None:
        if is_new:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                Project.create(target).close()
            except (JourneyError, OSError) as exc:
                message_box(self, QMessageBox.Icon.Warning, "New project", str(exc))
                return
        self.run_import_wizard(Path(target), file_path, is_new)

    def view(self, key: str) -> AnalysisView:
        """The view of registry key ``key`` (e.g. "flows")."""
        return self.view_by_key[key]

    def show_view(self, key: str) -> AnalysisView:
        """Bring the view of ``key`` to the front (it computes when first shown) and return it."""
        self.tabs.setCurrentWidget(self.view_by_key[key])
        return self.view_by_key[key]

    def current_view(self) -> AnalysisView | None:
        """The analysis view on screen (None on the Board tab)."""
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, AnalysisView) else None

    def export_view(self) -> None:
        view = self.current_view()
        if view is None:
            self.show_error("Choose a chart to export (the Board exports as a deck).")
            return
        if view.result is None or (view.banner.is_error and not view.banner.isHidden()):   # an old error does not count
            self.show_error(f"The {view.title} view has no chart to export: {view.banner.text() or 'not ready'}")
            return
        suggested = str(Path(self.settings.last_folder or ".") / f"{view.title.lower().replace(' ', '-')}.png")
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {view.title}", suggested, ";;".join(EXPORT_TYPES))
        if path and not Path(path).suffix:
            path += EXPORT_TYPES[chosen] if chosen in EXPORT_TYPES else ".png"    # the type picked in the dialog
        if path:
            try:
                self.export_to(view, path, self.settings.export_width)
            except JourneyError as exc:
                self.show_error(str(exc))
                return
            self.settings.last_folder = str(Path(path).parent)
            self.show_info(f"Exported {view.title} to {path}")

    def export_to(self, view: AnalysisView, path: str | Path, width: int = 1920) -> Path:
        """``view`` as it is set now, drawn again for a slide (presentation theme, 16:9)."""
        from journey_explorer.export.render import ViewRenderer
        spec, filters = view.current_state()
        renderer = ViewRenderer.for_session(self.explorer.session)
        try:
            return renderer.export(view.key, path, spec, filters, width)
        finally:
            renderer.close()

    def copy_chart(self) -> None:
        from PySide6.QtGui import QGuiApplication

        from journey_explorer.export.render import ViewRenderer
        view = self.current_view()
        if view is None or view.result is None:
            return
        spec, filters = view.current_state()
        renderer = ViewRenderer.for_session(self.explorer.session)
        try:
            QGuiApplication.clipboard().setImage(renderer.image(view.key, spec, filters, self.settings.export_width))
        finally:
            renderer.close()
        self.show_info(f"Copied the {view.title} chart to the clipboard")

    def report_dialog(self):
        """The "Create report…" dialog for the current goal and filters (tests drive it unshown)."""
        from journey_explorer.ui.report_dialog import ReportDialog
        self.board.flush_pending_notes()            # the pins' latest notes go into the deck
        return ReportDialog(self)

    def create_report(self) -> None:
        if self.project_path is None or self.explorer.log is None:
            self.show_error("Open a project first: the report answers its questions for its events.")
            return
        dialog = self.report_dialog()
        dialog.written.connect(lambda path: self.show_info(f"Report written to {path}"))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self._report_dialog = dialog

    def pin_current_view(self) -> None:
        view = self.current_view()
        if view is not None:
            self.pin_view(view)

    def pin_view(self, view: AnalysisView) -> None:
        """Store the view's state (not a picture) on the board, titled as its export would be."""
        from journey_explorer.state.views import spec_to_dict
        from journey_explorer.store.board import Pin
        if self.project_path is None or self.explorer.log is None:
            return
        spec, filters = view.current_state()
        title = view.entry.slide_title(filters)
        pin = self.board.add_pin(Pin(view=view.key, title=title, spec=spec_to_dict(spec),
                                     filters=filters.to_dict()))
        self.show_info(f"Pinned '{pin.title}' to the board ({len(self.board.pins)} pins). "
                              "Add your notes on the Board tab.")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.import_new_file(urls[0])

    # --- look -----------------------------------------------------------------------------------

    def apply_theme(self) -> None:
        name = "presentation" if self.settings.presentation else self.settings.theme
        theme = THEMES.get(name, THEMES["light"])
        self.setStyleSheet(stylesheet(theme))
        self.explorer.set_theme(theme)

    def toggle_dark(self, on: bool) -> None:
        self.settings.theme = "dark" if on else "light"
        self.apply_theme()

    def _build_presentation_keys(self) -> None:
        """Esc leaves presentation mode; PgUp/PgDn and the arrows move between views while presenting
        (arrows only then: in normal mode they belong to the focused control)."""
        self.presentation_keys = []
        for keys, slot in ((("Esc",), lambda: self.toggle_presentation(False)),
                           (("PgDown", "Right", "Down"), lambda: self.step_view(1)),
                           (("PgUp", "Left", "Up"), lambda: self.step_view(-1))):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.activated.connect(slot)
                shortcut.setEnabled(False)
                self.presentation_keys.append(shortcut)

    def step_view(self, step: int) -> None:
        """The next (or previous) tab, wrapping around."""
        self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def toggle_presentation(self, on: bool) -> None:
        """Full screen for the projector: large type, light theme; menus, side panel, filter bar (a
        one-line summary stays), tables and banners hidden. F11 or Esc returns to the window as it was."""
        on = bool(on)
        if on and not self.isFullScreen():
            self.normal_geometry = self.geometry()
        self.settings.presentation = on
        self.presentation_action.setChecked(on)
        for shortcut in self.presentation_keys:
            shortcut.setEnabled(on)
        self.menuBar().setVisible(not on)
        self.dock.setVisible(not on and self.pages.currentWidget() is not self.start_page)
        self.filter_bar.setVisible(not on)
        self.filter_summary.setVisible(on)
        self._update_summary()
        if on:
            self.banner.hide()
        for view in self.view_by_key.built():      # and each view built later (_build_view)
            view.table.setVisible(not on)
        self.apply_theme()
        if on:
            self.showFullScreen()
        elif self.isFullScreen():
            self.showNormal()
            if self.normal_geometry is not None:      # back to the size it had, never wider than the screen
                self.setGeometry(self.normal_geometry.intersected(self.screen().availableGeometry()))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        from journey_explorer.store.import_undo import discard_undo
        self.board.flush_pending_notes(wait_seconds=2)   # notes typed in the last moments are kept
        discard_undo(self.project_path)
        self.board.stop_previews()
        if self.project_path is not None and self.explorer.log is not None:
            self.save_project_state()
        if self.isFullScreen():
            self.toggle_presentation(False)     # remember the window, not the full screen
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.settings.presentation = False
        save_settings(self.settings)
        for runner in [self.loader, self.hygiene.runner] + [v.runner for v in self.view_by_key.built()]:
            runner.cancel()
            runner.wait(5000)
        thaw_long_lived()
        super().closeEvent(event)
