"""The explorer's views, one module per view with option controls (``ui/views/<key>.py``, whose
``VIEW_CLASS`` is the widget); a view without options is a plain ``AnalysisView`` of its registry
entry. ``make_view`` builds any view from ``state.registry``."""
from __future__ import annotations

import importlib

from journey_explorer.state.registry import ViewEntry
from journey_explorer.ui.views.base import AnalysisView, Explorer

__all__ = ["AnalysisView", "Explorer", "make_view", "view_class"]


def view_class(entry: ViewEntry) -> type[AnalysisView]:
    """The widget class of a view: its own module's ``VIEW_CLASS``, else the plain ``AnalysisView``."""
    name = f"{__name__}.{entry.key}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise                     # a module the view imports is missing: a real error
        return AnalysisView
    return module.VIEW_CLASS


def make_view(entry: ViewEntry, explorer: Explorer) -> AnalysisView:
    return view_class(entry)(entry, explorer)
