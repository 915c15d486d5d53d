"""CLV from BG/NBD x Gamma-Gamma: discounting conventions and limits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl.errors import NumError
from clv_xl.models import bgnbd, gamma_gamma
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.clv import customer_lifetime_value, customer_lifetime_value_interval, step_discount_factors
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.uncertainty import delta_method_interval
import cdnow

BGNBD = BGNBDParams(**cdnow.BGNBD)  # weeks, CDNOW
GG = GammaGammaParams(**cdnow.GAMMA_GAMMA)
CUSTOMERS = dict(frequency=[0, 2, 7, 200], recency=[0.0, 30.43, 20.0, 39.0], T=[38.86, 38.86, 38.86, 40.0],
                 monetary=[0.0, 22.35, 40.0, 15.0])


def clv(rate, horizon=52.0, step=1.0, margin=0.3, time_unit="W", params=BGNBD, **customers):
    customers = customers or CUSTOMERS
    return customer_lifetime_value(params, GG, **customers, horizon=horizon, step=step, time_unit=time_unit,
                                   annual_discount_rate=rate, margin=margin)


def test_zero_discount_is_the_undiscounted_product():
    c = CUSTOMERS
    purchases = bgnbd.expected_purchases(BGNBD, c["frequency"], c["recency"], c["T"], 52.0)
    spend = gamma_gamma.expected_spend(GG, c["frequency"], c["monetary"])
    assert np.allclose(clv(0.0), 0.3 * spend * purchases, rtol=1e-10)


def test_one_step_is_discounted_at_its_end():
    c = CUSTOMERS
    purchases = bgnbd.expected_purchases(BGNBD, c["frequency"], c["recency"], c["T"], 52.0)
    spend = gamma_gamma.expected_spend(GG, c["frequency"], c["monetary"])
    years = 52 * 7 / 365.25
    assert np.allclose(clv(0.1, step=52.0), 0.3 * spend * purchases / 1.1**years, rtol=1e-10)


def test_weekly_steps_discount_each_week_from_its_end():
    ends, factors = step_discount_factors(52.0, 1.0, "W", 0.1)
    assert ends[0] == 1.0 and ends[-1] == 52.0
    assert factors[0] == pytest.approx(1.1 ** -(7 / 365.25))
    assert factors[-1] == pytest.approx(1.1 ** -(364 / 365.25))
    c = CUSTOMERS
    cumulative = np.array([bgnbd.expected_purchases(BGNBD, c["frequency"], c["recency"], c["T"], t) for t in ends])
    steps = np.diff(cumulative, axis=0, prepend=0.0)
    spend = gamma_gamma.expected_spend(GG, c["frequency"], c["monetary"])
    assert np.allclose(clv(0.1), 0.3 * spend * (factors @ steps), rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 0.49), st.floats(0.001, 0.5))
def test_clv_falls_with_the_discount_rate(rate, extra):
    lower, higher = clv(rate), clv(rate + extra)
    assert np.all(higher < lower) and np.all(higher > 0)


def test_the_time_unit_does_not_change_the_value():
    c = CUSTOMERS
    in_days = dict(frequency=c["frequency"], monetary=c["monetary"],
                   recency=np.array(c["recency"]) * 7, T=np.array(c["T"]) * 7)
    days_model = BGNBDParams(BGNBD.r, BGNBD.alpha * 7, BGNBD.a, BGNBD.b)
    assert np.allclose(clv(0.1, horizon=364.0, step=7.0, time_unit="D", params=days_model, **in_days),
                       clv(0.1), rtol=1e-9)


def test_repeated_customers_get_equal_values():
    values = clv(0.1, frequency=[3, 3, 3], recency=[10.0, 10.0, 12.0], T=[30.0, 30.0, 30.0], monetary=[20.0, 20.0, 20.0])
    assert values[0] == values[1] != values[2]


def test_errors_name_the_argument():
    with pytest.raises(NumError, match="horizon must be a whole number of steps"):
        clv(0.1, horizon=10.5, step=1.0)
    with pytest.raises(NumError, match=r"margin must be between 0 and 1 \(e.g. 0.3 for 30%\) \(got 30\)"):
        clv(0.1, margin=30)
    with pytest.raises(NumError, match="annual_discount_rate must be >= 0"):
        clv(-0.1)
    with pytest.raises(NumError, match="q must be > 1"):
        customer_lifetime_value(BGNBD, GammaGammaParams(1, 0.5, 1), 1, 1, 2, 10, horizon=4)


def test_a_runaway_horizon_on_many_distinct_customers_is_refused_not_frozen():
    # 100,000 distinct ages x 1,200 weeks would take minutes: refused at once, with the way out.
    ages = np.linspace(1.0, 104.0, 100_000)
    customers = dict(frequency=np.ones_like(ages), recency=ages / 2, T=ages, monetary=np.full_like(ages, 20.0))
    with pytest.raises(NumError, match=r"horizon is too long for 100,000 distinct customers \(1,200 periods; "
                                       r"at most 600 here\)"):
        clv(0.1, horizon=1200.0, **customers)
    few = {name: values[:1000] for name, values in customers.items()}
    assert np.isfinite(clv(0.1, horizon=1200.0, **few)).all()  # the same horizon for 1,000 customers


def test_without_discounting_the_horizon_is_one_evaluation_whatever_its_steps(monkeypatch):
    calls = []
    expected_if_alive = bgnbd.expected_if_alive
    monkeypatch.setattr(bgnbd, "expected_if_alive", lambda *args: calls.append(args[-1]) or expected_if_alive(*args))
    ages = np.linspace(1.0, 104.0, 100_000)  # the runaway horizon above, undiscounted: no work to refuse
    customers = dict(frequency=np.ones_like(ages), recency=ages / 2, T=ages, monetary=np.full_like(ages, 20.0))
    values = clv(0.0, horizon=1200.0, **customers)
    assert calls == [1200.0]
    purchases = bgnbd.expected_purchases(BGNBD, customers["frequency"], customers["recency"], ages, 1200.0)
    spend = gamma_gamma.expected_spend(GG, customers["frequency"], customers["monetary"])
    assert np.allclose(values, 0.3 * spend * purchases, rtol=1e-12)


def test_the_interval_reuses_the_purchases_and_equals_the_plain_delta_method(monkeypatch):
    fitted_bg = BGNBDParams(**cdnow.BGNBD, covariance=np.diag([0.01, 0.3, 0.2, 0.7]) ** 2)
    fitted_gg = GammaGammaParams(**cdnow.GAMMA_GAMMA, covariance=np.diag([0.3, 0.1, 1.0]) ** 2)
    settings = dict(horizon=52.0, annual_discount_rate=0.1, margin=0.3)
    plain = delta_method_interval(
        lambda bg, gg: customer_lifetime_value(bg, gg, **CUSTOMERS, **settings), (fitted_bg, fitted_gg))
    calls = []
    expected_if_alive = bgnbd.expected_if_alive
    monkeypatch.setattr(bgnbd, "expected_if_alive", lambda *args: calls.append(1) or expected_if_alive(*args))
    reused = customer_lifetime_value_interval(fitted_bg, fitted_gg, **CUSTOMERS, **settings)
    for ours, theirs in zip(reused, plain):
        assert np.array_equal(ours, theirs)
    assert len(calls) == 9 * 52  # the fitted and the 8 shifted BG/NBD parameter sets, 52 steps each
