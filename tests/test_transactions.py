"""The transaction reader on the files Dutch and English shops and Excel really write."""

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clv_xl import cli
from clv_xl.errors import CLVError, FileFormatError
from clv_xl.transactions import ReadFormat, checked_date_order, orders_from_cells, read_date, read_transactions


def read(text, encoding="utf-8", **options):
    return read_transactions(text.encode(encoding), **options)


def refused(text, encoding="utf-8", **options):
    with pytest.raises(FileFormatError) as caught:
        read(text, encoding, **options)
    return str(caught.value)


def column(frame, name):
    return frame[name].tolist()


# --- formats read ---------------------------------------------------------------------------

def test_an_excel_nl_file_semicolons_decimal_commas_day_month_windows_1252(tmp_path):
    path = tmp_path / "bestellingen.csv"
    path.write_bytes("Klant;Datum;Bedrag\r\n00123;3-1-2025;€ 12,50\r\n0123;13-1-2025;1.234\r\n"
                     "123;31-12-2025;€ -1.234,56\r\n".encode("cp1252"))
    frame, read_format = read_transactions(path)
    assert column(frame, "customer_id") == ["00123", "0123", "123"]  # three customers, zeros kept
    assert column(frame, "date") == [pd.Timestamp(2025, 1, 3), pd.Timestamp(2025, 1, 13),
                                     pd.Timestamp(2025, 12, 31)]
    assert column(frame, "amount") == [12.5, 1234.0, -1234.56]  # 1.234 is 1234 in a decimal-comma file
    assert read_format.describe() == ("3 lines; semicolons, decimal commas and thousands dots, "
                                      "dates day-month-year, Windows-1252")
    assert read_format.date_order == "day-month"


def test_an_english_file_with_month_day_dates_chosen_by_the_setting():
    text = 'customer,date,amount\nA,1/3/2025,12.5\nB,2/4/2025,"1,234.56"\n'
    frame, read_format = read(text, date_order="month-day")
    assert column(frame, "date") == [pd.Timestamp(2025, 1, 3), pd.Timestamp(2025, 2, 4)]
    assert column(frame, "amount") == [12.5, 1234.56]
    assert read_format.describe() == ("2 lines; commas, decimal points and thousands commas, "
                                      "dates month-day-year, UTF-8")


def test_iso_dates_with_times_and_a_byte_order_mark_tab_separated():
    frame, read_format = read("\ufeffid\tdate\tamount\nA\t2025-01-03 14:05\t12\nB\t2025-01-04T09:00:30\t7\n")
    assert column(frame, "date") == [pd.Timestamp(2025, 1, 3, 14, 5), pd.Timestamp(2025, 1, 4, 9, 0, 30)]
    assert (read_format.delimiter, read_format.encoding, read_format.date_style) == (
        "\t", "UTF-8 with BOM", "year-month-day")
    assert read_format.decimal_mark is None
    assert read_format.date_order == "auto"  # ISO dates: an as-of date still needs an unambiguous form


def test_excel_serial_numbers_are_dates():
    frame, read_format = read("c;d;a\nA;45660;1\nB;45661,5;2\n")
    assert column(frame, "date") == [pd.Timestamp(2025, 1, 3), pd.Timestamp(2025, 1, 4, 12)]
    assert read_format.date_style == "Excel serial numbers"


@pytest.mark.parametrize("january_3, december_31", [
    ("3-1-2025", "31-12-2025"), ("03-01-2025", "31-12-2025"), ("3-1-25", "31-12-25"), ("03/01/2025", "31/12/2025"),
    ("3.1.2025", "31.12.2025"), ("2025-01-03", "2025-12-31"), ("2025/01/03", "2025/12/31"),
    ("3-1-2025 14:05", "31-12-2025 9:00"), ("3-1-2025 2:05 PM", "31-12-2025 9:00 AM"),
])
def test_every_date_style_reads_the_day_written(january_3, december_31):
    frame, _ = read(f"c;d;a\nA;{january_3};1\nB;{december_31};1\n")
    assert column(frame, "date")[0].normalize() == pd.Timestamp(2025, 1, 3)
    assert column(frame, "date")[1].normalize() == pd.Timestamp(2025, 12, 31)


def test_the_date_order_is_decided_on_the_whole_column_not_the_first_row():
    # the case: a d-m-yy file whose first row 3-1-25 also reads as 1 March
    lines = [f"C{day},{day}-{month}-25,1" for month in range(1, 13) for day in (3, 17, 28)]
    frame, read_format = read("customer,date,amount\n" + "\n".join(lines))
    assert frame["date"].iloc[0] == pd.Timestamp(2025, 1, 3)
    assert (frame["date"].dt.day == [int(line.split(",")[1].split("-")[0]) for line in lines]).all()
    assert read_format.date_style == "day-month-year"


