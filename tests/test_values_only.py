"""clv-xl recalc --values-only: a macro-free .xlsx of the template with every formula replaced by its value."""

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from clv_xl import recalc
from clv_xl.workbook import examples, layout, sheets
from clv_xl.excel.cells import to_serial
from clv_xl.cli import main
from clv_xl.udfs import FUNCTIONS
from rendering import example_rows_shown, pdf_text, soffice_convert
from tolerances import same_value

TEMPLATE = Path(__file__).resolve().parents[1] / sheets.TEMPLATE_NAME

#: Error values as Excel and LibreOffice print them (LibreOffice's own are "Err:502" etc.).
ERROR_VALUES = re.compile(r"#VALUE!|#NAME\?|#N/A|#REF!|#DIV/0!|#NUM!|#NULL!|Err:\d+")


@pytest.fixture(scope="module")
def recalculated():
    return recalc.recalculate(TEMPLATE, FUNCTIONS, strict=True)


@pytest.fixture(scope="module")
def values_only(tmp_path_factory):
    out = tmp_path_factory.mktemp("values_only") / "results.xlsx"
    assert main(["recalc", str(TEMPLATE), "-o", str(out), "--values-only"]) == 0
    return out


def parts(path):
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_the_copy_has_no_formula_and_every_recalculated_value(values_only, recalculated):
    written = openpyxl.load_workbook(values_only)
    assert [(sheet.title, cell.coordinate) for sheet in written.worksheets for row in sheet.iter_rows()
            for cell in row if cell.data_type == "f" or isinstance(cell.value, ArrayFormula)] == []
    book = openpyxl.load_workbook(values_only, data_only=True)
    shown = {key: book[key[0]][key[1]].value for key in recalculated}
    shown = {key: to_serial(value) if isinstance(value, dt.datetime) else value  # date-formatted cells
             for key, value in shown.items()}
    assert {key: value for key, value in shown.items() if value != recalculated[key]} == {}


def test_every_other_cell_and_its_format_is_kept(values_only):
    original, copy = parts(TEMPLATE), parts(values_only)
    assert copy["xl/styles.xml"] == original["xl/styles.xml"]
    assert copy["xl/sharedStrings.xml"] == original["xl/sharedStrings.xml"]
    styled_cell = re.compile(rb'<c r="([A-Z]+\d+)"(?: s="(\d+)")?')
    sheets = [name for name in original if name.startswith("xl/worksheets/sheet")]
    assert all(styled_cell.findall(copy[name]) == styled_cell.findall(original[name]) for name in sheets)
    inputs = openpyxl.load_workbook(TEMPLATE)
    kept = openpyxl.load_workbook(values_only)
    for sheet in inputs.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type != "f" and not isinstance(cell.value, ArrayFormula):
                    assert same_value(kept[sheet.title][cell.coordinate].value, cell.value), (sheet.title, cell.coordinate)


def test_the_copy_is_a_macro_free_xlsx_with_its_charts(values_only):
    original, copy = parts(TEMPLATE), parts(values_only)
    assert "xl/vbaProject.bin" in original and "xl/vbaProject.bin" not in copy
    assert "xl/metadata.xml" not in copy
    types = copy["[Content_Types].xml"].decode()
    assert ('<Override PartName="/xl/workbook.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>') in types
    assert "vbaProject" not in types and "macroEnabled" not in types and "metadata.xml" not in types
    text = b"".join(copy.values())
    assert b"vbaProject" not in text and b"sheetMetadata" not in text and b"FmlaMacro" not in text
    sheets = [data.decode() for name, data in copy.items() if name.startswith("xl/worksheets/sheet")]
    assert not any(re.search(r'\scm="|<f\b|t="str"', xml) for xml in sheets)
    charts = sorted(name for name in original if name.startswith("xl/charts/"))
    assert charts and all(copy[name] == original[name] for name in charts)
    sheet_names = openpyxl.load_workbook(TEMPLATE, read_only=True).sheetnames
    assert openpyxl.load_workbook(values_only, read_only=True).sheetnames == sheet_names


def test_libreoffice_shows_every_result_and_no_error(values_only, recalculated, tmp_path):
    text = pdf_text(soffice_convert(values_only, "pdf", tmp_path))
    assert ERROR_VALUES.findall(text) == []
    assert example_rows_shown(text) == [example.expected for example in examples.WORKED_EXAMPLES]
    sheet = layout.CUSTOMERS_SHEET
    customers = openpyxl.load_workbook(values_only, read_only=True)[sheet]
    id_column = next(iter(layout.INPUT_HEADERS))
    columns = (layout.CLV_COLUMN, layout.NET_CLV_COLUMN, layout.TIER_COLUMN)
    for row in range(layout.FIRST_ROW, layout.FIRST_ROW + 5):  # spilled: CLV, net of CAC, tier of the first customers
        customer = customers[f"{id_column}{row}"].value
        clv, net, tier = (re.escape(f"{value:,.2f}" if isinstance(value, float) else value)
                          for value in (recalculated[(sheet, f"{col}{row}")] for col in columns))
        assert re.search(rf"{customer}\b.*\s{clv}\s+{net}\s.*\b{tier}\b", text), customer


def test_values_only_refuses_an_output_that_is_not_xlsx(tmp_path, capsys):
    for output in (["-o", str(tmp_path / "results.xlsm")], []):
        assert main(["recalc", str(TEMPLATE), *output, "--values-only"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("clv-xl: error: --values-only: ")
        assert ".xlsx" in err
    with pytest.raises(ValueError, match=r"\.xlsx"):
        recalc.write_values_only(TEMPLATE, tmp_path / "results.xlsm", {})
    assert list(tmp_path.iterdir()) == []
