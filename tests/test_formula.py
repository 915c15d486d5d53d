"""The formula module against the source documents' worked examples and CLV properties."""

import inspect
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clv_xl import formula
from clv_xl.models import bgnbd as bgnbd_model
from clv_xl.models import clv as clv_model
from clv_xl.models import gamma_gamma as gamma_gamma_model
from clv_xl.models import sbg as sbg_model
from clv_xl.errors import DivZeroError, NumError, ShapeError
import cdnow

money = st.floats(0, 1e6)
rate = st.floats(0.001, 0.99)
discount = st.floats(0, 0.5)
periods = st.floats(0, 60)


# --- worked examples of the source documents ---------------------------------------


def test_average_method_eur_50_six_a_year_three_years_is_900():
    assert formula.clv_average(50, 6, 3) == pytest.approx(900)


def test_average_method_usd_200_a_quarter_for_five_years_is_4000():
    assert formula.clv_average(200, 1, 5 * 4) == pytest.approx(4000)


def test_average_method_eur_40_tree_a_year_for_ten_years_is_400():
    assert formula.clv_average(40, 1, 10) == pytest.approx(400)


def test_published_coffee_case_is_5489_27():
    assert formula.clv_average(5.90, 4.2 * 52, 20, margin=0.213) == pytest.approx(5489.27, abs=0.005)


def test_retention_80_discount_12_gives_margin_multiple_3_5():
    # First payment now: (1 + d) / (1 + d - r) = 1.12 / 0.32 = 3.5.
    assert formula.clv_churn(100, 1, 0.2, 0.12) == pytest.approx(350)


def test_margin_multiple_2_5_when_first_payment_is_one_period_out():
    # r / (1 + d - r) = 0.8 / 0.32 = 2.5: our value minus the payment made now.
    assert formula.clv_churn(100, 1, 0.2, 0.12) - 100 == pytest.approx(250)


def test_revenue_method_is_revenue_times_margin_over_churn():
    assert formula.clv_churn(100, 0.3, 0.05) == pytest.approx(600)


def test_net_value_is_revenue_minus_costs():
    assert formula.clv_net(1000, 200, 150) == 650


def test_churn_rate_counts_new_customers():
    # 100 at the start, 10 won, 90 left at the end: 20 of 100 lost.
    assert formula.churn_rate(100, 90, 10) == pytest.approx(0.2)


def test_lifespan_and_retention_from_churn():
    assert formula.expected_lifespan(0.2) == pytest.approx(5)
    assert formula.retention_rate(0.2) == pytest.approx(0.8)


def test_cac_ratio_and_payback():
    assert formula.cac_ratio(900, 300) == pytest.approx(3)
    assert formula.cac_payback(120, 300) == pytest.approx(2.5)


def test_discounted_average_method_is_the_annuity_due_sum():
    # 100 a year for 3 years at 10%: 100 + 100/1.1 + 100/1.21.
    assert formula.clv_average(100, 1, 3, discount_rate=0.1) == pytest.approx(100 + 100 / 1.1 + 100 / 1.21)


# --- properties -----------------------------------------------------------------------


@given(money, st.floats(0, 50), periods, st.floats(0, 1))
def test_discount_zero_equals_undiscounted_product(value, frequency, lifespan, margin):
    assert formula.clv_average(value, frequency, lifespan, margin, 0, 0) == pytest.approx(
        value * frequency * lifespan * margin, rel=1e-12, abs=1e-9
    )


@given(money, st.floats(0.01, 1), rate)
def test_revenue_method_at_discount_zero_is_margin_over_churn(revenue, margin, churn):
    assert formula.clv_churn(revenue, margin, churn) == pytest.approx(revenue * margin / churn)


@given(st.integers(0, 40), discount)
def test_annuity_factor_equals_the_explicit_sum_for_whole_periods(n, d):
    assert formula.annuity_factor(n, d) == pytest.approx(sum((1 + d) ** -t for t in range(n)))


@given(st.floats(0, 40), st.floats(0, 1e-9))
def test_annuity_factor_is_continuous_at_zero_discount(n, d):
    assert formula.annuity_factor(n, d) == pytest.approx(n, rel=1e-6, abs=1e-9)


@given(st.floats(1, 1e4), st.floats(0.05, 1), rate, rate, discount)
def test_clv_falls_as_churn_rises(revenue, margin, churn_a, churn_b, d):
    low, high = sorted((churn_a, churn_b))
    assert formula.clv_churn(revenue, margin, high, d) <= formula.clv_churn(revenue, margin, low, d)


