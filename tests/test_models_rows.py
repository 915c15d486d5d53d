"""Work once per distinct row: the grouping is exact, and skipped only when the leading rows never repeat."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl.models import bgnbd
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.rows import MERGE_SAMPLE, distinct_rows, repeats_in_sample
import cdnow

BGNBD = BGNBDParams(**cdnow.BGNBD)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([1.0, 2.5, 38.86])), min_size=1, max_size=50))
def test_each_row_is_its_distinct_row(rows):
    x, age = (np.array(column, dtype=float) for column in zip(*rows))
    codes, (x_distinct, age_distinct) = distinct_rows(x, age)
    assert np.array_equal(x_distinct[codes], x) and np.array_equal(age_distinct[codes], age)
    assert len(set(zip(x_distinct, age_distinct))) == len(x_distinct) == len(set(rows))


def test_rows_that_never_repeat_are_not_grouped():
    age = np.linspace(1.0, 104.0, 3 * MERGE_SAMPLE)  # continuous ages: all different
    x = np.zeros_like(age)
    codes, (x_distinct, age_distinct) = distinct_rows(x, age)
    assert not repeats_in_sample(x, age)
    assert np.array_equal(codes, np.arange(age.size)) and np.array_equal(age_distinct, age)


def test_a_repeat_in_a_second_column_alone_is_no_repeat():
    x = np.array([1.0, 1.0, 2.0])
    assert not repeats_in_sample(x, np.array([5.0, 6.0, 5.0])) and repeats_in_sample(x)


def test_grouped_and_ungrouped_customers_get_the_values_computed_one_by_one():
    rng = np.random.default_rng(7)
    size = 2 * MERGE_SAMPLE
    x = rng.integers(0, 6, size).astype(float)
    continuous_age = rng.uniform(1.0, 60.0, size)  # all different: not grouped
    whole_days = np.ceil(continuous_age * 7) / 7  # day-granular: grouped
    for age in (continuous_age, whole_days):
        recency = np.minimum(continuous_age * rng.uniform(0.0, 1.0, size) * (x > 0), age)
        together = bgnbd.expected_purchases(BGNBD, x, recency, age, 52.0)
        one_by_one = [bgnbd.expected_purchases(BGNBD, *row, 52.0) for row in zip(x[:100], recency[:100], age[:100])]
        assert np.allclose(together[:100], np.ravel(one_by_one), rtol=1e-12)
