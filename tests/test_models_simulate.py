"""Simulators: reproducible, inside their window, and consistent with the fits."""

import pandas as pd
import pytest

from clv_xl.models import bgnbd, gamma_gamma
from clv_xl.models.bgnbd import BGNBDParams
from clv_xl.models.gamma_gamma import GammaGammaParams
from clv_xl.models.rfm import rfm_summary
from clv_xl.models.simulate import simulate_bgnbd_summary, simulate_transactions

BGNBD = BGNBDParams(r=0.5, alpha=8.0, a=0.7, b=3.0)
GG = GammaGammaParams(p=5.0, q=4.0, gamma=20.0)


def test_transactions_are_reproducible_and_inside_the_window():
    one = simulate_transactions(1000, "2024-01-01", "2024-12-31", BGNBD, GG, seed=1)
    two = simulate_transactions(1000, "2024-01-01", "2024-12-31", BGNBD, GG, seed=1)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns) == ["customer_id", "date", "amount"]
    assert one["date"].min() >= pd.Timestamp("2024-01-01")
    assert one["date"].max() <= pd.Timestamp("2024-12-31")
    assert one["customer_id"].nunique() == 1000  # everybody has a first purchase
    assert (one["amount"] > 0).all()


def test_summary_simulator_respects_the_definitions():
    summary = simulate_bgnbd_summary(10_000, BGNBD, 52.0, seed=3)
    assert (summary["recency"] <= summary["T"]).all()
    assert (summary.loc[summary["frequency"] == 0, "recency"] == 0).all()
    assert (summary.loc[summary["frequency"] > 0, "recency"] > 0).all()


def test_fits_on_a_simulated_log_recover_the_parameters():
    log = simulate_transactions(8000, "2022-01-01", "2023-12-31", BGNBD, GG, time_unit="W", seed=4)
    summary = rfm_summary(log["customer_id"], log["date"], log["amount"], as_of="2023-12-31", time_unit="W")
    fitted = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
    # 8,000 customers: standard errors of the log-parameters are ~3-7 %;
    # daily flooring and same-day merging add a small bias on top.
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(BGNBD, name), rel=0.2), name
    spend = gamma_gamma.fit(summary["frequency"], summary["monetary"])
    assert spend.mean_spend == pytest.approx(GG.mean_spend, rel=0.1)