@given(st.floats(1, 1e4), rate, discount, discount)
def test_clv_falls_as_discount_rises(revenue, churn, d_a, d_b):
    low, high = sorted((d_a, d_b))
    assert formula.clv_churn(revenue, 1, churn, high) <= formula.clv_churn(revenue, 1, churn, low) * (1 + 1e-12)
    assert formula.clv_average(revenue, 1, 10, 1, high) <= formula.clv_average(revenue, 1, 10, 1, low) * (1 + 1e-12)


@given(money, st.floats(0, 50), periods, discount, discount)
def test_average_clv_never_rises_with_the_discount_rate_for_any_lifespan(value, frequency, lifespan, d_a, d_b):
    low, high = sorted((d_a, d_b))
    undiscounted = formula.clv_average(value, frequency, lifespan)
    at_low = formula.clv_average(value, frequency, lifespan, 1, low)
    at_high = formula.clv_average(value, frequency, lifespan, 1, high)
    assert at_high <= at_low * (1 + 1e-12) + 1e-9
    assert at_low <= undiscounted * (1 + 1e-12) + 1e-9


def test_a_lifespan_below_one_period_is_worth_its_fraction_discounted_or_not():
    # Pro rata: half a period is half a payment, made now, so never discounted up.
    assert formula.clv_average(1, 1, 0.5, 1, 0.1) == pytest.approx(0.5)
    # 2.5 periods: payments of 1 now and after one period, and 0.5 after two.
    assert formula.annuity_factor(2.5, 0.1) == pytest.approx(1 + 1 / 1.1 + 0.5 / 1.1**2)


def test_margin_then_discount_rate_in_that_order_gives_246_20():
    # EUR 50 x 6 = 300 a year x 30% margin = 90 a year for 3 years at 10%: 90 + 90/1.1 + 90/1.21.
    assert formula.clv_average(50, 6, 3, 0.3, 0.1) == pytest.approx(90 + 90 / 1.1 + 90 / 1.21)
    assert formula.clv_average(50, 6, 3, 0.3, 0.1, 100) == pytest.approx(246.198 - 100, abs=0.001)


def test_every_closed_form_function_puts_margin_then_discount_rate_then_costs():
    order = ["margin", "discount_rate", "acquisition_cost", "service_cost"]
    for function in (formula.clv_average, formula.clv_churn, formula.clv_net, formula.cac_ratio,
                     formula.cac_payback, formula.annuity_factor):
        names = [name for name in inspect.signature(function).parameters if name in order]
        assert names == sorted(names, key=order.index), function.__name__


@pytest.mark.parametrize("call", [
    lambda: formula.clv_average(50, 6, 3, 0.3, 1.0),
    lambda: formula.clv_churn(100, 0.3, 0.05, 1.0),
    lambda: sbg_model.discounted_expected_residual_lifetime(sbg_model.SBGParams(0.7, 1.2), 0, 1.0),
    lambda: sbg_model.discounted_expected_lifetime(sbg_model.SBGParams(0.7, 1.2), 2.0),
    lambda: clv_model.customer_lifetime_value(bgnbd_model.BGNBDParams(**cdnow.BGNBD),
                                  gamma_gamma_model.GammaGammaParams(**cdnow.GAMMA_GAMMA), 2, 30.43, 38.86, 22,
                                  horizon=52, annual_discount_rate=1.0),
])
def test_every_discount_rate_has_the_same_upper_bound_and_message(call):
    with pytest.raises(NumError, match=r"discount_rate must be >= 0 and < 1, a fraction such as 10% or 0\.1 \(got [12]\)"):
        call()


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.integers(2, 10))
def test_tiers_are_monotone_in_value_and_ties_share_a_tier(values, count):
    values = np.array(values)
    tiers = formula.tier_index(values, count)
    order = np.argsort(-values, kind="stable")
    assert (np.diff(tiers[order]) >= 0).all()
    for value in np.unique(values):
        assert len(set(tiers[values == value])) == 1
    assert tiers.min() >= 0 and tiers.max() < count


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60, unique=True), st.integers(2, 10))
def test_equal_size_tiers_differ_by_at_most_one_customer(values, count):
    sizes = np.bincount(formula.tier_index(np.array(values), count), minlength=count)
    if len(values) >= count:
        assert sizes.max() - sizes.min() <= 1


tied_values = st.lists(st.integers(0, 6), min_size=1, max_size=300).map(lambda v: np.array(v, dtype=float))


@given(tied_values | st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60).map(np.array), st.integers(2, 10))
def test_tiers_follow_the_values_and_use_every_tier_the_ties_allow(values, count):
    tiers = formula.tier_index(values, count)
    order = np.argsort(-values, kind="stable")
    assert (np.diff(tiers[order]) >= 0).all()  # a lower value is never in a higher tier
    assert all(len(set(tiers[values == value])) == 1 for value in np.unique(values))
    assert tiers[values == values.max()][0] == 0
    if len(np.unique(values)) >= count:
        assert set(tiers) == set(range(count))
        assert tiers[values == values.min()][0] == count - 1
    elif len(np.unique(values)) > 1:
        assert tiers[values == values.min()][0] == count - 1


