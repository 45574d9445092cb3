"""App settings as a small JSON file with a schema version (migrated forward on load).

Location: ``JOURNEY_EXPLORER_SETTINGS_DIR`` if set (tests point it at a temp dir), else the
platform's app-config folder from QStandardPaths.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

SETTINGS_VERSION = 2
MAX_RECENT = 8


@dataclass
class Settings:
    version: int = SETTINGS_VERSION
    theme: str = "light"
    presentation: bool = False
    recent_projects: list[str] = field(default_factory=list)
    last_folder: str = ""
    window_geometry: str = ""          # base64 of QWidget.saveGeometry()
    export_width: int = 1920           # pixels of exported and copied charts (16:9)

    def remember_project(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.recent_projects = [path] + [p for p in self.recent_projects if p != path][:MAX_RECENT - 1]

    def forget_project(self, path: str) -> None:
        path = str(Path(path).resolve())
        self.recent_projects = [p for p in self.recent_projects if p != path]


def settings_path() -> Path:
    folder = os.environ.get("JOURNEY_EXPLORER_SETTINGS_DIR")
    if not folder:
        from PySide6.QtCore import QStandardPaths
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation) or \
            str(Path.home() / ".config" / "journey-explorer")
    return Path(folder) / "settings.json"


def migrate(data: dict) -> dict:
    """Bring an older settings document up to SETTINGS_VERSION."""
    version = int(data.get("version", 1))
    if version < 2:                       # v1 stored "dark_mode": bool
        data["theme"] = "dark" if data.pop("dark_mode", False) else "light"
    data["version"] = SETTINGS_VERSION
    return data


def load_settings() -> Settings:
    path = settings_path()
    try:
        data = migrate(json.loads(path.read_text()))
    except (OSError, ValueError):
        return Settings()
    known = {k: v for k, v in data.items() if k in Settings.__dataclass_fields__}
    return Settings(**known)


def save_settings(settings: Settings) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(settings), indent=2))
    temporary.replace(path)               # never a half-written settings file
