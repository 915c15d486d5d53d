"""Button macros of the workbook template (run from VBA with xlwings' ``RunPython``).

Thin by design: :func:`refresh_plan` decides everything from plain values and
is tested without Excel; :func:`refresh` only reads the customer table and
writes the plan. A macro writes only to its own output ranges (the output
columns, the summaries and the status cell), never over the user's inputs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import layout


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


def import_functions():
    """Import functions button: re-register the CLV_* functions (after an upgrade)."""
    import xlwings as xw

    xw.Book.caller().macro("ImportPythonUDFs")()
