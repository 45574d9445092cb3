"""The Paths box names what a path is: per case in a case log (where per session is the same paths)."""
from __future__ import annotations

from journey_explorer.store.importer import import_file
from journey_explorer.ui.main_window import PER_PATH, PER_SESSION


def test_a_case_log_reads_per_case_and_has_no_per_session(open_window, tmp_path, demo_project_path):
    csv = tmp_path / "claims.csv"
    csv.write_text("case:concept:name,concept:name,time:timestamp\n"
                   "c1,Register,2024-01-01T00:00:00\nc1,Approve,2024-01-03T00:00:00\n"
                   "c2,Register,2024-01-01T00:00:00\nc2,Reject,2024-01-09T00:00:00\n")
    import_file(tmp_path / "claims.journey", str(csv))
    window = open_window(tmp_path / "claims.journey")
    assert window.by.itemText(PER_PATH) == "per case"
    assert not window.by.model().item(PER_SESSION).isEnabled()
    assert window.current_filters().by == "user"



def test_a_web_log_reads_per_user_and_per_session(open_window, demo_project_path):
    window = open_window(demo_project_path)
    assert window.by.itemText(PER_PATH) == "per user"
    assert window.by.model().item(PER_SESSION).isEnabled()
    window.by.setCurrentIndex(PER_SESSION)
    assert window.current_filters().by == "session"
