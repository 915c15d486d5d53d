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
    assert plan.cells["I2"] == "=CLV_AVG(C2:C5001,D2:D5001,E2:E5001,F2:F5001,$P$2)"
    assert plan.cells["M2"] == "=CLV_SEGMENT(I2:I5001)"
    assert "$M$2:$M$5001" in plan.cells[f"P{layout.TIER_TITLE_ROW + 2}"]
    assert plan.status == "Refreshed 5,000 customers, 2 channels (Email, Social) at 2026-11-22 10:30"


def test_refresh_clears_rows_left_over_from_a_longer_table():
    assert plan_for(50, previous_last_row=201).clear[0] == "I2:M201"
    assert plan_for(500, previous_last_row=201).clear[0] == "I2:M501"


def test_refresh_writes_only_outside_the_users_input_columns():
    plan = plan_for(300)
    written = list(plan.cells) + list(plan.texts) + [ref for area in plan.clear for ref in area.split(":")] + [layout.STATUS_CELL]
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


RISKY_TEXTS = ('=HYPERLINK("x")', "+SUM(1)", "-1+1", "@A1", "00123", "1E5", "3-1")


def test_channel_names_are_written_as_text_never_inside_a_formula():
    plan = plan_for(40, channels=RISKY_TEXTS)
    first = layout.CHANNEL_TITLE_ROW + 2
    assert [plan.texts[f"O{row}"] for row in range(first, first + len(RISKY_TEXTS))] == [
        "'" + name for name in RISKY_TEXTS]
    assert plan.cells[f"P{first}"] == f"=COUNTIF($B$2:$B$41,O{first})"  # the formula refers to the cell
    assert not any(name in formula for name in RISKY_TEXTS for formula in plan.cells.values())
    assert set(plan.texts).isdisjoint(plan.cells)
    assert plan.texts[f"O{layout.CHANNEL_TITLE_ROW + 1}"] == "'Channel"


def test_as_text_keeps_anything_text():
    assert [macros.as_text(text) for text in RISKY_TEXTS] == ["'" + text for text in RISKY_TEXTS]
    assert macros.as_text(123) == "'123"


# --- Load CSV -------------------------------------------------------------------------------

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from clv_xl.errors import CLVError  # noqa: E402
from clv_xl.transactions import read_transactions  # noqa: E402


def read_csv(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode(encoding))
    return read_transactions(path)


def test_load_csv_reads_the_first_three_columns_and_resizes_the_prediction(tmp_path):
    frame, read_format = read_csv(tmp_path, "customer,date,amount,note\nA,2025-01-05,10.5,x\nA,2025-02-01,20,y\n"
                                            "B,2025-03-01,7,z\nC,2026-02-01,9,after as-of\n")
    plan = macros.load_plan(frame, read_format, pd.Timestamp(2025, 12, 31), 3077, NOW)
    assert plan.rows[0][1:] == [dt.datetime(2025, 1, 5), 10.5] and len(plan.rows) == 4
    assert plan.clear == "A2:C3077"  # the old, longer table is cleared
    prediction = {address: formula for (sheet, address), formula in plan.formulas.items()
                  if sheet == layout.PREDICTION_SHEET}
    rfm = prediction[f"A{layout.RFM_ANCHOR_ROW}"]
    assert "Transactions!$A$2:$A$5" in rfm
    assert plan.formulas[(layout.TRANSACTIONS_SHEET, layout.COHORT_ANCHOR)] == '=CLV_COHORT($A$2:$A$5,$B$2:$B$5,"M")'
    first = layout.RFM_ANCHOR_ROW + 1
    assert prediction[f"G{first}"].endswith(f"B{first}:B{first + 1},C{first}:C{first + 1},D{first}:D{first + 1})")
    assert plan.status == ("Loaded 4 order lines of 2 customers at 2026-11-22 10:30 "
                           "(commas, decimal points, dates year-month-day, UTF-8)")


def test_load_csv_says_which_dutch_format_it_read(tmp_path):
    frame, read_format = read_csv(tmp_path, "klant;datum;bedrag\n00123;3-1-2025;€ 12,50\n123;13-1-2025;1.234,56\n",
                                  encoding="cp1252")
    plan = macros.load_plan(frame, read_format, None, 1, NOW)
    assert plan.rows == [["'00123", dt.datetime(2025, 1, 3), 12.5], ["'123", dt.datetime(2025, 1, 13), 1234.56]]
    assert plan.status.endswith("(semicolons, decimal commas and thousands dots, dates day-month-year, "
                                "Windows-1252)")


def test_loaded_ids_are_written_as_text_whatever_they_look_like(tmp_path):
    lines = "".join(f'"{text.replace(chr(34), chr(34) * 2)}",2025-01-05,1\n' for text in RISKY_TEXTS)
    frame, read_format = read_csv(tmp_path, "customer,date,amount\n" + lines)
    plan = macros.load_plan(frame, read_format, None, 1, NOW)
    assert [row[0] for row in plan.rows] == ["'" + text for text in RISKY_TEXTS]
    assert all(isinstance(text, str) and text.startswith("'") for text in plan.texts.values())
    assert not any(text in formula for text in RISKY_TEXTS for formula in plan.formulas.values())


def test_load_plan_never_writes_outside_its_own_ranges(tmp_path):
    frame, read_format = read_csv(tmp_path, "c,d,a\nA,2025-01-05,10\n")
    plan = macros.load_plan(frame, read_format, None, 1, NOW)
    user_settings = {layout.AS_OF_CELL, layout.PERIOD_CELL, layout.HORIZON_CELL,
                     layout.DISCOUNT_YEAR_CELL, layout.MARGIN_CELL}
    written = {address for sheet, address in [*plan.formulas, *plan.texts]}
    assert user_settings.isdisjoint(written)
    assert plan.clear.startswith("A2:C")


def test_the_as_of_cell_gives_a_message_not_a_traceback():
    assert macros.as_of_setting(None) is None and macros.as_of_setting("  ") is None
    assert macros.as_of_setting(dt.datetime(2025, 12, 31)) == pd.Timestamp(2025, 12, 31)
    assert macros.as_of_setting("31-12-2025") == pd.Timestamp(2025, 12, 31)
    assert macros.as_of_setting(45657.0) == pd.Timestamp(2024, 12, 31)
    with pytest.raises(CLVError, match=r"^Prediction!B3 \(as of\): date must be a date such as .*\(got 'gisteren'\)"):
        macros.as_of_setting("gisteren")
    with pytest.raises(CLVError, match="set the date order cell Transactions!F5 to day-month or month-day"):
        macros.as_of_setting("3-1-2025")
    assert macros.as_of_setting("3-1-2025", "month-day") == pd.Timestamp(2025, 3, 1)
