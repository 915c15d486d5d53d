#!/usr/bin/env bash
# Set up clv-xl from nothing: Python's venv if missing (apt-get, as root), then a virtualenv in
# .venv with the package and its extras.
# With --tests, also the system programs the tests use: LibreOffice (opens the template and
# renders it to PDF) and poppler's pdftotext (reads that PDF). The tests fail without them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh

if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    install_system_packages "clv-xl needs Python 3.10 or later with venv" python3 python3-venv
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

if [[ "${1:-}" == "--tests" ]] && ! { command -v soffice && command -v pdftotext; } >/dev/null 2>&1; then
    install_system_packages "the tests need LibreOffice (soffice) and poppler (pdftotext)" \
        libreoffice-calc-nogui poppler-utils
fi