def test_a_36_percent_wrong_days_file_of_day_month_dates_reads_every_day_right():
    rng = np.random.default_rng(7)
    days = pd.Timestamp(2024, 1, 1) + pd.to_timedelta(rng.integers(0, 700, 5000), unit="D")
    text = "klant;datum;bedrag\n" + "\n".join(f"C{n};{day.day}-{day.month}-{day.year % 100:02d};1"
                                             for n, day in enumerate(days))
    frame, _ = read(text)
    assert (frame["date"].to_numpy() == days.to_numpy()).all()


@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
def test_any_line_end(line_end):
    frame, _ = read(line_end.join(["c;d;a", "A;3-1-2025;1", "B;13-1-2025;2", ""]))
    assert column(frame, "customer_id") == ["A", "B"]


def test_trailing_blank_and_separator_only_rows_are_ignored():
    frame, read_format = read("c,d,a\nA,2025-01-03,1\n,,\n\n,,\n  ,  ,  \n")
    assert len(frame) == read_format.lines == 1


def test_ids_are_text_and_stripped_of_spaces_only():
    frame, _ = read("c;d;a\n 00123 ;2025-01-03;1\n=HYPERLINK(\"x\");2025-01-03;1\n1E5;2025-01-03;1\n")
    assert column(frame, "customer_id") == ["00123", '=HYPERLINK("x")', "1E5"]


def test_mixed_time_zones_keep_the_time_written_and_say_so():
    frame, read_format = read("c,d,a\nA,2025-03-29T23:30:00+01:00,1\nB,2025-03-30T23:30:00+02:00,1\n"
                              "C,2025-03-31T08:00:00Z,1\n")
    assert column(frame, "date")[:2] == [pd.Timestamp(2025, 3, 29, 23, 30), pd.Timestamp(2025, 3, 30, 23, 30)]
    assert "time-zone offsets dropped" in read_format.describe()


def test_a_read_format_describes_itself_in_one_line():
    read_format = ReadFormat(3076, ";", ",", None, "day-month-year", "Windows-1252")
    assert read_format.describe() == "3,076 lines; semicolons, decimal commas, dates day-month-year, Windows-1252"


# --- refusals, each with its row (the header is row 1) and value -----------------------------

def test_an_unquoted_decimal_comma_in_a_comma_file_is_refused_not_shifted():
    message = refused("customer,date,amount\nC0,2025-01-02,3\nC1,2025-01-03,12,50\n")
    assert message.startswith("CSV row 3 has 4 fields where the header has 3 (got 'C1,2025-01-03,12,50')")
    assert 'quoted ("12,50")' in message


def test_a_short_row_is_refused_with_its_row():
    assert refused("c;d;a\nA;2025-01-03;1\n\nB;2025-01-04\n").startswith("CSV row 4 has 2 fields")


def test_dates_that_fit_both_orders_are_refused_naming_the_setting():
    message = refused("c;d;a\nA;3-1-25;1\nB;12-2-25;1\n")
    assert "fit both day-month and month-day" in message and "set date_order to day-month" in message
    assert "'3-1-25'" in message
    frame, _ = read("c;d;a\nA;3-1-25;1\nB;12-2-25;1\n", date_order="day-month")
    assert column(frame, "date") == [pd.Timestamp(2025, 1, 3), pd.Timestamp(2025, 2, 12)]
    with pytest.raises(FileFormatError, match="set --date-order to"):
        read("c;d;a\nA;3-1-25;1\n", date_order_setting="--date-order")


def test_a_date_against_the_chosen_order_is_refused_with_its_row():
    message = refused("c;d;a\nA;3-1-2025;1\nB;13-1-2025;1\n", date_order="month-day")
    assert message.startswith("CSV row 3: the date '13-1-2025' is not a month-day-year date")


def test_a_column_mixing_orders_or_formats_is_refused_at_the_first_odd_row():
    assert refused("c;d;a\nA;31-1-2025;1\nB;1-13-2025;1\n").startswith(
        "CSV row 3: the dates mix day-month and month-day: '1-13-2025'")
    message = refused("c;d;a\nA;3-1-2025;1\nB;2025-01-04;1\nC;5-1-2025;1\n")
    assert message.startswith("CSV row 3: the date '2025-01-04' is written differently from the others "
                              "(such as '3-1-2025')")
    assert refused("c;d;a\nA;3-1-2025;1\nB;4-1-25;1\nC;5-1-2025;1\n").startswith("CSV row 3:")


