"""Which views exist and how a view's analysis options travel (board pins, CLI export, reports).

A view's state is its analysis ``Spec`` plus the shared ``FilterState``; both become plain JSON.
Qt-free, so the CLI and the store can use it without a window.
"""
from __future__ import annotations

import importlib
from dataclasses import asdict, fields

# View key -> the analysis module behind it (None: the overview combines several).
VIEW_MODULES: dict[str, str | None] = {
    "overview": None, "flows": "flows", "graph": "graph", "stuck": "stuck", "compare": "compare",
    "funnel": "funnel", "retention": "retention", "lifecycle": "lifecycle", "northstar": "northstar",
}
EXPORTABLE_VIEWS = tuple(VIEW_MODULES)


def analysis_module(view: str):
    name = VIEW_MODULES[view]
    return importlib.import_module(f"journey_explorer.analysis.{name}") if name else None


def spec_to_dict(spec) -> dict:
    """An analysis Spec as JSON-ready values (tuples become lists)."""
    return {} if spec is None else asdict(spec)


def spec_from_dict(view: str, data: dict):
    """The view's Spec from ``spec_to_dict`` output; unknown keys (from newer versions) are ignored."""
    module = analysis_module(view)
    if module is None:
        return None
    known = {f.name for f in fields(module.Spec)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return module.Spec(**values)
