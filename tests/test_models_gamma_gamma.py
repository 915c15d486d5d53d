"""Gamma-Gamma spend model: published CDNOW parameters, recovery, properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl.errors import FitError, NumError
from clv_xl.models import gamma_gamma
from clv_xl.models.gamma_gamma import GammaGammaParams
import cdnow


def test_fit_reproduces_published_cdnow_parameters(cdnow_summary):
    # Fader & Hardie (2013) note: p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat buyers
    fitted = gamma_gamma.fit(cdnow_summary["x"], cdnow_summary["zbar"])
    assert fitted.n_customers == 946
    assert fitted.p == pytest.approx(6.25, abs=0.01)
    assert fitted.q == pytest.approx(3.74, abs=0.01)
    assert fitted.gamma == pytest.approx(15.44, abs=0.02)


def test_parameters_are_recovered_from_simulated_spend():
    truth = GammaGammaParams(p=4.0, q=3.0, gamma=20.0)
    rng = np.random.default_rng(9)
    n = 20_000
    frequency = rng.integers(1, 8, n)
    nu = rng.gamma(truth.q, 1 / truth.gamma, n)
    # the mean of x Gamma(p, nu) amounts is Gamma(p x, nu x)
    monetary = rng.gamma(truth.p * frequency, 1 / (nu * frequency))
    fitted = gamma_gamma.fit(frequency, monetary)
    # 20,000 buyers: sampling error of each parameter is a few per cent
    assert fitted.p == pytest.approx(truth.p, rel=0.1)
    assert fitted.q == pytest.approx(truth.q, rel=0.1)
    assert fitted.gamma == pytest.approx(truth.gamma, rel=0.15)


def test_expected_spend_is_the_credibility_weighted_mean():
    params = GammaGammaParams(**cdnow.GAMMA_GAMMA)
    population = 6.25 * 15.44 / 2.74
    assert gamma_gamma.expected_spend(params, 0, 0) == pytest.approx(population)
    # E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1), Fader & Hardie (2013)
    assert gamma_gamma.expected_spend(params, 2, 22.35) == pytest.approx(6.25 * (15.44 + 2 * 22.35) / (12.5 + 2.74))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500), st.floats(0.01, 1e4), st.floats(1.01, 50))
def test_expected_spend_lies_between_population_and_own_mean(x, zbar, q):
    params = GammaGammaParams(p=2.0, q=q, gamma=10.0)
    value = gamma_gamma.expected_spend(params, x, zbar)
    low, high = sorted([params.mean_spend, zbar])
    assert low * (1 - 1e-12) <= value <= high * (1 + 1e-12)


def test_errors():
    with pytest.raises(NumError, match=r"q must be > 1"):
        gamma_gamma.expected_spend(GammaGammaParams(2.0, 0.9, 10.0), 1, 10)
    with pytest.raises(FitError, match="at least 3"):
        gamma_gamma.fit([0, 1, 0], [0, 5, 0])
    with pytest.raises(NumError, match="monetary must be > 0"):
        gamma_gamma.fit([1, 2], [5, 0])


def test_total_log_likelihood_and_its_gradient(cdnow_summary):
    buyers = cdnow_summary[cdnow_summary["x"] > 0]
    x, z = buyers["x"].to_numpy(), buyers["zbar"].to_numpy()
    theta = np.array([6.0, 3.7, 15.0])
    total, analytic = gamma_gamma._total_log_likelihood(*theta, gamma_gamma._Buyers(x, z))
    params = gamma_gamma.GammaGammaParams(*theta)
    assert total == pytest.approx(gamma_gamma.log_likelihood(params, x, z).sum(), rel=1e-12)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6 * theta[i]
        up, _ = gamma_gamma._total_log_likelihood(*(theta + step), gamma_gamma._Buyers(x, z))
        down, _ = gamma_gamma._total_log_likelihood(*(theta - step), gamma_gamma._Buyers(x, z))
        assert analytic[i] == pytest.approx((up - down) / (2 * step[i]), rel=1e-5)


def test_correlations_are_one_on_the_diagonal_and_within_one_elsewhere(cdnow_summary):
    buyers = cdnow_summary[cdnow_summary["x"] > 0]
    correlations = gamma_gamma.fit(buyers["x"], buyers["zbar"]).correlations()
    assert np.array_equal(np.diag(correlations), np.ones(3))
    assert np.all(np.abs(correlations) <= 1.0)
