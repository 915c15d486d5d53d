"""Build ``workbook_template.xlsm`` from code, so it never drifts from the functions.

XlsxWriter writes the sheets, formulas (spilled ones as dynamic-array formulas),
buttons, a native chart and the VBA project (:mod:`clv_xl.workbook.vba`). Then the
headless recalculation (:mod:`clv_xl.recalc`) evaluates every formula with the
``CLV_*`` functions and stores the results as the cells' cached values, so the
file shows numbers wherever it is opened.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import tempfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from .. import TEMPLATE_NAME, recalc
from . import examples, layout, sample_data, vba
from .reference import function_reference
from .report import check_formula
from ..transactions import DATE_ORDERS, observed_customers
from ..models import bgnbd as bgnbd_model
from ..models import diagnostics
from ..models import gamma_gamma as gamma_gamma_model
from ..models import rfm as rfm_model
from ..models import sbg as sbg_model
from ..excel.results import FIT_BLOCK_HEADER
from ..udfs import FUNCTIONS

MACROS = {
    "RefreshCustomers": "import clv_xl.workbook.macros; clv_xl.workbook.macros.refresh()",
    "LoadTransactions": "import clv_xl.workbook.macros; clv_xl.workbook.macros.load_transactions()",
    "ImportFunctions": "import clv_xl.workbook.macros; clv_xl.workbook.macros.import_functions()",
}
BUTTONS = {"RefreshCustomers": "Refresh customers", "LoadTransactions": "Load CSV",
           "ImportFunctions": "Import functions"}
# Only keys we mean: an empty value would override the user's own xlwings settings.
CONF_SETTINGS = {"UDF Modules": "clv_xl.udfs"}
SHEETS = ("Start", layout.EXAMPLES_SHEET, layout.CUSTOMERS_SHEET, "Methods", "Churn",
          layout.TRANSACTIONS_SHEET, layout.PREDICTION_SHEET, layout.VALIDATION_SHEET, layout.SUBSCRIPTION_SHEET,
          "Reference")

#: calcId of Excel 2019 and Microsoft 365: a file saved by the current calculation engine.
CURRENT_EXCEL_CALC_ID = 191029

WHAT_IF_CHURN = (0.02, 0.05, 0.10, 0.15, 0.20, 0.30)
WHAT_IF_DISCOUNT = (0.0, 0.005, 0.01, 0.02)


class Formats:
    """The workbook's cell formats, by role."""

    def __init__(self, book):
        add = book.add_format
        self.title = add({"bold": True, "font_size": 16, "font_color": "#1F4E79"})
        self.heading = add({"bold": True, "font_size": 12, "font_color": "#1F4E79"})
        self.header = add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                           "valign": "top"})
        self.output_header = add({"bold": True, "bg_color": "#E2EFDA", "border": 1,
                                  "text_wrap": True, "valign": "top"})
        self.text = add({"text_wrap": True, "valign": "top"})
        self.note = add({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.hint = add({"italic": True, "font_color": "#595959"})
        self.input = add({"bg_color": "#FFF2CC", "num_format": "#,##0.00"})
        self.input_percent = add({"bg_color": "#FFF2CC", "num_format": "0.0%"})
        self.input_text = add({"bg_color": "#FFF2CC"})
        self.money = add({"num_format": "#,##0.00"})
        self.number = add({"num_format": "0.00"})
        self.percent = add({"num_format": "0.0%"})
        self.check = add({"bold": True, "font_color": "#375623"})
        self.date = add({"num_format": "yyyy-mm-dd"})
        self.input_date = add({"bg_color": "#FFF2CC", "num_format": "yyyy-mm-dd"})
        self.decimal = add({"num_format": "0.000"})
        self.month = add({"num_format": "yyyy-mm", "bold": True})
        self.header_number = add({"num_format": "0", "bold": True, "bg_color": "#E2EFDA"})


class SheetWriter:
    """One worksheet, written by A1 address."""

    def __init__(self, book, name, formats):
        self.sheet = book.add_worksheet(name)
        self.sheet.set_landscape()
        self.sheet.fit_to_pages(1, 0)
        self.formats = formats
        self.widths = {}
        self.heights = {}

    def columns(self, widths: dict):
        """Set column widths in characters: ``{"A": 46, "D:M": 13}`` (a column or a span of columns)."""
        for span, width in widths.items():
            first, _, last = span.partition(":")
            last = last or first
            self.sheet.set_column(f"{first}:{last}", width)
            for col in range(ord(first), ord(last) + 1):
                self.widths[chr(col)] = width

    def write(self, address, value, style=None):
        row, col = xl_cell_to_rowcol(address)
        fmt = getattr(self.formats, style) if style else None
        if isinstance(value, str) and value.startswith("=") and not isinstance(value, layout.Text):
            self.sheet.write_formula(row, col, value, fmt)
            return
        if isinstance(value, str):  # data and labels stay text, whatever they start with
            self.sheet.write_string(row, col, value, fmt)
        else:
            self.sheet.write(row, col, value, fmt)
        if style in ("text", "note", "header", "output_header") and isinstance(value, str):
            self._fit_row_height(row, address.rstrip("0123456789"), value)

    def _fit_row_height(self, row, column, text):
        """Wrapped text needs a taller row: neither Excel nor LibreOffice fits it on open."""
        per_line = max(self.widths.get(column, 8.43) * 1.1, 1)
        lines = max(1, -(-len(text) // int(per_line)))
        needed = 15 * lines
        if needed > self.heights.get(row, 15):
            self.heights[row] = needed
            self.sheet.set_row(row, needed)

    def spill(self, address, formula, rows, cols=1, style=None):
        """A dynamic-array formula at ``address`` spilling ``rows`` x ``cols`` cells."""
        row, col = xl_cell_to_rowcol(address)
        fmt = getattr(self.formats, style) if style else None
        self.sheet.write_dynamic_array_formula(row, col, row + rows - 1, col + cols - 1, formula, fmt)

    def restyle(self, first, last, style):
        """Give the spilled cells ``first``..``last`` (not an anchor) another format."""
        (row1, col1), (row2, col2) = xl_cell_to_rowcol(first), xl_cell_to_rowcol(last)
        for row in range(row1, row2 + 1):
            for col in range(col1, col2 + 1):
                self.sheet.write_number(row, col, 0, getattr(self.formats, style))

    def row(self, address, values, style=None):
        row, col = xl_cell_to_rowcol(address)
        for offset, value in enumerate(values):
            self.write(xl_rowcol_to_cell(row, col + offset), value, style)

    def lines(self, address, texts, style="text"):
        row, col = xl_cell_to_rowcol(address)
        for offset, text in enumerate(texts):
            self.write(xl_rowcol_to_cell(row + offset, col), text, style)

    def button(self, address, macro):
        row, col = xl_cell_to_rowcol(address)
        self.sheet.insert_button(row, col, {"macro": macro, "caption": BUTTONS[macro],
                                            "width": 150, "height": 28})


# --- sheets -----------------------------------------------------------------------


def write_start(writer):
    writer.columns({"A": 100})
    writer.write("A1", "clv-xl: Customer Lifetime Value in Excel", "title")
    writer.lines("A3", [
        "This workbook computes Customer Lifetime Value (CLV) with the CLV_* functions of the "
        "clv-xl Python add-in. Every yellow cell is an input you can change; green headers mark "
        "results. Rates are fractions: type 20% or 0.2.",
        "Sheets: Examples (worked examples with checks), Customers (your customer table: paste "
        "your own rows over columns A:G and press Refresh customers), Methods (one customer by "
        "every method), Churn (churn from customer counts and a what-if grid), Transactions and "
        "Prediction (predicted CLV from an order list with the BG/NBD and Gamma-Gamma models), "
        "Validation (does the model fit? holdout tests, charts, standard errors and intervals), "
        "Subscription (retention projected with the shifted-beta-geometric model), Reference "
        "(every function and argument).",
    ])
    writer.write("A6", "Set-up (Windows)", "heading")
    writer.lines("A7", [
        "1. Install Python 3.10+ and clv-xl: pip install <the clv-xl folder or its .whl file> "
        "(clv-xl is not on PyPI yet).",
        "2. Open this file and click Enable Content (macros). Trust Center: allow macros for this "
        "file or its folder.",
        "3. If Python is not found, add a row to the xlwings.conf sheet: Interpreter_Win in column "
        "A, the full path of python.exe in column B (on macOS: Interpreter_Mac).",
        "4. The CLV_* functions are already wired into this file: no add-in or 'Import functions' "
        "step is needed. Press Import functions after upgrading clv-xl.",
        "Where it is opened: Excel on Windows with Python recalculates live. Excel without Python "
        "(Windows, Mac, the web) shows the stored results, which stay until you change an input "
        "they use. LibreOffice shows single-cell results but not the spilled columns. To share "
        "results with anyone: clv-xl recalc workbook_template.xlsm -o results.xlsx --values-only.",
    ])
    writer.write("A13", "Buttons", "heading")
    writer.button("A14", "RefreshCustomers")
    writer.button("A16", "ImportFunctions")
    writer.lines("A18", [
        "Refresh customers: resizes the results on the Customers sheet to the rows of your "
        "table, recalculates, and writes what it did in the status cell. It never changes "
        "your inputs (columns A:G).",
        "Load CSV (Transactions sheet): reads the order file named there (customer, date, "
        "amount) into the Transactions sheet and resizes the Prediction sheet to it.",
        "Import functions: re-registers the CLV_* functions (xlwings ImportPythonUDFs); needs "
        "'Trust access to the VBA project object model'.",
    ], "note")


EXAMPLE_INPUTS = 5  # input columns of the Examples sheet (name, value pairs in D:M)


def write_examples(writer):
    writer.columns({"A": 46, "B": 40, "C": 11, "D:M": 13, "N:P": 12})
    writer.write("A1", "Worked examples from the source documents", "title")
    writer.write("A2", "Each row: the inputs, the CLV_* formula on them, the value the source "
                       "states, and a check (OK when they agree to the cent).", "note")
    headers = ["Example", "Source", "Function"]
    for number in range(1, EXAMPLE_INPUTS + 1):
        headers += [f"Input {number}", f"Value {number}"]
    writer.row(f"A{layout.EXAMPLES_FIRST_ROW - 1}", headers + ["Result", "Stated", "Check"], "header")
    for row, example in enumerate(examples.WORKED_EXAMPLES, start=layout.EXAMPLES_FIRST_ROW):
        writer.row(f"A{row}", [example.title, example.source, example.function], "text")
        value_cells = []
        for number, (name, value) in enumerate(example.inputs.items()):
            name_cell, value_cell = layout.example_input_cells(row, number)
            writer.write(name_cell, name)
            writer.write(value_cell, value, "input_percent" if _is_rate(name) else "input")
            value_cells.append(value_cell)
        _check_prefix_of_signature(example)
        result, stated = f"{layout.EXAMPLE_RESULT_COLUMN}{row}", f"{layout.EXAMPLE_STATED_COLUMN}{row}"
        writer.write(result, f"={example.function}({','.join(value_cells)})", "money")
        writer.write(stated, example.expected, "money")
        writer.write(f"{layout.EXAMPLE_CHECK_COLUMN}{row}", check_formula(result, stated, 0.005), "check")


def _is_rate(name):
    return name in {"margin", "churn_rate", "discount_rate"}


def _check_prefix_of_signature(example):
    names = list(inspect.signature(FUNCTIONS[example.function]).parameters)
    if list(example.inputs) != names[: len(example.inputs)]:
        raise ValueError(f"example inputs {list(example.inputs)} are not a prefix of {names}")
    if len(example.inputs) > EXAMPLE_INPUTS:
        raise ValueError(f"example inputs must be at most {EXAMPLE_INPUTS} (got {len(example.inputs)})")


def write_customers(writer, book, customers):
    sheet = writer.sheet
    sheet.freeze_panes(1, 1)
    writer.columns({"A:G": 13, "H": 3, "I:M": 14, "O": 24, "P:S": 14})
    count = len(customers)
    writer.row("A1", list(layout.INPUT_HEADERS.values()), "header")
    writer.row("I1", list(layout.OUTPUT_HEADERS.values()), "output_header")
    styles = ["input_text", "input_text", "input", "input", "input", "input_percent", "input"]
    for offset, record in enumerate(customers.itertuples(index=False)):
        for col, value, style in zip(layout.INPUT_HEADERS, record, styles):
            writer.write(f"{col}{layout.FIRST_ROW + offset}", value, style)
    output_styles = ["money", "money", "number", "number", None]
    for (address, text), style in zip(layout.customer_output_formulas(count).items(), output_styles):
        writer.spill(address, text, count, style=style)
    writer.write("O1", "Settings and status", "heading")
    writer.write(layout.offset(layout.DISCOUNT_CELL, cols=-1), "Discount rate per year")
    writer.write(layout.DISCOUNT_CELL, 0.10, "input_percent")
    writer.write(layout.offset(layout.STATUS_CELL, cols=-1), "Status")
    writer.write(layout.STATUS_CELL, f"Built with {count} sample customers")
    writer.button("O6", "RefreshCustomers")
    writer.write("O8", "Paste your customers over A:G (one row each, no gaps),", "hint")
    writer.write("O9", "then press Refresh customers.", "hint")
    writer.write(f"{layout.CUSTOMER_SUMMARY_COLUMN}{layout.TIER_TITLE_ROW}", "Summary by tier", "heading")
    _write_summary(writer, layout.tier_summary(count), layout.TIER_TITLE_ROW, layout.CUSTOMER_SUMMARY_COLUMN,
                   "number")
    writer.write(f"{layout.CUSTOMER_SUMMARY_COLUMN}{layout.CHANNEL_TITLE_ROW}", "Summary by acquisition channel",
                 "heading")
    channels = list(dict.fromkeys(customers["channel"]))
    _write_summary(writer, layout.channel_summary(count, channels), layout.CHANNEL_TITLE_ROW,
                   layout.CUSTOMER_SUMMARY_COLUMN, "number")
    first, last = layout.tier_chart_rows()
    _insert_column_chart(book, sheet, layout.CUSTOMERS_SHEET, (first - 1, last - 1),
                         *_key_and_average_columns(layout.CUSTOMER_SUMMARY_COLUMN), "Average CLV by tier", "U2")


def _key_and_average_columns(key_column):
    """0-based columns of a summary's keys and averages (a chart's categories and values)."""
    return tuple(ord(layout.summary_column(key_column, statistic)) - ord("A") for statistic in ("key", "average"))


def _write_summary(writer, cells, title_row, key_column, mean_style):
    """The cells of a summary (:func:`layout._summary_rows`), each styled by what it holds.

    Headers and the error-count label get the output header style; keys and
    counts none; totals and averages money; the last column ``mean_style``
    (``"number"`` for CLV:CAC, ``"percent"`` for P(alive)).
    """
    styles = {"key": None, "count": None, "total": "money", "average": "money", "mean": mean_style}
    for address, content in cells.items():
        row = int(address[1:])
        statistic = layout.SUMMARY_STATISTICS[ord(address[0]) - ord(key_column)]
        if isinstance(content, layout.Text):
            style = None if row > title_row + 1 else "output_header"
        else:
            style = None if row == title_row else styles[statistic]
        writer.write(address, content, style)


def _insert_column_chart(book, sheet, name, rows, label_col, value_col, title, anchor):
    """A column chart of one summary column (0-based sheet rows and columns)."""
    first, last = rows
    chart = book.add_chart({"type": "column"})
    chart.add_series({
        "name": title,
        "categories": [name, first, label_col, last, label_col],
        "values": [name, first, value_col, last, value_col],
        "fill": {"color": "#4472C4"},
        "data_labels": {"value": True, "num_format": "#,##0"},
    })
    chart.set_title({"name": title})
    chart.set_legend({"none": True})
    chart.set_y_axis({"name": "CLV", "num_format": "#,##0"})
    sheet.insert_chart(anchor, chart)


def write_methods(writer):
    writer.columns({"A": 34, "B": 14, "C": 60})
    writer.write("A1", "One customer, every method", "title")
    writer.write("A2", "The sources advise computing CLV by several methods and looking at where "
                       "they differ. Time unit: years; payments at the start of each year.", "note")
    inputs = [
        ("Avg purchase value", 50, "input"),
        ("Purchases per year", 6, "input"),
        ("Margin", 0.30, "input_percent"),
        ("Churn per year", 0.25, "input_percent"),
        ("Discount rate per year", 0.10, "input_percent"),
        ("Acquisition cost", 100, "input"),
        ("Service cost over the lifespan", 150, "input"),
    ]
    writer.row("A4", ["Input", "Value"], "header")
    for row, (label, value, style) in enumerate(inputs, start=5):
        writer.write(f"A{row}", label)
        writer.write(f"B{row}", value, style)
    writer.row("A13", ["Method", "CLV", "Formula and what it assumes"], "header")
    methods = [
        ("Lifespan from churn (years)", "=CLV_LIFESPAN(B8)", "1 / churn"),
        ("Average lifetime, revenue", "=CLV_AVG(B5,B6,B14)", "value x purchases x lifespan"),
        ("Average lifetime, with margin", "=CLV_AVG(B5,B6,B14,B7)", "x margin (extended method)"),
        ("Average lifetime, margin, discounted", "=CLV_AVG(B5,B6,B14,B7,B9)",
         "the average lifespan discounted, first year undiscounted"),
        ("Revenue method: revenue x margin / churn", "=CLV_CHURN(B5*B6,B7,B8)",
         "geometric survival, retention = 1 - churn"),
        ("Revenue method, discounted", "=CLV_CHURN(B5*B6,B7,B8,B9)",
         "x (1 + d) / (d + churn): the average of the discounted lifespans"),
        ("Net value: revenue - acquisition - service", "=CLV_NET(B15,B10,B11)",
         "lifetime revenue minus costs, undiscounted"),
        ("CLV:CAC (discounted margin CLV)", "=CLV_CAC_RATIO(B17,B10)", "3 or more is healthy"),
        ("CAC payback (years)", "=CLV_PAYBACK(B5*B6*B7,B10)",
         "acquisition cost / margin per year, margin earned evenly through the year"),
    ]
    for row, (label, text, note) in enumerate(methods, start=14):
        writer.write(f"A{row}", label)
        writer.write(f"B{row}", text, "money")
        writer.write(f"C{row}", note, "note")
    writer.write("A24", "Why the numbers differ", "heading")
    writer.lines("A25", [
        "Discounted average lifetime vs revenue method: CLV_AVG discounts the average lifespan "
        "(1 / churn = 4 years); CLV_CHURN averages the discounted value over all lifespans. "
        "Discounting weighs long lifespans less, so the second is lower when d > 0 (both are right; "
        "equal at d = 0).",
        "Payback counts margin as earned evenly through each year (2.5 = halfway through the third "
        "year), as finance's CAC payback does; the CLV methods take one payment at the start of each "
        "year.",
        "Subscriptions (Subscription sheet): CLV_DEL is a new subscriber's value including the first "
        "payment; CLV_DERL is the value of the payments after the current one, which it excludes.",
    ], "note")


def write_churn(writer, counts):
    writer.columns({"A": 26, "B:H": 13})
    writer.write("A1", "Churn, retention and lifespan from customer counts", "title")
    writer.write("A2", "Time unit: months. Churn = (start + new - end) / start.", "note")
    writer.row("A3", ["Revenue per month", "Margin", "Discount per month"], "header")
    writer.row("A4", [30], "input")
    writer.write("B4", 0.40, "input_percent")
    writer.write("C4", 0.01, "input_percent")
    headers = ["Period", "Customers start", "New customers", "Customers end",
               "Churn rate", "Retention", "Lifespan (months)", "CLV"]
    writer.row("A6", headers[:4], "header")
    writer.row("E6", headers[4:], "output_header")
    first = 7
    for offset, record in enumerate(counts.itertuples(index=False)):
        row = first + offset
        writer.write(f"A{row}", record.period, "input_text")
        writer.row(f"B{row}", [record.customers_start, record.new_customers, record.customers_end],
                   "input_text")
    last = first + len(counts) - 1
    rows = len(counts)
    writer.spill(f"E{first}", f"=CLV_CHURN_RATE(B{first}:B{last},D{first}:D{last},C{first}:C{last})",
                 rows, style="percent")
    writer.spill(f"F{first}", f"=CLV_RETENTION(E{first}:E{last})", rows, style="percent")
    writer.spill(f"G{first}", f"=CLV_LIFESPAN(E{first}:E{last})", rows, style="number")
    writer.spill(f"H{first}", f"=CLV_CHURN($A$4,$B$4,E{first}:E{last},$C$4)", rows, style="money")
    grid_top = last + 3
    writer.write(f"A{grid_top}", "What if: CLV by churn (rows) and discount rate (columns)", "heading")
    writer.write(f"A{grid_top + 1}", "Churn \\ discount", "header")
    writer.row(f"B{grid_top + 1}", list(WHAT_IF_DISCOUNT), "input_percent")
    for offset, churn in enumerate(WHAT_IF_CHURN):
        writer.write(f"A{grid_top + 2 + offset}", churn, "input_percent")
    churn_range = f"A{grid_top + 2}:A{grid_top + 1 + len(WHAT_IF_CHURN)}"
    last_col = chr(ord("B") + len(WHAT_IF_DISCOUNT) - 1)
    discount_range = f"B{grid_top + 1}:{last_col}{grid_top + 1}"
    writer.spill(f"B{grid_top + 2}", f"=CLV_CHURN($A$4,$B$4,{churn_range},{discount_range})",
                 len(WHAT_IF_CHURN), len(WHAT_IF_DISCOUNT), style="money")


def write_transactions(writer, transactions):
    writer.columns({"A:C": 13, "E": 16, "F": 60})
    writer.row(layout.TRANSACTIONS_HEADER_CELL, list(layout.TRANSACTION_HEADERS.values()), "header")
    for row, (customer, date, amount) in enumerate(transactions.itertuples(index=False),
                                                   start=layout.TRANSACTIONS_FIRST_ROW):
        writer.write(f"A{row}", int(customer), "input_text")
        writer.write(f"B{row}", date.to_pydatetime(), "input_date")
        writer.write(f"C{row}", float(amount), "input")
    writer.write("E1", "Load from CSV", "heading")
    writer.write(layout.offset(layout.CSV_PATH_CELL, cols=-1), "CSV file path")
    writer.write(layout.CSV_PATH_CELL, "C:\\data\\orders.csv", "input_text")
    writer.write("E3", "Columns: customer, date, amount (first three columns, with a header row).",
                 "hint")
    writer.write(layout.offset(layout.TRANSACTIONS_STATUS_CELL, cols=-1), "Status")
    writer.write(layout.TRANSACTIONS_STATUS_CELL,
                 f"Sample: {len(transactions):,} order lines simulated under BG/NBD + Gamma-Gamma")
    writer.write(layout.offset(layout.DATE_ORDER_CELL, cols=-1), "Date order")
    writer.write(layout.DATE_ORDER_CELL, DATE_ORDERS[0], "input_text")
    writer.sheet.data_validation(layout.DATE_ORDER_CELL, {
        "validate": "list", "source": list(DATE_ORDERS),
        "input_title": "Date order of the file",
        "input_message": "auto: decided from the whole date column. Choose day-month (31-12-2025) or "
                         "month-day (12-31-2025) when no day is above 12."})
    writer.button("E6", "LoadTransactions")
    writer.write("H1", "Cohort retention: share of each month's new customers who buy in later "
                       "months (CLV_COHORT)", "heading")
    cohorts = rfm_model.cohort_table(transactions["customer_id"], transactions["date"], period="M")
    rows, cols = cohorts.shape[0] + 1, cohorts.shape[1] + 1
    writer.spill(layout.COHORT_ANCHOR, layout.cohort_formula(len(transactions)), rows, cols,
                 style="percent")
    anchor_row, anchor_col = xl_cell_to_rowcol(layout.COHORT_ANCHOR)
    writer.restyle(xl_rowcol_to_cell(anchor_row, anchor_col + 1),
                   xl_rowcol_to_cell(anchor_row, anchor_col + cols - 1), "header_number")
    writer.restyle(xl_rowcol_to_cell(anchor_row + 1, anchor_col),
                   xl_rowcol_to_cell(anchor_row + rows - 1, anchor_col), "month")


def write_prediction(writer, book, transactions):
    sheet = writer.sheet
    writer.columns({"A": 30, "B:F": 12, "G:K": 14, "M:Q": 13})
    writer.write("A1", "Predicted CLV from transactions (BG/NBD + Gamma-Gamma)", "title")
    writer.write("A2", "From the order lines on the Transactions sheet: summary, fitted models, "
                       "then per customer P(alive), purchases, spend, CLV and tier.", "hint")
    settings = [("As of (end of observation)", dt.datetime(2025, 12, 31), "input_date"),
                ("Time unit (D, W, M, Y)", "W", "input_text"),
                ("Horizon (periods)", 52, "input"),
                ("Discount rate per year", 0.10, "input_percent"),
                ("Margin", 0.30, "input_percent")]
    _write_settings(writer, settings)
    _write_fit_header(writer, layout.BGNBD_ANCHOR, "BG/NBD fit", bgnbd_model.PARAM_NAMES)
    _write_fit_header(writer, layout.GG_ANCHOR, "Gamma-Gamma fit", gamma_gamma_model.PARAM_NAMES)
    customers = observed_customers(transactions, settings[0][1])
    fit_anchors = {layout.BGNBD_ANCHOR, layout.GG_ANCHOR}
    for address, (text, rows, cols) in layout.prediction_formulas(len(transactions), customers).items():
        writer.spill(address, text, rows, cols, style="decimal" if address in fit_anchors or rows == 1 else None)
    _write_prediction_checks(writer)
    writer.row(f"G{layout.RFM_ANCHOR_ROW}", list(layout.PREDICTION_HEADERS.values()), "output_header")
    writer.write(f"{layout.PREDICTION_SUMMARY_COLUMN}{layout.PREDICTION_TIER_TITLE_ROW}", "Summary by tier", "heading")
    _write_summary(writer, layout.prediction_tier_summary(customers), layout.PREDICTION_TIER_TITLE_ROW,
                   layout.PREDICTION_SUMMARY_COLUMN, "percent")
    first, last = layout.tier_chart_rows(layout.PREDICTION_TIER_TITLE_ROW)
    _insert_column_chart(book, sheet, layout.PREDICTION_SHEET, (first - 1, last - 1),
                         *_key_and_average_columns(layout.PREDICTION_SUMMARY_COLUMN), "Average predicted CLV by tier",
                         "S10")


def _write_prediction_checks(writer):
    published = sample_data.PUBLISHED
    writer.write("A10", "Checks", "heading")
    writer.row("A11", ["Check", "Result", "Stated", "OK?"], "header")
    writer.write("F11", "Published CDNOW BG/NBD", "hint")
    for row, (name, value) in enumerate(published["cdnow_bgnbd"].items(), start=12):
        writer.write(f"F{row}", name)
        writer.write(f"G{row}", value, "input")
    writer.write("A12", "E[purchases in 39 weeks], x=2, t_x=30.43, T=38.86, CDNOW fit (Fader, "
                        "Hardie & Lee 2005)", "text")
    writer.write("B12", "=CLV_PURCHASES($G$12:$G$15,2,30.43,38.86,39)", "decimal")
    writer.write("C12", published["cdnow_expected_39_weeks"], "decimal")
    writer.write("D12", check_formula("B12", "C12", 0.0005), "check")
    result = layout.FIT_CHECK_CELL  # its formula is one of layout.prediction_formulas
    stated = layout.offset(result, cols=1)
    writer.write(layout.offset(result, cols=-1), "BG/NBD fit: expected / actual repeat purchases to date (within 5%)",
                 "text")
    writer.write(stated, 1, "decimal")
    writer.write(layout.offset(result, cols=2), check_formula(result, stated, 0.05), "check")


def _write_settings(writer, settings, first_row=3):
    """(label, value, style) rows: labels in column A, input cells in column B."""
    for row, (label, value, style) in enumerate(settings, start=first_row):
        writer.write(f"A{row}", label)
        writer.write(f"B{row}", value, style)


def _write_fit_header(writer, anchor, title, labels):
    """Above the CLV_FIT_* block at ``anchor``: its heading and, to the right of it, the block's column names."""
    heading = layout.offset(anchor, rows=-1)
    writer.write(heading, title, "heading")
    row, col = xl_cell_to_rowcol(heading)
    names = FIT_BLOCK_HEADER[1:] + [f"corr. {label}" for label in labels]
    writer.row(xl_rowcol_to_cell(row, col + 1), names, "output_header")


VALIDATION_CALIBRATION_END = dt.datetime(2025, 8, 31)
VALIDATION_OBSERVATION_END = dt.datetime(2025, 12, 31)


def write_validation(writer, book, transactions):
    """Holdout validation of the Prediction sheet's models on the sample transactions.

    Calibration Jan-Aug 2025, holdout Sep-Dec: the split (CLV_HOLDOUT), the fits
    with standard errors, tracking, fit histogram and conditional expectations
    (tables and charts), the value with its 95% interval, and one check row
    per diagnostic with its threshold.
    """
    writer.columns({"A": 44, "B:C": 12, "D": 14, "E": 40, "F:L": 10, "N:X": 11})
    writer.write("A1", "Can I trust the model? Holdout validation (BG/NBD + Gamma-Gamma)", "title")
    writer.write("A2", "Fitted on the calibration months only, then compared with what the customers did in "
                       "the holdout months they were not fitted on (Fader, Hardie & Lee 2005).", "hint")
    settings = [("Calibration end", VALIDATION_CALIBRATION_END, "input_date"),
                ("Observation end (end of holdout)", VALIDATION_OBSERVATION_END, "input_date"),
                ("Time unit (D, W, M, Y)", "W", "input_text"),
                ("Horizon for the value (periods)", 52, "input"),
                ("Margin", 0.30, "input_percent"),
                ("Discount rate per year", 0.10, "input_percent")]
    _write_settings(writer, settings)
    _write_fit_header(writer, layout.VALIDATION_BGNBD_ANCHOR, "BG/NBD fit (calibration)", bgnbd_model.PARAM_NAMES)
    _write_fit_header(writer, layout.VALIDATION_GG_ANCHOR, "Gamma-Gamma fit (calibration)",
                      gamma_gamma_model.PARAM_NAMES)
    customers = observed_customers(transactions, VALIDATION_CALIBRATION_END)
    # the sample's own process gives the tracking table's length (the number of periods)
    tracking = diagnostics.tracking(bgnbd_model.BGNBDParams(**sample_data.SAMPLE_BGNBD), transactions["customer_id"],
                                    transactions["date"], end=VALIDATION_OBSERVATION_END)
    for address, (text, rows, cols) in layout.validation_formulas(len(transactions), customers,
                                                                  len(tracking)).items():
        writer.spill(address, text, rows, cols, style="decimal")
    writer.write(f"A{layout.HOLDOUT_ANCHOR_ROW - 1}", "The split: calibration summary and holdout purchases per "
                                                     "customer (CLV_HOLDOUT)", "heading")
    writer.write(layout.offset(layout.INTERVAL_ANCHOR, rows=-1), "Value of these customers over the horizon, with "
                                                           "its 95% interval (CLV_PREDICT_INTERVAL)", "heading")
    _write_validation_checks(writer, customers, len(tracking))
    _insert_validation_charts(book, writer.sheet, len(tracking))


def _write_validation_checks(writer, customers, periods):
    """One check row per diagnostic; the title states the threshold, column E the verdict."""
    first = layout.VALIDATION_CHECKS_FIRST_ROW
    writer.write(f"A{first - 2}", "Checks: does the model fit the holdout?", "heading")
    writer.row(f"A{first - 1}", ["Check (threshold)", "Result", "Stated", "OK?", "Verdict"], "header")

    def cell(anchor, row, cols):
        """The cell of sheet row ``row``, ``cols`` columns right of ``anchor``."""
        return layout.offset(anchor, row - layout.row_of(anchor), cols)

    tracking_last = layout.tracking_last_row(periods)
    tracking = [cell(layout.TRACKING_ANCHOR, tracking_last, cols) for cols in (5, 4)]  # cumulative: model, actual
    conditional, spend = ([cell(anchor, layout.all_customers_row(anchor), cols) for cols in (3, 2)]
                          for anchor in (layout.CONDITIONAL_ANCHOR, layout.SPEND_ANCHOR))  # model, actual
    p_value = cell(layout.FREQ_FIT_ANCHOR, layout.freq_fit_p_value_row(), 1)
    fitted, actual = (f"{layout.SUBSCRIPTION_SHEET}!{layout.survival_cell(column, 8)}:"
                       f"{layout.survival_cell(column, 12)}"
                       for column in (layout.REGULAR_FITTED_COLUMN, layout.REGULAR_SHARE_COLUMN))
    checks = [
        ("Tracking: expected / actual cumulative repeat purchases at the end of the holdout (within 10%)",
         "={}/{}".format(*tracking), 1, 0.1, "the model tracks the purchases of the base",
         "the model drifts away from the purchases of the base"),
        ("Fit histogram: chi-square p-value above 5% (|p - 1| < 0.95)", f"={p_value}", 1, 0.95,
         "the spread of repeat purchases fits", "the spread of repeat purchases does not fit"),
        ("Conditional expectations: predicted / actual holdout purchases per customer (within 10%)",
         "={}/{}".format(*conditional), 1, 0.1, "holdout purchases are predicted well",
         "holdout purchases are mispredicted: look at the groups"),
        ("Spend: expected / actual mean holdout spend per purchase (within 10%)",
         "={}/{}".format(*spend), 1, 0.1, "spend per purchase is predicted well",
         "spend per purchase is mispredicted"),
        ("sBG (Subscription sheet): largest gap, fitted vs actual survival of the regular cohort in the "
         "projected years 8-12 (under 2 points)", f"=MAX(ABS({fitted}-{actual}))",
         0, 0.02, "the retention projection holds", "the retention projection misses"),
    ]
    for row, (title, result, stated, tolerance, good, bad) in enumerate(checks, start=first):
        writer.write(f"A{row}", title, "text")
        writer.write(f"B{row}", result, "decimal")
        writer.write(f"C{row}", stated, "decimal")
        writer.write(f"D{row}", check_formula(f"B{row}", f"C{row}", tolerance), "check")
        writer.write(f"E{row}", f'=IF(D{row}="OK","Fits: {good}","Does not fit: {bad}")', "text")
    writer.write(f"A{first + len(checks) + 1}", f"{customers:,} customers first bought by the calibration end; "
                                                "the fit blocks give each "
                        "parameter's standard error (observed information) and 95% interval.", "hint")


def _insert_validation_charts(book, sheet, periods):
    """Tracking (per period and cumulative), fit histogram and conditional expectations."""
    name = layout.VALIDATION_SHEET
    header, period = xl_cell_to_rowcol(layout.TRACKING_ANCHOR)  # 0-based; the periods in the anchor's column
    first, last = header + 1, header + periods  # 0-based rows of the tracking table's data
    line_charts = [
        ("Repeat purchases per week: actual vs model", (first, last), period,
         ((period + 2, "Actual"), (period + 3, "Model")), "Z3"),
        ("Cumulative repeat purchases: actual vs model", (first, last), period,
         ((period + 4, "Actual"), (period + 5, "Model")), "Z20"),
    ]
    for title, (top, bottom), category, series, anchor in line_charts:
        chart = book.add_chart({"type": "line"})
        for col, label in series:
            chart.add_series({"name": label, "categories": [name, top, category, bottom, category],
                              "values": [name, top, col, bottom, col],
                              "line": {"dash_type": "dash" if label == "Model" else "solid"}})
        chart.set_title({"name": title})
        chart.set_x_axis({"name": "Week"})
        sheet.insert_chart(anchor, chart)
    column_charts = [  # (table anchor, columns of actual and model right of the counts)
        ("Customers by repeat purchases (calibration)", layout.FREQ_FIT_ANCHOR, (1, 2), "AH3"),
        ("Mean holdout purchases by calibration repeat purchases", layout.CONDITIONAL_ANCHOR, (2, 3), "AH20"),
        ("Mean holdout spend by calibration repeat purchases", layout.SPEND_ANCHOR, (2, 3), "AH37"),
    ]
    buckets = layout.MAX_COUNT + 1
    for title, table, offsets, anchor in column_charts:
        header, counts = xl_cell_to_rowcol(table)  # 0-based; the repeat-purchase counts in the anchor's column
        first_data_row = header + 1
        chart = book.add_chart({"type": "column"})
        actual_col, model_col = (counts + offset for offset in offsets)
        for col, label, color in ((actual_col, "Actual", "#4472C4"), (model_col, "Model", "#ED7D31")):
            chart.add_series({"name": label,
                              "categories": [name, first_data_row, counts, first_data_row + buckets - 1, counts],
                              "values": [name, first_data_row, col, first_data_row + buckets - 1, col],
                              "fill": {"color": color}})
        chart.set_title({"name": title})
        sheet.insert_chart(anchor, chart)


def write_subscription(writer, book):
    sheet = writer.sheet
    writer.columns({"A": 34, "B:J": 12})
    writer.write("A1", "Subscriptions: retention projected with the shifted-beta-geometric model", "title")
    writer.write("A2", "Survivors out of 1,000 customers per year, two cohorts (Fader & Hardie 2007). "
                       "Fitted on years 0-7, projected to year 12.", "hint")
    headers = ["Year", "Regular", "High end", "Regular %", "Regular fitted %", "High end %",
               "High end fitted %", "Regular retention", "High end retention"]
    first = layout.SURVIVAL_FIRST_ROW
    writer.row(f"A{first - 1}", headers, "header")
    survivors = sample_data.SBG_SURVIVORS
    years = len(survivors["regular"])
    last = first + years - 1
    for offset in range(years):
        row = first + offset
        writer.write(f"A{row}", offset, "input_text")
        writer.write(f"B{row}", survivors["regular"][offset], "input_text")
        writer.write(f"C{row}", survivors["high_end"][offset], "input_text")
        writer.write(layout.survival_cell(layout.REGULAR_SHARE_COLUMN, offset), f"=B{row}/$B${first}", "percent")
        writer.write(layout.survival_cell(layout.HIGH_END_SHARE_COLUMN, offset), f"=C{row}/$C${first}", "percent")
    calibration_last = first + sample_data.SBG_CALIBRATION_YEARS - 1
    _write_fit_header(writer, "L5", "Regular fit (years 0-7)", sbg_model.PARAM_NAMES)
    _write_fit_header(writer, "L10", "High end fit (years 0-7)", sbg_model.PARAM_NAMES)
    for column, anchor in (("B", "L5"), ("C", "L10")):
        writer.spill(anchor, f"=CLV_FIT_SBG({column}{first}:{column}{calibration_last})",
                     *layout.fit_block_size(len(sbg_model.PARAM_NAMES)), "decimal")
    regular, high_end = "$L$5:$M$7", "$L$10:$M$12"
    writer.spill(layout.survival_cell(layout.REGULAR_FITTED_COLUMN, 0),
                 f"=CLV_SBG_SURVIVAL({regular},A{first}:A{last})", years, style="percent")
    writer.spill(layout.survival_cell(layout.HIGH_END_FITTED_COLUMN, 0),
                 f"=CLV_SBG_SURVIVAL({high_end},A{first}:A{last})", years, style="percent")
    writer.spill(f"H{first + 1}", f"=CLV_SBG_RETENTION({regular},A{first + 1}:A{last})", years - 1,
                 style="percent")
    writer.spill(f"I{first + 1}", f"=CLV_SBG_RETENTION({high_end},A{first + 1}:A{last})", years - 1,
                 style="percent")
    _write_subscription_checks(writer, last + 3)
    _write_derl(writer, last + 10, regular, high_end)
    _insert_survival_chart(book, sheet, first, last)


def _write_subscription_checks(writer, top):
    writer.write(f"A{top}", "Checks against the paper", "heading")
    writer.row(f"A{top + 1}", ["Check", "Result", "Stated", "OK?"], "header")
    published = sample_data.PUBLISHED
    rows = [("Regular gamma (Fader & Hardie 2007)", "M5", published["sbg_regular"]["gamma"]),
            ("Regular delta", "M6", published["sbg_regular"]["delta"]),
            ("High end gamma", "M10", published["sbg_high_end"]["gamma"]),
            ("High end delta", "M11", published["sbg_high_end"]["delta"])]
    for row, (title, cell, stated) in enumerate(rows, start=top + 2):
        writer.write(f"A{row}", title)
        writer.write(f"B{row}", f"={cell}", "decimal")
        writer.write(f"C{row}", stated, "decimal")
        writer.write(f"D{row}", check_formula(f"B{row}", f"C{row}", 0.0005), "check")


def _write_derl(writer, top, regular, high_end):
    writer.write(f"A{top}", "Value of a subscriber by renewals made (DERL)", "heading")
    writer.write(f"A{top + 1}", "Payment per year")
    writer.write(f"B{top + 1}", 100, "input")
    writer.write(f"A{top + 2}", "Discount rate per year")
    writer.write(f"B{top + 2}", 0.10, "input_percent")
    writer.row(f"A{top + 3}", ["Renewals made", "Regular", "High end"], "header")
    renewals = range(0, 6)
    first = top + 4
    last = first + len(renewals) - 1
    for offset, count in enumerate(renewals):
        writer.write(f"A{first + offset}", count, "input_text")
    for column, params in (("B", regular), ("C", high_end)):
        writer.spill(f"{column}{first}",
                     f"=CLV_DERL({params},A{first}:A{last},$B${top + 2},$B${top + 1})",
                     len(renewals), style="money")
    writer.write(f"D{first}", "Expected future payments after the current one (excluded), the next "
                              "one (if renewed) undiscounted.", "hint")
    writer.write(f"A{last + 1}", "New subscriber, first payment included (DEL)")
    for column, params in (("B", regular), ("C", high_end)):
        writer.write(f"{column}{last + 1}", f"=CLV_DEL({params},$B${top + 2},$B${top + 1})", "money")
    writer.write(f"D{last + 1}", "DEL = the payment at sign-up + DERL(0) / (1 + discount rate).", "hint")


def _insert_survival_chart(book, sheet, first, last):
    chart = book.add_chart({"type": "line"})
    name = layout.SUBSCRIPTION_SHEET
    series = [("Regular actual", 3, "#4472C4", "solid"), ("Regular fitted", 4, "#4472C4", "dash"),
              ("High end actual", 5, "#ED7D31", "solid"), ("High end fitted", 6, "#ED7D31", "dash")]
    for label, col, color, dash in series:
        chart.add_series({"name": label, "categories": [name, first - 1, 0, last - 1, 0],
                          "values": [name, first - 1, col, last - 1, col],
                          "line": {"color": color, "dash_type": dash}})
    chart.set_title({"name": "Survival: actual vs sBG fitted"})
    chart.set_x_axis({"name": "Year"})
    chart.set_y_axis({"name": "Share still active", "num_format": "0%"})
    sheet.insert_chart("L14", chart)


def write_reference(writer):
    writer.columns({"A": 22, "B": 60, "C": 70})
    writer.write("A1", "Function reference", "title")
    writer.write("A2", "Generated from the functions' own documentation. Optional arguments are "
                       "in brackets; every argument takes a cell or a range (a range spills).", "note")
    row = 4
    for entry in function_reference():
        writer.row(f"A{row}", [entry.name, entry.signature, entry.summary], "header")
        writer.write(f"B{row + 1}", f"Example: {entry.example_formula}  gives {entry.example_result}",
                     "note")
        row += 2
        for name, doc in entry.arguments.items():
            writer.row(f"B{row}", [name, doc], "text")
            row += 1
        row += 1


# --- build --------------------------------------------------------------------------


def write_workbook(path):
    """Write the template's sheets, VBA and buttons, without cached results."""
    book = xlsxwriter.Workbook(str(path))
    # A fixed creation date keeps rebuilds byte-identical.
    book.set_properties({"title": "clv-xl workbook template", "created": dt.datetime(2026, 1, 1)})
    # Keep the stored results on open: Excel recalculates a cell only when its inputs change.
    # (XlsxWriter's defaults, fullCalcOnLoad and Excel 2007's calcId, recalculate everything,
    # which turns every CLV_* cell into an error wherever Python is missing.)
    book.set_calc_mode("auto", calc_id=CURRENT_EXCEL_CALC_ID)
    book.calc_on_load = False
    formats = Formats(book)
    writers = {name: SheetWriter(book, name, formats) for name in SHEETS}
    write_start(writers["Start"])
    write_examples(writers[layout.EXAMPLES_SHEET])
    write_customers(writers[layout.CUSTOMERS_SHEET], book, sample_data.sample_customers())
    write_methods(writers["Methods"])
    write_churn(writers["Churn"], sample_data.sample_churn_counts())
    transactions = sample_data.sample_transactions()
    write_transactions(writers[layout.TRANSACTIONS_SHEET], transactions)
    write_prediction(writers[layout.PREDICTION_SHEET], book, transactions)
    write_validation(writers[layout.VALIDATION_SHEET], book, transactions)
    write_subscription(writers[layout.SUBSCRIPTION_SHEET], book)
    write_reference(writers["Reference"])
    vba.write_conf_sheet(book, CONF_SETTINGS)
    standard, classes = vba.template_vba_modules("clv_xl.udfs", MACROS)
    vba.attach_vba_project(book, standard, class_modules=classes)
    book.close()


def build_template(path=TEMPLATE_NAME):
    """Write the template to ``path`` with every formula's result cached."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="clv_template_") as tmp:
        draft = Path(tmp) / path.name
        write_workbook(draft)
        recalc.recalculate(draft, FUNCTIONS, out_path=path, strict=True)
    return path


if __name__ == "__main__":  # pragma: no cover
    print(build_template(os.environ.get("CLV_TEMPLATE", TEMPLATE_NAME)))
