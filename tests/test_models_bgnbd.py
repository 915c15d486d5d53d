"""BG/NBD: published CDNOW results, closed forms vs brute force, properties."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from clv_xl.errors import FitError, NumError, ShapeError
from clv_xl.models import bgnbd, fitting
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.simulate import simulate_bgnbd_summary
import cdnow
from tolerances import FIT_TOLERANCE

# Fader, Hardie & Lee (2005), CDNOW calibration period (weeks)
PUBLISHED = BGNBDParams(**cdnow.BGNBD)


def test_fit_reproduces_published_cdnow_parameters(cdnow_summary):
    fitted = bgnbd.fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    # published to 3 decimals; the summary file itself is rounded to 2 decimals
    assert fitted.r == pytest.approx(0.243, abs=0.001)
    assert fitted.alpha == pytest.approx(4.414, abs=0.005)
    assert fitted.a == pytest.approx(0.793, abs=0.001)
    assert fitted.b == pytest.approx(2.426, abs=0.005)
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert fitted.converged and fitted.n_customers == 2357


def test_published_conditional_expectation():
    # "E[X(39)] for x = 2, t_x = 30.43, T = 38.86 is 1.226" (FHL 2005, section 4)
    value = bgnbd.expected_purchases(PUBLISHED, 2, 30.43, 38.86, 39)
    assert value == pytest.approx(1.226, abs=0.0005)


def paper_eq10(params, x, t_x, T, t):
    """Eq. (10) exactly as printed (no Euler transformation)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * bracket
    denominator = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return numerator / denominator


@pytest.mark.parametrize("x,t_x,T,t", [(0, 0, 38.86, 39), (2, 30.43, 38.86, 39), (7, 20.0, 30.0, 10), (1, 1.71, 38.86, 52)])
def test_stable_form_equals_paper_form_where_both_are_finite(x, t_x, T, t):
    assert bgnbd.expected_purchases(PUBLISHED, x, t_x, T, t) == pytest.approx(paper_eq10(PUBLISHED, x, t_x, T, t), rel=1e-9)


def paper_eq7(params, t):
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def test_unconditional_expectation_equals_paper_eq7():
    t = np.array([0.5, 39.0, 78.0])
    assert np.allclose(bgnbd.expected_purchases_new(PUBLISHED, t), paper_eq7(PUBLISHED, t), rtol=1e-9)
    assert bgnbd.expected_purchases_new(PUBLISHED, 0.0) == 0.0


def monte_carlo_expected_if_alive(params, x, T, t, draws, rng):
    """Mean over the posterior of an alive customer, lambda ~ G(r+x, alpha+T), p ~ B(a, b+x),
    of the individual-level E[purchases in t | lambda, p] = (1 - exp(-lambda p t)) / p."""
    rate = rng.gamma(params.r + x, 1.0 / (params.alpha + T), draws)
    dropout = rng.beta(params.a, params.b + x, draws)
    values = -np.expm1(-rate * dropout * t) / dropout
    return values.mean(), values.std() / np.sqrt(draws)


@pytest.mark.parametrize("x,t_x,T,t", [(200, 39.0, 40.0, 39.0), (200, 39.0, 40.0, 1000.0), (3, 10.0, 38.86, 520.0)])
def test_extreme_customers_are_finite_and_match_brute_force(x, t_x, T, t):
    value = bgnbd.expected_purchases(PUBLISHED, x, t_x, T, t)
    alive = bgnbd.p_alive(PUBLISHED, x, t_x, T)
    assert np.isfinite(value) and 0 < alive <= 1
    mean, standard_error = monte_carlo_expected_if_alive(PUBLISHED, x, T, t, 400_000, np.random.default_rng(7))
    assert value / alive == pytest.approx(mean, abs=4 * standard_error)


def test_very_long_horizons_stay_finite():
    values = bgnbd.expected_purchases(PUBLISHED, [0, 2, 200], [0, 30.43, 39], [38.86, 38.86, 40], 1e7)
    assert np.all(np.isfinite(values)) and np.all(values > 0)


def test_unconditional_expectation_matches_simulation():
    t = 39.0
    sample = simulate_bgnbd_summary(200_000, PUBLISHED, t, seed=11)["frequency"]
    standard_error = sample.std() / np.sqrt(len(sample))
    assert bgnbd.expected_purchases_new(PUBLISHED, t) == pytest.approx(sample.mean(), abs=4 * standard_error)


def test_a_equal_to_one_is_the_continuous_limit():
    at_one = BGNBDParams(0.5, 5.0, 1.0, 2.0)
    near = [BGNBDParams(0.5, 5.0, 1.0 + s, 2.0) for s in (-1e-3, 1e-3)]
    limit = np.mean([bgnbd.expected_purchases(p, 3, 20.0, 30.0, 52) for p in near])
    assert bgnbd.expected_purchases(at_one, 3, 20.0, 30.0, 52) == pytest.approx(limit, rel=1e-5)


