"""Events named by a property: the transform, the suggestion, the project's rule, the import's naming."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.store import event_detail
from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

PAGES = ["Home", "Pricing", "Sign up", "Docs"]


def web_rows(users: int = 30) -> list[tuple]:
    """Each user: page_view Home, Pricing, Sign up (page_title set), a sign_up event, then Docs."""
    rows = []
    for u in range(users):
        for step, page in enumerate(PAGES[:3]):
            rows.append((f"u{u}", "page_view", step * 60_000, page, "Chrome"))
        rows.append((f"u{u}", "sign_up", 3 * 60_000, None, "Chrome"))
        rows.append((f"u{u}", "page_view", 4 * 60_000, "Docs", "Chrome"))
    return rows


def web_frame(users: int = 30) -> pd.DataFrame:
    return pd.DataFrame(web_rows(users), columns=["user", "event", "time", "page_title", "browser"])


def test_naming_keeps_rows_and_order_and_counts_each_page():
    log = EventLog.from_frame(web_frame())
    named = event_detail.name_by_property(log, {"page_view": "page_title"})
    assert len(named) == len(log) and (named.ts == log.ts).all() and (named.user == log.user).all()
    assert named.event_names == ("page_view: Docs", "page_view: Home", "page_view: Pricing", "page_view: Sign up",
                                 "sign_up")
    shown = pd.Series([named.event_names[c] for c in named.event]).value_counts()
    assert shown["page_view: Home"] == 30 and shown["sign_up"] == 30 and shown.sum() == 150


def test_rare_values_beyond_the_cap_share_one_other_name():
    log = EventLog.from_frame(web_frame())
    named = event_detail.name_by_property(log, {"page_view": "page_title"}, max_values=2)
    # Home, Pricing, Sign up and Docs: 30 rows each; the first two by rank keep names, the rest "(other)"
    shown = pd.Series([named.event_names[c] for c in named.event]).value_counts()
    assert shown["page_view: (other)"] == 60 and len(named.event_names) == 4       # 3 pages + sign_up


def test_a_rule_for_an_unknown_event_or_property_changes_nothing():
    log = EventLog.from_frame(web_frame())
    assert event_detail.name_by_property(log, {"click": "page_title", "page_view": "nope"}) is log


def test_suggestion_finds_the_page_property_not_the_browser():
    log = EventLog.from_frame(web_frame())
    [suggestion] = event_detail.suggest(log)
    assert (suggestion.event, suggestion.property, suggestion.values) == ("page_view", "page_title", 4)
    assert suggestion.share_of_log == pytest.approx(0.8) and event_detail.clear_case(suggestion)
    assert "page_title tells them apart (4 values: " in suggestion.sentence


def test_no_suggestion_when_events_already_name_the_steps():
    frame = web_frame()
    frame["event"] = frame["page_title"].fillna("sign_up").str.lower()
    assert event_detail.suggest(EventLog.from_frame(frame)) == []
    named = event_detail.name_by_property(EventLog.from_frame(web_frame()), {"page_view": "page_title"})
    assert event_detail.suggest(named) == []          # "page_view: Home" is not split again


def test_the_project_keeps_the_rule_and_every_load_applies_it(tmp_path):
    csv = tmp_path / "web.csv"
    web_frame().rename(columns={"page_title": "label"}).to_csv(csv, index=False)
    path = tmp_path / "p.journey"
    import_file(path, csv)
    with Project.open(path) as project:
        assert project.event_detail_rules() == {}            # a "label" is no page or screen: not named at import
        project.set_event_detail("page_view", "label")
        assert "page_view: Pricing" in project.load_event_log().event_names
        assert "page_view: Pricing" in project.load_event_log(properties=[]).event_names    # the CLI's loads too
        with pytest.raises(JourneyError, match="no event property 'colour'"):
            project.set_event_detail("page_view", "colour")
        with pytest.raises(JourneyError, match="No event named 'page_veiw' in this project; did you mean 'page_view'"):
            project.set_event_detail("page_veiw", "label")
        project.rename_event("page_view", "Page View")          # the rule follows the event's new name
        assert project.event_detail_rules() == {"Page View": "label"}
        assert "Page View: Pricing" in project.load_event_log().event_names
        project.set_event_detail("Page View", None)
        assert "Page View" in project.load_event_log().event_names


@pytest.mark.parametrize("made_empty_first", [False, True])       # the import window makes the file first
def test_a_new_project_of_page_views_is_named_by_page_at_import(tmp_path, made_empty_first):
    csv = tmp_path / "web.csv"
    web_frame().to_csv(csv, index=False)
    if made_empty_first:
        Project.create(tmp_path / "p.journey").close()
    summary = import_file(tmp_path / "p.journey", csv)
    assert any("page_view events are named by their page_title" in note for note in summary.notes)
    with Project.open(tmp_path / "p.journey") as project:
        assert project.event_detail_rules() == {"page_view": "page_title"}
        assert "page_view: Sign up" in project.load_event_log().event_names
    # A second file into the same project does not name again what the user may have undone.
    with Project.open(tmp_path / "p.journey") as project:
        project.set_event_detail("page_view", None)
    more = tmp_path / "more.csv"
    web_frame(5).assign(user=lambda f: "x" + f["user"]).to_csv(more, index=False)
    import_file(tmp_path / "p.journey", more)
    with Project.open(tmp_path / "p.journey") as project:
        assert project.event_detail_rules() == {}


def test_the_hygiene_command_names_and_unnames_events(tmp_path, capsys):
    from journey_explorer.cli import main
    csv = tmp_path / "web.csv"
    web_frame().rename(columns={"page_title": "label"}).to_csv(csv, index=False)
    path = tmp_path / "p.journey"
    import_file(path, csv)
    assert main(["hygiene", str(path)]) == 0
    assert "page_view makes 80% of the events; its property label tells them apart" in capsys.readouterr().out
    assert main(["hygiene", str(path), "--name-by", "page_view=label"]) == 0
    assert "Events to name by a property" not in capsys.readouterr().out
    with Project.open(path) as project:
        assert "page_view: Docs" in project.load_event_log().event_names
    assert main(["hygiene", str(path), "--name-plainly", "page_view"]) == 0
    with Project.open(path) as project:
        assert project.event_detail_rules() == {}


def test_urls_name_pages_by_their_path_without_query_or_ids():
    frame = web_frame()
    frame["page_location"] = frame["page_title"].map(
        {"Home": "https://shop.example/?utm=x", "Pricing": "https://shop.example/pricing?gclid=1",
         "Sign up": "https://shop.example/signup#form", "Docs": "https://shop.example/docs/page"}.get)
    frame.loc[frame.index % 3 == 0, "page_location"] = frame["page_location"].str.replace("?gclid=1", "?gclid=2")
    frame.loc[frame["page_title"] == "Docs", "page_location"] = [f"https://shop.example/orders/{1000 + i}"
                                                                  for i in range((frame["page_title"] == "Docs").sum())]
    log = EventLog.from_frame(frame.drop(columns=["page_title"]))
    [suggestion] = event_detail.suggest(log)
    assert (suggestion.property, suggestion.values) == ("page_location", 4)     # dozens of URLs, 4 pages
    named = event_detail.name_by_property(log, {"page_view": "page_location"})
    assert set(named.event_names) == {"page_view: /", "page_view: /pricing", "page_view: /signup",
                                      "page_view: /orders/:id", "sign_up"}
    assert event_detail.suggest(EventLog.from_frame(frame))[0].property == "page_title"    # the title reads better


def test_a_referrer_never_names_the_page():
    # GA4 rows carry the page and the one before it; the last page (Docs) is nobody's referrer, so the
    # referrer has fewer values and would win on that alone.
    frame = web_frame()
    frame["page_location"] = "https://shop.example/" + frame["page_title"].str.lower().str.replace(" ", "-")
    frame["page_referrer"] = frame.groupby("user")["page_location"].shift(1)
    frame.loc[frame["event"] != "page_view", ["page_location", "page_referrer"]] = None
    frame["page_referrer"] = frame.groupby("user")["page_referrer"].ffill().fillna("https://google.com/")
    log = EventLog.from_frame(frame.drop(columns=["page_title"]))
    assert [(s.event, s.property) for s in event_detail.suggest(log)] == [("page_view", "page_location")]


def payment_frame(users: int = 40) -> pd.DataFrame:
    """Each user: cart, checkout, payment with status "failed" (every 4th user) or "success"; the failed
    ones try again and succeed. A "country" property has two values too (not an outcome)."""
    rows = []
    for u in range(users):
        country = "DE" if u % 2 else "FR"
        rows += [(f"u{u}", "cart", 0, None, country), (f"u{u}", "checkout", 60_000, None, country)]
        statuses = ["failed", "success"] if u % 4 == 0 else ["success"]
        rows += [(f"u{u}", "payment", 120_000 + k * 60_000, status, country) for k, status in enumerate(statuses)]
    return pd.DataFrame(rows, columns=["user", "event", "time", "status", "country"])


def test_an_event_carrying_its_outcome_is_suggested_to_be_named_by_it():
    log = EventLog.from_frame(payment_frame())
    [suggestion] = event_detail.suggest(log)
    assert (suggestion.event, suggestion.property, suggestion.values, suggestion.kind) == ("payment", "status", 2, "outcome")
    assert suggestion.examples == ("success", "failed") and event_detail.clear_case(suggestion)
    assert suggestion.sentence == ("payment carries its outcome in status (success, failed): one name counts a "
                                   "failed payment as reaching it; name them by it?")
    named = event_detail.name_by_property(log, {"payment": "status"})
    assert {"payment: success", "payment: failed"} <= set(named.event_names)


def test_a_status_without_a_success_and_a_failure_is_no_outcome():
    frame = payment_frame().assign(status=lambda f: f["status"].map({"failed": "pending", "success": "shipped"}))
    assert event_detail.suggest(EventLog.from_frame(frame)) == []


def test_a_new_project_names_an_event_by_its_outcome_at_import(tmp_path):
    csv = tmp_path / "orders.csv"
    payment_frame().to_csv(csv, index=False)
    summary = import_file(tmp_path / "p.journey", csv)
    assert any("payment events are named by their status" in note for note in summary.notes)
    with Project.open(tmp_path / "p.journey") as project:
        assert project.event_detail_rules() == {"payment": "status"}
        assert {"payment: success", "payment: failed"} <= set(project.load_event_log().event_names)


def test_a_property_that_changes_along_each_users_events_is_suggested_whatever_its_name():
    """lesson_started is most of the log; its "lesson" (not named like a page) changes along each user's
    lessons, so it names steps; its "country" is fixed per user and names nobody's steps."""
    rows = []
    for u in range(20):
        for k, lesson in enumerate(["Unit 1", "Unit 2", "Unit 3"]):
            rows.append((f"u{u}", "lesson_started", k * 60_000, lesson, "DE" if u % 2 else "FR"))
        rows.append((f"u{u}", "subscribed", 4 * 60_000, None, "DE" if u % 2 else "FR"))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "lesson", "country"]))
    [suggestion] = event_detail.suggest(log)
    assert (suggestion.event, suggestion.property, suggestion.values) == ("lesson_started", "lesson", 3)
    assert not event_detail.clear_case(suggestion)        # suggested, not applied at import
    fixed = pd.DataFrame(rows, columns=["user", "event", "time", "lesson", "country"]).drop(columns="lesson")
    assert event_detail.suggest(EventLog.from_frame(fixed)) == []


