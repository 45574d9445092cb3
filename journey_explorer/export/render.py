"""Draw any view off screen, in the presentation theme, for exports, board pins and reports.

The window's views and this renderer are the same classes computing through the same analysis
functions, so an exported chart shows exactly the numbers on screen -- only the theme (white, large
type) and the size (a 16:9 slide) differ.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.domain import JourneyError
from journey_explorer.export.files import IMAGE_SUFFIXES, TABLE_SUFFIXES
from journey_explorer.state.filters import FilterState


def ensure_qt_app():
    """The running QApplication, or an offscreen one for the command line."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _quiet_offscreen_warnings()
        app = QApplication(["journey-explorer"])
    return app


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about window hints it ignores; keep the command line's output clean."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


class ViewRenderer:
    """Draws views of one event log on demand; ``close()`` when done."""

    def __init__(self, log: EventLog, project_path: Path | None, source_name: str | None = None):
        """``source_name``: what the source line names (default: the project file's name)."""
        ensure_qt_app()
        from journey_explorer.charts.theme import PRESENTATION
        from journey_explorer.ui.views import Explorer
        self.explorer = Explorer(Path(project_path) if project_path else None, PRESENTATION)
        self.explorer.log = log
        self.explorer.source_name = source_name
        self._views = []

    def draw(self, key: str, spec=None, filters: FilterState | None = None):
        """A computed, drawn view (hidden); ``spec`` None means the view's defaults."""
        view = self.prepare(key, filters)
        try:
            view.draw_now(spec)
        except BaseException:
            self.discard(view)
            raise
        return view

    def prepare(self, key: str, filters: FilterState | None = None):
        """The view built and sized for a slide, not yet computed (``draw`` does both; the board
        computes on a worker thread in between and finishes with ``finish_image``)."""
        from journey_explorer.charts.theme import PRESENTATION
        from journey_explorer.ui.views import VIEW_BY_KEY
        from journey_explorer.ui.widgets import stylesheet
        if key not in VIEW_BY_KEY:
            raise JourneyError(f"Unknown view '{key}' (choose from {', '.join(VIEW_BY_KEY)})")
        self.explorer.filters = filters or self._default_filters()
        view = VIEW_BY_KEY[key](self.explorer, headless=True)
        view.chart.setStyleSheet(stylesheet(PRESENTATION))      # tiles and labels in slide type too
        view.chart.resize(1280, 720)
        view.chart.show()
        self._views.append(view)
        return view

    def default_spec(self, key: str, filters: FilterState | None = None):
        """The analysis options the view chooses by itself for this data (e.g. a funnel's steps)."""
        view = self.prepare(key, filters)
        try:
            return view.current_spec(self.explorer.log)
        finally:
            self.discard(view)

    def finish_image(self, view, result, width: int = 1920, title: str | None = None):
        """Draw a result computed for ``view`` and return the slide-shaped QImage."""
        from journey_explorer.export.images import to_image
        view.result = result
        view.render(result)
        return to_image(view.chart, view.caption(title), width)

    def export(self, key: str, path: str | Path, spec=None, filters: FilterState | None = None,
               width: int = 1920, title: str | None = None) -> Path:
        """One view to PNG/SVG/PDF (the chart with its caption) or CSV/XLSX (its table)."""
        from journey_explorer.export.images import export_widget
        from journey_explorer.export.tables import write_table
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in TABLE_SUFFIXES + IMAGE_SUFFIXES:
            raise JourneyError(f"Cannot export to '{path.name}': use .png, .svg, .pdf, .csv or .xlsx")
        view = self.draw(key, spec, filters)
        try:
            if suffix in TABLE_SUFFIXES:
                # The analysis' own table, exactly as the command line's --csv writes it.
                frame = view.result.to_frame() if hasattr(view.result, "to_frame") else view.model.frame
                return write_table(frame, path)
            return export_widget(view.chart, path, view.caption(title), width)
        finally:
            self.discard(view)

    def image(self, key: str, spec=None, filters: FilterState | None = None, width: int = 1920,
              title: str | None = None):
        """One view as a slide-shaped QImage (board thumbnails, decks, the clipboard)."""
        from journey_explorer.export.images import to_image
        view = self.draw(key, spec, filters)
        try:
            return to_image(view.chart, view.caption(title), width)
        finally:
            self.discard(view)

    def discard(self, view) -> None:
        if view in self._views:
            self._views.remove(view)
        view.chart.hide()
        view.chart.deleteLater()
        view.deleteLater()

    def close(self) -> None:
        for view in list(self._views):
            self.discard(view)

    def _default_filters(self) -> FilterState:
        log = self.explorer.log
        goal = log.default_goal if log is not None and log.default_goal in log.event_names else None
        return FilterState(goal=goal)
