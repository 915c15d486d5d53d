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
dates (``00123``, ``1E5``, ``3-1``). Only formulas built by :mod:`clv_xl.workbook.layout`
are written through ``.formula2``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from . import layout
from ..errors import CLVError
from ..transactions import (
    checked_date_order,
    is_blank,
    observed_customers,
    orders_from_cells,
    read_date,
    read_transactions,
)


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
        if is_blank(value):
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
    """What Load CSV (and Lite's use of pasted lines) writes: order lines (IDs :func:`as_text`)
    and the Transactions rows to clear first (none when the lines are already on the sheet),
    then formulas and texts (:func:`as_text`) by (sheet, address): the cohort table's and the
    Prediction and Validation sheets'."""

    rows: list
    clear: str | None
    formulas: dict
    texts: dict
    status: str


@dataclass(frozen=True)
class DateSettings:
    """The date cells that decide how many customers the loaded sheets show (None when blank).

    Attributes
    ----------
    as_of : pandas.Timestamp or None
        The Prediction sheet's as-of date (blank: every order counts).
    calibration_end, observation_end : pandas.Timestamp or None
        The Validation sheet's calibration and holdout ends.
    """

    as_of: pd.Timestamp | None
    calibration_end: pd.Timestamp | None
    observation_end: pd.Timestamp | None


#: Each date setting's (sheet, cell, name in messages).
DATE_SETTING_CELLS = {
    "as_of": (layout.PREDICTION_SHEET, layout.AS_OF_CELL, "as of"),
    "calibration_end": (layout.VALIDATION_SHEET, layout.CALIBRATION_END_CELL, "calibration end"),
    "observation_end": (layout.VALIDATION_SHEET, layout.OBSERVATION_END_CELL, "observation end"),
}


def date_setting(value, cell: str, date_order: str = "auto"):
    """A date setting cell's value as a timestamp (None when blank).

    A date cell arrives as a datetime; a number is read as an Excel serial and text as
    a date written in a file (``31-12-2025``, ``2025-12-31``), in ``date_order``.
    ``cell`` names the cell in messages, e.g. ``Prediction!B3 (as of)``.

    Raises
    ------
    CLVError
        Naming the cell, the value and the fix, when it is not a date.
    """
    if is_blank(value):
        return None
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    return read_date(str(value), date_order, name=cell, date_order_setting=DATE_ORDER_SETTING)


def date_settings(book, date_order: str) -> DateSettings:
    """The date settings of ``book``'s Prediction and Validation sheets, read in ``date_order``."""
    return DateSettings(**{
        field: date_setting(book.sheets[sheet].range(cell).value, f"{sheet}!{cell} ({name})", date_order)
        for field, (sheet, cell, name) in DATE_SETTING_CELLS.items()})


