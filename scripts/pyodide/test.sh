#!/usr/bin/env bash
# The formula, model and Excel-layer tests inside Pyodide under Node (run setup.sh first).
# Not here, because Pyodide cannot run them: tests that start LibreOffice or other processes, build
# or recalculate workbooks (XlsxWriter, formulas, openpyxl, oletools): test_vba, test_template,
# test_recalc, test_values_only, test_cli. test_lite_host runs here with xlwings Lite's own
# decorators and xlwings 0.33.11. Deselected (not skipped): the one model test that starts a
# subprocess. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node scripts/pyodide/run-pytest.mjs . -q \
    tests/test_formula.py tests/test_models_*.py tests/test_udfs*.py tests/test_macros.py \
    tests/test_lite.py tests/test_lite_host.py tests/test_cells.py tests/test_degenerate_fits.py \
    tests/test_transactions.py \
    --deselect tests/test_models_validation.py::test_intervals_cover_the_true_value_95_percent_of_the_time "$@"
