"""Cyclic garbage is collected on the GUI thread only: a collection started on a worker thread destroys
Qt objects (a redrawn chart's plot items) there and can deadlock with the GUI thread."""
from __future__ import annotations

import gc
import threading

from journey_explorer.tasks import TaskRunner


class Node:
    def __init__(self):
        self.me = self          # a cycle: only the cyclic collector frees it


def make_cycles(count: int, progress=None) -> int:
    for _ in range(count):
        Node()
    return count


def test_worker_allocations_are_collected_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    assert not gc.isenabled()              # automatic collection is off; the GUI thread's timer collects
    threads = []

    def seen(phase, info):
        if phase == "start":
            threads.append(threading.get_ident())

    gc.callbacks.append(seen)
    try:
        with qtbot.waitSignal(runner.finished, timeout=30_000):
            runner.start(make_cycles, 200_000)    # far beyond the young generation's threshold
        qtbot.waitUntil(lambda: bool(threads), timeout=5_000)
    finally:
        gc.callbacks.remove(seen)
    assert set(threads) == {threading.main_thread().ident}


def test_a_loaded_project_is_left_out_of_full_collections_until_it_closes(open_window, demo_project_path, qtbot):
    """A full collection traversed the modules and the project's objects (~85 ms at 10M events) on the
    GUI thread: once loaded they are frozen out of collections, and thawed when the project closes
    (its cycles must be collectable then)."""
    window = open_window(demo_project_path)
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)       # at the GUI thread's next collection
    window.close_project()
    assert gc.get_freeze_count() == 0
    window.open_project(demo_project_path)
    qtbot.waitUntil(lambda: window.explorer.log is not None and not window.loader.busy, timeout=30_000)
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)
    window.close()
    assert gc.get_freeze_count() == 0


def test_modules_imported_after_the_load_are_frozen_too(open_window, demo_project_path, monkeypatch):
    """The views' analysis modules and their libraries, imported on workers after the load, were young
    objects traversed by every collection on the GUI thread (50-70 ms each under load): the GUI
    thread's next collection freezes them with the project."""
    import sys
    import types

    from journey_explorer import tasks
    window = open_window(demo_project_path)
    frozen = gc.get_freeze_count()
    module = types.ModuleType("journey_explorer_test_late_module")
    module.tables = [[index] for index in range(5_000)]          # long-lived objects made by an import
    monkeypatch.setitem(sys.modules, module.__name__, module)
    tasks.collect_if_due()
    assert gc.get_freeze_count() >= frozen + 5_000
    window.close()
    assert gc.get_freeze_count() == 0


def test_young_garbage_is_collected_before_the_long_lived_objects_are_frozen(qtbot):
    """Frozen garbage lives until the project closes; the freeze collects the young generation first."""
    import weakref

    from journey_explorer import tasks
    TaskRunner()                            # collections on the GUI thread's timer
    garbage = Node()
    collected = weakref.ref(garbage)
    del garbage                             # a cycle: only a collection frees it
    tasks.freeze_long_lived()
    assert collected() is not None          # frozen (and collected) on the collector's turn, not here
    try:
        tasks.collect_if_due()
        assert gc.get_freeze_count() > 0 and collected() is None
    finally:
        tasks.thaw_long_lived()


def test_a_freeze_does_not_traverse_the_old_generation_and_a_close_collects_it(qtbot):
    """A full collection before each freeze found nothing and held the GUI thread 25-30 ms; the closed
    project's cycles (old, frozen, then thawed) are collected by the close itself (left to the timer,
    that collection fell into the next project's load: 130-160 ms stalls at 10M events)."""
    import weakref

    from journey_explorer import tasks
    TaskRunner()
    tasks.thaw_long_lived()                 # start clean: nothing frozen
    old = Node()
    gc.collect()                            # survives into the old generation
    collected = weakref.ref(old)
    del old                                 # old garbage now
    generations = []

    def seen(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        tasks.freeze_long_lived()
        tasks.collect_if_due()
        assert gc.get_freeze_count() > 0 and 2 not in generations
        assert collected() is not None          # frozen with the project, as any old object
        tasks.thaw_long_lived()                 # the project closes
        assert collected() is None and 2 in generations
    finally:
        gc.callbacks.remove(seen)
        tasks.thaw_long_lived()