@pytest.mark.parametrize("text, start", [
    ("c;d;a\nA;2025-01-03;1\n  ;2025-01-04;1\n", "CSV row 3: the customer ID is blank"),
    ("c;d;a\nA;2025-01-03;1\nB;gisteren;1\n", "CSV row 3: date must be a date such as"),
    ("c;d;a\nA;;1\n", "CSV row 2: the date is blank"),
    ("c;d;a\nA;30-2-2025;1\n", "CSV row 2: the date '30-2-2025' is not a calendar date"),
    ("c;d;a\nA;2025-01-03;12\nB;2025-01-03;twaalf\n", "CSV row 3: the amount must be a number"),
    ("c;d;a\nA;2025-01-03;12,5\nB;2025-01-03;\n", "CSV row 3: the amount is blank"),
    ("c;d;a\nA;2025-01-03;1,5\nB;2025-01-04;2.5\n", "CSV row 2 has a decimal comma ('1,5') but CSV row 3 a "
                                                    "decimal point ('2.5')"),
    ("c;d;a\nA;2025-01-03;12\nB;2025-01-04;1.234\n", "CSV row 3: the amount '1.234' reads both"),
    ("c;d;a\nA;2025-01-03;1,2,3\n", "CSV row 2: the amount must be a number"),
    ("c;d;a\nA;12;1\n", "CSV row 2: the date '12' is not a date: Excel serial numbers run from 61"),
    ("A;2025-01-03;1\nB;2025-01-04;1\n", "CSV row 1 must be a header row, but its date field '2025-01-03'"),
    ("c;d\nA;2025-01-03\n", "CSV row 1 must be a header with three columns"),
    ("c;d;a\n", "CSV has no order lines below its header row"),
    ("", "CSV is empty"),
])
def test_each_unreadable_file_is_refused_with_its_row_and_value(text, start):
    assert refused(text).startswith(start)


def test_files_that_are_not_csv_text_are_refused(tmp_path):
    with pytest.raises(FileFormatError, match="is not UTF-8 or Windows-1252 text"):
        read_transactions(b"c;d;a\nA\x81;2025-01-03;1\n")
    workbook = tmp_path / "orders.xlsx"
    workbook.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(FileFormatError, match="orders.xlsx is an Excel workbook"):
        read_transactions(workbook)
    with pytest.raises(FileFormatError, match="cannot read .*missing.csv: No such file"):
        read_transactions(tmp_path / "missing.csv")
    with pytest.raises(FileFormatError, match="is a folder"):
        read_transactions(tmp_path)
    with pytest.raises(FileFormatError, match="no CSV file given"):
        read_transactions(None)


