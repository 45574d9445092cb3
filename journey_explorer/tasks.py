"""The one bridge between Qt and long work: run a plain function off the GUI thread.

``TaskRunner.start(fn, *args)`` calls ``fn(*args, progress=report)`` on a worker thread. Starting a
new task on the same runner cancels the previous one: its ``report`` raises ``Cancelled`` at the next
call and whatever it returns is dropped. Results and errors come back on the GUI thread through
signals. A failure is one message (``crashlog.failure_message``): a ``JourneyError`` keeps its own
words, anything else says "this is a bug" with the log file's path; the traceback goes to that log,
never to the screen.

The first runner also moves Python's cyclic garbage collection to the GUI thread
(``collect_on_gui_thread``): a collection that happens to start on a worker thread destroys whatever
Qt objects (plot items of a redrawn chart) sit in unreachable cycles there, and Qt then deadlocks
with the GUI thread — the suite hung once in the presentation test this way, the worker stuck in a
class creation that had triggered a collection. It also shortens the GIL's switch interval to 1 ms
(``GUI_SWITCH_INTERVAL_S``): the GUI thread then waits less for the GIL each time it needs it back
from a worker running Python.
"""
from __future__ import annotations

import gc
import sys
import threading
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRunnable, Qt, QThread, QThreadPool, QTimer, Signal

from journey_explorer.crashlog import failure_message
from journey_explorer.progress import Cancelled  # raised by a stale task's report, inside analysis loops too


class _Relay(QObject):
    """Carries a worker's outcome to the GUI thread (signals queue across threads)."""

    progressed = Signal(int, float)
    done = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, generation: int, fn: Callable, args: tuple, runner: "TaskRunner"):
        super().__init__()
        self.generation, self.fn, self.args, self.runner = generation, fn, args, runner
        self.setAutoDelete(True)

    def run(self) -> None:  # noqa: D401 - QRunnable API
        relay = self.runner._relay

        def report(fraction: float, *_: Any) -> None:
            if self.generation != self.runner._generation:
                raise Cancelled()
            relay.progressed.emit(self.generation, float(fraction))

        try:
            try:
                result = self.fn(*self.args, progress=report)
            except Cancelled:
                return
            except Exception as exc:  # noqa: BLE001 - the worker's error boundary: a message, the traceback logged
                relay.failed.emit(self.generation, failure_message(exc, f"task {_name(self.fn)}"))
            else:
                relay.done.emit(self.generation, result)
        except RuntimeError:
            pass            # the window (and its relay) closed while this ran: nobody to tell
        finally:
            self.runner._finished_one()


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class _GuiThreadCollector(QObject):
    """Automatic collection off; the same thresholds checked on a GUI-thread timer instead (pyqtgraph's
    ``GarbageCollector`` recipe, without importing pyqtgraph at start-up)."""

    def __init__(self, interval_ms: int):
        super().__init__()
        app = QCoreApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            raise RuntimeError("garbage collection must be moved to the GUI thread, from the GUI thread")
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start(interval_ms)

    def collect_if_due(self) -> None:
        if _freeze_wanted or _modules_imported_since_freeze():
            # Modules imported after the project's load (each view's analysis and its libraries, on
            # worker threads): ~15-25k long-lived objects per import, which the young collections here
            # traversed again and again (50-70 ms each, a gen-1 230 ms, on the GUI thread). Frozen with the rest.
            _freeze()
            return
        # An explicit gen-2 collection skips CPython's own brake on full collections: with millions of
        # tracked objects one can take a few hundred ms, about once a minute during a long import.
        young, middle, old = gc.get_count()
        if young > self.thresholds[0]:
            gc.collect(0)
            if middle > self.thresholds[1]:
                gc.collect(1)
                if old > self.thresholds[2]:
                    gc.collect(2)


_collector: _GuiThreadCollector | None = None

# How long a thread running Python keeps the GIL while another waits for it (CPython's default: 5 ms).
# The GUI thread takes the GIL back many times in one turn (each call into Python from Qt: a slot, an
# item's paint); beside a computing worker each of those waited up to the full interval, and Python on
# the GUI thread ran 2-4x slower. 1 ms: view switches at 10M events while a worker computes froze
# 200-450 ms -> 90-170 ms (bench_gui_latency, alternated runs under load 3-4).
GUI_SWITCH_INTERVAL_S = 0.001


def collect_on_gui_thread(interval_ms: int = 500) -> None:
    """From now on, collect cyclic garbage only on this (the GUI) thread; idempotent."""
    global _collector
    if _collector is None:
        _collector = _GuiThreadCollector(interval_ms)


_modules_when_frozen: int | None = None     # len(sys.modules) at the last freeze; None: nothing frozen
_freeze_wanted = False                      # freeze_long_lived asked; done at the next collection


def freeze_long_lived() -> None:
    """Leave everything alive now out of later collections (``gc.freeze``), at the GUI thread's next
    collection: a turn of its own, not the load's. Called once a project has loaded: the imported modules
    and the project's objects (~130k at 10M events) are then no longer traversed by every full collection,
    which took ~85 ms on the GUI thread. Until ``thaw_long_lived``, modules imported later are frozen too,
    at the GUI thread's next collection (``_GuiThreadCollector``)."""
    global _freeze_wanted
    _freeze_wanted = True


