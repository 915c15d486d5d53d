"""Seeded coverage simulation of the delta-method intervals (run by test_models_validation.py).

Prints a JSON object: interval name -> [intervals holding the true value, trials].
"""

import json

import numpy as np

from clv_xl.models import bgnbd, clv, gamma_gamma, sbg
from clv_xl.models.simulate import simulate_bgnbd_summary, simulate_mean_spend
import cdnow

SEED = 20261124
TRUE_BGNBD = bgnbd.BGNBDParams(**cdnow.BGNBD)  # CDNOW (Fader, Hardie & Lee 2005)
TRUE_GAMMA_GAMMA = gamma_gamma.GammaGammaParams(**cdnow.GAMMA_GAMMA)  # CDNOW (Fader & Hardie 2013)
TRUE_SBG = sbg.SBGParams(0.704, 1.182)  # regular cohort (Fader & Hardie 2007)
CUSTOMERS = {"frequency": [2, 0, 7], "recency": [30.43, 0.0, 35.0], "T": [38.86, 38.86, 38.86],
             "monetary": [30.0, 0.0, 40.0]}
CLV_SETTINGS = {"horizon": 52, "step": 13, "annual_discount_rate": 0.1, "margin": 0.3}


def clv_coverage(rng, trials=200, size=2000):
    truth = clv.customer_lifetime_value(TRUE_BGNBD, TRUE_GAMMA_GAMMA, **CUSTOMERS, **CLV_SETTINGS)
    total_truth = truth.sum()
    hits, total_hits = np.zeros(truth.size, dtype=int), 0
    for _ in range(trials):
        summary = simulate_bgnbd_summary(size, TRUE_BGNBD, rng.uniform(26, 39, size), seed=rng)
        spend = simulate_mean_spend(summary["frequency"], TRUE_GAMMA_GAMMA, seed=rng)
        purchases = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
        spend_model = gamma_gamma.fit(summary["frequency"], spend)
        _, low, high = clv.customer_lifetime_value_interval(purchases, spend_model, **CUSTOMERS, **CLV_SETTINGS)
        hits += (low <= truth) & (truth <= high)
        _, low, high = clv.customer_lifetime_value_interval(purchases, spend_model, **CUSTOMERS, **CLV_SETTINGS,
                                                            total=True)
        total_hits += int(low <= total_truth <= high)
    result = {f"CLV customer {i + 1}": [int(h), trials] for i, h in enumerate(hits)}
    result["CLV total"] = [total_hits, trials]
    return result


def derl_coverage(rng, trials=400, cohort=1000, periods=7):
    truth = sbg.discounted_expected_residual_lifetime(TRUE_SBG, 0, 0.1)
    hits = 0
    for _ in range(trials):
        churn = rng.beta(TRUE_SBG.gamma, TRUE_SBG.delta, cohort)
        lost_in = rng.geometric(churn)  # period in which each customer is lost (1, 2, ...)
        survivors = [(lost_in > t).sum() for t in range(periods + 1)]
        _, low, high = sbg.discounted_expected_residual_lifetime_interval(sbg.fit(survivors), 0, 0.1)
        hits += int(low <= truth <= high)
    return {"DERL": [hits, trials]}


if __name__ == "__main__":
    generator = np.random.default_rng(SEED)
    print(json.dumps({**clv_coverage(generator), **derl_coverage(generator)}))
