"""Timing of the validation layer on ~100,000 calibration customers (issue 13: under a second each).

Run: .venv/bin/python benchmarks/bench_validation.py
Simulates a year of orders of 150,000 customers under BG/NBD + Gamma-Gamma (seeded), splits it at
the end of August, fits both models on the calibration months, then times each diagnostic (best
of 3 runs).
"""

from __future__ import annotations

from clv_xl.models import bgnbd, clv, diagnostics, gamma_gamma, rfm
from clv_xl.models.simulate import simulate_transactions
from timing import timed

CUSTOMERS = 150_000  # about 100,000 of them first buy by the calibration end
SEED = 13


def best_of(function):
    """Best wall time of 3 calls."""
    return timed(function, 3)[0]


def main():
    log = simulate_transactions(CUSTOMERS, "2025-01-01", "2025-12-31", bgnbd.BGNBDParams(0.8, 6.0, 0.8, 3.0),
                                gamma_gamma.GammaGammaParams(6.0, 4.0, 15.0), seed=SEED)
    ids, dates, amounts = log["customer_id"], log["date"], log["amount"]
    holdout_seconds, table = timed(lambda: rfm.calibration_and_holdout(
        ids, dates, amounts, calibration_end="2025-08-31", observation_end="2025-12-31"), 3)
    x, t_x, age, z = (table[c] for c in ("frequency", "recency", "T", "monetary"))
    fit_seconds, purchases = timed(lambda: bgnbd.fit(x, t_x, age), 3)
    spend = gamma_gamma.fit(x, z)
    timings = {
        "calibration_and_holdout (CLV_HOLDOUT)": holdout_seconds,
        "BG/NBD fit incl. standard errors (CLV_FIT_BGNBD)": fit_seconds,
        "tracking, 52 weeks (CLV_TRACKING)": best_of(
            lambda: diagnostics.tracking(purchases, ids, dates, end="2025-12-31")),
        "fit histogram + chi-square (CLV_FREQ_FIT)": best_of(
            lambda: diagnostics.frequency_histogram(purchases, x, age)),
        "conditional expectations (CLV_CONDITIONAL)": best_of(lambda: diagnostics.conditional_expectations(
            purchases, x, t_x, age, table["frequency_holdout"], table["duration_holdout"])),
        "spend conditional expectations (CLV_CONDITIONAL_SPEND)": best_of(
            lambda: diagnostics.spend_conditional_expectations(spend, x, z, table["frequency_holdout"],
                                                               table["monetary_holdout"])),
        "total 52-week CLV with delta-method interval (CLV_PREDICT_INTERVAL)": best_of(
            lambda: clv.customer_lifetime_value_interval(purchases, spend, x, t_x, age, z, horizon=52,
                                                         annual_discount_rate=0.1, margin=0.3, total=True)),
    }
    print(f"{len(log):,} order lines, {len(table):,} calibration customers")
    print("| step | seconds |\n|---|---|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
