"""Write resources/icon.png, icon.ico and icon.icns from the icon drawn in code (journey_explorer.ui.icon).

    python packaging/make_icons.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from journey_explorer.ui.icon import icon_image
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - image plugins need an app
    RESOURCES.mkdir(exist_ok=True)
    outputs = {"icon.png": ("PNG", 512), "icon.ico": ("ICO", 256), "icon.icns": ("ICNS", 512)}
    for name, (kind, size) in outputs.items():
        if not icon_image(size).save(str(RESOURCES / name), kind):
            print(f"could not write {name} (no {kind} image plugin)", file=sys.stderr)
            return 1
        print(RESOURCES / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
