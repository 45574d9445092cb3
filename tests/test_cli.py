"""The command line: documented JSON shapes, exit codes, one clear line on errors."""
from __future__ import annotations

import json

from journey_explorer.cli import main

CSV = ("user,event,time\n"
       "u1,signup,2024-01-01T10:00:00Z\nu1,pay,2024-01-02T10:00:00Z\n"
       "u2,signup,2024-01-03T10:00:00Z\nu2,oops,later\n")


def test_import_json_line_and_info(tmp_path, capsys):
    source = tmp_path / "e.csv"
    source.write_text(CSV)
    project = tmp_path / "p.journey"
    assert main(["import", str(project), str(source), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip())
    assert list(out)[:8] == ["read", "imported", "duplicates", "rejected", "reject_reasons", "users",
                             "event_types", "seconds"]
    assert (out["read"], out["imported"], out["rejected"], out["users"], out["event_types"]) == (4, 3, 1, 2, 2)
    assert out["reject_reasons"] == {"unparseable time": 1}
    assert main(["import", str(project), str(source), "--json"]) == 0
    again = json.loads(capsys.readouterr().out.strip())
    assert again["imported"] == 0 and again["already_imported"] is True
    assert main(["info", str(project), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["events"], info["users"], info["event_types"], info["sessions"]) == (3, 2, 2, 3)
    assert info["first_time"].startswith("2024-01-01T10:00:00")


def test_fatal_error_is_one_clear_line(tmp_path, capsys):
    source = tmp_path / "junk.csv"
    source.write_bytes(b"\x00\x01\x02\xff" * 500)
    code = main(["import", str(tmp_path / "p.journey"), str(source)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and "junk.csv" in err
    assert not (tmp_path / "p.journey").exists()


def test_missing_file(tmp_path, capsys):
    assert main(["import", str(tmp_path / "p.journey"), str(tmp_path / "nope.csv")]) == 1
    assert "file not found" in capsys.readouterr().err
