"""RFM summary and cohort table: the published CDNOW summary and hand-made logs."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl.errors import CLVError, ShapeError
from clv_xl.models.rfm import cohort_table, days_per_unit, days_since_epoch, rfm_summary


@pytest.fixture(scope="module")
def cdnow_log(shared_data) -> pd.DataFrame:
    raw = pd.read_csv(
        shared_data / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw


def test_cdnow_summary_matches_published_file(cdnow_log, cdnow_summary):
    summary = rfm_summary(
        cdnow_log["customer_id"], cdnow_log["date"], cdnow_log["amount"],
        as_of="1997-09-30", time_unit="W",
    )
    published = cdnow_summary
    assert list(summary.index) == list(published.index)
    assert (summary["frequency"] == published["x"]).all()
    # the file is rounded to 2 decimals
    assert np.abs(summary["recency"] - published["t_x"]).max() <= 0.005 + 1e-9
    assert np.abs(summary["T"] - published["T"]).max() <= 0.005 + 1e-9
    assert np.abs(summary["monetary"] - published["zbar"]).max() <= 0.005 + 1e-9


def small_log():
    return (
        ["a", "a", "a", "a", "b", "c"],
        ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-29", "2024-01-08", "2024-03-01"],
        [10.0, 5.0, 20.0, 40.0, 7.0, 99.0],
    )


def test_same_day_lines_merge_and_first_purchase_is_excluded():
    ids, dates, amounts = small_log()
    summary = rfm_summary(ids, dates, amounts, as_of="2024-02-12", time_unit="W")
    a = summary.loc["a"]
    assert a["frequency"] == 2  # 01-15 and 01-29; the two 01-01 lines are the first purchase
    assert a["recency"] == pytest.approx(4.0)  # 28 days
    assert a["T"] == pytest.approx(6.0)  # 42 days to as_of
    assert a["monetary"] == pytest.approx(30.0)  # mean of 20 and 40
    b = summary.loc["b"]
    assert (b["frequency"], b["recency"], b["monetary"]) == (0, 0.0, 0.0)
    assert "c" not in summary.index  # only bought after as_of


@pytest.mark.parametrize(
    "ids, customers",
    [
        ([3.0, 1.0, 3.0, 2.0], [1.0, 2.0, 3.0]),  # numbers, as Excel hands them over
        (["123", "00123", "b", "123"], ["00123", "123", "b"]),  # text: "00123" is not "123"
        (np.array([2, "b", 1, "a", 2], dtype=object), [1, 2, "a", "b"]),  # mixed Python objects: numbers first
    ],
)
def test_customers_are_sorted_and_kept_as_given(ids, customers):
    dates = pd.date_range("2024-01-01", periods=len(ids), freq="D")
    summary = rfm_summary(ids, dates, np.ones(len(ids)), time_unit="D")
    assert list(summary.index) == customers
    assert [type(customer) for customer in summary.index] == [type(customer) for customer in customers]
    first_line = {customer: list(ids).index(customer) for customer in customers}
    assert list(summary["T"]) == [len(ids) - 1 - first_line[customer] for customer in customers]


def test_time_units_are_explicit():
    assert days_per_unit("M") == 365.25 / 12
    assert days_per_unit("y") == 365.25
    ids, dates, amounts = small_log()
    days = rfm_summary(ids, dates, amounts, time_unit="D")
    years = rfm_summary(ids, dates, amounts, time_unit="Y")
    assert np.allclose(days["T"] / 365.25, years["T"])
    assert days.loc["a", "T"] == 60  # as_of defaults to the last date, 2024-03-01


def test_bad_inputs_name_the_argument():
    ids, dates, amounts = small_log()
    with pytest.raises(ShapeError, match="amounts"):
        rfm_summary(ids, dates, amounts[:-1])
    with pytest.raises(CLVError, match="time_unit"):
        rfm_summary(ids, dates, amounts, time_unit="Q")
    with pytest.raises(CLVError, match="as_of"):
        rfm_summary(ids, dates, amounts, as_of="2023-01-01")
    with pytest.raises(CLVError, match="dates must be dates"):
        rfm_summary(ids, [45000] * 6, amounts)


@pytest.mark.parametrize("unit", ["datetime64[s]", "datetime64[ns]", "datetime64[D]"])
def test_datetime64_dates_drop_the_time_of_day(unit):
    texts = ["1969-12-31T23:59", "1969-12-31T00:01", "1970-01-02T12:00", "2024-01-01T18:30", "2024-01-03T06:00"]
    days = days_since_epoch("dates", np.array(texts, dtype=unit))
    assert list(days) == [-1, -1, 1, 19723, 19725]  # floored to the day, never rounded
    assert list(days) == list(days_since_epoch("dates", pd.to_datetime(texts).to_pydatetime()))
    blank = np.array(texts, dtype=unit)
    blank[2] = np.datetime64("NaT")
    with pytest.raises(CLVError, match=r"^dates must not be blank \(row 3 is\)$"):
        days_since_epoch("dates", blank)


def test_cohort_table_shares():
    ids = ["a", "a", "a", "b", "c", "c"]
    dates = ["2024-01-05", "2024-02-20", "2024-02-21", "2024-01-30", "2024-02-02", "2024-03-09"]
    table = cohort_table(ids, dates, period="M")
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert list(table.index) == [jan, feb]
    assert table.loc[jan, 0] == 1.0 and table.loc[feb, 0] == 1.0
    assert table.loc[jan, 1] == 0.5  # a bought in February, b did not
    assert table.loc[jan, 2] == 0.0  # observed (March), nobody bought
    assert table.loc[feb, 1] == 1.0
    assert np.isnan(table.loc[feb, 2])  # April is not observed yet


def test_cohort_period_is_named_in_errors():
    with pytest.raises(CLVError, match=r"period must be one of D, W, M, Y \(got 'Q'\)"):
        cohort_table(["a"], ["2024-01-01"], period="Q")


def test_cohort_weeks_start_on_monday():
    table = cohort_table(["a", "a"], ["2024-01-07", "2024-01-08"], period="W")  # Sunday, Monday
    assert table.index[0] == pd.Timestamp("2024-01-01")  # a Monday
    assert table.loc[pd.Timestamp("2024-01-01"), 1] == 1.0


def naive_summary(ids, days, amounts, as_of_day, unit_days):
    """Per-customer loops straight from the definitions, for comparison."""
    spend_by_day = {}
    for customer, day, amount in zip(ids, days, amounts):
        if day <= as_of_day:
            spend_by_day.setdefault(customer, {}).setdefault(day, 0.0)
            spend_by_day[customer][day] += amount
    rows = {}
    for customer, by_day in spend_by_day.items():
        ordered = sorted(by_day)
        repeats = ordered[1:]
        rows[customer] = (
            len(repeats),
            (ordered[-1] - ordered[0]) / unit_days,
            (as_of_day - ordered[0]) / unit_days,
            sum(by_day[d] for d in repeats) / len(repeats) if repeats else 0.0,
        )
    return rows


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 60), st.floats(0.01, 500)), min_size=1, max_size=60
    ),
    st.integers(0, 70),
    st.sampled_from(["D", "W", "M", "Y"]),
)
def test_summary_matches_the_definitions(lines, as_of_offset, unit):
    start = pd.Timestamp("2023-12-25")
    ids = [f"c{c}" for c, _, _ in lines]
    dates = [start + pd.Timedelta(days=d) for _, d, _ in lines]
    amounts = [a for _, _, a in lines]
    if as_of_offset < min(d for _, d, _ in lines):
        return  # nothing observed yet: an error, tested elsewhere
    summary = rfm_summary(ids, dates, amounts, as_of=start + pd.Timedelta(days=as_of_offset), time_unit=unit)
    expected = naive_summary(ids, [d for _, d, _ in lines], amounts, as_of_offset, days_per_unit(unit))
    assert set(summary.index) == set(expected)
    for customer, (frequency, recency, age, monetary) in expected.items():
        row = summary.loc[customer]
        assert row["frequency"] == frequency
        assert row["recency"] == pytest.approx(recency)
        assert row["T"] == pytest.approx(age)
        assert row["monetary"] == pytest.approx(monetary)
