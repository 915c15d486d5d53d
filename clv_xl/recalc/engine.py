"""The ``formulas`` engine, loaded with only the formulas left to it, and :func:`recalculate`.

Dynamic arrays: a formula written with XlsxWriter's ``write_dynamic_array_formula``
is an array formula (``<f t="array" ref=...>``), and ``formulas`` evaluates it over
the range ``ref`` that the file declares; ``ANCHORARRAY(C1)`` (the ``C1#`` spill
reference, which XlsxWriter needs spelled ``ANCHORARRAY``) is that same range.
``formulas`` does not resize a spill: a larger result is cut to ``ref``, a smaller
one is padded with ``#N/A`` (a 1x1 result is repeated).  The shape of each array
formula's result is therefore recorded as the engine computes it, before it is cut,
and a result whose shape differs from its ``ref`` is reported in
:attr:`Recalculation.spill_mismatches` (``strict=True`` raises instead).

Scale: ``formulas`` compiles every cell it loads (about 2.5 ms and 65 KB a formula).
:func:`recalculate` therefore reads the cells from the package XML itself
(:func:`~clv_xl.recalc.package.read_package`), evaluates the formulas that are one
call of a Python function on cells and constants without the engine
(:mod:`clv_xl.recalc.columns`), and hands the engine a copy of the workbook with
only the other formulas, each range they read being one input node.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .adapters import excel_adapter, plain_value, to_grid
from .columns import Block, Box, cells_in, cells_read, evaluate_columns, filled_down_columns, gather
from .package import CellKey, cells_of, copy_package, output_cells, read_package, relationships, sheet_parts
from .writing import check_values_only_path, write_values, write_values_only

_NODE = re.compile(r"^'\[(?P<book>[^\]]*)\](?P<sheet>.*)'!(?P<ref>[A-Z]+\d+(?::[A-Z]+\d+)?)$")


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
    #: ``{sheet: {(row, column): value}}`` of every cell as the file holds it (with the ``inputs``)
    cells: dict[str, dict[tuple[int, int], Any]]


_EMPTY_SHARED_STRINGS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                         '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
                         'uniqueCount="0"/>')
_SHEET_DATA = re.compile(r"<sheetData\b[^>]*?/>|<sheetData\b.*?</sheetData>", re.S)


def _input_position(cell: str) -> tuple[int, int]:
    """``(row, column)`` of a cell named in ``inputs`` ("B7", "$B$7" or "b7")."""
    from openpyxl.utils.cell import coordinate_to_tuple

    return coordinate_to_tuple(cell.replace("$", ""))


def _write_formulas_only(src: Path, dst: Path, formulas: Mapping[CellKey, str],
                         arrays: Mapping[CellKey, str]) -> None:
    """Copy the package ``src`` to ``dst`` with only the cells ``formulas`` (no values, no shared strings).

    What the engine loads: openpyxl then reads a few formulas instead of every cell.
    """
    from openpyxl.utils.cell import coordinate_to_tuple

    by_sheet: dict[str, dict[tuple[int, int], str]] = {}
    for (sheet, cell), formula in formulas.items():
        ref = arrays.get((sheet, cell))
        kind = f' t="array" ref="{ref}"' if ref else ""
        element = f'<c r="{cell}"><f{kind}>{escape(formula[1:])}</f></c>'
        by_sheet.setdefault(sheet, {})[coordinate_to_tuple(cell)] = element
    with zipfile.ZipFile(src) as package:
        replaced = {target: _EMPTY_SHARED_STRINGS for rel in relationships(package, "xl/workbook.xml")
                    if rel.kind == "sharedStrings" for target in [rel.target]}
        for sheet, part in sheet_parts(package).items():
            rows: dict[int, list[str]] = {}
            for (row, _column), element in sorted(by_sheet.get(sheet, {}).items()):
                rows.setdefault(row, []).append(element)
            data = "<sheetData>" + "".join(f'<row r="{row}">{"".join(cells)}</row>' for row, cells in rows.items()) \
                + "</sheetData>"
            xml = package.read(part).decode("utf-8")
            found = _SHEET_DATA.search(xml)
            replaced[part] = xml[:found.start()] + data + xml[found.end():] if found else xml
        copy_package(package, dst, replaced)


# ---------------------------------------------------------------------------
# The engine, for the other formulas
# ---------------------------------------------------------------------------


class _EngineLoader:
    """Loads into a ``formulas.ExcelModel`` only the formulas left to it and the values they read.

    ``book`` is the model's copy of the workbook with only those formulas in it
    (:func:`_write_formulas_only`); ``values`` and ``extents`` are those of the whole
    workbook (:func:`read_package`, plus the results computed outside the engine).
    Push every formula left to the engine (:meth:`push_formula`) first, then
    :meth:`complete`; after the model is calculated, :attr:`shapes` holds the shape
    of each array formula's result before the engine cut it to its range.

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
        self.shapes: dict[CellKey, tuple[int, int]] = {}

    def _sheet_context(self, sheet: str) -> tuple[Any, dict[str, Any]]:
        worksheet, context = self.model.add_sheet(self.book[sheet], self.context)
        return worksheet, {"external_links": self.model.external_links(context), **context}

    def push_formula(self, sheet: str, cell: str, array: bool = False) -> list[str]:
        """Compile the formula in ``sheet!cell`` into the model; returns the nodes it reads.

        Parameters
        ----------
        sheet, cell : str
            The formula's cell (an array formula's anchor).
        array : bool
            Whether it is an array formula: its result's shape is then recorded in
            :attr:`shapes` when the model is calculated.
        """
        import schedula as sh

        worksheet, context = self._sheet_context(sheet)
        compiled = sh.await_result(self.model.compile_cell(
            worksheet[cell], context, self.references, self.model.formula_references(context)))
        added = self.model.add_cell(compiled, context, self.model.formula_ranges(context))
        if added is None:
            return []
        if array:  # the output node's filters cut the result to the range: record its shape first
            node = self.model.dsp.nodes[added.output]
            node["filters"] = [functools.partial(self._record_shape, (sheet, cell)), *node["filters"]]
        return list(added.inputs or ())

    def _record_shape(self, key: CellKey, value: Any) -> Any:
        """Record in :attr:`shapes` the shape of ``value``, the result of the array formula ``key``; returns it."""
        self.shapes[key] = to_grid(value).shape
        return value

    def _push_values(self, sheet: str, box: Box) -> None:
        """Add the cells of ``box`` as a constant node with their values (blank cells included)."""
        from formulas.cell import Cell
        from openpyxl.utils.cell import get_column_letter

        _worksheet, context = self._sheet_context(sheet)
        first_row, last_row, column, _last_column = box
        letter = get_column_letter(column)
        reference = f"{letter}{first_row}" + (f":{letter}{last_row}" if last_row > first_row else "")
        cell = Cell(reference, gather(Block(sheet, box), [], self.values), context=context, check_formula=False)
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
            if not any(True for _item in cells_in(engine, box)):
                model.dsp.set_default_value(node, gather(Block(sheet, box), [], self.values))
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
    from openpyxl.utils.cell import coordinate_to_tuple

    if values_only:
        check_values_only_path(out_path)
    path = Path(path)
    result = Recalculation()
    result.spill_mismatches, result.udf_errors = {}, []
    with _registered(functions, result.udf_errors), tempfile.TemporaryDirectory(prefix="clv_recalc_") as folder:
        found, arrays, values, extents = read_package(path)
        result.formulas, result.cells = dict(found), values
        sheets = {sheet.upper(): sheet for sheet in values}
        formula_at = {(sheet, *coordinate_to_tuple(cell)): (sheet, cell) for sheet, cell in found}
        for (sheet, cell), value in (inputs or {}).items():
            position = (sheet, *_input_position(cell))
            if position in formula_at:
                raise KeyError(f"{sheet}!{cell} is a formula cell, not an input")
            values.setdefault(sheet, {})[position[1:]] = value
        for key in output_cells(found, arrays):
            result[key] = None
        spilled = {(sheet, *coordinate_to_tuple(cell)): (sheet, anchor)
                   for (sheet, anchor), ref in arrays.items() for row in cells_of(ref) for cell in row}
        columns = filled_down_columns(found, arrays, {name.upper(): name for name in functions}, sheets) \
            if by_column else []
        grouped = {(column.sheet, row, column.column) for column in columns for row in column.rows}
        done = evaluate_columns(columns, functions, values, (set(formula_at) - grouped) | set(spilled), result,
                                result.udf_errors)
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
            loader.push_formula(sheet, cell, array=(sheet, cell) in arrays)
        loader.complete()
        read_by_columns = {cell for column in columns for cell in cells_read(column)} if inputs else set()
        unread = [f"{sheet}!{cell}" for sheet, cell in inputs or {}
                  if not loader.reads(sheet, *_input_position(cell))
                  and (sheet, *_input_position(cell)) not in read_by_columns]
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
            grid = to_grid(solution[node])
            for r, row in enumerate(cells_of(ref)):
                for c, key in enumerate(row):
                    v = grid[r, c] if r < grid.shape[0] and c < grid.shape[1] else None
                    result[(sheet, key)] = plain_value(v)
        for (sheet, anchor), ref in arrays.items():
            shape = loader.shapes.get((sheet, anchor))
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
