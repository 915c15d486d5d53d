"""The committed workbook_template.xlsm: built from code, with VBA, buttons and true numbers."""

import datetime as dt
import inspect
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from clv_xl import recalc
from clv_xl.workbook import examples, layout, macros, report, sample_data, sheets, vba
from clv_xl.excel.cells import to_serial
from clv_xl.udfs import FUNCTIONS
from rendering import example_rows_shown, pdf_text, soffice_convert
from tolerances import same_value

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / sheets.TEMPLATE_NAME


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    return sheets.build_template(tmp_path_factory.mktemp("build") / sheets.TEMPLATE_NAME)


@pytest.fixture(scope="module")
def recalculated():
    return recalc.recalculate(TEMPLATE, FUNCTIONS, strict=True)


def sheet_contents(path, data_only):
    book = openpyxl.load_workbook(path, data_only=data_only)
    contents = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                value = getattr(value, "text", value)  # array formulas compare by their text
                if value is not None:
                    contents[(sheet.title, cell.coordinate)] = value
    return contents




# --- the committed file is what the code builds ------------------------------------------


@pytest.mark.parametrize("data_only", [False, True], ids=["formulas", "cached values"])
def test_committed_template_equals_a_fresh_build(fresh_build, data_only):
    committed, fresh = sheet_contents(TEMPLATE, data_only), sheet_contents(fresh_build, data_only)
    assert committed.keys() == fresh.keys()
    differing = [key for key in committed if not same_value(committed[key], fresh[key])]
    assert differing == [], "rebuild with: clv-xl build-template"


def test_the_template_keeps_its_stored_values_on_open():
    # No forced full recalculation and the current engine's calcId: where Python is missing
    # (Mac, the web, Windows without Python), Excel shows the stored results instead of errors.
    with zipfile.ZipFile(TEMPLATE) as package:
        calc = re.search(r"<calcPr\b[^>]*>", package.read("xl/workbook.xml").decode()).group(0)
    assert "fullCalcOnLoad" not in calc and 'calcId="191029"' in calc


def test_committed_vba_equals_a_fresh_build(fresh_build):
    assert vba.read_vba_modules(TEMPLATE) == vba.read_vba_modules(fresh_build)


# --- VBA modules, wrappers, buttons and macros ------------------------------------------------


@pytest.fixture(scope="module")
def modules():
    return vba.read_vba_modules(TEMPLATE)


def test_the_three_vba_modules_are_present(modules):
    assert {vba.STANDALONE_MODULE_NAME, vba.UDF_MODULE_NAME, "clv_macros"} <= set(modules)
    assert "Function RunPython" in modules[vba.STANDALONE_MODULE_NAME]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_clv_function_has_a_wrapper_with_its_python_arguments(modules, name):
    found = re.search(rf"Function {name}\(([^)]*)\)", modules[vba.UDF_MODULE_NAME])
    assert found, f"no VBA wrapper for {name}"
    vba_args = [arg.split()[-1] for arg in found.group(1).split(",") if arg.strip()]
    assert vba_args == list(inspect.signature(FUNCTIONS[name]).parameters)
    optional = [p.name for p in inspect.signature(FUNCTIONS[name]).parameters.values()
                if p.default is not inspect.Parameter.empty]
    assert all(f"Optional {arg}" in found.group(1) for arg in optional)


def button_macros(path):
    with zipfile.ZipFile(path) as package:
        drawings = [package.read(n).decode() for n in package.namelist() if n.endswith(".vml")]
    return {macro for text in drawings for macro in re.findall(r"<x:FmlaMacro>\[0\]!(\w+)", text)}


def test_every_button_runs_a_macro_that_exists(modules):
    assert button_macros(TEMPLATE) == set(sheets.MACROS)
    for macro in button_macros(TEMPLATE):
        assert re.search(rf"^Sub {macro}\(\)", modules["clv_macros"], re.MULTILINE)


def test_every_runpython_target_exists_in_clv_xl_workbook_macros(modules):
    targets = re.findall(r'RunPython "import clv_xl\.workbook\.macros; clv_xl\.workbook\.macros\.(\w+)\(\)"', modules["clv_macros"])
    assert sorted(targets) == ["import_functions", "load_transactions", "refresh"]
    assert all(callable(getattr(macros, target)) for target in targets)