def validation_note(frame: pd.DataFrame, dates: DateSettings) -> str:
    """What the status says of the Validation sheet: its split, or why its dates miss the orders.

    The date cells are the user's settings and a load never writes them. When they do
    not split the loaded orders into a calibration and a holdout period, the note says
    why and suggests dates that do: the observation end on the last order's day and the
    calibration end two thirds of the way from the first order's day (the template's
    eight months of twelve).
    """
    first, last = frame["date"].min().normalize(), frame["date"].max().normalize()
    calibration, observation = dates.calibration_end, dates.observation_end
    if calibration is None or observation is None:
        problem = "the calibration end or the observation end is blank"
    elif observation <= calibration:
        problem = f"the observation end {observation:%Y-%m-%d} is not after the calibration end {calibration:%Y-%m-%d}"
    elif calibration < first:
        problem = f"the calibration end {calibration:%Y-%m-%d} is before the first order ({first:%Y-%m-%d})"
    elif calibration >= last:
        problem = (f"the calibration end {calibration:%Y-%m-%d} is not before the last order ({last:%Y-%m-%d}), "
                   f"so the holdout has no orders")
    else:
        return (f"validation: {observed_customers(frame, calibration):,} customers calibrated to "
                f"{calibration:%Y-%m-%d}, holdout to {observation:%Y-%m-%d}")
    cells = f"{layout.VALIDATION_SHEET}!{layout.CALIBRATION_END_CELL}:{layout.OBSERVATION_END_CELL}"
    if last - first < pd.Timedelta(days=2):
        return f"validation: {problem}, and the orders span under two days: load orders of a longer period"
    suggested = first + pd.Timedelta(days=(last - first).days * 2 // 3)
    return (f"validation: {problem}; set {cells} to dates in the orders, e.g. {suggested:%Y-%m-%d} and "
            f"{last:%Y-%m-%d}, then load again")


def load_plan(frame: pd.DataFrame, source: str, dates: DateSettings, now: dt.datetime,
              previous_last_row: int | None = None) -> LoadPlan:
    """Resize the Prediction and Validation sheets and the cohort table to the order lines in ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The order lines, as :func:`~clv_xl.transactions.read_transactions` or
        :func:`~clv_xl.transactions.orders_from_cells` give them.
    source : str
        How they were read, for the status: a file's format, or where they were pasted.
    dates : DateSettings
        The sheets' date cells: the Prediction sheet's customer columns hold the customers
        up to the as-of date, the Validation sheet's those up to the calibration end.
        They are never written (see :func:`validation_note`).
    now : datetime.datetime
        The time the status names.
    previous_last_row : int or None
        The last row of the order lines on the Transactions sheet before, to clear; None
        when ``frame`` is already on the sheet (pasted): then no rows are written or cleared.
    """
    lines = len(frame)
    customers = observed_customers(frame, dates.as_of)
    if previous_last_row is None:
        rows, clear = [], None
    else:
        rows = [[as_text(customer), date.to_pydatetime(), float(amount)]
                for customer, date, amount in frame.itertuples(index=False)]
        clear = layout.transaction_lines(max(previous_last_row, layout.TRANSACTIONS_FIRST_ROW + lines - 1))
    cells = {(layout.PREDICTION_SHEET, address): formula for address, (formula, _, _) in
             layout.prediction_formulas(lines, customers).items()}
    cells.update({(layout.PREDICTION_SHEET, address): content for address, content in
                  layout.prediction_tier_summary(customers).items()})
    # the tracking table's length (periods) only sizes the template's spill: the formulas do not name it
    validation = layout.validation_formulas(lines, observed_customers(frame, dates.calibration_end), periods=0)
    cells.update({(layout.VALIDATION_SHEET, address): formula for address, (formula, _, _) in validation.items()})
    cells[(layout.TRANSACTIONS_SHEET, layout.COHORT_ANCHOR)] = layout.cohort_formula(lines)
    formulas, texts = split_texts(cells)
    status = (f"Loaded {lines:,} order lines of {customers:,} customers at {now:%Y-%m-%d %H:%M} ({source}); "
              f"{validation_note(frame, dates)}")
    return LoadPlan(rows, clear, formulas, texts, status)


def write_load_plan(book, plan: LoadPlan) -> None:
    """Write ``plan`` into ``book``: the order lines, the formulas and texts, then (recalculated) the status."""
    sheet = book.sheets[layout.TRANSACTIONS_SHEET]
    if plan.clear is not None:
        sheet.range(plan.clear).clear_contents()
    if plan.rows:
        sheet.range(layout.TRANSACTIONS_ANCHOR).value = plan.rows
    for (sheet_name, address), text in plan.texts.items():
        book.sheets[sheet_name].range(address).value = text
    for (sheet_name, address), formula in plan.formulas.items():
        book.sheets[sheet_name].range(address).formula2 = formula
    book.app.calculate()
    sheet.range(layout.TRANSACTIONS_STATUS_CELL).value = as_text(plan.status)


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
        dates = date_settings(book, read_format.date_order)
    except CLVError as error:
        status.value = as_text(error.cell_message())
        return
    previous = sheet.range(layout.TRANSACTIONS_HEADER_CELL).end("down").row
    write_load_plan(book, load_plan(frame, read_format.details(), dates, dt.datetime.now(), previous))


def use_pasted_lines(book):
    """Resize ``book``'s Prediction and Validation sheets and cohort table to the order lines pasted
    on its Transactions sheet (xlwings Lite script; Lite reads no local files).

    Reads A2:C down to the sheet's last used row; everything is read and checked before
    anything is written: a refused cell or setting leaves the sheets as they were and
    says why in the status cell.
    """
    sheet = book.sheets[layout.TRANSACTIONS_SHEET]
    status = sheet.range(layout.TRANSACTIONS_STATUS_CELL)
    last = max(sheet.used_range.last_cell.row, layout.TRANSACTIONS_FIRST_ROW)
    try:
        date_order = checked_date_order(sheet.range(layout.DATE_ORDER_CELL).value, DATE_ORDER_SETTING)
        frame = orders_from_cells(sheet.range(layout.transaction_lines(last)).options(ndim=2).value,
                                  sheet=layout.TRANSACTIONS_SHEET, first_row=layout.TRANSACTIONS_FIRST_ROW)
        dates = date_settings(book, date_order)
    except CLVError as error:
        status.value = as_text(error.cell_message())
        return
    write_load_plan(book, load_plan(frame, f"pasted on the {layout.TRANSACTIONS_SHEET} sheet", dates,
                                    dt.datetime.now()))


def import_functions():
    """Import functions button: re-register the CLV_* functions (after an upgrade)."""
    import xlwings as xw

    xw.Book.caller().macro("ImportPythonUDFs")()
