"""Seeded simulation of customers under the BG/NBD and Gamma-Gamma models.

Used for parameter-recovery tests, benchmarks and example workbooks. The
story simulated is the BG/NBD's (Fader, Hardie & Lee 2005, "Counting Your
Customers the Easy Way"):

* each customer has a purchase rate lambda ~ Gamma(r, rate alpha) per time
  unit and a drop-out probability p ~ Beta(a, b);
* the first purchase is at time 0 (acquisition); repeat purchases follow a
  Poisson process with rate lambda;
* right after each *repeat* purchase the customer drops out with probability p;
* each purchase's amount is Gamma(p_gg, rate nu) with nu ~ Gamma(q, rate gamma)
  per customer (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv_xl.errors import NumError, ShapeError
from clv_xl.models.checks import float_array, require, whole_counts
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.rfm import days_per_unit, days_since_epoch


def simulate_bgnbd_summary(n_customers: int, params: BGNBDParams, T, seed=None) -> pd.DataFrame:
    """Draw (frequency, recency, T) summaries directly from the BG/NBD model.

    Exact and fully vectorised: with N ~ Poisson(lambda T) purchase events of
    the (un-stopped) Poisson process and the drop-out after the J-th repeat
    purchase, J ~ Geometric(p) on {1, 2, ...}, the customer shows
    x = min(N, J) repeat purchases, and given N the x-th event time is the
    x-th of N uniform order statistics on [0, T], i.e. T * Beta(x, N - x + 1).

    Parameters
    ----------
    n_customers : int
    params : BGNBDParams
        ``alpha`` in the time unit of ``T``.
    T : float or array-like
        Age of each customer (time from first purchase to end of observation).
    seed : int or numpy Generator, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency`` (repeat purchases, first excluded), ``recency``
        and ``T`` in the unit of ``T``. Continuous times: purchases are not
        merged per day.
    """
    n_customers = _customer_count(n_customers)
    rng = np.random.default_rng(seed)
    age = float_array("T", T)
    require("T", age, age > 0, "> 0")
    if age.ndim and age.shape != (n_customers,):
        raise ShapeError(f"T must be one number or one per customer (got {age.size} for {n_customers})")
    age = np.broadcast_to(age, (n_customers,))
    rate = rng.gamma(params.r, 1.0 / params.alpha, n_customers)
    dropout = rng.beta(params.a, params.b, n_customers)
    events = rng.poisson(rate * age)
    # a Beta draw can underflow to 0 for tiny a; J is then "never drops out"
    repeats_before_dropout = rng.geometric(np.maximum(dropout, np.finfo(float).tiny))
    frequency = np.minimum(events, repeats_before_dropout)
    last = rng.beta(np.maximum(frequency, 1), events - frequency + 1)
    recency = np.where(frequency > 0, age * last, 0.0)
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": age})


def simulate_transactions(
    n_customers: int,
    start,
    end,
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    *,
    time_unit: str = "W",
    seed=None,
) -> pd.DataFrame:
    """Draw a raw transaction log under the BG/NBD and Gamma-Gamma models.

    Parameters
    ----------
    n_customers : int
    start, end : datetime-like
        First and last day of observation. Each customer's first purchase
        (acquisition) falls on a day drawn uniformly from ``start`` to ``end``.
    bgnbd : BGNBDParams
        Purchase process; ``alpha`` in ``time_unit``.
    gamma_gamma : GammaGammaParams
        Spend per purchase (the first purchase's amount too).
    time_unit : {"D", "W", "M", "Y"}
        Unit of ``bgnbd.alpha`` (see :mod:`clv_xl.models.rfm`).
    seed : int or numpy Generator, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (1..n), ``date`` (daily resolution: purchase
        times are floored to the day, so :func:`rfm_summary` merges purchases
        falling on one day) and ``amount``; sorted by customer and date.
        Purchases after ``end`` are not generated.
    """
    n_customers = _customer_count(n_customers)
    rng = np.random.default_rng(seed)
    first_day, last_day = days_since_epoch("start", [start])[0], days_since_epoch("end", [end])[0]
    if last_day < first_day:
        raise NumError(f"end must be on or after start (got start {start}, end {end})")
    unit_days = days_per_unit(time_unit)
    acquisition = rng.integers(first_day, last_day + 1, n_customers)
    age_days = (last_day - acquisition).astype(float)
    rate_per_day = rng.gamma(bgnbd.r, 1.0 / bgnbd.alpha, n_customers) / unit_days
    dropout = rng.beta(bgnbd.a, bgnbd.b, n_customers)
    spend_rate = rng.gamma(gamma_gamma.q, 1.0 / gamma_gamma.gamma, n_customers)

    customers, offsets = [np.arange(n_customers)], [np.zeros(n_customers)]
    active = np.arange(n_customers)
    clock = np.zeros(n_customers)
    while active.size:  # one round = every active customer's next repeat purchase
        with np.errstate(divide="ignore", over="ignore"):  # a rate that underflowed never buys
            clock = clock + rng.exponential(1.0 / rate_per_day[active])
        in_window = clock <= age_days[active]
        active, clock = active[in_window], clock[in_window]
        customers.append(active)
        offsets.append(clock)
        survives = rng.random(active.size) >= dropout[active]
        active, clock = active[survives], clock[survives]

    customer = np.concatenate(customers)
    day = acquisition[customer] + np.floor(np.concatenate(offsets)).astype(np.int64)
    amount = rng.gamma(gamma_gamma.p, 1.0 / spend_rate[customer])
    log = pd.DataFrame(
        {"customer_id": customer + 1, "date": day.astype("datetime64[D]"), "amount": amount}
    )
    return log.sort_values(["customer_id", "date"], kind="stable", ignore_index=True)


def simulate_mean_spend(frequency, params: GammaGammaParams, seed=None) -> np.ndarray:
    """Draw each customer's mean spend per repeat purchase under the Gamma-Gamma model.

    nu ~ Gamma(q, rate gamma) per customer; the sum of x purchases, each
    Gamma(p, rate nu), is Gamma(p x, rate nu), so z-bar = that sum / x
    (Fader & Hardie 2013 note). 0 where ``frequency`` is 0.

    Parameters
    ----------
    frequency : array-like
        Repeat purchases per customer (whole numbers >= 0).
    params : GammaGammaParams
    seed : int or numpy Generator, optional

    Returns
    -------
    ndarray
        Mean spend per repeat purchase, one per customer.
    """
    x = float_array("frequency", frequency).reshape(-1)
    whole_counts("frequency", x)
    rng = np.random.default_rng(seed)
    spend_rate = rng.gamma(params.q, 1.0 / params.gamma, x.size)
    buyers = x > 0
    total = np.zeros(x.size)
    total[buyers] = rng.gamma(params.p * x[buyers], 1.0 / spend_rate[buyers])
    return np.divide(total, x, out=np.zeros(x.size), where=buyers)


def _customer_count(n_customers) -> int:
    if int(n_customers) != n_customers or n_customers < 1:
        raise NumError(f"n_customers must be a whole number >= 1 (got {n_customers})")
    return int(n_customers)
