"""Button macros of the workbook template (run from VBA with xlwings' ``RunPython``).

Thin by design: :func:`refresh_plan` decides everything from plain values and
is tested without Excel; :func:`refresh` only reads the customer table and
writes the plan. A macro writes only to its own output ranges (the output
columns, the summaries and the status cell), never over the user's inputs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from . import layout
from .errors import CLVError


@dataclass(frozen=True)
class RefreshPlan:
    """What Refresh writes: ranges to clear first, then formulas and values by address."""

    clear: tuple
    cells: dict
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
    shown = ", ".join(found[: layout.MAX_CHANNELS])
    dropped = len(found) - layout.MAX_CHANNELS
    note = f" ({dropped} more channels not summarised)" if dropped > 0 else ""
    status = (f"Refreshed {customers:,} customers, {len(found)} channels ({shown}){note} "
              f"at {now:%Y-%m-%d %H:%M}")
    return RefreshPlan(clear, cells, status)


def refresh():
    """Refresh button: resize every output to the current customer table and recalculate."""
    import xlwings as xw

    book = xw.Book.caller()
    sheet = book.sheets[layout.CUSTOMERS_SHEET]
    column_a = sheet.range(f"A{layout.FIRST_ROW}").expand("down")
    ids = column_a.options(ndim=1).value
    channels = column_a.offset(column_offset=1).options(ndim=1).value
    used = sheet.used_range.last_cell.row
    plan = refresh_plan(ids, channels, used, dt.datetime.now())
    for address in plan.clear:
        sheet.range(address).clear_contents()
    for address, content in plan.cells.items():
        sheet.range(address).formula2 = content
    book.app.calculate()
    sheet.range(layout.STATUS_CELL).value = plan.status


def read_transactions(path) -> pd.DataFrame:
    """Order lines from a CSV file: the first three columns are customer, date and amount.

    Raises :class:`CLVError` naming the file, the row and the value when a date
    or an amount cannot be read.
    """
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise CLVError(f"cannot read the CSV file {path!r}: {error}") from None
    if frame.shape[1] < 3:
        raise CLVError(f"the CSV file needs columns customer, date, amount (got {list(frame.columns)})")
    frame = frame.iloc[:, :3].set_axis(["customer_id", "date", "amount"], axis=1)
    frame["date"] = _parsed(frame["date"], lambda v: pd.to_datetime(v, errors="coerce"), "a date")
    frame["amount"] = _parsed(frame["amount"], lambda v: pd.to_numeric(v, errors="coerce"), "a number")
    return frame


def _parsed(values, parse, what):
    parsed = parse(values)
    bad = parsed.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise CLVError(f"CSV row {row + 2}: {values.name} must be {what} (got {values.iloc[row]!r})")
    return parsed


@dataclass(frozen=True)
class LoadPlan:
    """What Load CSV writes: order lines, the Transactions rows to clear, and formulas by
    (sheet, address): the cohort table's and the Prediction sheet's."""

    rows: list
    clear: str
    formulas: dict
    status: str


def observed_customers(frame: pd.DataFrame, as_of) -> int:
    """Customers with an order on or before ``as_of`` (all customers when it is None)."""
    observed = frame if as_of is None else frame[frame["date"] <= pd.Timestamp(as_of)]
    return int(observed["customer_id"].nunique())


def load_plan(frame: pd.DataFrame, as_of, previous_last_row: int, now: dt.datetime) -> LoadPlan:
    """Resize the Prediction sheet to the loaded order lines (customers up to ``as_of``)."""
    lines = len(frame)
    customers = observed_customers(frame, as_of)
    rows = [[customer, date.to_pydatetime(), float(amount)]
            for customer, date, amount in frame.itertuples(index=False)]
    clear = f"A2:C{max(previous_last_row, lines + 1)}"
    formulas = {(layout.PREDICTION_SHEET, address): formula for address, (formula, _, _) in
                layout.prediction_formulas(lines, customers).items()}
    formulas.update({(layout.PREDICTION_SHEET, address): content for address, content in
                     layout.prediction_tier_summary(customers).items()})
    formulas[(layout.TRANSACTIONS_SHEET, layout.COHORT_ANCHOR)] = layout.cohort_formula(lines)
    status = f"Loaded {lines:,} order lines of {customers:,} customers at {now:%Y-%m-%d %H:%M}"
    return LoadPlan(rows, clear, formulas, status)


def load_transactions():
    """Load CSV button: read the file named on the Transactions sheet and refresh the prediction."""
    import xlwings as xw

    book = xw.Book.caller()
    sheet = book.sheets[layout.TRANSACTIONS_SHEET]
    status = sheet.range(layout.TRANSACTIONS_STATUS_CELL)
    try:
        frame = read_transactions(sheet.range(layout.CSV_PATH_CELL).value)
    except CLVError as error:
        status.value = error.cell_message()
        return
    as_of = book.sheets[layout.PREDICTION_SHEET].range(layout.AS_OF_CELL).value
    previous = sheet.range("A1").end("down").row
    plan = load_plan(frame, as_of, previous, dt.datetime.now())
    sheet.range(plan.clear).clear_contents()
    sheet.range("A2").value = plan.rows
    for (sheet_name, address), formula in plan.formulas.items():
        book.sheets[sheet_name].range(address).formula2 = formula
    book.app.calculate()
    status.value = plan.status


def import_functions():
    """Import functions button: re-register the CLV_* functions (after an upgrade)."""
    import xlwings as xw

    xw.Book.caller().macro("ImportPythonUDFs")()
