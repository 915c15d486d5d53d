"""Button macros of the workbook template (run from VBA with xlwings' ``RunPython``).

Thin by design: :func:`refresh_plan` and :func:`load_plan` decide everything from
plain values and are tested without Excel; the macros only read their inputs and
write the plan. A macro writes only to its own output ranges (the output
columns, the summaries and the status cell), never over the user's inputs.

No formulas from data: every text a macro writes (customer IDs, channel names,
labels) goes in through ``Range.value`` as :func:`as_text` gives it, with a
leading apostrophe. Excel takes that apostrophe as "this cell is text" and does
not keep it in the value, so ``=HYPERLINK("x")``, ``+SUM(1)``, ``-1+1`` and
``@A1`` stay text, and so do IDs that Excel would otherwise turn into numbers or
dates (``00123``, ``1E5``, ``3-1``). Only formulas built by :mod:`clv_xl.layout`
are written through ``.formula2``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from . import layout
from .errors import CLVError
from .transactions import ReadFormat, checked_date_order, read_date, read_transactions


#: The Load CSV button's date order setting, as its messages name it.
DATE_ORDER_SETTING = f"the date order cell {layout.TRANSACTIONS_SHEET}!{layout.DATE_ORDER_CELL}"


def as_text(value) -> str:
    """``value`` as Excel must store it: text, whatever it looks like (an apostrophe in front)."""
    return "'" + str(value)


def split_texts(cells: dict) -> tuple[dict, dict]:
    """``cells`` (key -> formula or :class:`layout.Text`) as formulas and texts (:func:`as_text`)."""
    texts = {key: as_text(content) for key, content in cells.items() if isinstance(content, layout.Text)}
    return {key: content for key, content in cells.items() if key not in texts}, texts


@dataclass(frozen=True)
class RefreshPlan:
    """What Refresh writes: ranges to clear first, then formulas (``.formula2``) and texts
    (``.value``, already :func:`as_text`) by address."""

    clear: tuple
    cells: dict
    texts: dict
    status: str


def count_customers(ids) -> int:
    """Customers in the table: rows down column A until the first blank ID."""
    count = 0
    for value in ids:
        if value is None or str(value).strip() == "":
            break
        count += 1
    return count


def distinct_channels(channels) -> list:
    """Channels in order of first appearance, blanks skipped."""
    seen = {}
    for channel in channels:
        if channel is not None and str(channel).strip():
            seen.setdefault(str(channel).strip(), None)
    return list(seen)


def refresh_plan(ids, channels, previous_last_row: int, now: dt.datetime) -> RefreshPlan:
    """The outputs for a customer table with these IDs and channels (column A and B values).

    ``previous_last_row`` is the last row the outputs used before, so that rows
    left over from a longer table are cleared.
    """
    customers = count_customers(ids)
    found = distinct_channels(list(channels)[:customers])
    last = max(layout.last_row(customers), previous_last_row)
    outputs = list(layout.OUTPUT_HEADERS)
    clear = (f"{outputs[0]}{layout.FIRST_ROW}:{outputs[-1]}{last}", layout.channel_rows_range())
    cells = layout.customer_output_formulas(customers)
    cells.update(layout.tier_summary(customers))
    cells.update(layout.channel_summary(customers, found))
    formulas, texts = split_texts(cells)
    shown = ", ".join(found[: layout.MAX_CHANNELS])
    dropped = len(found) - layout.MAX_CHANNELS
    note = f" ({dropped} more channels not summarised)" if dropped > 0 else ""
    status = (f"Refreshed {customers:,} customers, {len(found)} channels ({shown}){note} "
              f"at {now:%Y-%m-%d %H:%M}")
    return RefreshPlan(clear, formulas, texts, status)


def refresh():
    """Refresh button: resize every output to the current customer table and recalculate."""
    import xlwings as xw

    refresh_book(xw.Book.caller())


def refresh_book(book):
    """Resize ``book``'s customer outputs to its table (Refresh button, xlwings Lite script)."""
    sheet = book.sheets[layout.CUSTOMERS_SHEET]
    column_a = sheet.range(f"A{layout.FIRST_ROW}").expand("down")
    ids = column_a.options(ndim=1).value
    channels = column_a.offset(column_offset=1).options(ndim=1).value
    used = sheet.used_range.last_cell.row
    plan = refresh_plan(ids, channels, used, dt.datetime.now())
    for address in plan.clear:
        sheet.range(address).clear_contents()
    for address, text in plan.texts.items():
        sheet.range(address).value = text
    for address, formula in plan.cells.items():
        sheet.range(address).formula2 = formula
    book.app.calculate()
    sheet.range(layout.STATUS_CELL).value = plan.status


