"""A file whose name is not valid UTF-8 (bytes like b'caf\\xe9.csv' on Linux, which Python holds with a
surrogate escape) imports like any other: pyarrow is handed the file by its bytes, not the name."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from journey_explorer.store.importer import import_file
from journey_explorer.store.project import Project

pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="these file systems refuse such names")

ROWS = b"user,event,time\nu1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\nu2,open,2024-01-02T10:00:00Z\n"


def non_utf8(folder: Path, suffix: str, data: bytes) -> str:
    raw = os.path.join(os.fsencode(folder), b"caf\xe9" + suffix.encode())
    try:
        with open(raw, "wb") as handle:
            handle.write(data)
    except OSError:
        pytest.skip("this file system refuses a name that is not UTF-8")
    return os.fsdecode(raw)          # 'caf\udce9.csv', what os.listdir and sys.argv give


def parquet_bytes(tmp_path: Path) -> bytes:
    import pandas as pd
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"user": ["u1", "u1", "u2"], "event": ["open", "buy", "open"],
                  "time": ["2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z", "2024-01-02T10:00:00Z"]}).to_parquet(plain)
    return plain.read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_named_in_latin_1_imports(tmp_path, suffix):
    data = ROWS if suffix == ".csv" else parquet_bytes(tmp_path)
    source = non_utf8(tmp_path, suffix, data)
    assert "\udce9" in source
    summary = import_file(tmp_path / "p.journey", source)
    assert summary.imported == 3 and summary.rejected == 0
    with Project.open(tmp_path / "p.journey") as project:
        (stored,) = project.sources()
    assert stored["path"].endswith("caf\\xe9" + suffix)           # kept printable


def test_the_command_line_imports_it(tmp_path):
    source = non_utf8(tmp_path, ".csv", ROWS)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", "from journey_explorer.cli import main; raise SystemExit(main())",
                           "import", str(tmp_path / "p.journey"), os.fsencode(source)],
                          capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr


def test_a_name_a_file_dialog_could_not_spell_says_to_rename_the_file(tmp_path):
    from journey_explorer.domain import InputError
    from journey_explorer.io.sources import open_source
    non_utf8(tmp_path, ".csv", ROWS)
    lossy = str(tmp_path / "caf\ufffd.csv")          # what Qt hands over for b'caf\xe9.csv'
    with pytest.raises(InputError, match="not valid UTF-8.*rename the file"):
        open_source(lossy)
