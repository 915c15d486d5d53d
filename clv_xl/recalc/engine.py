"""Headless recalculation of a workbook with the ``CLV_*`` functions served by Python.

The ``formulas`` package (1.3.x) parses and evaluates the workbook; each Excel
function of ours is registered into ``formulas.get_functions()`` for the duration of
one run, behind an adapter that hands it what Excel + xlwings would hand it:

* arguments: ``float`` (Excel numbers are doubles, so ints become floats), ``str``,
  ``bool``, ``None`` for a blank cell or an error value (xlwings' default;
  ``err_to_str=True`` gives ``"#DIV/0!"``), and for ranges xlwings' default shapes
  (1x1 -> scalar, one row/column -> 1-D list, else 2-D list) or, with ``ndim=2``
  (what ``clv_xl.udfs`` declares for every argument), always a 2-D list.  The
  per-argument options are read from the UDF module through xlwings' own
  decorators (:func:`clv_xl.workbook.vba.udf_infos`); a function whose module cannot be
  loaded that way gets ``ndim=2`` for every argument.
* results: a scalar, or a list / 2-D list / numpy array (a 1-D list is one row, as
  in xlwings); ``None`` is a blank.  A raised exception becomes the string
  ``"<Type>: <message>"`` in the cell (xlwings shows the traceback text there) and
  is listed in :attr:`Recalculation.udf_errors`.

Dynamic arrays: a formula written with XlsxWriter's ``write_dynamic_array_formula``
is an array formula (``<f t="array" ref=...>``), and ``formulas`` evaluates it over
the range ``ref`` that the file declares; ``ANCHORARRAY(C1)`` (the ``C1#`` spill
reference, which XlsxWriter needs spelled ``ANCHORARRAY``) is that same range.
``formulas`` does not resize a spill: a larger result is cut to ``ref``, a smaller
one is padded with ``#N/A`` (a 1x1 result is repeated).  Each array formula is
therefore evaluated once more on its own and a result whose shape differs from its
``ref`` is reported in :attr:`Recalculation.spill_mismatches` (``strict=True``
raises instead).

Scale: ``formulas`` compiles every cell it loads (about 2.5 ms and 65 KB a formula).
:func:`recalculate` therefore reads the cells from the package XML itself
(:func:`read_package`), evaluates the formulas that are one call of a Python function
on cells and constants without the engine (a column of them filled down in one call
when the function computes cell by cell: ``cellwise_arguments``, see
``clv_xl.udfs.CELLWISE_ARGUMENTS``), and hands the engine a copy of the workbook with
only the other formulas, each range they read being one input node.

The recalculated workbook is written by putting the new values into the cached
``<v>`` of every formula cell of the original package, so VBA, buttons, charts and
dynamic-array metadata stay as they were (``formulas``' own writer would produce a
values-only workbook).  :func:`write_values_only` writes instead a macro-free ``.xlsx``
copy with every formula replaced by its value, for LibreOffice (which recalculates
array formulas on load) and anyone without Python.  (The LibreOffice converter the
tests use is ``tests/rendering.py``.)
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import math
import os
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import numpy as np

LOG = logging.getLogger("clv_xl")

CellKey = tuple[str, str]  # (sheet name as in the workbook, "B7")

_NODE = re.compile(r"^'\[(?P<book>[^\]]*)\](?P<sheet>.*)'!(?P<ref>[A-Z]+\d+(?::[A-Z]+\d+)?)$")
_A1 = re.compile(r"^([A-Z]+)(\d+)$")


class SpillMismatchError(ValueError):
    """An array formula's result does not have the shape of the range it spills into."""


class CircularReferenceError(ValueError):
    """Formulas that depend on their own result; :attr:`cells` lists them as ``(sheet, cell)``."""

    def __init__(self, cells: list[CellKey]):
        self.cells = cells
        super().__init__("circular reference: " + ", ".join(f"{sheet}!{cell}" for sheet, cell in cells))


class Recalculation(dict):
    """``{(sheet, cell): value}`` for every formula cell (and every cell of an array formula).

    Values are ``float``/``int``/``bool``/``str``, ``None`` for a blank, and Excel
    errors as their text (``"#N/A"``), as openpyxl reads cached values.
    """

    #: ``{(sheet, anchor): (declared (rows, cols), result (rows, cols))}``
    spill_mismatches: dict[CellKey, tuple[tuple[int, int], tuple[int, int]]]
    #: ``[(function name, message)]`` for each call that raised
    udf_errors: list[tuple[str, str]]
    #: ``{(sheet, cell): formula}`` of the cells evaluated
    formulas: dict[CellKey, str]


# ---------------------------------------------------------------------------
# A1 helpers
# ---------------------------------------------------------------------------


def col_letter(col: int) -> str:
    """1 -> "A"."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_a1(cell: str) -> tuple[int, int]:
    """"B7" -> (7, 2)."""
    found = _A1.match(cell.replace("$", "").upper())
    if not found:
        raise ValueError(f"not a cell reference: {cell!r}")
    col = 0
    for ch in found.group(1):
        col = col * 26 + ord(ch) - 64
    return int(found.group(2)), col


def cells_of(ref: str) -> list[list[str]]:
    """"A1:B2" -> [["A1", "B1"], ["A2", "B2"]]."""
    first, _, last = ref.replace("$", "").upper().partition(":")
    r1, c1 = split_a1(first)
    r2, c2 = split_a1(last or first)
    return [[f"{col_letter(c)}{r}" for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


# ---------------------------------------------------------------------------
# Values between formulas and the Excel-facing functions
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _formulas_types():
    import schedula as sh
    from formulas.functions import Array
    from formulas.ranges import Ranges
    from formulas.tokens.operand import Error, XlError

    return sh, Array, Ranges, Error, XlError


def _to_python(value: Any, err_to_str: bool, empty: Any, numbers: Callable | None) -> Any:
    """One cell value as Excel + xlwings hand it to a UDF."""
    if type(value) is float:  # the common case first
        return numbers(value) if numbers is not None else value
    sh, _Array, _Ranges, _Error, XlError = _formulas_types()
    if value is sh.EMPTY or value is None:
        return empty
    if isinstance(value, XlError):
        return str(value) if err_to_str else None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        value = float(value)
        return numbers(value) if numbers is not None else value
    return value


def _to_grid(value: Any) -> np.ndarray:
    _sh, _Array, Ranges, _Error, _XlError = _formulas_types()
    if isinstance(value, Ranges):
        value = value.value
    arr = np.asarray(value, dtype=object) if isinstance(value, np.ndarray) else None
    if arr is None:
        return np.array([[value]], dtype=object)
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    if arr.ndim == 1:
        return arr.reshape(1, -1)
    return arr


def convert_argument(value: Any, options: Mapping[str, Any] | None = None) -> Any:
    """A ``formulas`` argument (``Ranges``, ``Array``, scalar) as xlwings would pass it.

    ``options`` are the argument's xlwings options (``ndim``, ``err_to_str``,
    ``empty``, ``numbers``).
    """
    options = options or {}
    grid = _to_grid(value)
    err_to_str = bool(options.get("err_to_str", False))
    empty = options.get("empty")
    numbers = options.get("numbers")
    rows = [[_to_python(v, err_to_str, empty, numbers) for v in row] for row in grid.tolist()]
    ndim = options.get("ndim")
    if ndim == 2:
        return rows
    if ndim == 1:
        return [v for row in rows for v in row]
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    if len(rows) == 1:
        return rows[0]
    if all(len(row) == 1 for row in rows):
        return [row[0] for row in rows]
    return rows


def _to_excel(value: Any) -> Any:
    sh, _Array, _Ranges, Error, _XlError = _formulas_types()
    if value is None:
        return sh.EMPTY
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return Error.errors["#NUM!"]
    return value


def convert_result(value: Any) -> Any:
    """A UDF's return value as ``formulas`` wants it: a scalar or a 2-D ``Array``."""
    _sh, Array, _Ranges, _Error, _XlError = _formulas_types()
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = value.to_numpy()
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 0:
            return _to_excel(arr.item())
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        out = np.empty(arr.shape, dtype=object)
        for idx, v in np.ndenumerate(arr):
            out[idx] = _to_excel(v)
        if out.shape == (1, 1):
            return out[0, 0]
        return out.view(Array)
    return _to_excel(value)


