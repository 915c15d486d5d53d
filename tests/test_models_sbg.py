"""Shifted-beta-geometric model: published fits (FH 2007), identities and brute-force sums."""

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl.errors import FitError, NumError
from clv_xl.models import sbg
from clv_xl.models.sbg import SBGParams


@pytest.mark.parametrize("cohort,gamma,delta", [("regular", 0.704, 1.182), ("high_end", 0.668, 3.806)])
def test_fit_reproduces_published_parameters(shared_data, cohort, gamma, delta):
    survivors = pd.read_csv(shared_data / "sbg_survivors.csv")
    years_0_to_7 = survivors.loc[survivors["year"] <= 7, cohort]
    fitted = sbg.fit(years_0_to_7)
    assert fitted.gamma == pytest.approx(gamma, abs=0.001)
    assert fitted.delta == pytest.approx(delta, abs=0.001)
    assert fitted.n_customers == 1000 and fitted.converged


params_strategy = st.builds(SBGParams, st.floats(0.05, 20), st.floats(0.05, 20))


@settings(max_examples=100, deadline=None)
@given(params_strategy)
def test_survival_falls_and_retention_rises(params):
    t = np.arange(0, 30)
    s = sbg.survival(params, t)
    assert s[0] == pytest.approx(1.0)
    assert np.all(np.diff(s) < 0)
    r = sbg.retention(params, t[1:])
    assert np.all(np.diff(r) > 0)
    assert np.allclose(r, s[1:] / s[:-1], rtol=1e-10)
    # every customer is either lost in some period 1..29 or still active at 29
    assert sbg.churn_probability(params, t[1:]).sum() + s[-1] == pytest.approx(1.0, rel=1e-10)


def brute_force_derl(params, n, d, periods=20_000):
    t = np.arange(n + 1, n + 1 + periods)
    return np.sum(sbg.survival(params, t) / sbg.survival(params, n) * np.exp(-(t - n - 1) * np.log1p(d)))


@settings(max_examples=50, deadline=None)
@given(params_strategy, st.integers(0, 20), st.floats(0.02, 0.99))
def test_derl_equals_its_brute_force_sum(params, renewals, d):
    closed = sbg.discounted_expected_residual_lifetime(params, renewals, d)
    assert closed == pytest.approx(brute_force_derl(params, renewals, d), rel=1e-8)


