"""clv_xl.recalc: headless recalculation against the values XlsxWriter cached."""

import functools
import inspect
import zipfile
from pathlib import Path

import formulas
import numpy as np
import openpyxl
import pytest
import xlsxwriter

import fixtures_udfs as U
from rendering import pdf_text, soffice_convert
from clv_xl import recalc
from clv_xl.workbook import vba
import cdnow

ROWS = [("a", 100.0, 0.1), ("b", 50.0, 0.2), ("a", 80.0, 0.25), ("b", 40.0, 0.5), ("a", 10.0, 1.5)]


def build(path, with_vba=False):
    """Inputs + CLV formulas, standard functions, a spilled survival curve, cached values."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Inputs")
    sheet.write_row("A1", ["segment", "margin", "churn", "clv"])
    for i, (segment, margin, churn) in enumerate(ROWS, start=1):
        sheet.write_string(i, 0, segment)
        sheet.write_number(i, 1, margin)
        sheet.write_number(i, 2, churn)
        sheet.write_formula(i, 3, f"=CLV_SIMPLE(B{i + 1},C{i + 1})", None, U.CLV_SIMPLE(margin, churn))
    clvs = [U.CLV_SIMPLE(m, c) for _, m, c in ROWS]
    numbers = [v for v in clvs if isinstance(v, float)]
    calc = book.add_worksheet("Calc")
    cached = {
        "A1": ("=CLV_AVG(Inputs!B2:B6)", U.CLV_AVG([[m] for _, m, _ in ROWS])),
        "A2": ("=SUM(Inputs!D2:D6)", sum(numbers)),
        "A3": ('=COUNTIF(Inputs!A2:A6,"a")', 3),
        "A4": ('=ROUND(AVERAGEIFS(Inputs!B2:B6,Inputs!A2:A6,"b"),2)', 45),
        "A5": ('=SUMIFS(Inputs!B2:B6,Inputs!A2:A6,"a")', 190),
        "A6": ('=COUNTIFS(Inputs!A2:A6,"a",Inputs!B2:B6,">50")', 2),
        "A7": ('=IF(A2>1000,"high","low")', "high"),
        "A8": ("=ABS(-A1)", 56),
        "A9": ("=AVERAGE(Inputs!B2:B6)", 56),
        "A10": ('=INDEX(Inputs!B2:B6,MATCH("b",Inputs!A2:A6,0))', 50),
        "A11": ("=CLV_SIMPLE(A1,0.2,0.1)", U.CLV_SIMPLE(56.0, 0.2, 0.1)),
    }
    for cell, (formula, value) in cached.items():
        calc.write_formula(cell, formula, None, value)
    calc.write_number("B1", 0.2)
    calc.write_number("B2", 3)
    curve = U.CLV_SURVIVAL(0.2, 3)
    calc.write_dynamic_array_formula("C1:D3", "=CLV_SURVIVAL(B1,B2)", None, curve[0][0])
    for r, row in enumerate(curve):
        for c, value in enumerate(row):
            if (r, c) != (0, 0):
                calc.write_number(r, 2 + c, value)
    calc.write_formula("E1", "=SUM(ANCHORARRAY(C1))", None, sum(map(sum, curve)))
    if with_vba:
        standard, classes = vba.template_vba_modules("fixtures_udfs")
        vba.attach_vba_project(book, standard, class_modules=classes)
    book.close()
    return path


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    return build(tmp_path_factory.mktemp("recalc") / "book.xlsx")


@pytest.fixture(scope="module")
def result(workbook):
    return recalc.recalculate(workbook, U.FUNCTIONS)


def same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return b == pytest.approx(a, rel=1e-9)
    return a == b


def test_every_formula_recomputes_to_its_cached_value(workbook, result):
    cached = recalc.cached_values(workbook)
    assert set(result) == set(cached)
    assert len(result) == 5 + 11 + 6 + 1  # the spill's six cells are all there
    mismatched = {k: (result[k], cached[k]) for k in cached if not same(result[k], cached[k])}
    assert mismatched == {}
    assert result[("Inputs", "D6")] == "#NUM! churn_rate must be > 0 and <= 1 (got 1.5)"
    assert result.spill_mismatches == {} and result.udf_errors == []
    assert result.formulas[("Calc", "E1")] == "=SUM(_xlfn.ANCHORARRAY(C1))"


def test_changing_an_input_changes_dependents(workbook, result, tmp_path):
    out = tmp_path / "out.xlsx"
    changed = recalc.recalculate(workbook, U.FUNCTIONS, out, inputs={("Inputs", "B2"): 200.0, ("Calc", "B1"): 0.5})
    assert changed[("Inputs", "D2")] == pytest.approx(2000.0)
    assert changed[("Calc", "A1")] == pytest.approx(76.0)
    assert changed[("Calc", "A2")] == pytest.approx(result[("Calc", "A2")] + 1000.0)
    assert changed[("Calc", "A11")] == pytest.approx(U.CLV_SIMPLE(76.0, 0.2, 0.1))
    assert [changed[("Calc", f"D{r}")] for r in (1, 2, 3)] == pytest.approx([0.5, 0.25, 0.125])
    assert changed[("Calc", "E1")] == pytest.approx(6 + 0.875)
    # the written workbook caches the new values and keeps its formulas
    assert recalc.cached_values(out) == dict(changed) | {}
    assert openpyxl.load_workbook(out, data_only=True)["Inputs"]["B2"].value == 200
    assert recalc.formula_cells(out) == recalc.formula_cells(workbook)
    with zipfile.ZipFile(out) as package:
        sheet2 = package.read("xl/worksheets/sheet2.xml").decode()
    assert '<c r="C1" cm="1"><f t="array" ref="C1:D3">CLV_SURVIVAL(B1,B2)</f><v>1</v></c>' in sheet2
    # recalculating the written file reproduces it
    again = recalc.recalculate(out, U.FUNCTIONS)
    assert all(same(changed[k], again[k]) for k in changed)


def test_a_spill_that_outgrows_its_range_is_reported(workbook):
    grown = recalc.recalculate(workbook, U.FUNCTIONS, inputs={("Calc", "B2"): 5})
    assert grown.spill_mismatches == {("Calc", "C1"): ((3, 2), (5, 2))}
    assert grown[("Calc", "C3")] == 3.0  # formulas cut the result to the declared C1:D3
    with pytest.raises(recalc.SpillMismatchError):
        recalc.recalculate(workbook, U.FUNCTIONS, inputs={("Calc", "B2"): 2}, strict=True)


def test_functions_are_registered_only_during_the_run(result):
    assert "CLV_AVG" not in formulas.get_functions()


def test_exceptions_become_cell_text(workbook):
    def boom(values):
        raise RuntimeError("no luck")

    done = recalc.recalculate(workbook, {**U.FUNCTIONS, "CLV_AVG": boom})
    assert done[("Calc", "A1")] == "RuntimeError: no luck"
    assert done.udf_errors == [("CLV_AVG", "RuntimeError: no luck")]


@pytest.mark.parametrize("by_column", [True, False])
def test_a_failing_array_formula_is_reported_once(tmp_path, by_column):
    def boom(values):
        raise RuntimeError("no luck")

    path = tmp_path / "failing.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Calc")
    sheet.write_number("A1", 1)
    sheet.write_dynamic_array_formula("B1:B3", "=CLV_BOOM(A1)")
    sheet.write_formula("C1", "=CLV_BOOM(A1)")
    sheet.write_formula("D1", "=A1+1")
    book.close()
    failing = [("Calc", "B1"), ("Calc", "C1")]
    done = recalc.recalculate(path, {"CLV_BOOM": boom}, by_column=by_column)
    assert [done[key] for key in failing] == ["RuntimeError: no luck"] * len(failing)
    assert done.udf_errors == [("CLV_BOOM", "RuntimeError: no luck")] * len(failing)
    assert done[("Calc", "D1")] == 2


def test_arguments_arrive_as_xlwings_hands_them():
    import numpy as np
    import schedula as sh
    from formulas.tokens.operand import Error

    grid = np.array([[1, sh.EMPTY], [Error.errors["#DIV/0!"], "x"]], dtype=object)
    assert recalc.convert_argument(grid, {"ndim": 2}) == [[1.0, None], [None, "x"]]
    assert recalc.convert_argument(grid, {"ndim": 2, "err_to_str": True})[1][0] == "#DIV/0!"
    assert recalc.convert_argument(np.array([[3]], dtype=object), {}) == 3.0
    assert recalc.convert_argument(np.array([[3]], dtype=object), {"ndim": 2}) == [[3.0]]
    assert recalc.convert_argument(np.array([[1], [2]], dtype=object), {}) == [1.0, 2.0]
    assert recalc.convert_argument(0.1, {}) == 0.1
    assert recalc.convert_argument(True, {}) is True
    assert recalc.convert_result([[1.0], [2.0]]).shape == (2, 1)
    assert recalc.convert_result([1.0, 2.0]).shape == (1, 2)
    assert recalc.convert_result([[4.0]]) == 4.0
    assert recalc.convert_result(None) is sh.EMPTY


def test_vba_project_survives_recalculation(tmp_path):
    path = build(tmp_path / "book.xlsm", with_vba=True)
    out = tmp_path / "out.xlsm"
    done = recalc.recalculate(path, U.FUNCTIONS, out, inputs={("Calc", "B1"): 0.5})
    assert vba.read_vba_modules(out) == vba.read_vba_modules(path)
    assert recalc.cached_values(out)[("Calc", "D2")] == pytest.approx(0.25) == done[("Calc", "D2")]


def test_libreoffice_prints_the_recalculated_workbook(tmp_path):
    path = build(tmp_path / "book.xlsm", with_vba=True)
    out = tmp_path / "out.xlsm"
    recalc.recalculate(path, U.FUNCTIONS, out, inputs={("Inputs", "B2"): 123.0})
    pdf = soffice_convert(out, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "1230" in text  # CLV_SIMPLE(123, 0.1), recalculated, as LibreOffice shows it


# --- filled-down columns evaluated in one call ------------------------------------------------

CUSTOMERS = 30
BAD_ROW = 7  # text where a number belongs: only this row's results are messages
ODD_ROW = 12  # CLV_AVG with another margin: its own group, not the column's


def build_customers(path):
    """Per-row CLV_AVG / CLV_CHURN / CLV_SEGMENT / CLV_NET columns, an engine column and aggregates."""
    rng = np.random.default_rng(7)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Customers")
    sheet.write_row("A1", ["customer", "value", "purchases", "lifespan", "churn", "clv", "churn clv", "tier",
                           "net", "", "", "half churn", "lifespan"])
    sheet.write_column("J1", [0.3, 0.01, None, 500, 1500])  # margin, discount rate, tier thresholds
    for row in range(2, CUSTOMERS + 2):
        sheet.write_string(f"A{row}", f"C{row}")
        if row == BAD_ROW:
            sheet.write_string(f"B{row}", "n/a")
        else:
            sheet.write_number(f"B{row}", rng.uniform(10, 100))
        sheet.write_row(f"C{row}", [int(rng.integers(1, 12)), rng.uniform(0.5, 5), rng.uniform(0.05, 0.5)])
        margin = "0.5" if row == ODD_ROW else "$J$1"
        sheet.write_formula(f"F{row}", f"=CLV_AVG(B{row},C{row},D{row},{margin})")
        sheet.write_formula(f"G{row}", f"=CLV_CHURN(B{row},$J$1,E{row},$J$2)" if row != 15 else f"=B{row}*2")
        sheet.write_formula(f"H{row}", f"=CLV_SEGMENT(F{row},$J$4:$J$5)")
        sheet.write_formula(f"I{row}", f"=CLV_NET(G{row},10)")
        sheet.write_formula(f"L{row}", f"=E{row}/2")
        sheet.write_formula(f"M{row}", f"=CLV_LIFESPAN(L{row})")
    last = CUSTOMERS + 1
    summary = book.add_worksheet("Summary")
    summary.write_formula("A1", f"=SUM(Customers!F2:F{last})")
    summary.write_formula("A2", f"=SUM(Customers!G2:G{last})")
    summary.write_formula("A3", f'=COUNTIF(Customers!H2:H{last},"High")')
    summary.write_formula("A4", f"=AVERAGE(Customers!I2:I{last})")
    summary.write_formula("A5", f"=SUM(Customers!M2:M{last})")
    book.close()
    return path


@pytest.fixture(scope="module")
def customers(tmp_path_factory):
    return build_customers(tmp_path_factory.mktemp("columns") / "customers.xlsx")


def counted(function, calls):
    """``function`` (its signature and ``cellwise_arguments`` kept) recording each call in ``calls``."""
    @functools.wraps(function)
    def call(*args):
        calls.append(args)
        return function(*args)

    return call


def engine_alone(path, functions):
    """Every formula cell's value from ``formulas`` loading and evaluating the whole workbook itself."""
    import schedula as sh
    from formulas.tokens.operand import XlError

    table = formulas.get_functions()
    table.update({name: recalc.excel_adapter(name, function) for name, function in functions.items()})
    try:
        solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    finally:
        for name in functions:
            table.pop(name)
    values = {}
    for (sheet, cell) in recalc.formula_cells(path)[0]:
        value = solution[f"'[{path.name}]{sheet.upper()}'!{cell}"].value[0, 0]
        value = value.item() if isinstance(value, np.generic) else value
        values[(sheet, cell)] = None if value is sh.EMPTY else str(value) if isinstance(value, XlError) else value
    return values


