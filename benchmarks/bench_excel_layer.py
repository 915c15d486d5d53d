"""Time the CLV_* Excel functions on whole columns, as Excel hands them over.

Prints a table: rows of the input column, and seconds per call for a few functions,
including coercion of the 2-D lists, broadcasting, the pure math and the spilled
result. There is no reference library for the Excel layer; the point is that a
column of 100,000 customers recalculates well within a second.

    python benchmarks/bench_excel_layer.py
"""

from __future__ import annotations

import time

import numpy as np

from clv_xl.udfs import CLV_AVG, CLV_CHURN, CLV_PALIVE, CLV_PREDICT, CLV_SEGMENT

CDNOW_BGNBD = [[0.243], [4.414], [0.793], [2.426]]
CDNOW_GG = [[6.25], [3.74], [15.44]]


def column(values):
    return [[float(value)] for value in values]


def best_of(repeats, call):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def cases(rows, rng):
    value = column(rng.uniform(10, 100, rows))
    churn = column(rng.uniform(0.05, 0.5, rows))
    frequency = column(rng.integers(0, 20, rows))
    age = rng.uniform(1, 52, rows)
    recency = column(age * rng.uniform(0, 1, rows))
    spend = column(rng.uniform(5, 80, rows))
    return {
        "CLV_AVG": lambda: CLV_AVG(value, 6.0, 3.0, 0.3, 0.0, 0.1),
        "CLV_CHURN": lambda: CLV_CHURN(value, 0.3, churn, 0.01),
        "CLV_SEGMENT": lambda: CLV_SEGMENT(value),
        "CLV_PALIVE": lambda: CLV_PALIVE(CDNOW_BGNBD, frequency, recency, column(age)),
        "CLV_PREDICT (52 weeks)": lambda: CLV_PREDICT(CDNOW_BGNBD, CDNOW_GG, frequency, recency,
                                                      column(age), spend, 52.0, 0.1, 0.3),
    }


def main():
    rng = np.random.default_rng(1)
    sizes = (1_000, 10_000, 100_000)
    table = {size: cases(size, rng) for size in sizes}
    names = list(table[sizes[0]])
    print("| function | " + " | ".join(f"{size:,} rows (s)" for size in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in names:
        seconds = [best_of(3, table[size][name]) for size in sizes]
        print(f"| {name} | " + " | ".join(f"{value:.3f}" for value in seconds) + " |")


if __name__ == "__main__":
    main()
