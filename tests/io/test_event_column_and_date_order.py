"""Guesses a client's file should not need hints for: the event column named in the client's language or
told by its values (a device column is not an event), and a day/month order that the first rows leave
open but the rest of the column decides."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.domain import ImportOptions
from journey_explorer.io.mapping import UnconfirmedMapping, guess_mapping
from journey_explorer.io.sources import open_source
from journey_explorer.io.timestamps import AmbiguousDateOrder
from journey_explorer.store.importer import import_file
from tests.store.stored import stored_events

STEPS = ["Startseite geöffnet", "Tarifrechner gestartet", "Tarif ausgewählt", "Persönliche Daten eingegeben",
         "Bankverbindung eingegeben", "Vertrag abgeschlossen"]


def energy_export(users: int = 40) -> pd.DataFrame:
    """Each customer walks a few steps on one device in one region (device and region: constant per user)."""
    rows = []
    for u in range(users):
        device, region = ["Desktop", "Smartphone", "Tablet"][u % 3], ["Bayern", "Hessen", "Berlin", "Sachsen"][u % 4]
        for step, name in enumerate(STEPS[: 2 + u % 5]):
            rows.append({"Kundennummer": f"K{1000 + u}", "Aktion": name,
                         "Zeitpunkt": f"{1 + u % 9:02d}.09.2025 {8 + step:02d}:{u % 60:02d}",
                         "Gerät": device, "Bundesland": region})
    return pd.DataFrame(rows)


def test_a_german_action_column_is_the_event_by_its_name(tmp_path):
    source = tmp_path / "export.csv"
    energy_export().to_csv(source, sep=";", index=False)
    mapping = guess_mapping(open_source(str(source)))          # no UnconfirmedMapping: every role is named
    assert (mapping.user, mapping.event, mapping.time) == ("Kundennummer", "Aktion", "Zeitpunkt")


@pytest.mark.parametrize("header, event", [("Tipo de ação", "Tipo de ação"), ("Vorgangsart", "Vorgangsart"),
                                           ("azione", "azione"), ("Actie", "Actie")])
def test_action_words_of_other_languages_name_the_event(tmp_path, header, event):
    source = tmp_path / "export.csv"
    energy_export().rename(columns={"Aktion": header}).to_csv(source, index=False)
    assert guess_mapping(open_source(str(source))).event == event


def test_a_device_column_does_not_win_the_content_guess(tmp_path):
    """No name says which column is the event: the one whose values change within a customer's rows is,
    not the device with the fewest distinct values (nor the region, nor a transaction number whose name
    merely contains an action word)."""
    frame = energy_export().rename(columns={"Aktion": "Was"})
    frame["Transaktion"] = [f"T-{i}" for i in range(len(frame))]
    source = tmp_path / "export.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(UnconfirmedMapping) as caught:
        guess_mapping(open_source(str(source)))
    assert caught.value.guessed == {"event": "Was"}
    assert "--event Was" in str(caught.value)


def ambiguous_then_telling(later: str, rows: int = 5000) -> pd.DataFrame:
    """``rows`` events dated 01/09 .. 12/09 (either order fits), then one dated ``later``."""
    first = [f"{1 + i % 12:02d}/09/2025 10:{i % 60:02d}" for i in range(rows)]
    return pd.DataFrame({"user_id": [f"u{i % 50}" for i in range(rows + 1)], "event": "open",
                         "timestamp": first + [later]})


@pytest.mark.parametrize("chunk_rows", [500_000, 1000])
def test_a_date_order_the_first_rows_leave_open_is_read_from_the_rest(tmp_path, chunk_rows):
    source = tmp_path / "events.csv"
    ambiguous_then_telling("13/09/2025 10:00").to_csv(source, index=False)
    summary = import_file(tmp_path / "p.journey", source, ImportOptions(chunk_rows=chunk_rows))
    assert summary.rejected == 0
    stamps = sorted(pd.to_datetime([e["ts"] for e in stored_events(tmp_path / "p.journey")], unit="ms"))
    assert stamps[0] == pd.Timestamp("2025-09-01 10:00") and stamps[-1] == pd.Timestamp("2025-09-13 10:00")


def test_a_month_first_date_further_down_makes_the_column_month_first(tmp_path):
    source = tmp_path / "events.csv"
    ambiguous_then_telling("09/13/2025 10:00").to_csv(source, index=False)
    import_file(tmp_path / "p.journey", source)
    stamps = sorted(pd.to_datetime([e["ts"] for e in stored_events(tmp_path / "p.journey")], unit="ms"))
    assert stamps[0] == pd.Timestamp("2025-01-09 10:00") and stamps[-1] == pd.Timestamp("2025-12-09 10:59")


def test_slashed_dates_that_never_tell_the_order_are_still_asked_about(tmp_path):
    source = tmp_path / "events.csv"
    ambiguous_then_telling("12/09/2025 10:00").to_csv(source, index=False)
    with pytest.raises(AmbiguousDateOrder, match="fit both day/month and month/day order"):
        import_file(tmp_path / "p.journey", source)


def test_dotted_dates_that_never_tell_the_order_are_day_first(tmp_path):
    source = tmp_path / "events.csv"
    frame = ambiguous_then_telling("12/09/2025 10:00")
    frame["timestamp"] = frame["timestamp"].str.replace("/", ".")
    frame.to_csv(source, index=False)
    import_file(tmp_path / "p.journey", source)
    stamps = sorted(pd.to_datetime([e["ts"] for e in stored_events(tmp_path / "p.journey")], unit="ms"))
    assert stamps[0] == pd.Timestamp("2025-09-01 10:00") and stamps[-1] == pd.Timestamp("2025-09-12 10:59")
