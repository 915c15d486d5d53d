"""Holdout split, fit diagnostics and uncertainty, against independent computations on CDNOW.

CDNOW (Fader, Hardie & Lee 2005): 2,357 customers acquired in Q1 1997, calibration to
1997-09-30 (39 weeks after 1997-01-01), holdout to 1998-06-30 (39 more weeks).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import betaln, gammainc, gammaln

from clv_xl.errors import CLVError, NumError
from clv_xl.models import bgnbd, diagnostics, gamma_gamma, rfm, sbg
from clv_xl.models.bgnbd import BGNBDParams

CALIBRATION_END, OBSERVATION_END = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def cdnow_log(shared_data):
    log = pd.read_csv(shared_data / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master", "customer", "date", "cds", "amount"], dtype={"date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log


@pytest.fixture(scope="module")
def split(cdnow_log):
    return rfm.calibration_and_holdout(cdnow_log["customer"], cdnow_log["date"], cdnow_log["amount"],
                                       calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END)


@pytest.fixture(scope="module")
def fitted(split):
    return bgnbd.fit(split["frequency"], split["recency"], split["T"])


# --- the calibration / holdout split ------------------------------------------------------


def test_holdout_counts_equal_an_independent_pandas_computation(cdnow_log, split):
    days = cdnow_log.groupby(["customer", "date"], as_index=False)["amount"].sum()  # same-day merged
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= OBSERVATION_END)]
    counts = holdout.groupby("customer").size().reindex(split.index, fill_value=0)
    spend = holdout.groupby("customer")["amount"].mean().reindex(split.index, fill_value=0.0)
    assert len(split) == 2357
    assert (split["frequency_holdout"].to_numpy() == counts.to_numpy()).all()
    assert split["frequency_holdout"].sum() == 1882
    np.testing.assert_allclose(split["monetary_holdout"], spend, rtol=1e-12)
    assert (split["duration_holdout"] == 39.0).all()  # 273 days


def test_calibration_columns_are_the_published_summary(split, cdnow_summary):
    published = cdnow_summary.reindex(split.index)
    assert (split["frequency"].to_numpy() == published["x"].to_numpy()).all()
    np.testing.assert_allclose(split["T"], published["T"], atol=0.005)
    np.testing.assert_allclose(split["monetary"], published["zbar"], atol=0.005)


def test_customers_first_buying_after_calibration_end_are_left_out():
    table = rfm.calibration_and_holdout(["a", "a", "b", "a"], ["2025-01-01", "2025-01-01", "2025-03-01",
                                                               "2025-02-10"],
                                        [10.0, 5.0, 7.0, 20.0], calibration_end="2025-01-31",
                                        observation_end="2025-02-28", time_unit="D")
    assert list(table.index) == ["a"]
    assert table.loc["a", "frequency"] == 0 and table.loc["a", "frequency_holdout"] == 1
    assert table.loc["a", "monetary_holdout"] == 20.0 and table.loc["a", "duration_holdout"] == 28.0
    with pytest.raises(CLVError, match="observation_end must be after calibration_end"):
        rfm.calibration_and_holdout(["a"], ["2025-01-01"], calibration_end="2025-02-01",
                                    observation_end="2025-02-01")


@pytest.mark.parametrize("seed, unit", [(0, "D"), (1, "W"), (2, "M"), (3, "Y")])
def test_split_is_the_summary_of_the_cut_log_and_the_distinct_holdout_days(seed, unit):
    rng = np.random.default_rng(seed)
    customer = rng.integers(0, 40, 400)  # c30-c39 first buy after calibration_end
    day = np.where(customer < 30, rng.integers(0, 90, 400), rng.integers(31, 90, 400))
    log = pd.DataFrame({"customer": [f"c{c}" for c in customer],
                        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D"),
                        "amount": rng.gamma(2.0, 10.0, 400).round(2)})
    calibration_end, observation_end = pd.Timestamp("2024-01-31"), pd.Timestamp("2024-03-01")
    table = rfm.calibration_and_holdout(log["customer"], log["date"], log["amount"], calibration_end=calibration_end,
                                        observation_end=observation_end, time_unit=unit)
    summary = rfm.rfm_summary(log["customer"], log["date"], log["amount"], as_of=calibration_end, time_unit=unit)
    pd.testing.assert_frame_equal(table[["frequency", "recency", "T", "monetary"]], summary, check_exact=True)
    holdout = log[(log["date"] > calibration_end) & (log["date"] <= observation_end)]
    for name, row in table.iterrows():
        lines = holdout[holdout["customer"] == name]
        days = lines["date"].nunique()
        assert row["frequency_holdout"] == days
        assert row["monetary_holdout"] == pytest.approx(lines["amount"].sum() / days if days else 0.0)


# --- independent BG/NBD quantities by numerical integration over the mixing distributions ---


def expected_repeat_purchases_by_integration(params, t):
    """E[X(t)]: the individual-level (1 - exp(-lambda p t)) / p of FHL (2005), integrated over
    lambda ~ Gamma(r, alpha) in closed form and over p ~ Beta(a, b) numerically."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_beta = betaln(a, b)

    def integrand(p):
        return -np.expm1(r * np.log(alpha / (alpha + p * t))) / p * np.exp(
            (a - 1) * np.log(p) + (b - 1) * np.log1p(-p) - log_beta)

    return integrate.quad(integrand, 0, 1, epsabs=1e-13, epsrel=1e-11, limit=200)[0]