@functools.lru_cache(maxsize=None)
def _module_arg_options(module_name: str) -> dict[str, list[dict[str, Any]]]:
    from clv_xl.workbook.vba import udf_infos

    infos = udf_infos(module_name)
    return {name: [dict(arg["options"], _name=arg["name"], _vararg=arg["vararg"]) for arg in info["args"]]
            for name, info in infos.items()}


def argument_options(name: str, function: Callable) -> list[dict[str, Any]] | None:
    """xlwings' per-argument options of ``function`` (``None``: unknown, use ``ndim=2``)."""
    xlfunc = getattr(function, "__xlfunc__", None)
    if xlfunc is not None:
        return [dict(arg["options"], _vararg=arg["vararg"]) for arg in xlfunc["args"]]
    module = getattr(function, "__module__", None)
    if not module:
        return None
    try:
        return _module_arg_options(module).get(name)
    except (ImportError, ValueError):  # not importable as a module file (``__main__``: ValueError): use the contract
        LOG.debug("argument options of %s from module %s not readable; ndim=2 assumed", name, module, exc_info=True)
        return None


def excel_adapter(name: str, function: Callable, errors: list[tuple[str, str]] | None = None) -> Callable:
    """``function`` wrapped to be called by ``formulas`` as Excel calls it through xlwings."""
    options = argument_options(name, function)

    def adapter(*args: Any) -> Any:
        converted = []
        for pos, arg in enumerate(args):
            if options is None:
                opts: Mapping[str, Any] = {"ndim": 2}
            elif pos < len(options):
                opts = options[pos]
            else:
                opts = options[-1] if options and options[-1].get("_vararg") else {}
            converted.append(convert_argument(arg, opts))
        try:
            result = function(*converted)
        except Exception as exc:  # noqa: BLE001 - as xlwings: any error's text goes into the cell, and is listed
            message = f"{type(exc).__name__}: {exc}"
            LOG.debug("%s raised in the recalculation", name, exc_info=True)
            if errors is not None:
                errors.append((name, message))
            return message
        return convert_result(result)

    adapter.__name__ = name
    return adapter


# ---------------------------------------------------------------------------
# Reading the workbook
# ---------------------------------------------------------------------------


def formula_cells(path: str | os.PathLike[str]) -> tuple[dict[CellKey, str], dict[CellKey, str]]:
    """``(formulas, array_refs)`` of a workbook, as openpyxl reads them.

    ``formulas``: ``{(sheet, cell): "=..."}`` for each formula cell (anchors only for
    array formulas).  ``array_refs``: ``{(sheet, anchor): "C1:D3"}`` for array
    formulas, dynamic ones (XlsxWriter ``write_dynamic_array_formula``) included.
    """
    found, arrays, _values, _extents = read_package(path)
    return found, arrays


class PackageCells(NamedTuple):
    """What :func:`read_package` reads from a workbook."""

    #: ``{(sheet, cell): "=..."}``, shared formulas translated to each cell (as openpyxl does)
    formulas: dict[CellKey, str]
    #: ``{(sheet, anchor): "C1:D3"}`` of the array formulas
    arrays: dict[CellKey, str]
    #: ``{sheet: {(row, column): value}}`` of the other cells, as the ``formulas`` engine holds them
    values: dict[str, dict[tuple[int, int], Any]]
    #: ``{sheet: (last row, last column)}`` of the cells in the file
    extents: dict[str, tuple[int, int]]


_SHARED_STRING = re.compile(r"<si>(.*?)</si>|<si/>", re.S)
_PHONETIC_RUN = re.compile(r"<rPh\b.*?</rPh>", re.S)
_TEXT = re.compile(r"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_VALUE = re.compile(r"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
_FORMULA_PARTS = re.compile(r"<f\b(?P<attrs>[^>]*?)(?:/>|>(?P<text>.*?)</f>)", re.S)
_HEX_ESCAPE = re.compile(r"_x([0-9A-Z]{4})_")


def _text_of(xml: str) -> str:
    """The text of a string item (``<t>`` and rich-text runs, phonetic runs left out), unescaped."""
    return html.unescape("".join(_TEXT.findall(_PHONETIC_RUN.sub("", xml))))


def _shared_strings(package: zipfile.ZipFile) -> list[str]:
    """The shared-string table as ``formulas``' reader reads it (``_xHHHH_`` escapes decoded)."""
    parts = [rel.target for rel in _relationships(package, "xl/workbook.xml") if rel.kind == "sharedStrings"]
    if not parts:
        return []
    strings = []
    for found in _SHARED_STRING.finditer(package.read(parts[0]).decode("utf-8")):
        text = _text_of(found.group(1) or "")
        if "_x" in text:
            text = _HEX_ESCAPE.sub(lambda code: chr(int(code.group(1), 16)), text)
        strings.append(text.replace("x005F_", ""))
    return strings


def _cell_value(kind: str, body: str, strings: list[str]) -> Any:
    """A constant cell's value as ``formulas`` holds it (openpyxl's reader with dates left as
    numbers, then ``ExcelModel.compile_cell``: floats rounded to 15 digits, errors as ``XlError``)."""
    from openpyxl.utils.datetime import from_ISO8601

    _sh, _Array, _Ranges, Error, _XlError = _formulas_types()
    if kind == "inlineStr":
        inline = re.search(r"<is>(.*?)</is>", body, re.S)
        return _text_of(inline.group(1)) if inline else None
    found = _VALUE.search(body)
    text = html.unescape(found.group(1)) if found else ""
    if not text:
        return None
    if kind == "n":
        return round(float(text), 15) if any(mark in text for mark in ".Ee") else int(text)
    if kind == "s":
        return strings[int(text)]
    if kind == "b":
        return bool(int(text))
    if kind == "e":
        return Error.errors.get(text, text)
    if kind == "d":
        return from_ISO8601(text)
    return text


def read_package(path: str | os.PathLike[str]) -> PackageCells:
    """Formulas and values of every cell of the workbook at ``path``, read from its XML.

    The same cells, formulas and values that ``formulas``' openpyxl-based reader
    gives, about ten times faster: openpyxl builds an object per cell.  Cells must
    carry their reference (``r``), as Excel, LibreOffice and XlsxWriter write them.
    """
    from openpyxl.formula.translate import Translator

    found: dict[CellKey, str] = {}
    arrays: dict[CellKey, str] = {}
    values: dict[str, dict[tuple[int, int], Any]] = {}
    extents: dict[str, tuple[int, int]] = {}
    with zipfile.ZipFile(path) as package:
        strings = _shared_strings(package)
        for sheet, part in _sheet_parts(package).items():
            table = values.setdefault(sheet, {})
            shared: dict[str, Translator] = {}
            last_row = last_column = 0
            xml = package.read(part).decode("utf-8").partition("<sheetData")[2]
            for cell in _CELL.finditer(xml):
                attrs = dict(_ATTR.findall(cell.group("attrs")))
                if "r" not in attrs:
                    raise ValueError(f"{path}: a cell of sheet {sheet!r} has no reference (r)")
                row, column = split_a1(attrs["r"])
                body = cell.group("body") or ""
                formula = _FORMULA_PARTS.search(body)
                if formula is None:
                    value = _cell_value(attrs.get("t", "n"), body, strings)
                    if value is not None:
                        table[(row, column)] = value
                else:
                    options = dict(_ATTR.findall(formula.group("attrs")))
                    text = "=" + html.unescape(formula.group("text") or "")
                    if options.get("t") == "shared" and options.get("si") in shared:
                        text = shared[options["si"]].translate_formula(attrs["r"])
                    elif options.get("t") == "shared" and text != "=":
                        shared[options["si"]] = Translator(text, attrs["r"])
                    if options.get("t") == "array":
                        arrays[(sheet, attrs["r"])] = options["ref"]
                    if options.get("t") != "dataTable":
                        found[(sheet, attrs["r"])] = text
                last_row, last_column = max(last_row, row), max(last_column, column)
            extents[sheet] = (last_row, last_column)
    return PackageCells(found, arrays, values, extents)


_EMPTY_SHARED_STRINGS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                         '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
                         'uniqueCount="0"/>')
