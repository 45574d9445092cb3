"""``memory``: freed big arrays' pages kept for the next analysis (glibc), given back on request."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from journey_explorer import memory


def _minor_faults() -> int:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None, reason="glibc only")
def test_a_freed_big_array_is_reused_without_faulting_its_pages_again():
    assert memory.keep_freed_memory()
    size = 48 * 2**20                    # above glibc's largest threshold for a mapping of its own (32 MB)
    np.ones(size, dtype=np.uint8)        # touched and freed: kept in the heap
    before = _minor_faults()
    np.ones(size, dtype=np.uint8)
    # a fresh mapping faults once per page (12,288 of 4 KB, or 24 huge pages); kept pages do not
    assert _minor_faults() - before < 10
    memory.give_back()


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None, reason="glibc only")
def test_a_worker_thread_can_allocate_more_than_its_arena_holds():
    """Without mappings a thread's arena (64 MB) cannot hold a 100 MB array: glibc takes it from the
    main heap instead of failing."""
    assert memory.keep_freed_memory()
    sums = []
    worker = threading.Thread(target=lambda: sums.append(int(np.ones(100 * 2**20, dtype=np.uint8).sum())))
    worker.start()
    worker.join()
    assert sums == [100 * 2**20]
    memory.give_back()


def _run_in_a_fresh_process(body: str) -> None:
    """Run ``body`` (asserts on page faults) in a new interpreter: whether a big array gets a mapping
    of its own depends on the heap's free chunks too, and earlier tests' imports leave some behind
    (a free chunk that fits is reused whatever the mapping threshold says)."""
    prelude = textwrap.dedent("""
        import resource
        import numpy as np
        from journey_explorer import memory
        def _minor_faults():
            return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        size = 48 * 2**20
    """)
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(body)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None, reason="glibc only")
def test_an_import_returns_freed_big_arrays_then_they_are_kept_again():
    _run_in_a_fresh_process("""
        assert memory.keep_freed_memory()
        with memory.returned_while():
            np.ones(size, dtype=np.uint8)
            before = _minor_faults()
            np.ones(size, dtype=np.uint8)            # a mapping of its own again: fresh pages
            assert _minor_faults() - before >= 10
        np.ones(size, dtype=np.uint8)
        before = _minor_faults()
        np.ones(size, dtype=np.uint8)
        assert _minor_faults() - before < 10
    """)


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None, reason="glibc only")
def test_a_part_of_an_import_keeps_freed_big_arrays_then_returns_them_again():
    _run_in_a_fresh_process("""
        assert memory.keep_freed_memory()
        with memory.returned_while():
            with memory.kept_while():                   # an import's planning
                np.ones(size, dtype=np.uint8)
                before = _minor_faults()
                np.ones(size, dtype=np.uint8)
                assert _minor_faults() - before < 10
            np.ones(size, dtype=np.uint8)
            before = _minor_faults()
            np.ones(size, dtype=np.uint8)               # the rest of the import: mappings of their own again
            assert _minor_faults() - before >= 10
    """)


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None, reason="glibc only")
def test_numpy_does_not_advise_huge_pages_unless_the_user_chose(monkeypatch):
    import os
    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    was = multiarray._get_madvise_hugepage()
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    try:
        multiarray._set_madvise_hugepage(True)
        memory.keep_freed_memory()
        assert multiarray._get_madvise_hugepage() is False
        assert os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0"       # for a numpy imported later (a child process)
        multiarray._set_madvise_hugepage(True)
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")          # the user's own choice wins
        memory.keep_freed_memory()
        assert multiarray._get_madvise_hugepage() is True
    finally:
        multiarray._set_madvise_hugepage(was)
        memory.give_back()
