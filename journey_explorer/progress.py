"""Progress and cancel for long analyses, without Qt (Orange's ``TaskState`` idea).

An analysis' ``run(log, spec, progress=None)`` calls ``progress(fraction)`` inside its long loops.
The window passes a reporter that raises ``Cancelled`` once nobody wants the result (a newer compute
started), so a stale compute stops at its next report instead of running to the end; the CLI passes
nothing. ``report`` below is the one-liner analyses use.
"""
from __future__ import annotations

from typing import Callable


class Cancelled(Exception):
    """Raised inside a computation whose result nobody wants any more; the worker drops it silently."""


def report(progress: Callable[[float], None] | None, fraction: float) -> None:
    """Tell ``progress`` how far the work is (0..1), if anyone listens; it may raise ``Cancelled``.

    >>> report(None, 0.5)
    >>> seen = []
    >>> report(seen.append, 0.25); seen
    [0.25]
    """
    if progress is not None:
        progress(fraction)


def part(progress: Callable[[float], None] | None, start: float, end: float):
    """A reporter for one stage of a longer run: its 0..1 maps onto ``start``..``end``.

    >>> seen = []
    >>> part(seen.append, 0.5, 0.9)(0.5); seen
    [0.7]
    """
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * fraction)
