"""Formulas filled down a column, each a single call of a Python function, evaluated without the engine.

:func:`filled_down_columns` groups the formula cells by sheet, column and relative
form (:func:`relative_form`); :func:`evaluate_columns` evaluates the groups whose
inputs are known, a whole column in one call when the function computes cell by
cell (``cellwise_arguments``, see ``clv_xl.udfs.CELLWISE_ARGUMENTS``), each call
getting what the engine's adapter would hand it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple

import numpy as np

from .adapters import argument_options, excel_adapter, formulas_types, plain_value
from .package import CellKey

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


class RowCell(NamedTuple):
    """An argument that is, for each formula, the cell ``offset`` rows from its own row."""

    sheet: str
    column: int
    offset: int


class Block(NamedTuple):
    """An argument that is the same cell or range for every formula of a column."""

    sheet: str
    box: Box


class Literal(NamedTuple):
    """An argument without references (``0.3``, ``"W"``, ``30%``), as ``formulas`` evaluates it."""

    value: Any


class Column(NamedTuple):
    """Cells of one column whose formulas are the same single call, filled down."""

    sheet: str
    column: int
    rows: list[int]
    name: str
    arguments: list[RowCell | Block | Literal]


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


def _constant(text: str) -> Literal | None:
    """A reference-free argument evaluated once by ``formulas`` (``None`` if it is anything else)."""
    import formulas
    from formulas.errors import FormulaError

    if not (text.upper() in ("TRUE", "FALSE") or (text and _CONSTANT_EXPRESSION.match(_STRING_LITERAL.sub("", text)))):
        return None
    try:
        compiled = formulas.Parser().ast("=" + text)[1].compile()
    except FormulaError:
        return None
    return None if compiled.inputs else Literal(compiled())


def _argument(text: str, row: int, sheet: str, sheets: Mapping[str, str]) -> RowCell | Block | Literal | None:
    """One argument of a call in ``row`` of ``sheet``; ``None`` unless a cell, a fixed block or a constant."""
    from openpyxl.utils.cell import column_index_from_string

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
        columns = sorted(column_index_from_string(reference.group(name)) for name in ("column1", "column2"))
        return Block(target, (rows[0], rows[1], columns[0], columns[1]))
    column, referenced = column_index_from_string(reference.group("column")), int(reference.group("row"))
    if reference.group("fixed"):
        return Block(target, (referenced, referenced, column, column))
    return RowCell(target, column, referenced - row)


def _single_call(formula: str, row: int, sheet: str, sheets: Mapping[str, str],
                 names: Mapping[str, str]) -> tuple[str, list[RowCell | Block | Literal]] | None:
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


def filled_down_columns(found: Mapping[CellKey, str], arrays: Mapping[CellKey, str], names: Mapping[str, str],
                         sheets: Mapping[str, str]) -> list[Column]:
    """The formula cells grouped by sheet, column and relative form, each group a single call."""
    from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

    groups: dict[tuple[str, int, str], list[int]] = {}
    for (sheet, cell), formula in found.items():
        if (sheet, cell) not in arrays:
            row, column = coordinate_to_tuple(cell)
            groups.setdefault((sheet, column, relative_form(formula, row)), []).append(row)
    columns = []
    for (sheet, column, _form), rows in groups.items():
        call = _single_call(found[(sheet, f"{get_column_letter(column)}{rows[0]}")], rows[0], sheet, sheets, names)
        if call is not None:
            columns.append(Column(sheet, column, sorted(rows), *call))
    return columns


def cells_read(column: Column) -> Iterator[tuple[str, int, int]]:
    """``(sheet, row, column)`` of every cell the formulas of ``column`` read."""
    for argument in column.arguments:
        if isinstance(argument, RowCell):
            yield from ((argument.sheet, row + argument.offset, argument.column) for row in column.rows)
        elif isinstance(argument, Block):
            first_row, last_row, first_column, last_column = argument.box
            yield from ((argument.sheet, row, col) for row in range(first_row, last_row + 1)
                        for col in range(first_column, last_column + 1))


def cells_in(table: Mapping[tuple[int, int], Any], box: Box) -> Iterator[tuple[tuple[int, int], Any]]:
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


def _cellwise(function: Callable, options: list[dict[str, Any]] | None, column: Column) -> bool:
    """Whether every per-row argument of ``column`` may be a whole column for ``function``.

    The function declares it: ``function.cellwise_arguments`` names the arguments in
    which it computes cell by cell (a range there gives the range's shape, each cell
    from the same cells of those ranges), and each must arrive as a 2-D range
    (``ndim=2``, the ``clv_xl.udfs`` contract).
    """
    declared = getattr(function, "cellwise_arguments", frozenset())
    names = list(inspect.signature(function).parameters)
    for position, argument in enumerate(column.arguments):
        if not isinstance(argument, RowCell):
            continue
        if position >= len(names) or names[position] not in declared:
            return False
        if options is not None and (position >= len(options) or options[position].get("ndim") != 2):
            return False
    return True


def gather(argument: RowCell | Block | Literal, rows: list[int],
            values: Mapping[str, Mapping[tuple[int, int], Any]]) -> Any:
    """An argument's values: a list (one per row) for a per-row cell, a 2-D grid for a block."""
    sh, _Array, _Ranges, _Error, _XlError = formulas_types()
    if isinstance(argument, Literal):
        return argument.value
    table = values.get(argument.sheet, {})
    if isinstance(argument, RowCell):
        return [table.get((row + argument.offset, argument.column), sh.EMPTY) for row in rows]
    first_row, last_row, first_column, last_column = argument.box
    grid = np.full((last_row - first_row + 1, last_column - first_column + 1), sh.EMPTY, dtype=object)
    for (row, col), value in cells_in(table, argument.box):
        grid[row - first_row, col - first_column] = value
    return grid


def _evaluate_column(column: Column, function: Callable, values: Mapping[str, Mapping[tuple[int, int], Any]]
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

    gathered = [gather(argument, column.rows, values) for argument in column.arguments]
    per_row = [isinstance(argument, RowCell) for argument in column.arguments]
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


def evaluate_columns(columns: list[Column], functions: Mapping[str, Callable],
                     values: dict[str, dict[tuple[int, int], Any]], engine_only: set[tuple[str, int, int]],
                     result: MutableMapping[CellKey, Any], udf_errors: list[tuple[str, str]]) -> set[int]:
    """Evaluate the columns whose inputs are known, in dependency order; returns their indices.

    A column is left to the engine if it reads a cell in ``engine_only`` (another
    formula, a spill), a cell of its own, or a column left to the engine, or if its
    columns depend on each other in a circle.  Results go into ``values`` (as the
    engine holds them, for the columns and formulas that read them) and ``result``
    (as plain values); the calls that raised into ``udf_errors``.
    """
    from openpyxl.utils.cell import get_column_letter

    owner = {(column.sheet, row, column.column): index for index, column in enumerate(columns) for row in column.rows}
    depends: list[set[int]] = []
    blocked = set()
    for index, column in enumerate(columns):
        read = set(cells_read(column))
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
            udf_errors.extend(errors)
            table = values.setdefault(column.sheet, {})
            letter = get_column_letter(column.column)
            for row, value in zip(column.rows, column_values):
                table[(row, column.column)] = value
                result[(column.sheet, f"{letter}{row}")] = plain_value(value)
        for dependent in dependents.get(index, []):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return done
