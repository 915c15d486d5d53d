"""The Refresh macro's plan, on plain data: resizes outputs, never touches inputs."""

import datetime as dt
import re

from clv_xl import layout, macros

NOW = dt.datetime(2026, 11, 22, 10, 30)


def plan_for(customers, previous_last_row=201, channels=("Email", "Social")):
    ids = [f"C{number}" for number in range(customers)] + [None]
    names = [channels[number % len(channels)] for number in range(customers)] + [None]
    return macros.refresh_plan(ids, names, previous_last_row, NOW)


def test_refresh_resizes_every_output_to_a_pasted_table_of_5000_rows():
    plan = plan_for(5000)
    assert plan.cells["I2"] == "=CLV_AVG(C2:C5001,D2:D5001,E2:E5001,F2:F5001,0,$P$2)"
    assert plan.cells["M2"] == "=CLV_SEGMENT(I2:I5001)"
    assert "$M$2:$M$5001" in plan.cells[f"P{layout.TIER_TITLE_ROW + 2}"]
    assert plan.status == "Refreshed 5,000 customers, 2 channels (Email, Social) at 2026-11-22 10:30"


def test_refresh_clears_rows_left_over_from_a_longer_table():
    assert plan_for(50, previous_last_row=201).clear[0] == "I2:M201"
    assert plan_for(500, previous_last_row=201).clear[0] == "I2:M501"


def test_refresh_writes_only_outside_the_users_input_columns():
    plan = plan_for(300)
    written = list(plan.cells) + [ref for area in plan.clear for ref in area.split(":")] + [layout.STATUS_CELL]
    columns = {re.match(r"[A-Z]+", address).group() for address in written}
    assert columns.isdisjoint(layout.INPUT_HEADERS)


def test_the_table_ends_at_the_first_blank_id_and_channels_are_listed_once():
    assert macros.count_customers(["C1", "C2", None, "C4"]) == 2
    assert macros.count_customers(["C1", "  ", "C3"]) == 1
    assert macros.distinct_channels(["Email", None, "Social", "Email", " "]) == ["Email", "Social"]


def test_an_empty_table_gives_a_plan_that_still_names_the_first_row():
    plan = plan_for(0)
    assert plan.cells["I2"].startswith("=CLV_AVG(C2:C2,")
    assert plan.status.startswith("Refreshed 0 customers")


# --- Load CSV -------------------------------------------------------------------------------

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from clv_xl.errors import CLVError  # noqa: E402


def write_csv(tmp_path, text):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_the_first_three_columns_and_resizes_the_prediction(tmp_path):
    path = write_csv(tmp_path, "customer,date,amount,note\nA,2025-01-05,10.5,x\nA,2025-02-01,20,y\n"
                               "B,2025-03-01,7,z\nC,2026-02-01,9,after as-of\n")
    frame = macros.read_transactions(path)
    plan = macros.load_plan(frame, pd.Timestamp(2025, 12, 31), 3077, NOW)
    assert plan.rows[0][0] == "A" and plan.rows[0][2] == 10.5 and len(plan.rows) == 4
    assert plan.clear == "A2:C3077"  # the old, longer table is cleared
    prediction = {address: formula for (sheet, address), formula in plan.formulas.items()
                  if sheet == layout.PREDICTION_SHEET}
    rfm = prediction[f"A{layout.RFM_ANCHOR_ROW}"]
    assert "Transactions!$A$2:$A$5" in rfm
    assert plan.formulas[(layout.TRANSACTIONS_SHEET, layout.COHORT_ANCHOR)] == '=CLV_COHORT($A$2:$A$5,$B$2:$B$5,"M")'
    first = layout.RFM_ANCHOR_ROW + 1
    assert prediction[f"G{first}"].endswith(f"B{first}:B{first + 1},C{first}:C{first + 1},D{first}:D{first + 1})")
    assert plan.status == "Loaded 4 order lines of 2 customers at 2026-11-22 10:30"


def test_load_csv_names_the_row_and_value_it_cannot_read(tmp_path):
    path = write_csv(tmp_path, "customer,date,amount\nA,2025-01-05,10\nB,yesterday,5\n")
    with pytest.raises(CLVError, match=r"CSV row 3: date must be a date \(got 'yesterday'\)"):
        macros.read_transactions(path)
    with pytest.raises(CLVError, match="cannot read the CSV file"):
        macros.read_transactions(tmp_path / "missing.csv")


def test_load_plan_never_writes_outside_its_own_ranges(tmp_path):
    frame = macros.read_transactions(write_csv(tmp_path, "c,d,a\nA,2025-01-05,10\n"))
    plan = macros.load_plan(frame, None, 1, NOW)
    user_settings = {layout.AS_OF_CELL, layout.PERIOD_CELL, layout.HORIZON_CELL,
                     layout.DISCOUNT_YEAR_CELL, layout.MARGIN_CELL}
    assert user_settings.isdisjoint(address for sheet, address in plan.formulas)
    assert plan.clear.startswith("A2:C")
