"""Order lines (customer, date, amount) from the CSV files that shops and Excel write.

Pure (no Excel types): the Load CSV button and ``clv-xl summarize`` both read
files through :func:`read_transactions`. It reads Excel-NL's files (semicolons,
decimal commas, day-month dates, Windows-1252, ``€ 12,50``) as well as English
and ISO ones, and never decides from one row:

* the delimiter (``,`` ``;`` or tab) is the one that splits the header row into
  the most fields; every non-blank row must then have the header's number of
  fields, so an unquoted decimal comma (``C1,2025-01-03,12,50``) is refused
  instead of shifting the columns;
* the decimal mark of the amounts is decided on the whole column: ``12,50`` and
  ``1.234,56`` only read with decimal commas, ``12.5`` and ``1,234.56`` only
  with decimal points; a column with both is refused, and so is a column where
  every amount reads both ways with different values (``1.234``: 1234 or
  1.234?). In a decimal-comma column ``1.234`` is 1234;
* the date order (day-month or month-day) is decided on the whole column, or
  set with ``date_order``; ``auto`` refuses a column that fits both orders
  (no day above 12). ISO dates (year first) and Excel serial numbers
  (45660 = 2025-01-03) need no order. Two-digit years follow Excel: 00-29 are
  2000-2029, 30-99 are 1930-1999. Times are kept as written; a time-zone offset
  (``Z``, ``+01:00``) is dropped, so every line keeps the day written in the file;
* customer IDs stay text: ``00123``, ``0123`` and ``123`` are three customers.

Blank rows (including ``,,,`` rows) are skipped. Anything else that cannot be
read for sure is refused with a :class:`~clv_xl.errors.FileFormatError` naming
the row as the user sees it in the file (the header is row 1), the value and
the fix; nothing is returned then.

Order lines pasted on a sheet (xlwings Lite reads no local files) come through
:func:`orders_from_cells` as the same frame, read from the cells' own types.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CLVError, FileFormatError

DATE_ORDERS = ("auto", "day-month", "month-day")
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
#: Day 0 of Excel's serial numbers (1900 date system; serials from 61 on, after its false 1900-02-29).
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
FIRST_EXCEL_SERIAL, LAST_EXCEL_SERIAL = 61, 2958465  # 1900-03-01 .. 9999-12-31
SERIAL_RANGE = f"Excel serial numbers run from {FIRST_EXCEL_SERIAL} (1900-03-01) to {LAST_EXCEL_SERIAL} (9999-12-31)"
#: Two-digit years below this are 20yy, the others 19yy (Excel's rule).
TWO_DIGIT_YEAR_CUTOFF = 30

_TIME = (r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
         r"\s*(?P<ampm>[AaPp][Mm])?\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?)?")
DATE_PATTERN = (r"^(?:(?P<iso_year>\d{4})(?P<iso_sep>[-/.])(?P<iso_month>\d{1,2})(?P=iso_sep)(?P<iso_day>\d{1,2})"
                r"|(?P<first>\d{1,2})(?P<sep>[-/.])(?P<second_number>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
                r"|(?P<serial>\d{1,7}(?:[.,]\d+)?))" + _TIME + "$")
DATE_EXAMPLES = "31-12-2025, 31/12/25, 2025-12-31 or 45657"
#: An amount read with decimal commas (thousands dots) or with decimal points (thousands commas).
AMOUNT_PATTERNS = {
    ",": r"^[+-]?(?:(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d+)?|,\d+)$",
    ".": r"^[+-]?(?:(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?|\.\d+)$",
}
#: Currency signs and spaces (also non-breaking ones) that Excel puts in a formatted amount.
AMOUNT_DECORATION = r"[€\s\u00a0\u202f]|EUR"
THOUSANDS = {",": ".", ".": ","}
MARK_NAMES = {",": "commas", ".": "dots"}


@dataclass(frozen=True)
class ReadFormat:
    """How a file was read: what the status cell and the command line report.

    Attributes
    ----------
    lines : int
        Order lines read (blank rows and the header not counted).
    delimiter : str
        ``","``, ``";"`` or ``"\\t"``.
    decimal_mark : str or None
        ``","`` or ``"."``; None when every amount is a whole number.
    thousands_separator : str or None
        The thousands separator seen in the amounts, if any.
    date_style : str
        ``"day-month-year"``, ``"month-day-year"``, ``"year-month-day"`` or ``"Excel serial numbers"``.
    encoding : str
        ``"UTF-8"``, ``"UTF-8 with BOM"``, ``"UTF-16"`` or ``"Windows-1252"``.
    time_zones_dropped : bool
        Some times carried a time-zone offset, which was dropped (times as written).
    date_order : str
        The order in force for this file's user (to read an as-of date the same way): the one
        its dates were read in, else (ISO dates, serials) the ``date_order`` asked for.
    """

    lines: int
    delimiter: str
    decimal_mark: str | None
    thousands_separator: str | None
    date_style: str
    encoding: str
    time_zones_dropped: bool = False
    date_order: str = "auto"

    def describe(self) -> str:
        """One line, e.g. ``3,076 lines; semicolons, decimal commas, dates day-month-year, Windows-1252``."""
        return f"{self.lines:,} lines; {self.details()}"

    def details(self) -> str:
        """The format without the line count: ``semicolons, decimal commas, dates day-month-year, ...``."""
        if self.decimal_mark is None:
            amounts = "whole-number amounts"
        else:
            amounts = f"decimal {MARK_NAMES[self.decimal_mark].replace('dots', 'points')}"
            if self.thousands_separator:
                amounts += f" and thousands {MARK_NAMES[self.thousands_separator]}"
        dates = ("dates as Excel serial numbers" if self.date_style == "Excel serial numbers"
                 else f"dates {self.date_style}")
        if self.time_zones_dropped:
            dates += " (time-zone offsets dropped, times as written)"
        return f"{DELIMITER_NAMES[self.delimiter]}, {amounts}, {dates}, {self.encoding}"


def read_transactions(path_or_bytes, date_order: str = "auto", *,
                      date_order_setting: str = "date_order") -> tuple[pd.DataFrame, ReadFormat]:
    """Read a CSV file of order lines: its first three columns are customer, date and amount.

    Parameters
    ----------
    path_or_bytes : str, os.PathLike or bytes
        The file, or its content.
    date_order : {"auto", "day-month", "month-day"}
        Order of day and month in dates such as ``3-1-2025``; ``auto`` decides it from the
        whole column and refuses a column that fits both.
    date_order_setting : str
        How the user sets ``date_order`` (``--date-order``, a cell address), named in
        the messages that ask for it.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``customer_id`` (text), ``date`` (datetime64) and ``amount`` (float), one
        row per order line in file order.
    read_format : ReadFormat
        How the file was read.

    Raises
    ------
    FileFormatError
        Naming the row (the header is row 1), the value and the fix, for anything that
        cannot be read for sure. Nothing is returned then.
    """
    date_order = checked_date_order(date_order, date_order_setting)
    data, source = _file_bytes(path_or_bytes)
    text, encoding = _decoded(data, source)
    delimiter, records = _records(text, source)
    header = records[0]
    numbers = [number for number, record in enumerate(records[1:], start=2) if "".join(record).strip()]
    rows = [records[number - 1] for number in numbers]
    wrong_width = [position for position, record in enumerate(rows) if len(record) != len(header)]
    if wrong_width:
        position = wrong_width[0]
        raise FileFormatError(_field_count_message(source, numbers[position], rows[position], header, delimiter))
    if not rows:
        raise FileFormatError(f"{source} has no order lines below its header row; add the orders")
    if _date_like(header[1]):
        raise FileFormatError(
            f"{source} row 1 must be a header row, but its date field {header[1]!r} is a date; "
            f"add a first row with the column names, e.g. customer{delimiter}date{delimiter}amount")

    def where(position):
        """The line at ``position`` (of the order lines) as the user finds it in the file."""
        return f"{source} row {numbers[position]}"

    ids, dates, amounts = (pd.Series([record[column] for record in rows], dtype=object) for column in range(3))
    ids = ids.str.strip()
    blank_id = (ids == "").to_numpy()
    if blank_id.any():
        raise FileFormatError(f"{where(np.argmax(blank_id))}: the customer ID is blank; fill it in or delete the row")
    date_column = _DateColumn.parse(dates, date_order, date_order_setting, where)
    amount_values, decimal_mark, thousands = _amounts(amounts, where)
    frame = pd.DataFrame({"customer_id": ids.astype(object), "date": date_column.timestamps,
                          "amount": amount_values})
    date_order = {"day-month-year": "day-month", "month-day-year": "month-day"}.get(date_column.style, date_order)
    read_format = ReadFormat(len(frame), delimiter, decimal_mark, thousands, date_column.style,
                             encoding, date_column.zones_dropped, date_order)
    return frame, read_format


def orders_from_cells(rows, *, sheet: str = "Transactions", first_row: int = 2) -> pd.DataFrame:
    """Order lines from a sheet's cells, as xlwings reads them (customer, date and amount per row).

    The sheet counterpart of :func:`read_transactions` (xlwings Lite reads no local files, so
    there the order lines are pasted). Excel already typed each cell: an ID may be text or a
    number (``123.0`` is customer ``"123"``), a date a datetime or an Excel serial number
    (xlwings Lite sends some dates as serials; a fraction is the time of day), an amount a
    number. Rows blank in all three cells after the last line are skipped; the formulas
    read the lines as one block, so a blank row between lines is refused.

    Parameters
    ----------
    rows : sequence of sequences
        The cells of columns A:C (or more; the first three are read), one list per sheet row.
    sheet : str
        The sheet's name, in messages.
    first_row : int
        Sheet row of ``rows[0]``, in messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (text), ``date`` (datetime64) and ``amount`` (float), as
        :func:`read_transactions` gives them, one row per order line in sheet order.

    Raises
    ------
    FileFormatError
        Naming the cell, its value and the fix, for a blank ID, date or amount, a date that is
        text or outside Excel's dates, an amount that is not a number, a blank row between
        lines, or no lines. Nothing is returned then.
    """
    cells = [row[:3] for row in rows]
    filled = [not all(is_blank(value) for value in row) for row in cells]
    if not any(filled):
        raise FileFormatError(f"{sheet} has no order lines from row {first_row} on; paste customer, date and "
                              f"amount into columns A:C")
    lines = len(filled) - filled[::-1].index(True)
    ids, dates, amounts = [], [], []
    for row, (customer, date, amount) in enumerate(cells[:lines], start=first_row):
        if not filled[row - first_row]:
            raise FileFormatError(f"{sheet} row {row} is blank between order lines; delete the row (the formulas "
                                  f"read the lines as one block from row {first_row})")
        ids.append(_id_from_cell(customer, f"{sheet}!A{row}"))
        dates.append(_date_from_cell(date, f"{sheet}!B{row}"))
        amounts.append(_amount_from_cell(amount, f"{sheet}!C{row}"))
    return pd.DataFrame({"customer_id": pd.Series(ids, dtype=object),
                         "date": pd.to_datetime(dates),
                         "amount": np.array(amounts, dtype=float)})


def is_blank(value) -> bool:
    """Whether a cell is empty: ``None`` (a blank cell) or text of spaces only."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def _is_number(value) -> bool:
    """Whether a cell holds a number (TRUE and FALSE are not numbers)."""
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _id_from_cell(value, cell: str) -> str:
    """A customer ID as text: Excel's number ``123.0`` is ``"123"``, text stays as typed (stripped)."""
    if is_blank(value):
        raise FileFormatError(f"{cell}: the customer ID is blank; fill it in or delete the row")
    if isinstance(value, str):
        return value.strip()
    if _is_number(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    raise FileFormatError(f"{cell}: the customer ID {value!r} is not text or a number; format the column "
                          f"as Text and retype the ID")


def _date_from_cell(value, cell: str):
    """A date cell's value, checked: a ``datetime``/``date`` as it is, an Excel serial number as a timestamp.

    :func:`orders_from_cells` converts the whole column at once (``pd.to_datetime``).
    """
    if is_blank(value):
        raise FileFormatError(f"{cell}: the date is blank; fill it in or delete the row")
    if isinstance(value, dt.date):
        return value
    if not _is_number(value):
        raise FileFormatError(f"{cell}: the date {value!r} is text, not an Excel date; retype it as a date "
                              f"or convert the column (Data > Text to Columns > Date)")
    if not FIRST_EXCEL_SERIAL <= value <= LAST_EXCEL_SERIAL:
        raise FileFormatError(f"{cell}: the date {value!r} is not a date: {SERIAL_RANGE}")
    return pd.Timestamp(EXCEL_EPOCH + np.timedelta64(round(float(value) * 86400), "s"))


def _amount_from_cell(value, cell: str) -> float:
    """An amount cell's value as a float."""
    if is_blank(value):
        raise FileFormatError(f"{cell}: the amount is blank; fill it in (0 for none) or delete the row")
    if not _is_number(value):
        raise FileFormatError(f"{cell}: the amount {value!r} is text, not a number; retype it as a number "
                              f"(0 for none)")
    return float(value)


def read_date(value, date_order: str = "auto", *, name: str = "as_of",
              date_order_setting: str = "date_order") -> pd.Timestamp:
    """One date written as in a file (``31-12-2025``, ``2025-12-31``, ``45657``), read as a file's dates are.

    Raises
    ------
    FileFormatError
        If it is not such a date, or ``date_order`` is ``auto`` and it fits both orders.
    """
    date_order = checked_date_order(date_order, date_order_setting)
    column = _DateColumn.parse(pd.Series([str(value)], dtype=object), date_order,
                               date_order_setting, lambda position: name)
    return column.timestamps.iloc[0]


def checked_date_order(value, setting: str = "date_order") -> str:
    """``value`` as one of :data:`DATE_ORDERS` (blank means ``auto``); ``setting`` is named in the error."""
    order = "auto" if is_blank(value) else str(value).strip().lower()
    if order not in DATE_ORDERS:
        raise CLVError(f"{setting} must be auto, day-month or month-day (got {value!r})")
    return order


def _file_bytes(path_or_bytes) -> tuple[bytes, str]:
    """The file's bytes and the name its messages use."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return bytes(path_or_bytes), "CSV"
    if path_or_bytes is None or str(path_or_bytes).strip() == "":
        raise FileFormatError("no CSV file given; give the full path of the file, e.g. C:\\data\\orders.csv")
    path = Path(os.fspath(path_or_bytes)).expanduser()
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; give the CSV file itself")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FileFormatError(f"cannot read {path}: {error.strerror}; check the path") from None
    if data.startswith(b"PK\x03\x04"):
        raise FileFormatError(f"{path.name} is an Excel workbook, not a CSV file; save it as CSV first")
    return data, path.name


def _decoded(data: bytes, source: str) -> tuple[str, str]:
    """The text of ``data`` and its encoding's name: UTF-8 (BOM or not), UTF-16 with BOM, or Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = (("utf-16", "UTF-16"),)
    elif data.startswith(codecs.BOM_UTF8):
        candidates = (("utf-8-sig", "UTF-8 with BOM"),)
    else:
        candidates = (("utf-8", "UTF-8"), ("cp1252", "Windows-1252"))
    for codec, name in candidates:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError as error:
            problem = error
    raise FileFormatError(f"{source} is not {' or '.join(name for _, name in candidates)} text (byte "
                          f"{problem.object[problem.start]:#04x} at position {problem.start:,}); "
                          f"save it from Excel as CSV UTF-8")


def _records(text: str, source: str) -> tuple[str, list[list[str]]]:
    """The delimiter (the one giving the header the most fields) and every record of the file."""
    header_line = next(iter(text.splitlines()), "")  # \r\n, \n or (old Mac) \r line ends
    if not header_line.strip():
        raise FileFormatError(f"{source} is empty or starts with a blank row; its first row must be the "
                              f"header customer;date;amount")
    delimiter = max(DELIMITER_NAMES, key=lambda candidate: len(next(csv.reader([header_line],
                                                                               delimiter=candidate))))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        raise FileFormatError(f"{source} row {reader.line_num}: {error}; save the file again as CSV") from None
    if len(records[0]) < 3:
        raise FileFormatError(f"{source} row 1 must be a header with three columns customer, date, amount "
                              f"separated by commas, semicolons or tabs (got {header_line[:60]!r})")
    return delimiter, records


def _field_count_message(source, number, record, header, delimiter) -> str:
    """Why row ``number`` has the wrong number of fields, and the fix."""
    written = delimiter.join(record)
    message = (f"{source} row {number} has {len(record)} fields where the header has {len(header)} "
               f"(got {written[:80]!r})")
    if delimiter == "," and len(record) > len(header):
        return (message + "; an amount with a decimal comma must be quoted (\"12,50\") in a "
                "comma-separated file: save it with semicolons or decimal points")
    return message + "; give every row the header's columns"


def _date_like(text: str) -> bool:
    """Whether a header field reads as a date (then the first row is data, not a header)."""
    parts = pd.Series([text.strip()], dtype=object).str.extract(DATE_PATTERN)
    return bool(parts.notna().any(axis=None))


class _DistinctValues:
    """A column's distinct values, each parsed once (a file has far fewer dates than lines).

    Messages name the first line of the offending value: ``where(position)`` names it.
    """

    def __init__(self, values: pd.Series, where):
        self.values, self.where = values, where
        self.codes, distinct = pd.factorize(values)
        self.text = pd.Series(distinct, dtype=object).str.strip()
        self.first_line = np.full(len(distinct), len(self.codes))
        np.minimum.at(self.first_line, self.codes, np.arange(len(self.codes)))

    def line(self, mask: np.ndarray) -> int:
        """Position of the first line whose value is marked in ``mask`` (one flag per distinct value)."""
        return int(self.first_line[np.flatnonzero(mask)].min())

    def refuse_if(self, mask: np.ndarray, message: str) -> None:
        """Raise :class:`FileFormatError` for the first line marked in ``mask`` (``{value!r}``: its value)."""
        if mask.any():
            position = self.line(mask)
            raise FileFormatError(f"{self.where(position)}: " + message.format(value=self.values.iloc[position]))

    def per_line(self, distinct_values) -> np.ndarray:
        """One value per line from one per distinct value."""
        return np.asarray(distinct_values)[self.codes]


@dataclass(frozen=True)
class _DateColumn:
    """A date column read: its timestamps, the style found and whether time zones were dropped."""

    timestamps: pd.Series
    style: str
    zones_dropped: bool

    @classmethod
    def parse(cls, values: pd.Series, date_order: str, setting: str, where) -> "_DateColumn":
        """Read ``values`` (text); ``where(position)`` names a line in messages."""
        column = _DistinctValues(values, where)
        column.refuse_if((column.text == "").to_numpy(), "the date is blank; fill it in or delete the row")
        parts = column.text.str.extract(DATE_PATTERN)
        iso, numeric, serial = (parts[group].notna().to_numpy() for group in ("iso_year", "first", "serial"))
        column.refuse_if(~(iso | numeric | serial), f"date must be a date such as {DATE_EXAMPLES} (got {{value!r}})")
        shape = np.where(iso, "yyyy" + parts["iso_sep"].fillna("") + "m-d",
                         np.where(numeric, "d" + parts["sep"].fillna("") + "m-"
                                  + parts["year"].fillna("").str.len().astype(str), "serial"))
        line_shapes = column.per_line(shape)
        common = pd.Series(line_shapes).value_counts().index[0]
        example = values.iloc[int(np.argmax(line_shapes == common))]
        column.refuse_if(shape != common, f"the date {{value!r}} is written differently from the others "
                                          f"(such as {example!r}); write every date the same way")
        if common == "serial":
            return cls(pd.Series(column.per_line(cls._from_serials(parts["serial"], column))),
                       "Excel serial numbers", False)
        if numeric.all():
            day, month, style = cls._day_month(parts, date_order, setting, column)
            year = parts["year"].astype(int).to_numpy()
            year = np.where(parts["year"].str.len().to_numpy() == 2,
                            year + np.where(year < TWO_DIGIT_YEAR_CUTOFF, 2000, 1900), year)
        else:
            day, month = parts["iso_day"].astype(int).to_numpy(), parts["iso_month"].astype(int).to_numpy()
            year, style = parts["iso_year"].astype(int).to_numpy(), "year-month-day"
        hour = parts["hour"].fillna("0").astype(int).to_numpy()
        half_day = parts["ampm"].fillna("").str.upper().to_numpy()
        hour = np.where(half_day == "PM", hour % 12 + 12, np.where(half_day == "AM", hour % 12, hour))
        stamps = pd.to_datetime(pd.DataFrame({
            "year": year, "month": month, "day": day, "hour": hour,
            "minute": parts["minute"].fillna("0").astype(int).to_numpy(),
            "second": parts["second"].fillna("0").astype(int).to_numpy(),
        }), errors="coerce")
        column.refuse_if(stamps.isna().to_numpy(), f"the date {{value!r}} is not a calendar date (read as "
                                                   f"{style}); correct it")
        zones_dropped = bool(parts["zone"].notna().any())
        return cls(pd.Series(column.per_line(stamps.to_numpy())), style, zones_dropped)

    @staticmethod
    def _from_serials(serial_text: pd.Series, column: _DistinctValues) -> np.ndarray:
        """Timestamps of Excel serial numbers (a fraction is the time of day)."""
        serials = serial_text.str.replace(",", ".").astype(float).to_numpy()
        column.refuse_if((serials < FIRST_EXCEL_SERIAL) | (serials > LAST_EXCEL_SERIAL),
                         f"the date {{value!r}} is not a date: {SERIAL_RANGE}")
        return (EXCEL_EPOCH + np.round(serials * 86400).astype("timedelta64[s]")).astype("datetime64[ns]")

    @staticmethod
    def _day_month(parts: pd.DataFrame, date_order: str, setting: str, column: _DistinctValues):
        """Day and month numbers of ``3-1-2025``-style dates, and the order's name."""
        first, second = parts["first"].astype(int).to_numpy(), parts["second_number"].astype(int).to_numpy()
        fits_day_month = (first >= 1) & (first <= 31) & (second >= 1) & (second <= 12)
        fits_month_day = (first >= 1) & (first <= 12) & (second >= 1) & (second <= 31)
        if date_order == "auto":
            column.refuse_if(~fits_day_month & ~fits_month_day,
                             "the date {value!r} has no day and month in either order; correct it")
            if fits_day_month.all() and fits_month_day.all():
                column.refuse_if(fits_day_month, f"the dates fit both day-month and month-day (no day above "
                                                 f"12, e.g. {{value!r}}); set {setting} to day-month or month-day")
            if not (fits_day_month.all() or fits_month_day.all()):
                column.refuse_if(~fits_day_month, "the dates mix day-month and month-day: {value!r} reads only "
                                                  "as month-day, others only as day-month; write every date the "
                                                  "same way")
            date_order = "day-month" if fits_day_month.all() else "month-day"
        fits = fits_day_month if date_order == "day-month" else fits_month_day
        column.refuse_if(~fits, f"the date {{value!r}} is not a {date_order}-year date; correct it or set "
                                f"{setting} to the file's date order")
        if date_order == "day-month":
            return first, second, "day-month-year"
        return second, first, "month-day-year"


def _amounts(values: pd.Series, where) -> tuple[np.ndarray, str | None, str | None]:
    """The amounts as floats, the decimal mark (None: whole numbers only) and the thousands separator seen.

    ``where(position)`` names a line in messages.
    """
    column = _DistinctValues(values, where)
    text = column.text.str.replace(AMOUNT_DECORATION, "", regex=True).str.replace("\u2212", "-", regex=False)
    column.refuse_if((text == "").to_numpy(), "the amount is blank; fill it in (0 for none) or delete the row")
    fits = {mark: text.str.match(pattern).to_numpy() for mark, pattern in AMOUNT_PATTERNS.items()}
    column.refuse_if(~(fits[","] | fits["."]), "the amount must be a number such as 12,50 or 1.234,56 "
                                               "(got {value!r})")
    only = {mark: fits[mark] & ~fits[other] for mark, other in ((",", "."), (".", ","))}
    if only[","].any() and only["."].any():
        comma_line, point_line = column.line(only[","]), column.line(only["."])
        raise FileFormatError(f"{where(comma_line)} has a decimal comma ({values.iloc[comma_line]!r}) but "
                              f"{where(point_line)} a decimal point ({values.iloc[point_line]!r}); write every "
                              f"amount the same way")
    if not (only[","].any() or only["."].any()):
        column.refuse_if(text.str.contains(r"[.,]", regex=True).to_numpy(),
                         "the amount {value!r} reads both with a thousands separator and with a decimal mark, "
                         "and no other amount tells which; write it as 1234 or with decimals (1.234,00 or 1234.00)")
        return column.per_line(text.astype(float)), None, None
    mark = "," if only[","].any() else "."
    thousands = THOUSANDS[mark]
    numbers = text.str.replace(thousands, "", regex=False).str.replace(",", ".", regex=False).astype(float)
    seen = thousands if text.str.contains(thousands, regex=False).any() else None
    return column.per_line(numbers), mark, seen


def observed_customers(frame: pd.DataFrame, as_of) -> int:
    """Customers with an order on or before the day ``as_of`` (all customers when it is None).

    By days, as the ``CLV_*`` functions read dates: an order at 14:30 on the as-of day counts.
    """
    observed = frame if as_of is None else frame[frame["date"].dt.normalize() <= pd.Timestamp(as_of).normalize()]
    return int(observed["customer_id"].nunique())
