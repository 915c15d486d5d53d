"""Shifted-beta-geometric (sBG) model of contract renewals.

References: P. S. Fader and B. G. S. Hardie (2007), "How to Project Customer
Retention", Journal of Interactive Marketing 21(1), 76-90 (parameters alpha,
beta; called ``gamma``, ``delta`` here), and P. S. Fader and B. G. S. Hardie
(2010), "Customer-Base Valuation in a Contractual Setting: The Perils of
Ignoring Heterogeneity", Marketing Science 29(1), 85-93 (DEL, DERL).

Time is counted in whole contract periods (the unit of the survivor data,
e.g. years). Period 0 is acquisition: every customer is active in period 0.
At the end of each period an active customer renews with probability 1 - theta,
theta ~ Beta(gamma, delta) across customers. T is the period in which the
customer is lost (T >= 1); "n renewals" means active in periods 0..n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma

from clv_xl.errors import FitError, NumError
from clv_xl.models import fitting
from clv_xl.models.params import ModelParams
from clv_xl.models.uncertainty import delta_method_interval
from clv_xl.models.checks import discount_rate as checked_discount_rate
from clv_xl.models.checks import float_array, require, scalar, with_rows
from clv_xl.models.rows import distinct_rows

PARAM_NAMES = ("gamma", "delta")
#: Fewest survivor values a fit accepts: the cohort size and one period per parameter.
MIN_SURVIVOR_COUNTS = 1 + len(PARAM_NAMES)


@dataclass(frozen=True)
class SBGParams(ModelParams):
    """sBG parameters: churn probability theta ~ Beta(gamma, delta).

    ``log_likelihood``, ``n_customers`` (cohort size) and ``converged``
    describe the fit; NaN / 0 / False for parameters typed in by hand.
    """

    gamma: float
    delta: float


def _periods(name: str, t, lowest: int) -> np.ndarray:
    periods = float_array(name, t)
    require(name, periods, (periods >= lowest) & (periods == np.floor(periods)), f"a whole number >= {lowest}")
    return periods


def survival(params: SBGParams, t) -> np.ndarray:
    """S(t) = B(gamma, delta + t) / B(gamma, delta): share still active in period t.

    FH (2007) compute it recursively, S(t) = S(t-1) - P(T = t); this is the
    closed form of that recursion.

    ``t`` in whole periods >= 0; S(0) = 1.
    """
    t = _periods("t", t, 0)
    return np.exp(betaln(params.gamma, params.delta + t) - betaln(params.gamma, params.delta))


def churn_probability(params: SBGParams, t) -> np.ndarray:
    """P(T = t) = B(gamma + 1, delta + t - 1) / B(gamma, delta).

    Closed form of FH (2007)'s recursion, eq. (7): P(T=1) = gamma/(gamma+delta),
    P(T=t) = (delta+t-2)/(gamma+delta+t-1) P(T=t-1).

    The probability that a newly acquired customer is lost in period t (t >= 1),
    i.e. active in periods 0..t-1 and not in t. Unconditional; the share of
    period t-1's actives lost in period t is ``1 - retention(params, t)``.
    """
    t = _periods("t", t, 1)
    return np.exp(betaln(params.gamma + 1, params.delta + t - 1) - betaln(params.gamma, params.delta))


def retention(params: SBGParams, t) -> np.ndarray:
    """Retention rate r_t = S(t)/S(t-1) = (delta + t - 1) / (gamma + delta + t - 1) (FH 2007, eq. 8).

    Share of period t-1's active customers still active in period t (t >= 1);
    increases with t (the high-churn customers leave first).
    """
    t = _periods("t", t, 1)
    return (params.delta + t - 1) / (params.gamma + params.delta + t - 1)


def _log_likelihood_and_gradient(gamma, delta, lost, survivors_at_end, horizon):
    """Cohort log-likelihood (FH 2007, appendix eq. B3) and its gradient in (gamma, delta).

    LL = sum_{t=1..n} lost_t ln P(T=t) + S_n ln S(n), with S_n still active at n.
    """
    t = np.arange(1, horizon + 1)

    def dbetaln(x, y):  # gradient of ln B(x, y)
        return np.array([digamma(x) - digamma(x + y), digamma(y) - digamma(x + y)])

    log_churn = betaln(gamma + 1, delta + t - 1) - betaln(gamma, delta)
    log_survive = betaln(gamma, delta + horizon) - betaln(gamma, delta)
    value = lost @ log_churn + survivors_at_end * log_survive
    gradient = (
        dbetaln(gamma + 1, delta + t - 1) @ lost
        + survivors_at_end * dbetaln(gamma, delta + horizon)
        - (lost.sum() + survivors_at_end) * dbetaln(gamma, delta)
    )
    return value, gradient


def fit(survivors) -> SBGParams:
    """Maximum-likelihood fit of the sBG model to one cohort's survivor counts.

    Parameters
    ----------
    survivors : array-like
        Customers still active in periods 0, 1, ..., n; the first value is the
        cohort size. Must not increase. Counts or percentages both work.

    Returns
    -------
    SBGParams
        ``log_likelihood`` is eq. (B3) of FH (2007) for these counts;
        ``covariance`` the inverse observed information (see
        :func:`clv_xl.models.fitting.covariance`; percentages give the standard
        errors of a cohort of 100).

    Raises
    ------
    FitError
        With fewer than 3 values (one period identifies only the mean churn),
        when nobody churns, or when the data do not identify the parameters
        (:func:`clv_xl.models.fitting.maximize`), e.g. a constant retention rate
        (no heterogeneity: gamma and delta run off to infinity together).
    """
    counts = float_array("survivors", survivors).reshape(-1)
    if counts.size < MIN_SURVIVOR_COUNTS:
        raise FitError(
            f"survivors needs the cohort size and at least {MIN_SURVIVOR_COUNTS - 1} later periods to estimate "
            f"gamma and delta (got {counts.size} values); one period gives only the churn rate "
            "(CLV_CHURN_RATE)"
        )
    require("survivors", counts, counts >= 0, ">= 0")
    require("survivors", counts[:1], counts[:1] > 0, "> 0 in period 0 (the cohort size)")
    increase = np.diff(counts) > 0
    if increase.any():
        period = int(np.argmax(increase)) + 1
        raise NumError(
            f"survivors must not increase (got {counts[period]:g} in period {period} after {counts[period - 1]:g})"
        )
    lost = -np.diff(counts)
    if not lost.any():
        raise FitError("survivors never decrease (got no churn): the churn rate cannot be estimated")
    cohort_size = counts[0]

    def objective(log_params):
        params = np.exp(log_params)
        value, gradient = _log_likelihood_and_gradient(*params, lost, counts[-1], lost.size)
        return -value / cohort_size, -gradient * params / cohort_size

    result = fitting.maximize(objective, np.zeros(2), PARAM_NAMES, cohort_size,
                           "use more periods, or a constant churn rate (CLV_CHURN) if retention does not rise")
    gamma, delta = result.params
    return SBGParams(
        float(gamma), float(delta),
        log_likelihood=float(result.mean_log_likelihood * cohort_size),
        n_customers=float(cohort_size),
        converged=True,
        covariance=result.covariance,
    )


MAX_SERIES_TERMS = 10_000_000
SERIES_BLOCK = 1_000_000


def _discounted_survival_sum(params: SBGParams, shift, discount_rate):
    """sum_{k>=0} [S(shift + k) / S(shift)] / (1+d)^k = 2F1(1, delta'; gamma + delta'; 1/(1+d)),

    with delta' = delta + shift. At d = 0 (needs gamma > 1) this is the closed
    form (gamma + delta' - 1)/(gamma - 1). For d > 0 the 2F1 series is summed
    term by term (:func:`_hyp2f1_one`): scipy's ``hyp2f1`` returns NaN once
    gamma + delta' > ~170 and silently wrong values when gamma is a whole
    number (c - a - b = gamma - 1 is then an integer), e.g. 2F1(1, 1.478;
    2.478; 0.998) < 0.
    """
    d = checked_discount_rate("discount_rate", discount_rate)
    if params.gamma <= 1 and np.any(d == 0):
        raise with_rows(NumError(
            f"discount_rate must be > 0 when gamma <= 1 (got 0 with gamma = {params.gamma:g}): "
            "the undiscounted expected lifetime is infinite"
        ), d == 0)
    delta, d = np.broadcast_arrays(params.delta + np.asarray(shift, dtype=float), d)
    codes, pairs = distinct_rows(delta, d)
    totals = np.array([
        (params.gamma + b - 1.0) / (params.gamma - 1.0) if rate == 0 else _hyp2f1_one(b, params.gamma, rate)
        for b, rate in zip(*pairs)
    ])
    return totals[codes].reshape(d.shape)


def _hyp2f1_one(b, gamma, d):
    """2F1(1, b; b + gamma; z), z = 1/(1+d) > 0, as the sum of its series.

    Term k is z^k prod_{j<k} (b+j)/(b+gamma+j) <= z^k, so K terms leave a
    tail below z^K/(1-z); K is chosen to make that < 1e-17 (K ~ 39/d). The
    log of each term is a running sum of ln z + log1p(-gamma/(b+gamma+j)),
    which keeps its digits for any size of gamma and b (a difference of two
    ``betaln`` values loses them once gamma + b passes 1e8). Measured against
    40-digit mpmath sums (tests/test_models_sbg.py): relative error below
    1e-12 for gamma and delta from 0.5 to 1e12 and d from 1e-4 to 0.9.
    """
    log_z = -np.log1p(d)
    with np.errstate(over="ignore"):  # inf for a subnormal d
        terms_needed = np.ceil((np.log(1e-17) + np.log(d / (1.0 + d))) / log_z)
    if not terms_needed <= MAX_SERIES_TERMS:
        raise NumError(
            f"discount_rate must be 0 or at least 1e-5 per period (got {d:g}): "
            "the discounted sum converges too slowly"
        )
    terms_needed = int(terms_needed)
    total, log_term = 0.0, 0.0
    for start in range(0, terms_needed, SERIES_BLOCK):
        j = np.arange(start, min(start + SERIES_BLOCK, terms_needed))
        log_steps = log_z + np.log1p(-gamma / (b + gamma + j))
        log_terms = log_term + np.cumsum(log_steps) - log_steps
        total += np.exp(log_terms).sum()
        log_term = log_terms[-1] + log_steps[-1]
    return total


def discounted_expected_lifetime(params: SBGParams, discount_rate, value_per_period=1.0) -> np.ndarray:
    """DEL: discounted expected lifetime of a newly acquired customer (FH 2010).

    DEL = sum_{t>=0} S(t) / (1+d)^t = 2F1(1, delta; gamma + delta; 1/(1+d)).

    Timing: one payment of ``value_per_period`` at the start of each active
    period; the payment of period 0 (acquisition, made with certainty) is
    included undiscounted. ``discount_rate`` d is per period.
    """
    value = scalar("value_per_period", value_per_period)
    return value * _discounted_survival_sum(params, 0.0, discount_rate)


def discounted_expected_residual_lifetime(
    params: SBGParams, renewals, discount_rate, value_per_period=1.0
) -> np.ndarray:
    """DERL of a customer who has made ``renewals`` = n renewals (FH 2010).

    The customer was active in periods 0..n; we stand at the end of period n,
    just before the next renewal decision. Future payments are made at the
    start of periods n+1, n+2, ... if the customer is still active, and
    discounted to the end of period n, so the next payment (period n+1) is
    *not* discounted but is only made if the customer renews:

        DERL = sum_{t>=n+1} [S(t)/S(n)] / (1+d)^(t-n-1)
             = (delta + n)/(gamma + delta + n) * 2F1(1, delta + n + 1; gamma + delta + n + 1; 1/(1+d)).

    FH (2010) write this for a customer with "n - 1 renewals"; ``renewals``
    here is that n - 1. The current period's payment (period n, already made)
    is excluded, so DEL = 1 + DERL(0)/(1+d).
    """
    n = _periods("renewals", renewals, 0)
    value = scalar("value_per_period", value_per_period)
    next_renewal = (params.delta + n) / (params.gamma + params.delta + n)
    return value * next_renewal * _discounted_survival_sum(params, n + 1.0, discount_rate)


def discounted_expected_residual_lifetime_interval(
    params: SBGParams, renewals, discount_rate, value_per_period=1.0, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DERL (:func:`discounted_expected_residual_lifetime`) with a ``level`` interval.

    Delta method on the fitted (gamma, delta) and their covariance (inverse
    observed information of FH 2007 eq. B3; :mod:`clv_xl.models.uncertainty`):
    the interval reflects how well the cohort pins the parameters down.

    Returns
    -------
    derl, low, high : ndarray
    """
    return delta_method_interval(
        lambda model: discounted_expected_residual_lifetime(model, renewals, discount_rate, value_per_period),
        (params,), level=level,
    )