def test_messages_name_the_file_they_come_from(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("c;d;a\nA;2025-01-03;x\n")
    with pytest.raises(FileFormatError, match=r"^orders.csv row 2: "):
        read_transactions(path)


def test_the_date_order_setting_and_single_dates():
    assert checked_date_order(None) == checked_date_order("  ") == "auto"
    assert checked_date_order("Day-Month") == "day-month"
    with pytest.raises(CLVError, match=r"--date-order must be auto, day-month or month-day \(got 'dm'\)"):
        checked_date_order("dm", "--date-order")
    assert read_date("31-12-2025") == pd.Timestamp(2025, 12, 31)
    assert read_date("3-1-2025", "day-month") == pd.Timestamp(2025, 1, 3)
    with pytest.raises(FileFormatError, match="^as_of: the dates fit both"):
        read_date("3-1-2025")
    with pytest.raises(FileFormatError, match="^--as-of: date must be a date"):
        read_date("gisteren", name="--as-of")


def test_a_200000_line_dutch_file_reads_in_well_under_a_few_seconds():
    rng = np.random.default_rng(3)
    days = pd.Timestamp(2024, 1, 1) + pd.to_timedelta(rng.integers(0, 730, 200_000), unit="D")
    amounts = rng.gamma(2.0, 30.0, 200_000)
    text = "klant;datum;bedrag\r\n" + "".join(
        f"{customer:06d};{day.day}-{day.month}-{day.year};€ {amount:.2f}\r\n".replace(".", ",")
        for customer, day, amount in zip(rng.integers(0, 40_000, 200_000), days, amounts))
    data = text.encode("cp1252")
    started = dt.datetime.now()
    frame, _ = read_transactions(data)
    assert (dt.datetime.now() - started).total_seconds() < 5.0  # 0.6 s on an idle 2-core machine
    assert len(frame) == 200_000 and (frame["date"].to_numpy() == days.to_numpy()).all()


# --- round trip over every dialect -----------------------------------------------------------

DATE_WRITERS = {  # name -> (write a date, the date_order setting)
    "iso": (lambda day: day.strftime("%Y-%m-%d"), "auto"),
    "iso with time": (lambda day: day.strftime("%Y-%m-%dT%H:%M:%S"), "auto"),
    "d-m-yyyy": (lambda day: f"{day.day}-{day.month}-{day.year}", "day-month"),
    "d-m-yy": (lambda day: f"{day.day}-{day.month}-{day.year % 100:02d}", "day-month"),
    "dd/mm/yyyy": (lambda day: day.strftime("%d/%m/%Y"), "day-month"),
    "d.m.yyyy": (lambda day: f"{day.day}.{day.month}.{day.year}", "day-month"),
    "m/d/yyyy": (lambda day: f"{day.month}/{day.day}/{day.year}", "month-day"),
    "excel serial": (lambda day: str((day - pd.Timestamp(1899, 12, 30)).days), "auto"),
}
ID_CHARACTERS = "0123456789ABCxyz-_ =+@é€;,\""


def write_amount(cents, decimal_mark, thousands, euro):
    """An amount as a shop's file writes it: ``€ 1.234,56``, ``1234.56``..."""
    text = f"{abs(cents) // 100:,}" if thousands else f"{abs(cents) // 100}"
    text = text.replace(",", "." if decimal_mark == "," else ",")
    text = ("-" if cents < 0 else "") + text + decimal_mark + f"{abs(cents) % 100:02d}"
    return "€ " + text if euro else text


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.tuples(st.text(ID_CHARACTERS, min_size=1, max_size=8).filter(str.strip).map(str.strip),
                             st.dates(dt.date(2000, 1, 1), dt.date(2029, 12, 31)),
                             st.integers(-10**8, 10**8)), min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";", "\t"]),
    decimal_mark=st.sampled_from([",", "."]),
    thousands=st.booleans(),
    euro=st.booleans(),
    date_style=st.sampled_from(sorted(DATE_WRITERS)),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_reading_gives_back_what_any_dialect_wrote(lines, delimiter, decimal_mark, thousands, euro,
                                                   date_style, encoding):
    write_date, date_order = DATE_WRITERS[date_style]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["klant", "datum", "bedrag"])
    for customer, day, cents in lines:
        writer.writerow([customer, write_date(pd.Timestamp(day)), write_amount(cents, decimal_mark, thousands, euro)])
    frame, read_format = read_transactions(buffer.getvalue().encode(encoding), date_order)
    assert column(frame, "customer_id") == [customer for customer, _, _ in lines]
    assert column(frame, "date") == [pd.Timestamp(day) for _, day, _ in lines]
    assert np.allclose(frame["amount"], [cents / 100 for _, _, cents in lines], rtol=0, atol=1e-9)
    assert read_format.delimiter == delimiter and read_format.decimal_mark == decimal_mark


# --- clv-xl summarize ------------------------------------------------------------------------

DUTCH_ORDERS = "klant;datum;bedrag\r\n00123;3-1-2025;€ 12,50\r\n0123;13-1-2025;1.234\r\n00123;31-1-2025;7,5\r\n"


def dutch_file(tmp_path):
    path = tmp_path / "bestellingen.csv"
    path.write_bytes(DUTCH_ORDERS.encode("cp1252"))
    return path