@dataclass(frozen=True)
class LoadPlan:
    """What Load CSV writes: order lines (IDs :func:`as_text`), the Transactions rows to clear,
    then formulas and texts (:func:`as_text`) by (sheet, address): the cohort table's and the
    Prediction sheet's."""

    rows: list
    clear: str
    formulas: dict
    texts: dict
    status: str


def observed_customers(frame: pd.DataFrame, as_of) -> int:
    """Customers with an order on or before ``as_of`` (all customers when it is None)."""
    observed = frame if as_of is None else frame[frame["date"] <= pd.Timestamp(as_of)]
    return int(observed["customer_id"].nunique())


def as_of_setting(value, date_order: str = "auto"):
    """The Prediction sheet's as-of cell as a timestamp (None when blank).

    A date cell arrives as a datetime; a number is read as an Excel serial and text as
    a date written in a file (``31-12-2025``, ``2025-12-31``), in ``date_order``.

    Raises
    ------
    CLVError
        Naming the cell, the value and the fix, when it is not a date.
    """
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    return read_date(str(value), date_order, name=f"{layout.PREDICTION_SHEET}!{layout.AS_OF_CELL} (as of)",
                     date_order_setting=DATE_ORDER_SETTING)


def load_plan(frame: pd.DataFrame, read_format: ReadFormat, as_of, previous_last_row: int,
              now: dt.datetime) -> LoadPlan:
    """Resize the Prediction sheet to the loaded order lines (customers up to ``as_of``)."""
    lines = len(frame)
    customers = observed_customers(frame, as_of)
    rows = [[as_text(customer), date.to_pydatetime(), float(amount)]
            for customer, date, amount in frame.itertuples(index=False)]
    clear = f"A2:C{max(previous_last_row, lines + 1)}"
    cells = {(layout.PREDICTION_SHEET, address): formula for address, (formula, _, _) in
             layout.prediction_formulas(lines, customers).items()}
    cells.update({(layout.PREDICTION_SHEET, address): content for address, content in
                  layout.prediction_tier_summary(customers).items()})
    cells[(layout.TRANSACTIONS_SHEET, layout.COHORT_ANCHOR)] = layout.cohort_formula(lines)
    formulas, texts = split_texts(cells)
    status = (f"Loaded {lines:,} order lines of {customers:,} customers at {now:%Y-%m-%d %H:%M} "
              f"({read_format.details()})")
    return LoadPlan(rows, clear, formulas, texts, status)


def load_transactions():
    """Load CSV button: read the file named on the Transactions sheet and refresh the prediction.

    Everything is read and checked before anything is written: a refused file or
    setting leaves the sheets as they were and says why in the status cell.
    """
    import xlwings as xw

    book = xw.Book.caller()
    sheet = book.sheets[layout.TRANSACTIONS_SHEET]
    status = sheet.range(layout.TRANSACTIONS_STATUS_CELL)
    try:
        date_order = checked_date_order(sheet.range(layout.DATE_ORDER_CELL).value, DATE_ORDER_SETTING)
        frame, read_format = read_transactions(sheet.range(layout.CSV_PATH_CELL).value, date_order,
                                               date_order_setting=DATE_ORDER_SETTING)
        as_of = as_of_setting(book.sheets[layout.PREDICTION_SHEET].range(layout.AS_OF_CELL).value,
                              read_format.date_order)
    except CLVError as error:
        status.value = error.cell_message()
        return
    previous = sheet.range("A1").end("down").row
    plan = load_plan(frame, read_format, as_of, previous, dt.datetime.now())
    sheet.range(plan.clear).clear_contents()
    sheet.range("A2").value = plan.rows
    for (sheet_name, address), text in plan.texts.items():
        book.sheets[sheet_name].range(address).value = text
    for (sheet_name, address), formula in plan.formulas.items():
        book.sheets[sheet_name].range(address).formula2 = formula
    book.app.calculate()
    status.value = plan.status


def import_functions():
    """Import functions button: re-register the CLV_* functions (after an upgrade)."""
    import xlwings as xw

    xw.Book.caller().macro("ImportPythonUDFs")()
