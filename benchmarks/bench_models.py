"""Time the clv-xl model layer against the ``lifetimes`` package.

Run from the project root:

    python benchmarks/bench_models.py            # 1,000,000 customers / rows
    python benchmarks/bench_models.py --size 100000

Rows: BG/NBD fit on CDNOW, BG/NBD fit on simulated customers, RFM summary of a
simulated transaction log, P(alive) + 12-month CLV. The ``lifetimes`` column
says "n/a" when that package is not importable (lifetimes 0.11.3 needs
numpy < 2 and pandas < 2; see benchmarks/README.md). The last column checks
that both give the same answer: for fits, the difference of the two optima's
log-likelihoods (computed with the same function, eq. 6); otherwise the
largest relative difference of the results.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from clv_xl.models import bgnbd, clv
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.rfm import rfm_summary
from clv_xl.models.simulate import simulate_bgnbd_summary, simulate_transactions
from timing import timed

try:
    import lifetimes
    from lifetimes.utils import summary_data_from_transaction_data
except Exception:  # any import failure (missing, or broken by numpy/pandas versions)
    lifetimes = None

CDNOW = Path(__file__).resolve().parents[1] / "tests" / "data" / "cdnow_customers_summary_with_transactions.csv"
TRUTH = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # weeks, CDNOW
SPEND = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
WEEKS_PER_LIFETIMES_MONTH = 4.345  # lifetimes' own month length for freq="W"



def total_log_likelihood(params, summary):
    return bgnbd.log_likelihood(params, summary["frequency"], summary["recency"], summary["T"]).sum()


def fit_row(label, summary, repeat):
    ours_time, ours = timed(lambda: bgnbd.fit(summary["frequency"], summary["recency"], summary["T"]), repeat)
    if lifetimes is None:
        return [label, ours_time, None, "n/a"]
    fitter = lifetimes.BetaGeoFitter()
    theirs_time, _ = timed(lambda: fitter.fit(summary["frequency"], summary["recency"], summary["T"]), repeat)
    theirs = BGNBDParams(*(float(fitter.params_[k]) for k in ("r", "alpha", "a", "b")))
    gap = total_log_likelihood(ours, summary) - total_log_likelihood(theirs, summary)
    return [label, ours_time, theirs_time, f"LL(clv-xl) - LL(lifetimes) = {gap:+.2e}"]


def rfm_row(log):
    def ours():
        return rfm_summary(log["customer_id"], log["date"], log["amount"], time_unit="D")

    ours_time, summary = timed(ours)
    if lifetimes is None:
        return [f"RFM summary, {len(log):,} rows", ours_time, None, "n/a"]

    def theirs():  # freq="D" so that both merge purchases per day
        return summary_data_from_transaction_data(log, "customer_id", "date", monetary_value_col="amount", freq="D")

    theirs_time, other = timed(theirs)
    other = other.reindex(summary.index)
    same_frequency = bool((other["frequency"] == summary["frequency"]).all())
    worst = max(
        np.abs(other["recency"] - summary["recency"]).max(),
        np.abs(other["T"] - summary["T"]).max(),
        np.abs(other["monetary_value"] - summary["monetary"]).max(),
    )
    return [f"RFM summary, {len(log):,} rows", ours_time, theirs_time,
            f"frequency equal: {same_frequency}; max abs diff recency, T, monetary = {worst:.1e}"]


def scoring_row(summary, monetary):
    months = 12
    step = WEEKS_PER_LIFETIMES_MONTH
    monthly_rate = 0.01
    # lifetimes discounts step i by (1 + monthly)^-i; the same in clv-xl's annual terms:
    annual_rate = (1 + monthly_rate) ** (365.25 / (step * 7)) - 1
    frequency, recency, age = summary["frequency"], summary["recency"], summary["T"]

    def ours():
        alive = bgnbd.p_alive(TRUTH, frequency, recency, age)
        value = clv.customer_lifetime_value(
            TRUTH, SPEND, frequency, recency, age, monetary,
            horizon=months * step, step=step, time_unit="W", annual_discount_rate=annual_rate,
        )
        return alive, value

    ours_time, (alive, value) = timed(ours)
    label = f"P(alive) + {months}-month CLV, {len(summary):,} customers"
    if lifetimes is None:
        return [label, ours_time, None, "n/a"]
    bgf = lifetimes.BetaGeoFitter()
    bgf.params_ = pd.Series(dict(r=TRUTH.r, alpha=TRUTH.alpha, a=TRUTH.a, b=TRUTH.b))
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # as fit() would set
    ggf = lifetimes.GammaGammaFitter()
    ggf.params_ = pd.Series(dict(p=SPEND.p, q=SPEND.q, v=SPEND.gamma))
    money = pd.Series(monetary, index=summary.index)

    def theirs():
        their_alive = bgf.conditional_probability_alive(frequency, recency, age)
        their_value = ggf.customer_lifetime_value(
            bgf, frequency, recency, age, money, time=months, discount_rate=monthly_rate, freq="W"
        )
        return their_alive, np.asarray(their_value, dtype=float)

    theirs_time, (their_alive, their_value) = timed(theirs)
    finite = np.isfinite(their_value)
    relative = np.abs(their_value[finite] - value[finite]) / np.maximum(np.abs(value[finite]), 1e-12)
    note = (f"max rel diff P(alive) {np.max(np.abs(their_alive - alive)):.1e}, CLV {relative.max():.1e}"
            f"; lifetimes non-finite CLV: {np.count_nonzero(~finite)}")
    return [label, ours_time, theirs_time, note]


def daily_resolution_summary(n_customers, seed):
    """Simulated customers observed for up to two years, times on a daily grid (in weeks)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(1, 730, n_customers) / 7.0
    summary = simulate_bgnbd_summary(n_customers, TRUTH, age, seed=rng)
    summary["recency"] = np.minimum(np.ceil(summary["recency"] * 7) / 7, summary["T"])
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="customers and transaction rows (default 1e6)")
    args = parser.parse_args()
    rows = []
    if CDNOW.is_file():
        cdnow = pd.read_csv(CDNOW).rename(columns={"x": "frequency", "t_x": "recency"})
        rows.append(fit_row("BG/NBD fit, CDNOW (2,357 customers)", cdnow, repeat=5))
    else:
        print(f"(CDNOW summary not found at {CDNOW}; skipping that row)")
    summary = daily_resolution_summary(args.size, seed=1)
    rows.append(fit_row(f"BG/NBD fit, {args.size:,} simulated customers", summary, repeat=1))
    n_log_customers = max(args.size // 2, 1)  # ~2.4 lines per customer over two years
    log = simulate_transactions(n_log_customers, "2022-01-01", "2023-12-31", TRUTH, SPEND, seed=2)
    log = log.iloc[: args.size]
    rows.append(rfm_row(log))
    monetary = np.where(summary["frequency"] > 0, np.random.default_rng(3).gamma(6.0, 5.0, args.size), 0.0)
    rows.append(scoring_row(summary, monetary))

    print(f"lifetimes: {lifetimes.__version__ if lifetimes else 'not importable'}; numpy {np.__version__}, pandas {pd.__version__}")
    print("| task | clv-xl (s) | lifetimes (s) | speed-up | same answer? |")
    print("|---|---:|---:|---:|---|")
    for label, ours_time, theirs_time, note in rows:
        theirs = "n/a" if theirs_time is None else f"{theirs_time:.3f}"
        speedup = "n/a" if theirs_time is None else f"{theirs_time / ours_time:.0f}x"
        print(f"| {label} | {ours_time:.3f} | {theirs} | {speedup} | {note} |")


if __name__ == "__main__":
    main()
