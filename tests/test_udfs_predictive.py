"""Predictive CLV through the Excel functions, against the published results on the reference data."""

import csv
import datetime as dt

import numpy as np
import pytest

import cdnow
from clv_xl.udfs import (
    CLV_COHORT,
    CLV_DEL,
    CLV_DERL,
    CLV_FIT_BGNBD,
    CLV_FIT_GG,
    CLV_FIT_SBG,
    CLV_HOLDOUT,
    CLV_PALIVE,
    CLV_PREDICT,
    CLV_PURCHASES,
    CLV_PURCHASES_NEW,
    CLV_RFM,
    CLV_SBG_RETENTION,
    CLV_SBG_SURVIVAL,
    CLV_SPEND,
)


# Fader, Hardie & Lee (2005), CDNOW; typed in as a plain range of numbers.
CDNOW_BGNBD = cdnow.BGNBD_CELLS
CDNOW_GG = cdnow.GAMMA_GAMMA_CELLS


def column(values):
    return [[value] for value in values]


def excel_serial(day: dt.date) -> float:
    return float((day - dt.date(1899, 12, 30)).days)


@pytest.fixture(scope="module")
def cdnow_log(shared_data):
    """The CDNOW log as Excel hands it over: ids and amounts as floats, dates as serial numbers."""
    rows = [line.split() for line in (shared_data / "CDNOW_sample.txt").read_text().splitlines() if line.strip()]
    ids = column(float(row[1]) for row in rows)
    dates = column(excel_serial(dt.datetime.strptime(row[2], "%Y%m%d").date()) for row in rows)
    amounts = column(float(row[4]) for row in rows)
    return ids, dates, amounts


@pytest.fixture(scope="module")
def cdnow_rfm(cdnow_log):
    return CLV_RFM(*cdnow_log, dt.datetime(1997, 9, 30), "W")


def rfm_columns(table):
    body = np.array(table[1:], dtype=float)
    return [column(body[:, index]) for index in range(1, 5)]


def test_rfm_reproduces_the_published_cdnow_summary(cdnow_rfm, shared_data):
    assert cdnow_rfm[0] == ["customer", "frequency", "recency", "T", "monetary"]
    with open(shared_data / "cdnow_customers_summary_with_transactions.csv", newline="") as handle:
        published = {float(row["ID"]): row for row in csv.DictReader(handle)}
    assert len(cdnow_rfm) - 1 == len(published) == 2357
    for customer, frequency, recency, age, monetary in cdnow_rfm[1:]:
        row = published[customer]
        assert frequency == float(row["x"])
        assert recency == pytest.approx(float(row["t_x"]), abs=0.01)
        assert age == pytest.approx(float(row["T"]), abs=0.01)
        assert monetary == pytest.approx(float(row["zbar"]), abs=0.01)


