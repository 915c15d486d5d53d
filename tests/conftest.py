"""Shared fixtures: the public reference data sets in ``../shared/data``."""

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the reference data; skips the test when it is absent."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"reference data folder ../shared/data not found next to the project ({SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cdnow_summary(shared_data) -> pd.DataFrame:
    """Published CDNOW calibration summary (weeks): columns x, t_x, T, zbar, indexed by ID."""
    return pd.read_csv(shared_data / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
