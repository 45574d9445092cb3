"""The explorer window: project side panel, a filter bar every view obeys, and the views as tabs."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QDate, QStringListModel, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from journey_explorer.charts.theme import THEMES, stylesheet
from journey_explorer.domain import JourneyError
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import VIEWS
from journey_explorer.store.project import SUFFIX, Project
from journey_explorer.tasks import TaskRunner
from journey_explorer.ui.board import BoardView
from journey_explorer.ui.hygiene_panel import HygienePanel
from journey_explorer.ui.settings import Settings, load_settings, save_settings
from journey_explorer.ui.views import AnalysisView, Explorer, make_view
from journey_explorer.ui.widgets import Banner, FrameModel


def load_project_log(path: Path, progress):
    """Background task: the project's event log and its side-panel facts."""
    with Project.open(path) as project:
        log = project.load_event_log()
        progress(0.7)
        return {"log": log, "info": project.info(), "catalog": project.event_catalog(),
                "segments": project.segments(), "path": str(path)}


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


class CatalogEdit(QUndoCommand):
    """Rename (or merge, by giving an existing name) or hide an event type; undoable."""

    def __init__(self, window: "MainWindow", name: str, field: str, old, new):
        super().__init__(f"{field} {name}")
        self.window, self.name, self.field, self.old, self.new = window, name, field, old, new

    def _apply(self, value) -> None:
        with Project.open(self.window.project_path) as project:
            if self.field == "rename":
                project.rename_event(self.name, value)
            else:
                project.set_hidden(self.name, bool(value))
        self.window.reload()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class GroupRuleEdit(QUndoCommand):
    """Add a regex grouping rule ("^product_" -> "Product Page"); undo restores the previous rules."""

    def __init__(self, window: "MainWindow", pattern: str, group: str):
        super().__init__(f"group {pattern} as {group}")
        self.window, self.pattern, self.group = window, pattern, group
        self.before: list[tuple[str, str]] = []

    def redo(self) -> None:
        with Project.open(self.window.project_path) as project:
            self.before = project.group_rules()
            project.set_group_rules(self.before + [(self.pattern, self.group)])
        self.window.reload()

    def undo(self) -> None:
        with Project.open(self.window.project_path) as project:
            project.set_group_rules(self.before)
        self.window.reload()


EXPORT_WIDTHS = (1280, 1920, 2560, 3840)      # 16:9: HD, full HD (the default), QHD, 4K
EXPORT_TYPES = {"PNG image (*.png)": ".png", "SVG vector (*.svg)": ".svg", "PDF (*.pdf)": ".pdf",
                "CSV table (*.csv)": ".csv", "Excel table (*.xlsx)": ".xlsx"}


