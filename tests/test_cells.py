"""The column-at-a-time coercion and evaluation of clv_xl.excel.cells against the cell-by-cell rules."""

from __future__ import annotations

import datetime as dt
import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl import formula, udfs
from clv_xl.excel import cells, fit_cache
from clv_xl.models import sbg as sbg_model
from clv_xl.models.checks import require
from clv_xl.errors import CLVError, NumError

NUMBERS = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
CELLS = st.one_of(
    NUMBERS,
    st.integers(-1000, 1000),
    st.sampled_from([None, "", "  ", "abc", "20%", True, False, float("nan"), float("inf")]),
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 12, 31)),
    st.sampled_from([np.float64(2.5), np.int64(3)]),
)
COLUMNS = st.lists(CELLS, min_size=1, max_size=40).map(lambda values: [[value] for value in values])


def one_by_one(name, column):
    """The per-cell rule for every cell: (float or NaN, message or None)."""
    return [cells._number_or_message(name, row[0]) for row in column]


@settings(max_examples=200, deadline=None)
@given(COLUMNS)
def test_a_column_is_coerced_as_each_cell_alone(column):
    numbers = cells.numeric_grid("value", column)
    expected = one_by_one("value", column)
    assert numbers.floats.shape == (len(column), 1)
    assert numbers.messages == {row: message for row, (_, message) in enumerate(expected) if message is not None}
    usable = [row for row, (_, message) in enumerate(expected) if message is None]
    assert numbers.floats[usable, 0].tolist() == [expected[row][0] for row in usable]


@settings(max_examples=100, deadline=None)
@given(COLUMNS, st.lists(NUMBERS, min_size=1, max_size=40))
def test_a_range_evaluates_like_each_row_alone(column, lifespans):
    lifespans = [[value] for value in (lifespans * len(column))[: len(column)]]
    together = udfs.CLV_AVG(column, 6.0, lifespans)
    alone = [[udfs.CLV_AVG(value[0], 6.0, lifespan[0])] for value, lifespan in zip(column, lifespans)]
    assert together == alone if len(column) > 1 else together == alone[0][0]


def test_one_bad_value_costs_its_row_only():
    lifespans = [[3.0]] * 1000
    lifespans[617] = [-1.0]
    result = udfs.CLV_AVG([[50.0]] * 1000, 6.0, lifespans)
    assert result[617] == ["#NUM! lifespan_periods must be >= 0 (got -1)"]
    assert result[:617] + result[618:] == [[900.0]] * 999


def test_bad_rows_are_found_by_halving_not_row_by_row():
    calls = []

    def positive(value):
        calls.append(len(value))
        if (value < 0).any():
            raise NumError(f"value must be >= 0 (got {value[value < 0][0]:g})")
        return value * 2.0

    column = np.arange(1024.0)
    column[[5, 700]] = -1.0
    values, messages = cells._compute(positive, {"value": column})
    assert messages == {5: "#NUM! value must be >= 0 (got -1)", 700: "#NUM! value must be >= 0 (got -1)"}
    assert np.array_equal(np.delete(values, [5, 700]), 2.0 * np.delete(column, [5, 700]))
    assert len(calls) <= 2 * 2 * 11 + 1


def test_rows_a_check_names_are_computed_apart_whatever_their_number():
    calls = []

    def positive(value, rate):
        calls.append(len(value))
        require("rate", rate, rate > 0, "> 0")
        return value * rate

    rate = np.tile([0.1, 0.0, 0.2, -0.5], 50_000)  # half of 200,000 rows refused, two distinct refused rates
    values, messages = cells._compute(positive, {"value": np.ones(rate.size), "rate": rate})
    assert len(messages) == 100_000
    assert messages[1] == "#NUM! rate must be > 0 (got 0)" and messages[3] == "#NUM! rate must be > 0 (got -0.5)"
    assert np.array_equal(values[0::4], np.full(50_000, 0.1)) and np.isnan(values[1::4]).all()
    assert len(calls) <= 4  # all rows, each distinct refused row alone, the rest


