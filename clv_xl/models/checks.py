"""Input checks shared by the closed-form formulas (:mod:`clv_xl.formula`) and the model modules.

Every check raises a :mod:`clv_xl.errors` exception whose message names the
argument, the value received and what is allowed.
"""

from __future__ import annotations

import numpy as np

from clv_xl.errors import CLVError, NumError, ShapeError


def float_array(name: str, value) -> np.ndarray:
    """``value`` as a float array of finite numbers."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CLVError(f"{name} must contain numbers only (got {_short(value)})") from None
    if not np.all(np.isfinite(array)):
        bad = array[~np.isfinite(array)].flat[0]
        raise NumError(f"{name} must contain finite numbers only (got {bad})")
    return array


def require(name: str, array: np.ndarray, ok: np.ndarray, allowed: str) -> None:
    """Raise ``NumError`` naming the first value of ``array`` where ``ok`` is False (the two broadcast).

    The error's ``rows`` are the values where ``ok`` is False.
    """
    if not np.all(ok):
        array, ok = np.broadcast_arrays(np.asarray(array), np.asarray(ok))
        bad = array[~ok].flat[0]
        raise with_rows(NumError(f"{name} must be {allowed} (got {bad:g})"), ~ok)


def whole_counts(name: str, array: np.ndarray) -> None:
    """Refuse values of ``array`` that are not whole numbers >= 0 (counts, e.g. repeat purchases)."""
    require(name, array, (array >= 0) & (array == np.floor(array)), "a whole number >= 0")


def with_rows(error: CLVError, rows: np.ndarray) -> CLVError:
    """``error`` with its ``rows``: which of the checked values break the rule."""
    error.rows = np.asarray(rows, dtype=bool)
    return error


def scalar(name: str, value) -> float:
    """``value`` as one finite float; a range of several cells is a ``ShapeError``."""
    array = float_array(name, value)
    if array.size != 1:
        raise ShapeError(f"{name} must be a single number (got {array.size} values)")
    return float(array.reshape(-1)[0])


def discount_rate(name: str, value) -> np.ndarray:
    """A discount rate as a fraction: >= 0 and below 1 (100%).

    The one check of every discount rate, per period or per year, so the same
    "10%" is accepted or refused with the same message everywhere. The upper
    bound catches the classic slip of typing 10 for 10%; no real cost of
    capital reaches 100% per period.
    """
    rate = float_array(name, value)
    require(name, rate, (rate >= 0) & (rate < 1), ">= 0 and < 1, a fraction such as 10% or 0.1")
    return rate


#: Most periods any step-by-step computation takes: a CLV horizon, the rows of a tracking table,
#: the columns of a cohort table, a subscriber's renewals. 100 years of months, 23 of weeks or
#: 3.3 of days; such a table fits a sheet, and every function stays well under 10 s at this size.
MAX_PERIODS = 1200


def at_most_periods(name: str, count: float, fix: str) -> None:
    """Raise ``NumError`` when ``count`` periods exceed :data:`MAX_PERIODS`, saying what to do (``fix``)."""
    if not count <= MAX_PERIODS:
        raise NumError(f"{name} must be <= {MAX_PERIODS} (got {count:g}); {fix}")


def broadcast(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast the named arrays together or raise ``ShapeError`` naming them."""
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        sizes = ", ".join(f"{name} {np.shape(a)}" for name, a in arrays.items())
        raise ShapeError(
            f"ranges must have the same size or be single values (got {sizes})"
        ) from None


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
