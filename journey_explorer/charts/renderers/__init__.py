"""Chart renderers: one module per chart, named by a view's registry entry (``ViewEntry.chart_name``).

A renderer module holds
- ``make_canvas(theme) -> QWidget``: the surface to draw on (a PlotWidget, tiles over a trend, ...);
- ``render(result, spec, canvas, theme)``: draw an analysis result on it. A chart of several parts
  (two plots) is a generator that ``yield``s between them, decorated ``@in_parts``: the window then
  draws one part per turn of its event loop (``Renderer.steps``), never freezing for the whole
  chart; a call of ``render`` (exports, tests) still draws it all;
- optionally ``table(result, spec) -> DataFrame``: the table shown under the chart (default:
  ``result.to_frame()``), and ``prepare(result, theme) -> result``: geometry that is costly to build,
  run on the worker thread with the analysis (default: nothing).
The on-screen view and the exporter call the same functions, so a slide shows what the screen shows.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Callable, Iterator


@dataclass(frozen=True)
class Renderer:
    name: str
    make_canvas: Callable
    draw: Callable            # the module's ``render``
    table: Callable
    prepare: Callable

    def render(self, result, spec, canvas, theme) -> None:
        """Draw the whole chart now (exports, pins, a redraw after a resize)."""
        for _ in self.steps(result, spec, canvas, theme):
            pass

    def steps(self, result, spec, canvas, theme) -> Iterator[None]:
        """Draw the chart a part at a time: each ``next()`` draws one part (one for a plain ``render``)."""
        parts = getattr(self.draw, "parts", None)
        if parts is None:
            self.draw(result, spec, canvas, theme)
        else:
            yield from parts(result, spec, canvas, theme)


def in_parts(parts: Callable[..., Iterator[None]]) -> Callable[..., None]:
    """A renderer's ``render`` written as a generator that yields between the chart's parts: called,
    it draws every part; ``Renderer.steps`` draws one part per ``next()`` (``render.parts``)."""
    @functools.wraps(parts)
    def render(result, spec, canvas, theme) -> None:
        for _ in parts(result, spec, canvas, theme):
            pass

    render.parts = parts
    return render


def _table(result, spec):
    return result.to_frame()


def _prepare(result, theme):
    return result


def renderer(name: str) -> Renderer:
    """The chart renderer ``journey_explorer.charts.renderers.<name>``, with defaults filled in."""
    module = importlib.import_module(f"{__name__}.{name}")
    return Renderer(name, module.make_canvas, module.render, getattr(module, "table", _table),
                    getattr(module, "prepare", _prepare))
