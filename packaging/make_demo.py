"""Write journey_explorer/data/demo.journey.gz: the built-in demo project as the code builds it, which
the app unpacks on its first run instead of generating and importing it there (~4 s, issue 16).

    python packaging/make_demo.py

Run it after changing the demo's data (``demo.py``), the importer or the project file's schema:
``tests/test_demo_project.py`` fails while the shipped copy differs from a build.
"""
from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path


def main() -> int:
    from journey_explorer.demo_project import SHIPPED_DEMO, write_demo_project
    with tempfile.TemporaryDirectory(prefix="journey-demo-") as folder:
        built = write_demo_project(Path(folder) / "demo.journey", from_code=True)
        SHIPPED_DEMO.parent.mkdir(exist_ok=True)
        with open(built, "rb") as plain, open(SHIPPED_DEMO, "wb") as out, \
                gzip.GzipFile(filename="demo.journey", mode="wb", fileobj=out) as packed:
            shutil.copyfileobj(plain, packed, 1 << 20)
    print(f"{SHIPPED_DEMO} ({SHIPPED_DEMO.stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