def test_filled_down_columns_give_what_the_engine_gives_cell_by_cell(customers):
    from clv_xl.udfs import FUNCTIONS

    calls = []
    functions = {**FUNCTIONS, "CLV_AVG": counted(FUNCTIONS["CLV_AVG"], calls)}
    by_column = recalc.recalculate(customers, functions)
    by_cell = recalc.recalculate(customers, FUNCTIONS, by_column=False)
    assert dict(by_column) == dict(by_cell) == engine_alone(customers, FUNCTIONS)
    assert {k: type(v) for k, v in by_column.items()} == {k: type(v) for k, v in by_cell.items()}
    assert sorted(by_column.udf_errors) == sorted(by_cell.udf_errors) == []
    assert len(calls) == 2  # the filled-down column in one call, the odd row alone
    assert by_column[("Customers", f"F{BAD_ROW}")].startswith("#VALUE!")
    assert by_column[("Customers", f"G{BAD_ROW}")].startswith("#VALUE!")
    numbers = [by_column[("Customers", f"F{row}")] for row in range(2, CUSTOMERS + 2) if row != BAD_ROW]
    assert all(isinstance(value, float) for value in numbers)
    inputs = openpyxl.load_workbook(customers)["Customers"]
    odd = [inputs[f"{column}{ODD_ROW}"].value for column in "BCD"]
    assert by_column[("Customers", f"F{ODD_ROW}")] == FUNCTIONS["CLV_AVG"](*[[[v]] for v in odd], [[0.5]])
    assert by_column[("Customers", "G15")] == 2 * inputs["B15"].value
    assert by_column[("Summary", "A3")] == sum(by_column[("Customers", f"H{row}")] == "High"
                                              for row in range(2, CUSTOMERS + 2))


