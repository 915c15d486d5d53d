"""The Refresh macro's plan, on plain data: resizes outputs, never touches inputs."""

import datetime as dt
import re

from clv_xl.workbook import layout, macros

NOW = dt.datetime(2026, 11, 22, 10, 30)


def plan_for(customers, previous_last_row=201, channels=("Email", "Social")):
    ids = [f"C{number}" for number in range(customers)] + [None]
    names = [channels[number % len(channels)] for number in range(customers)] + [None]
    return macros.refresh_plan(ids, names, previous_last_row, NOW)


def test_refresh_resizes_every_output_to_a_pasted_table_of_5000_rows():
    plan = plan_for(5000)
    assert plan.cells[f"{layout.CLV_COLUMN}{layout.FIRST_ROW}"] == "=CLV_AVG(C2:C5001,D2:D5001,E2:E5001,F2:F5001,$P$2)"
    assert plan.cells[f"{layout.TIER_COLUMN}{layout.FIRST_ROW}"] == "=CLV_SEGMENT(I2:I5001)"
    count = layout.summary_column(layout.CUSTOMER_SUMMARY_COLUMN, "count")
    assert "$M$2:$M$5001" in plan.cells[f"{count}{layout.TIER_TITLE_ROW + 2}"]
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
    assert plan.cells[f"{layout.CLV_COLUMN}{layout.FIRST_ROW}"].startswith("=CLV_AVG(C2:C2,")
    assert plan.status.startswith("Refreshed 0 customers")


RISKY_TEXTS = ('=HYPERLINK("x")', "+SUM(1)", "-1+1", "@A1", "00123", "1E5", "3-1")


def test_channel_names_are_written_as_text_never_inside_a_formula():
    plan = plan_for(40, channels=RISKY_TEXTS)
    first = layout.CHANNEL_TITLE_ROW + 2
    key, count = layout.CUSTOMER_SUMMARY_COLUMN, layout.summary_column(layout.CUSTOMER_SUMMARY_COLUMN, "count")
    assert [plan.texts[f"{key}{row}"] for row in range(first, first + len(RISKY_TEXTS))] == [
        "'" + name for name in RISKY_TEXTS]
    assert plan.cells[f"{count}{first}"] == f"=COUNTIF($B$2:$B$41,O{first})"  # the formula refers to the cell
    assert not any(name in formula for name in RISKY_TEXTS for formula in plan.cells.values())
    assert set(plan.texts).isdisjoint(plan.cells)
    assert plan.texts[f"{key}{layout.CHANNEL_TITLE_ROW + 1}"] == "'Channel"


def test_as_text_keeps_anything_text():
    assert [macros.as_text(text) for text in RISKY_TEXTS] == ["'" + text for text in RISKY_TEXTS]
    assert macros.as_text(123) == "'123"


# --- Load CSV -------------------------------------------------------------------------------

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from clv_xl.errors import CLVError  # noqa: E402
from clv_xl.transactions import observed_customers, orders_from_cells, read_transactions  # noqa: E402


def read_csv(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode(encoding))
    return read_transactions(path)


#: The template's date settings: as of 2025-12-31, calibration to 2025-08-31, holdout to 2025-12-31.
TEMPLATE_DATES = macros.DateSettings(pd.Timestamp(2025, 12, 31), pd.Timestamp(2025, 8, 31),
                                     pd.Timestamp(2025, 12, 31))
BLANK_DATES = macros.DateSettings(None, None, None)


def test_load_csv_reads_the_first_three_columns_and_resizes_the_prediction(tmp_path):
    frame, read_format = read_csv(tmp_path, "customer,date,amount,note\nA,2025-01-05,10.5,x\nA,2025-02-01,20,y\n"
                                            "B,2025-09-01,7,z\nC,2026-02-01,9,after as-of\n")
    plan = macros.load_plan(frame, read_format.details(), TEMPLATE_DATES, NOW, 3077)
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
                           "(commas, decimal points, dates year-month-day, UTF-8); "
                           "validation: 1 customers calibrated to 2025-08-31, holdout to 2025-12-31")


