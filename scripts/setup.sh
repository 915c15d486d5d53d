#!/usr/bin/env bash
# Set up clv-xl from nothing: a virtualenv in .venv with the package and its extras.
# With --tests, also the system programs the tests use: LibreOffice (opens the template and
# renders it to PDF) and poppler's pdftotext (reads that PDF). The tests fail without them.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

if [[ "${1:-}" == "--tests" ]] && ! { command -v soffice && command -v pdftotext; } >/dev/null 2>&1; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            libreoffice-calc-nogui poppler-utils >/dev/null
    else
        echo "error: the tests need LibreOffice (soffice) and poppler (pdftotext); install them" \
             "as root: apt-get install libreoffice-calc-nogui poppler-utils" >&2
        exit 1
    fi
fi