def repeat_count_probabilities_by_integration(params, ages, max_count):
    """P(X(t) = x) for each age t and x < max_count: the individual-level probability integrated over lambda.

    Given lambda and p (FHL 2005, section 3), P = (1-p)^x Poisson(x; lambda t)
    + [x>0] p (1-p)^(x-1) P(Poisson(lambda t) >= x); the p-moments are Beta moments and the
    gamma mixing over lambda is integrated numerically (lambda = v^(1/r) / alpha removes the
    v^(r-1) singularity at 0: the density becomes exp(-v^(1/r)) / G(r+1) dv).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.arange(max_count, dtype=float)[None, :]
    t = np.asarray(ages, dtype=float)[:, None]
    survive = np.exp(betaln(a, b + x) - betaln(a, b))
    drop = np.where(x > 0, np.exp(betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b)), 0.0)

    def integrand(v):
        rate = v ** (1 / r) / alpha
        mean = rate * t
        pmf = np.exp(x * np.log(mean) - mean - gammaln(x + 1))
        at_least = np.where(x > 0, gammainc(np.maximum(x, 1), mean), 1.0)
        return (survive * pmf + drop * at_least) * np.exp(-(v ** (1 / r)) - gammaln(r + 1))

    return integrate.quad_vec(integrand, 0, np.inf, epsabs=1e-13, epsrel=1e-11)[0]


def test_tracking_equals_an_independent_week_by_week_sum(cdnow_log, fitted):
    table = diagnostics.tracking(fitted, cdnow_log["customer"], cdnow_log["date"], end=OBSERVATION_END)
    assert len(table) == 78 and str(table["period_end"].iloc[38])[:10] == CALIBRATION_END
    days = cdnow_log.drop_duplicates(["customer", "date"]).sort_values(["customer", "date"])
    start = days["date"].min()
    day_number = (days["date"] - start).dt.days
    first = day_number.groupby(days["customer"]).transform("min")
    repeat_week = (day_number[day_number > first] // 7) + 1
    actual = repeat_week.value_counts().reindex(range(1, 79), fill_value=0)
    assert (table["actual"].to_numpy() == actual.to_numpy()).all()
    assert table["cumulative_actual"].iloc[38] == 2457  # the calibration repeat purchases, sum of x
    acquired = first.groupby(days["customer"]).first().value_counts()
    expected_at = {gap: expected_repeat_purchases_by_integration(fitted, gap / 7) for gap in range(546)}
    for week in (1, 10, 39, 52, 78):
        end_day = 7 * week - 1
        independent = sum(count * expected_at[end_day - day] for day, count in acquired.items() if day <= end_day)
        assert table["cumulative_expected"].iloc[week - 1] == pytest.approx(independent, rel=1e-6)


def test_fit_histogram_equals_an_independent_integration(split, fitted):
    table, chi_square, degrees_of_freedom, p_value = diagnostics.frequency_histogram(
        fitted, split["frequency"], split["T"])
    assert table["actual"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    ages = split["T"].round(10).value_counts()
    probabilities = repeat_count_probabilities_by_integration(fitted, ages.index.to_numpy(), 7)
    np.testing.assert_allclose(table["expected"].iloc[:7], ages.to_numpy() @ probabilities, rtol=1e-6)
    assert table["expected"].sum() == pytest.approx(2357, rel=1e-12)
    independent_chi_square = sum((o - e) ** 2 / e for o, e in zip(table["actual"], table["expected"]))
    assert chi_square == pytest.approx(independent_chi_square, rel=1e-12)
    assert degrees_of_freedom == 3 and p_value == pytest.approx(0.1854, abs=5e-4)


def test_conditional_expectations_group_eq10_by_calibration_frequency(split, fitted):
    table = diagnostics.conditional_expectations(fitted, split["frequency"], split["recency"], split["T"],
                                                 split["frequency_holdout"], split["duration_holdout"])
    predicted = bgnbd.expected_purchases(fitted, split["frequency"], split["recency"], split["T"], 39.0)
    group = np.minimum(split["frequency"], 7)
    np.testing.assert_allclose(table["predicted"], pd.Series(predicted).groupby(group.to_numpy()).mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(table["actual"], split["frequency_holdout"].groupby(group).mean(), rtol=1e-12)
    assert (table["customers"] * table["actual"]).sum() == pytest.approx(1882)
    assert (table["customers"] * table["predicted"]).sum() == pytest.approx(1653.41, abs=0.01)


def test_spend_conditional_expectations_use_holdout_buyers_only(split):
    params = gamma_gamma.fit(split["frequency"], split["monetary"])
    table = diagnostics.spend_conditional_expectations(params, split["frequency"], split["monetary"],
                                                       split["frequency_holdout"], split["monetary_holdout"])
    buyers = split[split["frequency_holdout"] > 0]
    assert table["customers"].sum() == len(buyers)
    zero = buyers[buyers["frequency"] == 0]
    assert table["actual"].iloc[0] == pytest.approx(zero["monetary_holdout"].mean(), rel=1e-12)
    assert table["predicted"].iloc[0] == pytest.approx(params.mean_spend, rel=1e-12)


def test_max_count_must_be_a_whole_number(fitted):
    with pytest.raises(CLVError, match="max_count must be a whole number"):
        diagnostics.frequency_histogram(fitted, [0, 1], [10, 10], max_count=2.5)


# --- standard errors: the inverse of a finite-difference Hessian of the log-likelihoods ------


def finite_difference_covariance(log_likelihood, estimates, relative_step):
    """Inverse of minus the Hessian of ``log_likelihood`` from function values (central differences).

    ``relative_step`` balances truncation (~step^2) against rounding (~1e-16 |LL| / step^2).
    """
    estimates = np.asarray(estimates, dtype=float)
    k = estimates.size
    steps = relative_step * estimates
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            def shifted(si, sj):
                point = estimates.copy()
                point[i] += si * steps[i]
                point[j] += sj * steps[j]
                return log_likelihood(point)
            hessian[i, j] = (shifted(1, 1) - shifted(1, -1) - shifted(-1, 1) + shifted(-1, -1)) / (
                4 * steps[i] * steps[j])
    return np.linalg.inv(-hessian)


def bgnbd_log_likelihood(point, x, t_x, T):
    """FHL (2005) eq. (6), as printed, summed over customers."""
    r, alpha, a, b = point
    first = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b))
    alive = (alpha + T) ** -(r + x)
    dead = np.where(x > 0, a / (b + x - 1) * (alpha + t_x) ** -(r + x), 0.0)
    return np.sum(np.log(first * (alive + dead)))


def test_bgnbd_standard_errors_equal_a_finite_difference_hessian(cdnow_summary):
    x, t_x, T = (cdnow_summary[c].to_numpy() for c in ("x", "t_x", "T"))
    params = bgnbd.fit(x, t_x, T)
    independent = finite_difference_covariance(lambda p: bgnbd_log_likelihood(p, x, t_x, T), params.values(),
                                               1e-3)
    np.testing.assert_allclose(params.covariance, independent, rtol=1e-4, atol=1e-10)
    np.testing.assert_allclose(params.standard_errors(), [0.01256, 0.3782, 0.1857, 0.7053], rtol=1e-3)
    low, high = params.intervals()
    se_log = params.standard_errors() / params.values()
    np.testing.assert_allclose(np.log(high / params.values()), 1.959964 * se_log, rtol=1e-6)
    np.testing.assert_allclose(low * high, params.values() ** 2, rtol=1e-12)


def test_gamma_gamma_and_sbg_standard_errors_equal_a_finite_difference_hessian(cdnow_summary, shared_data):
    buyers = cdnow_summary[cdnow_summary["x"] > 0]
    x, z = buyers["x"].to_numpy(), buyers["zbar"].to_numpy()

    def gamma_gamma_log_likelihood(point):  # Fader & Hardie (2013) note, eq. (4) summed
        p, q, g = point
        return np.sum(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g) + (p * x - 1) * np.log(z)
                      + p * x * np.log(x) - (p * x + q) * np.log(g + x * z))

    spend = gamma_gamma.fit(x, z)
    np.testing.assert_allclose(spend.covariance, finite_difference_covariance(gamma_gamma_log_likelihood,
                                                                              spend.values(), 1e-4), rtol=1e-4)
    survivors = pd.read_csv(shared_data / "sbg_survivors.csv")["regular"].to_numpy()[:8].astype(float)
    lost, still = -np.diff(survivors), survivors[-1]

    def sbg_log_likelihood(point):  # Fader & Hardie (2007), eq. (B3)
        g, d = point
        t = np.arange(1, 8)
        return (lost @ (betaln(g + 1, d + t - 1) - betaln(g, d)) + still * (betaln(g, d + 7) - betaln(g, d)))

    retention = sbg.fit(survivors)
    np.testing.assert_allclose(retention.covariance, finite_difference_covariance(sbg_log_likelihood,
                                                                                  retention.values(), 1e-4),
                               rtol=1e-4)


def test_a_flat_likelihood_gives_no_standard_errors_with_a_clear_message():
    params = BGNBDParams(0.5, 2.0, 1.0, 3.0, covariance=np.full((4, 4), np.nan))
    with pytest.raises(NumError, match="information matrix is singular"):
        params.standard_errors()
    with pytest.raises(NumError, match="no standard errors"):
        BGNBDParams(0.5, 2.0, 1.0, 3.0).standard_errors()


# --- interval coverage on simulated data ---------------------------------------------------------


def test_intervals_cover_the_true_value_95_percent_of_the_time():
    """Seeded simulation (tests/coverage_simulation.py): 200 BG/NBD + Gamma-Gamma data sets of 2,000
    customers and 400 sBG cohorts of 1,000, refitted; the share of 95% intervals holding the value
    under the true parameters is within 3 Monte Carlo standard errors of 95%.

    Run in a subprocess with one BLAS thread: the fits are tiny, and OpenBLAS threads
    waiting for work make each L-BFGS-B step up to 10x slower on a busy machine.
    """
    script = Path(__file__).with_name("coverage_simulation.py")
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=environment,
                            check=True, timeout=120)
    coverage = json.loads(result.stdout)
    for name, (hits, trials) in coverage.items():
        monte_carlo_error = np.sqrt(0.95 * 0.05 / trials)
        assert abs(hits / trials - 0.95) < 3 * monte_carlo_error, (name, hits, trials)
