"""Degenerate data give ``#NUM!`` with the cause and the fix, never a fitted-looking number (issue 10, item 6).

One table of data sets a user can really hand the fits: too few customers or
repeat buyers, identical customers, summaries that break the first-purchase
convention, spends without spread, survivor columns with one period, no churn,
increases, zeros and gaps, and optima at a bound, at the start point or on a
flat ridge. Each row names a phrase the message must contain. The last table
holds small but sound data sets that must still fit.
"""

import numpy as np
import pytest

from clv_xl.models import bgnbd, simulate
from clv_xl.udfs import CLV_FIT_BGNBD, CLV_FIT_GG, CLV_FIT_SBG


def column(values):
    return [[value] for value in values]


def fit_bgnbd(frequency, recency, T):
    return CLV_FIT_BGNBD(column(frequency), column(recency), column(T))


def fit_gg(frequency, monetary):
    return CLV_FIT_GG(column(frequency), column(monetary))


def fit_sbg(survivors):
    return CLV_FIT_SBG(column(survivors))


AGES = list(np.linspace(10.0, 59.0, 50))

#: Causes of a fit that finds no sound optimum. Which one the optimizer meets first on a flat or
#: runaway likelihood depends on the scipy build and the BLAS kernel (Pyodide's scipy 1.14 and
#: OPENBLAS_CORETYPE=Prescott take other steps than scipy 1.17 on Haswell).
UNIDENTIFIED = ("the data do not identify", "runs off to infinity", "did not converge", "no peak")

DEGENERATE = {
    "bgnbd, no customer": (lambda: fit_bgnbd([None], [None], [None]), "at least 4 customers"),
    "bgnbd, one customer (was r = 2.5e8)": (lambda: fit_bgnbd([2], [10], [20]), "at least 4 customers to estimate r, alpha, a and b (got 1)"),
    "bgnbd, two customers": (lambda: fit_bgnbd([2, 1], [10, 5], [20, 30]), "(got 2); use the whole customer list"),
    "bgnbd, three customers": (lambda: fit_bgnbd([2, 1, 0], [10, 5, 0], [20, 30, 25]), "at least 4 customers"),
    "bgnbd, no repeat buyer": (lambda: fit_bgnbd([0] * 50, [0] * 50, AGES), "frequency > 0 (got 0)"),
    "bgnbd, one repeat buyer": (lambda: fit_bgnbd([1] + [0] * 49, [5] + [0] * 49, AGES), "frequency > 0 (got 1)"),
    "bgnbd, everyone T = 0": (lambda: fit_bgnbd([0] * 10, [0] * 10, [0] * 10), "frequency > 0 (got 0)"),
    "bgnbd, all repeat buyers identical": (lambda: fit_bgnbd([3] * 50, [20] * 50, [30] * 50),
                                           "different (frequency, recency, T) rows (got 1)"),
    "bgnbd, three kinds of customer, T all equal": (
        lambda: fit_bgnbd([0, 1, 2] * 20, [0, 5, 10] * 20, [30] * 60), "rows (got 3)"),
    "bgnbd, frequency > 0 with recency 0": (lambda: fit_bgnbd([2] * 50, [0] * 50, AGES),
                                            "recency must be > 0 where frequency > 0"),
    "bgnbd, frequency 0 with recency > 0": (lambda: fit_bgnbd([0, 1, 2, 3], [4, 5, 6, 7], [20] * 4),
                                            "recency must be 0 where frequency is 0"),
    "bgnbd, recency > T": (lambda: fit_bgnbd([2, 1, 1, 3], [40, 5, 6, 7], [20, 30, 30, 30]), "T must be >= recency"),
    "bgnbd, negative frequency": (lambda: fit_bgnbd([-1, 1, 2, 3], [4, 5, 6, 7], [20] * 4),
                                  "frequency must be a whole number >= 0"),
    "bgnbd, one repeat purchase each (was a = 5e5)": (
        lambda: fit_bgnbd([1] * 50, list(np.linspace(1, 20, 50)), list(np.linspace(21, 40, 50))),
        UNIDENTIFIED),
    "bgnbd, 30 simulated customers (was a, b = 3e6)": (
        lambda: fit_bgnbd(*_simulated(30, seed=1)), UNIDENTIFIED),
    "gg, no repeat buyer": (lambda: fit_gg([0, 0], [0, 0]), "at least 3 customers with frequency > 0"),
    "gg, one repeat buyer": (lambda: fit_gg([2, 0, 0], [10, 0, 0]), "(got 1)"),
    "gg, two repeat buyers (was q = 4e7)": (lambda: fit_gg([2, 1], [10, 12]), "(got 2)"),
    "gg, identical spends (was p = 6e7)": (lambda: fit_gg([2, 3, 1, 4] * 10, [10] * 40),
                                           "monetary is the same for every customer"),
    "gg, negative spend": (lambda: fit_gg([2, 3, 1], [-10, 5, 6]), "monetary must be > 0"),
    "gg, zero spend": (lambda: fit_gg([2, 3, 1], [0, 5, 6]), "monetary must be > 0"),
    "sbg, cohort size only": (lambda: fit_sbg([1000]), "at least 2 later periods"),
    "sbg, one period (was gamma = delta = 1.0, the start point)": (lambda: fit_sbg([1000, 500]),
                                                                   "at least 2 later periods to estimate gamma and delta (got 2 values)"),
    "sbg, one period in percentages": (lambda: fit_sbg([1, 0.5]), "at least 2 later periods"),
    "sbg, no churn": (lambda: fit_sbg([1000, 1000, 1000]), "never decrease"),
    "sbg, increasing": (lambda: fit_sbg([1000, 1100, 1200]), "must not increase"),
    "sbg, zeros": (lambda: fit_sbg([0, 0, 0]), "> 0 in period 0"),
    "sbg, negative": (lambda: fit_sbg([1000, -5, -10]), "survivors must be >= 0"),
    "sbg, everyone gone after period 1": (lambda: fit_sbg([1000, 0, 0]), UNIDENTIFIED),
    "sbg, everyone gone after period 2": (lambda: fit_sbg([1000, 500, 0]), UNIDENTIFIED),
    "sbg, blank in the middle (was a fit on shifted periods)": (
        lambda: fit_sbg([1000, 800, None, 600, 500]), "blank cell in row 3"),
    "sbg, blank first cell": (lambda: fit_sbg([None, 1000, 800, 600]), "blank cell in row 1"),
    "sbg, falling retention (was gamma = 1.6e6)": (lambda: fit_sbg([1000, 800, 600]), UNIDENTIFIED),
    "sbg, constant retention (was gamma = delta = 3.8e4)": (
        lambda: fit_sbg([1000, 500, 250, 125, 62.5, 31.25]), UNIDENTIFIED),
    "sbg, falling retention over five periods": (lambda: fit_sbg([1000, 900, 800, 700, 600]), UNIDENTIFIED),
    "sbg, no churn then half (was gamma = 9e9)": (lambda: fit_sbg([1000, 1000, 1000, 500]), UNIDENTIFIED),
}


