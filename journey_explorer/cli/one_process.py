"""Settings for a command's one short process, made before anything imports numpy
(``cli/__init__`` imports this module first).

numpy's OpenBLAS starts a thread per core when numpy is imported (measured 10-60 ms of a command's
~0.3 s start on 2 shared cores); no command multiplies matrices large enough to gain from them. A
value the user set wins. The app, which starts without the CLI module (``journey_explorer.__main__``),
keeps its threads.

Loading the modules makes ~30,000 objects that live as long as the process, and the garbage
collector's passes over them are wasted: while they load (a young-object pass every 700 allocations,
~10 ms in all), in every full pass of the command, and once more as the interpreter exits (~15 ms).
So they load with rare young passes (``LOADING_THRESHOLD``); ``loaded`` restores the usual
thresholds and, on a real command line, freezes what is loaded (``gc.freeze``: never scanned again,
as the Python docs suggest for long-lived objects); ``finished`` freezes what is left once the answer
is out (the process' end frees it). Garbage made by the command itself is collected as usual.

A command whose analysis needs pandas only for its last steps (``IMPORTS_AHEAD`` in the analysis module:
stuck points build their table with it) imports it on a thread of its own while the project loads and
numpy computes (``import_ahead``): numpy lets go of the GIL in its loops, so most of the ~0.3 s import
is hidden (stuck at 1M: 0.59-0.75 s -> 0.50 s for its counts and the import).
"""
import gc
import importlib
import os
import sys
import threading

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

LOADING_THRESHOLD = 10_000
USUAL_THRESHOLDS = gc.get_threshold()
gc.set_threshold(max(LOADING_THRESHOLD, USUAL_THRESHOLDS[0]), *USUAL_THRESHOLDS[1:])


def loaded(command_line: bool) -> None:
    """The command's modules are loaded (or the app starts): the usual thresholds again; on a real
    command line (not a test calling ``cli.main``), the loaded objects leave the collector's passes."""
    gc.set_threshold(*USUAL_THRESHOLDS)
    if command_line:
        gc.freeze()


def finished() -> None:
    """A real command line's answer is written: spare the interpreter's exit a pass over what is left."""
    gc.freeze()


def import_ahead(modules) -> None:
    """Import ``modules`` (names) on a daemon thread, for a command that will need them later. A module
    can only be imported once: should the main thread get there first, it waits for the thread's import
    (Python's per-module lock) instead of starting its own."""
    missing = [name for name in modules if name not in sys.modules]
    if missing:
        threading.Thread(target=_import_quietly, args=(missing,), name="import-ahead", daemon=True).start()


def _import_quietly(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:       # noqa: BLE001 - the main thread's own import then raises it where it is used
            return