def test_load_csv_says_which_dutch_format_it_read(tmp_path):
    frame, read_format = read_csv(tmp_path, "klant;datum;bedrag\n00123;3-1-2025;€ 12,50\n123;13-1-2025;1.234,56\n",
                                  encoding="cp1252")
    plan = macros.load_plan(frame, read_format.details(), BLANK_DATES, NOW, 1)
    assert plan.rows == [["'00123", dt.datetime(2025, 1, 3), 12.5], ["'123", dt.datetime(2025, 1, 13), 1234.56]]
    assert "(semicolons, decimal commas and thousands dots, dates day-month-year, Windows-1252)" in plan.status


def test_loaded_ids_are_written_as_text_whatever_they_look_like(tmp_path):
    lines = "".join(f'"{text.replace(chr(34), chr(34) * 2)}",2025-01-05,1\n' for text in RISKY_TEXTS)
    frame, read_format = read_csv(tmp_path, "customer,date,amount\n" + lines)
    plan = macros.load_plan(frame, read_format.details(), BLANK_DATES, NOW, 1)
    assert [row[0] for row in plan.rows] == ["'" + text for text in RISKY_TEXTS]
    assert all(isinstance(text, str) and text.startswith("'") for text in plan.texts.values())
    assert not any(text in formula for text in RISKY_TEXTS for formula in plan.formulas.values())


#: Every input and setting cell of the sheets a load writes to, by sheet.
SETTING_CELLS = {
    layout.PREDICTION_SHEET: {layout.AS_OF_CELL, layout.PERIOD_CELL, layout.HORIZON_CELL,
                              layout.DISCOUNT_YEAR_CELL, layout.MARGIN_CELL},
    layout.VALIDATION_SHEET: {layout.CALIBRATION_END_CELL, layout.OBSERVATION_END_CELL,
                              layout.VALIDATION_PERIOD_CELL, layout.VALIDATION_HORIZON_CELL,
                              layout.VALIDATION_MARGIN_CELL, layout.VALIDATION_DISCOUNT_CELL},
    layout.TRANSACTIONS_SHEET: {layout.CSV_PATH_CELL, layout.DATE_ORDER_CELL},
}


def ends_of(pattern, formulas):
    """The last rows of every range ``pattern`` finds in ``formulas`` (its last group is the row)."""
    return {int(match.groups()[-1]) for formula in formulas for match in re.finditer(pattern, formula)}


def test_a_loaded_file_of_n_lines_resizes_every_range_to_them_and_writes_no_setting(tmp_path):
    # 9 lines of 5 customers: 3 first buy by the calibration end (Aug 31), 4 by the as-of date (Dec 31)
    lines = ["A,2025-01-05,10", "A,2025-03-01,20", "B,2025-02-01,5", "C,2025-08-31,7", "C,2025-10-01,8",
             "D,2025-09-15,9", "A,2025-11-30,12", "E,2026-01-10,4", "B,2025-12-01,6"]
    frame, read_format = read_csv(tmp_path, "c,d,a\n" + "\n".join(lines) + "\n")
    plan = macros.load_plan(frame, read_format.details(), TEMPLATE_DATES, NOW, 3077)
    by_sheet = {sheet: {address: formula for (where, address), formula in plan.formulas.items() if where == sheet}
                for sheet in SETTING_CELLS}
    assert set(by_sheet[layout.PREDICTION_SHEET]) >= set(layout.prediction_formulas(1, 1))
    assert set(by_sheet[layout.VALIDATION_SHEET]) == set(layout.validation_formulas(1, 1, 1))
    assert set(by_sheet[layout.TRANSACTIONS_SHEET]) == {layout.COHORT_ANCHOR}
    every_formula = list(plan.formulas.values())
    assert ends_of(r"\$([ABC])\$2:\$\1\$(\d+)", every_formula) == {len(lines) + 1}  # transactions, all sheets
    readers = [formula for formula in every_formula if "$A$2:" in formula]
    assert {formula.split("(")[0] for formula in readers} == {"=CLV_RFM", "=CLV_HOLDOUT", "=CLV_TRACKING",
                                                              "=CLV_COHORT"}
    first = layout.RFM_ANCHOR_ROW + 1
    assert ends_of(rf"([A-Z])\$?{first}:\$?\1\$?(\d+)", by_sheet[layout.PREDICTION_SHEET].values()) == {first + 3}
    first = layout.HOLDOUT_ANCHOR_ROW + 1
    assert ends_of(rf"\$([A-Z])\${first}:\$\1\$(\d+)", by_sheet[layout.VALIDATION_SHEET].values()) == {first + 2}
    for sheet, settings in SETTING_CELLS.items():
        written = {address for where, address in [*plan.formulas, *plan.texts] if where == sheet}
        assert settings.isdisjoint(written), sheet
    assert plan.clear == "A2:C3077" and len(plan.rows) == len(lines)  # the lines go only to A:C