@pytest.mark.parametrize("name, function, arguments", [
    ("CLV_CAC_RATIO", "cac_ratio", lambda zeros: ([[100.0]] * len(zeros), zeros)),
    ("CLV_PAYBACK", "cac_payback", lambda zeros: (zeros, [[100.0]] * len(zeros))),
    ("CLV_CHURN_RATE", "churn_rate", lambda zeros: (zeros, [[0.0]] * len(zeros))),
])
def test_many_divisions_by_zero_cost_a_few_calls(monkeypatch, name, function, arguments):
    zeros = [[0.0] if row % 10 == 0 else [float(row % 97 + 1)] for row in range(10_000)]
    calls = []
    pure = getattr(formula, function)
    monkeypatch.setattr(formula, function, lambda *args, **kwargs: calls.append(1) or pure(*args, **kwargs))
    result = getattr(udfs, name)(*arguments(zeros))
    assert all(row[0].startswith("#DIV/0! ") for row in result[::10])
    assert all(isinstance(row[0], float) for index, row in enumerate(result) if index % 10)
    assert len(calls) <= 3  # all rows, the one distinct refused row alone, the rest


def test_a_what_if_column_with_refused_rates_costs_a_few_calls():
    rates = [[rate] for rate in np.tile(np.arange(31) / 100, 1000).tolist()]  # 0% is refused when gamma <= 1
    result = udfs.CLV_DEL([["gamma", 0.704], ["delta", 1.182]], rates)
    assert result[0] == ["#NUM! discount_rate must be > 0 when gamma <= 1 (got 0 with gamma = 0.704): "
                         "the undiscounted expected lifetime is infinite"]
    assert result[31] == result[0] and result[1] == result[32] and isinstance(result[1][0], float)


def test_non_finite_results_get_a_message():
    with np.errstate(divide="ignore"):
        values, messages = cells._compute(lambda value: 1.0 / value, {"value": np.array([1.0, 0.0, 4.0])})
    assert messages == {1: cells.NOT_FINITE_RESULT}
    assert values[[0, 2]].tolist() == [1.0, 0.25]


def test_messages_broadcast_and_the_first_argument_wins():
    result = udfs.CLV_CHURN([[100.0, "x"]], [[None], [0.3]], 0.5)
    assert result == [
        ["", "#VALUE! revenue_per_period must be a number (got 'x')"],
        [60.0, "#VALUE! revenue_per_period must be a number (got 'x')"],
    ]


def test_ranges_must_be_rectangular():
    with pytest.raises(CLVError, match="rectangular"):
        cells.flat_cells([[1.0, 2.0], [3.0]])
    with pytest.raises(CLVError, match="rectangular"):
        cells.flat_cells([[[1.0]]])
    for ragged in ([[1.0], []], [[], [1.0, 2.0]], [[1.0], [2.0, 3.0], [4.0]], [[1.0], 2.0]):
        with pytest.raises(CLVError, match="rectangular"):
            cells.flat_cells(ragged)


def test_columns_rows_and_lists_flatten_row_by_row():
    assert cells.flat_cells([[1.0], [None], ["a"]]) == cells.Cells([1.0, None, "a"], (3, 1), frozenset({float, type(None), str}))
    assert cells.flat_cells([1.0, "ab", None]) == cells.Cells([1.0, "ab", None], (3, 1), frozenset({float, str, type(None)}))
    assert cells.flat_cells(["a", "b"]) == cells.Cells(["a", "b"], (2, 1), frozenset({str}))
    assert cells.flat_cells([[1.0, 2.0], [3.0, 4.0]]) == cells.Cells([1.0, 2.0, 3.0, 4.0], (2, 2), frozenset({float}))
    # a column of plain numbers is read in one pass; its types are then those a number column may hold
    assert cells.flat_cells([(1.0,), (2.0,)]) == cells.Cells([1.0, 2.0], (2, 1), cells.NUMBER_CELLS)
    assert cells.flat_cells(np.array([[1.5], [2.5]])) == cells.Cells([1.5, 2.5], (2, 1), cells.NUMBER_CELLS)
    assert cells.flat_cells([[3], [2.5]]) == cells.Cells([3, 2.5], (2, 1), cells.NUMBER_CELLS)  # Lite: ints


def test_booleans_and_numpy_numbers_are_not_taken_for_plain_numbers():
    grid = cells.numeric_grid("x", [[1.0], [True], [2]])
    assert grid.floats[[0, 2], 0].tolist() == [1.0, 2.0] and grid.messages == {1: "#VALUE! x must be a number (got True)"}
    assert cells.flat_cells([[np.float64(1.5)], [2.0]]).types == frozenset({np.float64, float})


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 12, 31)),
    st.floats(1, 60000),
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat),
), min_size=1, max_size=30))
def test_a_date_column_is_read_as_each_cell_alone(dates):
    days = cells.date_column("dates", [[value] for value in dates])
    assert days.tolist() == [cells.to_date(f"dates row {row}", value).item() for row, value in enumerate(dates, 1)]


