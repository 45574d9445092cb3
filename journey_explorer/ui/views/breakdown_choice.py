"""The "Breakdown by" control shared by the funnel, retention, compare and flows views: a property
picker ("none" by default) bound to the Spec's ``breakdown`` field through the view's binder.

The groups are the property's first-touch values (top values, then Other and "(none)"); the
analysis makes them, the control only names the property.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel

from journey_explorer.analysis.properties import DEFAULT_TOP, property_names

NO_BREAKDOWN = "none"


def breakdown_from_text(text: str) -> str | None:
    """The control's text -> the Spec's breakdown (None: no breakdown).

    >>> breakdown_from_text("none"), breakdown_from_text("channel")
    (None, 'channel')
    """
    return None if not text or text == NO_BREAKDOWN else text


def breakdown_text(breakdown: str | None) -> str:
    return breakdown or NO_BREAKDOWN


class PropertyChoice(QComboBox):
    """The loaded log's property names after "none"; refilled when the log changes, keeping the
    choice while the new log still has that property."""

    def __init__(self, explorer):
        super().__init__()
        self.explorer = explorer
        self.setToolTip(f"Draw the chart once per value of this property (its {DEFAULT_TOP} most common "
                        "values, then Other); a user's value is their first one")
        self.fill()

    def fill(self) -> None:
        current = self.currentText()
        names = property_names(self.explorer.log) if self.explorer.log is not None else []
        self.blockSignals(True)
        self.clear()
        self.addItems([NO_BREAKDOWN] + names)
        self.setCurrentText(current if current in names else NO_BREAKDOWN)
        self.blockSignals(False)          # the view recomputes on the same log change anyway


def add_breakdown(view, on_change=None) -> PropertyChoice:
    """Add "Breakdown by" to ``view``'s options row and bind it to the Spec's ``breakdown``;
    a change calls ``on_change`` (default: recompute the view)."""
    box = PropertyChoice(view.explorer)
    view.options.addWidget(QLabel("Breakdown by"))
    view.options.addWidget(box)
    view.explorer.changed.connect(box.fill)
    box.currentTextChanged.connect(lambda _: (on_change or view.refresh)())
    view.binder.bind("breakdown", box, breakdown_from_text, breakdown_text)
    return box
