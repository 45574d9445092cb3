"""``tasks.later``: the next turn's timer starts once the paint this turn asked for is delivered, so any
other timer already due (input, a repaint, the latency probe) runs between the two turns."""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from journey_explorer.tasks import later


class SlowToPaint(QWidget):
    def __init__(self, record: list):
        super().__init__()
        self.record = record

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        time.sleep(0.06)             # a chart's first paint at 10M events
        self.record.append("paint")


def test_the_next_turn_waits_for_the_paint_and_for_a_timer_due_meanwhile(qtbot):
    """A timer started at once was due long before the paint ended and ran straight after it: the paint
    and the next turn made one freeze (the 30 ms timer here stands for input or the latency probe)."""
    record: list[str] = []
    widget = SlowToPaint(record)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(150)
    record.clear()

    def first_turn() -> None:        # right after a tick: the next tick is due in 30 ms
        widget.update()              # Qt posts the paint: delivered after this turn
        later(lambda: record.append("second"), widget)

    def tick() -> None:
        record.append("tick")
        if len(record) == 1:
            first_turn()
    probe = QTimer(interval=30)
    probe.timeout.connect(tick)
    probe.start()
    qtbot.waitUntil(lambda: "second" in record, timeout=2_000)
    probe.stop()
    # the overdue tick runs between the paint and the next turn; on a slow machine the probe's
    # following tick can fall due before the 1 ms turn too, which is fine
    assert record[:3] == ["tick", "paint", "tick"]
    assert set(record[3:record.index("second")]) <= {"tick"}


def test_no_turn_runs_once_its_context_is_deleted(qtbot):
    ran = []
    context = QObject()
    later(lambda: ran.append(True), context)
    context.deleteLater()
    qtbot.wait(100)
    assert ran == []