def test_a_date_column_names_the_first_blank_then_the_first_bad_row():
    with pytest.raises(CLVError, match=r"dates has a blank cell \(row 3\)"):
        cells.date_column("dates", [[dt.datetime(2024, 1, 1)], ["x"], [None]])
    with pytest.raises(CLVError, match="dates row 2 must be a date"):
        cells.date_column("dates", [[dt.datetime(2024, 1, 1)], ["x"], [True]])


def test_summary_columns_drop_blank_rows_and_name_the_first_bad_cell():
    frequency, age = cells.summary_columns(frequency=[[1.0], [None], [2.0], [""]], T=[[5.0], [None], [7.0], [None]])
    assert frequency.tolist() == [1.0, 2.0] and age.tolist() == [5.0, 7.0]
    with pytest.raises(CLVError, match=r"^T row 2 is blank$"):
        cells.summary_columns(frequency=[[1.0], [3.0]], T=[[5.0], [None]])
    with pytest.raises(CLVError, match=r"^frequency row 3 must be a number \(got 'x'\)$"):
        cells.summary_columns(frequency=[[1.0], [3.0], ["x"]], T=[["y"], [5.0], [6.0]])


def test_the_fit_cache_keys_on_the_raw_cells_and_holds_small_keys():
    survivors = [[1000.0], [869.0], [743.0], [653.0], [593.0], [551.0], [517.0], [491.0]]
    fit_cache.CACHE.clear()
    first = fit_cache.cached_fit(sbg_model.fit, survivors=survivors)
    assert fit_cache.cached_fit(sbg_model.fit, survivors=[row[:] for row in survivors]) is first
    changed = survivors[:-1] + [[490.0]]
    assert fit_cache.cached_fit(sbg_model.fit, survivors=changed) is not first
    assert len(fit_cache.CACHE) == 2 and all(len(key[2]) == 20 for key in fit_cache.CACHE)


def test_the_garbage_collector_is_back_on_after_an_error():
    assert gc.isenabled()
    with pytest.raises(ValueError), cells.gc_paused():
        assert not gc.isenabled()
        raise ValueError("inside")
    assert gc.isenabled()


def test_an_int_beyond_any_double_gets_its_own_message():
    huge = 10 ** 400
    assert udfs.CLV_AVG([[huge], [5.0]], 6.0, 3.0) == [["#NUM! avg_purchase_value must be a finite number (got "
                                                       + str(huge)[:37] + "...)"], [90.0]]
    assert udfs.CLV_AVG([[huge], [5], ["x"]], 6.0, 3.0)[1:] == [[90.0], ["#VALUE! avg_purchase_value must be a number (got 'x')"]]
    assert udfs.CLV_FIT_BGNBD([[huge], [5.0]], [[1.0], [2.0]], [[3.0], [4.0]]).startswith("#NUM! frequency row 1")


DAYS = [[dt.datetime(2020, 1, 1)], [dt.datetime(2020, 2, 1)], [dt.datetime(2020, 3, 1)]]


def test_a_mixed_id_column_keeps_numbers_as_numbers_and_text_as_text():
    table = udfs.CLV_RFM([[1001.0], ["A17"], [1001.0]], DAYS, [[1.0], [2.0], [3.0]], None, "D")
    assert [row[0] for row in table[1:]] == [1001.0, "A17"]  # not the text "1001.0"
    assert table[1][1:3] == [1.0, 60.0]
    assert [row[0] for row in udfs.CLV_RFM([["00123"], ["123"], ["00123"]], DAYS, [[1.0], [2.0], [3.0]])[1:]] == [
        "00123", "123"]


def test_an_infinite_id_is_refused_with_its_row():
    for ids in ([[1001.0], [float("inf")], [1001.0]], [["A"], ["B"], [float("-inf")]]):
        message = udfs.CLV_RFM(ids, DAYS, [[1.0], [2.0], [3.0]])
        assert message.startswith("#NUM! customer_ids row ") and "must be text or a finite number" in message
