"""UI tests: fail on leaked top-level windows or background tasks still running."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def _no_leaks(qapp):
    before = {id(w) for w in QApplication.topLevelWidgets()}
    yield
    assert QThreadPool.globalInstance().waitForDone(10_000), "a background task is still running"
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets()
              if id(w) not in before and w.isVisible() and not w.inherits("QMenu")]
    assert not leaked, f"top-level widgets left open: {leaked}"
