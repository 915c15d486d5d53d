"""Customer lifetime value from the BG/NBD and Gamma-Gamma models.

CLV_i = margin * E[spend per purchase]_i
        * sum_{k=1..K} E[purchases in step k]_i / (1 + annual_rate)^(years to the end of step k)

References: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
for Customer Base Analysis", Journal of Marketing Research 42(4) (the product
of a transaction model and the Gamma-Gamma spend model), with the expected
purchases from the BG/NBD, eq. (10) of Fader, Hardie & Lee (2005, Marketing
Science).

Conventions:

* Time is the data's ``time_unit`` ("D", "W", "M" = 365.25/12 days, "Y" =
  365.25 days; :mod:`clv_xl.models.rfm`). The horizon is cut into K steps of
  ``step`` units starting at the end of observation T.
* Only future *repeat* purchases count (the first purchase is long past).
* Purchases expected in step k are the difference of the cumulative expected
  purchases at the ends of steps k and k-1, and are discounted from the END
  of step k: factor (1 + annual_discount_rate)^-(k * step * years_per_unit),
  years_per_unit = days in a time unit / 365.25. So a step's discount factor is
  (1 + annual_discount_rate)^(step length in years), compounded per step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from clv_xl.errors import NumError
from clv_xl.models import bgnbd as bgnbd_model
from clv_xl.models import gamma_gamma as gamma_gamma_model
from clv_xl.models.checks import at_most_periods, broadcast, discount_rate, float_array, require, scalar
from clv_xl.models.uncertainty import delta_method_interval
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.rfm import days_per_unit
from clv_xl.models.rows import distinct_rows


def step_discount_factors(
    horizon: float, step: float, time_unit: str, annual_discount_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Step end times and their discount factors.

    Returns
    -------
    step_ends : ndarray
        k * step for k = 1..K, in ``time_unit`` (K = horizon / step).
    factors : ndarray
        (1 + annual_discount_rate)^-(step_ends in years).
    """
    horizon = scalar("horizon", horizon)
    step = scalar("step", step)
    rate = scalar("annual_discount_rate", discount_rate("annual_discount_rate", annual_discount_rate))
    require("step", np.asarray(step), step > 0, "> 0")
    require("horizon", np.asarray(horizon), horizon >= step, f">= step ({step:g})")
    at_most_periods("horizon", horizon / step, 'a longer period ("M" or "Y") reaches further ahead')
    n_steps = round(horizon / step)
    if abs(n_steps * step - horizon) > 1e-9 * horizon:
        raise NumError(f"horizon must be a whole number of steps of {step:g} (got {horizon:g})")
    step_ends = step * np.arange(1, n_steps + 1)
    years = step_ends * days_per_unit(time_unit) / 365.25
    return step_ends, (1.0 + rate) ** -years