def test_what_if_inputs_reach_columns_and_engine_alike(customers):
    from clv_xl.udfs import FUNCTIONS

    changed = {("Customers", "B2"): 1000.0, ("Customers", "J1"): 0.5, ("Customers", "E3"): 0.25}
    by_column = recalc.recalculate(customers, FUNCTIONS, inputs=changed)
    assert dict(by_column) == dict(recalc.recalculate(customers, FUNCTIONS, inputs=changed, by_column=False))
    assert by_column != recalc.recalculate(customers, FUNCTIONS)
    with pytest.raises(KeyError, match="formula cell"):
        recalc.recalculate(customers, FUNCTIONS, inputs={("Customers", "F2"): 1.0})
    with pytest.raises(KeyError, match="not an input"):
        recalc.recalculate(customers, FUNCTIONS, inputs={("Customers", "Z99"): 1.0})


def test_a_column_reading_its_own_cells_is_left_to_the_engine(tmp_path):
    path = tmp_path / "running.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Calc")
    sheet.write_column("A1", [10.0, 20.0, 30.0, 40.0])
    sheet.write_formula("B1", "=CLV_SIMPLE(A1,0.5)")
    for row in range(2, 5):
        sheet.write_formula(f"B{row}", f"=CLV_SIMPLE(B{row - 1},0.5)")  # each row reads the one above
    book.close()
    done = recalc.recalculate(path, U.FUNCTIONS)
    assert [done[("Calc", f"B{row}")] for row in range(1, 5)] == [20.0, 40.0, 80.0, 160.0]


