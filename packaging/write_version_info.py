"""Print the Windows version resource (PyInstaller's VSVersionInfo) from resources/app.json and pyproject.toml."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    meta = json.loads((ROOT / "resources" / "app.json").read_text())
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    numbers = tuple((list(map(int, version.split("."))) + [0, 0, 0, 0])[:4])
    strings = {"CompanyName": meta["publisher"], "FileDescription": meta["description"], "FileVersion": version,
               "InternalName": meta["executable"], "LegalCopyright": meta["copyright"],
               "OriginalFilename": f"{meta['executable']}.exe", "ProductName": meta["name"],
               "ProductVersion": version}
    entries = ",\n          ".join(f"StringStruct('{k}', '{v}')" for k, v in strings.items())
    print(f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
          {entries}])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)""")


if __name__ == "__main__":
    main()
