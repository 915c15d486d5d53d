"""Time the CLV_* Excel functions at 1,000,000 rows, passed as Excel passes them.

Every range is a nested list (``[[x], [x], ...]``: floats, datetimes for dates),
the way xlwings hands a column over; each time includes coercion, the math and
the spilled 2-D list back. Where the ``lifetimes`` package does the same job
it is timed on the same data (its DataFrame built from the same lists
included for the RFM summary), and the answers are compared. Also: the share
of each time spent on coercion, one bad cell in 1,048,576 rows, and the floor
(a bare list -> array -> list round trip of one column).

    python benchmarks/bench_excel_layer.py              # 1,000,000 rows
    python benchmarks/bench_excel_layer.py --size 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
from typing import NamedTuple

import numpy as np
import pandas as pd

from clv_xl import udfs
from clv_xl.excel import cells, fit_cache
from clv_xl.models import bgnbd
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.simulate import simulate_bgnbd_summary, simulate_transactions
from timing import timed

try:
    import lifetimes
    from lifetimes.utils import summary_data_from_transaction_data
except ImportError:
    lifetimes = None

TRUTH = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW, weeks
SPEND = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
BGNBD_BLOCK = [["r", TRUTH.r], ["alpha", TRUTH.alpha], ["a", TRUTH.a], ["b", TRUTH.b]]
GG_BLOCK = [["p", SPEND.p], ["q", SPEND.q], ["gamma", SPEND.gamma]]
SBG_BLOCK = [["gamma", 0.704], ["delta", 1.182]]
EXCEL_ROWS = 1_048_576


def column(values):
    """A column as xlwings hands it over: a list of one-cell rows of Python floats."""
    return [[value] for value in np.asarray(values, dtype=float).tolist()]


def flat(rows):
    return [row[0] for row in rows]



def continuous_customers(size, seed):
    """Simulated CDNOW-like customers with continuous ages (no two rows alike)."""
    rng = np.random.default_rng(seed)
    summary = simulate_bgnbd_summary(size, TRUTH, rng.uniform(1, 104, size), seed=rng)
    summary["monetary"] = np.where(summary["frequency"] > 0, rng.gamma(6.0, 5.0, size), 0.0)
    return summary


def day_granular_customers(size, seed):
    """The same, with ages of 1-729 days and recency rounded up to a whole day (in weeks)."""
    rng = np.random.default_rng(seed)
    summary = simulate_bgnbd_summary(size, TRUTH, rng.integers(1, 730, size) / 7.0, seed=rng)
    summary["recency"] = np.minimum(np.ceil(summary["recency"] * 7) / 7, summary["T"])
    return summary


def transaction_lists(size, seed):
    """``size`` order lines (ids, datetimes, amounts) as Excel passes them."""
    log = simulate_transactions(max(size // 2, 1), "2022-01-01", "2023-12-31", TRUTH, SPEND, seed=seed)
    log = log.iloc[:size]
    dates = [[day] for day in log["date"].dt.to_pydatetime().tolist()]
    return column(log["customer_id"]), dates, column(log["amount"].round(2))


SUMMARY = ("frequency", "recency", "T", "monetary")


class Inputs(NamedTuple):
    """The data of the run, built once: customers with continuous and with day-granular ages, order lines."""

    customers: pd.DataFrame  # continuous ages: no two customers alike
    columns: dict  # their frequency, recency, T, monetary as Excel passes them
    daily: pd.DataFrame  # ages in whole days
    daily_columns: dict  # their frequency, recency, T as Excel passes them
    orders: tuple  # ids, dates, amounts as Excel passes them


def build_inputs(size):
    customers, daily = continuous_customers(size, seed=1), day_granular_customers(size, seed=2)
    return Inputs(customers, excel_columns(customers), daily, excel_columns(daily), transaction_lists(size, seed=3))


def excel_columns(table):
    """The summary columns ``table`` has, as Excel passes them."""
    return {name: column(table[name]) for name in SUMMARY if name in table}


class Bench:
    """Collects table rows: function, seconds, coercion seconds, lifetimes seconds, note.

    A call is timed ``repeat`` times (1 for a fit: a second call would be a cache hit), the coercion
    always best of 3, so that its share is not one cold run's noise.
    """

    def __init__(self):
        self.rows = []

    def add(self, label, call, coercion=None, theirs=None, compare=None, repeat=1):
        ours_time, ours = timed(call, repeat)
        coercion_time = timed(coercion, 3)[0] if coercion else None
        theirs_time, note = None, ""
        if theirs is not None and lifetimes is not None:
            theirs_time, their_result = timed(theirs)
            note = compare(ours, their_result) if compare else ""
        self.rows.append((label, ours_time, coercion_time, theirs_time, note))
        print(self.format(self.rows[-1]), flush=True)
        return ours

    @staticmethod
    def format(row):
        label, ours, coercion, theirs, note = row
        share = "" if coercion is None else f"{coercion:.3f} ({100 * coercion / ours:.0f}%)"
        their_text = "" if theirs is None else f"{theirs:.3f}"
        speedup = "" if theirs is None else f"{theirs / ours:.1f}x"
        return f"| {label} | {ours:.3f} | {share} | {their_text} | {speedup} | {note} |"


def numbers(*ranges):
    """The coercion ``evaluate`` does for these ranges."""
    return lambda: [cells.numeric_grid("x", value) for value in ranges]


def fit_rows(bench, inputs):
    customers, size = inputs.customers, len(inputs.customers)
    frequency, recency, age = (inputs.columns[name] for name in ("frequency", "recency", "T"))
    arrays = [customers[name].to_numpy() for name in ("frequency", "recency", "T")]

    def same_optimum(block, fitter):
        if isinstance(block, str):
            return block
        ours = BGNBDParams(*(row[1] for row in block[:4]))
        theirs = BGNBDParams(*(float(fitter.params_[k]) for k in ("r", "alpha", "a", "b")))
        gap = bgnbd.log_likelihood(ours, *arrays).sum() - bgnbd.log_likelihood(theirs, *arrays).sum()
        return f"LL(clv-xl) - LL(lifetimes) = {gap:+.1e}"

    fit_cache.CACHE.clear()
    fit_block = bench.add(f"CLV_FIT_BGNBD, {size:,} continuous customers",
                          lambda: udfs.CLV_FIT_BGNBD(frequency, recency, age),
                          coercion=lambda: cells.summary_columns(frequency=frequency, recency=recency, T=age),
                          theirs=lambda: lifetimes.BetaGeoFitter().fit(*arrays), compare=same_optimum)
    bench.add("CLV_FIT_BGNBD again, unchanged inputs (cached)",
              lambda: udfs.CLV_FIT_BGNBD(frequency, recency, age), repeat=3)
    daily_columns = inputs.daily_columns
    bench.add(f"CLV_FIT_BGNBD, {size:,} day-granular customers", lambda: udfs.CLV_FIT_BGNBD(*daily_columns.values()),
              coercion=lambda: cells.summary_columns(**daily_columns))
    spenders = customers[customers["frequency"] > 0]
    spend_columns = column(spenders["frequency"]), column(spenders["monetary"])

    def same_spend_optimum(block, fitter):
        if isinstance(block, str):
            return block
        ours = [row[1] for row in block[:3]]
        theirs = [float(fitter.params_[k]) for k in ("p", "q", "v")]
        return "max rel diff p, q, gamma = " + f"{max(abs(o - t) / t for o, t in zip(ours, theirs)):.1e}"

    fit_cache.CACHE.clear()
    bench.add(f"CLV_FIT_GG, {len(spenders):,} repeat buyers", lambda: udfs.CLV_FIT_GG(*spend_columns),
              coercion=lambda: cells.summary_columns(frequency=spend_columns[0], monetary=spend_columns[1]),
              theirs=lambda: lifetimes.GammaGammaFitter().fit(spenders["frequency"], spenders["monetary"]),
              compare=same_spend_optimum)
    return fit_block


def per_customer_rows(bench, inputs):
    customers, size = inputs.customers, len(inputs.customers)
    frequency, recency, age, monetary = inputs.columns.values()
    arrays = [customers[name].to_numpy() for name in ("frequency", "recency", "T")]
    fitter = None
    if lifetimes is not None:
        fitter = lifetimes.BetaGeoFitter()
        fitter.params_ = pd.Series({"r": TRUTH.r, "alpha": TRUTH.alpha, "a": TRUTH.a, "b": TRUTH.b})
        spend_fitter = lifetimes.GammaGammaFitter()
        spend_fitter.params_ = pd.Series({"p": SPEND.p, "q": SPEND.q, "v": SPEND.gamma})

    def largest_difference(ours, theirs):
        ours, theirs = np.asarray(flat(ours), dtype=float), np.asarray(theirs, dtype=float)
        return f"max rel diff {np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-12)):.1e}"

    bench.add(f"CLV_PALIVE, {size:,} customers", lambda: udfs.CLV_PALIVE(BGNBD_BLOCK, frequency, recency, age),
              coercion=numbers(frequency, recency, age), repeat=3,
              theirs=lambda: fitter.conditional_probability_alive(*arrays), compare=largest_difference)
    bench.add(f"CLV_PURCHASES (52 weeks), {size:,} customers",
              lambda: udfs.CLV_PURCHASES(BGNBD_BLOCK, frequency, recency, age, 52.0),
              coercion=numbers(frequency, recency, age), repeat=3,
              theirs=lambda: fitter.conditional_expected_number_of_purchases_up_to_time(52.0, *arrays),
              compare=largest_difference)
    bench.add(f"CLV_SPEND, {size:,} customers", lambda: udfs.CLV_SPEND(GG_BLOCK, frequency, monetary),
              coercion=numbers(frequency, monetary), repeat=3,
              theirs=lambda: spend_fitter.conditional_expected_average_profit(arrays[0], customers["monetary"]),
              compare=largest_difference)
    bench.add(f"CLV_PREDICT (52 weeks, 10% a year), {size:,} customers",
              lambda: udfs.CLV_PREDICT(BGNBD_BLOCK, GG_BLOCK, frequency, recency, age, monetary, 52.0, 0.3, 0.1),
              coercion=numbers(frequency, recency, age, monetary))
    bench.add(f"CLV_PREDICT (52 weeks, undiscounted), {size:,} customers",
              lambda: udfs.CLV_PREDICT(BGNBD_BLOCK, GG_BLOCK, frequency, recency, age, monetary, 52.0, 0.3, 0.0),
              coercion=numbers(frequency, recency, age, monetary), repeat=3)
    horizons = column(np.full(size, 52.0))
    bench.add(f"CLV_PURCHASES_NEW, {size:,} horizons", lambda: udfs.CLV_PURCHASES_NEW(BGNBD_BLOCK, horizons),
              coercion=numbers(horizons), repeat=3)


def rfm_rows(bench, inputs):
    ids, dates, amounts = inputs.orders
    size = len(ids)

    def theirs():
        log = pd.DataFrame({"customer_id": flat(ids), "date": flat(dates), "amount": flat(amounts)})
        return summary_data_from_transaction_data(log, "customer_id", "date", monetary_value_col="amount", freq="D")

    def identical(ours, theirs):
        table = pd.DataFrame(ours[1:], columns=ours[0]).set_index("customer")
        theirs = theirs.reindex(table.index)
        same = (np.array_equal(table["frequency"], theirs["frequency"])
                and np.array_equal(table["recency"], theirs["recency"])
                and np.array_equal(table["T"], theirs["T"]))
        money = np.max(np.abs(table["monetary"] - theirs["monetary_value"]))
        return f"{len(table):,} customers; frequency, recency, T identical: {same}; max abs diff monetary {money:.1e}"

    def coercion():
        return (cells.id_column("customer_ids", ids), cells.date_column("dates", dates),
                cells.summary_columns(amounts=amounts))

    bench.add(f"CLV_RFM (days), {size:,} order lines", lambda: udfs.CLV_RFM(ids, dates, amounts, None, "D"),
              coercion=coercion, theirs=theirs, compare=identical, repeat=3)
    bench.add(f"CLV_COHORT (months), {size:,} order lines", lambda: udfs.CLV_COHORT(ids, dates, "M"),
              coercion=lambda: (cells.id_column("customer_ids", ids), cells.date_column("dates", dates)), repeat=3)


def closed_form_rows(bench, rng, size):
    value = column(rng.uniform(10, 100, size))
    rate = column(rng.uniform(0.05, 0.5, size))
    count = column(rng.integers(100, 1000, size))
    periods = column(rng.integers(0, 60, size))
    renewed = [[max(period, 1.0)] for (period,) in periods]  # retention starts at period 1
    rows = f"{size:,} rows"
    bench.add(f"floor: list -> array -> list of one column, {rows}",
              lambda: np.fromiter(itertools.chain.from_iterable(value), float).reshape(-1, 1).tolist(), repeat=3)
    cases = {
        "CLV_AVG": (lambda: udfs.CLV_AVG(value, 6.0, 3.0, 0.3, 0.1, 0.0), [value]),
        "CLV_CHURN": (lambda: udfs.CLV_CHURN(value, 0.3, rate, 0.01), [value, rate]),
        "CLV_NET": (lambda: udfs.CLV_NET(value, 20.0, rate), [value, rate]),
        "CLV_CHURN_RATE": (lambda: udfs.CLV_CHURN_RATE(count, rate, 0.0), [count, rate]),
        "CLV_RETENTION": (lambda: udfs.CLV_RETENTION(rate), [rate]),
        "CLV_LIFESPAN": (lambda: udfs.CLV_LIFESPAN(rate), [rate]),
        "CLV_CAC_RATIO": (lambda: udfs.CLV_CAC_RATIO(value, 20.0), [value]),
        "CLV_PAYBACK": (lambda: udfs.CLV_PAYBACK(value, 300.0), [value]),
        "CLV_SEGMENT": (lambda: udfs.CLV_SEGMENT(value), [value]),
        "CLV_SBG_SURVIVAL": (lambda: udfs.CLV_SBG_SURVIVAL(SBG_BLOCK, periods), [periods]),
        "CLV_SBG_RETENTION": (lambda: udfs.CLV_SBG_RETENTION(SBG_BLOCK, renewed), [renewed]),
        "CLV_DERL": (lambda: udfs.CLV_DERL(SBG_BLOCK, periods, 0.1, 100.0), [periods]),
    }
    for name, (call, ranges) in cases.items():
        bench.add(f"{name}, {rows}", call, coercion=numbers(*ranges), repeat=3)
    return value


def one_bad_cell_rows(bench, value, inputs):
    middle = len(value) // 2
    text = [row[:] for row in value]
    text[middle] = ["n/a"]
    lifespans = column(np.full(len(value), 3.0))
    refused = [row[:] for row in lifespans]
    refused[middle] = [-1.0]
    rows = f"{len(value):,} rows"
    bench.add(f"CLV_AVG, {rows}, all good", lambda: udfs.CLV_AVG(value, 6.0, lifespans), repeat=3)
    bench.add(f"CLV_AVG, {rows}, one text cell", lambda: udfs.CLV_AVG(text, 6.0, 3.0), repeat=3)
    bench.add(f"CLV_AVG, {rows}, one refused value (lifespan -1)", lambda: udfs.CLV_AVG(value, 6.0, refused),
              repeat=3)
    frequency, recency, age, monetary = inputs.columns.values()
    bad_frequency = [row[:] for row in frequency]
    bad_frequency[len(frequency) // 2] = [-1.0]
    size = f"{len(frequency):,} customers"
    bench.add(f"CLV_PREDICT, {size}, all good",
              lambda: udfs.CLV_PREDICT(BGNBD_BLOCK, GG_BLOCK, frequency, recency, age, monetary, 52.0))
    bench.add(f"CLV_PREDICT, {size}, one refused frequency (-1)",
              lambda: udfs.CLV_PREDICT(BGNBD_BLOCK, GG_BLOCK, bad_frequency, recency, age, monetary, 52.0))


def validation_rows(bench, inputs, fit_block):
    """The functions of the Validation sheet and the intervals, at 1,000,000 rows."""
    rng = np.random.default_rng(5)
    customers = inputs.customers
    frequency, recency, age, monetary = inputs.columns.values()
    spenders = customers[customers["frequency"] > 0]
    spend_block = udfs.CLV_FIT_GG(column(spenders["frequency"]), column(spenders["monetary"]))
    holdout = rng.poisson(0.5, len(customers))
    holdout_purchases = column(holdout)
    holdout_spend = column(np.where(holdout > 0, rng.gamma(6.0, 5.0, len(customers)), 0.0))
    customers_label = f"{len(customers):,} customers"
    bench.add(f"CLV_FREQ_FIT, {customers_label}", lambda: udfs.CLV_FREQ_FIT(BGNBD_BLOCK, frequency, age),
              coercion=numbers(frequency, age))
    bench.add(f"CLV_CONDITIONAL, {customers_label}",
              lambda: udfs.CLV_CONDITIONAL(BGNBD_BLOCK, frequency, recency, age, holdout_purchases, 39.0),
              coercion=numbers(frequency, recency, age, holdout_purchases), repeat=3)
    bench.add(f"CLV_CONDITIONAL_SPEND, {customers_label}",
              lambda: udfs.CLV_CONDITIONAL_SPEND(GG_BLOCK, frequency, monetary, holdout_purchases, holdout_spend),
              coercion=numbers(frequency, monetary, holdout_purchases, holdout_spend), repeat=3)
    daily = inputs.daily
    daily_spend = np.where(daily["frequency"] > 0, rng.gamma(6.0, 5.0, len(daily)), 0.0)
    daily_columns = [*inputs.daily_columns.values(), column(daily_spend)]
    bench.add(f"CLV_PREDICT_INTERVAL (52 weeks, per customer), {len(daily):,} day-granular customers",
              lambda: udfs.CLV_PREDICT_INTERVAL(fit_block, spend_block, *daily_columns, 52.0, 0.3, 0.1),
              coercion=numbers(*daily_columns))
    worst = slice(0, len(customers) // 10)
    worst_columns = [range_[worst] for range_ in (frequency, recency, age, monetary)]
    bench.add(f"CLV_PREDICT_INTERVAL (52 weeks, per customer), {len(worst_columns[0]):,} continuous customers",
              lambda: udfs.CLV_PREDICT_INTERVAL(fit_block, spend_block, *worst_columns, 52.0, 0.3, 0.1),
              coercion=numbers(*worst_columns))
    ids, dates, amounts = inputs.orders
    lines = f"{len(ids):,} order lines"
    bench.add(f"CLV_HOLDOUT (weeks), {lines}",
              lambda: udfs.CLV_HOLDOUT(ids, dates, amounts, dt.datetime(2023, 6, 30), dt.datetime(2023, 12, 31)),
              coercion=lambda: (cells.id_column("customer_ids", ids), cells.date_column("dates", dates),
                                cells.summary_columns(amounts=amounts)), repeat=3)
    bench.add(f"CLV_TRACKING (weeks), {lines}", lambda: udfs.CLV_TRACKING(BGNBD_BLOCK, ids, dates),
              coercion=lambda: (cells.id_column("customer_ids", ids), cells.date_column("dates", dates)), repeat=3)


def subscription_rows(bench, size):
    """sBG: the fit at its longest survivor column (1,200 periods) and the per-row functions at 1,048,576 rows."""
    periods = np.arange(1, 1201)
    survivors = column(np.round(1_000_000 * np.exp(-0.05 * periods ** 0.8)))
    fit_cache.CACHE.clear()
    sbg_block = bench.add("CLV_FIT_SBG, 1,200 periods (the most it takes)", lambda: udfs.CLV_FIT_SBG(survivors),
                          coercion=lambda: cells.summary_columns(survivors=survivors))
    rng = np.random.default_rng(6)
    what_if_rates = column(rng.integers(0, 31, size) / 100)  # 0%, 1%, ..., 30%
    distinct_rates = column(rng.uniform(0.01, 0.3, 10_000))
    renewals = column(rng.integers(0, 60, size))
    rows = f"{size:,} rows"
    bench.add(f"CLV_DEL, {rows} of discount rates 0%-30%", lambda: udfs.CLV_DEL(SBG_BLOCK, what_if_rates, 100.0),
              coercion=numbers(what_if_rates), repeat=3)
    bench.add("CLV_DEL, 10,000 different discount rates (a series each)",
              lambda: udfs.CLV_DEL(SBG_BLOCK, distinct_rates, 100.0), coercion=numbers(distinct_rates))
    bench.add(f"CLV_DERL_INTERVAL, {rows} of renewals", lambda: udfs.CLV_DERL_INTERVAL(sbg_block, renewals, 0.1),
              coercion=lambda: cells.summary_columns(renewals=renewals))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="customers and order lines (default 1e6)")
    args = parser.parse_args()
    version = lifetimes.__version__ if lifetimes else "not importable"
    print(f"{dt.date.today()}; lifetimes {version}; numpy {np.__version__}, pandas {pd.__version__}")
    print("| function, input as Excel passes it | clv-xl (s) | of which coercion (s) | lifetimes (s) "
          "| speed-up | same answer? |")
    print("|---|---:|---:|---:|---:|---|")
    bench = Bench()
    inputs = build_inputs(args.size)
    fit_block = fit_rows(bench, inputs)
    per_customer_rows(bench, inputs)
    rfm_rows(bench, inputs)
    validation_rows(bench, inputs, fit_block)
    # a whole Excel column when the run is at full size
    rows = EXCEL_ROWS if args.size >= 1_000_000 else args.size
    subscription_rows(bench, rows)
    value = closed_form_rows(bench, np.random.default_rng(4), rows)
    one_bad_cell_rows(bench, value, inputs)


if __name__ == "__main__":
    main()