@given(tied_values, st.integers(2, 10))
def test_no_tier_exceeds_a_fair_share_by_more_than_the_largest_tie_block(values, count):
    sizes = np.bincount(formula.tier_index(values, count), minlength=count)
    largest_block = np.unique(values, return_counts=True)[1].max()
    assert sizes.max() <= max(len(values) / count, 1) + largest_block


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=200, unique=True), st.integers(2, 10))
def test_tie_free_tiers_are_pandas_qcut_on_the_ranks(values, count):
    values = np.array(values[: len(values) // count * count])
    if len(values) == 0:
        return
    ranks = pd.Series(-values).rank(method="first")
    expected = pd.qcut(ranks, count, labels=False).to_numpy()
    assert (formula.tier_index(values, count) == expected).all()


def test_a_tie_block_goes_to_one_tier_by_the_documented_rule():
    # Five equal values below one high value: High, then five Low (not six High).
    assert list(formula.segment(np.array([100.0, 1, 1, 1, 1, 1]), 3)) == ["High"] + ["Low"] * 5
    # 600 churned customers at 0 and 400 positive values in 4 tiers: the zeros get the bottom
    # tier, the positive values share the other three.
    values = np.r_[np.zeros(600), np.arange(1.0, 401.0)]
    tiers = formula.tier_index(values, 4)
    assert list(np.bincount(tiers)) == [133, 134, 133, 600] and set(tiers[:600]) == {3}
    # Fewer customers than tiers: the lowest is still in the lowest tier.
    assert list(formula.segment(np.array([3.0, 1.0]), 3)) == ["High", "Low"]


@given(
    st.lists(st.tuples(money, st.floats(0, 50), periods, st.floats(0, 1), discount, money),
             min_size=1, max_size=20)
)
def test_vectorised_results_equal_element_by_element(rows):
    columns = [np.array(column) for column in zip(*rows)]
    vectorised = formula.clv_average(*columns)
    one_by_one = [formula.clv_average(*row) for row in rows]
    assert vectorised == pytest.approx(one_by_one)


def test_three_equal_tiers_are_high_medium_low_highest_first():
    labels = formula.segment(np.array([10, 50, 30, 20, 60, 40, np.nan]), 3)
    assert list(labels) == ["Low", "High", "Medium", "Low", "High", "Medium", ""]


def test_threshold_tiers_put_the_highest_threshold_in_the_top_tier():
    labels = formula.segment(np.array([999, 1000, 250, 100, 99]), [100, 1000])
    assert list(labels) == ["Medium", "High", "Medium", "Medium", "Low"]


def test_four_tiers_default_to_tier_numbers_and_labels_override():
    assert list(formula.segment(np.arange(4.0), 4)) == ["Tier 4", "Tier 3", "Tier 2", "Tier 1"]
    assert list(formula.segment(np.arange(2.0), 2, ["Top", "Rest"])) == ["Rest", "Top"]


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: formula.clv_churn(100, 0.3, 1.5), NumError, "churn_rate must be > 0 and <= 1 (got 1.5)"),
        (lambda: formula.clv_churn(100, 0.3, 0), NumError, "churn_rate must be > 0 and <= 1 (got 0)"),
        (lambda: formula.clv_average(50, 6, -1), NumError, "lifespan_periods must be >= 0 (got -1)"),
        (lambda: formula.clv_average(50, 6, 3, margin=30), NumError, "margin must be between 0 and 1"),
        (lambda: formula.clv_average(50, 6, 3, discount_rate=12), NumError, "discount_rate must be >= 0 and < 1"),
        (lambda: formula.churn_rate(0, 0), DivZeroError, "customers_start must be > 0"),
        (lambda: formula.churn_rate(100, 120), NumError, "customers_end must be <= customers_start + new_customers (got 120)"),
        (lambda: formula.cac_ratio(900, 0), DivZeroError, "acquisition_cost must be > 0"),
        (lambda: formula.cac_payback(0, 300), DivZeroError, "never pays back"),
        (lambda: formula.segment(np.ones(3), 11), NumError, "tiers must be a whole number from 2 to 10"),
        (lambda: formula.segment(np.ones(3), [5, 1]), NumError, "strictly ascending"),
        (lambda: formula.segment(np.ones(3), 3, ["A", "B"]), ShapeError, "labels must hold 3 names"),
        (lambda: formula.clv_net(math.nan, 1), NumError, "revenue must contain finite numbers only"),
    ],
)
def test_bad_input_names_the_argument_and_the_value(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