def test_bgnbd_fit_reproduces_fader_hardie_lee_2005(cdnow_rfm):
    frequency, recency, age, _ = rfm_columns(cdnow_rfm)
    block = {row[0]: row[1] for row in CLV_FIT_BGNBD(frequency, recency, age)}
    assert block["r"] == pytest.approx(0.243, abs=0.0005)
    assert block["alpha"] == pytest.approx(4.414, abs=0.0005)
    assert block["a"] == pytest.approx(0.793, abs=0.0005)
    assert block["b"] == pytest.approx(2.426, abs=0.0005)
    assert block["log-likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_gamma_gamma_fit_reproduces_fader_hardie_2013(cdnow_rfm):
    frequency, _, _, monetary = rfm_columns(cdnow_rfm)
    block = {row[0]: row[1] for row in CLV_FIT_GG(frequency, monetary)}
    assert block["p"] == pytest.approx(6.25, abs=0.005)
    assert block["q"] == pytest.approx(3.74, abs=0.005)
    assert block["gamma"] == pytest.approx(15.44, abs=0.005)


def test_expected_purchases_in_39_weeks_is_1_226_for_the_papers_customer():
    assert CLV_PURCHASES(CDNOW_BGNBD, 2.0, 30.43, 38.86, 39.0) == pytest.approx(1.226, abs=0.0005)


def test_a_fit_block_and_a_plain_range_of_numbers_give_the_same_prediction():
    block = [["r", 0.243], ["alpha", 4.414], ["a", 0.793], ["b", 2.426], ["log-likelihood", -9582.4]]
    assert CLV_PURCHASES(block, 2.0, 30.43, 38.86, 39.0) == CLV_PURCHASES(CDNOW_BGNBD, 2.0, 30.43, 38.86, 39.0)


@pytest.mark.parametrize("cohort, gamma, delta", [(1, 0.704, 1.182), (2, 0.668, 3.806)])
def test_sbg_fit_on_years_0_to_7_reproduces_fader_hardie_2007(cohort, gamma, delta, shared_data):
    with open(shared_data / "sbg_survivors.csv", newline="") as handle:
        rows = [row for row in csv.reader(handle)][1:]
    survivors = column(float(row[cohort]) for row in rows[:8])
    block = {row[0]: row[1] for row in CLV_FIT_SBG(survivors)}
    assert block["gamma"] == pytest.approx(gamma, abs=0.0005)
    assert block["delta"] == pytest.approx(delta, abs=0.0005)


def test_palive_is_a_probability_and_one_without_repeat_purchases():
    p_alive = CLV_PALIVE(CDNOW_BGNBD, column([0.0, 1.0, 5.0, 200.0]), column([0.0, 2.0, 10.0, 39.0]),
                         column([38.0, 38.0, 38.0, 40.0]))
    values = [row[0] for row in p_alive]
    assert values[0] == 1.0
    assert all(0 <= value <= 1 for value in values)


def test_extreme_customers_get_finite_predictions():
    # 200 repeat purchases in 40 weeks, and a horizon of 20 years of weeks.
    assert np.isfinite(CLV_PURCHASES(CDNOW_BGNBD, 200.0, 39.0, 40.0, 1040.0))
    clv = CLV_PREDICT(CDNOW_BGNBD, CDNOW_GG, 200.0, 39.0, 40.0, 50.0, 520.0, 0.3, 0.1)
    assert np.isfinite(clv) and clv > 0


def test_a_large_a_customer_gets_a_number_not_an_error():
    # Issue 9: scipy's 2F1 overflows here; the 50-digit value is 0.958290 (tests/test_models_bgnbd.py).
    params = column([20.34, 3.0, 97.78, 198.08])
    assert CLV_PURCHASES(params, 100.0, 49.0, 50.0, 5.98e5) == pytest.approx(0.95829, rel=1e-5)


def test_predicted_clv_with_no_discount_is_margin_x_spend_x_purchases():
    purchases = CLV_PURCHASES(CDNOW_BGNBD, 2.0, 30.43, 38.86, 52.0)
    spend = CLV_SPEND(CDNOW_GG, 2.0, 22.0)
    clv = CLV_PREDICT(CDNOW_BGNBD, CDNOW_GG, 2.0, 30.43, 38.86, 22.0, 52.0, 0.3, 0.0)
    assert clv == pytest.approx(0.3 * spend * purchases, rel=1e-9)


def test_predicted_clv_falls_as_the_discount_rate_rises():
    values = [CLV_PREDICT(CDNOW_BGNBD, CDNOW_GG, 2.0, 30.43, 38.86, 22.0, 104.0, 1.0, rate) for rate in (0, 0.05, 0.2)]
    assert values[0] > values[1] > values[2]


def test_new_customer_purchases_rise_with_the_horizon():
    values = [row[0] for row in CLV_PURCHASES_NEW(CDNOW_BGNBD, column([0.0, 13.0, 26.0, 52.0]))]
    assert values[0] == 0 and values == sorted(values)


def test_sbg_survival_starts_at_one_and_retention_rises():
    params = [["gamma", 0.704], ["delta", 1.182]]
    survival = [row[0] for row in CLV_SBG_SURVIVAL(params, column([0.0, 1.0, 2.0, 7.0]))]
    retention = [row[0] for row in CLV_SBG_RETENTION(params, column([1.0, 2.0, 7.0]))]
    assert survival[0] == 1.0 and survival == sorted(survival, reverse=True)
    assert retention == sorted(retention)
    # r_1 = delta / (gamma + delta) (Fader & Hardie 2007, eq. 8).
    assert retention[0] == pytest.approx(1.182 / (0.704 + 1.182))


def test_derl_equals_the_brute_force_discounted_sum():
    gamma, delta, d = 0.704, 1.182, 0.1
    survival = lambda t: np.exp(sum(np.log((delta + k - 1) / (gamma + delta + k - 1)) for k in range(1, t + 1)))
    # Renewals n = 0: payments in periods 1, 2, ... if still active, the first undiscounted.
    brute = sum(survival(t) / (1 + d) ** (t - 1) for t in range(1, 4000))
    assert CLV_DERL([[gamma], [delta]], 0.0, d) == pytest.approx(brute, rel=1e-4)
    assert CLV_DERL([[gamma], [delta]], 0.0, d, 100.0) == pytest.approx(100 * brute, rel=1e-4)


def test_del_includes_the_first_payment_and_derl_excludes_the_current_one():
    gamma, delta, d = 0.704, 1.182, 0.1
    survival = lambda t: np.exp(sum(np.log((delta + k - 1) / (gamma + delta + k - 1)) for k in range(1, t + 1)))
    # A new subscriber: the payment at sign-up (period 0, undiscounted), then periods 1, 2, ... if active.
    brute = sum(survival(t) / (1 + d) ** t for t in range(0, 4000))
    params = [[gamma], [delta]]
    assert CLV_DEL(params, d, 100.0) == pytest.approx(100 * brute, rel=1e-4)
    assert CLV_DEL(params, d) == pytest.approx(1 + CLV_DERL(params, 0.0, d) / (1 + d), rel=1e-12)


@pytest.mark.parametrize("call", [
    lambda: CLV_DERL([[0.7], [1.2]], 0.0, 1.0),
    lambda: CLV_DEL([[0.7], [1.2]], 1.5),
    lambda: CLV_PREDICT(CDNOW_BGNBD, CDNOW_GG, 2.0, 30.43, 38.86, 22.0, 52.0, 0.3, 1.0),
])
def test_a_discount_rate_of_100_percent_or_more_is_refused_with_one_message(call):
    message = call()
    assert message.startswith("#NUM! ") and "discount_rate must be >= 0 and < 1, a fraction such as 10% or 0.1" in message


def test_cohort_table_starts_each_cohort_at_100_percent():
    ids = column([1.0, 1.0, 2.0, 3.0])
    dates = column([excel_serial(dt.date(2025, 1, 5)), excel_serial(dt.date(2025, 2, 5)),
                    excel_serial(dt.date(2025, 1, 20)), excel_serial(dt.date(2025, 2, 1))])
    table = CLV_COHORT(ids, dates, "M")
    assert table[0] == ["cohort", 0.0, 1.0]
    assert table[1] == [excel_serial(dt.date(2025, 1, 1)), 1.0, 0.5]  # customer 1 bought again in February
    assert table[2] == [excel_serial(dt.date(2025, 2, 1)), 1.0, ""]  # February's month 1 is not observed yet


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: CLV_PALIVE([[1.0], [2.0]], 1.0, 1.0, 2.0),
         "#VALUE! params must hold 4 numbers (r, alpha, a, b) or the block a fit returns (got 2 numbers)"),
        (lambda: CLV_FIT_BGNBD(column([1.0, None, "x"]), column([1.0, None, 2.0]), column([2.0, None, 3.0])),
         "#VALUE! frequency row 3 must be a number (got 'x')"),
        (lambda: CLV_FIT_BGNBD(column([1.0, 2.0]), column([1.0]), column([2.0, 3.0])),
         "#N/A the columns must have the same number of rows (frequency has 2, recency has 1, T has 2)"),
        (lambda: CLV_RFM(column([1.0]), column(["soon"]), column([5.0])),
         "#VALUE! dates row 1 must be a date (got 'soon'); use a date cell or yyyy-mm-dd"),
        (lambda: CLV_FIT_SBG(column([1000.0, 1000.0, 1000.0])),
         "#NUM! survivors never decrease (got no churn): the churn rate cannot be estimated"),
        (lambda: CLV_PREDICT(CDNOW_BGNBD, CDNOW_GG, 2.0, 30.43, 38.86, 22.0, column([52.0, 53.0])),
         "#N/A horizon must be a single cell (got 2x1)"),
    ],
)
def test_bad_predictive_input_shows_a_short_coded_message(call, message):
    assert call() == message


