"""Shared fixtures: the public reference data sets kept in ``tests/data`` (see its README)."""

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

#: CI (``.ci/run`` sets HYPOTHESIS_PROFILE=ci) draws the same examples every run, so a submission
#: lands or not on its own code, not on a new random draw; a local run draws new examples each time.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REFERENCE_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the reference data (CDNOW log and summary, sBG survivors) inside the repo."""
    return REFERENCE_DATA


@pytest.fixture(scope="session")
def cdnow_summary(shared_data) -> pd.DataFrame:
    """Published CDNOW calibration summary (weeks): columns x, t_x, T, zbar, indexed by ID."""
    return pd.read_csv(shared_data / "cdnow_customers_summary_with_transactions.csv", index_col="ID")


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a test was skipped: every test must run on a fresh clone (CI included)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: every test must run on a fresh clone", red=True)
        session.exitstatus = 1
