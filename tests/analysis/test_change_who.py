"""Who a change hit: hand-built logs where a drop is confined to one country, or spread over all."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.analysis import change_who, changes
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
START = 1_704_067_200_000            # Monday 2024-01-01
WINDOW = (START + 35 * DAY, START + 49 * DAY)


def _log(broken_countries: set[str]) -> EventLog:
    """80 paths a day for 10 weeks, half IN and half GB: home → pay → done, or pay → error during the
    window for the broken countries."""
    rows = []
    for day in range(70):
        for n in range(8):
            country = "IN" if n % 2 else "GB"
            user, t = f"u{day}-{n}", START + day * DAY + n * 60_000
            broken = WINDOW[0] <= t < WINDOW[1] and country in broken_countries
            rows += [(user, "home", t, country), (user, "pay", t + 1000, country),
                     (user, "error" if broken else "done", t + 2000, country)]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "country"]))


def test_a_drop_in_one_country_is_found_there_with_its_rates():
    log = _log({"IN"})
    found, tried = change_who.who_changed(log, "transition", "pay", "done", (START, WINDOW[0]), WINDOW)
    assert tried == ["country"]
    assert (found["property"], found["value"]) == ("country", "IN")
    # IN: every pay went on to done before the window and none during it; GB always did.
    assert (found["before"], found["during"], found["others_before"], found["others_during"]) == (1.0, 0.0, 1.0, 1.0)
    assert found["trials_during"] == 14 * 4 and found["q_value"] < 0.05


def test_a_drop_everywhere_names_no_country():
    log = _log({"IN", "GB"})
    found, tried = change_who.who_changed(log, "transition", "pay", "done", (START, WINDOW[0]), WINDOW)
    assert found is None and tried == ["country"]


@pytest.mark.parametrize("kind, source, target", [("rate", "error", None), ("funnel", "pay", "done")])
def test_event_rates_and_funnel_steps_are_counted_too(kind, source, target):
    found, _ = change_who.who_changed(_log({"IN"}), kind, source, target, (START, WINDOW[0]), WINDOW)
    assert found["value"] == "IN"


def test_the_changes_story_says_who_in_its_headline_and_text():
    result = changes.run(_log({"IN"}), changes.Spec(goal="done"))
    story = result.stories[0]
    assert story["who"]["found"]["value"] == "IN"
    assert ", mostly country = IN (from 2024-02-05 to 2024-02-18)" in story["headline"]
    assert "It was concentrated in country = IN: there" in story["text"]
    spread = changes.run(_log({"IN", "GB"}), changes.Spec(goal="done")).stories[0]
    assert "mostly" not in spread["headline"]
    assert spread["text"].endswith("No single country stands out: the change was spread across them.")


def test_a_later_funnel_step_is_not_counted_per_path_the_same_transition_is():
    """A funnel's later step counts paths that took the earlier steps in order; who_changed's per-path
    first A -> B does not reproduce that, so the story's per-event transition is used instead."""
    log = _log({"IN"})
    story = {"evidence": {"before": {"since": "2024-01-01", "until": "2024-02-05"},
                          "during": {"since": "2024-02-05", "until": "2024-02-19"}},
             "changes": [{"kind": "funnel", "source": "pay", "target": "done"},
                         {"kind": "transition", "source": "pay", "target": "done"}]}
    properties = change_who.path_properties(log)
    assert change_who.story_who(log, story, properties, first_step="home")["change"] == 1
    assert change_who.story_who(log, story, properties, first_step="pay")["change"] == 0
    assert change_who.story_who(log, story, properties, first_step="home")["found"]["value"] == "IN"