def test_summarize_prints_the_format_and_the_rfm_summary(tmp_path, capsys):
    path = dutch_file(tmp_path)
    assert cli.main(["summarize", str(path), "--as-of", "1-2-2025", "--period", "d"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{path}: 3 lines; semicolons, decimal commas and thousands dots, dates day-month-year, "
                      f"Windows-1252")
    assert out[1].split() == ["frequency", "recency", "T", "monetary"]
    assert out[3].split() == ["00123", "1", "28.0", "29.0", "7.5"]  # as-of read day-month, like the file
    assert out[4].split() == ["0123", "0", "0.0", "19.0", "0.0"]


def test_summarize_writes_ids_as_text_in_the_files_own_dialect(tmp_path, capsys):
    output = tmp_path / "samenvatting.csv"
    assert cli.main(["summarize", str(dutch_file(tmp_path)), "--period", "D", "-o", str(output)]) == 0
    assert capsys.readouterr().out.endswith(f"Wrote the summary of 2 customers to {output}\n")
    assert output.read_text(encoding="utf-8-sig").splitlines() == [
        '"customer_id";"frequency";"recency";"T";"monetary"', '"00123";1;"28,0";"28,0";"7,5"',
        '"0123";0;"0,0";"18,0";"0,0"']


@pytest.mark.parametrize("arguments, words", [
    (["--as-of", "gisteren"], ["--as-of: date must be a date", "'gisteren'"]),
    (["--as-of", "1-1-2020"], ["no purchase is on or before as_of"]),
    (["--date-order", "month-day"], ["row 3: the date '13-1-2025' is not a month-day-year date",
                                     "set --date-order"]),
])
def test_summarize_refuses_bad_input_in_one_line(tmp_path, capsys, arguments, words):
    assert cli.main(["summarize", str(dutch_file(tmp_path)), *arguments]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("clv-xl: error: ")
    assert all(word in err for word in words)


def test_summarize_refuses_a_shifted_row_and_a_missing_file_in_one_line(tmp_path, capsys):
    shifted = tmp_path / "orders.csv"
    shifted.write_text("customer,date,amount\nC1,2025-01-03,12,50\n")
    output = tmp_path / "out.csv"
    assert cli.main(["summarize", str(shifted), "-o", str(output)]) == 2
    assert capsys.readouterr().err.startswith("clv-xl: error: orders.csv row 2 has 4 fields where the header has 3")
    assert not output.exists()  # nothing written for a refused file
    assert cli.main(["summarize", str(tmp_path / "missing.csv")]) == 2
    assert "No such file" in capsys.readouterr().err


# --- order lines pasted on a sheet (xlwings Lite) ---------------------------------------------

def test_pasted_cells_give_the_frame_a_file_of_the_same_lines_gives():
    cells = [["C1", dt.datetime(2025, 1, 5, 14, 30), 10.5],   # a date cell as a datetime
             [123.0, 45662, 20],                               # a numeric ID, a date as a serial, an int amount
             ["00123", 45662.5, -7.25],                        # an ID typed as text; noon as a fraction
             [" C4 ", dt.date(2025, 2, 1), 0.0],
             [None, None, None], ["", " ", None]]              # blank rows after the last line
    frame = orders_from_cells(cells)
    from_file, _ = read("customer,date,amount\nC1,2025-01-05 14:30,10.5\n123,2025-01-05,20\n"
                        "00123,2025-01-05 12:00,-7.25\nC4,2025-02-01,0\n")
    pd.testing.assert_frame_equal(frame, from_file)
    assert list(frame["customer_id"]) == ["C1", "123", "00123", "C4"]


@pytest.mark.parametrize("cells, message", [
    ([["C1", 45662, 1], [None, 45662, 2]], "Transactions!A3: the customer ID is blank; fill it in or delete the row"),
    ([["C1", 45662, 1], ["C2", "gisteren", 2]],
     ("Transactions!B3: the date 'gisteren' is text, not an Excel date; retype it as a date or convert the "
      "column (Data > Text to Columns > Date)")),
    ([["C1", 12, 1]], ("Transactions!B2: the date 12 is not a date: Excel serial numbers run from 61 (1900-03-01) "
                       "to 2958465 (9999-12-31)")),
    ([["C1", None, 1]], "Transactions!B2: the date is blank; fill it in or delete the row"),
    ([["C1", 45662, "€ 12,50"]], ("Transactions!C2: the amount '€ 12,50' is text, not a number; retype it as a "
                                  "number (0 for none)")),
    ([["C1", 45662, True]], "Transactions!C2: the amount True is text, not a number"),
    ([["C1", 45662, None]], "Transactions!C2: the amount is blank; fill it in (0 for none) or delete the row"),
    ([[True, 45662, 1]], ("Transactions!A2: the customer ID True is not text or a number; format the column as "
                          "Text and retype the ID")),
    ([["C1", 45662, 1], [None, None, None], ["C2", 45662, 1]],
     ("Transactions row 3 is blank between order lines; delete the row (the formulas read the lines as one "
      "block from row 2)")),
    ([[None, None, None]], ("Transactions has no order lines from row 2 on; paste customer, date and amount into "
                            "columns A:C")),
])
def test_a_pasted_cell_that_cannot_be_read_is_refused_with_its_cell_and_value(cells, message):
    with pytest.raises(FileFormatError) as refused_cell:
        orders_from_cells(cells)
    assert str(refused_cell.value).startswith(message)
