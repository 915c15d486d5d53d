"""Validation through the Excel functions: holdout split, diagnostics, wider fit blocks, intervals."""

import datetime as dt

import numpy as np
import pytest

from clv_xl.excel import results
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.udfs import (
    CLV_CONDITIONAL,
    CLV_CONDITIONAL_SPEND,
    CLV_DEL,
    CLV_DERL,
    CLV_DERL_INTERVAL,
    CLV_FIT_BGNBD,
    CLV_FIT_GG,
    CLV_FIT_SBG,
    CLV_FREQ_FIT,
    CLV_HOLDOUT,
    CLV_PALIVE,
    CLV_PREDICT,
    CLV_PREDICT_INTERVAL,
    CLV_PURCHASES,
    CLV_PURCHASES_NEW,
    CLV_SBG_RETENTION,
    CLV_SBG_SURVIVAL,
    CLV_SPEND,
    CLV_TRACKING,
)

REGULAR_SURVIVORS = [[1000.0], [631.0], [468.0], [382.0], [326.0], [289.0], [262.0], [241.0]]


def column(values):
    return [[value] for value in values]


@pytest.fixture(scope="module")
def cdnow(shared_data):
    rows = [line.split() for line in (shared_data / "CDNOW_sample.txt").read_text().splitlines() if line.strip()]
    serial = lambda text: float((dt.datetime.strptime(text, "%Y%m%d").date() - dt.date(1899, 12, 30)).days)
    log = (column(float(r[1]) for r in rows), column(serial(r[2]) for r in rows), column(float(r[4]) for r in rows))
    table = CLV_HOLDOUT(*log, "1997-09-30", "1998-06-30")
    body = np.array(table[1:], dtype=float)
    columns = {name: column(body[:, i]) for i, name in enumerate(table[0])}
    bgnbd = CLV_FIT_BGNBD(columns["frequency"], columns["recency"], columns["T"])
    gg = CLV_FIT_GG(columns["frequency"], columns["monetary"])
    return {"log": log, "table": table, "columns": columns, "bgnbd": bgnbd, "gg": gg}


def narrow(block):
    return [row[:2] for row in block]


def test_holdout_table_has_the_cdnow_customers_and_holdout_purchases(cdnow):
    table = cdnow["table"]
    assert table[0] == ["customer", "frequency", "recency", "T", "monetary", "frequency_holdout",
                        "monetary_holdout", "duration_holdout"]
    assert len(table) == 2358
    assert sum(row[5] for row in table[1:]) == 1882
    assert {row[7] for row in table[1:]} == {39.0}


def test_fit_blocks_carry_standard_errors_intervals_and_correlations(cdnow):
    block = cdnow["bgnbd"]
    assert [row[0] for row in block] == ["r", "alpha", "a", "b", "log-likelihood"]
    assert all(len(row) == 9 for row in block)
    label, estimate, error, low, high, *correlations = block[0]
    assert error == pytest.approx(0.01256, rel=1e-3)
    assert low < estimate < high and low * high == pytest.approx(estimate ** 2, rel=1e-9)
    assert correlations[0] == pytest.approx(1.0)
    assert block[4][2:] == [""] * 7
    assert len(CLV_FIT_GG(cdnow["columns"]["frequency"], cdnow["columns"]["monetary"])[0]) == 8
    assert len(CLV_FIT_SBG(REGULAR_SURVIVORS)[0]) == 7


def test_every_params_argument_reads_the_same_numbers_from_the_wider_block(cdnow):
    bgnbd, gg, sbg = cdnow["bgnbd"], cdnow["gg"], CLV_FIT_SBG(REGULAR_SURVIVORS)
    customers = (column([0.0, 2.0, 7.0]), column([0.0, 30.43, 35.0]), column([38.86, 38.86, 38.86]))
    spend = column([0.0, 30.0, 40.0])
    calls = [
        lambda b, g, s: CLV_PALIVE(b, *customers),
        lambda b, g, s: CLV_PURCHASES(b, *customers, 39.0),
        lambda b, g, s: CLV_PURCHASES_NEW(b, 52.0),
        lambda b, g, s: CLV_SPEND(g, customers[0], spend),
        lambda b, g, s: CLV_PREDICT(b, g, *customers, spend, 52.0),
        lambda b, g, s: CLV_SBG_SURVIVAL(s, column([0.0, 1.0, 5.0])),
        lambda b, g, s: CLV_SBG_RETENTION(s, column([1.0, 5.0])),
        lambda b, g, s: CLV_DERL(s, 0.0, 0.1, 100.0),
        lambda b, g, s: CLV_DEL(s, 0.1, 100.0),
    ]
    for call in calls:
        wide, two_columns = call(bgnbd, gg, sbg), call(narrow(bgnbd), narrow(gg), narrow(sbg))
        assert not isinstance(wide, str), wide
        assert wide == two_columns
    assert CLV_PURCHASES(bgnbd, 2.0, 30.43, 38.86, 39.0) == pytest.approx(1.226, abs=0.0005)


