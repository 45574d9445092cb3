"""The import summary's undo button is as wide as its text, not the whole page."""
from __future__ import annotations

from test_import_undo_window import add_second_file, project_with_one_file


def test_undo_button_is_sized_to_its_text(open_window, qtbot, tmp_path):
    window = open_window(project_with_one_file(tmp_path))
    wizard = add_second_file(qtbot, window, tmp_path)
    wizard.resize(900, 600)
    qtbot.waitUntil(lambda: wizard.undo_button.isVisible(), timeout=5_000)
    button, page = wizard.undo_button, wizard.summary_page
    assert button.width() <= button.sizeHint().width() + 4, (button.width(), button.sizeHint().width())
    assert button.width() < page.width() / 2
    wizard.close()