def test_a_fit_is_not_recomputed_when_excel_recalculates_with_unchanged_inputs(monkeypatch):
    from clv_xl import udfs
    from clv_xl.models import sbg as sbg_model

    calls = []
    real_fit = sbg_model.fit
    monkeypatch.setattr(sbg_model, "fit", lambda counts: calls.append(1) or real_fit(counts))
    survivors = column([1000.0, 631.0, 468.0, 382.0, 326.0])
    first = udfs.CLV_FIT_SBG(survivors)
    assert udfs.CLV_FIT_SBG([row[:] for row in survivors]) == first  # same content, new lists
    assert len(calls) == 1
    udfs.CLV_FIT_SBG(column([1000.0, 630.0, 468.0, 382.0, 326.0]))
    assert len(calls) == 2


def test_a_blank_as_of_cell_means_the_last_date_as_when_it_is_omitted():
    # Excel hands a blank cell over as [[None]] (ndim=2); it must act like the omitted argument.
    ids = column([1.0, 1.0, 2.0])
    dates = column([excel_serial(dt.date(2025, 1, 1)), excel_serial(dt.date(2025, 1, 15)),
                     excel_serial(dt.date(2025, 1, 29))])
    amounts = column([10.0, 20.0, 30.0])
    table = CLV_RFM(ids, dates, amounts, [[None]], "W")
    assert table == CLV_RFM(ids, dates, amounts)
    assert table[1] == [1.0, 1.0, 2.0, 4.0, 20.0]  # T runs to the last date, 28 days = 4 weeks


def test_rfm_rows_hold_each_customer_id_as_read_and_plain_floats():
    dates = column([dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 8), dt.datetime(2025, 1, 8)])
    amounts = column([10.0, 20.0, 30.0])
    by_number = CLV_RFM(column([7.0, 7.0, 3.0]), dates, amounts, None, "D")
    assert by_number[1:] == [[3.0, 0.0, 0.0, 0.0, 0.0], [7.0, 1.0, 7.0, 7.0, 20.0]]
    by_text = CLV_RFM(column(["123", "00123", "123"]), dates, amounts, None, "D")
    assert by_text[1:] == [["00123", 0.0, 0.0, 0.0, 0.0], ["123", 1.0, 7.0, 7.0, 30.0]]
    holdout = CLV_HOLDOUT(column(["b", "a", "b"]), dates, amounts, "2025-01-01", "2025-01-08", "D")
    assert holdout[1:] == [["b", 0.0, 0.0, 0.0, 0.0, 1.0, 30.0, 7.0]]
    for row in by_number[1:] + by_text[1:] + holdout[1:]:
        assert [type(value) for value in row[1:]] == [float] * (len(row) - 1)
    assert [type(row[0]) for row in by_number[1:] + by_text[1:]] == [float, float, str, str]