_SHEET_DATA = re.compile(r"<sheetData\b[^>]*?/>|<sheetData\b.*?</sheetData>", re.S)


def _write_formulas_only(src: Path, dst: Path, formulas: Mapping[CellKey, str],
                         arrays: Mapping[CellKey, str]) -> None:
    """Copy the package ``src`` to ``dst`` with only the cells ``formulas`` (no values, no shared strings).

    What the engine loads: openpyxl then reads a few formulas instead of every cell.
    """
    by_sheet: dict[str, dict[tuple[int, int], str]] = {}
    for (sheet, cell), formula in formulas.items():
        ref = arrays.get((sheet, cell))
        kind = f' t="array" ref="{ref}"' if ref else ""
        by_sheet.setdefault(sheet, {})[split_a1(cell)] = f'<c r="{cell}"><f{kind}>{escape(formula[1:])}</f></c>'
    with zipfile.ZipFile(src) as package:
        replaced = {target: _EMPTY_SHARED_STRINGS for rel in _relationships(package, "xl/workbook.xml")
                    if rel.kind == "sharedStrings" for target in [rel.target]}
        for sheet, part in _sheet_parts(package).items():
            rows: dict[int, list[str]] = {}
            for (row, _column), element in sorted(by_sheet.get(sheet, {}).items()):
                rows.setdefault(row, []).append(element)
            data = "<sheetData>" + "".join(f'<row r="{row}">{"".join(cells)}</row>' for row, cells in rows.items()) \
                + "</sheetData>"
            xml = package.read(part).decode("utf-8")
            found = _SHEET_DATA.search(xml)
            replaced[part] = xml[:found.start()] + data + xml[found.end():] if found else xml
        _write_package(package, dst, replaced)


def cached_values(path: str | os.PathLike[str], cells: Mapping[CellKey, Any] | None = None) -> dict[CellKey, Any]:
    """Values cached in the file (openpyxl ``data_only=True``) for ``cells``.

    Default: every formula cell and every cell of an array formula.
    """
    import openpyxl

    if cells is None:
        found, arrays = formula_cells(path)
        keys = _output_cells(found, arrays)
    else:
        keys = list(cells)
    book = openpyxl.load_workbook(path, data_only=True)
    try:
        return {(s, c): book[s][c].value for s, c in keys}
    finally:
        book.close()


def _output_cells(found: Mapping[CellKey, str], arrays: Mapping[CellKey, str]) -> list[CellKey]:
    keys = dict.fromkeys(found)
    for (sheet, _anchor), ref in arrays.items():
        for row in cells_of(ref):
            for cell in row:
                keys.setdefault((sheet, cell))
    return list(keys)


# ---------------------------------------------------------------------------
# Filled-down formulas evaluated without the engine
# ---------------------------------------------------------------------------

#: A string literal, a quoted sheet name, or an A1 cell reference (column, "$" of the row, row).
_A1_TOKEN = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'|(?<![\w.$])(\$?[A-Z]{1,3})(\$?)(\d+)(?![\w(!])")
_CALL = re.compile(r"^=\s*(?P<name>[A-Za-z_][\w.]*)\((?P<arguments>.*)\)\s*$", re.S)
_SHEET_PREFIX = r"(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?"
_CELL_ARGUMENT = re.compile(rf"^{_SHEET_PREFIX}\$?(?P<column>[A-Z]{{1,3}})(?P<fixed>\$?)(?P<row>\d+)$")
_BLOCK_ARGUMENT = re.compile(rf"^{_SHEET_PREFIX}\$?(?P<column1>[A-Z]{{1,3}})\$(?P<row1>\d+)"
                             rf":\$?(?P<column2>[A-Z]{{1,3}})\$(?P<row2>\d+)$")
_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
#: What is left of a constant expression (numbers, operators) once its strings are taken out.
_CONSTANT_EXPRESSION = re.compile(r"^[\d.eE+\-*/%^&()\s]*$")

Box = tuple[int, int, int, int]  # first row, last row, first column, last column (1-based, inclusive)


def relative_form(formula: str, row: int) -> str:
    """``formula`` of a cell in ``row`` with each relative row written as an offset (``B[0]``).

    Formulas filled down one column have the same relative form; strings and quoted
    sheet names are left as they are.
    """
    def offset(match: re.Match[str]) -> str:
        column, fixed, referenced = match.groups()
        if column is None or fixed:
            return match.group(0)
        return f"{column}[{int(referenced) - row}]"

    return _A1_TOKEN.sub(offset, formula)


class _RowCell(NamedTuple):
    """An argument that is, for each formula, the cell ``offset`` rows from its own row."""

    sheet: str
    column: int
    offset: int


class _Block(NamedTuple):
    """An argument that is the same cell or range for every formula of a column."""

    sheet: str
    box: Box


class _Literal(NamedTuple):
    """An argument without references (``0.3``, ``"W"``, ``30%``), as ``formulas`` evaluates it."""

    value: Any


class _Column(NamedTuple):
    """Cells of one column whose formulas are the same single call, filled down."""

    sheet: str
    column: int
    rows: list[int]
    name: str
    arguments: list[_RowCell | _Block | _Literal]