@pytest.mark.parametrize(
    "gamma,delta,renewals,d",
    [(0.704, 1.182, 1000, 0.002), (0.704, 1.182, 5000, 0.001), (0.704, 1.182, 300, 0.0005), (1.0, 0.478, 0, 0.00195)],
)
def test_cases_where_scipy_hyp2f1_fails_stay_exact(gamma, delta, renewals, d):
    # scipy's 2F1 gives NaN for gamma + delta + n > 170 and a wrong (negative) value for the last case
    params = SBGParams(gamma, delta)
    closed = sbg.discounted_expected_residual_lifetime(params, renewals, d)
    assert closed == pytest.approx(brute_force_derl(params, renewals, d, periods=200_000), rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(params_strategy, st.just(0.0) | st.floats(1e-4, 0.99))
def test_del_counts_the_first_payment_then_discounts_derl(params, d):
    if params.gamma <= 1 and d == 0:
        return
    expected = 1 + sbg.discounted_expected_residual_lifetime(params, 0, d) / (1 + d)
    assert sbg.discounted_expected_lifetime(params, d) == pytest.approx(expected, rel=1e-9)


def test_zero_discount_gives_the_expected_lifetime():
    params = SBGParams(gamma=3.0, delta=5.0)
    # E[T] of the shifted-beta-geometric = (gamma + delta - 1)/(gamma - 1) = sum of S(t), t >= 0
    brute = sbg.survival(params, np.arange(0, 2_000_000)).sum()
    assert sbg.discounted_expected_lifetime(params, 0.0) == pytest.approx(7 / 2, rel=1e-9)
    assert brute == pytest.approx(7 / 2, rel=1e-5)


@pytest.mark.parametrize("theta,d", [(0.2, 0.1), (0.5, 0.0), (0.05, 0.3)])
def test_without_heterogeneity_it_is_the_geometric_model(theta, d):
    k = 1e7  # Beta(k theta, k (1-theta)) is a point mass at theta
    params = SBGParams(gamma=k * theta, delta=k * (1 - theta))
    assert sbg.discounted_expected_lifetime(params, d) == pytest.approx((1 + d) / (d + theta), rel=1e-5)
    derl = sbg.discounted_expected_residual_lifetime(params, 3, d)
    assert derl == pytest.approx((1 - theta) * (1 + d) / (d + theta), rel=1e-5)


def test_value_per_period_scales():
    params = SBGParams(0.704, 1.182)
    assert sbg.discounted_expected_lifetime(params, 0.1, 50.0) == pytest.approx(
        50 * sbg.discounted_expected_lifetime(params, 0.1)
    )


def test_errors_name_the_argument():
    with pytest.raises(NumError, match=r"survivors must not increase \(got 700 in period 2 after 600\)"):
        sbg.fit([1000, 600, 700])
    with pytest.raises(FitError, match="no churn"):
        sbg.fit([1000, 1000, 1000])
    with pytest.raises(NumError, match="discount_rate must be > 0 when gamma <= 1"):
        sbg.discounted_expected_lifetime(SBGParams(0.7, 1.2), 0.0)
    with pytest.raises(NumError, match="discount_rate must be 0 or at least 1e-5"):
        sbg.discounted_expected_lifetime(SBGParams(0.7, 1.2), 1e-9)
    with pytest.raises(NumError, match="discount_rate must be 0 or at least 1e-5"):  # subnormal: no overflow
        sbg.discounted_expected_lifetime(SBGParams(0.7, 1.2), 2.225073858507203e-309)
    with pytest.raises(NumError, match=r"renewals must be a whole number >= 0 \(got -1\)"):
        sbg.discounted_expected_residual_lifetime(SBGParams(0.7, 1.2), -1, 0.1)
    with pytest.raises(NumError, match=r"t must be a whole number >= 1 \(got 0\)"):
        sbg.retention(SBGParams(0.7, 1.2), 0)


def _derl_40_digits(gamma, delta, renewals, d):
    """(delta+n)/(gamma+delta+n) 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d)), its series summed in mpmath."""
    mpmath.mp.dps = 40
    gamma, delta, n, d = (mpmath.mpf(v) for v in (gamma, delta, renewals, d))
    b, z = delta + n + 1, 1 / (1 + d)
    if gamma + b < 1e4:
        return (delta + n) / (gamma + delta + n) * mpmath.hyp2f1(1, b, gamma + b, z)
    total, term, k = mpmath.mpf(0), mpmath.mpf(1), 0
    while term > mpmath.mpf(10) ** -30 * total or k < 5:
        total, term, k = total + term, term * z * (b + k) / (b + gamma + k), k + 1
    return (delta + n) / (gamma + delta + n) * total


@pytest.mark.parametrize("gamma, delta, renewals, d", [
    (0.704, 1.182, 0, 0.1), (0.668, 3.806, 4, 0.0001), (2.0, 5.0, 1, 0.9),
    (1e8, 2e8, 0, 0.1), (5e8, 5e8, 1, 0.05), (2e9, 1e9, 0, 0.2), (3.0, 1e9, 2, 0.1),
    (0.5, 1e10, 0, 0.1), (1e12, 1e12, 0, 0.1),
])
def test_derl_matches_40_digit_values_for_small_and_huge_gamma_plus_delta(gamma, delta, renewals, d):
    expected = float(_derl_40_digits(gamma, delta, renewals, d))
    got = sbg.discounted_expected_residual_lifetime(SBGParams(gamma, delta), renewals, d)
    assert got == pytest.approx(expected, rel=1e-12)
