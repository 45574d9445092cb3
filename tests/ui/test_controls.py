"""The binder between a Spec and its controls, on plain widgets."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from journey_explorer.ui.views.controls import Binder


@dataclass(frozen=True)
class Options:
    period: str = "week"
    steps: int = 5
    split: bool = False
    names: tuple = ()
    kept: str = "base"


def test_binder_reads_and_shows_every_bound_field_and_keeps_the_rest(qtbot):
    period, steps, split, names = QComboBox(), QSpinBox(), QCheckBox(), QLineEdit()
    period.addItems(["week", "month"])
    binder = Binder()
    binder.bind("period", period)
    binder.bind("steps", steps)
    binder.bind("split", split)
    binder.bind("names", names, lambda text: tuple(t.strip() for t in text.split(",") if t.strip()) or None,
                ", ".join, none_keeps_base=True)
    spec = Options(period="quarter", steps=7, split=True, names=("a", "b"), kept="mine")
    changes = []
    period.currentTextChanged.connect(changes.append)
    binder.show(spec)
    assert changes == []                                   # no recompute per control
    assert period.currentText() == "quarter"               # a value the list lacked was added
    assert binder.read(Options(kept="mine")) == spec
    names.setText("")
    assert binder.read(Options(names=("x",))).names == ("x",)      # empty: the base's value stays