def _top_level_arguments(text: str) -> list[str] | None:
    """``text`` split at its top-level commas; ``None`` if a parenthesis closes what it did not open."""
    parts, depth, start, quote = [], 0, 0, ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if quote or depth:
        return None
    parts.append(text[start:])
    return parts


def _column_number(letters: str) -> int:
    return split_a1(f"{letters}1")[1]


def _constant(text: str) -> _Literal | None:
    """A reference-free argument evaluated once by ``formulas`` (``None`` if it is anything else)."""
    import formulas
    from formulas.errors import FormulaError

    if not (text.upper() in ("TRUE", "FALSE") or (text and _CONSTANT_EXPRESSION.match(_STRING_LITERAL.sub("", text)))):
        return None
    try:
        compiled = formulas.Parser().ast("=" + text)[1].compile()
    except FormulaError:
        return None
    return None if compiled.inputs else _Literal(compiled())


def _argument(text: str, row: int, sheet: str, sheets: Mapping[str, str]) -> _RowCell | _Block | _Literal | None:
    """One argument of a call in ``row`` of ``sheet``; ``None`` unless a cell, a fixed block or a constant."""
    reference = _CELL_ARGUMENT.match(text) or _BLOCK_ARGUMENT.match(text)
    if reference is None:
        return _constant(text)
    named = reference.group("sheet")
    if named is not None:
        named = named[1:-1].replace("''", "'") if named.startswith("'") else named
    target = sheets.get(named.upper()) if named is not None else sheet
    if target is None:
        return None
    if "column" not in reference.groupdict():
        rows = sorted((int(reference.group("row1")), int(reference.group("row2"))))
        columns = sorted((_column_number(reference.group("column1")), _column_number(reference.group("column2"))))
        return _Block(target, (rows[0], rows[1], columns[0], columns[1]))
    column, referenced = _column_number(reference.group("column")), int(reference.group("row"))
    if reference.group("fixed"):
        return _Block(target, (referenced, referenced, column, column))
    return _RowCell(target, column, referenced - row)


def _single_call(formula: str, row: int, sheet: str, sheets: Mapping[str, str],
                 names: Mapping[str, str]) -> tuple[str, list[_RowCell | _Block | _Literal]] | None:
    """``(function name, arguments)`` if ``formula`` is one call of a function in ``names`` on cells,
    fixed blocks and constants (``names``: upper-case name -> name as registered)."""
    call = _CALL.match(formula)
    texts = _top_level_arguments(call.group("arguments")) if call else None
    if texts is None or call.group("name").upper() not in names:
        return None
    arguments = [_argument(text.strip(), row, sheet, sheets) for text in texts]
    if any(argument is None for argument in arguments):
        return None
    return names[call.group("name").upper()], arguments


def _filled_down_columns(found: Mapping[CellKey, str], arrays: Mapping[CellKey, str], names: Mapping[str, str],
                         sheets: Mapping[str, str]) -> list[_Column]:
    """The formula cells grouped by sheet, column and relative form, each group a single call."""
    groups: dict[tuple[str, int, str], list[int]] = {}
    for (sheet, cell), formula in found.items():
        if (sheet, cell) not in arrays:
            row, column = split_a1(cell)
            groups.setdefault((sheet, column, relative_form(formula, row)), []).append(row)
    columns = []
    for (sheet, column, _form), rows in groups.items():
        call = _single_call(found[(sheet, f"{col_letter(column)}{rows[0]}")], rows[0], sheet, sheets, names)
        if call is not None:
            columns.append(_Column(sheet, column, sorted(rows), *call))
    return columns


def _cells_read(column: _Column) -> Iterator[tuple[str, int, int]]:
    """``(sheet, row, column)`` of every cell the formulas of ``column`` read."""
    for argument in column.arguments:
        if isinstance(argument, _RowCell):
            yield from ((argument.sheet, row + argument.offset, argument.column) for row in column.rows)
        elif isinstance(argument, _Block):
            first_row, last_row, first_column, last_column = argument.box
            yield from ((argument.sheet, row, col) for row in range(first_row, last_row + 1)
                        for col in range(first_column, last_column + 1))


def _cells_in(table: Mapping[tuple[int, int], Any], box: Box) -> Iterator[tuple[tuple[int, int], Any]]:
    """Items of ``table`` (``{(row, column): value}``) inside ``box``, by the cheaper of two walks."""
    first_row, last_row, first_column, last_column = box
    if (last_row - first_row + 1) * (last_column - first_column + 1) <= len(table):
        for row in range(first_row, last_row + 1):
            for col in range(first_column, last_column + 1):
                if (row, col) in table:
                    yield (row, col), table[(row, col)]
    else:
        for (row, col), value in table.items():
            if first_row <= row <= last_row and first_column <= col <= last_column:
                yield (row, col), value


def _cellwise(function: Callable, options: list[dict[str, Any]] | None, column: _Column) -> bool:
    """Whether every per-row argument of ``column`` may be a whole column for ``function``.

    The function declares it: ``function.cellwise_arguments`` names the arguments in
    which it computes cell by cell (a range there gives the range's shape, each cell
    from the same cells of those ranges), and each must arrive as a 2-D range
    (``ndim=2``, the ``clv_xl.udfs`` contract).
    """
    declared = getattr(function, "cellwise_arguments", frozenset())
    names = list(inspect.signature(function).parameters)
    for position, argument in enumerate(column.arguments):
        if not isinstance(argument, _RowCell):
            continue
        if position >= len(names) or names[position] not in declared:
            return False
        if options is not None and (position >= len(options) or options[position].get("ndim") != 2):
            return False
    return True


def _gather(argument: _RowCell | _Block | _Literal, rows: list[int],
            values: Mapping[str, Mapping[tuple[int, int], Any]]) -> Any:
    """An argument's values: a list (one per row) for a per-row cell, a 2-D grid for a block."""
    sh, _Array, _Ranges, _Error, _XlError = _formulas_types()
    if isinstance(argument, _Literal):
        return argument.value
    table = values.get(argument.sheet, {})
    if isinstance(argument, _RowCell):
        return [table.get((row + argument.offset, argument.column), sh.EMPTY) for row in rows]
    first_row, last_row, first_column, last_column = argument.box
    grid = np.full((last_row - first_row + 1, last_column - first_column + 1), sh.EMPTY, dtype=object)
    for (row, col), value in _cells_in(table, argument.box):
        grid[row - first_row, col - first_column] = value
    return grid


