"""Fuzz test of every CLV_* function: each result cell is a number, a blank, a date, a label or a coded message.

Issue 10, item 7. Hypothesis draws each argument as a single cell or a small
range of what Excel can hand over: floats (huge, tiny, negative, zero, NaN,
infinite), whole numbers, booleans, blanks, text (error texts such as
``#N/A``, formulas, Dutch decimals, dates as text, time units), dates and
mixed columns, and, half of the time, a plausible value for that argument
(a fitted parameter block, a column of counts) so that the draws also reach
the models behind the input checks.

Every result cell must be a finite ``float``/``int``, ``""`` (blank), a
date, a label (text not starting with ``#``) or a message in the product's
own words: one of Excel's error codes, a space, then text naming no Python
internals (exception class names, numpy, pandas, dtype, ...).

Time: ``MAX_EXAMPLES`` draws per function, about 30 s for all of them. No
call in these draws nor on Excel-sized input (1,048,576 rows, or the
documented upper bound of a step-setting argument) takes more than 10 s;
that is measured in benchmarks/bench_excel_layer.py, not timed here.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clv_xl.excel.cells import EXCEL_ERROR_CODES, UNEXPECTED_MESSAGE
from clv_xl.udfs import FUNCTIONS
import cdnow

MAX_EXAMPLES = 400

#: an input cell's error value comes back with its own code (#BUSY! too), so every code Excel has
EXCEL_CODE = "(?:" + "|".join(re.escape(code) for code in EXCEL_ERROR_CODES) + ")"
MESSAGE = re.compile(EXCEL_CODE + r" \S")
#: Words that only Python, numpy or pandas would put in a message.
INTERNAL = re.compile(
    r"\w+(?:Error|Exception|Warning)\b|Traceback|numpy|\bnp\.|pandas|dtype|Timestamp|Timedelta|\barray\(|ndarray"
    r"|NoneType|float\(\)|int\(\)|\bobject\b|Series|DataFrame|scipy|errno|<class|0x[0-9a-f]{6}",
    re.IGNORECASE,
)

TEXTS = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "=1+1", "+SUM(1)", "1,5", "1.234,56", "2024-01-31", "31-01-2024",
         "W", "M", "D", "Y", "w", "Q", "abc", "", " ", "High", "TRUE", "1e400", "nan", "inf", "-0"]
SPECIAL_NUMBERS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, 7.0, 52.0, 100.0, 1200.0, 1201.0, 52000.0, 1e9, 1e16,
                   1e308, -1e308, 5e-324, 2958465.0, 2958466.0, 0.999999, 1e-12, float("nan"), float("inf"),
                   float("-inf")]

numbers = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=0, max_value=200))
cells = st.one_of(
    numbers,
    st.integers(min_value=-10**20, max_value=10**20),
    st.booleans(),
    st.none(),
    st.sampled_from(TEXTS),
    st.text(max_size=6),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)


def ranges(cell_strategy, max_rows=6, max_columns=3):
    return st.integers(1, max_rows).flatmap(lambda rows: st.integers(1, max_columns).flatmap(
        lambda columns: st.lists(st.lists(cell_strategy, min_size=columns, max_size=columns),
                                 min_size=rows, max_size=rows)))


def column_of(strategy, max_rows=12):
    return st.lists(strategy.map(lambda cell: [cell]), min_size=1, max_size=max_rows)


BGNBD_BLOCK = cdnow.BGNBD_BLOCK
GG_BLOCK = cdnow.GAMMA_GAMMA_BLOCK
SBG_BLOCK = [["gamma", 0.704], ["delta", 1.182]]
counts = st.integers(0, 8).map(float)
times = st.floats(0, 60)
days = st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2024, 12, 31)).map(
    lambda day: dt.datetime(day.year, day.month, day.day))

#: A plausible value per argument name, so that draws pass the input checks and reach the models.
PLAUSIBLE = {
    "params": st.sampled_from([BGNBD_BLOCK, SBG_BLOCK]),
    "bgnbd_params": st.just(BGNBD_BLOCK),
    "gg_params": st.just(GG_BLOCK),
    "frequency": column_of(counts),
    "recency": column_of(times),
    "T": column_of(times),
    "monetary": column_of(st.floats(1, 500)),
    "holdout_purchases": column_of(counts),
    "holdout_monetary": column_of(st.floats(0, 500)),
    "holdout_length": st.floats(1, 60),
    "customer_ids": column_of(st.sampled_from(["A", "B", "C", "00123", 1.0, 2.0])),
    "dates": column_of(days),
    "amounts": column_of(st.floats(0, 500)),
    "survivors": st.just([[1000.0], [631.0], [468.0], [382.0], [326.0]]),
    "values": column_of(st.floats(-100, 1000)),
    "periods": column_of(counts),
    "renewals": column_of(counts),
    "horizon": st.sampled_from([0.0, 1.0, 52.0, 1200.0, 1201.0, 52000.0, 1e9]),
    "max_count": st.sampled_from([1.0, 3.0, 7.0, 20.0, 1e6, 1e12]),
    "tiers": st.sampled_from([2.0, 3.0, 10.0, 11.0, 1e6, [[10.0], [100.0]]]),
    "period": st.sampled_from(["D", "W", "M", "Y", "Q", None]),
    "as_of": days,
    "end": days,
    "calibration_end": days,
    "observation_end": days,
}


def argument(name):
    drawn = st.one_of(cells, ranges(cells))
    return st.one_of(PLAUSIBLE[name], drawn) if name in PLAUSIBLE else drawn


def check_cell(cell, function_name, echoes_ids):
    """``echoes_ids``: the function returns the customer IDs it is given, whatever they are (TRUE too)."""
    if isinstance(cell, bool):
        assert echoes_ids, f"{function_name} returned a boolean cell {cell!r}"
    elif type(cell) in (float, int):
        assert math.isfinite(cell), f"{function_name} returned {cell!r}"
    elif isinstance(cell, str):
        if cell.startswith("#"):
            assert MESSAGE.match(cell), f"{function_name}: not a coded message: {cell!r}"
            assert not INTERNAL.search(cell), f"{function_name}: Python-internal text: {cell!r}"
            assert cell != UNEXPECTED_MESSAGE, f"{function_name} reached the last-resort handler (see the log)"
    else:
        assert isinstance(cell, (dt.date, dt.datetime)), f"{function_name} returned {type(cell).__name__} {cell!r}"


@pytest.mark.parametrize("function_name", sorted(FUNCTIONS))
def test_every_result_cell_is_a_number_blank_date_label_or_coded_message(function_name):
    function = FUNCTIONS[function_name]
    names = list(inspect.signature(function).parameters)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.fixed_dictionaries({name: argument(name) for name in names}))
    def run(arguments):
        result = function(**arguments)
        rows = result if isinstance(result, list) else [[result]]
        for row in rows:
            assert isinstance(row, list), f"{function_name} returned a row {row!r}"
            for cell in row:
                check_cell(cell, function_name, "customer_ids" in names)

    run()
