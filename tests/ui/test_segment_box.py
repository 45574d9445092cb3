"""The filter bar's segment box: completions from the project's properties, cohorts and saved
segments; the "first touch / any event" choice."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt


def settle_view(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.runner.busy and view.result is not None
                    and (view.drawn_result is view.result or view.banner.isVisible()), timeout=30_000)


@pytest.fixture
def window(open_window, demo_project_path, settle_side_checks):
    window = open_window(demo_project_path)
    settle_side_checks(window)      # the completions come after the first view is drawn
    return window


def offered(completer) -> list[str]:
    model = completer.completionModel()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_typing_offers_property_values_and_choosing_one_filters_the_views(window, qtbot):
    overview = window.view("overview")
    settle_view(qtbot, overview)
    everyone = overview.result["users"]
    completer = window.segment_completer
    window.segment.setFocus()
    qtbot.keyClicks(window.segment, "chan")
    assert "channel=Partner Referral" in offered(completer)
    assert all("chan" in text.lower() for text in offered(completer))
    qtbot.waitUntil(completer.popup().isVisible, timeout=5_000)
    row = offered(completer).index("channel=Partner Referral")
    completer.popup().setCurrentIndex(completer.completionModel().index(row, 0))
    window.grab().save("/tmp/segbox.png")
    with qtbot.waitSignal(overview.drawn, timeout=30_000):
        qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    assert window.segment.text() == "channel=Partner Referral"
    assert window.current_filters().segment == ("channel=Partner Referral",)
    assert 0 < overview.result["users"] < everyone


def test_completion_works_on_the_condition_after_the_last_ampersand(window, qtbot):
    completer = window.segment_completer
    suggestions = completer.suggestions.stringList()
    assert any(text.startswith("did ") for text in suggestions)
    assert any(text.startswith("did not ") for text in suggestions)
    window.segment.setFocus()
    qtbot.keyClicks(window.segment, "channel=Partner Referral & DID NOT")
    assert offered(completer) and all(text.startswith("did not ") for text in offered(completer))
    completer.popup().setCurrentIndex(completer.completionModel().index(0, 0))
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    first = offered(completer)[0] if offered(completer) else None
    assert window.segment.text().startswith("channel=Partner Referral & did not ")
    assert first is None or window.segment.text().endswith(first)
    assert len(window.current_filters().segment) == 2


def test_first_touch_or_any_event_sets_the_filters_match_and_reruns_views(window, qtbot):
    overview = window.view("overview")
    settle_view(qtbot, overview)
    assert window.current_filters().match == "first"
    assert "first value" in window.match.toolTip() and "session's value" in window.match.toolTip()
    with qtbot.waitSignal(overview.drawn, timeout=30_000):
        window.segment.setText("channel=Partner Referral")
        window.filters_changed()
    first_touch = overview.result["users"]
    with qtbot.waitSignal(overview.drawn, timeout=30_000):
        window.match.setCurrentIndex(window.match.findData("any"))
    assert window.current_filters().match == "any"
    assert overview.current_state()[1].match == "any"
    assert overview.result["users"] >= first_touch