def test_only_a_status_word_of_its_own_names_an_outcome():
    assert event_detail.OUTCOME_PROPERTY.search("payment_status") and event_detail.OUTCOME_PROPERTY.search("Result")
    assert not event_detail.OUTCOME_PROPERTY.search("search_results")
    assert not event_detail.OUTCOME_PROPERTY.search("response_ms")


def test_a_per_user_property_named_like_a_step_does_not_name_pages():
    # os.name has "name" in it, but every user keeps one: it splits users, not pages; genre changes
    # along each user's page views (a title's id would name pages by codes)
    rows = []
    for u in range(40):
        for k, genre in enumerate(["drama", "comedy", "news", "kids"][u % 2:]):
            rows.append((f"u{u}", "Title Page Viewed", k * 60_000, ["iOS", "Android", "Web"][u % 3], genre,
                         f"tt{u}{k}"))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "context.os.name", "genre",
                                                          "title_id"]))
    assert [(s.event, s.property) for s in event_detail.suggest(log)] == [("Title Page Viewed", "genre")]


def test_levels_of_a_smaller_event_are_steps_when_asked_for_smaller_events():
    # level_started with levels 1..70 (more values than names a project keeps: the rest would be
    # "(other)") makes 25% of the log: not generic for the Checks panel, a sequence for stuck points
    rows = []
    for u in range(20):
        for level in range(1, 71):
            rows.append((f"u{u}", "level_started", level * 3, level))
            rows += [(f"u{u}", "tap", level * 3 + k, None) for k in (1, 2)]
            rows.append((f"u{u}", "lobby", level * 3 + 2, None))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "level"]))
    assert event_detail.suggest(log) == []
    found = event_detail.suggest(log, min_share=0.05)
    assert [(s.event, s.property, s.values) for s in found] == [("level_started", "level", 70)]


def test_amounts_and_counts_are_not_steps():
    # view_item carries a price (whole numbers, up and down along a user's views) and a quantity of
    # 1-5; neither names a step, though both change along each user's events
    rng = np.random.default_rng(2)
    rows = [(f"u{u}", "view_item", k * 60_000, int(rng.integers(5, 40)), int(rng.integers(1, 6)))
            for u in range(40) for k in range(8)]
    rows += [(f"u{u}", "buy", 9 * 60_000, None, None) for u in range(10)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "price", "quantity"]))
    assert event_detail.suggest(log, min_share=0.05) == []