def test_the_date_order_setting_is_a_labelled_input_with_its_choices(fresh_build):
    sheet = openpyxl.load_workbook(fresh_build)[layout.TRANSACTIONS_SHEET]
    setting = sheet[layout.DATE_ORDER_CELL]
    label = sheet.cell(setting.row, setting.column - 1)
    assert (label.value, setting.value) == ("Date order", "auto")
    assert setting.fill.fgColor.rgb == sheet[layout.CSV_PATH_CELL].fill.fgColor.rgb == "FFFFF2CC"  # input yellow
    (choices,) = [rule for rule in sheet.data_validations.dataValidation if layout.DATE_ORDER_CELL in rule.sqref]
    assert choices.type == "list" and choices.formula1 == '"auto,day-month,month-day"'
    assert macros.checked_date_order(setting.value) == "auto"


def test_xlwings_conf_sheet_points_to_the_udf_module():
    sheet = openpyxl.load_workbook(TEMPLATE)[vba.CONF_SHEET_NAME]
    assert (sheet["A1"].value, sheet["B1"].value) == ("UDF Modules", "clv_xl.udfs")


# --- headless recalculation -----------------------------------------------------------------


def test_every_formula_evaluates_headless_to_its_stored_value(recalculated):
    stored = {key: to_serial(value) if isinstance(value, dt.datetime) else value
              for key, value in recalc.cached_values(TEMPLATE).items()}  # date-formatted cells
    assert stored.keys() == recalculated.keys()
    for key, value in recalculated.items():
        assert same_value(stored[key], value), key
    assert recalculated.udf_errors == [] and recalculated.spill_mismatches == {}


def test_every_worked_example_check_holds(recalculated):
    checks = report.find_checks(recalculated)
    assert len(checks) >= 7
    assert [check.title for check in checks if not check.passed] == []
    stated = {check.stated for check in checks}
    assert {900, 4000, 400, 5489.27, 350, 650} <= stated


def test_changing_an_input_changes_the_dependent_outputs(recalculated):
    sheet, first = layout.EXAMPLES_SHEET, layout.EXAMPLES_FIRST_ROW
    _, value = layout.example_input_cells(first, 0)  # the first example's first input
    changed = recalc.recalculate(TEMPLATE, FUNCTIONS, inputs={(sheet, value): 60})
    assert changed[(sheet, f"{layout.EXAMPLE_RESULT_COLUMN}{first}")] == pytest.approx(60 * 6 * 3)
    assert changed[(sheet, f"{layout.EXAMPLE_CHECK_COLUMN}{first}")] == "CHECK"
    next_result = (sheet, f"{layout.EXAMPLE_RESULT_COLUMN}{first + 1}")
    assert changed[next_result] == recalculated[next_result]


# --- the numbers on the sheets, computed independently --------------------------------------


def annuity_due(periods, rate):
    """Start-of-period payments for whole periods, then the fraction of one for a partial last period."""
    whole = np.floor(periods)
    return (1 - (1 + rate) ** -whole) * (1 + rate) / rate + (periods - whole) * (1 + rate) ** -whole


def test_customer_clv_matches_the_discounted_margin_stream(recalculated):
    customers = sample_data.sample_customers()
    expected = (customers.avg_purchase_value * customers.purchases_per_year * customers.margin
                * annuity_due(customers.lifespan_years, 0.10))
    rows = range(layout.FIRST_ROW, layout.FIRST_ROW + len(customers))
    got = [recalculated[(layout.CUSTOMERS_SHEET, f"{layout.CLV_COLUMN}{row}")] for row in rows]
    assert got == pytest.approx(list(expected))
    net = [recalculated[(layout.CUSTOMERS_SHEET, f"{layout.NET_CLV_COLUMN}{row}")] for row in rows]
    assert np.subtract(got, net) == pytest.approx(list(customers.acquisition_cost))


def test_tier_and_channel_summaries_match_pandas(recalculated):
    customers = sample_data.sample_customers()
    sheet = layout.CUSTOMERS_SHEET
    first, last = layout.tier_chart_rows()
    count, total = (layout.summary_column(layout.CUSTOMER_SUMMARY_COLUMN, name) for name in ("count", "total"))
    counts = [recalculated[(sheet, f"{count}{row}")] for row in range(first, last + 1)]
    assert counts == [67, 66, 67]  # 200 customers in three near-equal tiers, as pandas qcut on ranks
    rows = range(layout.FIRST_ROW, layout.FIRST_ROW + len(customers))
    clv = pd.Series([recalculated[(sheet, f"{layout.CLV_COLUMN}{row}")] for row in rows])
    tiers = [recalculated[(sheet, f"{layout.TIER_COLUMN}{row}")] for row in rows]
    assert clv[[t == "High" for t in tiers]].min() > clv[[t == "Medium" for t in tiers]].max()
    by_channel = clv.groupby(customers.channel.values).sum()
    channels = list(dict.fromkeys(customers.channel))
    for row, channel in enumerate(channels, start=layout.CHANNEL_TITLE_ROW + 2):
        assert recalculated[(sheet, f"{total}{row}")] == pytest.approx(by_channel[channel])


