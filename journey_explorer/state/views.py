"""How a view's analysis options travel (board pins, CLI export, reports).

A view's state is its ``Spec`` plus the shared ``FilterState``; both become plain JSON. Which views
exist is ``state.registry``. Qt-free, so the CLI and the store can use it without a window.
"""
from __future__ import annotations

from dataclasses import asdict, fields

from journey_explorer.state.registry import VIEWS, view

EXPORTABLE_VIEWS = tuple(entry.key for entry in VIEWS)


def analysis_module(key: str):
    """The analysis module behind a view (None for one that combines several, like the overview)."""
    return view(key).module()


def spec_to_dict(spec) -> dict:
    """An analysis Spec as JSON-ready values (tuples become lists)."""
    return {} if spec is None else asdict(spec)


def spec_from_dict(key: str, data: dict):
    """The view's Spec from ``spec_to_dict`` output; unknown keys (from newer versions) are ignored.
    None when there is nothing stored (the view's default options then apply)."""
    if not data:
        return None
    spec_type = view(key).spec_type()
    known = {f.name for f in fields(spec_type)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return spec_type(**values)
