"""When Qt's xcb plugin cannot load, the user reads which packages to install, not Qt's abort;
the smoke test checks the real platform when there is a display, and says when it did not."""
from __future__ import annotations

import pytest

from journey_explorer import platform_check
from journey_explorer.platform_check import display_problem, uses_xcb


def refusing(*names):
    def load(library):
        if library in names:
            raise OSError(f"{library}: cannot open shared object file")
    return load


def test_missing_libraries_are_named_with_their_packages():
    message = display_problem({"DISPLAY": ":0"}, refusing("libxcb-cursor.so.0", "libxcb-icccm.so.4"), "linux")
    assert "libxcb-cursor.so.0" in message and "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in message
    assert display_problem({"DISPLAY": ":0"}, refusing(), "linux") is None


@pytest.mark.parametrize("environ, expected", [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
    ({}, False),
])
def test_xcb_is_checked_only_where_qt_would_use_it(environ, expected):
    assert uses_xcb(environ, "linux") is expected
    assert uses_xcb(environ, "darwin") is False


def test_the_app_prints_the_hint_instead_of_starting_qt(monkeypatch, capsys):
    from journey_explorer.app import main
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "missing_xcb_libraries", lambda load=None: ["libxcb-cursor.so.0"])
    assert main([]) == 1
    assert "sudo apt-get install libxcb-cursor0" in capsys.readouterr().err


def test_smoke_platform_check_says_which(monkeypatch):
    from journey_explorer.smoke import check_real_platform
    real, message = check_real_platform({"PATH": "/usr/bin"})
    assert real is None and "offscreen only" in message and "no DISPLAY" in message
    monkeypatch.setattr(platform_check, "missing_xcb_libraries", lambda load=None: ["libxcb-cursor.so.0"])
    real, message = check_real_platform({"DISPLAY": ":97"})
    assert real is False and "libxcb-cursor0" in message