def test_churn_sheet_what_if_grid_is_revenue_times_margin_times_1_plus_d_over_d_plus_churn(recalculated):
    # Revenue 30 a month at 40% margin; churn 5% and discount 1%: 12 x 1.01 / 0.06 = 202.
    book = openpyxl.load_workbook(TEMPLATE)
    sheet = book["Churn"]
    row = next(r for r in range(1, 60) if sheet[f"A{r}"].value == 0.05 and r > 20)
    col = next(c for c in "BCDEFG" if sheet[f"{c}{row - 2}"].value == 0.01)
    assert recalculated[("Churn", f"{col}{row}")] == pytest.approx(202)


def test_prediction_sheet_is_consistent_with_its_parts(recalculated):
    # Discounting only lowers value: CLV <= margin x spend x purchases over the horizon.
    sheet, first = layout.PREDICTION_SHEET, layout.RFM_ANCHOR_ROW + 1
    rows = range(first, first + 1000)
    p_alive, purchases, spend, clv = (np.array([recalculated[(sheet, f"{column}{row}")] for row in rows])
                                      for column in list(layout.PREDICTION_HEADERS)[:4])
    assert min(p_alive) >= 0 and max(p_alive) <= 1
    assert (clv <= 0.30 * spend * purchases + 1e-9).all() and (clv > 0).all()
    average = layout.summary_column(layout.PREDICTION_SUMMARY_COLUMN, "average")
    first_tier = layout.PREDICTION_TIER_TITLE_ROW + 2
    tier_rows = range(first_tier, first_tier + len(layout.TIER_LABELS))
    tiers = [recalculated[(sheet, f"{average}{row}")] for row in tier_rows]
    assert tiers[0] > tiers[1] > tiers[2]  # average CLV falls from High to Low


def test_subscription_fit_projects_the_holdout_years_closely(recalculated):
    # Fitted on years 0-7, the sBG projects year 12 within 2 points (Fader & Hardie 2007, Figure 3).
    regular, high_end = ((layout.SUBSCRIPTION_SHEET, layout.survival_cell(column, 12))
                         for column in (layout.REGULAR_FITTED_COLUMN, layout.HIGH_END_FITTED_COLUMN))
    assert recalculated[regular] == pytest.approx(173 / 1000, abs=0.02)
    assert recalculated[high_end] == pytest.approx(394 / 1000, abs=0.02)


# --- LibreOffice ----------------------------------------------------------------------------------


def test_libreoffice_shows_the_single_cell_results_and_every_sheet(tmp_path):
    """What LibreOffice prints of the template: every sheet title and the single-cell results.

    LibreOffice recalculates array formulas on load whatever the file says and has no
    ``CLV_*`` functions, so every spilled ``CLV_*`` range (the Customers results, the
    cohort table, the fits and per-customer predictions, the sBG curves) prints as
    ``#VALUE!`` (11,339 cells, measured with LibreOffice 7.4); single-cell formulas keep
    their stored values.  ``clv-xl recalc ... --values-only`` writes a copy that shows
    every result (tests/test_values_only.py).
    """
    text = pdf_text(soffice_convert(TEMPLATE, "pdf", tmp_path))
    book = openpyxl.load_workbook(TEMPLATE, read_only=True)
    titles = [sheet["A1"].value for sheet in book.worksheets if sheet.title != vba.CONF_SHEET_NAME]
    assert [title for title in titles if title not in text] == []
    assert example_rows_shown(text) == [example.expected for example in examples.WORKED_EXAMPLES]


def test_recalc_command_prints_every_check_as_passing(tmp_path, capsys):
    from clv_xl.cli import main

    out = tmp_path / "recalculated.xlsm"
    assert main(["recalc", str(TEMPLATE), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    formulas, _ = recalc.formula_cells(TEMPLATE)
    check_cells = [f for f in formulas.values() if report.CHECK_FORMULA.match(f.replace(" ", ""))]
    assert f"{len(check_cells)} passed, 0 failed" in printed and "WARNING" not in printed
    assert vba.read_vba_modules(out) == vba.read_vba_modules(TEMPLATE)  # VBA survives the rewrite
