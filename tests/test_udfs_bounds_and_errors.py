"""Bounds with reasons and errors that stay visible (issue 10, items 3 and 4)."""

import datetime as dt

import pytest

from clv_xl.excel.cells import UNEXPECTED_MESSAGE, excel_errors
from clv_xl.udfs import FUNCTIONS
import cdnow

BGNBD = cdnow.BGNBD_CELLS
GG = cdnow.GAMMA_GAMMA_CELLS
CUSTOMERS = {"frequency": [[1.0], [2.0]], "recency": [[2.0], [5.0]], "T": [[5.0], [20.0]], "monetary": [[20.0], [30.0]]}


def call(name, *args, **kwargs):
    return FUNCTIONS[name](*args, **kwargs)


# --- item 4: an argument that sets a number of steps has an upper limit ------------------------


def test_a_horizon_above_1200_periods_is_refused_with_the_limit():
    assert call("CLV_PREDICT", BGNBD, GG, **CUSTOMERS, horizon=52000) == (
        '#NUM! horizon must be <= 1200 (got 52000); a longer period ("M" or "Y") reaches further ahead')
    assert all(isinstance(row[0], float) for row in call("CLV_PREDICT", BGNBD, GG, **CUSTOMERS, horizon=1200))


@pytest.mark.parametrize("horizon", [1e9, 1e16, 1e308])
def test_a_runaway_horizon_is_one_message_not_one_per_row(horizon):
    assert call("CLV_PREDICT", BGNBD, GG, **CUSTOMERS, horizon=horizon).startswith("#NUM! horizon must be <= 1200")


def test_closed_form_horizons_have_no_limit():
    assert isinstance(call("CLV_PURCHASES", BGNBD, 2.0, 30.43, 38.86, 52000.0), float)
    assert isinstance(call("CLV_PURCHASES_NEW", BGNBD, 1e9), float)


def daily_log(first, last):
    return {"customer_ids": [["A"], ["A"], ["B"]], "dates": [[first], [last], [first]]}


def test_tracking_and_cohort_tables_are_limited_to_1200_periods():
    orders = daily_log(dt.datetime(2000, 1, 1), dt.datetime(2010, 1, 1))
    assert call("CLV_TRACKING", BGNBD, **orders, period="D").startswith(
        "#NUM! the periods from the first date to the end must be <= 1200 (got 3654)")
    assert call("CLV_COHORT", **orders, period="D").startswith(
        "#NUM! the periods from the first date to the last must be <= 1200 (got 3654)")
    assert isinstance(call("CLV_COHORT", **orders, period="M"), list)


@pytest.mark.parametrize("serial", [1e308, 1e16, 2958466.0, float("inf")])
def test_dates_beyond_excel_give_num_with_excels_range(serial):
    assert call("CLV_RFM", [["A"]], [[serial]], [[1.0]]).startswith(
        "#NUM! dates row 1 must be a date from 1900-01-01 to 9999-12-31")


def test_the_last_resort_handler_speaks_the_products_words():
    @excel_errors
    def CLV_BROKEN():
        return int("x")

    assert CLV_BROKEN() == UNEXPECTED_MESSAGE
    assert "ValueError" not in UNEXPECTED_MESSAGE and UNEXPECTED_MESSAGE.startswith("#VALUE! ")


# --- item 3: an error value in an input cell gives its code in the result row ------------------


@pytest.mark.parametrize("code", ["#N/A", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#VALUE!", "#SPILL!"])
def test_an_error_cell_gives_its_code_in_its_row_only(code):
    result = call("CLV_CHURN", [[100.0], [code], [100.0]], 0.3, 0.05)
    assert result[0] == [600.0] and result[2] == [600.0]
    assert result[1][0].startswith(f"{code} revenue_per_period is an error value")


def test_another_functions_message_keeps_its_code():
    assert call("CLV_CAC_RATIO", "#NUM! churn_rate must be > 0 and <= 1 (got 1.5)", 300.0).startswith(
        "#NUM! clv is an error value")


@pytest.mark.parametrize("name, args, start", [
    ("CLV_RFM", ([["A"], ["#N/A"]], [[45000.0], [45001.0]], [[1.0], [2.0]]), "#N/A customer_ids row 2"),
    ("CLV_RFM", ([["A"], ["B"]], [[45000.0], ["#REF!"]], [[1.0], [2.0]]), "#REF! dates row 2"),
    ("CLV_FIT_BGNBD", ([[1.0], ["#DIV/0!"]], [[1.0], [2.0]], [[3.0], [4.0]]), "#DIV/0! frequency row 2"),
    ("CLV_PALIVE", ("#NUM! fit needs at least 4 customers", 1.0, 1.0, 2.0), "#NUM! params is an error value"),
    ("CLV_PREDICT", (BGNBD, GG, 1.0, 2.0, 5.0, 20.0, "#N/A"), "#N/A horizon is an error value"),
])
def test_an_error_cell_in_a_table_or_setting_gives_its_code(name, args, start):
    assert call(name, *args).startswith(start)


def test_a_fit_block_with_num_standard_errors_still_gives_its_estimates():
    block = [["r", 0.243, "#NUM! the information matrix is singular at the fit"], ["alpha", 4.414, ""],
             ["a", 0.793, ""], ["b", 2.426, ""]]
    assert isinstance(call("CLV_PALIVE", block, 2.0, 30.43, 38.86), float)
