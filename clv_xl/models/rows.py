"""Work done once per distinct row (or value) of equal-length columns."""

from __future__ import annotations

import numpy as np
import pandas as pd


#: Leading rows that decide whether grouping identical rows pays (:func:`repeats_in_sample`).
MERGE_SAMPLE = 10_000


def repeats_in_sample(*columns: np.ndarray) -> bool:
    """Whether any two of the first :data:`MERGE_SAMPLE` rows of the columns are identical.

    Grouping pays when many rows repeat (ages in whole days: 1,000,000
    customers have a few thousand distinct pairs) and costs about 0.15 s per
    1,000,000 rows when none do (continuous ages). The leading rows decide;
    the results are the same either way, only the time differs.
    """
    sample = pd.DataFrame({str(number): np.asarray(column).reshape(-1)[:MERGE_SAMPLE]
                           for number, column in enumerate(columns)})
    return bool(sample.duplicated().any())


def distinct_rows(*columns: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The distinct rows of equal-shape columns, and each row's number among them.

    An expensive value that depends on a few columns only is computed once
    per distinct row and spread back with ``codes``: the 2F1 of BG/NBD eq. (10)
    depends on (x, T) and the horizon only (with day-granular data 1,000,000
    customers have a few thousand distinct pairs), the sBG series on the
    discount rate and the renewals. A hash grouping (pandas), not a sort;
    skipped when the leading rows do not repeat (:func:`repeats_in_sample`),
    every row then being its own group.

    Returns
    -------
    codes : ndarray of intp
        Flat row index -> index into the distinct rows (first occurrence order;
        intp, which ``np.bincount`` takes, 32-bit on wasm32).
    distinct : tuple of ndarray
        The distinct values of each column, one entry per distinct row.
    """
    flat = [np.asarray(column).reshape(-1) for column in columns]
    if not repeats_in_sample(*flat):
        return np.arange(flat[0].size), tuple(flat)
    table = pd.DataFrame({str(number): column for number, column in enumerate(flat)})
    codes = table.groupby(list(table.columns), sort=False).ngroup().to_numpy().astype(np.intp, copy=False)
    first_row = np.empty(codes.max() + 1 if codes.size else 0, dtype=np.int64)
    first_row[codes[::-1]] = np.arange(codes.size)[::-1]  # the first occurrence wins
    return codes, tuple(column[first_row] for column in flat)


def distinct_values(values: np.ndarray, weights: np.ndarray | None = None):
    """The sorted distinct ``values``, each value's index among them and the weights summed per distinct value.

    The likelihoods compute their terms in x only once per distinct frequency x
    and weigh them by the customers (or the weights) that have it. Without
    ``weights`` each value counts 1.

    Returns
    -------
    index : ndarray of intp
        Position of each value in ``distinct`` (``np.bincount`` takes intp, 32-bit on wasm32).
    distinct : ndarray
    totals : ndarray
        The weights (or counts) summed per distinct value.
    """
    index, distinct = pd.factorize(values, sort=True)
    index = index.astype(np.intp, copy=False)
    return index, distinct, np.bincount(index, weights=weights, minlength=distinct.size)
