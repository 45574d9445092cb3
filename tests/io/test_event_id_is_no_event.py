"""A column named "event_id" that holds an id per row is no event column when another column repeats a small
vocabulary: a name that merely contains "event" must not beat the contents (every row its own event type)."""
from __future__ import annotations

import pytest

from journey_explorer.io.mapping import UnconfirmedMapping, guess_mapping
from journey_explorer.io.sources import open_source

SCREENS = "event_id,user_id,screen,ts\n" + "".join(
    f"e{i},u{i // 3},{['open', 'browse', 'buy'][i % 3]},2024-01-01T00:{i:02d}:00\n" for i in range(30))


def guess(tmp_path, text: str):
    source = tmp_path / "export.csv"
    source.write_text(text)
    return guess_mapping(open_source(str(source)), allow_content_only=True)


def test_the_tester_file_takes_the_screen_and_keeps_the_id_as_the_insert_id(tmp_path):
    text = ("event_id,user_id,screen,ts\ne1,u1,open,2024-01-01T00:00:00\ne2,u1,buy,2024-01-01T00:01:00\n"
            "e3,u2,open,2024-01-01T00:02:00\ne4,u2,open,2024-01-01T00:03:00\n")
    mapping = guess(tmp_path, text)
    assert (mapping.user, mapping.event, mapping.time, mapping.insert_id) == ("user_id", "screen", "ts", "event_id")


def test_an_id_per_row_loses_to_the_screens_and_the_guess_is_asked_about(tmp_path):
    assert guess(tmp_path, SCREENS).event == "screen"
    source = tmp_path / "asked.csv"
    source.write_text(SCREENS)
    with pytest.raises(UnconfirmedMapping) as caught:        # no name says "screen" is the event: confirm it
        guess_mapping(open_source(str(source)))
    assert caught.value.guessed == {"event": "screen"}


def test_a_real_export_with_event_id_and_event_name_takes_the_name(tmp_path):
    text = "event_id,event_name,user_id,platform,ts\n" + "".join(
        f"{1000 + i},{['open', 'browse', 'buy'][i % 3]},u{i // 3},{['ios', 'android'][i // 15]},"
        f"2024-01-01T00:{i:02d}:00\n" for i in range(30))
    mapping = guess(tmp_path, text)
    assert (mapping.event, mapping.user) == ("event_name", "user_id")


def test_an_event_id_column_holding_a_small_vocabulary_stays_the_event(tmp_path):
    text = "event_id,user_id,ts\n" + "".join(
        f"{['click', 'view'][i % 2]},u{i // 4},2024-01-01T00:{i:02d}:00\n" for i in range(20))
    assert guess(tmp_path, text).event == "event_id"


def test_ids_as_event_names_stay_when_no_other_column_repeats_a_vocabulary(tmp_path):
    text = "event_id,user_id,ts\n" + "".join(f"e{i},u{i // 4},2024-01-01T00:{i:02d}:00\n" for i in range(20))
    assert guess(tmp_path, text).event == "event_id"
