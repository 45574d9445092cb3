"""Option controls: an event picker, and one small binder between a view's Spec and its controls
(glue's state <-> widget idea).

Each option is declared once -- Spec field, control, and how a value reads and shows -- and the
binder does both directions: ``read(base)`` is the Spec the controls show (``base`` supplies the
fields no control sets), ``show(spec)`` sets the controls without each one asking for a recompute.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Callable

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSlider, QSpinBox, QWidget


@contextmanager
def blocked(*widgets: QWidget):
    """Set several controls without each one asking for a recompute."""
    previous = [w.blockSignals(True) for w in widgets]
    try:
        yield
    finally:
        for widget, was in zip(widgets, previous):
            widget.blockSignals(was)


def duration_text(ms: int) -> str:
    """30 days in ms -> "30d" (the funnel window control's spelling).

    >>> duration_text(30 * 86_400_000), duration_text(3_600_000), duration_text(90_000)
    ('30d', '1h', '90s')
    """
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms // 1000}s"


class EventChoice(QComboBox):
    """An event picker that refills itself when the log changes, keeping the current choice."""

    def __init__(self, explorer, none_label: str | None = None, default: str | None = None):
        super().__init__()
        self.explorer, self.none_label, self.default = explorer, none_label, default
        self.setMinimumContentsLength(18)
        self.fill()

    def fill(self) -> None:
        current = self.currentText() or self.default
        self.blockSignals(True)
        self.clear()
        if self.none_label:
            self.addItem(self.none_label)
        if self.explorer.log is not None:
            self.addItems(list(self.explorer.log.event_names))
        if current and self.findText(current) >= 0:
            self.setCurrentText(current)
        self.blockSignals(False)

    def value(self) -> str | None:
        text = self.currentText()
        return None if not text or text == self.none_label else text


def _identity(value):
    return value


@dataclass
class Binding:
    field: str
    control: QWidget
    to_spec: Callable[[Any], Any] = _identity       # control value -> Spec value
    to_control: Callable[[Any], Any] = _identity    # Spec value -> control value
    none_keeps_base: bool = False                   # an empty control leaves the base Spec's value


def control_value(control: QWidget):
    """What a control holds: an event (or None), a text, a number, a tick."""
    if isinstance(control, EventChoice):
        return control.value()
    if isinstance(control, QComboBox):
        return control.currentText()
    if isinstance(control, (QSpinBox, QSlider)):
        return control.value()
    if isinstance(control, QCheckBox):
        return control.isChecked()
    if isinstance(control, QLineEdit):
        return control.text()
    raise TypeError(f"cannot bind a {type(control).__name__}")


def set_control_value(control: QWidget, value) -> None:
    if isinstance(control, EventChoice):
        control.setCurrentText(value or control.none_label or "")
    elif isinstance(control, QComboBox):
        if control.findText(str(value)) < 0:          # e.g. a pinned 14d window the list lacks
            control.addItem(str(value))
        control.setCurrentText(str(value))
    elif isinstance(control, (QSpinBox, QSlider)):
        control.setValue(value)
    elif isinstance(control, QCheckBox):
        control.setChecked(bool(value))
    elif isinstance(control, QLineEdit):
        control.setText(value)
    else:
        raise TypeError(f"cannot bind a {type(control).__name__}")


class Binder:
    def __init__(self):
        self.bindings: list[Binding] = []

    def bind(self, field: str, control: QWidget, to_spec=_identity, to_control=_identity,
             none_keeps_base: bool = False) -> QWidget:
        self.bindings.append(Binding(field, control, to_spec, to_control, none_keeps_base))
        return control

    def read(self, base):
        """``base`` with every bound field as its control shows it."""
        return replace(base, **self.values())

    def values(self) -> dict:
        """Every bound field as its control shows it (GUI thread), but those left to the base
        (``none_keeps_base`` and nothing chosen): ``replace(base, **values)`` is ``read(base)``."""
        values = {}
        for b in self.bindings:
            value = b.to_spec(control_value(b.control))
            if value is None and b.none_keeps_base:
                continue
            values[b.field] = value
        return values

    def show(self, spec) -> None:
        """Set every bound control to ``spec`` at once, without recomputing for each."""
        with blocked(*(b.control for b in self.bindings)):
            for b in self.bindings:
                set_control_value(b.control, b.to_control(getattr(spec, b.field)))