def _evaluate_column(column: _Column, function: Callable, values: Mapping[str, Mapping[tuple[int, int], Any]]
                     ) -> tuple[list[Any], list[tuple[str, str]]] | None:
    """The value of each formula of ``column`` as ``formulas`` would compute it, and the calls that raised.

    A function that computes its per-row arguments cell by cell (:func:`_cellwise`) is
    called once with those arguments as columns; if that call raises or does not
    return one value per row, or the function is not cellwise, it is called once per
    row.  Either way it gets exactly what the engine's adapter would hand it, and a
    blank result becomes 0 (the engine's ``replace_empty``).  ``None``: a call
    returned several cells, which a single-cell formula leaves to the engine.
    """
    from formulas.functions import replace_empty

    gathered = [_gather(argument, column.rows, values) for argument in column.arguments]
    per_row = [isinstance(argument, _RowCell) for argument in column.arguments]
    options = argument_options(column.name, function)
    count = len(column.rows)
    if count > 1 and _cellwise(function, options, column):
        discarded: list[tuple[str, str]] = []
        as_columns = [np.array(value, dtype=object).reshape(count, 1) if row_cell else value
                      for value, row_cell in zip(gathered, per_row)]
        result = excel_adapter(column.name, function, discarded)(*as_columns)
        if not discarded and isinstance(result, np.ndarray) and result.shape == (count, 1):
            return [replace_empty(value) for value in result[:, 0].tolist()], []
    errors: list[tuple[str, str]] = []
    adapter = excel_adapter(column.name, function, errors)
    results = []
    for index in range(count):
        result = adapter(*[value[index] if row_cell else value for value, row_cell in zip(gathered, per_row)])
        if isinstance(result, np.ndarray):
            return None
        results.append(replace_empty(result))
    return results, errors


def _evaluate_columns(columns: list[_Column], functions: Mapping[str, Callable],
                      values: dict[str, dict[tuple[int, int], Any]], engine_only: set[tuple[str, int, int]],
                      result: Recalculation) -> set[int]:
    """Evaluate the columns whose inputs are known, in dependency order; returns their indices.

    A column is left to the engine if it reads a cell in ``engine_only`` (another
    formula, a spill), a cell of its own, or a column left to the engine, or if its
    columns depend on each other in a circle.  Results go into ``values`` (as the
    engine holds them, for the columns and formulas that read them) and ``result``.
    """
    owner = {(column.sheet, row, column.column): index for index, column in enumerate(columns) for row in column.rows}
    depends: list[set[int]] = []
    blocked = set()
    for index, column in enumerate(columns):
        read = set(_cells_read(column))
        depends.append({owner[cell] for cell in read if cell in owner})
        if index in depends[-1] or not read.isdisjoint(engine_only):
            blocked.add(index)
    dependents: dict[int, list[int]] = {}
    for index, sources in enumerate(depends):
        for source in sources:
            dependents.setdefault(source, []).append(index)
    waiting = [len(sources) for sources in depends]
    ready = [index for index, count in enumerate(waiting) if count == 0]
    done: set[int] = set()
    while ready:
        index = ready.pop()
        column = columns[index]
        evaluated = None
        if index not in blocked and depends[index] <= done:
            evaluated = _evaluate_column(column, functions[column.name], values)
        if evaluated is not None:
            done.add(index)
            column_values, errors = evaluated
            result.udf_errors.extend(errors)
            table = values.setdefault(column.sheet, {})
            letter = col_letter(column.column)
            for row, value in zip(column.rows, column_values):
                table[(row, column.column)] = value
                result[(column.sheet, f"{letter}{row}")] = _plain(value)
        for dependent in dependents.get(index, []):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return done


# ---------------------------------------------------------------------------
# The engine, for the other formulas
# ---------------------------------------------------------------------------


class _EngineLoader:
    """Loads into a ``formulas.ExcelModel`` only the formulas left to it and the values they read.

    ``book`` is the model's copy of the workbook with only those formulas in it
    (:func:`_write_formulas_only`); ``values`` and ``extents`` are those of the whole
    workbook (:func:`read_package`, plus the results computed outside the engine).
    Push every formula left to the engine (:meth:`push_formula`) first, then
    :meth:`complete`.

    ``ExcelModel.loads`` compiles every cell of the workbook (about 0.2 ms for a
    constant, 2.5 ms for a formula); here the formulas left to the engine are
    compiled one by one (``compile_cell``/``add_cell``, as ``ExcelModel.push`` does),
    and each range or cell they read that holds no such formula becomes one input
    node with its values (constants, and results computed outside the engine) as
    the node's default.  A range that mixes such formulas with other cells is
    assembled by the engine from the formulas and one constant node per run of
    other cells in a column; references the loader does not handle (other
    workbooks, spill anchors, bad names) go to ``ExcelModel.complete``.
    """

    def __init__(self, model: Any, book: Any, context: dict[str, Any],
                 values: Mapping[str, Mapping[tuple[int, int], Any]],
                 engine_cells: Mapping[str, Mapping[tuple[int, int], str]],
                 extents: Mapping[str, tuple[int, int]]):
        self.model, self.book, self.context = model, book, context
        self.values, self.engine_cells, self.extents = values, engine_cells, extents
        self.sheets = {sheet.upper(): sheet for sheet in book.sheetnames}
        self.references = model.references
        self.read: dict[str, list[Box]] = {}

    def _sheet_context(self, sheet: str) -> tuple[Any, dict[str, Any]]:
        worksheet, context = self.model.add_sheet(self.book[sheet], self.context)
        return worksheet, {"external_links": self.model.external_links(context), **context}

    def push_formula(self, sheet: str, cell: str) -> list[str]:
        """Compile the formula in ``sheet!cell`` into the model; returns the nodes it reads."""
        import schedula as sh

        worksheet, context = self._sheet_context(sheet)
        compiled = sh.await_result(self.model.compile_cell(
            worksheet[cell], context, self.references, self.model.formula_references(context)))
        added = self.model.add_cell(compiled, context, self.model.formula_ranges(context))
        return list(added.inputs or ()) if added is not None else []

    def _push_values(self, sheet: str, box: Box) -> None:
        """Add the cells of ``box`` as a constant node with their values (blank cells included)."""
        from formulas.cell import Cell

        _worksheet, context = self._sheet_context(sheet)
        first_row, last_row, column, _last_column = box
        reference = f"{col_letter(column)}{first_row}" + (f":{col_letter(column)}{last_row}" if last_row > first_row
                                                          else "")
        cell = Cell(reference, _gather(_Block(sheet, box), [], self.values), context=context, check_formula=False)
        self.model.add_cell(cell, context, self.model.formula_ranges(context))

    def complete(self) -> None:
        """Give every node read by the formulas pushed so far its value.

        A range holding formulas of the engine (all pushed already) is built by the
        engine from those and from one constant node per run of other cells in a column.
        """
        import schedula as sh
        from formulas.errors import InvalidRangeName
        from formulas.ranges import Ranges

        model = self.model
        pending = [node for node in model.dsp.data_nodes
                   if isinstance(node, str) and not isinstance(node, sh.Token) and node not in model.cells]
        delegated, seen = [], set()
        while pending:
            node = pending.pop()
            if node in seen or node in model.cells:
                continue
            seen.add(node)
            try:
                found = Ranges.get_range(node, raise_anchor=False)
            except InvalidRangeName:
                delegated.append(node)
                continue
            sheet = self.sheets.get(found.get("sheet", "").upper())
            if (found.get("anchor") or sheet is None or found.get("directory")
                    or found.get("filename", "").upper() != self.context["filename"].upper()):
                delegated.append(node)
                continue
            box = (max(int(found["r1"]), 1), int(found["r2"]), max(found["n1"], 1), found["n2"])
            self.read.setdefault(sheet, []).append(box)
            engine = self.engine_cells.get(sheet, {})
            if not any(True for _item in _cells_in(engine, box)):
                model.dsp.set_default_value(node, _gather(_Block(sheet, box), [], self.values))
                continue
            last_row, last_column = self.extents[sheet]
            for column in range(box[2], min(box[3], last_column) + 1):  # each run of non-formula cells
                rows = [box[0] - 1, *sorted(row for (row, col) in engine if col == column and box[0] <= row <= box[1]),
                        min(box[1], last_row) + 1]
                for after, before in zip(rows, rows[1:]):
                    if before - after > 1:
                        self._push_values(sheet, (after + 1, before - 1, column, column))
        if delegated:
            model.complete(delegated)

    def reads(self, sheet: str, row: int, column: int) -> bool:
        """Whether a node completed so far includes the cell."""
        return any(box[0] <= row <= box[1] and box[2] <= column <= box[3] for box in self.read.get(sheet, []))


