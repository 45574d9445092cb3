"""A log with an anonymous id on every row and a user id set only after login: which column is the
user, how identities are stitched, and what the summary says when most rows lack a user."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from journey_explorer.domain import ImportOptions
from journey_explorer.io.identity import identity_links
from journey_explorer.io.mapping import personal_data_columns
from journey_explorer.store.importer import import_file
from tests.store.stored import stored_events

# a1 reads twice, then logs in as u1 (the same anonymous id now carries the user id); a2 never logs
# in; d9 is a shared device: u2 and u3 both logged in on it, and one read on it has no user id.
NEWS = """timestamp,anonymous_id,user_id,event,device
2025-10-01T10:00:00Z,a1,,article_view,mobile
2025-10-01T10:01:00Z,a1,,paywall_shown,mobile
2025-10-01T10:02:00Z,a1,u1,login,mobile
2025-10-01T10:03:00Z,a1,u1,subscribe,mobile
2025-10-01T11:00:00Z,a2,,article_view,desktop
2025-10-01T11:01:00Z,a2,,article_view,desktop
2025-10-01T12:00:00Z,d9,u2,login,tablet
2025-10-01T12:05:00Z,d9,,article_view,tablet
2025-10-01T12:10:00Z,d9,u3,login,tablet
2025-10-01T12:11:00Z,b7,u3,article_view,mobile
"""


def owners_by_event(project: Path) -> list[tuple[str, str]]:
    return [(row["user"], row["event"]) for row in stored_events(project)]


def test_a_user_id_set_after_login_is_stitched_to_the_anonymous_id(tmp_path):
    source = tmp_path / "news.csv"
    source.write_text(NEWS)
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.mapping["user"] == "user_id" and summary.mapping["anonymous"] == "anonymous_id"
    assert (summary.read, summary.imported, summary.rejected) == (10, 10, 0)
    owners = owners_by_event(tmp_path / "p.journey")
    # a1's reads before login join u1's path; a2 stays its own path; u3's two devices are one person.
    assert owners[:6] == [("u1", "article_view"), ("u1", "paywall_shown"), ("u1", "login"),
                          ("u1", "subscribe"), ("a2", "article_view"), ("a2", "article_view")]
    # The shared device's read without a user belongs to neither u2 nor u3.
    assert owners[6:] == [("u2", "login"), ("d9", "article_view"), ("u3", "login"), ("u3", "article_view")]
    assert summary.users == 5            # u1, a2, u2, d9, u3
    assert any("1 anonymous_id value seen with several user_id values" in note for note in summary.notes)


def test_the_shared_device_rule():
    links = identity_links(pd.Series(["d9", "d9", "d9", "a1"]), pd.Series(["u2", "u3", None, "u1"]))
    assert links.user_of == {"a1": "u1"} and links.shared == 1
    owners = links.owners(pd.Series(["d9", "a1", "zz"]), pd.Series([None, None, None]))
    assert owners.tolist() == ["d9", "u1", "zz"]


def test_column_hints_override_the_stitching(tmp_path):
    source = tmp_path / "news.csv"
    source.write_text(NEWS)
    by_device = import_file(tmp_path / "a.journey", source, ImportOptions(user="anonymous_id"))
    assert by_device.mapping["user"] == "anonymous_id" and "anonymous" not in by_device.mapping
    assert by_device.users == 4 and by_device.rejected == 0          # a1, a2, d9, b7
    logged_in = import_file(tmp_path / "u.journey", source, ImportOptions(user="user_id"))
    assert "anonymous" not in logged_in.mapping and logged_in.rejected == 5
    # Most rows rejected for a missing user that another column holds: the summary says which.
    advice = [note for note in logged_in.notes if "anonymous_id is filled on them" in note]
    assert len(advice) == 1 and "{user} anonymous_id" in advice[0] and "{anonymous} anonymous_id" in advice[0]
    assert logged_in.reject_examples["missing user"]["line"] == 2
    assert "e.g. line 2: missing user (user_id)" in logged_in.describe()
    # Both named by hand: stitched, as the guess would have done.
    both = import_file(tmp_path / "b.journey", source, ImportOptions(user="user_id", anonymous="anonymous_id"))
    assert both.mapping["anonymous"] == "anonymous_id" and both.users == 5 and both.rejected == 0


def test_a_mostly_empty_user_column_gives_way_to_a_filled_one(tmp_path):
    rows = ["customer,user_id,event,time"] + [f"c{i % 3},{'x' if i == 0 else ''},open,2025-01-0{1 + i % 5}T10:00:0{i}Z"
                                             for i in range(6)]
    source = tmp_path / "e.csv"
    source.write_text("\n".join(rows) + "\n")
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.mapping["user"] == "customer" and summary.rejected == 0 and summary.users == 3


def test_a_column_that_only_contains_a_user_word_never_stands_in_for_the_user(tmp_path):
    """user_agent (three browsers) is full where user_id is mostly empty: the paths must not become
    browsers, and the advice must not name it."""
    rows = ["user_id,user_agent,event,time"] + [
        f"{'u' + str(i) if i % 3 == 0 else ''},{('Chrome', 'Safari', 'Firefox')[i % 3]},open,2025-01-01T10:{i:02d}:00Z"
        for i in range(30)]
    source = tmp_path / "e.csv"
    source.write_text("\n".join(rows) + "\n")
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.mapping["user"] == "user_id" and summary.users == 10 and summary.rejected == 20
    assert "user_agent" not in summary.describe()


def test_a_complete_user_column_keeps_its_anonymous_id_as_a_property(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("user_id,device_id,event,time\nu1,d1,open,2025-01-01T10:00:00Z\n"
                      "u2,d1,open,2025-01-01T11:00:00Z\n")
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.mapping["user"] == "user_id" and "anonymous" not in summary.mapping
    assert stored_events(tmp_path / "p.journey")[0]["properties"] in (None, {"device_id": "d1"})


def test_report_on_a_file_prints_its_import_summary(tmp_path):
    source = tmp_path / "news.csv"
    source.write_text(NEWS)
    done = subprocess.run([sys.executable, "-m", "journey_explorer", "report", str(source), "--user", "user_id",
                           "--goal", "subscribe", "--out", str(tmp_path / "deck.pptx"), "--json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["import"]["rejected"] == 5
    assert "--user anonymous_id" in done.stderr and "Rejected 5 rows" in done.stderr


def test_a_device_model_is_not_a_phone_number():
    columns = ["device.mobile_model_name", "device.mobile_brand_name", "phone_os", "mobile_number",
               "traits.phone", "mobile", "device.category"]
    assert personal_data_columns(columns) == ["mobile_number", "traits.phone", "mobile"]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_other_formats_are_stitched_the_same_way(tmp_path, suffix):
    rows = pd.read_csv(io.StringIO(NEWS), dtype=str)
    source = tmp_path / f"news.{suffix}"
    if suffix == "jsonl":
        rows.to_json(source, orient="records", lines=True)
    else:
        rows.to_parquet(source)
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.mapping["anonymous"] == "anonymous_id" and summary.users == 5
    assert owners_by_event(tmp_path / "p.journey")[:2] == [("u1", "article_view"), ("u1", "paywall_shown")]


def test_rejected_row_examples_never_show_a_left_out_column_or_a_plain_user_id(tmp_path):
    source = tmp_path / "e.csv"
    source.write_text("user,event,time,email\nu1,view,2025-01-01T10:00:00Z,ann@example.com\n"
                      "u2,view,notatime,bob@example.com\n")
    summary = import_file(tmp_path / "p.journey", source,
                          ImportOptions(drop_columns=("email",), pseudonymize=True))
    assert summary.rejected == 1 and "bob@example.com" not in summary.describe()
    assert "u2" not in json.dumps(summary.to_json_dict())
    kept = import_file(tmp_path / "q.journey", source)          # nothing hidden: the row is shown
    assert "bob@example.com" in kept.describe()
