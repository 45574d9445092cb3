"""Charts leave the app as slide-shaped PNG/SVG/PDF with their caption; tables as CSV/XLSX that
hold the same numbers as the analysis and cannot inject formulas."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from journey_explorer.analysis import flows
from journey_explorer.export.tables import write_table
from journey_explorer.state.views import EXPORTABLE_VIEWS
from journey_explorer.store.project import Project


@pytest.fixture(scope="module")
def demo_log(demo_project_path):
    with Project.open(demo_project_path) as project:
        return project.load_event_log()


@pytest.fixture
def renderer(qapp, demo_log, demo_project_path):
    from journey_explorer.export.render import ViewRenderer
    renderer = ViewRenderer(demo_log, demo_project_path)
    yield renderer
    renderer.close()


def non_white_share(image, top: int = 150) -> float:
    sample = [image.pixelColor(x, y).name() for x in range(0, image.width(), 12)
              for y in range(top, image.height() - 60, 12)]
    return sum(colour != "#ffffff" for colour in sample) / len(sample)


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


@pytest.mark.parametrize("view", EXPORTABLE_VIEWS)
def test_every_view_exports_a_slide_shaped_png_that_is_not_blank(renderer, view, tmp_path):
    from PySide6.QtGui import QImage
    image = QImage(str(renderer.export(view, tmp_path / f"{view}.png", width=960)))
    assert (image.width(), image.height()) == (960, 540)
    assert round(image.dotsPerMeterX() * 0.0254 * 13.333) == 960          # placed exactly slide-wide
    assert non_white_share(image, top=80) > 0.03


def test_svg_has_vector_paths_and_text_labels(renderer, tmp_path):
    root = ET.parse(renderer.export("flows", tmp_path / "flows.svg")).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(list(root.iter(f"{ns}path"))) > 20
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{ns}text"))
    assert "Flows" in text and "Sign Up" in text and "Source: demo.journey" in text


def test_pdf_has_one_page(renderer, tmp_path):
    data = renderer.export("funnel", tmp_path / "funnel.pdf").read_bytes()
    assert data.startswith(b"%PDF") and pdf_pages(data) == 1


def test_csv_holds_the_numbers_of_the_analysis(renderer, demo_log, tmp_path):
    spec = flows.Spec(steps=4, top=5, goal=demo_log.default_goal)
    table = pd.read_csv(renderer.export("flows", tmp_path / "flows.csv", spec=spec))
    expected = flows.run(demo_log, spec).links
    assert table["users"].tolist() == expected["users"].tolist()
    assert table["source"].tolist() == expected["source"].tolist()


def test_unknown_suffix_is_refused_with_the_choices(renderer, tmp_path):
    from journey_explorer.domain import JourneyError
    with pytest.raises(JourneyError, match=r"\.png, \.svg, \.pdf, \.csv or \.xlsx"):
        renderer.export("flows", tmp_path / "flows.docx")


def test_xlsx_and_csv_neutralise_formulas(tmp_path):
    frame = pd.DataFrame({"event": ["=cmd|' /C calc'!A0", "+1", "Sign Up", "@SUM(A1)"], "users": [1, 2, 3, -4]})
    back = pd.read_excel(write_table(frame, tmp_path / "t.xlsx"))
    assert back["event"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "Sign Up", "'@SUM(A1)"]
    assert back["users"].tolist() == [1, 2, 3, -4]
    assert pd.read_csv(write_table(frame, tmp_path / "t.csv"))["event"].iloc[0] == "'=cmd|' /C calc'!A0"


def test_subtitle_counts_the_filtered_users_and_dates(renderer, demo_log, tmp_path):
    from journey_explorer.analysis.common import apply_filter
    from journey_explorer.state.filters import FilterState
    filters = FilterState(since="2026-03-01", until="2026-04-01", segment=("plan=Team",), goal=demo_log.default_goal)
    expected = apply_filter(demo_log, filters.common()).paths_count
    caption = renderer.caption("lifecycle", filters)
    assert caption.subtitle.startswith("plan=Team · 2026-03-") and "2026-04-01" not in caption.subtitle
    assert caption.subtitle.endswith(f" · {expected:,} users") and expected < demo_log.paths_count


def test_a_view_that_cannot_be_drawn_says_why_and_leaves_nothing_open(renderer, demo_log):
    from journey_explorer.domain import JourneyError
    from journey_explorer.state.filters import FilterState
    with pytest.raises(JourneyError, match="No events match the filters"):
        # Two plans at once: a valid segment that no user is in (an unknown value has its own message).
        renderer.draw("flows", filters=FilterState(segment=("plan=Team", "plan=Trial")))


def test_drawing_for_exports_leaves_no_widgets_behind(renderer, qapp):
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication
    before = len(QApplication.allWidgets())
    for _ in range(5):
        renderer.image("funnel", width=320)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(QApplication.allWidgets()) <= before


def test_a_failed_export_leaves_the_previous_file_and_no_partial_one(renderer, tmp_path, monkeypatch):
    from journey_explorer.domain import JourneyError
    from journey_explorer.export import images
    target = tmp_path / "flows.svg"
    target.write_text("the chart from yesterday")

    def broken(*args):
        raise JourneyError("drawing failed half-way")

    monkeypatch.setattr(images, "_render_widget", broken)
    with pytest.raises(JourneyError, match="half-way"):
        renderer.export("flows", target)
    assert target.read_text() == "the chart from yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["flows.svg"]


@pytest.mark.parametrize("out, width, message", [
    ("missing-folder/flows.png", 1920, "does not exist"),
    ("flows.png", 0, "out of range"),
    ("flows.png", 100_000, "out of range"),
])
def test_exports_refuse_impossible_requests_with_a_reason(renderer, tmp_path, out, width, message):
    from journey_explorer.domain import JourneyError
    with pytest.raises(JourneyError, match=message):
        renderer.export("flows", tmp_path / out, width=width)
    assert list(tmp_path.iterdir()) == []


def test_exported_files_get_the_usual_permissions(renderer, tmp_path):
    import os
    import stat
    umask = os.umask(0o022)
    os.umask(umask)
    new = renderer.export("lifecycle", tmp_path / "new.csv")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    existing = tmp_path / "shared.csv"
    existing.write_text("old")
    existing.chmod(0o664)
    renderer.export("lifecycle", existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o664


def test_one_export_filters_the_log_once(demo_project_path, tmp_path, monkeypatch, qapp):
    """The spec, the chart and the caption share one filtered log (it was filtered three times)."""
    from journey_explorer.cli import main
    from journey_explorer.state import session
    calls = []
    real = session.apply_filter
    monkeypatch.setattr(session, "apply_filter", lambda log, flt: calls.append(flt) or real(log, flt))
    assert main(["export", str(demo_project_path), "--view", "funnel", "--since", "2026-03-01",
                 "--out", str(tmp_path / "funnel.png"), "--width", "640"]) == 0
    assert len(calls) == 1
