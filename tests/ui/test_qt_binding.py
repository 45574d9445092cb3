"""The Qt binding must not wear down None's refcount (PySide6 6.12.0 did, on Python < 3.12)."""
from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_keep_none_alive(qtbot):
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(2_000):
        widget.setWindowTitle("x")
        painter.drawRect(0, 0, 4, 4)
    painter.end()
    # A binding that forgets to own the None it returns loses one reference per call (-4000 here);
    # a healthy one drifts by a handful at most.
    assert sys.getrefcount(None) - before > -100
