"""What changed: the ranked stories in the table, the selected one charted; one click from a story
to its evidence (compare the period before with the change window, set the time filter to it, or
set the segment to the property value it hit)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QPushButton

from journey_explorer.ui.views.base import AnalysisView

PERIODS = ["auto", "week", "day"]


class ChangesView(AnalysisView):
    compare_requested = Signal(str, str)     # period A (before), period B (during): "START..END"
    window_requested = Signal(str, str)      # since, until (exclusive): the change window
    segment_requested = Signal(str, str)     # "property=value" who the change hit, and how paths match it
    # Its options come from journey_explorer.analysis.changes, whose import brings pandas (~0.5-0.8 s):
    # on the GUI thread when a project opens on this tab (a 430 ms freeze at 10M events).
    default_on_worker = True

    def build_options(self) -> None:
        self.period = self.binder.bind("period", self.combo("Series per", PERIODS, lambda _: self.refresh()))
        self.compare_button = QPushButton("Compare the two periods")
        self.compare_button.setToolTip("Open Compare with the weeks before the change against the change window")
        self.compare_button.clicked.connect(self.compare_story)
        self.window_button = QPushButton("Show this window")
        self.window_button.setToolTip("Set the time filter to the change window, for every view")
        self.window_button.clicked.connect(self.show_window)
        self.who_button = QPushButton("Show who it hit")
        self.who_button.setToolTip("Set the segment to the property value where the change was concentrated")
        self.who_button.clicked.connect(self.show_who)
        for button in (self.compare_button, self.window_button, self.who_button):
            button.setEnabled(False)
            self.options.addWidget(button)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _: self.select_story(current.row()))

    def shown(self, result, spec) -> None:
        has_stories = bool(result.stories)
        self.compare_button.setEnabled(has_stories)
        self.window_button.setEnabled(has_stories)
        if has_stories:
            self.table.selectRow(min(self.chart.story, len(result.stories) - 1))
        self.update_who_button(result)

    def story(self, result=None) -> dict | None:
        """The story the chart shows (None before a result or when nothing changed)."""
        result = result if result is not None else self.drawn_result
        if result is None or not result.stories:
            return None
        return result.stories[min(self.chart.story, len(result.stories) - 1)]

    def select_story(self, index: int) -> None:
        """Chart story ``index`` (a row of the table) without computing again."""
        result = self.drawn_result
        if result is None or not 0 <= index < len(result.stories) or index == self.chart.story:
            return
        self.chart.story = index
        self.chart_renderer.render(result, self.result_spec, self.chart, self.explorer.theme)
        self.update_who_button()

    def who(self, result=None) -> tuple[str, str] | None:
        """The selected story's ("property=value", match): the release it came with, matched on any of
        a path's events (an app version changes along a path), or else where its change was
        concentrated, matched on first touch (as ``change_who`` counts it); None when neither was found."""
        story = self.story(result) or {}
        release, found = story.get("release"), (story.get("who") or {}).get("found")
        if release:
            return f"{release['property']}={release['value']}", "any"
        return (f"{found['property']}={found['value']}", "first") if found else None

    def update_who_button(self, result=None) -> None:
        who = self.who(result)
        self.who_button.setEnabled(who is not None)
        self.who_button.setText(f"Show {who[0].replace('=', ' = ')}" if who else "Show who it hit")

    def compare_story(self) -> None:
        story = self.story()
        if story is not None:
            before, during = story["evidence"]["before"], story["evidence"]["during"]
            self.compare_requested.emit(f"{before['since']}..{before['until']}",
                                        f"{during['since']}..{during['until']}")

    def show_window(self) -> None:
        story = self.story()
        if story is not None:
            during = story["evidence"]["during"]
            self.window_requested.emit(during["since"], during["until"])


    def show_who(self) -> None:
        who = self.who()
        if who is not None:
            self.segment_requested.emit(*who)


VIEW_CLASS = ChangesView