def test_a_singular_information_matrix_shows_num_in_the_standard_error_column():
    params = BGNBDParams(0.5, 2.0, 1.0, 3.0, log_likelihood=-10.0, covariance=np.full((4, 4), np.nan))
    block = results.params_block(params, ("r", "alpha", "a", "b"))
    assert block[0][:2] == ["r", 0.5] and len(block[0]) == 9
    assert block[0][2].startswith("#NUM! the information matrix is singular")
    assert CLV_PURCHASES(block, 2.0, 30.43, 38.86, 39.0) == CLV_PURCHASES(narrow(block), 2.0, 30.43, 38.86, 39.0)
    message = CLV_PREDICT_INTERVAL(block, [["p", 6.0], ["q", 4.0], ["gamma", 15.0]], 2.0, 30.0, 38.0, 30.0, 52.0)
    assert message.startswith("#NUM! bgnbd_params has no standard errors: the information matrix is singular")
    typed_in = CLV_PREDICT_INTERVAL([[0.243], [4.414], [0.793], [2.426]], [[6.25], [3.74], [15.44]], 2.0, 30.0,
                                    38.0, 30.0, 52.0)
    assert typed_in.startswith("#VALUE! bgnbd_params must be the whole block the fit returns")


GG_BLOCK = [["p", 6.0, 0.5, 5.0, 7.0, 1.0, 0.2, 0.1], ["q", 4.0, 0.4, 3.2, 4.8, 0.2, 1.0, 0.3],
            ["gamma", 15.0, 2.0, 11.0, 19.0, 0.1, 0.3, 1.0]]


def bgnbd_block_with(row, column, cell):
    """A fitted BG/NBD block (standard errors and correlations) with one cell replaced."""
    params = BGNBDParams(0.24, 4.4, 0.79, 2.4, log_likelihood=-10.0, covariance=np.diag([0.01, 0.3, 0.2, 0.5]))
    block = results.params_block(params, ("r", "alpha", "a", "b"))
    block[row][column] = cell
    return block


@pytest.mark.parametrize("cell, message", [
    (None, "#VALUE! bgnbd_params std. error of alpha is blank"),
    ("#N/A", "#N/A bgnbd_params std. error of alpha is an error value ('#N/A')"),
    ("abc", "#VALUE! bgnbd_params std. error of alpha must be a number (got 'abc')"),
    (float("inf"), "#NUM! bgnbd_params std. error of alpha must be a finite number (got inf)"),
])
def test_every_standard_error_cell_of_an_interval_must_be_a_number(cell, message):
    assert CLV_PREDICT_INTERVAL(bgnbd_block_with(1, 2, cell), GG_BLOCK, 2.0, 30.0, 38.0, 30.0, 52.0).startswith(message)


@pytest.mark.parametrize("cell, shown", [(True, "True"), (dt.datetime(2020, 1, 1), "2020-01-01 00:00:00")])
def test_a_correlation_cell_that_is_no_number_is_refused_not_read_as_one(cell, shown):
    message = CLV_PREDICT_INTERVAL(bgnbd_block_with(0, 6, cell), GG_BLOCK, 2.0, 30.0, 38.0, 30.0, 52.0)
    assert message == f"#VALUE! bgnbd_params corr. r alpha must be a number (got {shown})"


def test_total_is_true_or_false_and_text_is_refused():
    customers = ([[2.0], [1.0]], [[30.0], [20.0]], [[38.0], [38.0]], [[40.0], [30.0]], 52.0)
    block = bgnbd_block_with(0, 0, "r")
    per_customer = CLV_PREDICT_INTERVAL(block, GG_BLOCK, *customers)
    total = CLV_PREDICT_INTERVAL(block, GG_BLOCK, *customers, total=True)
    assert len(per_customer) == 3 and len(total) == 2
    assert total[1][0] == pytest.approx(per_customer[1][0] + per_customer[2][0], rel=1e-12)
    assert CLV_PREDICT_INTERVAL(block, GG_BLOCK, *customers, total=1.0) == total
    assert CLV_PREDICT_INTERVAL(block, GG_BLOCK, *customers, total=None) == per_customer
    assert (CLV_PREDICT_INTERVAL(block, GG_BLOCK, *customers, total="FALSE")
            == "#VALUE! total must be TRUE or FALSE (got 'FALSE')")