def _simulated(customers, seed):
    summary = simulate.simulate_bgnbd_summary(customers, bgnbd.BGNBDParams(0.5, 5.0, 0.8, 2.5), 30.0, seed=seed)
    return [summary[name].tolist() for name in ("frequency", "recency", "T")]


@pytest.mark.parametrize("case", DEGENERATE)
def test_degenerate_data_give_num_with_the_cause(case):
    call, phrase = DEGENERATE[case]
    result = call()
    assert isinstance(result, str), f"{case} gave a fit: {result}"
    phrases = phrase if isinstance(phrase, tuple) else (phrase,)
    assert result.startswith("#NUM! ") and any(text in result for text in phrases), result
    assert "(got " in result or "; " in result  # the value that caused it, or what to do


SOUND = {
    "bgnbd, one cohort of 500 (all T equal)": lambda: fit_bgnbd(*_simulated(500, seed=1)),
    "sbg, two periods (gamma = delta = 2 exactly)": lambda: fit_sbg([1000, 500, 300]),
    "sbg, FH 2007 regular cohort in fractions": lambda: fit_sbg([1, .631, .468, .382, .326, .289, .262, .241]),
    "sbg, small cohort": lambda: fit_sbg([10, 5, 4, 3]),
    "sbg, blank cells after the last count": lambda: fit_sbg([1000, 631, 468, 382, None, None]),
    "gg, 20 simulated repeat buyers": lambda: fit_gg(list(range(1, 6)) * 4, list(np.linspace(8.0, 40.0, 20))),
}


@pytest.mark.parametrize("case", SOUND)
def test_small_sound_data_still_fit(case):
    block = SOUND[case]()
    assert isinstance(block, list), block
    assert all(np.isfinite(row[1]) for row in block)
    assert all(isinstance(row[2], float) for row in block[:-1])  # standard errors, not a #NUM! message
