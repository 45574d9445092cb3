#!/usr/bin/env bash
# Build the one-folder bundle (dist/journey-explorer/) and check it with its own smoke test.
#
#   bash packaging/build.sh            # from the repository root, in a venv with the project installed
#
# Linux: run as is. Windows (Git Bash) and macOS: the same script; PyInstaller builds for the platform
# it runs on, so build each platform on that platform (no cross-compiling). On Windows the version
# resource is written below; on macOS the spec also makes "Journey Explorer.app" next to the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    echo "build.sh: activate a virtual environment first (python -m venv .venv && . .venv/bin/activate)" >&2
    exit 2
fi

"$PYTHON" -m pip install -q -e '.[bundle]'
mkdir -p build
"$PYTHON" packaging/write_version_info.py > build/version_info.txt     # used by the Windows build only

started=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/journey_explorer.spec
built=$(date +%s)

bundle=dist/journey-explorer
executable="$bundle/journey-explorer"
[ -x "$executable" ] || executable="$bundle/journey-explorer.exe"
echo "build time: $((built - started)) s"
echo "bundle size: $(du -sh "$bundle" | cut -f1)"

# The smoke test with a clean environment: no venv, no PYTHONPATH, only what the bundle carries.
smoke_started=$(date +%s%N)
env -i HOME="$(mktemp -d)" PATH=/usr/bin:/bin LANG=C.UTF-8 "$executable" --smoke-test
echo "smoke test wall time: $(( ($(date +%s%N) - smoke_started) / 1000000 )) ms"
