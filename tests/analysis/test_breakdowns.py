"""Breakdowns by a property (first touch per path) on funnel, flows, retention, overview and compare,
checked by hand on small logs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journey_explorer.analysis import compare, flows, funnel, overview, retention
from journey_explorer.analysis.common import CommonFilter, apply_filter
from journey_explorer.analysis.properties import PropertyError
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z

# channel is set on the first event only (later events leave it blank): first touch must find it.
ROWS = [
    ("a", "visit", 0, "ads"), ("a", "signup", 1000, None), ("a", "pay", 2000, None),
    ("b", "visit", 0, "ads"), ("b", "signup", 1000, "seo"),
    ("c", "visit", 0, "seo"), ("c", "signup", 1000, None), ("c", "pay", 3000, None),
    ("d", "visit", 0, "seo"),
    ("e", "visit", 0, "mail"),
    ("f", "visit", 0, None), ("f", "pay", 500, None),
]


def make_log(rows=ROWS) -> EventLog:
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "channel"]))


def test_funnel_per_group_uses_first_touch():
    result = funnel.run(make_log(), funnel.Spec(steps=("visit", "signup", "pay"), breakdown="channel"))
    users = {g: t["users"].tolist() for g, t in result.table.groupby("group", dropna=False, sort=False)}
    assert result.table[result.table["group"].isna()]["users"].tolist() == [6, 3, 2]
    assert users["ads"] == [2, 2, 1]        # b counts as ads (its first value), though its signup says seo
    assert users["seo"] == [2, 1, 1]
    assert users["mail"] == [1, 0, 0]
    assert users["(none)"] == [1, 0, 0]
    assert result.groups == [{"group": "ads", "paths": 2}, {"group": "seo", "paths": 2},
                             {"group": "mail", "paths": 1}, {"group": "(none)", "paths": 1}]
    assert result.to_json_dict()["groups"][0] == {"group": "ads", "paths": 2}


def test_flows_split_by_property_values():
    result = flows.run(make_log(), flows.Spec(steps=2, top=5, breakdown="channel"))
    nodes = {(r["step"], r["event"], r["group"]): r["users"] for r in result.node_rows}
    assert nodes[(1, "visit", "ads")] == 2 and nodes[(1, "visit", "seo")] == 2
    assert nodes[(1, "visit", "(none)")] == 1
    assert nodes[(2, "Drop-off", "seo")] == 1 and nodes[(2, "Drop-off", "mail")] == 1
    links = {(r["source"], r["target"], r["group"]): r["users"] for r in result.link_rows}
    assert links[("visit", "signup", "ads")] == 2 and links[("visit", "pay", "(none)")] == 1
    assert sorted(result.user_keys[result.users_at(1, "visit", "seo")]) == ["c", "d"]
    document = result.to_json_dict()
    assert document["breakdown"] == "channel" and document["groups"][0] == {"group": "ads", "paths": 2}
    with pytest.raises(Exception, match="not both"):
        flows.run(make_log(), flows.Spec(split="goal", goal="pay", breakdown="channel"))


def test_retention_curve_per_group():
    rows = []
    for i in range(4):                      # web users: all come back in week 1
        rows += [(f"w{i}", "open", MONDAY, "web"), (f"w{i}", "open", MONDAY + 8 * DAY, None)]
    for i in range(4):                      # app users: one of four comes back
        rows += [(f"p{i}", "open", MONDAY, "app")]
    rows += [("p0", "open", MONDAY + 9 * DAY, "app"), ("z", "open", MONDAY + 20 * DAY, "web")]
    result = retention.run(make_log(rows), retention.Spec(period="week", breakdown="channel", max_periods=2))
    table = result.breakdown.set_index(["group", "period"])
    assert table.loc[("web", 1), "retained"] == 4 and table.loc[("web", 1), "eligible"] == 4
    assert table.loc[("app", 1), "share"] == 0.25
    assert table.loc[("web", 0), "users"] == 5          # z starts late: counted, not yet eligible
    assert result.to_frame().columns.tolist() == ["group", "users", "period", "eligible", "retained", "share"]


def test_overview_numbers_per_group():
    result = overview.run(make_log(), overview.Spec(goal="pay", breakdown="channel"))
    assert (result.paths, result.events, result.reached) == (6, 12, 3)
    groups = result.groups.set_index("group")
    assert groups.loc["ads"].tolist() == [2, 5, 2, 1, 0.5]     # paths, events, sessions, reached, conversion
    assert groups.loc["(none)", "reached"] == 1
    assert groups["paths"].sum() == result.paths and groups["events"].sum() == result.events
    assert overview.run(make_log(), overview.Spec()).reached is None


def test_breakdown_on_sessions_uses_each_session_value():
    rows = [("a", "visit", 0, "ads"), ("a", "visit", 2 * DAY, "seo"), ("b", "visit", 0, None)]
    log = apply_filter(make_log(rows), CommonFilter(by="session"))
    groups = overview.run(log, overview.Spec(breakdown="channel")).groups
    assert groups[["group", "paths"]].values.tolist() == [["ads", 1], ["seo", 1], ["(none)", 1]]


def test_compare_who_and_breakdown():
    rows = []
    for i in range(30):                  # partner users reach pay 2 in 3 times, others 1 in 5
        rows.append((f"p{i}", "visit", 0, "partner"))
        if i % 3:
            rows.append((f"p{i}", "pay", 1000, None))
    for i in range(50):
        rows.append((f"o{i}", "visit", 0, "organic"))
        if i % 5 == 0:
            rows.append((f"o{i}", "pay", 1000, None))
    result = compare.run(make_log(rows), compare.Spec(goal="pay", breakdown="channel"))
    who = result.who.set_index("value")
    assert who.loc["partner", "users_a"] == 20 and who.loc["partner", "users_b"] == 10
    assert who.loc["partner", "rate_with"] == round(20 / 30, 4) and who.loc["partner", "rate_without"] == 0.2
    assert who.loc["partner", "q_value"] < 0.001
    breakdown = result.breakdown.set_index("group")
    assert breakdown.loc["organic", "rate_a"] == 0.2 and breakdown.loc["partner", "paths"] == 30
    document = result.to_json_dict()
    assert document["who"][0]["property"] == "channel" and document["breakdown_property"] == "channel"
    table = result.to_frame()
    assert table[table["kind"] == "who"]["value"].tolist()[:2] in (["partner", "organic"], ["organic", "partner"])


def test_unknown_breakdown_property_is_a_clear_error():
    with pytest.raises(PropertyError, match="No property 'chanel'. Did you mean 'channel'"):
        funnel.run(make_log(), funnel.Spec(steps=("visit", "pay"), breakdown="chanel"))


def test_breakdown_masks_cover_every_path_once():
    from journey_explorer.analysis.properties import breakdown
    split = breakdown(make_log(), "channel", top=1)
    assert split.labels == ["ads", "Other", "(none)"]
    covered = np.zeros(len(split.group), dtype=int)
    for _, mask in split.masks():
        covered += mask
    assert covered.tolist() == [1] * 6


def test_compare_groups_from_cohorts_and_properties():
    rows = [("a", "visit", 0, "ads"), ("a", "pay", 1000, None), ("b", "visit", 0, "ads"),
            ("c", "visit", 0, "seo"), ("c", "pay", 1000, None), ("d", "visit", 0, "seo")]
    log = make_log(rows)
    result = compare.run(log, compare.Spec(segment="did pay", versus="did not pay"))
    assert result.group_sizes == (2, 2)
    ads = result.who.set_index("value").loc["ads"]
    assert (ads["users_a"], ads["users_b"]) == (1, 1)                 # a pays, b does not
    by_channel = compare.run(log, compare.Spec(segment="channel=ads", versus="channel!=ads"))
    assert by_channel.group_sizes == (2, 2)
    assert "channel" not in set(by_channel.who["property"])     # the property defining the groups


def test_who_per_session_uses_each_session_value():
    rows = [("a", "visit", 0, "ads"), ("a", "pay", 1000, None),            # session 1: ads, pays
            ("a", "visit", 2 * DAY, "seo"),                                 # session 2: seo, no pay
            ("b", "visit", 0, "seo")]
    log = apply_filter(make_log(rows), CommonFilter(by="session"))
    paid = np.zeros(log.n_users, dtype=bool)
    paid[log.user[log.event == log.event_code("pay")]] = True
    from journey_explorer.analysis.properties import who_differs
    who = who_differs(log, paid, ~paid).set_index("value")
    assert (who.loc["ads", "users_a"], who.loc["ads", "users_b"]) == (1, 0)
    assert (who.loc["seo", "users_a"], who.loc["seo", "users_b"]) == (0, 2)


def test_compare_segments_follow_the_match_rule():
    rows = [("a", "visit", 0, "ads"), ("a", "visit", 1000, "seo"), ("b", "visit", 0, "seo"), ("c", "visit", 0, "mail")]
    first = compare.run(make_log(rows), compare.Spec(segment="channel=seo", versus="channel=mail"))
    anywhere = compare.run(make_log(rows), compare.Spec(segment="channel=seo", versus="channel=mail", match="any"))
    assert first.group_sizes == (1, 1) and anywhere.group_sizes == (2, 1)     # a's first channel is ads
