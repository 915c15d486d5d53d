#!/usr/bin/env bash
# Set up clv-xl from nothing: a virtualenv in .venv with the package and its extras.
# With --tests, also the system programs the tests use (LibreOffice to open the template,
# poppler's pdftotext to read the PDF it makes).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

if [[ "${1:-}" == "--tests" ]] && ! command -v soffice >/dev/null 2>&1; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null
    else
        echo "note: LibreOffice (soffice) is not installed and cannot be installed here;" \
             "the tests that open the template in LibreOffice will be skipped." >&2
    fi
fi
