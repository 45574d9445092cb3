"""An .xlsx is a zip: it is held to the same decompressed-size and ratio guard as a .zip or .gz,
checked before openpyxl unpacks anything."""
from __future__ import annotations

import zipfile

import pytest

from journey_explorer.domain import ImportOptions, InputError
from journey_explorer.io.opening import ExpansionLimits, set_expansion_limits
from journey_explorer.io.sources import open_source
from journey_explorer.store.importer import import_file


@pytest.fixture
def limits():
    def use(**kwargs):
        set_expansion_limits(ExpansionLimits(**kwargs))
    yield use
    set_expansion_limits(None)


def workbook(path, rows: int = 3, padding: int = 0):
    """A real workbook; ``padding`` zero bytes in an extra part (a picture, say) that compress ~1000:1."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["user", "event", "time"])
    for i in range(rows):
        sheet.append([f"u{i}", "open", f"2024-01-01T10:{i % 60:02d}:00Z"])
    book.save(path)
    if padding:
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/media/image1.bin", b"\0" * padding)
    return path


def refuse_openpyxl(monkeypatch):
    import openpyxl

    def unpacked(*_args, **_kwargs):
        raise AssertionError("openpyxl opened a workbook the guard should have refused")
    monkeypatch.setattr(openpyxl, "load_workbook", unpacked)


def test_a_workbook_part_expanding_past_the_size_limit_is_refused_before_openpyxl(tmp_path, limits, monkeypatch):
    path = workbook(tmp_path / "bomb.xlsx", padding=3 << 20)
    assert path.stat().st_size < 100_000
    limits(max_bytes=1 << 20, max_ratio=1e9, ratio_floor=0)
    refuse_openpyxl(monkeypatch)
    with pytest.raises(InputError, match=r"bomb\.xlsx expands to more than 0\.000977 GB .*image1\.bin.*refused"):
        open_source(str(path), ImportOptions(format="xlsx")).columns()


def test_a_dense_workbook_is_refused_by_the_ratio_guard(tmp_path, limits, monkeypatch):
    path = workbook(tmp_path / "dense.xlsx", padding=3 << 20)
    limits(max_bytes=1 << 40, max_ratio=50, ratio_floor=1 << 20)
    refuse_openpyxl(monkeypatch)
    with pytest.raises(InputError, match=r"dense\.xlsx expands to more than 50 times its compressed size"):
        open_source(str(path))


def test_the_parts_together_are_bounded_too(tmp_path, limits):
    path = workbook(tmp_path / "many.xlsx", rows=2000)
    with zipfile.ZipFile(path) as archive:
        parts = [info.file_size for info in archive.infolist()]
    limits(max_bytes=sum(parts) - 1, max_ratio=1e9, ratio_floor=0)
    assert max(parts) < sum(parts) - 1
    with pytest.raises(InputError, match="all its parts together"):
        open_source(str(path)).columns()


def test_an_ordinary_workbook_within_the_limits_imports(tmp_path, limits):
    path = workbook(tmp_path / "fine.xlsx", rows=50)
    limits(max_bytes=1 << 20, max_ratio=1e9, ratio_floor=0)
    summary = import_file(tmp_path / "p.journey", path)
    assert summary.imported == 50


def test_a_bomb_workbook_is_a_message_from_the_import(tmp_path, limits):
    path = workbook(tmp_path / "bomb.xlsx", padding=3 << 20)
    limits(max_bytes=1 << 20, max_ratio=1e9, ratio_floor=0)
    with pytest.raises(InputError, match="decompression bomb"):
        import_file(tmp_path / "p.journey", path)
    assert not (tmp_path / "p.journey").exists()
