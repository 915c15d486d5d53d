"""Transactions to customer summaries: RFM (frequency, recency, T, monetary) and cohorts.

Conventions (the ones of Fader, Hardie & Lee 2005, "Counting Your Customers the
Easy Way", Marketing Science 24(2), and of their CDNOW summary file):

* Purchases are counted per *day*: several lines of one customer on one day are
  one purchase whose amount is their sum. Times of day are ignored.
* The first purchase day starts the customer's clock (time 0) and is *not* a
  repeat purchase: it is excluded from ``frequency`` and from ``monetary``.
* ``as_of`` is the end of the observation (calibration) period. Purchases on
  the ``as_of`` day count; later ones are ignored. Times are whole-day
  differences of dates, so ``T`` runs from the first purchase day to the
  ``as_of`` day (the "calibration end" of the papers): with first purchase
  1997-01-01 and as_of 1997-09-30, T = 272 days = 38.86 weeks, exactly the
  published CDNOW summary.
* Time units (``time_unit``): "D" days, "W" weeks of 7 days, "M" months of
  365.25/12 days, "Y" years of 365.25 days. There are no 30-day months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv_xl.errors import CLVError, ShapeError
from clv_xl.models.checks import at_most_periods, float_array

DAYS_PER_UNIT = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0, "Y": 365.25}


def days_per_unit(time_unit: str, name: str = "time_unit") -> float:
    """Length of one ``time_unit`` ("D", "W", "M" or "Y") in days; ``name`` is used in errors."""
    try:
        return DAYS_PER_UNIT[str(time_unit).upper()]
    except KeyError:
        raise CLVError(f"{name} must be one of D, W, M, Y (got {time_unit!r})") from None


def rfm_summary(
    customer_ids, dates, amounts=None, *, as_of=None, time_unit: str = "W"
) -> pd.DataFrame:
    """Summarise a transaction log into one row per customer.

    Parameters
    ----------
    customer_ids : array-like
        Customer of each transaction line (any hashable values, no blanks).
    dates : array-like of datetime-like
        Date of each line (datetimes, ``datetime64`` or ISO date strings).
    amounts : array-like of float, optional
        Spend of each line; without it ``monetary`` is 0.
    as_of : datetime-like, optional
        End of the observation (calibration) period; lines after it are
        ignored. Defaults to the last date in the data.
    time_unit : {"D", "W", "M", "Y"}
        Unit of ``recency`` and ``T`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted), columns:

        * ``frequency`` (int): number of repeat purchase days (first excluded).
        * ``recency`` (float): time from first to last purchase day.
        * ``T`` (float): time from first purchase day to ``as_of``.
        * ``monetary`` (float): mean spend per repeat purchase day (first
          purchase excluded); 0 when ``frequency`` is 0.

    Raises
    ------
    ShapeError
        If the columns have different lengths.
    CLVError
        For blank ids or dates, or when no purchase is on or before ``as_of``.
    """
    unit_days = days_per_unit(time_unit)
    log = Transactions.build(customer_ids, dates, amounts, as_of)
    return _summarise(log.customers, *merge_same_day(log), log.as_of_day, unit_days)


def _summarise(customers, customer, day, amount, as_of_day, unit_days) -> pd.DataFrame:
    """The :func:`rfm_summary` rows of the customers with a purchase day.

    Parameters
    ----------
    customers : ndarray
        The distinct customer ids, sorted.
    customer, day, amount : ndarray
        Purchase days as :func:`merge_same_day` returns them (sorted by
        customer, then day), or a subset of them keeping that order.
    as_of_day : int
        End of the observation, in the days of ``day``.
    unit_days : float
        Days per time unit of ``recency`` and ``T``.

    Returns
    -------
    pandas.DataFrame
        As :func:`rfm_summary`, one row per customer in ``customer``.
    """
    is_first = np.r_[True, customer[1:] != customer[:-1]]
    is_last = np.r_[is_first[1:], True]
    row = np.cumsum(is_first) - 1  # the customer's row in the summary
    repeat_days = np.bincount(row) - 1
    repeat_spend = np.bincount(row, weights=np.where(is_first, 0.0, amount))
    first_day = day[is_first]
    return pd.DataFrame(
        {
            "frequency": repeat_days,
            "recency": (day[is_last] - first_day) / unit_days,
            "T": (as_of_day - first_day) / unit_days,
            "monetary": np.divide(
                repeat_spend, repeat_days, out=np.zeros(len(first_day)), where=repeat_days > 0
            ),
        },
        index=pd.Index(customers[customer[is_first]], name="customer_id"),
    )


def calibration_and_holdout(
    customer_ids, dates, amounts=None, *, calibration_end, observation_end, time_unit: str = "W"
) -> pd.DataFrame:
    """Split a transaction log into a calibration summary and holdout counts per customer.

    The conventions of ``lifetimes.utils.calibration_and_holdout_data`` (and of
    the CDNOW analysis of Fader, Hardie & Lee 2005, 39 + 39 weeks):

    * Same-day lines of a customer are merged into one purchase (amounts summed),
      in the calibration *and* in the holdout period.
    * Calibration = lines on or before ``calibration_end``, summarised exactly
      as :func:`rfm_summary` with ``as_of=calibration_end``.
    * Customers whose first purchase is after ``calibration_end`` are left out
      (the models predict the holdout of customers known at calibration end).
    * Holdout = purchase days in (calibration_end, observation_end]: the
      calibration end day belongs to calibration; the observation end day counts.
    * ``monetary_holdout`` = mean spend per holdout purchase day (0 without one).
    * ``duration_holdout`` = (observation_end - calibration_end) in ``time_unit``,
      the same for every customer (e.g. 273 days = 39 weeks for CDNOW).

    Parameters
    ----------
    customer_ids, dates, amounts : array-like
        One value per transaction line, as for :func:`rfm_summary`.
    calibration_end : datetime-like
        Last day of the calibration period.
    observation_end : datetime-like
        Last day of the holdout period; after ``calibration_end``.
    time_unit : {"D", "W", "M", "Y"}
        Unit of recency, T and duration_holdout.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted; calibration customers only), columns
        ``frequency``, ``recency``, ``T``, ``monetary`` (calibration, as
        :func:`rfm_summary`), ``frequency_holdout`` (purchase days in the
        holdout), ``monetary_holdout`` and ``duration_holdout``.

    Raises
    ------
    CLVError
        If ``observation_end`` is not after ``calibration_end`` or no customer
        bought on or before ``calibration_end``.
    """
    unit_days = days_per_unit(time_unit)
    calibration_day = days_since_epoch("calibration_end", [calibration_end])[0]
    observation_day = days_since_epoch("observation_end", [observation_end])[0]
    if observation_day <= calibration_day:
        raise CLVError(
            f"observation_end must be after calibration_end (got {observation_end} and {calibration_end})"
        )
    log = Transactions.build(customer_ids, dates, amounts, observation_end)
    customer, day, amount = merge_same_day(log)
    calibration_end_day = calibration_day - log.first_day  # in the days of the log
    in_calibration = day <= calibration_end_day
    if not in_calibration.any():
        raise CLVError(f"no purchase is on or before as_of (got as_of {calibration_end}); use a later as_of")
    calibration_customer = customer[in_calibration]
    calibration = _summarise(log.customers, calibration_customer, day[in_calibration],
                             amount[in_calibration], calibration_end_day, unit_days)
    n_customers = len(log.customers)
    known = np.flatnonzero(np.bincount(calibration_customer, minlength=n_customers))  # codes of its rows
    holdout_customer = customer[~in_calibration]
    frequency_holdout = np.bincount(holdout_customer, minlength=n_customers)[known].astype(float)
    # pandas sums with compensation (np.bincount's plain sum can differ in the last bits)
    spend = pd.Series(amount[~in_calibration]).groupby(holdout_customer).sum().reindex(known, fill_value=0.0)
    return calibration.assign(
        frequency_holdout=frequency_holdout,
        monetary_holdout=np.divide(spend.to_numpy(), frequency_holdout, out=np.zeros(len(known)),
                                   where=frequency_holdout > 0),
        duration_holdout=(observation_day - calibration_day) / unit_days,
    )


def cohort_table(customer_ids, dates, *, period: str = "M", as_of=None) -> pd.DataFrame:
    """Share of each acquisition cohort that buys in each later period.

    Parameters
    ----------
    customer_ids, dates : array-like
        One value per transaction line, as for :func:`rfm_summary`.
    period : {"D", "W", "M", "Y"}
        Calendar period: day, week (Monday to Sunday), calendar month or
        calendar year.
    as_of : datetime-like, optional
        Last observed day; lines after it are ignored. Defaults to the last date.

    Returns
    -------
    pandas.DataFrame
        One row per cohort, indexed by the first day of the acquisition period
        (the period of the customer's first purchase). Column ``k`` is the share
        of the cohort that bought at least once in the ``k``-th period after
        acquisition; column 0 is 1.0 (the first purchase counts there). Periods
        not yet observed at ``as_of`` are NaN (a 0 means observed, no buyer).
    """
    days_per_unit(period, name="period")
    period = str(period).upper()
    log = Transactions.build(customer_ids, dates, None, as_of)
    period_of_line = _calendar_period(log.first_day + log.days, period)
    first_period = pd.Series(period_of_line).groupby(log.codes).min().to_numpy()
    cohort = first_period[log.codes]
    since = period_of_line - cohort
    pairs = pd.DataFrame({"customer": log.codes, "cohort": cohort, "since": since})
    last_period = _calendar_period(np.array([log.first_day + log.as_of_day]), period)[0]
    at_most_periods("the periods from the first date to the last", last_period - first_period.min() + 1,
                    'use a longer period ("W", "M" or "Y")')
    buyers = pairs.drop_duplicates().groupby(["cohort", "since"]).size().unstack(fill_value=0)
    buyers = buyers.reindex(columns=range(last_period - buyers.index.min() + 1), fill_value=0)
    cohort_size = pd.Series(first_period).value_counts().reindex(buyers.index)
    share = buyers.div(cohort_size, axis=0).astype(float)
    unobserved = share.columns.to_numpy()[None, :] > (last_period - share.index.to_numpy())[:, None]
    share = share.mask(unobserved)
    share.index = pd.Index(_period_start(share.index.to_numpy(), period), name="cohort")
    share.columns = pd.Index(share.columns.to_numpy(), name="periods_since_acquisition")
    return share


class Transactions:
    """Validated transaction lines: integer customer codes and day numbers."""

    def __init__(self, codes, customers, days, amounts, first_day, as_of_day):
        self.codes = codes  # int64 code of each line's customer
        self.customers = customers  # the distinct customer ids, sorted
        self.days = days  # int64 days since first_day (the earliest date)
        self.amounts = amounts  # float amounts, or None
        self.first_day = first_day  # days since 1970-01-01 of the earliest date
        self.as_of_day = as_of_day  # as_of in days since first_day
        self.span = int(days.max()) + 1  # days per customer block in (customer, day) keys

    @classmethod
    def build(cls, customer_ids, dates, amounts, as_of) -> "Transactions":
        ids = np.asarray(customer_ids).reshape(-1)
        day_numbers = days_since_epoch("dates", dates)
        if len(ids) != len(day_numbers):
            raise ShapeError(
                f"customer_ids and dates must have the same length (got {len(ids)} and {len(day_numbers)})"
            )
        if amounts is not None:
            amounts = float_array("amounts", amounts).reshape(-1)
            if len(amounts) != len(day_numbers):
                raise ShapeError(
                    f"amounts must have one value per date (got {len(amounts)} amounts and {len(day_numbers)} dates)"
                )
        blank = pd.isna(ids)
        if blank.any():
            raise CLVError(f"customer_ids must not be blank (row {int(np.argmax(blank)) + 1} is)")
        if len(day_numbers) == 0:
            raise CLVError("the transaction log is empty (got 0 rows)")
        as_of_day = day_numbers.max() if as_of is None else days_since_epoch("as_of", [as_of])[0]
        keep = day_numbers <= as_of_day
        if not keep.any():
            raise CLVError(f"no purchase is on or before as_of (got as_of {as_of}); use a later as_of")
        if not keep.all():
            ids, day_numbers = ids[keep], day_numbers[keep]
            amounts = None if amounts is None else amounts[keep]
        codes, customers = _sorted_codes(ids)
        first_day = int(day_numbers.min())
        return cls(codes.astype(np.int64), customers, day_numbers - first_day,
                   amounts, first_day, int(as_of_day) - first_day)


def _sorted_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The position of each id among the distinct ``ids``, and those ids sorted.

    Numbers and text are sorted by ``np.unique``, faster than pandas' hashing
    (0.01 s instead of 0.05 s for 1,000,000 lines of 425,727 customers in
    order, 0.10 s instead of 0.11 s shuffled, 0.09 s instead of 0.19 s for
    text). An object array (ids of mixed Python types that numpy did not turn
    into text) goes to ``pd.factorize``, which also orders values that do not
    compare with each other.

    Returns
    -------
    codes : ndarray of int
        Position of each id in ``customers``.
    customers : ndarray
        The distinct ids, sorted.
    """
    if ids.dtype == object:
        codes, customers = pd.factorize(ids, sort=True)
        return codes, np.asarray(customers)
    customers, codes = np.unique(ids, return_inverse=True)
    return codes, customers


def days_since_epoch(name: str, dates) -> np.ndarray:
    """Dates as int64 days since 1970-01-01 (time of day dropped)."""
    values = np.asarray(dates)
    if values.dtype.kind in "iufb":
        raise CLVError(
            f"{name} must be dates, not numbers (got {values.reshape(-1)[0]!r}); "
            "convert spreadsheet serial numbers to dates first"
        )
    try:
        parsed = pd.to_datetime(pd.Series(values.reshape(-1)))
    except (ValueError, TypeError) as exc:
        raise CLVError(f"{name} must be dates ({exc})") from None
    if parsed.isna().any():
        row = int(np.argmax(parsed.isna().to_numpy())) + 1
        raise CLVError(f"{name} must not be blank (row {row} is)")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[D]").astype(np.int64)


def merge_same_day(log: Transactions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's distinct purchase days, with the summed amount of each.

    Parameters
    ----------
    log : Transactions
        The transaction lines.

    Returns
    -------
    customer : ndarray of intp
        Code of the customer of each purchase day (ascending).
    day : ndarray of int64
        The purchase day, in days since ``log.first_day`` (ascending within a customer).
    amount : ndarray of float
        Sum of the day's amounts (0 when ``log`` has none).
    """
    key = log.codes * log.span + log.days
    day_key, line_to_day = np.unique(key, return_inverse=True)
    amounts = log.amounts if log.amounts is not None else np.zeros(len(key))
    customer, day = np.divmod(day_key, log.span)
    # np.bincount takes intp, 32-bit on wasm32 (Pyodide)
    return (customer.astype(np.intp, copy=False), day,
            np.bincount(line_to_day, weights=amounts, minlength=len(day_key)))


def _calendar_period(day_numbers: np.ndarray, period: str) -> np.ndarray:
    """Calendar period number of each day (days since 1970-01-01)."""
    if period == "D":
        return day_numbers.astype(np.int64)
    if period == "W":  # 1970-01-01 was a Thursday: shift so weeks start on Monday
        return (day_numbers.astype(np.int64) + 3) // 7
    unit = "datetime64[M]" if period == "M" else "datetime64[Y]"
    return day_numbers.astype("datetime64[D]").astype(unit).astype(np.int64)


def _period_start(period_numbers: np.ndarray, period: str) -> pd.DatetimeIndex:
    """First day of each calendar period number."""
    numbers = period_numbers.astype(np.int64)
    if period == "D":
        starts = numbers.astype("datetime64[D]")
    elif period == "W":
        starts = (numbers * 7 - 3).astype("datetime64[D]")
    elif period == "M":
        starts = numbers.astype("datetime64[M]")
    else:
        starts = numbers.astype("datetime64[Y]")
    return pd.DatetimeIndex(starts.astype("datetime64[ns]"))