def test_a_funnel_step_says_where_inside_it_things_broke():
    """install → kyc spans sms_sent → verified; in the window half the codes never arrive (resend,
    then nothing). The headline names that transition; a step that is itself the transition does not."""
    rows = []
    for day in range(70):
        for n in range(8):
            user, t = f"u{day}-{n}", START + day * DAY + n * 60_000
            broken = WINDOW[0] <= t < WINDOW[1] and n % 2
            rows += [(user, "install", t), (user, "sms_sent", t + 1000)]
            rows += [(user, "resend", t + 2000)] if broken else [(user, "verified", t + 2000), (user, "kyc", t + 3000)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    story = changes.run(log, changes.Spec(steps=("install", "kyc"))).stories[0]
    assert story["headline"].startswith("install → kyc fell from 100% to 50%, where sms_sent → verified fell "
                                        "from 100% to 50% (from 2024-02-05 to 2024-02-18)")
    assert story["at"] == {"source": "sms_sent", "target": "verified", "before": 1.0, "during": 0.5}
    direct = changes.run(log, changes.Spec(steps=("sms_sent", "verified"))).stories[0]
    assert "at" not in direct and ", where" not in direct["headline"]


def test_who_comes_before_where_in_the_headline():
    """A slide title cut at two lines must keep who it hit: "…, mostly country = IN, where pay → done …"."""
    story = changes.run(_log({"IN"}), changes.Spec(steps=("home", "done"))).stories[0]
    assert ", mostly country = IN, where pay → done fell from 100% to 50%" in story["headline"]


def _release_log(broken: str | None) -> EventLog:
    """80 paths a day for 10 weeks on app versions: 1.0 throughout; from the window's first day every
    other user has 2.0 instead. ``broken``: "2.0" (its pays fail from then on: error, not done), "all"
    (every pay in the window fails), None."""
    rows = []
    for day in range(70):
        for n in range(8):
            t = START + day * DAY + n * 60_000
            version = "2.0" if t >= WINDOW[0] and n % 2 else "1.0"
            fails = broken == version or (broken == "all" and WINDOW[0] <= t < WINDOW[1])
            rows += [(f"u{day}-{n}", event, t + k * 1000, version)
                     for k, event in enumerate(["home", "pay", "error" if fails else "done"])]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "app_version"]))


def test_a_drop_that_came_with_a_new_app_version_names_the_release():
    release = change_who.release_with(_release_log("2.0"), "transition", "pay", "done", (START, WINDOW[0]), WINDOW)
    assert (release["property"], release["value"], release["first_seen"]) == ("app_version", "2.0", WINDOW[0] + 60_000)
    # During the window half the pays are on 2.0 (none went on to done), the other half on 1.0 (all did).
    assert (release["rate"], release["others_rate"], release["before_rate"], release["share"]) == (0.0, 1.0, 1.0, 0.5)


def test_a_new_version_hit_no_harder_than_the_old_one_is_no_release_to_blame():
    log = _release_log("all")       # every pay fails in the window, on 1.0 as on 2.0
    assert change_who.release_with(log, "transition", "pay", "done", (START, WINDOW[0]), WINDOW) is None


def test_the_changes_story_names_the_release_in_its_headline_and_text():
    story = changes.run(_release_log("2.0"), changes.Spec(goal="done")).stories[0]
    assert ", mostly app_version = 2.0 (since 2024-02-05)" in story["headline"]
    assert ("It came with app_version = 2.0 (first seen 2024-02-05): pay → done was 0% on its events, "
            "100% on the others of the same weeks and 100% before.") in story["text"]


def _one_country_log(changed_rate_in: float) -> EventLog:
    """20 weeks x 40 users a day in four countries; half of each country's pays go on to done (the rest
    to error), except IN's from week 10 on, where ``changed_rate_in`` of them do."""
    rows = []
    for day in range(140):
        for n in range(40):
            country, rank = ["IN", "GB", "US", "DE"][n % 4], (n // 4) % 10
            t = START + day * DAY + n * 60_000
            rate = changed_rate_in if country == "IN" and day >= 70 else 0.5
            rows += [(f"u{day}-{n}", event, t + k * 1000, country)
                     for k, event in enumerate(["home", "pay", "done" if rank < 10 * rate else "error"])]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "country"]))


def test_a_conversion_that_changed_in_one_country_only_is_a_story_though_diluted_overall():
    # IN: 50% -> 80% from week 10; all users 50% -> 57.5%: odds 1.35x, under the scan's 1.5x.
    result = changes.run(_one_country_log(0.8), changes.Spec(goal="done"))
    assert result.stories and result.stories[0]["headline"].startswith("pay → done rose from 50% to 57%, mostly country = IN")
    assert "there pay → done went from 50% to 80%, against 50% to 50% for the others" in result.stories[0]["text"]
    assert "noise. Found instead: 1 change in one segment only (3 series; see who it hit)." in result.note


def test_no_segment_story_without_a_change():
    assert changes.run(_one_country_log(0.5), changes.Spec(goal="done")).stories == []
