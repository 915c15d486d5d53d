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
    rows = range(18, 23)
    assert [values[(layout.VALIDATION_SHEET, f"D{row}")] for row in rows] == ["OK"] * 5
    assert all(str(values[(layout.VALIDATION_SHEET, f"E{row}")]).startswith("Fits: ") for row in rows)
    assert all("(" in sheet[f"A{row}"].value for row in rows)  # the threshold is in the title


def test_validation_tables_and_fit_blocks_have_their_values(built):
    path, values = built
    sheet = layout.VALIDATION_SHEET
    assert values[(sheet, "D4")] == "r" and values[(sheet, "F4")] > 0  # standard error of r
    assert values[(sheet, "G4")] < values[(sheet, "E4")] < values[(sheet, "H4")]
    assert values[(sheet, "A28")] > 0 and values[(sheet, "B28")] < values[(sheet, "A28")] < values[(sheet, "C28")]
    assert values[(sheet, "U11")] == "7+" and values[(sheet, "U26")] == "all"
    assert values[(layout.PREDICTION_SHEET, "N4")] == "p" and values[(layout.PREDICTION_SHEET, "E8")] < 0


def test_the_validation_sheet_has_its_five_charts(built):
    path, _ = built
    book = openpyxl.load_workbook(path)
    assert len(book[layout.VALIDATION_SHEET]._charts) == 5
