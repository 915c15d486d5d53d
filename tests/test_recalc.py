"""clv_xl.recalc: headless recalculation against the values XlsxWriter cached."""

import zipfile

import formulas
import openpyxl
import pytest
import xlsxwriter

import fixtures_udfs as U
from rendering import pdf_text
from clv_xl import recalc, vba

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
    pdf = recalc.soffice_convert(out, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "1230" in text  # CLV_SIMPLE(123, 0.1), recalculated, as LibreOffice shows it