# ---------------------------------------------------------------------------
# Recalculation
# ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    sh, _Array, Ranges, _Error, XlError = _formulas_types()
    if isinstance(value, Ranges):
        value = value.value
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else None
    if value is sh.EMPTY:
        return None
    if isinstance(value, XlError):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class _registered:
    """Put adapters into ``formulas.get_functions()`` and take them out again."""

    def __init__(self, functions: Mapping[str, Callable], errors: list[tuple[str, str]]):
        self.adapters = {name.upper(): excel_adapter(name, fn, errors) for name, fn in functions.items()}

    def __enter__(self) -> None:
        import formulas

        table = formulas.get_functions()
        self.saved = {name: table[name] for name in self.adapters if name in table}
        table.update(self.adapters)

    def __exit__(self, *exc: object) -> None:
        import formulas

        table = formulas.get_functions()
        for name in self.adapters:
            table.pop(name, None)
        table.update(self.saved)


def recalculate(
    path: str | os.PathLike[str],
    functions: Mapping[str, Callable],
    out_path: str | os.PathLike[str] | None = None,
    *,
    inputs: Mapping[CellKey, Any] | None = None,
    strict: bool = False,
    values_only: bool = False,
    by_column: bool = True,
) -> Recalculation:
    """Evaluate every formula of the workbook at ``path`` with ``functions`` served by Python.

    ``functions``: Excel name -> callable (``clv_xl.udfs.FUNCTIONS``).  ``inputs``:
    ``{(sheet, cell): value}`` replacing constants before evaluating (what-if); the
    cell must be one a formula refers to.  ``out_path``: write the workbook with the
    new cached values (and the new ``inputs``) there.  ``values_only``: write instead a
    macro-free ``.xlsx`` copy whose formulas are replaced by their values
    (:func:`write_values_only`); ``out_path`` must then end in ``.xlsx``, checked before
    anything is evaluated.  Returns the values of every formula cell, see
    :class:`Recalculation`.
    Raises :class:`CircularReferenceError` when formulas depend on their own result
    (``formulas`` would leave them blank).

    ``by_column``: a formula that is a single call of one of ``functions`` on cells,
    fixed cells or ranges (``$H$2:$I$6``) and constants is evaluated here, without the
    ``formulas`` engine, as soon as the cells it reads are known: formulas filled
    down a column (the same relative form, :func:`relative_form`) together, in one
    call with columns if the function computes those arguments cell by cell
    (``cellwise_arguments``), else one call per row.  Each call gets what the engine
    would hand it, so the values are those of the engine.  Every other formula (and
    every formula, with ``by_column=False``) is left to ``formulas``, which gets the
    values computed here as inputs (:class:`_EngineLoader`).
    """
    import formulas

    if values_only:
        check_values_only_path(out_path)
    path = Path(path)
    result = Recalculation()
    result.spill_mismatches, result.udf_errors = {}, []
    with _registered(functions, result.udf_errors), tempfile.TemporaryDirectory(prefix="clv_recalc_") as folder:
        found, arrays, values, extents = read_package(path)
        result.formulas = dict(found)
        sheets = {sheet.upper(): sheet for sheet in values}
        formula_at = {(sheet, *split_a1(cell)): (sheet, cell) for sheet, cell in found}
        for (sheet, cell), value in (inputs or {}).items():
            position = (sheet, *split_a1(cell))
            if position in formula_at:
                raise KeyError(f"{sheet}!{cell} is a formula cell, not an input")
            values.setdefault(sheet, {})[position[1:]] = value
        for key in _output_cells(found, arrays):
            result[key] = None
        spilled = {(sheet, *split_a1(cell)): (sheet, anchor)
                   for (sheet, anchor), ref in arrays.items() for row in cells_of(ref) for cell in row}
        columns = _filled_down_columns(found, arrays, {name.upper(): name for name in functions}, sheets) \
            if by_column else []
        grouped = {(column.sheet, row, column.column) for column in columns for row in column.rows}
        done = _evaluate_columns(columns, functions, values, (set(formula_at) - grouped) | set(spilled), result)
        evaluated = {(columns[index].sheet, row, columns[index].column) for index in done
                     for row in columns[index].rows}
        engine_cells: dict[str, dict[tuple[int, int], str]] = {}
        for position, (sheet, cell) in [*formula_at.items(), *spilled.items()]:
            if position not in evaluated:
                engine_cells.setdefault(sheet, {})[position[1:]] = cell
        left = [key for position, key in formula_at.items() if position not in evaluated]
        engine_path = Path(folder) / path.name  # the same name: the engine names cells by the file's
        _write_formulas_only(path, engine_path, {key: found[key] for key in left}, arrays)
        model = formulas.ExcelModel()
        book, context = model.add_book(str(engine_path))
        loader = _EngineLoader(model, book, context, values, engine_cells, extents)
        for sheet, cell in left:
            loader.push_formula(sheet, cell)
        loader.complete()
        read_by_columns = {cell for column in columns for cell in _cells_read(column)} if inputs else set()
        unread = [f"{sheet}!{cell}" for sheet, cell in inputs or {}
                  if not loader.reads(sheet, *split_a1(cell)) and (sheet, *split_a1(cell)) not in read_by_columns]
        if unread:
            raise KeyError(f"{', '.join(unread)}: not an input of any formula")
        model.finish(complete=False)
        solution = model.calculate()
        solved = _node_index(solution)
        if any((sheet.upper(), arrays.get((sheet, cell), cell)) not in solved for sheet, cell in left):
            in_cycles = _node_index(_nodes_in_cycles(model.dsp, solution))
            circular = [(sheet, cell) for sheet, cell in left
                        if (sheet.upper(), arrays.get((sheet, cell), cell)) in in_cycles]
            if circular:
                raise CircularReferenceError(circular)
        for (sheet, cell) in left:
            ref = arrays.get((sheet, cell), cell)
            node = solved.get((sheet.upper(), ref))
            if node is None:
                continue
            grid = _to_grid(solution[node])
            for r, row in enumerate(cells_of(ref)):
                for c, key in enumerate(row):
                    v = grid[r, c] if r < grid.shape[0] and c < grid.shape[1] else None
                    result[(sheet, key)] = _plain(v)
        for (sheet, anchor), ref in arrays.items():
            shape = _natural_shape(path.name, sheet, found[(sheet, anchor)], solution, solved)
            refs = cells_of(ref)
            declared = (len(refs), len(refs[0]))
            if shape is not None and shape != declared:
                result.spill_mismatches[(sheet, anchor)] = (declared, shape)
    if strict and result.spill_mismatches:
        raise SpillMismatchError(f"array results do not fit their ranges: {result.spill_mismatches}")
    if out_path is not None:
        updates = dict(result)
        updates.update({(s, c.upper()): v for (s, c), v in (inputs or {}).items()})
        (write_values_only if values_only else write_values)(path, out_path, updates)
    return result