def _expected_purchases_50_digits(r, alpha, a, b, x, t_x, T, t):
    """Eq. (10) in 50-digit mpmath; a = 1 exactly is taken at a = 1 + 1e-35."""
    mpmath.mp.dps = 50
    r, alpha, a, b, x, t_x, T, t = (mpmath.mpf(v) for v in (r, alpha, a, b, x, t_x, T, t))
    a = a if a != 1 else 1 + mpmath.mpf(10) ** -35
    z = t / (alpha + T + t)
    if_alive = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z))
    odds_dead = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0
    return if_alive / (1 + odds_dead)


@pytest.mark.parametrize("r, alpha, a, b, x, t_x, T, t", [
    (0.243, 4.414, 1.0, 2.426, 2, 30.43, 38.86, 39),
    (1.384, 0.110, 1.0000003, 0.255, 8, 29.06, 41.15, 52.85),
    (8.542, 46.75, 0.99999999, 11.37, 14, 11.80, 14.71, 494.4),
    (0.051, 31.47, 1.0000003, 9.284, 7, 3.087, 52.71, 2.210),
    (0.156, 48.78, 1.00000002, 19.02, 1, 18.04, 37.90, 0.256),
    (0.249, 0.981, 0.99783, 17.41, 2, 13.26, 28.18, 0.122),
    (1.237, 0.645, 1.0, 0.127, 0, 0, 48.98, 447.7),
    (0.5, 5.0, 1.0 - 1.9e-3, 0.05, 0, 0, 10.0, 1e5),
])
def test_expectation_near_a_equal_to_one_matches_50_digit_values(r, alpha, a, b, x, t_x, T, t):
    expected = float(_expected_purchases_50_digits(r, alpha, a, b, x, t_x, T, t))
    got = bgnbd.expected_purchases(BGNBDParams(r, alpha, a, b), x, t_x, T, t)
    assert got == pytest.approx(expected, rel=1e-9)


def test_a_large_a_customer_gets_its_finite_value_where_scipys_2f1_overflows():
    r, alpha, a, b, customer = 20.34, 3.0, 97.78, 198.08, (100, 49, 50, 5.98e5)
    expected = float(_expected_purchases_50_digits(r, alpha, a, b, *customer))
    got = bgnbd.expected_purchases(BGNBDParams(r, alpha, a, b), *customer)
    assert expected == pytest.approx(0.958290, rel=1e-6)
    assert got == pytest.approx(expected, rel=1e-9)


customers = st.tuples(
    st.integers(0, 300), st.floats(0, 1, allow_nan=False), st.floats(0.01, 500, allow_nan=False)
).map(lambda c: (c[0], c[1] * c[2] if c[0] > 0 else 0.0, c[2]))
parameters = st.builds(
    BGNBDParams, *[st.floats(0.01, 50, allow_nan=False) for _ in range(4)]
)


@settings(max_examples=200, deadline=None)
@given(parameters, customers)
def test_p_alive_is_a_probability_and_one_without_repeats(params, customer):
    x, t_x, T = customer
    alive = bgnbd.p_alive(params, x, t_x, T)
    assert 0.0 <= alive <= 1.0
    if x == 0:
        assert alive == 1.0


@settings(max_examples=100, deadline=None)
@given(parameters, customers, st.floats(0.1, 200), st.floats(0.1, 200))
def test_expected_purchases_grow_with_horizon(params, customer, t, extra):
    x, t_x, T = customer
    shorter, longer = bgnbd.expected_purchases(params, x, t_x, T, [t, t + extra])
    assert np.isfinite(longer)
    assert 0 <= shorter <= longer * (1 + 1e-9)