def customer_lifetime_value(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    frequency,
    recency,
    T,
    monetary,
    *,
    horizon: float,
    time_unit: str = "W",
    step: float = 1.0,
    annual_discount_rate: float = 0.0,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted expected margin of each customer's repeat purchases over ``horizon``.

    Parameters
    ----------
    bgnbd : BGNBDParams
        Purchase model, ``alpha`` in ``time_unit``.
    gamma_gamma : GammaGammaParams
        Spend model (needs q > 1).
    frequency, recency, T, monetary : array-like
        Customer summaries as produced by :func:`clv_xl.models.rfm.rfm_summary`
        in ``time_unit``; broadcast together.
    horizon : float
        Length of the future window, in ``time_unit`` (e.g. 52 weeks).
    time_unit : {"D", "W", "M", "Y"}
        Unit of recency, T, horizon and step.
    step : float
        Discounting step in ``time_unit``; ``horizon`` must be a whole number
        of steps (e.g. weeks with step 1, or months of 365.25/12/7 weeks).
    annual_discount_rate : float
        Yearly rate >= 0 and < 1 (the shared check of
        :func:`clv_xl.models.checks.discount_rate`), converted per step as
        described in the module docstring.
    margin : float
        Profit margin, 0 to 1, applied to the expected spend.

    Returns
    -------
    ndarray
        CLV per customer in money units; with discount rate 0 it equals
        margin * expected spend * expected purchases over the horizon.
    """
    margin = _checked_margin(margin)
    customers = _Customers.validated(frequency, recency, T, monetary)
    purchases = _discounted_purchases(customers, bgnbd, horizon=horizon, time_unit=time_unit, step=step,
                                      annual_discount_rate=annual_discount_rate)
    return _value(customers, gamma_gamma, purchases, margin)


class _Customers(NamedTuple):
    """The customers' summaries, checked and broadcast together, with their distinct (x, T) pairs."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    codes: np.ndarray  # each customer's number among the distinct (x, T) pairs
    x_distinct: np.ndarray
    age_distinct: np.ndarray

    @classmethod
    def validated(cls, frequency, recency, T, monetary) -> "_Customers":
        x, t_x, age = bgnbd_model.validated_summary(frequency, recency, T)
        x, t_x, age, spend = broadcast(frequency=x, recency=t_x, T=age, monetary=float_array("monetary", monetary))
        # purchases if alive depend on (x, T) only: they are computed once per distinct pair
        codes, (x_distinct, age_distinct) = distinct_rows(x, age)
        return cls(x, t_x, age, spend, codes, x_distinct, age_distinct)


def _checked_margin(margin) -> float:
    margin = scalar("margin", margin)
    require("margin", np.asarray(margin), 0 <= margin <= 1, "between 0 and 1 (e.g. 0.3 for 30%)")
    return margin


def _discounted_purchases(customers: _Customers, bgnbd: BGNBDParams, *, horizon: float, time_unit: str = "W",
                          step: float = 1.0, annual_discount_rate: float = 0.0) -> np.ndarray:
    """P(alive) times the discounted expected repeat purchases over the horizon, per customer (BG/NBD only)."""
    step_ends, factors = step_discount_factors(horizon, step, time_unit, annual_discount_rate)
    if np.all(factors == 1.0):  # undiscounted: the steps' purchases add up to those of the whole horizon
        step_ends, factors = step_ends[-1:], factors[-1:]
    x, t_x, age = customers.x, customers.t_x, customers.T
    codes, x_distinct, age_distinct = customers.codes, customers.x_distinct, customers.age_distinct
    _check_work(len(x_distinct), len(step_ends))
    discounted_purchases = np.zeros(x_distinct.shape)
    previous = np.zeros(x_distinct.shape)
    for step_end, factor in zip(step_ends, factors):
        cumulative = bgnbd_model.expected_if_alive(bgnbd, x_distinct, age_distinct, step_end)
        discounted_purchases += (cumulative - previous) * factor
        previous = cumulative
    return bgnbd_model.p_alive_validated(bgnbd, x, t_x, age) * discounted_purchases[codes].reshape(x.shape)


def _value(customers: _Customers, gamma_gamma: GammaGammaParams, discounted_purchases, margin: float) -> np.ndarray:
    """margin * expected spend (Gamma-Gamma) * discounted purchases (:func:`_discounted_purchases`)."""
    spend = gamma_gamma_model.expected_spend(gamma_gamma, customers.x, customers.monetary)
    return margin * spend * discounted_purchases


#: Most (distinct customer, step) evaluations of E[X(t)] one CLV takes. Measured on 2 cores:
#: 1,000,000 distinct customers x 52 weekly steps take about 8 s; a step further out costs more
#: (100,000 x 600 weeks: about 35 s). Data summarised from dates (CLV_RFM: whole days) have a few
#: thousand distinct (frequency, T) pairs and never come near it; continuous ages at Excel's
#: full height with a long horizon do, and get a message instead of a frozen sheet. Undiscounted, the
#: steps add up to the whole horizon: one evaluation, whatever the number of steps.
MAX_EVALUATIONS = 60_000_000


def _check_work(distinct_customers: int, steps: int) -> None:
    """Refuse a computation that would freeze the sheet, saying how to make it smaller."""
    if distinct_customers * steps > MAX_EVALUATIONS:
        raise NumError(
            f"horizon is too long for {distinct_customers:,} distinct customers ({steps:,} periods; at most "
            f"{MAX_EVALUATIONS // distinct_customers:,} here): use a longer period (\"M\" or \"Y\"), a shorter "
            "horizon, or recency and T in whole days (CLV_RFM)"
        )


def customer_lifetime_value_interval(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    frequency,
    recency,
    T,
    monetary,
    *,
    level: float = 0.95,
    total: bool = False,
    **settings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CLV of each customer (or of all of them) with an interval for the parameters' uncertainty.

    Delta method (:mod:`clv_xl.models.uncertainty`): the gradient of
    :func:`customer_lifetime_value` in the 4 BG/NBD and 3 Gamma-Gamma
    log-parameters, by central differences, against their covariances (the
    fits' inverse observed information; the two fits taken as independent).
    The BG/NBD part (the 2F1 of every customer and step) is computed for the
    fitted and the 8 shifted BG/NBD parameters only; the 6 Gamma-Gamma shifts
    reuse the fitted one's (9 of the 15 evaluations instead of 15).
    The interval is for the *expected* value given the customer's history,
    i.e. it reflects how well the parameters are estimated, not how much one
    customer's actual spend will vary around its expectation.

    Parameters
    ----------
    bgnbd, gamma_gamma : BGNBDParams, GammaGammaParams
        Fitted parameters with their ``covariance``.
    frequency, recency, T, monetary : array-like
        As for :func:`customer_lifetime_value`.
    level : float
        Coverage, e.g. 0.95.
    total : bool
        Interval for the sum over the customers (the value of the base) instead
        of each customer's.
    **settings
        ``horizon``, ``time_unit``, ``step``, ``annual_discount_rate``,
        ``margin`` as for :func:`customer_lifetime_value`.

    Returns
    -------
    value, low, high : ndarray
    """
    margin = _checked_margin(settings.pop("margin", 1.0))
    customers = _Customers.validated(frequency, recency, T, monetary)
    purchases_by_params = {}  # the Gamma-Gamma shifts reuse the purchases of the fitted BG/NBD parameters

    def value(purchases: BGNBDParams, spend: GammaGammaParams) -> np.ndarray:
        key = tuple(purchases.values())
        if key not in purchases_by_params:
            purchases_by_params[key] = _discounted_purchases(customers, purchases, **settings)
        return _value(customers, spend, purchases_by_params[key], margin)

    return delta_method_interval(value, (bgnbd, gamma_gamma), level=level, total=total)
