"""Funnel: a step builder (pick events from the catalog, add, drag to reorder, remove), the
conversion window and the order rule beside it. Until steps are picked the view shows its own."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from journey_explorer.analysis import funnel
from journey_explorer.domain import JourneyError
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.breakdown_choice import add_breakdown
from journey_explorer.ui.views.controls import blocked, duration_text


def window_from_text(text: str) -> int | None:
    return None if text == "none" else funnel.parse_duration(text)


def window_text(ms: int | None) -> str:
    return "none" if ms is None else duration_text(ms)


PICK_TWO = "Pick at least two steps (search an event, then Add step)."
CHIP_PADDING = 14     # the chip style's border and side padding, not in the delegate's size hint


class ChipList(QListWidget):
    """Steps as chips in one row, asking for the width of all of them (the options row then gives the
    builder a line of its own rather than a slot where chips hide behind a scroll bar), and tall enough
    for the scroll bar when they still do not fit (a bar over the chips cut them in half)."""

    def __init__(self, chip_height: int):
        super().__init__()
        self.chip_height = chip_height
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setSizeAdjustPolicy(QListWidget.SizeAdjustPolicy.AdjustIgnored)
        for signal in (self.model().rowsInserted, self.model().rowsRemoved, self.model().modelReset):
            signal.connect(self._rows_changed)       # a bound slot: dropped with the widget
        self._fit()

    def _rows_changed(self, *_) -> None:
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        chips = sum(self.sizeHintForIndex(self.model().index(i, 0)).width() + CHIP_PADDING + 2 * self.spacing()
                    for i in range(self.count()))
        return QSize(max(200, min(chips + 2 * self.frameWidth() + 4, 1100)), self.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        bar = self.horizontalScrollBar()
        needs_bar = bar.maximum() > 0
        extra = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent) if needs_bar else 0
        height = self.chip_height + 2 * self.frameWidth() + 6 + extra
        if self.height() != height:
            self.setFixedHeight(height)
        self.updateGeometry()


class StepBuilder(QWidget):
    """The funnel's steps as chips in a row: a searchable event picker with Add, the steps (drag to
    reorder; Delete or Remove takes the selected one out). ``changed`` after every edit."""

    changed = Signal()

    def __init__(self):
        super().__init__()
        self.picker = QComboBox()
        self.picker.setEditable(True)
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.picker.lineEdit().setPlaceholderText("search events…")
        # As wide as ~14 characters whatever the catalog holds (a size from the longest event name
        # changed after the layout was made), and it keeps that width: the steps' box gives way and scrolls.
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(14)
        self.picker.setSizePolicy(QSizePolicy.Policy.Fixed, self.picker.sizePolicy().verticalPolicy())
        completer = QCompleter(self.picker.model(), self.picker)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)        # "paid" finds "Subscription Paid"
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.picker.setCompleter(completer)
        self.picker.lineEdit().returnPressed.connect(self.add_picked)
        self.add_button = QPushButton("Add step")
        self.add_button.clicked.connect(self.add_picked)
        self.list = ChipList(self.picker.sizeHint().height())
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSpacing(2)
        self.list.setMinimumWidth(200)
        self.list.setToolTip("Drag a step to reorder; select one and press Delete to remove it")
        self.list.setStyleSheet("QListWidget::item { border: 1px solid palette(mid); border-radius: 4px;"
                                " padding: 0px 6px; }")            # each step reads as a chip
        self.list.model().rowsMoved.connect(self.changed)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.list, self.remove_selected)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.picker, self.add_button, self.list, self.remove_button):
            layout.addWidget(widget)

    def set_catalog(self, names) -> None:
        """The events to pick from (the loaded log's), in alphabetical order."""
        with blocked(self.picker):
            self.picker.clear()
            self.picker.addItems(sorted(names, key=str.lower))
            self.picker.setCurrentIndex(-1)

    def steps(self) -> tuple[str, ...]:
        return tuple(self.list.item(i).text() for i in range(self.list.count()))

    def set_steps(self, steps) -> None:
        with blocked(self.list):
            self.list.clear()
            self.list.addItems(list(steps))

    def add_picked(self) -> None:
        """Add the picked event (typed text must name an event in the catalog)."""
        name = self.picker.currentText().strip()
        if self.picker.findText(name, Qt.MatchFlag.MatchFixedString) < 0:
            return
        name = self.picker.itemText(self.picker.findText(name, Qt.MatchFlag.MatchFixedString))
        self.list.addItem(name)
        self.picker.setCurrentIndex(-1)
        self.changed.emit()

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self.changed.emit()


class FunnelView(AnalysisView):
    def build_options(self) -> None:
        self.builder = StepBuilder()
        self.builder.changed.connect(self.refresh)
        self.options.addWidget(QLabel("Steps"))
        self.options.addWidget(self.builder, 1)
        self.explorer.changed.connect(self._fill_catalog)
        self._fill_catalog()
        self.window_choice = self.binder.bind(
            "window_ms", self.combo("Window", ["none", "1d", "7d", "30d", "90d"], lambda _: self.refresh(),
                                    funnel.DEFAULT_WINDOW), window_from_text, window_text)
        self.order = self.binder.bind("order", self.combo("Order", ["sequential", "strict", "any"],
                                                          lambda _: self.refresh()))
        self.breakdown = add_breakdown(self)

    def _fill_catalog(self) -> None:
        if self.explorer.log is not None:
            self.builder.set_catalog(self.explorer.log.event_names)

    def current_spec(self, log):
        spec = super().current_spec(log)
        steps = self.builder.steps()
        return replace(spec, steps=steps) if steps else spec     # nothing picked: the view's own steps

    def show_spec(self, spec) -> None:
        super().show_spec(spec)
        self.builder.set_steps(spec.steps)

    def spec_to_compute(self, log):
        """The controls' options with the steps picked, none when nobody picked any: the view's own
        steps (the goal's milestones: 3-13 s at 10M events) are then worked out on the worker."""
        return replace(self.binder.read(self.entry.default_spec(None, self.explorer.filters)),
                       steps=self.builder.steps())

    def _compute(self, session, filters, spec, theme, progress):
        if not spec.steps:        # worker thread: the view's own steps, as ``current_spec`` gives them
            spec = replace(spec, steps=self.entry.default_spec(session.log, filters).steps)
        if len(spec.steps) < 2:
            raise JourneyError(PICK_TWO)
        return super()._compute(session, filters, spec, theme, progress)

    def refresh(self) -> None:
        log = self.explorer.log
        if log is not None and self.isVisible() and len(self.builder.steps()) == 1:   # one step picked: wait
            self.banner.show_info(PICK_TWO)
            return
        super().refresh()

    def shown(self, result, spec) -> None:
        if not self.builder.steps():          # show the steps the view chose by itself
            self.builder.set_steps(result.spec.steps)


VIEW_CLASS = FunnelView
