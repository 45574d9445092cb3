"""Chart renderers: one module per chart, named by a view's registry entry (``ViewEntry.chart_name``).

A renderer module holds
- ``make_canvas(theme) -> QWidget``: the surface to draw on (a PlotWidget, tiles over a trend, ...);
- ``render(result, spec, canvas, theme)``: draw an analysis result on it;
- optionally ``table(result, spec) -> DataFrame``: the table shown under the chart (default:
  ``result.to_frame()``), and ``prepare(result, theme) -> result``: geometry that is costly to build,
  run on the worker thread with the analysis (default: nothing).
The on-screen view and the exporter call the same functions, so a slide shows what the screen shows.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Renderer:
    name: str
    make_canvas: Callable
    render: Callable
    table: Callable
    prepare: Callable


def _table(result, spec):
    return result.to_frame()


def _prepare(result, theme):
    return result


def renderer(name: str) -> Renderer:
    """The chart renderer ``journey_explorer.charts.renderers.<name>``, with defaults filled in."""
    module = importlib.import_module(f"{__name__}.{name}")
    return Renderer(name, module.make_canvas, module.render, getattr(module, "table", _table),
                    getattr(module, "prepare", _prepare))
