"""The one timer of the benchmarks: best wall time of repeated calls."""

import time


def timed(call, repeat=1):
    """Best wall time of ``repeat`` calls, and the last result."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result
