"""Does the model fit? Tracking, fit histogram and conditional expectations.

The diagnostics of Fader, Hardie & Lee (2005), "'Counting Your Customers' the
Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2)
(Figures 1-2: expected vs actual repeat purchases per week and cumulative;
Figure 4: conditional expectations, mean holdout purchases by calibration
frequency), of their note "Creating a Fit Histogram for the BG/NBD Model"
(2007; customers with 0, 1, ..., k+ repeat purchases, with a chi-square
statistic), and the same conditional comparison for the Gamma-Gamma spend
model (Fader & Hardie 2013 note). Data conventions as in
:mod:`clv_xl.models.rfm` (purchases counted per day, the first one excluded).

Every function returns a plain table (:class:`pandas.DataFrame`) that a chart
can plot directly; nothing here knows about Excel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, xlogy
from scipy.special import chdtrc

from clv_xl.errors import CLVError, NumError
from clv_xl.models import bgnbd as bgnbd_model
from clv_xl.models import gamma_gamma as gamma_gamma_model
from clv_xl.models.checks import at_most_periods, broadcast, float_array, require, whole_counts
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.rfm import merge_same_day, Transactions, days_per_unit

MAX_COUNT_LIMIT = 100


def tracking(params: BGNBDParams, customer_ids, dates, *, end=None, time_unit: str = "W") -> pd.DataFrame:
    """Expected vs actual repeat purchases of the whole customer base, per period and cumulative.

    FHL (2005), Figures 1 and 2 (``lifetimes``' ``expected_cumulative_transactions``).
    Period k covers the days [k-1, k) x (days per ``time_unit``) after the first
    date of the log (day 0); the last period ends at ``end``. A customer first
    buying on day d has, at the end of period k (its last whole day e_k), the
    age (e_k - d) in ``time_unit``, the convention of ``T`` in
    :mod:`clv_xl.models.rfm`; the expected cumulative repeat purchases of the
    base are sum over customers of E[X(age)], eq. (7), 0 before acquisition.
    Actual repeat purchases are the purchase days after each customer's first
    (same-day lines merged), counted in the period they fall in.

    Parameters
    ----------
    params : BGNBDParams
        ``alpha`` in ``time_unit``; fitted on any part of the log.
    customer_ids, dates : array-like
        The transaction log (one value per line).
    end : datetime-like, optional
        Last day tracked (default: the last date of the log); later lines are ignored.
    time_unit : {"D", "W", "M", "Y"}
        Length of a period.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period`` (1, 2, ...), ``period_end`` (its last
        day), ``actual``, ``expected``, ``cumulative_actual``, ``cumulative_expected``.
    """
    unit_days = days_per_unit(time_unit)
    log = Transactions.build(customer_ids, dates, None, end)
    customer, day, _ = merge_same_day(log)
    is_first = np.r_[True, customer[1:] != customer[:-1]]
    periods = int(np.ceil((log.as_of_day + 1) / unit_days))
    at_most_periods("the periods from the first date to the end", periods,
                    'use a longer period ("W", "M" or "Y") or an earlier end')
    last_day = np.minimum(np.ceil(np.arange(1, periods + 1) * unit_days).astype(np.int64) - 1, log.as_of_day)
    actual = np.bincount((day[~is_first] // unit_days).astype(np.intp), minlength=periods)[:periods]
    acquisition_days, acquired = np.unique(day[is_first], return_counts=True)
    gaps = last_day[:, None] - acquisition_days[None, :]  # days from acquisition to each period end (int64)
    expected_by_gap = bgnbd_model.expected_purchases_new(params, np.arange(log.as_of_day + 1) / unit_days)
    cumulative_expected = np.where(gaps >= 0, expected_by_gap[np.maximum(gaps, 0)], 0.0) @ acquired
    return pd.DataFrame({
        "period": np.arange(1, periods + 1),
        "period_end": (log.first_day + last_day).astype("datetime64[D]"),
        "actual": actual.astype(float),
        "expected": np.diff(cumulative_expected, prepend=0.0),
        "cumulative_actual": np.cumsum(actual).astype(float),
        "cumulative_expected": cumulative_expected,
    })


def repeat_purchase_probabilities(params: BGNBDParams, T, max_count: int) -> np.ndarray:
    """P(X(T) = x) for x = 0 .. max_count - 1 of a customer of age T, FHL (2005) eq. (8).

    P(X(t)=x) = B(a, b+x)/B(a, b) NB(x; r, alpha, t)
                + [x>0] B(a+1, b+x-1)/B(a, b) (1 - sum_{j<x} NB(j; r, alpha, t)),
    NB(j) = G(r+j)/(G(r) j!) (alpha/(alpha+t))^r (t/(alpha+t))^j. Computed in
    log space. Returns an array of shape (len(T), max_count).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = float_array("T", T).reshape(-1, 1)
    x = np.arange(max_count, dtype=float)[None, :]
    with np.errstate(all="ignore"):  # a value that is not finite is refused below
        log_nb = (gammaln(r + x) - gammaln(r) - gammaln(x + 1) + r * np.log(alpha / (alpha + t))
                  + xlogy(x, t / (alpha + t)))
        nb = np.exp(log_nb)
        below = np.cumsum(nb, axis=1) - nb  # sum_{j<x} NB(j)
        alive = np.exp(betaln(a, b + x) - betaln(a, b)) * nb
        dead = np.where(x > 0, np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * (1.0 - below), 0.0)
        probabilities = alive + dead
    if not np.all(np.isfinite(probabilities)):  # e.g. r = 1e308: gammaln(r + x) - gammaln(r) is inf - inf
        raise NumError(f"the model gives no finite purchase probabilities for r = {r:g}, alpha = {alpha:g}, "
                       f"a = {a:g}, b = {b:g}; check the parameter block (use the one CLV_FIT_BGNBD returns)")
    return probabilities


def frequency_histogram(params: BGNBDParams, frequency, T, max_count: int = 7):
    """Customers with 0, 1, ..., max_count+ repeat purchases: actual vs expected, and chi-square.

    FHL note "Creating a Fit Histogram for the BG/NBD Model" (2007): the
    expected number with x repeat purchases is sum_i P(X(T_i) = x), eq. (8) of
    FHL (2005), over each customer's own age T_i; the last bucket holds the
    rest (x >= max_count). Pearson's chi-square = sum (actual - expected)^2 /
    expected, with (buckets - 1 - 4 parameters) degrees of freedom.

    Parameters
    ----------
    params : BGNBDParams
    frequency, T : array-like
        Repeat purchases and age of each customer (calibration period).
    max_count : int
        First count pooled into the last bucket (default 7: 0..6 and 7+).

    Returns
    -------
    table : pandas.DataFrame
        ``repeat_purchases`` (0 .. max_count; the last means "max_count or
        more"), ``actual`` and ``expected`` numbers of customers.
    chi_square : float
    degrees_of_freedom : int
    p_value : float
        Probability of a chi-square at least this large if the model is right
        (None when degrees_of_freedom < 1).
    """
    count = _max_count(max_count)
    x = float_array("frequency", frequency)
    age = float_array("T", T)
    x, age = (v.reshape(-1) for v in broadcast(frequency=x, T=age))
    whole_counts("frequency", x)
    require("T", age, age >= 0, ">= 0")
    ages, per_age = np.unique(age, return_counts=True)
    probabilities = repeat_purchase_probabilities(params, ages, count) * per_age[:, None]
    expected = probabilities.sum(axis=0)
    expected = np.r_[expected, x.size - expected.sum()]
    actual = np.bincount(np.minimum(x, count).astype(np.intp), minlength=count + 1).astype(float)
    # a group the model expects no customer in (a count of customers of age 0) adds nothing
    chi_square = float(np.sum(np.divide((actual - expected) ** 2, expected, out=np.zeros_like(expected),
                                        where=expected > 0)))
    degrees_of_freedom = count + 1 - 1 - len(bgnbd_model.PARAM_NAMES)
    p_value = float(chdtrc(degrees_of_freedom, chi_square)) if degrees_of_freedom >= 1 else None
    table = pd.DataFrame({"repeat_purchases": np.arange(count + 1), "actual": actual, "expected": expected})
    return table, chi_square, degrees_of_freedom, p_value


def conditional_expectations(
    params: BGNBDParams, frequency, recency, T, holdout_purchases, holdout_length, max_count: int = 7
) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency, actual vs predicted (FHL 2005, Figure 4).

    Customers are grouped by calibration repeat purchases 0, 1, ...,
    max_count+; in each group the actual mean of the holdout purchases is set
    against the mean of E[Y(t) | x, t_x, T], eq. (10), t = ``holdout_length``.

    Returns
    -------
    pandas.DataFrame
        ``repeat_purchases`` (the last row means "max_count or more"),
        ``customers``, ``actual`` and ``predicted`` mean holdout purchases
        (NaN for an empty group).
    """
    count = _max_count(max_count)
    predicted = bgnbd_model.expected_purchases(params, frequency, recency, T, holdout_length)
    x, holdout, predicted = _holdout_columns(frequency, holdout_purchases, predicted=predicted)
    return _grouped_means(x, count, holdout, predicted)


def spend_conditional_expectations(
    params: GammaGammaParams, frequency, monetary, holdout_purchases, holdout_monetary, max_count: int = 7
) -> pd.DataFrame:
    """Mean holdout spend per purchase by calibration frequency, actual vs expected (Gamma-Gamma).

    Among customers with at least one holdout purchase, grouped by calibration
    repeat purchases 0, 1, ..., max_count+: the actual mean of their holdout
    spend per purchase against the mean of E[Z | p, q, gamma, x, z-bar]
    (Fader & Hardie 2013 note, eq. for the conditional expectation; the
    population mean p gamma/(q-1) for x = 0). Under the model a customer's mean
    holdout spend has expectation E[Z | ...] whatever the number of holdout
    purchases, so the unweighted means compare like with like.

    Returns
    -------
    pandas.DataFrame
        ``repeat_purchases``, ``customers`` (with a holdout purchase),
        ``actual`` and ``predicted`` mean spend per purchase.
    """
    count = _max_count(max_count)
    predicted = gamma_gamma_model.expected_spend(params, frequency, monetary)
    x, holdout, predicted, spend = _holdout_columns(
        frequency, holdout_purchases, predicted=predicted,
        holdout_monetary=float_array("holdout_monetary", holdout_monetary),
    )
    bought = holdout > 0
    return _grouped_means(x[bought], count, spend[bought], predicted[bought])


def _holdout_columns(frequency, holdout_purchases, **columns):
    """Frequency, holdout purchases and the named per-customer ``columns``, flat and broadcast."""
    x = float_array("frequency", frequency)
    holdout = float_array("holdout_purchases", holdout_purchases)
    require("holdout_purchases", holdout, holdout >= 0, ">= 0")
    arrays = broadcast(frequency=x, holdout_purchases=holdout, **columns)
    return tuple(a.reshape(-1) for a in arrays)


def _grouped_means(x, count, actual, predicted) -> pd.DataFrame:
    bucket = np.minimum(x, count).astype(np.intp)
    customers = np.bincount(bucket, minlength=count + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        actual_mean = np.bincount(bucket, weights=actual, minlength=count + 1) / customers
        predicted_mean = np.bincount(bucket, weights=predicted, minlength=count + 1) / customers
    return pd.DataFrame({"repeat_purchases": np.arange(count + 1), "customers": customers.astype(float),
                         "actual": actual_mean, "predicted": predicted_mean})


def _max_count(max_count) -> int:
    if max_count != int(max_count) or not 1 <= max_count <= MAX_COUNT_LIMIT:
        raise CLVError(f"max_count must be a whole number from 1 to {MAX_COUNT_LIMIT} (got {max_count})")
    return int(max_count)
