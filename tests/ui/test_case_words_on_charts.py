"""A process log's charts call its paths "cases", as its report does (``EventLog.path_noun``)."""
from __future__ import annotations

from journey_explorer.export.render import ViewRenderer
from journey_explorer.state.filters import FilterState
from tests.analysis.test_path_noun import case_log


def axis_text(canvas, side: str) -> str:
    return canvas.getPlotItem().getAxis(side).labelText


def test_the_lifecycle_and_stuck_axes_say_cases(qtbot):
    renderer = ViewRenderer(case_log(), None, "orders")
    try:
        filters = FilterState(goal="pay")
        lifecycle, _ = renderer.draw("lifecycle", filters=filters)
        assert axis_text(lifecycle, "left") == "cases (dormant below zero)"
        stuck, _ = renderer.draw("stuck", filters=filters)
        assert axis_text(stuck, "bottom") == "how much worse failing cases do here than successful cases"
        subtitle = renderer.caption("lifecycle", filters).subtitle
        assert subtitle.startswith("all cases · ") and subtitle.endswith(" · 60 cases")
    finally:
        renderer.close()
