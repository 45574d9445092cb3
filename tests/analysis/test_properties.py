"""Properties on hand-checked logs: classification, first touch vs any event, per session, every
operator, breakdown groups, behavioural cohorts and saved segments."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journey_explorer.analysis import cohorts, properties, segments
from journey_explorer.analysis.common import CommonFilter, apply_filter
from journey_explorer.domain import JourneyError, UnknownEvent
from journey_explorer.eventlog import EventLog

MIN, HOUR = 60_000, 3_600_000

# u1: two sessions (ios then web); u2: web then a blank; u3: blank then android; u4: nothing.
ROWS = [
    # user, event, time, platform, channel, page, amount
    ("u1", "view", 0, "ios", "ads", "home", 5),
    ("u1", "buy", 1 * MIN, "ios", "ads", "cart", 12.5),
    ("u1", "view", 2 * HOUR, "web", "ads", "home", None),
    ("u2", "view", 0, "web", "seo", "home", 3),
    ("u2", "view", 1 * MIN, None, "seo", "search", None),
    ("u3", "view", 0, None, "ads", "home", None),
    ("u3", "view", 1 * MIN, "android", None, "search", 20),
    ("u4", "view", 0, None, None, "home", None),
]


def make_log(rows=ROWS, **kwargs) -> EventLog:
    frame = pd.DataFrame(rows, columns=["user", "event", "time", "platform", "channel", "page", "amount"])
    return EventLog.from_frame(frame, **kwargs)


def users(log: EventLog, mask: np.ndarray) -> list[str]:
    return sorted(str(k) for k in log.user_keys[mask])


def matching(segment, match="first", log=None):
    log = log or make_log()
    return users(log, segments.segment_paths(log, segment, match=match))


def test_from_frame_keeps_every_extra_column_typed_and_missing():
    log = make_log()
    assert set(log.event_properties) == {"platform", "channel", "page", "amount"}
    amount = log.event_properties["amount"]
    # u1's events first (sorted by user, time): 5, 12.5, missing
    assert [amount.value_at(i) for i in range(3)] == [5, 12.5, None]
    assert properties.resolve(log, "amount").numeric
    assert not properties.resolve(log, "platform").numeric


def test_first_touch_vs_any_event_per_user():
    assert matching(["platform=ios"]) == ["u1"]
    assert matching(["platform=web"]) == ["u2"]                 # u1's first platform is ios
    assert matching(["platform=android"]) == ["u3"]             # u3's first value comes on its 2nd event
    assert matching(["platform=web"], match="any") == ["u1", "u2"]
    assert matching(["platform!=web"], match="any") == ["u3", "u4"]   # never carried web


def test_per_session_paths_use_the_session_value():
    log = make_log()
    sessions = segments.segment_paths(log, ["platform=web"], by="session")
    # sessions: u1#1 (ios), u1#2 (web), u2#1 (web), u3#1 (android), u4#1 (none)
    assert sessions.tolist() == [False, True, True, False, False]
    filtered = apply_filter(log, CommonFilter(segment=("platform=web",), by="session"))
    assert sorted(filtered.user_keys[np.unique(filtered.user)]) == ["u1#2", "u2#1"]


def test_operators():
    assert matching(["platform!=ios"]) == ["u2", "u3", "u4"]        # no value matches !=
    assert matching(["platform in ios, android"]) == ["u1", "u3"]
    assert matching(["platform not in ios,android"]) == ["u2", "u4"]
    assert matching(["amount>=5"]) == ["u1", "u3"]                  # first amounts: 5, 3, 20
    assert matching(["amount>5"]) == ["u3"]
    assert matching(["amount<5"]) == ["u2"]
    assert matching(["amount<=5"]) == ["u1", "u2"]
    assert matching(["amount=20.0"]) == ["u3"]                      # numbers compared as numbers
    assert matching(["amount>=10"], match="any") == ["u1", "u3"]    # u1's 12.5 on its second event
    assert matching(["channel=ads", "platform=ios"]) == ["u1"]      # all conditions must hold
    assert matching(["platform=IOS"]) == ["u1"]                     # case does not matter...
    assert matching(["platform>=ios"]) == ["u1", "u2"]              # ...but text is ordered as text
    assert matching(["page<=home"]) == ["u1", "u2", "u3", "u4"]     # every first page is home
    assert matching(["page>home"]) == []
    assert matching(["page>home"], match="any") == ["u2", "u3"]     # "search" comes after "home"


def test_parse_condition_forms():
    parse = properties.parse_condition
    assert parse("plan = Pro") == properties.Condition("plan", "=", ("Pro",))
    assert parse("case:plan!=Free") == properties.Condition("case:plan", "!=", ("Free",))
    assert parse("country NOT IN de, fr") == properties.Condition("country", "not in", ("de", "fr"))
    assert parse("age >= 30") == properties.Condition("age", ">=", ("30",))
    with pytest.raises(properties.SegmentSyntaxError, match="Cannot read"):
        parse("just words")
    with pytest.raises(properties.SegmentSyntaxError, match="no value"):
        parse("plan=")


def test_errors_are_worded_for_a_person():
    with pytest.raises(properties.UnknownProperty) as caught:
        matching(["platfrom=ios"])
    assert "No property 'platfrom'. Did you mean 'platform'?" in str(caught.value)
    assert "--" not in str(caught.value)
    with pytest.raises(properties.UnknownValue, match="No event has platform 'iso'. Did you mean 'ios'"):
        matching(["platform=iso"])
    with pytest.raises(properties.PropertyError, match="'abc' is not one"):
        matching(["amount=abc"])


def test_user_properties_and_case_prefix_go_the_same_way():
    plans = pd.DataFrame({"user": ["u1", "u2", "u3", "u4"], "case:plan": ["Pro", "Free", "Pro", None]})
    log = make_log(user_properties=plans)
    assert matching(["plan=Pro"], log=log) == ["u1", "u3"]          # no case: prefix needed
    assert matching(["case:plan!=Pro"], log=log) == ["u2", "u4"]
    filtered = apply_filter(log, CommonFilter(segment=("plan=Pro",), by="session"))
    assert sorted(filtered.user_keys[np.unique(filtered.user)]) == ["u1#1", "u1#2", "u3#1"]


def test_time_range_applies_before_first_touch():
    log = make_log()
    # From 1 minute on, u2's first platform value is missing and u3's is android.
    kept = apply_filter(log, CommonFilter(since="1970-01-01T00:01:00", segment=("platform=android",)))
    assert sorted(kept.user_keys[np.unique(kept.user)]) == ["u3"]
    kept = apply_filter(log, CommonFilter(since="1970-01-01T00:01:00", segment=("platform=web",)))
    assert len(kept) == 0          # u1's first value in range is ios (its buy), u2 has none


def test_classification_and_catalog():
    catalog = properties.catalog(make_log()).set_index("property")
    assert catalog.loc["channel", "level"] == "user"
    assert catalog.loc["platform", "level"] == "session"            # u1 changes between sessions only
    assert catalog.loc["page", "level"] == "event"
    assert catalog.loc["platform", "changing_users"] == 1
    assert catalog.loc["page", "changing_sessions"] == 3            # u1 first session, u2, u3
    assert catalog.loc["amount", "type"] == "number"
    assert catalog.loc["platform", "users"] == 3
    assert catalog.loc["platform", "events"] == 5
    # top values by users: web (u1, u2), then ios and android (1 each, first seen order)
    assert catalog.loc["platform", "top_values"] == "web (2) · ios (1) · android (1)"
    assert catalog.loc["platform", "top"][0] == {"value": "web", "users": 2, "events": 2}


def test_breakdown_top_n_other_and_none():
    rows = [(f"u{i}", "view", i, platform, None, None, None)
            for i, platform in enumerate(["a", "a", "a", "b", "b", "c", None, "d"])]
    log = make_log(rows)
    split = properties.breakdown(log, "platform", top=2)
    assert split.labels == ["a", "b", "Other", "(none)"]
    assert split.sizes.tolist() == [3, 2, 2, 1]
    assert sorted(log.user_keys[split.group == 2]) == ["u5", "u7"]
    assert properties.breakdown(log, "platform", top=5).labels == ["a", "b", "c", "d", "(none)"]


def test_behavioural_cohorts():
    log = make_log()
    assert matching(["did buy"], log=log) == ["u1"]
    assert matching(["did not buy"], log=log) == ["u2", "u3", "u4"]
    assert matching(["did view >= 2"], log=log) == ["u1", "u2", "u3"]
    assert matching(["did view >= 2 within 1h"], log=log) == ["u2", "u3"]   # u1's second view is 2 h in
    assert matching(["did view at least 2 times within 3h"], log=log) == ["u1", "u2", "u3"]
    assert matching(["did not view >= 2 within 1h"], log=log) == ["u1", "u4"]
    with pytest.raises(UnknownEvent, match="did you mean 'buy'"):
        matching(["did bye"], log=log)
    assert str(cohorts.parse_segment("did not view >= 2 within 14d")) == "did not view >= 2 within 14d"
    # In a time range, behaviour is read from the events in it: from 1 minute on, u1 buys (at 1 min),
    # and "first seen" is each path's first event in the range.
    later = apply_filter(log, CommonFilter(since="1970-01-01T00:01:00", segment=("did buy",)))
    assert sorted(later.user_keys[np.unique(later.user)]) == ["u1"]
    later = apply_filter(log, CommonFilter(since="1970-01-01T00:01:00", segment=("did view within 1h",)))
    assert sorted(later.user_keys[np.unique(later.user)]) == ["u2", "u3"]   # u1's view is 2 h after its buy


def test_saved_segments_by_name():
    saved = {"buyers on ads": cohorts.definition(["did buy", "channel=ads"]),
             "picked": {"users": ["u2", "u4"]}}
    log = make_log()
    log = EventLog(**{**log.__dict__, "saved_segments": saved})
    assert matching(["buyers on ads"], log=log) == ["u1"]
    assert matching(["picked", "did view"], log=log) == ["u2", "u4"]
    sizes = {row["name"]: row["paths"] for row in segments.segment_sizes(log)}
    assert sizes == {"buyers on ads": 1, "picked": 2}
    with pytest.raises(JourneyError):
        cohorts.definition(["platform"])


def test_who_differs_counts_first_touch_values():
    log = make_log()
    buyers = np.isin(log.user_keys, ["u1"])
    table = properties.who_differs(log, buyers, ~buyers)
    row = table[(table["property"] == "channel") & (table["value"] == "ads")].iloc[0]
    # ads: u1 (buyer) and u3 (not): 1 of 1 buyers, 1 of 3 others
    assert (row["users_a"], row["users_b"], row["share_a"], row["share_b"]) == (1, 1, 1.0, round(1 / 3, 4))
    assert row["rate_with"] == 0.5 and row["rate_without"] == 0.0
    assert set(table["property"]) >= {"channel", "platform"}
    assert (table["q_value"] >= table["p_value"] - 1e-12).all()


def test_who_sentences_only_for_significant_values_on_enough_paths():
    rows = [(f"p{i}", "buy" if i % 3 else "view", 0, None, "partner", None, None) for i in range(60)]
    rows += [(f"o{i}", "buy" if i % 10 == 0 else "view", 0, None, "organic", None, None) for i in range(60)]
    log = make_log(rows)
    buyers = np.zeros(log.n_users, dtype=bool)
    buyers[log.user[log.event == log.event_code("buy")]] = True
    said = properties.who_sentences(properties.who_differs(log, buyers, ~buyers))
    # partner: 40 of 60 buy; organic: 6 of 60
    assert said[0] == "channel partner: 66.7% reach the goal vs 10.0% of the other users (60 users)"
    small = make_log()
    one = np.isin(small.user_keys, ["u1"])
    assert properties.who_sentences(properties.who_differs(small, one, ~one)) == []


def test_segment_suggestions_offer_values_cohorts_and_saved_names():
    log = EventLog(**{**make_log().__dict__, "saved_segments": {"vip": {"users": ["u1"]}}})
    offered = properties.segment_suggestions(log)
    assert offered[0] == "vip"
    assert {"platform=web", "channel=ads", "did buy", "did not view"} <= set(offered)
    for text in offered:                    # everything offered can be used as it is
        segments.segment_paths(log, [text])


def test_who_sentences_say_one_value_per_property():
    rows = [(f"p{i}", "buy" if i % 3 else "view", 0, None, "partner", None, None) for i in range(60)]
    rows += [(f"o{i}", "buy" if i % 10 == 0 else "view", 0, None, "organic", None, None) for i in range(60)]
    log = make_log(rows)
    buyers = np.zeros(log.n_users, dtype=bool)
    buyers[log.user[log.event == log.event_code("buy")]] = True
    said = properties.who_sentences(properties.who_differs(log, buyers, ~buyers), unit="sessions")
    assert len(said) == 1 and said[0].endswith("of the other sessions (60 sessions)")


def test_properties_needed_by_a_view():
    saved = {"mobile buyers": cohorts.definition(["platform in ios,android", "did buy"])}
    assert segments.properties_needed(("plan=Pro", "did buy", "mobile buyers"), "channel", saved) == \
        {"plan", "channel", "platform"}
    assert segments.properties_needed() == set()


def test_filtering_cuts_only_the_property_columns_read():
    log = make_log()
    taken = []
    original = log.event_properties["page"]

    class CountingColumn(type(original)):
        def take(self, keep):
            taken.append("page")
            return super().take(keep)

    columns = dict(log.event_properties, page=CountingColumn(original.codes, original.values))
    log = EventLog(**{**log.__dict__, "event_properties": columns})
    filtered = apply_filter(log, CommonFilter(segment=("platform=web",)))
    assert taken == [] and set(filtered.event_properties) == set(columns)
    assert [filtered.event_properties["page"].value_at(i) for i in range(len(filtered))] == \
        ["home", "search"]                                           # u2's events (u1 first had ios)
    assert taken == ["page"]


def test_catalog_json_is_valid_json_with_user_and_event_properties():
    import json
    plans = pd.DataFrame({"user": ["u1", "u2", "u3", "u4"], "case:plan": ["Pro", "Free", "Pro", None]})
    document = properties.catalog_json(make_log(user_properties=plans))
    text = json.dumps(document, allow_nan=False)          # NaN would not be JSON
    by_name = {p["property"]: p for p in json.loads(text)["properties"]}
    assert by_name["case:plan"]["events"] is None and by_name["platform"]["events"] == 5


def test_a_condition_that_reads_two_ways_takes_the_known_property():
    parse = properties.parse_condition
    assert parse("logged in app=yes") == properties.Condition("logged", "in", ("app=yes",))
    assert parse("logged in app=yes", known=["logged in app"]) == properties.Condition("logged in app", "=", ("yes",))
    assert parse("url in /a?x=1,/b", known=["url"]) == properties.Condition("url", "in", ("/a?x=1", "/b"))
    rows = [("u1", "view", 0, "yes"), ("u2", "view", 0, "no")]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "logged in app"]))
    assert users(log, segments.segment_paths(log, ["logged in app=yes"])) == ["u1"]