def test_relative_form_is_the_same_for_a_formula_filled_down():
    assert recalc.relative_form("=CLV_AVG(B7,$C$2,Inputs!D7,'Q1 2024'!E8,\"B7\")", 7) == \
        "=CLV_AVG(B[0],$C$2,Inputs!D[0],'Q1 2024'!E[1],\"B7\")"
    assert recalc.relative_form("=LOG10(A3)+SUM(A$1:A2)", 3) == "=LOG10(A[0])+SUM(A$1:A[-1])"


def cellwise_sample(name, rows, rng):
    """A column of inputs for the argument ``name``, with a text and a blank among the numbers."""
    if name in ("frequency", "renewals", "periods"):
        values = rng.integers(0, 10, rows).astype(float)
    elif name in ("recency", "T", "horizon", "monetary", "value_per_period", "avg_purchase_value"):
        values = rng.uniform(1, 50, rows)
    else:
        values = rng.uniform(0.05, 0.9, rows)
    column = [[float(value)] for value in values]
    column[1], column[3] = [["text"]][0], [None]
    return column


SETTINGS = {"params": cdnow.BGNBD_CELLS, "bgnbd_params": cdnow.BGNBD_CELLS,
            "gg_params": cdnow.GAMMA_GAMMA_CELLS, "horizon": [[52.0]]}