def test_settings_are_named_as_the_user_typed_them():
    ids, dates = [["a"], ["b"], ["a"]], [[dt.datetime(2024, 1, 1)], [dt.datetime(2024, 2, 1)], [dt.datetime(2024, 3, 1)]]
    amounts = [[10.0], [20.0], [30.0]]
    bgnbd = [["r", 0.24], ["alpha", 4.4], ["a", 0.79], ["b", 2.4]]
    wrong_period = "#VALUE! period must be one of D, W, M, Y (got 'Q')"
    assert CLV_HOLDOUT(ids, dates, amounts, "2024-01-31", "2024-03-31", "Q") == wrong_period
    assert CLV_TRACKING(bgnbd, ids, dates, None, "Q") == wrong_period
    assert CLV_PREDICT(bgnbd, GG_BLOCK, 1.0, 1.0, 2.0, 20.0, 52.0, 0.3, 0.0, "Q") == wrong_period
    assert (CLV_HOLDOUT(ids, dates, amounts, None, "2024-03-31")
            == "#VALUE! calibration_end is blank; enter a date (a date cell or yyyy-mm-dd)")
    assert CLV_FREQ_FIT(bgnbd, [[1.0], [2.0]], [[30.0], [30.0]], "x") == "#VALUE! max_count must be a number (got 'x')"
    assert CLV_PREDICT(bgnbd, GG_BLOCK, 1.0, 1.0, 2.0, 20.0, None) == "#VALUE! horizon is blank"


def test_diagnostics_spill_labelled_tables(cdnow):
    c, bgnbd = cdnow["columns"], cdnow["bgnbd"]
    tracking = CLV_TRACKING(bgnbd, cdnow["log"][0], cdnow["log"][1], "1998-06-30")
    assert tracking[0] == ["period", "period end", "actual", "expected", "cumulative actual", "cumulative expected"]
    assert len(tracking) == 79 and tracking[-1][4] == 4339.0
    assert tracking[39][1] == float((dt.date(1997, 9, 30) - dt.date(1899, 12, 30)).days)
    histogram = CLV_FREQ_FIT(bgnbd, c["frequency"], c["T"])
    assert [row[0] for row in histogram[:2]] == ["repeat purchases", 0.0] and histogram[8][0] == "7+"
    assert [row[1] for row in histogram[1:9]] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert histogram[9][0] == "chi-square" and histogram[11][0] == "p-value" and 0.05 < histogram[11][1] < 1
    conditional = CLV_CONDITIONAL(bgnbd, c["frequency"], c["recency"], c["T"], c["frequency_holdout"], 39.0)
    assert conditional[-1][0] == "all" and conditional[-1][1] == 2357
    assert conditional[-1][2] * 2357 == pytest.approx(1882)
    spend = CLV_CONDITIONAL_SPEND(cdnow["gg"], c["frequency"], c["monetary"], c["frequency_holdout"],
                                  c["monetary_holdout"])
    assert spend[0][2:] == ["actual spend", "expected spend"] and spend[-1][1] == 684


def test_intervals_for_the_total_and_per_customer(cdnow):
    c = cdnow["columns"]
    args = (cdnow["bgnbd"], cdnow["gg"], c["frequency"], c["recency"], c["T"], c["monetary"], 52.0, 0.3, 0.1)
    total = CLV_PREDICT_INTERVAL(*args, "W", True)
    assert total[0] == ["CLV", "95% low", "95% high"] and len(total) == 2
    value, low, high = total[1]
    predicted = CLV_PREDICT(*args)
    assert value == pytest.approx(sum(row[0] for row in predicted), rel=1e-9)
    assert low < value < high
    per_customer = CLV_PREDICT_INTERVAL(*args)
    assert len(per_customer) == 2358
    assert all(lo <= v <= hi for v, lo, hi in per_customer[1:])
    derl = CLV_DERL_INTERVAL(CLV_FIT_SBG(REGULAR_SURVIVORS), column([0.0, 3.0]), 0.1, 100.0)
    assert derl[1][0] == pytest.approx(CLV_DERL(CLV_FIT_SBG(REGULAR_SURVIVORS), 0.0, 0.1, 100.0), rel=1e-12)
    assert derl[1][1] < derl[1][0] < derl[1][2]


def test_a_histogram_for_parameters_without_finite_probabilities_says_so():
    # r = 1e308 (typed in): lnG(r + x) - lnG(r) is inf - inf; the table once showed NaN and p-value 1
    message = CLV_FREQ_FIT([1e308, 4.4, 0.79, 2.4], [[0.0], [1.0], [2.0]], [[10.0], [20.0], [30.0]])
    assert message.startswith("#NUM! the model gives no finite purchase probabilities for r = 1e+308")