def _freeze() -> None:
    """Freeze what is alive, after collecting only the young generation: a full collection before each
    freeze found no garbage in any run measured (a load and every view's imports, demo to 10M events)
    yet held the GUI thread 25-30 ms of a 66-87 ms stall. Older garbage (a closed project's cycles) is
    collected by ``thaw_long_lived``."""
    global _modules_when_frozen, _freeze_wanted
    gc.collect(0)
    gc.freeze()
    _modules_when_frozen = len(sys.modules)
    _freeze_wanted = False


def _modules_imported_since_freeze() -> bool:
    return _modules_when_frozen is not None and len(sys.modules) > _modules_when_frozen


def thaw_long_lived() -> None:
    """Let the collector see what ``freeze_long_lived`` left out, and collect it all now: a project has
    closed (call it once the project's objects are let go of), and its cycles are garbage. A full
    collection here (~100-150 ms at 10M events) belongs to the close the user asked for; left to the
    collector's timer it fell into the next project's load, or the next freeze kept the garbage."""
    global _modules_when_frozen, _freeze_wanted
    _modules_when_frozen = None
    _freeze_wanted = False
    gc.unfreeze()
    gc.collect()


def collect_if_due() -> None:
    """What the GUI thread's timer does, for code that runs no event loop for a while (tests)."""
    if _collector is not None:
        _collector.collect_if_due()


LATER_MS = 1


class _LaterEvent(QEvent):
    TYPE = QEvent.Type(QEvent.registerEventType())

    def __init__(self, work: Callable[[], None]):
        super().__init__(self.TYPE)
        self.work = work


class _AfterPostedWork(QObject):
    """Starts ``later``'s timer once the events posted before it (a layout, a paint) are delivered. A
    child of ``later``'s context: deleted with it, its events and timers go too."""

    def event(self, event) -> bool:  # noqa: D401 - Qt API
        if event.type() != _LaterEvent.TYPE:
            return super().event(event)
        QTimer.singleShot(LATER_MS, self, event.work)
        return True


_after_posted_work: _AfterPostedWork | None = None


def _receiver(context: QObject | None) -> _AfterPostedWork:
    global _after_posted_work
    if context is None:
        if _after_posted_work is None:
            _after_posted_work = _AfterPostedWork()
        return _after_posted_work
    receiver = getattr(context, "_after_posted_work", None)
    if receiver is None:
        receiver = context._after_posted_work = _AfterPostedWork(context)
    return receiver


def later(work: Callable[[], None], context: QObject | None = None) -> None:
    """Run ``work`` on a later turn of the event loop (GUI thread), after the timers and input queued
    meanwhile; never once ``context`` is deleted. Not ``singleShot(0)``: that is a posted event, and two
    of them in a row ran in one turn (a project's load and its first canvas: one 250 ms freeze instead
    of two shorter ones). Nor a timer started now: the layout or paint this turn asked for is delivered
    after this turn, and the timer, due by then, ran straight after it, before any other timer or input
    (a chart's paint, then its table: one 230 ms freeze at 10M events). So the timer starts once they
    are delivered: Qt posts its paints at low priority, and this too."""
    QCoreApplication.postEvent(_receiver(context), _LaterEvent(work), Qt.EventPriority.LowEventPriority.value)


class TaskRunner(QObject):
    """Runs at most one wanted task at a time; newer requests replace older ones."""

    started = Signal()
    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        collect_on_gui_thread()         # runners are made on the GUI thread, before any worker runs
        if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)     # the GUI thread gets the GIL back sooner
        self._pool = pool or QThreadPool.globalInstance()
        self._generation = 0
        self._running = 0          # tasks started on a worker, not yet finished
        self._deferred = 0         # tasks waiting for a later turn (start_after)
        self._idle = threading.Condition()
        self._relay = _Relay()
        self._relay.progressed.connect(self._on_progress)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)

    def start(self, fn: Callable, *args: Any) -> int:
        """Run ``fn(*args, progress=...)`` in the background; returns the task's number."""
        self._generation += 1
        self.started.emit()
        self._submit(self._generation, fn, args)
        return self._generation

    def start_after(self, first: Callable[[], None], fn: Callable, *args: Any) -> int:
        """``start``, but on a later turn of the event loop, once ``first()`` has run on the GUI thread:
        GUI work that would crawl beside the task (the threads take turns with the GIL: Python on the
        GUI thread ran 2-4x slower beside a computing worker). Busy from now on; a newer ``start`` or
        a ``cancel`` in between drops the task (``wait`` does not wait for one not started)."""
        self._generation += 1
        generation = self._generation
        self._deferred += 1
        self.started.emit()

        def go() -> None:
            try:
                first()
            finally:
                self._deferred -= 1
                if generation == self._generation:
                    self._submit(generation, fn, args)
        later(go, self)        # after the input queued meanwhile, and this turn's layout and paint
        return generation

    def _submit(self, generation: int, fn: Callable, args: tuple) -> None:
        with self._idle:
            self._running += 1
        self._pool.start(_Job(generation, fn, args, self))

    def cancel(self) -> None:
        """Forget the current task (it stops at its next progress report)."""
        self._generation += 1

    @property
    def busy(self) -> bool:
        return self._running > 0 or self._deferred > 0

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until no task of this runner is running (tests and shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=timeout_ms / 1000)

    def _finished_one(self) -> None:
        with self._idle:
            self._running -= 1
            self._idle.notify_all()

    def _on_progress(self, generation: int, fraction: float) -> None:
        if generation == self._generation:
            self.progress.emit(fraction)

    def _on_done(self, generation: int, result: object) -> None:
        if generation == self._generation:
            self.finished.emit(result)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.failed.emit(message)
