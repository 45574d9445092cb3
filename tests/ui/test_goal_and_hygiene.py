"""The goal picker (stored goal, else the structural guess marked as such; the choice kept in the
project) and the catalog's hygiene panel (suggested merges: merge as one undo step, dismiss kept)."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from journey_explorer.analysis import hygiene
from journey_explorer.analysis.narrative import guess_goal
from journey_explorer.store.project import Project


@pytest.fixture
def project(demo_project_path, tmp_path):
    """A copy of the demo: these tests write to the project."""
    path = tmp_path / "client.journey"
    shutil.copy(demo_project_path, path)
    return path


def settle_hygiene(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.hygiene.result is not None and not window.hygiene.runner.busy, timeout=60_000)


def test_without_a_stored_goal_the_picker_shows_the_guess_marked_never_the_first_item(open_window, project, qtbot):
    with Project.open(project) as p:
        p.default_goal = None
    window = open_window(project)
    log = window.explorer.log
    guess = guess_goal(log)
    assert window.goal.currentData() == guess and window.explorer.filters.goal == guess
    assert window.goal.currentText().startswith(f"{guess} (guessed) — ")
    assert window.goal.findText("(guessed)", Qt.MatchFlag.MatchContains) == window.goal.currentIndex()
    users = [int(window.goal.itemText(i).rsplit("— ", 1)[1].split()[0].replace(",", ""))
             for i in range(window.goal.count())]
    assert users == sorted(users, reverse=True)            # by paths reaching them, with the counts
    code = log.event_code(guess)
    assert users[window.goal.currentIndex()] == len(set(log.user[log.event == code]))
    assert window.goal.itemData(0) != guess                # on the demo the first item is another event


def test_the_chosen_goal_is_kept_in_the_project_and_restored_on_reopen(open_window, project, qtbot):
    with Project.open(project) as p:
        p.default_goal = None
    window = open_window(project)
    chosen = next(window.goal.itemData(i) for i in range(window.goal.count())
                  if window.goal.itemData(i) != window.goal.currentData())
    index = window.goal.findData(chosen)
    window.goal.setCurrentIndex(index)
    window.goal.activated.emit(index)                      # what a user's pick sends
    assert window.explorer.filters.goal == chosen
    assert "(guessed)" not in " ".join(window.goal.itemText(i) for i in range(window.goal.count()))
    with Project.open(project) as p:
        assert p.default_goal == chosen
    window.close()
    again = open_window(project)
    assert again.goal.currentData() == chosen and again.explorer.filters.goal == chosen
    assert not again.goal.currentText().count("(guessed)")


def test_the_hygiene_panel_suggests_the_demos_pair_and_merges_it_in_one_undo_step(open_window, project, qtbot):
    window = open_window(project)
    settle_hygiene(qtbot, window)
    panel = window.hygiene
    result = hygiene.run(window.explorer.log, hygiene.Spec())
    assert panel.merges.count() == len(result.suggestions) >= 1
    top = result.suggestions[0]
    assert {"invite_teammate", "Invite Teammates"} <= set(top.names)
    first = panel.merges.item(0).text()
    assert first.startswith(f"{' + '.join(top.names)} → {top.target}") and f"{top.confidence:.0%}" in first
    assert all(f"• {line}" in first for line in top.evidence)
    # Faults first; then, listed but not counted, what is explained (here the two halves of the rename)
    assert [panel.breakages.item(i).text() for i in range(panel.breakages.count())] == \
        [b.message for b in result.broken] + [f"Explained, not broken: {b.message}" for b in result.explained]
    assert result.explained and all("explained_by" in b.numbers for b in result.explained)
    assert window.catalog_tabs.tabText(1) == f"Checks ({len(result.suggestions) + len(result.broken)})"
    names_before = set(window.explorer.log.event_names)
    panel.merges.setCurrentRow(0)
    with qtbot.waitSignal(panel.merge_requested):
        panel.merge_button.click()
    qtbot.waitUntil(lambda: not (set(top.names) - {top.target}) & set(window.explorer.log.event_names)
                    and not window.loader.busy, timeout=30_000)
    assert window.undo.count() == 1                         # one step, however many names
    window.undo.undo()
    qtbot.waitUntil(lambda: set(window.explorer.log.event_names) == names_before and not window.loader.busy,
                    timeout=30_000)


def test_a_dismissed_suggestion_is_remembered_in_the_project(open_window, project, qtbot):
    window = open_window(project)
    settle_hygiene(qtbot, window)
    panel = window.hygiene
    key = panel.merges.item(0).data(Qt.ItemDataRole.UserRole).key
    count = panel.merges.count()
    panel.merges.setCurrentRow(0)
    panel.dismiss_button.click()
    assert panel.merges.count() == count - 1
    with Project.open(project) as p:
        assert key in hygiene.dismissed_keys(p)
    window.close()
    again = open_window(project)
    settle_hygiene(qtbot, again)
    keys = [again.hygiene.merges.item(i).data(Qt.ItemDataRole.UserRole).key for i in range(again.hygiene.merges.count())]
    assert key not in keys


def test_a_log_of_page_views_is_named_by_page_from_the_checks_panel_in_one_undo_step(open_window, tmp_path, qtbot):
    from journey_explorer.store.importer import import_file
    from tests.store.test_event_detail import web_frame
    csv, path = tmp_path / "web.csv", tmp_path / "web.journey"
    web_frame().rename(columns={"page_title": "label"}).to_csv(csv, index=False)    # not named at import
    import_file(path, csv)
    window = open_window(path)
    settle_hygiene(qtbot, window)
    panel = window.hygiene
    naming = panel.merges.item(0).data(Qt.ItemDataRole.UserRole)
    assert (naming.event, naming.property) == ("page_view", "label")
    assert panel.merges.item(0).text().startswith("page_view makes 80% of the events; its property label")
    panel.merges.setCurrentRow(0)
    assert panel.merge_button.text() == "Name by it"
    with qtbot.waitSignal(panel.merge_requested):
        panel.merge_button.click()
    qtbot.waitUntil(lambda: "page_view: Pricing" in window.explorer.log.event_names and not window.loader.busy,
                    timeout=30_000)
    assert window.goal.findData("page_view: Sign up") >= 0                 # the goal picker lists the pages
    assert window.undo.count() == 1
    window.undo.undo()
    qtbot.waitUntil(lambda: "page_view" in window.explorer.log.event_names and not window.loader.busy,
                    timeout=30_000)
    with Project.open(path) as project:
        assert project.event_detail_rules() == {}


def test_a_goal_to_avoid_is_one_undo_step_follows_the_goals_name_and_is_kept_with_the_filters(open_window, project,
                                                                                              qtbot):
    window = open_window(project)
    goal = window.goal.currentData()
    assert not window.avoid_goal.isChecked() and not window.explorer.filters.goal_unwanted()
    window.avoid_goal.click()                              # the user says the goal is an outcome to avoid
    assert window.explorer.filters.goal_unwanted() and window.explorer.filters.avoid_goal is True
    window.undo.undo()
    assert not window.avoid_goal.isChecked() and not window.explorer.filters.goal_unwanted()
    window.undo.redo()
    assert window.avoid_goal.isChecked() and window.explorer.filters.goal_unwanted()
    from journey_explorer.state import registry
    assert registry.view("stuck").default_spec(window.explorer.log, window.explorer.filters).unwanted
    saved = window.project_state()["filters"]              # what the project keeps of the window
    assert saved["avoid_goal"] is True
    # Another goal: to avoid or not as its name says.
    other = next(window.goal.itemData(i) for i in range(window.goal.count()) if window.goal.itemData(i) != goal)
    window.goal.setCurrentIndex(window.goal.findData(other))
    assert window.avoid_goal.isChecked() == ("cancel" in other.lower())
    window.goal.setCurrentIndex(window.goal.findData(goal))
    assert not window.avoid_goal.isChecked()
    window.show_saved_filters(saved)                       # as on reopening the project
    assert window.avoid_goal.isChecked()


def test_a_reload_of_the_same_project_keeps_the_goals_to_avoid_choice(open_window, project, qtbot):
    # A catalog edit reloads the project without restoring its saved state: the goal and its tick stay.
    window = open_window(project)
    goal = window.goal.currentData()
    window.avoid_goal.click()
    assert window.explorer.filters.goal_unwanted()
    before = window.explorer.log
    window.reload()
    qtbot.waitUntil(lambda: window.explorer.log is not before and not window.loader.busy, timeout=30_000)
    assert window.goal.currentData() == goal
    assert window.avoid_goal.isChecked() and window.explorer.filters.goal_unwanted()
    # Another project (or the goal gone) follows the goal's name again: see fill_goals.
    window.fill_goals(window.explorer.log, same_project=False)
    assert not window.avoid_goal.isChecked()


def test_undoing_a_goals_to_avoid_choice_leaves_another_goal_alone(open_window, project, qtbot):
    window = open_window(project)
    goal = window.goal.currentData()
    window.avoid_goal.click()                              # goal: to avoid
    window.undo.undo()                                     # goal: to reach again
    other = next(window.goal.itemData(i) for i in range(window.goal.count())
                 if window.goal.itemData(i) != goal and "cancel" not in window.goal.itemData(i).lower())
    window.goal.setCurrentIndex(window.goal.findData(other))
    assert not window.avoid_goal.isChecked()
    window.undo.redo()                                     # the tick was the first goal's, not this one's
    assert not window.avoid_goal.isChecked() and not window.explorer.filters.goal_unwanted()
    window.goal.setCurrentIndex(window.goal.findData(goal))
    window.undo.undo()
    window.undo.redo()                                     # back on its goal it applies again
    assert window.avoid_goal.isChecked() and window.explorer.filters.goal_unwanted()


def test_closing_a_project_lets_go_of_its_pending_side_checks(open_window, project):
    window = open_window(project)
    window.pending_checks = (window.project_path, window.explorer.log)   # as until the first view is drawn
    window.close_project()
    assert window.pending_checks is None


def test_a_goal_one_user_reaches_is_listed_with_one_user(open_window, tmp_path):
    from journey_explorer.cli import main
    source = tmp_path / "e.csv"
    source.write_text("user,event,time\nu1,signup,2024-01-01T10:00:00Z\nu1,pay,2024-01-02T10:00:00Z\n"
                      "u2,signup,2024-01-03T10:00:00Z\n")
    assert main(["import", str(tmp_path / "p.journey"), str(source)]) == 0
    window = open_window(tmp_path / "p.journey")
    assert window.goal.itemText(window.goal.findData("pay")).endswith(" — 1 user")
    assert window.project_label.text().endswith("\n2 users · 3 events")