def test_the_status_says_when_the_validation_dates_miss_the_loaded_orders_and_which_dates_fit(tmp_path):
    frame, _ = read_csv(tmp_path, "c,d,a\nA,2023-01-01,1\nB,2023-06-01,2\nA,2023-10-01,3\n")
    suggestion = "set Validation!B3:B4 to dates in the orders, e.g. 2023-07-02 and 2023-10-01, then load again"
    assert macros.validation_note(frame, TEMPLATE_DATES) == (
        "validation: the calibration end 2025-08-31 is not before the last order (2023-10-01), so the holdout "
        "has no orders; " + suggestion)
    early = macros.DateSettings(None, pd.Timestamp(2022, 12, 31), pd.Timestamp(2023, 12, 31))
    assert macros.validation_note(frame, early).startswith(
        "validation: the calibration end 2022-12-31 is before the first order (2023-01-01); set")
    backwards = macros.DateSettings(None, pd.Timestamp(2023, 8, 31), pd.Timestamp(2023, 8, 1))
    assert "the observation end 2023-08-01 is not after the calibration end 2023-08-31" in macros.validation_note(
        frame, backwards)
    assert macros.validation_note(frame, BLANK_DATES) == (
        "validation: the calibration end or the observation end is blank; " + suggestion)
    fits = macros.DateSettings(None, pd.Timestamp(2023, 7, 2), pd.Timestamp(2023, 10, 1))
    assert macros.validation_note(frame, fits) == ("validation: 2 customers calibrated to 2023-07-02, "
                                                   "holdout to 2023-10-01")


def test_customers_are_counted_by_days_as_the_functions_read_dates():
    frame = orders_from_cells([["A", dt.datetime(2025, 8, 31, 14, 30), 1], ["B", dt.datetime(2025, 9, 1), 1]])
    assert observed_customers(frame, pd.Timestamp(2025, 8, 31)) == 1
    assert observed_customers(frame, None) == 2


def test_the_date_cells_give_a_message_not_a_traceback():
    as_of = "Prediction!B3 (as of)"
    assert macros.date_setting(None, as_of) is None and macros.date_setting("  ", as_of) is None
    assert macros.date_setting(dt.datetime(2025, 12, 31), as_of) == pd.Timestamp(2025, 12, 31)
    assert macros.date_setting("31-12-2025", as_of) == pd.Timestamp(2025, 12, 31)
    assert macros.date_setting(45657.0, as_of) == pd.Timestamp(2024, 12, 31)
    with pytest.raises(CLVError, match=r"^Prediction!B3 \(as of\): date must be a date such as .*\(got 'gisteren'\)"):
        macros.date_setting("gisteren", as_of)
    with pytest.raises(CLVError, match="set the date order cell Transactions!F5 to day-month or month-day"):
        macros.date_setting("3-1-2025", as_of)
    assert macros.date_setting("3-1-2025", as_of, "month-day") == pd.Timestamp(2025, 3, 1)


# --- pasted order lines (the xlwings Lite script) --------------------------------------------

