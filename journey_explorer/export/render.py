"""Draw any view off screen, in the presentation theme, for exports, board pins and reports.

No widget from ``ui``: a view is its registry entry (analysis + default options) and its chart
renderer, the same functions the window's views call -- so an exported chart shows exactly the
numbers on screen; only the theme (white, large type) and the size (a 16:9 slide) differ.
"""
from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from journey_explorer.analysis.units import counted, path_words, utc_date
from journey_explorer.charts.renderers import renderer as chart_renderer
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.export.files import IMAGE_SUFFIXES, TABLE_SUFFIXES
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import ViewEntry, view
from journey_explorer.state.session import Session

CANVAS_SIZE = (1280, 720)         # charts are laid out at this size, then scaled to the slide


def ensure_qt_app():
    """The running QApplication, or an offscreen one for the command line."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        quiet_offscreen_warnings()
        app = QApplication(["journey-explorer"])
    return app


def quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about window hints it ignores; keep the command line's output clean."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def compute_view(session: Session, entry: ViewEntry, spec, filters: FilterState, theme, progress=None):
    """The view's result for ``filters`` (any thread): filter, analyse, and the chart's costly geometry.
    ``progress(fraction)`` is passed to the analysis, which reports through it and stops when it raises."""
    filtered = session.filtered(filters)
    if len(filtered) == 0:
        raise JourneyError("No events match the filters.")
    result = entry.run(filtered, spec, progress)
    if hasattr(result, "__dict__"):        # what a path is, for the chart's words ("sessions", "cases")
        result.path_unit = path_words(filtered)
    return chart_renderer(entry.chart_name).prepare(result, theme)


def caption_for(session: Session, entry: ViewEntry, filters: FilterState, title: str | None = None):
    """Title, subtitle (filters, date range, paths) and source line for an exported chart."""
    from journey_explorer.export.images import Caption
    if title is None:
        title = entry.slide_title(filters)
    parts = [filters.describe(with_dates=False, paths=path_words(session.log))]     # the dates follow
    shown = session.filtered(filters) if session.log is not None else None
    if shown is not None and len(shown):
        first, last = utc_date(shown.ts.min()), utc_date(shown.ts.max())
        parts += [f"{first} – {last}", counted(shown.paths_count, shown.path_noun)]
    source = f"Source: {session.source_label()} · Journey Explorer · {date.today()}"
    return Caption(title=title, subtitle=" · ".join(parts), source=source)


class ViewRenderer:
    """Draws views of one event log on demand; ``close()`` when done."""

    def __init__(self, log: EventLog, project_path: Path | None, source_name: str | None = None):
        """``source_name``: what the source line names (default: the project file's name)."""
        ensure_qt_app()
        from journey_explorer.charts.theme import PRESENTATION
        self.theme = PRESENTATION
        self.session = Session(Path(project_path) if project_path else None, log, source_name=source_name)
        self._canvases = []

    @classmethod
    def for_session(cls, session: Session) -> "ViewRenderer":
        """A renderer sharing the window's session (its filtered log is not filtered again)."""
        renderer = cls(session.log, session.project_path, session.source_name)
        renderer.session = session
        return renderer

    def resolve(self, key: str, spec=None, filters: FilterState | None = None):
        """The entry, the spec (``None``: the view's defaults for this data) and the filters."""
        entry = view(key)
        filters = filters or self.session.default_filters()
        return entry, (spec if spec is not None else entry.default_spec(self.session.log, filters)), filters

    def default_spec(self, key: str, filters: FilterState | None = None):
        """The analysis options the view chooses by itself for this data (e.g. a funnel's steps)."""
        return self.resolve(key, None, filters)[1]

    def compute(self, key: str, spec=None, filters: FilterState | None = None):
        """The view's result (no widget: safe on a worker thread)."""
        entry, spec, filters = self.resolve(key, spec, filters)
        return compute_view(self.session, entry, spec, filters, self.theme)

    def draw(self, key: str, spec=None, filters: FilterState | None = None, result=None):
        """A hidden canvas with the view's chart drawn on it (``close`` or ``discard`` releases it)."""
        from PySide6.QtCore import Qt

        from journey_explorer.charts.theme import stylesheet
        entry, spec, filters = self.resolve(key, spec, filters)
        if result is None:
            result = compute_view(self.session, entry, spec, filters, self.theme)
        chart = chart_renderer(entry.chart_name)
        canvas = chart.make_canvas(self.theme)
        canvas.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self._canvases.append(canvas)
        canvas.setStyleSheet(stylesheet(self.theme))      # tiles and labels in slide type too
        canvas.resize(*CANVAS_SIZE)
        canvas.show()
        try:
            chart.render(result, spec, canvas, self.theme)
        except BaseException:
            self.discard(canvas)
            raise
        return canvas, result

    def caption(self, key: str, filters: FilterState | None = None, title: str | None = None):
        return caption_for(self.session, view(key), filters or self.session.default_filters(), title)

    def image(self, key: str, spec=None, filters: FilterState | None = None, width: int = 1920,
              title: str | None = None, result=None):
        """One view as a slide-shaped QImage (board thumbnails, decks, the clipboard)."""
        from journey_explorer.export.images import to_image
        canvas, _ = self.draw(key, spec, filters, result)
        try:
            return to_image(canvas, self.caption(key, filters, title), width)
        finally:
            self.discard(canvas)

    def export(self, key: str, path: str | Path, spec=None, filters: FilterState | None = None,
               width: int = 1920, title: str | None = None) -> Path:
        """One view to PNG/SVG/PDF (the chart with its caption) or CSV/XLSX (its table)."""
        from journey_explorer.export.images import export_widget
        from journey_explorer.export.tables import write_table
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in TABLE_SUFFIXES + IMAGE_SUFFIXES:
            raise JourneyError(f"Cannot export to '{path.name}': use .png, .svg, .pdf, .csv or .xlsx")
        entry, spec, filters = self.resolve(key, spec, filters)
        if suffix in TABLE_SUFFIXES:
            result = self.compute(key, spec, filters)
            # The analysis' own table, exactly as the command line's --csv writes it.
            frame = result.to_frame() if hasattr(result, "to_frame") else \
                chart_renderer(entry.chart_name).table(result, spec)
            if hasattr(frame, "to_frame"):           # analysis.columns.Columns (the Overview's table)
                frame = frame.to_frame()
            return write_table(frame, path)
        canvas, _ = self.draw(key, spec, filters)
        try:
            return export_widget(canvas, path, self.caption(key, filters, title), width)
        finally:
            self.discard(canvas)

    def discard(self, canvas) -> None:
        if canvas in self._canvases:
            self._canvases.remove(canvas)
        canvas.hide()
        canvas.deleteLater()

    def close(self) -> None:
        for canvas in list(self._canvases):
            self.discard(canvas)
