"""Charts leave the app as PNG/SVG/PDF with their caption; tables as CSV/XLSX without formula injection."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from journey_explorer.export.tables import write_table
from journey_explorer.ui.main_window import MainWindow


@pytest.fixture
def flows_view(qtbot, demo_project_path):
    window = MainWindow(demo_project_path)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)
    window.tabs.setCurrentIndex(1)
    view = window.views[1]
    qtbot.waitUntil(lambda: view.result is not None and not view.runner.busy, timeout=30_000)
    qtbot.wait(100)
    yield view
    window.close()


def test_png_is_slide_shaped_and_not_blank(flows_view, tmp_path):
    from PySide6.QtGui import QImage
    path = flows_view.export_to(tmp_path / "flows.png", width=1280)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 720)
    sample = [image.pixelColor(x, y).name() for x in range(0, 1280, 16) for y in range(200, 700, 16)]
    assert sum(colour != "#ffffff" for colour in sample) > len(sample) * 0.2


def test_svg_has_vector_paths_and_text_labels(flows_view, tmp_path):
    path = flows_view.export_to(tmp_path / "flows.svg")
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(list(root.iter(f"{ns}path"))) > 20
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{ns}text"))
    assert "Flows" in text and "Sign Up" in text


def test_pdf_has_one_page(flows_view, tmp_path):
    data = flows_view.export_to(tmp_path / "flows.pdf").read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") \
        + data.count(b"/Type /Page>") + data.count(b"/Type/Page") >= 1


def test_csv_round_trips_the_table(flows_view, tmp_path):
    path = flows_view.export_to(tmp_path / "flows.csv")
    table = pd.read_csv(path)
    assert table["users"].tolist() == flows_view.model.frame["users"].tolist()


def test_xlsx_neutralises_formulas(tmp_path):
    frame = pd.DataFrame({"event": ["=cmd|' /C calc'!A0", "+1", "Sign Up"], "users": [1, 2, 3]})
    path = write_table(frame, tmp_path / "t.xlsx")
    back = pd.read_excel(path)
    assert back["event"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "Sign Up"]
    assert back["users"].tolist() == [1, 2, 3]
