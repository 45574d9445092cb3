"""Before Qt starts: can it open a window here? A plain message naming what to install, not Qt's abort.

On Linux, Qt's xcb platform plugin (a window on X11) needs system libraries that a fresh Debian or
Ubuntu machine often lacks (libxcb-cursor0 …); without them Qt prints "Could not load the Qt platform
plugin xcb" and aborts the process. ``display_problem()`` tries to load each of those libraries
(``dlopen``, as Qt will) and says which packages are missing. No Qt import; milliseconds.
"""
from __future__ import annotations

import ctypes
import os
import sys

# The libraries Qt 6's libqxcb.so loads (ldd), and the Debian/Ubuntu package holding each.
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
}
# What the README tells a Debian/Ubuntu user to install (the usual missing ones first).
XCB_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
                "libxcb-xkb1", "libxkbcommon-x11-0", "libxcb-shape0", "libxcb-randr0", "libxcb-xinerama0")


def uses_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will open its window through xcb: Linux, and QT_QPA_PLATFORM says xcb, or says
    nothing while only an X display is there (on Wayland Qt uses its wayland plugin)."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def missing_xcb_libraries(load=ctypes.CDLL) -> list[str]:
    """The xcb libraries that cannot be loaded here (``load`` is replaced in tests)."""
    missing = []
    for library in XCB_LIBRARIES:
        try:
            load(library)
        except OSError:
            missing.append(library)
    return missing


def xcb_hint(missing: list[str]) -> str:
    packages = sorted({XCB_LIBRARIES[library] for library in missing})
    return (f"Journey Explorer cannot open its window: the Qt platform plugin \"xcb\" needs system libraries "
            f"that are not installed ({', '.join(missing)}).\n"
            f"On Debian or Ubuntu install them with:\n"
            f"    sudo apt-get install {' '.join(packages)}\n"
            f"(the full list the app uses: {' '.join(XCB_PACKAGES)}). Then start it again.")


def display_problem(environ=os.environ, load=ctypes.CDLL, platform: str = sys.platform) -> str | None:
    """A plain message when Qt could not open a window here, else None."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_xcb_libraries(load)
    return xcb_hint(missing) if missing else None
