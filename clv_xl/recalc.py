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
  decorators (:func:`clv_xl.vba.udf_infos`); a function whose module cannot be
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

The recalculated workbook is written by putting the new values into the cached
``<v>`` of every formula cell of the original package, so VBA, buttons, charts and
dynamic-array metadata stay as they were (``formulas``' own writer would produce a
values-only workbook).  :func:`write_values_only` writes instead a macro-free ``.xlsx``
copy with every formula replaced by its value, for LibreOffice (which recalculates
array formulas on load) and anyone without Python.
"""

from __future__ import annotations

import functools
import math
import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import numpy as np

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


def _formulas_types():
    import schedula as sh
    from formulas.functions import Array
    from formulas.ranges import Ranges
    from formulas.tokens.operand import Error, XlError

    return sh, Array, Ranges, Error, XlError


def _to_python(value: Any, err_to_str: bool, empty: Any, numbers: Callable | None) -> Any:
    """One cell value as Excel + xlwings hand it to a UDF."""
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
    from clv_xl.vba import udf_infos

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
    except Exception:  # not importable as a module file: fall back to the contract
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
        except Exception as exc:  # xlwings puts the error text in the cell
            message = f"{type(exc).__name__}: {exc}"
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
    """``(formulas, array_refs)`` of a workbook, read with openpyxl.

    ``formulas``: ``{(sheet, cell): "=..."}`` for each formula cell (anchors only for
    array formulas).  ``array_refs``: ``{(sheet, anchor): "C1:D3"}`` for array
    formulas, dynamic ones (XlsxWriter ``write_dynamic_array_formula``) included.
    """
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    book = openpyxl.load_workbook(path, data_only=False)
    found: dict[CellKey, str] = {}
    arrays: dict[CellKey, str] = {}
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    value = cell.value
                    if isinstance(value, ArrayFormula):
                        found[(sheet.title, cell.coordinate)] = value.text
                        arrays[(sheet.title, cell.coordinate)] = value.ref
                    elif isinstance(value, str) and value.startswith("="):
                        found[(sheet.title, cell.coordinate)] = value
    finally:
        book.close()
    return found, arrays


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
    """
    import formulas

    if values_only:
        check_values_only_path(out_path)
    path = Path(path)
    found, arrays = formula_cells(path)
    result = Recalculation()
    result.spill_mismatches, result.udf_errors, result.formulas = {}, [], dict(found)
    with _registered(functions, result.udf_errors):
        model = formulas.ExcelModel().loads(str(path)).finish()
        nodes = _node_index(model.dsp.data_nodes)
        calc_inputs = {}
        for (sheet, cell), value in (inputs or {}).items():
            node = nodes.get((sheet.upper(), cell.upper()))
            if node is None:
                raise KeyError(f"{sheet}!{cell} is not an input of any formula")
            calc_inputs[node] = value
        solution = model.calculate(inputs=calc_inputs) if calc_inputs else model.calculate()
        solved = _node_index(solution)
        if any((sheet.upper(), arrays.get((sheet, cell), cell)) not in solved for sheet, cell in found):
            in_cycles = _node_index(_nodes_in_cycles(model.dsp, solution))
            circular = [(sheet, cell) for sheet, cell in found
                        if (sheet.upper(), arrays.get((sheet, cell), cell)) in in_cycles]
            if circular:
                raise CircularReferenceError(circular)
        for (sheet, cell) in _output_cells(found, arrays):
            result[(sheet, cell)] = None
        for (sheet, cell) in found:
            ref = arrays.get((sheet, cell), cell)
            node = solved.get((sheet.upper(), ref))
            if node is None:
                continue
            value = solution[node]
            grid = _to_grid(value)
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
    except Exception:
        return None


# ---------------------------------------------------------------------------
# Writing values into the package
# ---------------------------------------------------------------------------

_CELL = re.compile(r'<c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.S)
_ATTR = re.compile(r'\s([\w:]+)="([^"]*)"')
_FORMULA = re.compile(r"<f\b.*?(?:/>|</f>)", re.S)
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
        ref = re.search(r'\sr="([^"]+)"', attrs)
        ref = ref.group(1) if ref else ""
        formula = _FORMULA.search(match.group("body") or "")
        if ref in remaining:
            if keep_formulas:
                return _cell_xml(attrs, formula.group(0) if formula else "", remaining.pop(ref))
            return _cell_xml(_SPILL_METADATA.sub("", attrs), "", remaining.pop(ref))
        if formula and not keep_formulas:
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
    "excel_adapter", "formula_cells", "recalculate", "soffice_convert", "write_values", "write_values_only",
]


# ---------------------------------------------------------------------------
# LibreOffice
# ---------------------------------------------------------------------------


def soffice_convert(
    path: str | os.PathLike[str],
    fmt: str = "pdf",
    outdir: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 180,
) -> Path:
    """Convert a workbook with headless LibreOffice; returns the written file.

    Runs ``soffice --headless --norestore -env:UserInstallation=file://<tmp profile>
    --convert-to <fmt> --outdir <outdir> <path>`` with a throw-away profile and
    ``HOME``, so it works as root, in CI and beside a running LibreOffice.  LibreOffice
    shows the values cached in the file (it does not recalculate xlsx on load by
    default), so recalculate first.  Raises ``FileNotFoundError`` without ``soffice``.
    """
    import subprocess

    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise FileNotFoundError("soffice (LibreOffice) is not installed")
    path = Path(path).resolve()
    outdir = Path(outdir or path.parent).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clv_lo_") as profile:
        env = dict(os.environ, HOME=profile)
        cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation={Path(profile).as_uri()}",
               "--convert-to", fmt, "--outdir", str(outdir), str(path)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    target = outdir / (path.stem + "." + fmt.split(":")[0])
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(f"soffice failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    return target
