"""Offline by construction: importing, every view, exports and the report never touch the network."""
from __future__ import annotations

import socket
import sys

import pytest

from journey_explorer.cli import main


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network use: {args[:2]}")

    for name in ("getaddrinfo", "create_connection", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_import_views_exports_and_report_stay_offline(no_network, qtbot, tmp_path):
    from journey_explorer.ui.main_window import MainWindow
    source = tmp_path / "events.csv"
    source.write_text("user,event,time\n" + "".join(
        f"u{i},{step},2024-01-0{1 + j}T09:00:00Z\n" for i in range(20) for j, step in
        enumerate(["visit", "signup", "pay" if i % 2 else "leave"])))
    project = tmp_path / "p.journey"
    assert main(["import", str(project), str(source)]) == 0
    window = MainWindow(project)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.explorer.log is not None and not window.loader.busy, timeout=30_000)
    for view in window.views:
        window.show_view(view.key)
        qtbot.waitUntil(lambda v=view: v.result is not None and not v.runner.busy, timeout=30_000)
    window.export_to(window.view("flows"), tmp_path / "flows.svg")
    window.close()
    assert main(["report", str(project), "--goal", "pay", "--out", str(tmp_path / "r.pptx")]) == 0
    assert not any(name.startswith("PySide6.QtNetwork") for name in sys.modules)
