"""Seeded sample data for the workbook template: customers and churn counts.

The numbers are made up but plausible, and the same on every machine: a
``numpy.random.Generator`` with a fixed seed draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
