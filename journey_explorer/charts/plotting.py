"""pyqtgraph as every chart uses it, configured once: chart modules import ``pg`` from here.

Only modules that draw import it, when first needed: pyqtgraph's import is ~0.3-0.5 s (it loads all
of its items and copies every class of Qt's modules), and the window shows before it (issue 16).
"""
from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True)

__all__ = ["pg", "plot_widget"]


def plot_widget(**options) -> pg.PlotWidget:
    """A PlotWidget without the view's right-click menu: every chart turns it off when drawing
    (``basic._reset``), and building it first was a quarter of a plot's cost (~4 of 15 ms, on the GUI
    thread, for each plot of each view opened)."""
    return pg.PlotWidget(enableMenu=False, **options)