def _node_index(nodes: Any) -> dict[tuple[str, str], str]:
    index = {}
    for node in nodes:
        if not isinstance(node, str):
            continue
        found = _NODE.match(node)
        if found:
            index[(found.group("sheet").upper(), found.group("ref"))] = node
    return index


def _nodes_in_cycles(dsp: Any, solution: Any) -> set[str]:
    """The nodes of a ``formulas`` model that lie on a circular reference.

    ``formulas`` leaves a cell that depends on its own result, and every cell that
    depends on such a cell, out of ``solution`` without a word.  Among those
    unsolved nodes, dropping again and again the ones that no other unsolved node
    feeds (upstream of a loop) or that feed none (downstream of it) leaves the
    loops.  The range-to-cell links ``formulas`` adds (``InvRangesAssembler``) are
    not references and are left out, as ``ExcelModel.solve_circular`` does.
    """
    from formulas.cell import InvRangesAssembler

    unsolved = {node for node in dsp.data_nodes if node not in solution}
    unsolved |= {node for node, attrs in dsp.function_nodes.items()
                 if not isinstance(attrs["function"], InvRangesAssembler)
                 and unsolved.intersection(dsp.dmap.succ[node])}
    feeds = {node: set(dsp.dmap.succ[node]) & unsolved for node in unsolved}
    fed_by = {node: set(dsp.dmap.pred[node]) & unsolved for node in unsolved}
    pending = [node for node in unsolved if not feeds[node] or not fed_by[node]]
    while pending:
        node = pending.pop()
        if node not in unsolved:
            continue
        unsolved.discard(node)
        for other in (feeds[node] | fed_by[node]) & unsolved:
            feeds[other].discard(node)
            fed_by[other].discard(node)
            if not feeds[other] or not fed_by[other]:
                pending.append(other)
    return unsolved


def _natural_shape(book: str, sheet: str, formula: str, solution: Any, solved: Mapping) -> tuple[int, int] | None:
    """Shape of an array formula's result when nothing cuts it to its range."""
    import formulas

    try:
        func = formulas.Parser().ast(formula, context={"sheet": sheet.upper(), "filename": book})[1].compile()
        values = []
        for name in func.inputs:
            found = _NODE.match(name)
            key = (found.group("sheet").upper(), found.group("ref")) if found else None
            if key not in solved:
                return None
            values.append(solution[solved[key]])
        grid = _to_grid(func(*values))
        return (int(grid.shape[0]), int(grid.shape[1]))
    except Exception:  # noqa: BLE001 - any failure of the engine here only means "shape unknown"
        LOG.debug("no natural shape for %s!%s", sheet, formula, exc_info=True)
        return None


# ---------------------------------------------------------------------------
# Writing values into the package
# ---------------------------------------------------------------------------

_CELL = re.compile(r'<c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.S)
_ATTR = re.compile(r'\s([\w:]+)="([^"]*)"')
_FORMULA = re.compile(r"<f\b.*?(?:/>|</f>)", re.S)
_CELL_REF = re.compile(r'\sr="([^"]+)"')
_SPILL_METADATA = re.compile(r'\scm="[^"]*"')
_MACRO_BUTTON = re.compile(r"<v:shape\b(?:(?!</v:shape>).)*?<x:FmlaMacro>.*?</v:shape>", re.S)
_VBA_CONTENT_TYPE = re.compile(
    r'<(?:Default|Override)\b[^>]*ContentType="application/vnd\.ms-office\.vbaProject"[^>]*/>')

MACRO_ENABLED_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MACRO_FREE_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
#: Relationship types (last path segment) of the workbook parts a values-only copy leaves out.
VALUES_ONLY_DROPPED = ("vbaProject", "sheetMetadata")


class _Relationship(NamedTuple):
    element: str  # the <Relationship .../> element as written
    id: str
    kind: str  # last segment of the relationship type: "worksheet", "vmlDrawing", ...
    target: str  # the target part's name in the package


def _rels_part(part: str) -> str:
    """"xl/workbook.xml" -> "xl/_rels/workbook.xml.rels"."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(package: zipfile.ZipFile, part: str) -> list[_Relationship]:
    """Relationships of ``part`` (none if it has no ``.rels`` part), targets resolved to part names."""
    folder = posixpath.dirname(part)
    rels_part = _rels_part(part)
    if rels_part not in package.namelist():
        return []
    found = []
    for element in re.findall(r"<Relationship\b[^>]*>", package.read(rels_part).decode("utf-8")):
        attrs = dict(_ATTR.findall(" " + element[len("<Relationship"):]))
        target = attrs.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found.append(_Relationship(element, attrs.get("Id", ""), attrs.get("Type", "").rsplit("/", 1)[-1], target))
    return found


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part, from workbook.xml and its relationships."""
    workbook = package.read("xl/workbook.xml").decode("utf-8")
    targets = {rel.id: rel.target for rel in _relationships(package, "xl/workbook.xml")}
    parts = {}
    for sheet in re.findall(r"<sheet\b[^>]*/>", workbook):
        attrs = dict(_ATTR.findall(" " + sheet[len("<sheet"):]))
        name = attrs["name"].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") \
            .replace("&quot;", '"').replace("&apos;", "'")
        parts[name] = targets[attrs["r:id"]]
    return parts


def _cell_xml(attrs: str, formula: str, value: Any) -> str:
    """A ``<c>`` element with attributes ``attrs`` (its ``t`` replaced), ``formula`` (may be "") and ``value``."""
    attrs = re.sub(r'\st="[^"]*"', "", attrs)
    if value is None:
        return f"<c{attrs}>{formula}</c>" if formula else f"<c{attrs}/>"
    if isinstance(value, bool):
        kind, text = "b", "1" if value else "0"
    elif isinstance(value, (int, float)):
        kind, text = "", repr(float(value)) if isinstance(value, float) else str(value)
        if text.endswith(".0"):
            text = text[:-2]
    elif isinstance(value, str) and value in _ERRORS:
        kind, text = "e", value
    elif formula:
        kind, text = "str", escape(str(value))
    else:
        return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'
    type_attr = f' t="{kind}"' if kind else ""
    return f"<c{attrs}{type_attr}>{formula}<v>{text}</v></c>"


_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}


def _cells_by_sheet(values: Mapping[CellKey, Any]) -> dict[str, dict[str, Any]]:
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, cell), value in values.items():
        by_sheet.setdefault(sheet, {})[cell.upper()] = value
    return by_sheet


