"""Where things are on the template's Customers sheet, and the formulas that go there.

Pure text: the template builder and the Refresh macro both call these, so the
formulas a user gets after pasting 5,000 customers are exactly the ones the
template was built with, resized.
"""

from __future__ import annotations

CUSTOMERS_SHEET = "Customers"
FIRST_ROW = 2  # row 1 holds the headers

#: input columns the user owns (pastes into); A..G
INPUT_HEADERS = {
    "A": "Customer ID",
    "B": "Channel",
    "C": "Avg purchase value",
    "D": "Purchases per year",
    "E": "Lifespan (years)",
    "F": "Margin",
    "G": "Acquisition cost",
}
#: output columns the Refresh macro owns; I..M
OUTPUT_HEADERS = {
    "I": "CLV (before CAC)",
    "J": "CLV net of CAC",
    "K": "CLV:CAC",
    "L": "Payback (years)",
    "M": "Tier",
}
SETTINGS_LABEL_COLUMN, SETTINGS_VALUE_COLUMN = "O", "P"
DISCOUNT_CELL = "P2"
STATUS_CELL = "P4"
TIER_TITLE_ROW = 11
TIER_LABELS = ("High", "Medium", "Low")
CHANNEL_TITLE_ROW = 17
MAX_CHANNELS = 12
SUMMARY_COLUMNS = ("O", "P", "Q", "R", "S")
SUMMARY_HEADERS = ("", "Customers", "Total CLV", "Average CLV", "Average CLV:CAC")


def last_row(customers: int) -> int:
    """Sheet row of the last customer (at least the first data row)."""
    return FIRST_ROW + max(customers, 1) - 1


def column_range(column: str, customers: int, absolute: bool = False) -> str:
    """``C2:C201`` for 200 customers; ``$C$2:$C$201`` when ``absolute``."""
    dollar = "$" if absolute else ""
    return f"{dollar}{column}{dollar}{FIRST_ROW}:{dollar}{column}{dollar}{last_row(customers)}"


def customer_output_formulas(customers: int) -> dict:
    """Spilled formula per output column, anchored in the first data row."""
    c, d, e, f, g = (column_range(col, customers) for col in "CDEFG")
    discount = DISCOUNT_CELL.replace("P", "$P$")
    clv = column_range("I", customers)
    return {
        f"I{FIRST_ROW}": f"=CLV_AVG({c},{d},{e},{f},0,{discount})",
        f"J{FIRST_ROW}": f"=CLV_AVG({c},{d},{e},{f},{g},{discount})",
        f"K{FIRST_ROW}": f"=CLV_CAC_RATIO({clv},{g})",
        f"L{FIRST_ROW}": f"=CLV_PAYBACK({g},{c}*{d}*{f})",
        f"M{FIRST_ROW}": f"=CLV_SEGMENT({clv})",
    }


def _summary_rows(title_row: int, key_column: str, keys, customers: int) -> dict:
    """Header and one row per key: count, total and average CLV, average CLV:CAC."""
    keyed = column_range(key_column, customers, absolute=True)
    clv = column_range("I", customers, absolute=True)
    ratio = column_range("K", customers, absolute=True)
    cells = {f"{col}{title_row + 1}": header for col, header in zip(SUMMARY_COLUMNS, SUMMARY_HEADERS)}
    for row, key in enumerate(keys, start=title_row + 2):
        cells.update(
            {
                f"O{row}": key,
                f"P{row}": f"=COUNTIF({keyed},O{row})",
                f"Q{row}": f"=SUMIF({keyed},O{row},{clv})",
                f"R{row}": f"=IF(P{row}>0,Q{row}/P{row},0)",
                f"S{row}": f"=IF(P{row}>0,SUMIF({keyed},O{row},{ratio})/P{row},0)",
            }
        )
    return cells


def tier_summary(customers: int) -> dict:
    """Cells of the summary by tier (address -> value or formula)."""
    cells = _summary_rows(TIER_TITLE_ROW, "M", TIER_LABELS, customers)
    cells[f"O{TIER_TITLE_ROW + 1}"] = "Tier"
    return cells


def channel_summary(customers: int, channels) -> dict:
    """Cells of the summary by acquisition channel, one row per channel."""
    channels = list(channels)[:MAX_CHANNELS]
    cells = _summary_rows(CHANNEL_TITLE_ROW, "B", channels, customers)
    cells[f"O{CHANNEL_TITLE_ROW + 1}"] = "Channel"
    return cells


def channel_rows_range() -> str:
    """Every cell the channel summary may use, for clearing before a rewrite."""
    first = CHANNEL_TITLE_ROW + 2
    return f"O{first}:S{first + MAX_CHANNELS - 1}"


def tier_chart_rows() -> tuple[int, int]:
    """First and last sheet row of the tier summary's data (the chart source)."""
    first = TIER_TITLE_ROW + 2
    return first, first + len(TIER_LABELS) - 1