class FakeRange:
    """A cell or range of :class:`FakeBook`: values read from the sheet, writes recorded."""

    def __init__(self, sheet, address):
        self.sheet, self.address = sheet, address

    def options(self, **_):
        return self

    @property
    def value(self):
        return self.sheet.cells.get(self.address)

    @value.setter
    def value(self, value):
        self.sheet.book.writes.append((self.sheet.name, self.address, "value", value))

    @property
    def formula2(self):
        raise AssertionError("not read")

    @formula2.setter
    def formula2(self, formula):
        self.sheet.book.writes.append((self.sheet.name, self.address, "formula2", formula))

    def clear_contents(self):
        self.sheet.book.writes.append((self.sheet.name, self.address, "clear", None))


class FakeSheet:
    def __init__(self, book, name, cells, last_row):
        self.book, self.name, self.cells = book, name, cells
        self.used_range = type("Used", (), {"last_cell": type("Cell", (), {"row": last_row})})

    def range(self, address):
        return FakeRange(self, address)


class FakeBook:
    """The Transactions, Prediction and Validation sheets with the template's settings, recording writes."""

    def __init__(self, lines, last_row=30):
        self.writes = []
        self.app = type("App", (), {"calculate": lambda: self.writes.append(("app", "", "calculate", None))})
        transactions = {layout.transaction_lines(last_row): lines, layout.DATE_ORDER_CELL: None}
        prediction = {layout.AS_OF_CELL: dt.datetime(2025, 12, 31)}
        validation = {layout.CALIBRATION_END_CELL: 45900.0, layout.OBSERVATION_END_CELL: 46022.0}  # serials
        self.sheets = {layout.TRANSACTIONS_SHEET: FakeSheet(self, layout.TRANSACTIONS_SHEET, transactions, last_row),
                       layout.PREDICTION_SHEET: FakeSheet(self, layout.PREDICTION_SHEET, prediction, 30),
                       layout.VALIDATION_SHEET: FakeSheet(self, layout.VALIDATION_SHEET, validation, 30)}


PASTED = [["C1", dt.datetime(2025, 1, 5), 10.5], [123.0, 45662.0, 20.0],
          ["00123", dt.datetime(2025, 9, 1, 14, 30), 7]] + [[None, None, None]] * 26  # to the used range's end


def test_pasted_lines_resize_the_sheets_as_a_loaded_file_does_without_writing_the_lines():
    book = FakeBook(PASTED)
    macros.use_pasted_lines(book)
    frame = orders_from_cells(PASTED)
    plan = macros.load_plan(frame, "pasted on the Transactions sheet", TEMPLATE_DATES, NOW)
    assert plan.rows == [] and plan.clear is None
    formulas = {(sheet, address): text for sheet, address, kind, text in book.writes if kind == "formula2"}
    assert formulas == plan.formulas and "$A$2:$A$4" in formulas[(layout.TRANSACTIONS_SHEET, layout.COHORT_ANCHOR)]
    assert not any(kind == "clear" or (sheet == layout.TRANSACTIONS_SHEET and re.match(r"[ABC]\d", address))
                   for sheet, address, kind, _ in book.writes)
    sheet, address, kind, status = book.writes[-1]
    assert (sheet, address, kind) == (layout.TRANSACTIONS_SHEET, layout.TRANSACTIONS_STATUS_CELL, "value")
    assert re.fullmatch(r"'Loaded 3 order lines of 3 customers at .* \(pasted on the Transactions sheet\); "
                        r"validation: 2 customers calibrated to 2025-08-31, holdout to 2025-12-31", status)


def test_a_refused_pasted_line_writes_only_its_message_in_the_status_cell():
    book = FakeBook(PASTED[:2] + [[None, dt.datetime(2025, 2, 1), 5.0]])
    macros.use_pasted_lines(book)
    assert book.writes == [(layout.TRANSACTIONS_SHEET, layout.TRANSACTIONS_STATUS_CELL, "value",
                            "'#VALUE! Transactions!A4: the customer ID is blank; fill it in or delete the row")]
