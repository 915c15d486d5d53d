"""The CLV formula module: pure, vectorised customer-lifetime-value math.

Every function takes numbers or numpy arrays (broadcast against each other like
Excel's array arithmetic) and returns a float or an array of the broadcast
shape. Nothing here knows about Excel: blanks, text and cell messages are the
business of :mod:`clv_xl.udfs`. Bad values raise a :class:`~clv_xl.errors.CLVError`
whose message names the argument, the value received and what is allowed.

Conventions, shared by all functions
------------------------------------
* Rates (margin, churn, retention, discount) are fractions: 20% is 0.2.
* Argument order: the required inputs, then ``margin``, then
  ``discount_rate``, then ``acquisition_cost`` and other costs.
* Time unit: whatever period the caller uses (week, month, quarter, year);
  every "per period" argument and the discount rate must use the same one.
  A rate per year is always called ``annual_discount_rate``.
* Discount rates are checked by one rule everywhere: >= 0 and < 1
  (:func:`clv_xl.models.checks.discount_rate`); every check is one of
  :mod:`clv_xl.models.checks`, so a message reads the same here and in the models.
* Timing: one payment at the *start* of each period, the first one
  undiscounted (an annuity-due). The first purchase counts. The exception
  is :func:`cac_payback`, which counts margin earned evenly through each
  period (the usual CAC payback months).
* Survival in the revenue (churn) method is geometric with retention
  ``1 - churn``: a customer pays in period 0 and is still there in period
  ``t`` with probability ``(1 - churn) ** t``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import exprel

from .errors import DivZeroError, NumError, ShapeError
from .models.checks import discount_rate as checked_discount_rate
from .models.checks import float_array, require, with_rows

DEFAULT_THREE_TIER_LABELS = ("High", "Medium", "Low")
MIN_TIERS, MAX_TIERS = 2, 10

#: Defaults of the optional arguments, typed once: the CLV_* wrappers (:mod:`clv_xl.udfs`) use them too.
DEFAULT_MARGIN = 1.0  # revenue CLV
DEFAULT_DISCOUNT_RATE = 0.0
DEFAULT_COST = 0.0  # acquisition_cost, service_cost
DEFAULT_NEW_CUSTOMERS = 0.0
DEFAULT_TIERS = 3


# --- validation: the models' checks (clv_xl.models.checks), so every message reads the same -------


def _non_negative(name, value):
    array = float_array(name, value)
    require(name, array, array >= 0, ">= 0")
    return array


def _fraction(name, value):
    """A rate between 0 and 1 inclusive; 30 instead of 0.3 is the classic slip."""
    array = float_array(name, value)
    require(name, array, (array >= 0) & (array <= 1), "between 0 and 1, e.g. 30% or 0.3")
    return array


def _churn(value, allow_zero=False):
    array = float_array("churn_rate", value)
    if allow_zero:
        require("churn_rate", array, (array >= 0) & (array <= 1), ">= 0 and <= 1")
    else:
        require("churn_rate", array, (array > 0) & (array <= 1), "> 0 and <= 1")
    return array


def _result(array):
    """Return a 0-d result as a plain float, anything else unchanged."""
    return float(array) if np.ndim(array) == 0 else array


# --- discounting ------------------------------------------------------------


def annuity_factor(periods, discount_rate=DEFAULT_DISCOUNT_RATE):
    """Present value of 1 paid at the start of each period for ``periods`` periods.

    ``sum(1 / (1 + d) ** t for t in range(n))`` for a whole number ``n``, in
    closed form ``(1 - (1 + d) ** -n) * (1 + d) / d`` (``n`` at ``d = 0``).
    A fractional last period pays its fraction of a payment at its start
    (pro rata): ``n = 2.5`` is 1 now, 1 after a period and 0.5 after two. So
    the factor is never above ``n``, never rises with ``d`` and equals ``n``
    at ``d = 0``; a lifespan below one period is worth exactly its fraction.

    Parameters
    ----------
    periods : float or array
        Number of payments (periods), >= 0.
    discount_rate : float or array
        Discount rate per period, a fraction >= 0 and < 1.

    Returns
    -------
    float or ndarray
        The annuity-due factor, in units of "one period's payment".
    """
    n = _non_negative("periods", periods)
    d = checked_discount_rate("discount_rate", discount_rate)
    whole = np.floor(n)
    log_growth = np.log1p(d)
    # (1 - (1+d)^-whole) / d written with exprel(x) = expm1(x) / x, exact down to d = 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_growth_per_rate = np.where(d == 0, 1.0, log_growth / d)
    whole_periods = whole * (1.0 + d) * log_growth_per_rate * exprel(-whole * log_growth)
    return _result(whole_periods + (n - whole) * np.exp(-whole * log_growth))


# --- closed-form CLV methods --------------------------------------------------


def clv_average(
    avg_purchase_value,
    purchases_per_period,
    lifespan_periods,
    margin=DEFAULT_MARGIN,
    discount_rate=DEFAULT_DISCOUNT_RATE,
    acquisition_cost=DEFAULT_COST,
):
    """Customer lifetime value by the average-lifetime method.

    ``value per period = avg_purchase_value * purchases_per_period * margin``,
    received at the start of each period for ``lifespan_periods`` periods and
    discounted at ``discount_rate`` per period (the first period undiscounted;
    a fractional last period pro rata, see :func:`annuity_factor`), minus
    ``acquisition_cost``. With ``margin = 1`` this is the classic revenue
    CLV (EUR 50 x 6 purchases a year x 3 years = EUR 900); with a margin it is
    the "extended" (profit) method.

    With ``lifespan_periods = 1 / churn`` this discounts the *mean* lifetime;
    :func:`clv_churn` averages the *discounted* lifetimes of geometric
    survival. Both are right and agree at ``d = 0``; at ``d > 0`` the churn
    method is lower, as the discounted value is concave in the lifetime
    (Jensen's inequality): churn 25%, d = 10% give multiples 3.14 and 3.49.

    Parameters
    ----------
    avg_purchase_value : float or array
        Average order value, in money, >= 0.
    purchases_per_period : float or array
        Purchases per period, >= 0 (the first purchase counts).
    lifespan_periods : float or array
        Customer lifespan in the same periods, >= 0; fractions allowed.
    margin : float or array, default 1
        Gross margin as a fraction between 0 and 1.
    discount_rate : float or array, default 0
        Discount rate per period, a fraction >= 0 and < 1.
    acquisition_cost : float or array, default 0
        One-off cost to win the customer, paid now, >= 0.

    Returns
    -------
    float or ndarray
        CLV in money, net of acquisition cost.
    """
    value = _non_negative("avg_purchase_value", avg_purchase_value)
    frequency = _non_negative("purchases_per_period", purchases_per_period)
    lifespan = _non_negative("lifespan_periods", lifespan_periods)
    margin = _fraction("margin", margin)
    cost = _non_negative("acquisition_cost", acquisition_cost)
    factor = annuity_factor(lifespan, discount_rate)
    return _result(value * frequency * margin * factor - cost)


def clv_churn(
    revenue_per_period, margin, churn_rate, discount_rate=DEFAULT_DISCOUNT_RATE, acquisition_cost=DEFAULT_COST
):
    """Customer lifetime value from revenue, margin and churn (the revenue method).

    The customer pays ``revenue_per_period * margin`` at the start of every
    period while still a customer; survival is geometric with retention
    ``1 - churn_rate``. Summing ``m * ((1 - c) / (1 + d)) ** t`` over
    ``t = 0, 1, ...`` gives ``m * (1 + d) / (d + c)``, which is ``m / c`` at
    ``d = 0``. Retention 80% and discount 12% give a margin multiple of 3.5.

    Parameters
    ----------
    revenue_per_period : float or array
        Revenue per customer per period, >= 0.
    margin : float or array
        Gross margin as a fraction between 0 and 1.
    churn_rate : float or array
        Share of customers lost per period, > 0 and <= 1.
    discount_rate : float or array, default 0
        Discount rate per period, a fraction >= 0 and < 1.
    acquisition_cost : float or array, default 0
        One-off cost to win the customer, paid now, >= 0.

    Returns
    -------
    float or ndarray
        CLV in money, net of acquisition cost.
    """
    revenue = _non_negative("revenue_per_period", revenue_per_period)
    margin = _fraction("margin", margin)
    churn = _churn(churn_rate)
    discount = checked_discount_rate("discount_rate", discount_rate)
    cost = _non_negative("acquisition_cost", acquisition_cost)
    return _result(revenue * margin * (1.0 + discount) / (discount + churn) - cost)


def clv_net(revenue, acquisition_cost, service_cost=DEFAULT_COST):
    """Net customer value: revenue minus acquisition cost minus service cost.

    Parameters
    ----------
    revenue : float or array
        Revenue from the customer over the period considered (any sign).
    acquisition_cost : float or array
        Cost to win the customer, >= 0.
    service_cost : float or array, default 0
        Cost to serve the customer over the same period, >= 0.

    Returns
    -------
    float or ndarray
        Net value in money (undiscounted).
    """
    revenue = float_array("revenue", revenue)
    acquisition = _non_negative("acquisition_cost", acquisition_cost)
    service = _non_negative("service_cost", service_cost)
    return _result(revenue - acquisition - service)


# --- churn, retention, lifespan ------------------------------------------------


def churn_rate(customers_start, customers_end, new_customers=DEFAULT_NEW_CUSTOMERS):
    """Share of the customers you had at the start of a period that you lost in it.

    ``(customers_start + new_customers - customers_end) / customers_start``.

    Parameters
    ----------
    customers_start : float or array
        Customers at the start of the period, > 0.
    customers_end : float or array
        Customers at the end of the period, >= 0.
    new_customers : float or array, default 0
        Customers won during the period, >= 0.

    Returns
    -------
    float or ndarray
        Churn rate per period, a fraction between 0 and 1.
    """
    start = _non_negative("customers_start", customers_start)
    if (start == 0).any():
        raise with_rows(DivZeroError("customers_start must be > 0 (got 0)"), start == 0)
    end = _non_negative("customers_end", customers_end)
    new = _non_negative("new_customers", new_customers)
    lost = start + new - end
    require("customers_end", end, lost >= 0, "<= customers_start + new_customers")
    require(
        "customers lost (start + new - end)",
        lost,
        lost <= start,
        "<= customers_start; check customers_end and new_customers",
    )
    return _result(lost / start)


def retention_rate(churn_rate):
    """Share of customers kept per period: ``1 - churn_rate``.

    Parameters
    ----------
    churn_rate : float or array
        Churn per period, >= 0 and <= 1.

    Returns
    -------
    float or ndarray
        Retention per period, a fraction.
    """
    return _result(1.0 - _churn(churn_rate, allow_zero=True))


def expected_lifespan(churn_rate):
    """Average customer lifespan in periods: ``1 / churn_rate``.

    The mean of a geometric lifetime that counts the first period: a customer
    who churns with probability ``c`` each period stays ``1 / c`` periods.

    Parameters
    ----------
    churn_rate : float or array
        Churn per period, > 0 and <= 1.

    Returns
    -------
    float or ndarray
        Expected lifespan in the same periods as the churn rate.
    """
    return _result(1.0 / _churn(churn_rate))


# --- acquisition economics ------------------------------------------------------


def cac_ratio(clv, acquisition_cost):
    """CLV:CAC ratio, how many times a customer pays back the cost of winning them.

    Use the CLV *before* acquisition cost (no ``acquisition_cost`` in
    :func:`clv_average` or :func:`clv_churn`). A ratio of 3 or more is the usual
    rule of thumb for a healthy business.

    Parameters
    ----------
    clv : float or array
        Customer lifetime value in money (any sign).
    acquisition_cost : float or array
        Customer acquisition cost (CAC) in money, > 0.

    Returns
    -------
    float or ndarray
        The ratio ``clv / acquisition_cost``.
    """
    value = float_array("clv", clv)
    cost = _non_negative("acquisition_cost", acquisition_cost)
    if (cost == 0).any():
        raise with_rows(DivZeroError("acquisition_cost must be > 0 (got 0)"), cost == 0)
    return _result(value / cost)


def cac_payback(margin_per_period, acquisition_cost):
    """Periods of margin needed to earn back the cost of winning a customer.

    ``acquisition_cost / margin_per_period``, undiscounted and fractional: the
    usual CAC payback (in months or years) of finance, which counts margin
    as earned evenly through each period. 2.5 means the cost is earned back
    halfway through the third period. With the start-of-period payments of
    the other functions it is earned back by the payment at the start of
    period ``ceil(2.5) = 3``; round up for whole periods.

    Parameters
    ----------
    margin_per_period : float or array
        Gross margin the customer brings per period, in money, > 0.
    acquisition_cost : float or array
        Customer acquisition cost in money, >= 0.

    Returns
    -------
    float or ndarray
        Payback time in the periods of ``margin_per_period``.
    """
    cost = _non_negative("acquisition_cost", acquisition_cost)
    margin = float_array("margin_per_period", margin_per_period)
    if (margin == 0).any():
        raise with_rows(DivZeroError("margin_per_period must be > 0 (got 0); it never pays back"), margin == 0)
    require("margin_per_period", margin, margin >= 0, "> 0")
    return _result(cost / margin)


# --- segmentation ---------------------------------------------------------------


def tier_index(values, tiers=DEFAULT_TIERS):
    """Tier of each value, 0 for the highest tier; -1 where a value is NaN (blank).

    Parameters
    ----------
    values : array
        CLV (or any score) per customer; NaN marks a blank.
    tiers : int or array
        Either a whole number ``n`` from 2 to 10: values are ranked and cut into
        ``n`` tiers of (near) equal size, highest first, equal values always in
        the same tier (the rule is in the Notes). Or an array of strictly
        ascending thresholds: a value >= the highest threshold is in the top
        tier, one below the lowest in the bottom tier (``len(thresholds) + 1``
        tiers).

    Returns
    -------
    ndarray of int
        Tier numbers, same shape as ``values``.

    Notes
    -----
    Tiers by rank. The values are sorted once, highest first; equal values
    form a block that is never split. A tier's fair share is the number of
    values over ``n``.

    * No block above the share: each block goes to the tier that holds its
      middle rank, ``floor(n * (values above it + size / 2) / count)``. Without
      ties the tiers differ by at most one value (pandas ``qcut`` on the ranks
      when ``n`` divides the count).
    * A block above the share (e.g. many customers with CLV 0) gets a tier of
      its own; the other tiers go to the values above and below it, as many
      to each side as keeps the largest tier smallest, and each side is cut by
      the same rule. 600 zeros and 400 positive values in 4 tiers: 133, 134
      and 133 positive values, then the 600 zeros.
    * Fewer distinct values than tiers: one tier per value, spread from the
      top tier to the bottom one (``{100; 1; 1; 1; 1; 1}`` in 3 tiers is
      High, then five Low); a single value is in the top tier.

    So a lower value is never in a higher tier than a higher value; with at
    least ``n`` distinct values every tier is used, the highest value is in
    the top tier and the lowest in the bottom tier.
    """
    values = np.asarray(values, dtype=float)
    if np.ndim(tiers) == 0:
        index = _rank_tiers(values, _tier_count(tiers))
    else:
        index = _threshold_tiers(values, _thresholds(tiers))
    return np.where(np.isnan(values), -1, index)


def tier_count(tiers):
    """Number of tiers that ``tiers`` (a count or an array of thresholds) describes."""
    if np.ndim(tiers) == 0:
        return _tier_count(tiers)
    return len(_thresholds(tiers)) + 1


def _tier_count(tiers):
    count = float(tiers)
    if not MIN_TIERS <= count <= MAX_TIERS or count != int(count):  # NaN and infinity fail the range first
        raise NumError(
            f"tiers must be a whole number from {MIN_TIERS} to {MAX_TIERS} "
            f"or a range of thresholds (got {count:g})"
        )
    return int(count)


def _thresholds(tiers):
    thresholds = float_array("tiers", np.ravel(tiers))
    if len(thresholds) + 1 > MAX_TIERS:
        raise NumError(f"tiers must hold at most {MAX_TIERS - 1} thresholds (got {len(thresholds)})")
    steps = np.diff(thresholds)
    if (steps <= 0).any():
        raise NumError("tiers thresholds must be strictly ascending (got "
                       + ", ".join(f"{t:g}" for t in thresholds) + ")")
    return thresholds


def _rank_tiers(values, count):
    """Cut ranked values into ``count`` near-equal tiers, ties kept together (rule: :func:`tier_index`)."""
    flat = values.reshape(-1)
    valid = np.flatnonzero(~np.isnan(flat))
    order = valid[np.argsort(-flat[valid], kind="stable")]  # the one sort, highest first
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    index = np.zeros(flat.shape, dtype=int)
    if len(sizes) < count:
        block_tiers = (2 * np.arange(len(sizes)) * (count - 1) + len(sizes) - 1) // max(2 * (len(sizes) - 1), 1)
    else:
        block_tiers = _block_tiers(sizes, count)
    index[order] = np.repeat(block_tiers, sizes)
    return index.reshape(values.shape)


def _block_tiers(sizes, count):
    """Tier (0 = top) of each block of equal values, blocks highest first; needs ``len(sizes) >= count``."""
    total = sizes.sum()
    biggest = int(np.argmax(sizes))
    if sizes[biggest] * count <= total:  # also every count of one tier: all middles are below the total
        middles = np.cumsum(sizes) - sizes / 2
        return np.minimum((middles * count / total).astype(int), count - 1)
    above, own, below = sizes[:biggest], sizes[biggest], sizes[biggest + 1:]
    spare = count - 1

    def largest_tier(upper):  # mean size of the fullest tier when ``upper`` tiers go above
        lower = spare - upper
        merged = own + (above.sum() if upper == 0 else 0) + (below.sum() if lower == 0 else 0)
        return max(merged, above.sum() / max(upper, 1), below.sum() / max(lower, 1))

    upper = min(range(max(0, spare - len(below)), min(len(above), spare) + 1), key=largest_tier)
    lower = spare - upper
    top = _block_tiers(above, upper) if upper else np.full(len(above), upper)
    bottom = upper + 1 + _block_tiers(below, lower) if lower else np.full(len(below), upper)
    return np.concatenate([top, [upper], bottom])


def _threshold_tiers(values, thresholds):
    return len(thresholds) - np.searchsorted(thresholds, values, side="right")


def tier_labels(count, labels=None):
    """Labels of ``count`` tiers, highest first.

    "High", "Medium", "Low" for three tiers, otherwise "Tier 1" (highest) ..
    "Tier n"; ``labels`` overrides them and must hold exactly ``count`` names.
    """
    if labels is None:
        if count == len(DEFAULT_THREE_TIER_LABELS):
            return list(DEFAULT_THREE_TIER_LABELS)
        return [f"Tier {number}" for number in range(1, count + 1)]
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise ShapeError(f"labels must hold {count} names, one per tier (got {len(labels)})")
    return labels


def segment(values, tiers=DEFAULT_TIERS, labels=None):
    """Label each customer with a value tier (e.g. High / Medium / Low CLV).

    Parameters
    ----------
    values : array
        CLV per customer; NaN marks a blank and gives an empty label.
    tiers : int or array, default 3
        Number of equal-size tiers (2-10) or ascending thresholds, as in
        :func:`tier_index`.
    labels : sequence of str, optional
        One name per tier, highest first.

    Returns
    -------
    ndarray of str
        The tier label of each value ("" for blanks), same shape as ``values``.
    """
    index = tier_index(values, tiers)
    names = np.array(tier_labels(tier_count(tiers), labels) + [""], dtype=object)
    return names[index]
