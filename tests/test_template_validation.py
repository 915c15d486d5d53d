"""The Validation sheet of a fresh template build: spills fit, every check passes headless."""

import openpyxl
import pytest

from clv_xl import recalc
from clv_xl.workbook import layout, sheets
from clv_xl.udfs import FUNCTIONS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # build_template recalculates with strict=True: a spill that does not fit its range fails the build
    path = sheets.build_template(tmp_path_factory.mktemp("validation") / sheets.TEMPLATE_NAME)
    return path, recalc.recalculate(path, FUNCTIONS, strict=True)


def test_every_validation_check_passes_and_states_its_threshold(built):
    path, values = built
    sheet = openpyxl.load_workbook(path)[layout.VALIDATION_SHEET]
    rows = range(layout.VALIDATION_CHECKS_FIRST_ROW, layout.VALIDATION_CHECKS_FIRST_ROW + 5)
    assert [values[(layout.VALIDATION_SHEET, f"D{row}")] for row in rows] == ["OK"] * 5
    assert all(str(values[(layout.VALIDATION_SHEET, f"E{row}")]).startswith("Fits: ") for row in rows)
    assert all("(" in sheet[f"A{row}"].value for row in rows)  # the threshold is in the title


def test_validation_tables_and_fit_blocks_have_their_values(built):
    path, values = built
    sheet, offset = layout.VALIDATION_SHEET, layout.offset

    def at(anchor, rows=0, cols=0):
        return values[(sheet, offset(anchor, rows, cols))]

    # the first parameter row of the BG/NBD block: label, estimate, standard error, 95% low, 95% high
    label, estimate, error, low, high = (at(layout.VALIDATION_BGNBD_ANCHOR, cols=cols) for cols in range(5))
    assert label == "r" and error > 0 and low < estimate < high
    value, low, high = (at(layout.INTERVAL_ANCHOR, 1, cols) for cols in range(3))  # below the header row
    assert value > 0 and low < value < high
    assert at(layout.FREQ_FIT_ANCHOR, layout.MAX_COUNT + 1) == "7+"
    anchor = layout.CONDITIONAL_ANCHOR
    assert at(anchor, layout.all_customers_row(anchor) - layout.row_of(anchor)) == "all"
    log_likelihood = layout.BGNBD_BLOCK.split(":")[1]  # the estimate column's last row
    prediction = layout.PREDICTION_SHEET
    assert values[(prediction, layout.GG_ANCHOR)] == "p" and values[(prediction, log_likelihood)] < 0


def test_the_validation_sheet_has_its_five_charts(built):
    path, _ = built
    book = openpyxl.load_workbook(path)
    assert len(book[layout.VALIDATION_SHEET]._charts) == 5