SBG_PARAMS = [[0.704], [1.182]]


@pytest.mark.parametrize("name", sorted(__import__("clv_xl.udfs").udfs.CELLWISE_ARGUMENTS))
def test_each_declared_cellwise_function_gives_per_cell_results_for_columns(name):
    from clv_xl.udfs import FUNCTIONS

    function = FUNCTIONS[name]
    rng = np.random.default_rng(3)
    rows = 12
    arguments = {}
    for argument in inspect.signature(function).parameters:  # settings left out take their defaults
        if argument in function.cellwise_arguments:
            arguments[argument] = cellwise_sample(argument, rows, rng)
        elif argument == "params" and name.startswith(("CLV_SBG", "CLV_DEL", "CLV_DERL")):
            arguments[argument] = SBG_PARAMS
        elif argument in SETTINGS:
            arguments[argument] = SETTINGS[argument]
    whole = function(**arguments)
    assert len(whole) == rows and all(len(row) == 1 for row in whole)
    for index in range(rows):
        one_row = {argument: [value[index]] if argument in function.cellwise_arguments else value
                   for argument, value in arguments.items()}
        assert function(**one_row) == whole[index][0], (index, one_row)


def with_shared_formulas(path, tmp_path):
    """``path`` with the CLV_AVG column stored as Excel stores a filled-down column: one shared formula."""
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    last = CUSTOMERS + 1
    sheet = sheet.replace("<f>CLV_AVG(B2,C2,D2,$J$1)</f>", f'<f t="shared" ref="F2:F{last}" si="0">CLV_AVG(B2,C2,D2,$J$1)</f>')
    for row in range(3, last + 1):
        sheet = sheet.replace(f"<f>CLV_AVG(B{row},C{row},D{row},$J$1)</f>", '<f t="shared" si="0"/>')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    shared = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(shared, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return shared


def engine_reads(path):
    """Formulas and values as the ``formulas`` engine reads them (its openpyxl reader, then compile_cell)."""
    from formulas.excel.xlreader import load_workbook
    from formulas.tokens.operand import Error
    from openpyxl.worksheet.formula import ArrayFormula

    book = load_workbook(str(path), data_only=False)
    found, values = {}, {}
    for sheet in book.worksheets:
        table = values.setdefault(sheet.title, {})
        for cell in sheet._cells.values():
            value = cell.value
            if isinstance(value, ArrayFormula) or (isinstance(value, str) and value.startswith("=")):
                found[(sheet.title, cell.coordinate)] = getattr(value, "text", value)
            elif value is not None:
                value = round(value, 15) if isinstance(value, float) else value
                table[(cell.row, cell.column)] = Error.errors.get(value, value) if cell.data_type == "e" else value
    return found, values


def test_the_package_reader_reads_what_the_engine_reads(customers, workbook, tmp_path):
    from clv_xl.workbook.sheets import TEMPLATE_NAME

    template = Path(__file__).resolve().parents[1] / TEMPLATE_NAME
    for path in (customers, workbook, with_shared_formulas(customers, tmp_path), template):
        found, values = engine_reads(path)
        read = recalc.read_package(path)
        assert read.formulas == found and read.values == values, path
    shared = with_shared_formulas(customers, tmp_path)
    assert recalc.read_package(shared).formulas[("Customers", "F9")] == "=CLV_AVG(B9,C9,D9,$J$1)"
    from clv_xl.udfs import FUNCTIONS

    assert recalc.recalculate(shared, FUNCTIONS) == recalc.recalculate(customers, FUNCTIONS)


def test_sheet_names_with_xml_entities_are_read_as_excel_shows_them(tmp_path):
    path = tmp_path / "names.xlsx"
    book = xlsxwriter.Workbook(str(path))
    names = ["R&D", "<Q1> \"plan\"", "Bob's", "&lt; is text"]  # a literal "&lt;": unescaped once, it stays text
    for name in names:
        book.add_worksheet(name).write_number("A1", 1)
    book.close()
    with zipfile.ZipFile(path) as package:
        assert list(recalc.package.sheet_parts(package)) == names
