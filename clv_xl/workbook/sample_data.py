"""Seeded sample data for the workbook template: customers and churn counts.

The numbers are made up but plausible, and the same on every machine: a
``numpy.random.Generator`` with a fixed seed draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models.bgnbd import BGNBDParams
from ..models.gamma_gamma import GammaGammaParams
from ..models.simulate import simulate_transactions

SEED = 20261122

#: channel -> (share of customers, typical order value, orders a year, acquisition cost)
CHANNELS = {
    "Organic search": (0.30, 45.0, 5.0, 20.0),
    "Paid search": (0.25, 50.0, 4.0, 60.0),
    "Social": (0.20, 35.0, 3.5, 45.0),
    "Email": (0.15, 55.0, 6.0, 15.0),
    "Referral": (0.10, 65.0, 5.5, 30.0),
}

CUSTOMER_COLUMNS = {
    "customer_id": "Customer ID",
    "channel": "Channel",
    "avg_purchase_value": "Avg purchase value",
    "purchases_per_year": "Purchases per year",
    "lifespan_years": "Lifespan (years)",
    "margin": "Margin",
    "acquisition_cost": "Acquisition cost",
}


def sample_customers(count: int = 200, seed: int = SEED) -> pd.DataFrame:
    """A table of ``count`` customers with the inputs of the average-lifetime method.

    Time unit: years. Columns as in :data:`CUSTOMER_COLUMNS`; margin is a fraction.
    """
    rng = np.random.default_rng(seed)
    names = list(CHANNELS)
    shares = np.array([CHANNELS[name][0] for name in names])
    channel = rng.choice(len(names), size=count, p=shares / shares.sum())
    order_value, orders, cac = (np.array([CHANNELS[n][i] for n in names])[channel] for i in (1, 2, 3))
    return pd.DataFrame(
        {
            "customer_id": [f"C{number:04d}" for number in range(1, count + 1)],
            "channel": [names[i] for i in channel],
            "avg_purchase_value": np.round(order_value * rng.lognormal(0, 0.35, count), 2),
            "purchases_per_year": np.round(orders * rng.lognormal(0, 0.4, count), 1),
            "lifespan_years": np.round(rng.gamma(4.0, 0.75, count), 1),
            "margin": np.round(rng.uniform(0.2, 0.45, count), 2),
            "acquisition_cost": np.round(cac * rng.lognormal(0, 0.25, count), 2),
        }
    )


def sample_churn_counts(months: int = 12, seed: int = SEED) -> pd.DataFrame:
    """Monthly customer counts: start, new, end, with churn near 5% a month."""
    rng = np.random.default_rng(seed + 1)
    start, rows = 1000, []
    for month in range(1, months + 1):
        new = int(rng.integers(40, 80))
        lost = int(rng.binomial(start, 0.05))
        end = start + new - lost
        rows.append({"period": f"Month {month}", "customers_start": start, "new_customers": new,
                     "customers_end": end})
        start = end
    return pd.DataFrame(rows)


#: Customers still active out of 1,000 per year, two cohorts: the published figures of
#: Fader & Hardie (2007), "How to Project Customer Retention", J. Interactive Marketing 21(1).
SBG_SURVIVORS = {
    "regular": (1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173),
    "high_end": (1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394),
}
SBG_CALIBRATION_YEARS = 8  # the paper fits years 0-7 and projects the rest

#: Published results that the template checks (see tests and tests/data/README.md).
PUBLISHED = {
    "cdnow_bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "cdnow_expected_39_weeks": 1.226,  # x = 2, t_x = 30.43, T = 38.86 (Fader, Hardie & Lee 2005)
    "sbg_regular": {"gamma": 0.704, "delta": 1.182},
    "sbg_high_end": {"gamma": 0.668, "delta": 3.806},
}

#: The process behind the template's sample transactions (weeks).
SAMPLE_BGNBD = {"r": 0.8, "alpha": 6.0, "a": 0.8, "b": 3.0}
SAMPLE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}
SAMPLE_START, SAMPLE_END = "2025-01-01", "2025-12-31"


def sample_transactions(count: int = 1000, seed: int = SEED) -> pd.DataFrame:
    """Order lines of ``count`` customers acquired during 2025, simulated under BG/NBD and
    Gamma-Gamma (columns customer_id, date, amount rounded to cents)."""
    log = simulate_transactions(count, SAMPLE_START, SAMPLE_END, BGNBDParams(**SAMPLE_BGNBD),
                                GammaGammaParams(**SAMPLE_GAMMA_GAMMA), time_unit="W", seed=seed)
    return log.assign(amount=log["amount"].round(2))