class MainWindow(QMainWindow):
    def __init__(self, project_path: Path | None = None, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or load_settings()
        self.project_path = Path(project_path) if project_path else None
        self.explorer = Explorer(self.project_path, THEMES.get(self.settings.theme, THEMES["light"]))
        self.loader = TaskRunner(self)
        self.loader.finished.connect(self._loaded)
        self.loader.failed.connect(lambda message: self.banner.show_error(message))
        self.undo = QUndoStack(self)
        self.goal_project: str | None = None       # the project whose events the goal picker lists
        self.setAcceptDrops(True)
        self._build_menus()
        self._build_central()
        self._build_side_panel()
        self.apply_theme()
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        if self.project_path:
            self.open_project(self.project_path)

    # --- layout -------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New project…", self.new_project, QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open project…", self.choose_project, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Recent projects")
        self._action(file_menu, "&Import file…", self.import_file, "Ctrl+I")
        self._action(file_menu, "&Export current view…", self.export_view, "Ctrl+E")
        self._action(file_menu, "&Copy chart", self.copy_chart, "Ctrl+Shift+C")
        self._action(file_menu, "&Pin chart to board", self.pin_current_view, "Ctrl+B")
        self._build_width_menu(file_menu.addMenu("Export &width"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo.createUndoAction(self, "&Undo"))
        edit_menu.actions()[-1].setShortcut(QKeySequence.StandardKey.Undo)
        edit_menu.addAction(self.undo.createRedoAction(self, "&Redo"))
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
        self.banner = Banner()
        self.tabs = QTabWidget()
        self.views = [make_view(entry, self.explorer) for entry in VIEWS]      # in tab order
        self.view_by_key = {view.key: view for view in self.views}
        for view in self.views:
            self.tabs.addTab(view, view.title)
            view.pin_requested.connect(lambda v=view: self.pin_view(v))
        changes = self.view_by_key.get("changes")
        if changes is not None:          # a story's evidence, one click away
            changes.compare_requested.connect(self.compare_periods)
            changes.window_requested.connect(self.set_time_window)
        self.board = BoardView(self.explorer)
        self.tabs.addTab(self.board, self.board.title)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _build_filter_bar(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.use_since, self.since = QCheckBox("From"), QDateEdit(calendarPopup=True)
        self.use_until, self.until = QCheckBox("until"), QDateEdit(calendarPopup=True)
        for check, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.filters_changed)
            edit.dateChanged.connect(self.filters_changed)
            row.addWidget(check)
            row.addWidget(edit)
        self.segment = QLineEdit()
        self.segment.setPlaceholderText("segment, e.g. channel=Partner Referral")
        self.segment.setClearButtonEnabled(True)
        self.segment.setMinimumWidth(260)
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
        self.goal.setMinimumContentsLength(24)
        self.goal.setToolTip("The event that counts as success; your choice is kept in the project")
        self.goal.currentIndexChanged.connect(self.filters_changed)
        self.goal.activated.connect(self.goal_chosen)
        self.by = QComboBox()
        self.by.addItems(["per user", "per session"])
        self.by.currentTextChanged.connect(self.filters_changed)
        for label, widget in (("Segment", self.segment), (None, self.match), ("Goal", self.goal), ("Paths", self.by)):
            if label:
                row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        return bar

    def _build_side_panel(self) -> None:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        self.project_label = QLabel()
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
        self.hygiene.message.connect(lambda text, error: (self.banner.show_error if error else self.banner.show_info)(text))
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
        self.board.flush_pending_notes()          # notes belong to the project they were typed in
        self.project_path = Path(path)
        self.explorer.project_path = self.project_path
        self.setWindowTitle(f"{self.project_path.name} — Journey Explorer")
        self.settings.remember_project(str(self.project_path))
        self._fill_recent()
        self.reload()

    def reload(self) -> None:
        self.banner.show_info("Loading the project…")
        self.loader.start(load_project_log, self.project_path)

    def _loaded(self, loaded: dict) -> None:
        self.banner.hide()
        info, log = loaded["info"], loaded["log"]
        self.project_label.setText(f"{self.project_path.name}\n{info.users:,} users · {info.events:,} events")
        self.sources.clear()
        for source in info.sources:
            self.sources.addItem(f"{Path(source['path']).name} — {source['imported']:,} events ({source['format']})")
        self.segments.clear()
        self.segments.addItems(sorted(loaded["segments"]))
        self.catalog_model.set_frame(loaded["catalog"][["name", "display_name", "hidden", "events", "users"]])
        self.catalog.resizeColumnsToContents()
        self.fill_goals(log, same_project=loaded.get("path") == self.goal_project)
        self.goal_project = loaded.get("path")
        first = QDate.fromString(str(info.first_time)[:10], "yyyy-MM-dd")
        last = QDate.fromString(str(info.last_time)[:10], "yyyy-MM-dd")
        for edit, date in ((self.since, first), (self.until, last.addDays(1))):
            edit.blockSignals(True)
            edit.setDate(date)
            edit.blockSignals(False)
        self.fill_segment_suggestions(log)
        self.explorer.set_log(log, self.current_filters())
        self.hygiene.check(self.project_path, log)

    def compare_periods(self, period_a: str, period_b: str) -> None:
        """Compare period A with period B (e.g. before a change and its window) on the Compare tab."""
        self.view("compare").set_periods((period_a, period_b))
        self.show_view("compare")

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
        self.banner.show_info(f"Showing {since} until {until} (untick From and until to see all dates again).")

    def fill_goals(self, log, same_project: bool) -> None:
        """The goal picker: events by how many paths reach them, with their counts. Selected: the
        choice kept in the project, else the structural guess marked "(guessed)" -- never simply the
        first name in the list. A reload of the same project (after a catalog edit) keeps the choice."""
        from journey_explorer.analysis.arrays import distinct_count
        from journey_explorer.analysis.narrative import guess_goal
        current = self.goal.currentData() if same_project else None
        stored = log.default_goal if log.default_goal in log.event_names else None
        guessed = None if stored else guess_goal(log)
        chosen = current if current in log.event_names else stored or guessed
        reach = distinct_count(log.event, log.user, len(log.event_names))
        self.goal.blockSignals(True)
        self.goal.clear()
        for code in sorted(range(len(log.event_names)), key=lambda c: (-reach[c], log.event_names[c])):
            name = log.event_names[code]
            mark = " (guessed)" if name == guessed else ""
            self.goal.addItem(f"{name}{mark} — {int(reach[code]):,} users", name)
        self.goal.setCurrentIndex(max(self.goal.findData(chosen), 0))
        self.goal.blockSignals(False)

    def fill_segment_suggestions(self, log) -> None:
        """The segment box's completions: saved segments, property=value for top values, did/did not EVENT."""
        from journey_explorer.analysis.properties import segment_suggestions
        try:
            suggestions = segment_suggestions(log)
        except JourneyError:
            suggestions = []
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
            self.banner.show_error(f"The goal could not be kept in the project: {exc}")
            return
        guessed = self.goal.findText(" (guessed)", Qt.MatchFlag.MatchContains)
        if guessed >= 0:
            self.goal.setItemText(guessed, self.goal.itemText(guessed).replace(" (guessed)", "", 1))

    def current_filters(self) -> FilterState:
        segment = tuple(part.strip() for part in self.segment.text().split("&") if part.strip())
        return FilterState(
            since=self.since.date().toString("yyyy-MM-dd") if self.use_since.isChecked() else None,
            until=self.until.date().toString("yyyy-MM-dd") if self.use_until.isChecked() else None,
            segment=segment, goal=self.goal.currentData() or None,
            by="session" if self.by.currentText() == "per session" else "user",
            match=self.match.currentData() or "first")

    def filters_changed(self, *_) -> None:
        if self.explorer.log is not None:
            self.explorer.set_filters(self.current_filters())

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
        menu.popup(self.catalog.viewport().mapToGlobal(position))
        self._menu = menu

    def _show_tracking_count(self, count: int) -> None:
        self.catalog_tabs.setTabText(1, f"Checks ({count})" if count else "Checks")

    def merge_suggestion(self, suggestion) -> None:
        """Merge a suggested group of names into its target: one undo step renaming every stored
        name behind them (a grouping rule's names cannot be merged here, and say so)."""
        from journey_explorer.analysis.hygiene import stored_names
        catalog = self.catalog_model.frame
        stored = {shown: stored_names(catalog, shown) for shown in suggestion.names}
        missing = [shown for shown, names in stored.items() if not names]
        if missing:
            self.banner.show_error(f"'{missing[0]}' comes from a grouping rule: change the rule instead.")
            return
        display = catalog.set_index("name")["display_name"].to_dict()
        self.undo.beginMacro(f"merge {' + '.join(suggestion.names)} into {suggestion.target}")
        for name in sorted({n for names in stored.values() for n in names}):
            if display[name] != suggestion.target:
                self.undo.push(CatalogEdit(self, name, "rename", display[name], suggestion.target))
        self.undo.endMacro()
        self.banner.show_info(f"Merged {' + '.join(suggestion.names)} into {suggestion.target} (Ctrl+Z undoes it).")

    def add_group_rule(self, example: str) -> None:
        pattern, ok = QInputDialog.getText(self, "Group events", "Regular expression (e.g. ^product_):",
                                           text=f"^{example}")
        if not ok or not pattern:
            return
        group, ok = QInputDialog.getText(self, "Group events", f"Show events matching {pattern} as:")
        if ok and group:
            try:
                self.undo.push(GroupRuleEdit(self, pattern, group))
            except JourneyError as exc:
                self.banner.show_error(str(exc))

    def rename_event(self, name: str, shown: str) -> None:
        new, ok = QInputDialog.getText(self, "Rename or merge",
                                       f"Show '{name}' as (an existing name merges the two):", text=shown)
        if ok and new and new != shown:
            self.undo.push(CatalogEdit(self, name, "rename", shown, new))

    # --- files --------------------------------------------------------------------------------

    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self.settings.last_folder,
                                              "Journey projects (*.journey)")
        if path:
            self.open_project(Path(path))

    def new_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project", self.settings.last_folder,
                                              "Journey projects (*.journey)")
        if path:
            path = path if path.endswith(SUFFIX) else path + SUFFIX
            try:
                Project.create(path).close()
            except JourneyError as exc:
                QMessageBox.warning(self, "New project", str(exc))
                return
            self.open_project(Path(path))
            self.import_file()

    def import_file(self, file_path: str | None = None) -> None:
        from journey_explorer.ui.import_wizard import ImportWizard
        if self.project_path is None:
            self.new_project()
            return
        wizard = ImportWizard(self.project_path, file_path, self)
        wizard.imported.connect(self.reload)
        wizard.open()
        self._wizard = wizard

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
            self.banner.show_error("Choose a chart to export (the Board exports as a deck).")
            return
        if view.result is None or view.banner.is_error:
            self.banner.show_error(f"The {view.title} view has no chart to export: {view.banner.text() or 'not ready'}")
            return
        suggested = str(Path(self.settings.last_folder or ".") / f"{view.title.lower().replace(' ', '-')}.png")
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {view.title}", suggested, ";;".join(EXPORT_TYPES))
        if path and not Path(path).suffix:
            path += EXPORT_TYPES[chosen] if chosen in EXPORT_TYPES else ".png"    # the type picked in the dialog
        if path:
            try:
                self.export_to(view, path, self.settings.export_width)
            except JourneyError as exc:
                self.banner.show_error(str(exc))
                return
            self.settings.last_folder = str(Path(path).parent)
            self.banner.show_info(f"Exported {view.title} to {path}")

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
        self.banner.show_info(f"Copied the {view.title} chart to the clipboard")

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
        self.banner.show_info(f"Pinned '{pin.title}' to the board ({len(self.board.pins)} pins). "
                              "Add your notes on the Board tab.")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.import_file(urls[0])

    # --- look -----------------------------------------------------------------------------------

    def apply_theme(self) -> None:
        name = "presentation" if self.settings.presentation else self.settings.theme
        theme = THEMES.get(name, THEMES["light"])
        self.setStyleSheet(stylesheet(theme))
        self.explorer.set_theme(theme)

    def toggle_dark(self, on: bool) -> None:
        self.settings.theme = "dark" if on else "light"
        self.apply_theme()

    def toggle_presentation(self, on: bool) -> None:
        """Large type, light theme, chrome hidden: for the projector."""
        self.settings.presentation = bool(on)
        self.presentation_action.setChecked(bool(on))
        self.menuBar().setVisible(not on)
        self.dock.setVisible(not on)
        for view in self.views:
            view.table.setVisible(not on)
        self.apply_theme()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.board.flush_pending_notes(wait_seconds=2)   # notes typed in the last moments are kept
        self.board.stop_previews()
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.settings.presentation = False
        save_settings(self.settings)
        for runner in [self.loader, self.hygiene.runner] + [v.runner for v in self.views]:
            runner.cancel()
            runner.wait(5000)
        super().closeEvent(event)