def _rewrite_cells(xml: str, sheet: str, cells: Mapping[str, Any], *, keep_formulas: bool) -> str:
    """Worksheet ``xml`` with the value of each cell in ``cells`` written into its ``<c>`` element.

    ``keep_formulas``: a cell keeps its ``<f>`` and the value becomes its cached result;
    otherwise the formula and the dynamic-array ``cm`` attribute go, and a formula cell
    missing from ``cells`` is an error.  Raises ``KeyError`` for a cell of ``cells`` that
    is not in the sheet XML, or (values only) a formula cell without a value.
    """
    remaining = dict(cells)
    without_value = []

    def replace(match: re.Match[str]) -> str:
        attrs = match.group("attrs")
        ref = _CELL_REF.search(attrs)
        ref = ref.group(1) if ref else ""
        if ref not in remaining and keep_formulas:
            return match.group(0)
        formula = _FORMULA.search(match.group("body") or "")
        if ref in remaining:
            if keep_formulas:
                return _cell_xml(attrs, formula.group(0) if formula else "", remaining.pop(ref))
            return _cell_xml(_SPILL_METADATA.sub("", attrs), "", remaining.pop(ref))
        if formula:
            without_value.append(ref)
        return match.group(0)

    head, sep, tail = xml.partition("<sheetData")
    xml = head + sep + _CELL.sub(replace, tail)
    if remaining:
        raise KeyError(f"cells not in {sheet!r}: {sorted(remaining)}")
    if without_value:
        raise KeyError(f"formula cells without a value in {sheet!r}: {without_value}")
    return xml


def _write_package(package: zipfile.ZipFile, dst: Path, replaced: Mapping[str, str],
                   dropped: frozenset[str] = frozenset()) -> None:
    """Copy ``package`` to ``dst`` (through a temporary file) with parts ``replaced`` and ``dropped``."""
    # A temporary name beside dst, created as any new file is (permissions from the umask).
    tmp_path = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as out:
            for info in package.infolist():
                if info.filename in dropped:
                    continue
                data = replaced.get(info.filename)
                out.writestr(info, data.encode("utf-8") if data is not None else package.read(info.filename))
        os.replace(tmp_path, dst)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_values(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    values: Mapping[CellKey, Any],
) -> None:
    """Copy the package ``src`` to ``dst`` with the given cell values cached.

    Only ``<c>`` elements of the named cells change (their ``<v>``/``t``; formulas
    kept); every other part is copied byte for byte.  Every cell must exist in the
    sheet XML (XlsxWriter writes every cell of an array formula's range).
    """
    with zipfile.ZipFile(src) as package:
        parts = _sheet_parts(package)
        replaced = {parts[sheet]: _rewrite_cells(package.read(parts[sheet]).decode("utf-8"), sheet, cells,
                                                 keep_formulas=True)
                    for sheet, cells in _cells_by_sheet(values).items()}
        _write_package(package, Path(dst), replaced)


def check_values_only_path(path: str | os.PathLike[str] | None) -> None:
    """Raise ``ValueError`` unless ``path`` names an ``.xlsx`` file (what a values-only copy is)."""
    if path is None or Path(path).suffix.lower() != ".xlsx":
        given = "none given" if path is None else f"got {path}"
        raise ValueError(f"a values-only copy is a macro-free .xlsx workbook: give an output path "
                         f"ending in .xlsx ({given})")


def _without_macro_buttons(package: zipfile.ZipFile, part: str, sheet_xml: str
                           ) -> tuple[str, dict[str, str], set[str]]:
    """The worksheet ``part`` without its form-control buttons that run macros.

    Returns the new sheet XML, the other parts changed (VML drawings, the sheet's
    relationships) and the parts to drop (a VML drawing left without shapes).
    """
    replaced: dict[str, str] = {}
    dropped: set[str] = set()
    rels_part = _rels_part(part)
    for rel in _relationships(package, part):
        if rel.kind != "vmlDrawing":
            continue
        vml = package.read(rel.target).decode("utf-8")
        kept = _MACRO_BUTTON.sub("", vml)
        if kept == vml:
            continue
        if re.search(r"<v:shape\b", kept):
            replaced[rel.target] = kept
            continue
        dropped.add(rel.target)
        rels = replaced.get(rels_part) or package.read(rels_part).decode("utf-8")
        replaced[rels_part] = rels.replace(rel.element, "")
        sheet_xml = re.sub(rf'<legacyDrawing\b[^>]*\br:id="{re.escape(rel.id)}"[^>]*/>', "", sheet_xml)
    return sheet_xml, replaced, dropped


def write_values_only(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    values: Mapping[CellKey, Any],
) -> None:
    """Copy the workbook ``src`` to the ``.xlsx`` file ``dst`` with every formula replaced by its value.

    Parameters
    ----------
    src : path-like
        An ``.xlsx`` or ``.xlsm`` package.
    dst : path-like
        Where to write the copy; must end in ``.xlsx``.
    values : mapping
        ``{(sheet, cell): value}`` for every formula cell and every cell of an array
        formula (what :func:`recalculate` returns); any other cell named gets the value too.

    Notes
    -----
    Sheets, formatting, charts (with their cached data) and defined names are kept.
    Left out: the VBA project, the dynamic-array metadata (``cm`` attributes and
    ``xl/metadata.xml``, so no cell claims to be a spill) and the form-control buttons
    that run macros.  The workbook part gets the macro-free content type.  Text results
    are written as inline strings and error values (``"#N/A"``) as errors.

    Raises
    ------
    ValueError
        If ``dst`` does not end in ``.xlsx``.
    KeyError
        If a cell of ``values`` is not in its sheet, or a formula cell has no value.
    """
    check_values_only_path(dst)
    by_sheet = _cells_by_sheet(values)
    with zipfile.ZipFile(src) as package:
        parts = _sheet_parts(package)
        unknown = set(by_sheet) - set(parts)
        if unknown:
            raise KeyError(f"no such sheets: {sorted(unknown)}")
        replaced: dict[str, str] = {}
        dropped: set[str] = set()
        for sheet, part in parts.items():
            xml = _rewrite_cells(package.read(part).decode("utf-8"), sheet, by_sheet.get(sheet, {}),
                                 keep_formulas=False)
            replaced[part], drawings, unused = _without_macro_buttons(package, part, xml)
            replaced.update(drawings)
            dropped |= unused
        workbook_rels = package.read(_rels_part("xl/workbook.xml")).decode("utf-8")
        for rel in _relationships(package, "xl/workbook.xml"):
            if rel.kind in VALUES_ONLY_DROPPED:
                workbook_rels = workbook_rels.replace(rel.element, "")
                dropped.add(rel.target)
        replaced[_rels_part("xl/workbook.xml")] = workbook_rels
        types = package.read("[Content_Types].xml").decode("utf-8")
        types = _VBA_CONTENT_TYPE.sub("", types.replace(MACRO_ENABLED_WORKBOOK, MACRO_FREE_WORKBOOK))
        for part in dropped:
            types = re.sub(rf'<Override\b[^>]*\bPartName="/{re.escape(part)}"[^>]*/>', "", types)
        replaced["[Content_Types].xml"] = types
        _write_package(package, Path(dst), replaced, frozenset(dropped))


__all__ = [
    "CellKey", "CircularReferenceError", "Recalculation", "SpillMismatchError", "argument_options",
    "cached_values", "cells_of", "check_values_only_path", "convert_argument", "convert_result",
    "excel_adapter", "formula_cells", "PackageCells", "read_package", "recalculate", "relative_form",
    "write_values", "write_values_only",
]
