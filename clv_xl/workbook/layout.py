"""Where things are on the template's Customers sheet, and the formulas that go there.

Pure text: the template builder and the Refresh macro both call these, so the
formulas a user gets after pasting 5,000 customers are exactly the ones the
template was built with, resized.
"""

from __future__ import annotations

from ..formula import DEFAULT_THREE_TIER_LABELS


def offset(address: str, rows: int = 0, cols: int = 0) -> str:
    """The cell ``rows`` below and ``cols`` right of ``address``: ``offset("D4", 1, 2)`` is ``F5``."""
    letters = address.rstrip("0123456789")
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    number += cols
    column = ""
    while number:
        number, rest = divmod(number - 1, 26)
        column = chr(ord("A") + rest) + column
    return f"{column}{int(address[len(letters):]) + rows}"


def row_of(address: str) -> int:
    """The sheet row of ``address``: 27 for ``A27``."""
    return int(address.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


# --- Examples sheet ------------------------------------------------------------------------------

EXAMPLES_SHEET = "Examples"
EXAMPLES_FIRST_ROW = 5  # one worked example a row; the headers in the row above
EXAMPLE_RESULT_COLUMN, EXAMPLE_STATED_COLUMN, EXAMPLE_CHECK_COLUMN = "N", "O", "P"


def example_input_cells(row: int, number: int) -> tuple[str, str]:
    """Name and value cells of input ``number`` (0, 1, ...) of the worked example in ``row``: D:E, F:G, ..."""
    name = offset(f"D{row}", cols=2 * number)
    return name, offset(name, cols=1)


# --- Customers sheet -----------------------------------------------------------------------------

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
CLV_COLUMN, NET_CLV_COLUMN, CAC_RATIO_COLUMN, PAYBACK_COLUMN, TIER_COLUMN = OUTPUT_HEADERS
DISCOUNT_CELL = "P2"
STATUS_CELL = "P4"
TIER_TITLE_ROW = 11
#: the labels CLV_SEGMENT gives with its default three tiers: the tier summaries count these
TIER_LABELS = DEFAULT_THREE_TIER_LABELS
CHANNEL_TITLE_ROW = 17
MAX_CHANNELS = 12
CUSTOMER_SUMMARY_COLUMN = "O"  # the keys (tier, channel) of the Customers sheet's summaries
#: the columns of a summary, left to right from its key column
SUMMARY_STATISTICS = ("key", "count", "total", "average", "mean")


def summary_column(key_column: str, statistic: str) -> str:
    """Column of ``statistic`` (one of :data:`SUMMARY_STATISTICS`) in a summary whose keys are in ``key_column``."""
    return chr(ord(key_column) + SUMMARY_STATISTICS.index(statistic))


class Text(str):
    """Text for a cell (a label, a user's channel name): the macros write it as a value, never as a formula.

    Formulas here are plain ``str``; marking text by its type, not by how it starts,
    keeps a channel named ``=HYPERLINK(...)`` or ``+SUM(1)`` text.
    """


def last_row(customers: int) -> int:
    """Sheet row of the last customer (at least the first data row)."""
    return FIRST_ROW + max(customers, 1) - 1


def column_range(column: str, customers: int, absolute: bool = False) -> str:
    """``C2:C201`` for 200 customers; ``$C$2:$C$201`` when ``absolute``."""
    return _column_cells(column, FIRST_ROW, customers, absolute)


def _column_cells(column: str, first_row: int, count: int, absolute: bool = False) -> str:
    """``count`` cells (at least one) of ``column`` from ``first_row``: ``C2:C201``, or ``$C$2:$C$201``."""
    dollar = "$" if absolute else ""
    last = first_row + max(count, 1) - 1
    return f"{dollar}{column}{dollar}{first_row}:{dollar}{column}{dollar}{last}"


def customer_output_formulas(customers: int) -> dict:
    """Spilled formula per output column, anchored in the first data row."""
    c, d, e, f, g = (column_range(col, customers) for col in "CDEFG")
    discount = _absolute(DISCOUNT_CELL)
    clv = column_range(CLV_COLUMN, customers)
    return {
        f"{CLV_COLUMN}{FIRST_ROW}": f"=CLV_AVG({c},{d},{e},{f},{discount})",
        f"{NET_CLV_COLUMN}{FIRST_ROW}": f"=CLV_AVG({c},{d},{e},{f},{discount},{g})",
        f"{CAC_RATIO_COLUMN}{FIRST_ROW}": f"=CLV_CAC_RATIO({clv},{g})",
        f"{PAYBACK_COLUMN}{FIRST_ROW}": f"=CLV_PAYBACK({c}*{d}*{f},{g})",
        f"{TIER_COLUMN}{FIRST_ROW}": f"=CLV_SEGMENT({clv})",
    }


#: Label of the cell beside each summary's title that counts the rows holding an error message.
ERROR_ROWS_LABEL = "Rows with an error"


def _summary_rows(title_row, first_column, keys, key_range, value_range, mean_range, headers):
    """A header row, then per key: count, total and average value, average of a second column.

    ``first_column`` holds the keys; the four statistics follow in the next columns. Headers
    and keys are :class:`Text`; the formulas refer to the key cells. Beside the title, the
    number of rows whose value is an error message (text starting with ``#``, which COUNTIF
    and SUMIF otherwise skip), so the counts never drop customers without a sign.
    """
    columns = [summary_column(first_column, statistic) for statistic in SUMMARY_STATISTICS]
    key, count, total, average, mean = columns
    cells = {f"{col}{title_row + 1}": Text(header) for col, header in zip(columns, headers)}
    cells[f"{average}{title_row}"] = Text(ERROR_ROWS_LABEL)
    cells[f"{mean}{title_row}"] = f'=COUNTIF({value_range},"#*")'
    for row, name in enumerate(keys, start=title_row + 2):
        cells.update({
            f"{key}{row}": Text(name),
            f"{count}{row}": f"=COUNTIF({key_range},{key}{row})",
            f"{total}{row}": f"=SUMIF({key_range},{key}{row},{value_range})",
            f"{average}{row}": f"=IF({count}{row}>0,{total}{row}/{count}{row},0)",
            f"{mean}{row}": f"=IF({count}{row}>0,SUMIF({key_range},{key}{row},{mean_range})/{count}{row},0)",
        })
    return cells


def _customer_summary(title_row, key_header, key_column, keys, customers):
    return _summary_rows(
        title_row, CUSTOMER_SUMMARY_COLUMN, keys,
        column_range(key_column, customers, absolute=True),
        column_range(CLV_COLUMN, customers, absolute=True),
        column_range(CAC_RATIO_COLUMN, customers, absolute=True),
        (key_header, "Customers", "Total CLV", "Average CLV", "Average CLV:CAC"),
    )


def tier_summary(customers: int) -> dict:
    """Cells of the summary by tier (address -> value or formula)."""
    return _customer_summary(TIER_TITLE_ROW, "Tier", TIER_COLUMN, TIER_LABELS, customers)


def channel_summary(customers: int, channels) -> dict:
    """Cells of the summary by acquisition channel, one row per channel."""
    return _customer_summary(CHANNEL_TITLE_ROW, "Channel", "B", list(channels)[:MAX_CHANNELS], customers)


def channel_rows_range() -> str:
    """Every cell the channel summary may use, for clearing before a rewrite."""
    first = CHANNEL_TITLE_ROW + 2
    last_column = summary_column(CUSTOMER_SUMMARY_COLUMN, SUMMARY_STATISTICS[-1])
    return f"{CUSTOMER_SUMMARY_COLUMN}{first}:{last_column}{first + MAX_CHANNELS - 1}"


def tier_chart_rows(title_row: int = TIER_TITLE_ROW) -> tuple[int, int]:
    """First and last sheet row of the data of the tier summary titled in ``title_row`` (the chart source)."""
    first = title_row + 2
    return first, first + len(TIER_LABELS) - 1


# --- Transactions and Prediction sheets ----------------------------------------------------

TRANSACTIONS_SHEET = "Transactions"
TRANSACTION_HEADERS = {"A": "Customer ID", "B": "Date", "C": "Amount"}
TRANSACTIONS_FIRST_ROW = 2  # the order lines; the headers in the row above
TRANSACTIONS_HEADER_CELL = f"A{TRANSACTIONS_FIRST_ROW - 1}"
TRANSACTIONS_ANCHOR = f"A{TRANSACTIONS_FIRST_ROW}"  # where the order lines start
CSV_PATH_CELL = "F2"
DATE_ORDER_CELL = "F5"  # auto (blank), day-month or month-day: the date order of the CSV file's dates
TRANSACTIONS_STATUS_CELL = "F4"
COHORT_ANCHOR = "H3"

PREDICTION_SHEET = "Prediction"
AS_OF_CELL, PERIOD_CELL, HORIZON_CELL, DISCOUNT_YEAR_CELL, MARGIN_CELL = "B3", "B4", "B5", "B6", "B7"
BGNBD_BLOCK = "D4:E8"
GG_BLOCK = "N4:O7"  # label and estimate columns; the spilled block is wider (fit_block_size)
BGNBD_ANCHOR, GG_ANCHOR = BGNBD_BLOCK.split(":")[0], GG_BLOCK.split(":")[0]
RFM_ANCHOR_ROW = 20  # the CLV_RFM table's header row; customers from the next row
PREDICTION_HEADERS = {
    "G": "P(alive)",
    "H": "Expected purchases (horizon)",
    "I": "Expected spend per purchase",
    "J": "Predicted CLV",
    "K": "Tier",
}
PREDICTION_TIER_TITLE_ROW = 19
PREDICTION_SUMMARY_COLUMN = "M"  # the tiers of the Prediction sheet's summary
FIT_CHECK_CELL = "B13"  # model-implied over actual repeat purchases to date


def fit_block_size(parameters: int) -> tuple[int, int]:
    """Rows and columns a CLV_FIT_* block spills for a model with ``parameters`` parameters.

    One row per parameter and the log-likelihood row; columns label, estimate,
    standard error, 95% low, 95% high, then one correlation per parameter.
    """
    return parameters + 1, 5 + parameters


def transaction_range(column: str, transactions: int) -> str:
    """``Transactions!$A$2:$A$4001`` for 4,000 order lines."""
    return f"{TRANSACTIONS_SHEET}!" + _column_cells(column, TRANSACTIONS_FIRST_ROW, transactions, absolute=True)


def transaction_lines(last_row: int) -> str:
    """``A2:C4001``: the order-line cells down to sheet row ``last_row``."""
    columns = list(TRANSACTION_HEADERS)
    return f"{columns[0]}{TRANSACTIONS_FIRST_ROW}:{columns[-1]}{last_row}"


def cohort_formula(transactions: int) -> str:
    """The monthly cohort retention table of the Transactions sheet."""
    ids, dates = (transaction_range(col, transactions).split("!")[1] for col in "AB")
    return f'=CLV_COHORT({ids},{dates},"M")'


def _customer_column(column: str, customers: int) -> str:
    """A column of the Prediction sheet's customer table, below its header row."""
    return _column_cells(column, RFM_ANCHOR_ROW + 1, customers)


def prediction_formulas(transactions: int, customers: int) -> dict:
    """Spilled formulas of the Prediction sheet: address -> (formula, rows, columns).

    ``customers`` is the number of customers with a purchase on or before the
    as-of date (the rows of the CLV_RFM table below its header).
    """
    ids, dates, amounts = (transaction_range(col, transactions) for col in "ABC")
    frequency, recency, age, monetary = (_customer_column(col, customers) for col in "BCDE")
    bgnbd, gg = _absolute(BGNBD_BLOCK), _absolute(GG_BLOCK)
    horizon, discount, margin, period = (_absolute(cell) for cell in
                                         (HORIZON_CELL, DISCOUNT_YEAR_CELL, MARGIN_CELL, PERIOD_CELL))
    first = RFM_ANCHOR_ROW + 1
    return {
        f"A{RFM_ANCHOR_ROW}": (f"=CLV_RFM({ids},{dates},{amounts},{_absolute(AS_OF_CELL)},{period})",
                               customers + 1, 5),
        BGNBD_ANCHOR: (f"=CLV_FIT_BGNBD({frequency},{recency},{age})", *fit_block_size(4)),
        GG_ANCHOR: (f"=CLV_FIT_GG({frequency},{monetary})", *fit_block_size(3)),
        f"G{first}": (f"=CLV_PALIVE({bgnbd},{frequency},{recency},{age})", customers, 1),
        f"H{first}": (f"=CLV_PURCHASES({bgnbd},{frequency},{recency},{age},{horizon})", customers, 1),
        f"I{first}": (f"=CLV_SPEND({gg},{frequency},{monetary})", customers, 1),
        f"J{first}": (f"=CLV_PREDICT({bgnbd},{gg},{frequency},{recency},{age},{monetary},"
                      f"{horizon},{margin},{discount},{period})", customers, 1),
        f"K{first}": (f"=CLV_SEGMENT({_customer_column('J', customers)})", customers, 1),
        FIT_CHECK_CELL: (f"=SUM(CLV_PURCHASES_NEW({bgnbd},{age}))/SUM({frequency})", 1, 1),
    }


def prediction_tier_summary(customers: int) -> dict:
    """Count, total and average predicted CLV and average P(alive) per tier (address -> formula)."""
    return _summary_rows(
        PREDICTION_TIER_TITLE_ROW, PREDICTION_SUMMARY_COLUMN, TIER_LABELS,
        _absolute(_customer_column("K", customers)),
        _absolute(_customer_column("J", customers)),
        _absolute(_customer_column("G", customers)),
        ("Tier", "Customers", "Total CLV", "Average CLV", "Average P(alive)"),
    )


def _absolute(reference: str) -> str:
    """``$D$4:$E$8`` for ``D4:E8``; leaves sheet-qualified references alone."""
    if "!" in reference:
        return reference
    return ":".join("$" + "".join(c for c in part if c.isalpha()) + "$" + "".join(c for c in part if c.isdigit())
                    for part in reference.split(":"))


# --- Subscription sheet ----------------------------------------------------------------------

SUBSCRIPTION_SHEET = "Subscription"
SURVIVAL_FIRST_ROW = 5  # year 0 of the survivor table; one year a row, the headers in the row above
#: survivors as a share of year 0, actual and sBG-fitted, per cohort
REGULAR_SHARE_COLUMN, REGULAR_FITTED_COLUMN, HIGH_END_SHARE_COLUMN, HIGH_END_FITTED_COLUMN = "D", "E", "F", "G"


def survival_cell(column: str, year: int) -> str:
    """The survivor-table cell of ``year`` (0, 1, ...) in ``column``: ``E17`` for the regular fit in year 12."""
    return f"{column}{SURVIVAL_FIRST_ROW + year}"


# --- Validation sheet -------------------------------------------------------------------------

VALIDATION_SHEET = "Validation"
CALIBRATION_END_CELL, OBSERVATION_END_CELL, VALIDATION_PERIOD_CELL = "B3", "B4", "B5"
VALIDATION_HORIZON_CELL, VALIDATION_MARGIN_CELL, VALIDATION_DISCOUNT_CELL = "B6", "B7", "B8"
VALIDATION_BGNBD_ANCHOR, VALIDATION_GG_ANCHOR = "D4", "D11"
HOLDOUT_ANCHOR_ROW = 40  # the CLV_HOLDOUT table's header row; customers from the next row
TRACKING_ANCHOR, FREQ_FIT_ANCHOR, CONDITIONAL_ANCHOR, SPEND_ANCHOR = "N3", "U3", "U17", "U30"
INTERVAL_ANCHOR = "A27"
MAX_COUNT = 7  # repeat-purchase counts 0..6 and 7+
VALIDATION_CHECKS_FIRST_ROW = 18  # one check a row: title, result, stated, OK?, verdict (A:E)


def tracking_last_row(periods: int) -> int:
    """Sheet row of the last period of the tracking table (CLV_TRACKING, ``periods`` rows below its header)."""
    return row_of(TRACKING_ANCHOR) + periods


def freq_fit_p_value_row() -> int:
    """Sheet row of the chi-square p-value in the CLV_FREQ_FIT table."""
    return row_of(FREQ_FIT_ANCHOR) + MAX_COUNT + 4


def all_customers_row(anchor: str) -> int:
    """Sheet row of the "all" row of a CLV_CONDITIONAL or CLV_CONDITIONAL_SPEND table at ``anchor``."""
    return row_of(anchor) + MAX_COUNT + 2


def _holdout_column(column: str, customers: int) -> str:
    """A column of the Validation sheet's holdout table, below its header row (absolute)."""
    return _column_cells(column, HOLDOUT_ANCHOR_ROW + 1, customers, absolute=True)


def validation_formulas(transactions: int, customers: int, periods: int) -> dict:
    """Spilled formulas of the Validation sheet: address -> (formula, rows, columns).

    ``customers``: customers with a purchase on or before the calibration end
    (the rows of the CLV_HOLDOUT table); ``periods``: rows of the tracking table.
    """
    ids, dates, amounts = (transaction_range(col, transactions) for col in "ABC")
    calibration, observation, period, horizon, margin, discount = (_absolute(cell) for cell in (
        CALIBRATION_END_CELL, OBSERVATION_END_CELL, VALIDATION_PERIOD_CELL, VALIDATION_HORIZON_CELL,
        VALIDATION_MARGIN_CELL, VALIDATION_DISCOUNT_CELL))
    frequency, recency, age, monetary, holdout, holdout_spend, length = (
        _holdout_column(col, customers) for col in "BCDEFGH")
    bgnbd_rows, bgnbd_cols = fit_block_size(4)
    gg_rows, gg_cols = fit_block_size(3)
    bgnbd = _block(VALIDATION_BGNBD_ANCHOR, bgnbd_rows, bgnbd_cols)
    gg = _block(VALIDATION_GG_ANCHOR, gg_rows, gg_cols)
    return {
        f"A{HOLDOUT_ANCHOR_ROW}": (f"=CLV_HOLDOUT({ids},{dates},{amounts},{calibration},{observation},{period})",
                                   customers + 1, 8),
        VALIDATION_BGNBD_ANCHOR: (f"=CLV_FIT_BGNBD({frequency},{recency},{age})", bgnbd_rows, bgnbd_cols),
        VALIDATION_GG_ANCHOR: (f"=CLV_FIT_GG({frequency},{monetary})", gg_rows, gg_cols),
        TRACKING_ANCHOR: (f"=CLV_TRACKING({bgnbd},{ids},{dates},{observation},{period})", periods + 1, 6),
        FREQ_FIT_ANCHOR: (f"=CLV_FREQ_FIT({bgnbd},{frequency},{age},{MAX_COUNT})", MAX_COUNT + 5, 3),
        CONDITIONAL_ANCHOR: (f"=CLV_CONDITIONAL({bgnbd},{frequency},{recency},{age},{holdout},{length},"
                             f"{MAX_COUNT})", MAX_COUNT + 3, 4),
        SPEND_ANCHOR: (f"=CLV_CONDITIONAL_SPEND({gg},{frequency},{monetary},{holdout},{holdout_spend},"
                       f"{MAX_COUNT})", MAX_COUNT + 3, 4),
        INTERVAL_ANCHOR: (f"=CLV_PREDICT_INTERVAL({bgnbd},{gg},{frequency},{recency},{age},{monetary},"
                          f"{horizon},{margin},{discount},{period},TRUE)", 2, 3),
    }


def _block(anchor: str, rows: int, cols: int) -> str:
    """``$D$4:$L$8``: the absolute range of a ``rows`` x ``cols`` block at ``anchor``."""
    return _absolute(f"{anchor}:{offset(anchor, rows - 1, cols - 1)}")
