"""``journey-explorer events.csv``: the app opens as it would without the file, then offers to import it
(new project named after it, or the open one) -- it used to try the CSV as a project and sat on
"Opening events…" for ever."""
from __future__ import annotations

from pathlib import Path

from journey_explorer import app
from journey_explorer.ui.main_window import MainWindow


def test_a_data_file_on_the_command_line_is_offered_for_import(qapp, tmp_path, monkeypatch):
    events = tmp_path / "events.csv"
    events.write_text("user,event,time\nu1,a,2024-01-01T00:00:00Z\n")
    offered = []

    def offer(window, path):
        offered.append((window.project_path, path))
        qapp.quit()

    monkeypatch.setattr(MainWindow, "import_new_file", offer)
    monkeypatch.setattr(qapp, "exec", lambda: qapp.processEvents() or 0)      # one turn, not a session
    from PySide6.QtCore import QCoreApplication, QEventLoop
    assert app.main([str(events)]) == 0
    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)
    assert [Path(path) for _, path in offered] == [events.resolve()]
    assert offered[0][0] is not None and Path(offered[0][0]).suffix == ".journey"    # the demo, first run
    assert not app.is_data_file(str(offered[0][0]))
    for widget in qapp.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.close()
            widget.deleteLater()
    QCoreApplication.processEvents()