def test_gradient_matches_finite_differences(cdnow_summary):
    data = bgnbd._Customers.validated(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    theta = np.array([0.3, 5.0, 0.7, 2.0])
    _, analytic = bgnbd._total_log_likelihood(*theta, data)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * theta[i]
        up, _ = bgnbd._total_log_likelihood(*(theta + step), data)
        down, _ = bgnbd._total_log_likelihood(*(theta - step), data)
        assert analytic[i] == pytest.approx((up - down) / (2 * step[i]), rel=1e-5)


@pytest.mark.parametrize("theta", [(0.3, 5.0, 0.7, 2.0), (0.243, 4.414, 0.793, 2.426), (2.5, 0.8, 3.0, 0.6)])
def test_hessian_matches_finite_differences_of_the_gradient(cdnow_summary, theta):
    weights = np.random.default_rng(1).integers(1, 4, len(cdnow_summary)).astype(float)
    data = bgnbd._Customers.validated(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"], weights)
    theta = np.array(theta)
    analytic = bgnbd._total_hessian(*theta, data)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-5 * theta[i]
        _, up = bgnbd._total_log_likelihood(*(theta + step), data)
        _, down = bgnbd._total_log_likelihood(*(theta - step), data)
        assert analytic[:, i] == pytest.approx((up - down) / (2 * step[i]), rel=1e-6, abs=1e-6 * np.abs(analytic).max())
    assert np.array_equal(analytic, analytic.T)


def test_total_log_likelihood_is_the_weighted_sum_of_the_customers_values(cdnow_summary):
    x, t_x, T = (cdnow_summary[name].to_numpy() for name in ("x", "t_x", "T"))
    weights = np.random.default_rng(0).integers(1, 4, x.size).astype(float)
    params = BGNBDParams(0.3, 5.0, 0.7, 2.0)
    total, _ = bgnbd._total_log_likelihood(0.3, 5.0, 0.7, 2.0, bgnbd._Customers.validated(x, t_x, T, weights))
    assert total == pytest.approx(weights @ bgnbd.log_likelihood(params, x, t_x, T), rel=1e-12)


def log_parameter_standard_errors(params, summary):
    """Asymptotic standard errors of log(r, alpha, a, b) from a numerical Hessian."""
    theta = np.log([params.r, params.alpha, params.a, params.b])

    def total(log_params):
        p = BGNBDParams(*np.exp(log_params))
        return bgnbd.log_likelihood(p, summary["frequency"], summary["recency"], summary["T"]).sum()

    h = 1e-3
    hessian = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h, np.eye(4)[j] * h
            hessian[i, j] = (
                total(theta + ei + ej) - total(theta + ei - ej) - total(theta - ei + ej) + total(theta - ei - ej)
            ) / (4 * h * h)
    return np.sqrt(np.diag(np.linalg.inv(-hessian)))


def test_parameters_are_recovered_from_simulated_customers():
    truth = BGNBDParams(r=0.8, alpha=6.0, a=0.6, b=3.0)
    ages = np.random.default_rng(3).uniform(20, 80, 30_000)
    summary = simulate_bgnbd_summary(30_000, truth, ages, seed=5)
    fitted = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
    estimate = np.log([fitted.r, fitted.alpha, fitted.a, fitted.b])
    true = np.log([truth.r, truth.alpha, truth.a, truth.b])
    # the MLE is asymptotically normal: each log-parameter within 4 standard errors
    assert np.all(np.abs(estimate - true) < 4 * log_parameter_standard_errors(fitted, summary))


def test_pilot_fit_on_large_data_reaches_the_optimum_of_a_fit_on_all_rows(monkeypatch):
    # 250,000 continuous customers: the pilot (every 5th row) + Newton path of fitting.maximize
    ages = np.random.default_rng(8).uniform(1, 104, 250_000)
    summary = simulate_bgnbd_summary(250_000, PUBLISHED, ages, seed=9)
    columns = summary["frequency"], summary["recency"], summary["T"]
    assert fitting.pilot_step(len(ages)) == 5
    piloted = bgnbd.fit(*columns)
    monkeypatch.setattr(fitting, "pilot_step", lambda rows: None)
    direct = bgnbd.fit(*columns)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(piloted, name) == pytest.approx(getattr(direct, name), **FIT_TOLERANCE)
    assert piloted.log_likelihood == pytest.approx(direct.log_likelihood, rel=1e-12)
    assert np.allclose(piloted.covariance, direct.covariance, rtol=1e-5)


def test_a_misleading_pilot_still_gives_the_optimum_of_the_whole_data(cdnow_summary):
    data = bgnbd._Customers.validated(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    objective, _ = bgnbd._objective(data)
    start = np.log([1.0, 10.0, 1.0, 1.0])
    direct = fitting.maximize(objective, start, bgnbd.PARAM_NAMES, 2357, "remedy")

    def saddle(log_params):  # a pilot whose optimum is far off and whose Newton steps climb
        return float(np.sum((log_params - 3.0) ** 2)), 2.0 * (log_params - 3.0)

    misled = fitting.maximize(objective, start, bgnbd.PARAM_NAMES, 2357, "remedy", pilot=saddle)
    assert misled.params == pytest.approx(direct.params, rel=1e-6)


def test_weights_give_the_same_optimum_as_repeated_rows(cdnow_summary):
    head = cdnow_summary.iloc[:600]
    repeated = head.loc[head.index.repeat(3)]
    by_rows = bgnbd.fit(repeated["x"], repeated["t_x"], repeated["T"])
    by_weights = bgnbd.fit(head["x"], head["t_x"], head["T"], weights=np.full(len(head), 3.0))
    assert by_weights.log_likelihood == pytest.approx(by_rows.log_likelihood, rel=1e-9)
    assert np.allclose([by_weights.r, by_weights.a], [by_rows.r, by_rows.a], rtol=1e-4)


def test_errors_name_the_argument():
    with pytest.raises(FitError, match="frequency > 0"):
        bgnbd.fit([0, 0, 0, 0], [0, 0, 0, 0], [10, 20, 30, 40])
    with pytest.raises(NumError, match=r"recency must be >= 0 \(got -1\)"):
        bgnbd.p_alive(PUBLISHED, 1, -1, 10)
    with pytest.raises(NumError, match="T must be >= recency"):
        bgnbd.p_alive(PUBLISHED, 1, 12, 10)
    with pytest.raises(NumError, match="frequency must be a whole number"):
        bgnbd.p_alive(PUBLISHED, 1.5, 1, 10)
    with pytest.raises(ShapeError):
        bgnbd.p_alive(PUBLISHED, [1, 2], [1, 2, 3], 10)
    with pytest.raises(NumError, match=r"alpha must be a finite number > 0 \(got -4\)"):
        BGNBDParams(0.2, -4, 0.5, 2)
