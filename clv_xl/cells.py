"""What Excel hands over, turned into numpy arrays, and results turned back into cells.

Excel passes a single cell as a float, str, bool or ``None`` (blank), and a range
as a 2-D list of those (xlwings with ``ndim=2``); whole numbers arrive as
floats and dates as ``datetime``. This module coerces them, broadcasts ranges
against each other the way Excel's array arithmetic does, evaluates a pure
function element-wise (one bad row gives a message in that row only) and
returns a plain value or a 2-D list that spills. It does not import xlwings,
so the headless recalculation and the tests use it exactly as Excel does.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect

import numpy as np

from .errors import CLVError, ShapeError

BLANK = ""


def to_grid(value) -> np.ndarray:
    """A 2-D object array of what Excel handed over (a 1-D list is a column)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            grid = np.array(value, dtype=object)
        except ValueError:
            grid = None
        if grid is None or grid.ndim > 2 or grid.size == 0:
            raise ShapeError("ranges must be rectangular")
        return grid.reshape(-1, 1) if grid.ndim == 1 else grid
    grid = np.empty((1, 1), dtype=object)
    grid[0, 0] = value
    return grid


def is_blank(value) -> bool:
    """A blank cell (``None``) or an empty string."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def _number_or_message(name, value):
    """``(number, None)`` for a numeric cell, else ``(nan, cell message)``."""
    if is_blank(value):
        return np.nan, BLANK
    if isinstance(value, (bool, np.bool_, dt.date, dt.datetime)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        return np.nan, f"#VALUE! {name} must be a number (got {_show(value)})"
    if not np.isfinite(value):
        return np.nan, f"#NUM! {name} must be a finite number (got {value})"
    return float(value), None


def _show(value) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def numeric_grid(name, value):
    """Coerce one argument to ``(floats, messages)``, two 2-D arrays.

    ``messages`` holds ``None`` where the cell is a usable number, ``BLANK``
    where it is blank and a ``#VALUE!``/``#NUM!`` text where it is not a number.
    """
    grid = to_grid(value)
    messages = np.empty(grid.shape, dtype=object)
    if {type(cell) for cell in grid.flat} <= {float, int}:  # the common case: all numbers
        floats = grid.astype(float)
        if np.isfinite(floats).all():
            return floats, messages
    floats = np.empty(grid.shape)
    for index, cell in np.ndenumerate(grid):
        floats[index], messages[index] = _number_or_message(name, cell)
    return floats, messages


def broadcast_shape(grids: dict) -> tuple:
    """The shape of the result, like Excel's array math; ``#N/A`` if sizes clash."""
    try:
        return np.broadcast_shapes(*(grid.shape for grid in grids.values()))
    except ValueError:
        sizes = ", ".join(
            f"{name} is {grid.shape[0]}x{grid.shape[1]}"
            for name, grid in grids.items()
            if grid.size > 1
        )
        raise ShapeError(
            f"ranges must have the same size, or be a single cell, row or column ({sizes})"
        ) from None


def evaluate(function, arguments: dict):
    """Apply a pure vectorised ``function`` to Excel arguments, cell by cell.

    Parameters
    ----------
    function : callable
        Pure function of numbers or arrays, called with keyword arguments.
    arguments : dict
        Argument name -> what Excel handed over (scalar or 2-D list).

    Returns
    -------
    float, str or list of list
        A single value when every argument is a single cell, else a 2-D list
        of the broadcast shape holding numbers, ``""`` for blanks and a
        ``#CODE! message`` for each cell that cannot be computed.
    """
    floats, messages = {}, {}
    for name, value in arguments.items():
        floats[name], messages[name] = numeric_grid(name, value)
    as_range = any(grid.size > 1 for grid in floats.values())
    shape = broadcast_shape(floats)
    floats = {name: np.broadcast_to(grid, shape) for name, grid in floats.items()}
    first_message = _first_message([np.broadcast_to(m, shape) for m in messages.values()])
    ok = np.equal(first_message, None)
    output = first_message.copy()
    output[ok] = _compute(function, {name: grid[ok] for name, grid in floats.items()})
    return from_grid(output, as_range)


def _first_message(message_grids):
    """Per cell, the first argument's blank or error message (``None`` if all fine)."""
    result = np.full(message_grids[0].shape, None, dtype=object)
    for grid in reversed(message_grids):
        has_message = np.not_equal(grid, None)
        result[has_message] = grid[has_message]
    return result


def _compute(function, columns: dict):
    """Evaluate on 1-D columns; if one element is bad, fall back to cell by cell."""
    try:
        return _finite_or_message(np.atleast_1d(function(**columns)))
    except CLVError:
        return [_compute_one(function, {k: v[i] for k, v in columns.items()})
                for i in range(_length(columns))]


def _length(columns):
    return len(next(iter(columns.values()))) if columns else 0


def _compute_one(function, scalars):
    try:
        return _finite_or_message(np.atleast_1d(function(**scalars)))[0]
    except CLVError as error:
        return error.cell_message()


def _finite_or_message(values):
    output = np.asarray(values, dtype=object)
    finite = np.isfinite(np.asarray(values, dtype=float))
    output[~finite] = "#NUM! the result is not a finite number"
    return output


def from_grid(grid: np.ndarray, as_range: bool):
    """A 2-D list (``as_range``) or the single value, in plain Python types."""
    cells = grid.astype(object).tolist()
    return cells if as_range else cells[0][0]


def zero_as_omitted(function, names):
    """``function`` with a single-cell 0 in any argument of ``names`` passed as omitted (``None``).

    xlwings Lite hands a blank cell over as the number 0; for a setting where 0
    is no meaningful value (a date, a unit letter, a tier count) the blank then
    acts as in classic Excel, where it arrives as ``None``.
    """
    signature = inspect.signature(function)
    settings = frozenset(names).intersection(signature.parameters)
    if not settings:
        return function

    @functools.wraps(function)
    def called(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        for name in settings.intersection(bound.arguments):
            if _is_zero_cell(bound.arguments[name]):
                bound.arguments[name] = None
        return function(*bound.args, **bound.kwargs)

    return called


def _is_zero_cell(value) -> bool:
    """A single cell (or a 1x1 range) holding the number 0."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)) and value == 0


def excel_errors(function):
    """Return a cell message instead of raising: ``#CODE! what went wrong``.

    A :class:`CLVError` shows its own message; anything unexpected shows
    ``#VALUE!`` with the error's text, never a traceback.
    """

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except CLVError as error:
            return error.cell_message()
        except Exception as error:  # noqa: BLE001 - a cell must never show a traceback
            return f"#VALUE! {type(error).__name__}: {error}"

    return guarded


# --- dates and parameter blocks -------------------------------------------------------

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")  # serial 1 = 1900-01-01 (after Excel's 1900 bug)


def to_date(name, value) -> np.datetime64:
    """One date cell as ``datetime64[D]``: a date, an Excel serial number or ISO text."""
    if isinstance(value, (dt.date, dt.datetime, np.datetime64)):
        return np.datetime64(value, "D")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 1:
            raise CLVError(f"{name} must be a date (got {_show(value)})")
        return EXCEL_EPOCH + np.timedelta64(int(value), "D")
    if isinstance(value, str):
        try:
            return np.datetime64(dt.date.fromisoformat(value.strip()[:10]), "D")
        except ValueError:
            pass
    raise CLVError(f"{name} must be a date (got {_show(value)}); use a date cell or yyyy-mm-dd")


def to_serial(date) -> float:
    """An Excel date serial number for a ``datetime64``/``Timestamp`` date."""
    return float((np.datetime64(date, "D") - EXCEL_EPOCH) / np.timedelta64(1, "D"))


def single_cell(name, value):
    """The one cell of a setting that must not be a range (``None`` when blank)."""
    grid = to_grid(value)
    if grid.size != 1:
        raise ShapeError(f"{name} must be a single cell (got {grid.shape[0]}x{grid.shape[1]})")
    cell = grid[0, 0]
    return None if is_blank(cell) else cell


def column_values(name, value, blank_ok=False) -> list:
    """The cells of a one-column (or one-row) range as a flat list, blanks kept as ``None``."""
    grid = to_grid(value)
    if min(grid.shape) != 1:
        raise ShapeError(f"{name} must be a single column or row (got {grid.shape[0]}x{grid.shape[1]})")
    cells = [None if is_blank(cell) else cell for cell in grid.ravel()]
    if not blank_ok and None in cells:
        raise CLVError(f"{name} has a blank cell (row {cells.index(None) + 1}); fill or remove it")
    return cells


def number_column(name, cells, rows=None) -> np.ndarray:
    """A list of cells as floats; the first blank or non-number names its row.

    ``rows`` are the cells' row numbers within the range (default 1, 2, ...).
    """
    numbers = np.empty(len(cells))
    for index, (row, cell) in enumerate(zip(rows or range(1, len(cells) + 1), cells)):
        numbers[index], message = _number_or_message(f"{name} row {row}", cell)
        if message is not None:
            raise CLVError(message.split(" ", 1)[1] if message else f"{name} row {row} is blank")
    return numbers


def parameter_block(name, value, labels) -> dict:
    """Model parameters from a labelled block (label, number rows) or plain numbers in order.

    A fit function spills ``[["r", 0.24], ["alpha", 4.4], ...]``; pointing at that
    block, at its number column, or typing the numbers in a range all work.
    """
    cells = [cell for cell in to_grid(value).ravel() if not is_blank(cell)]
    by_label = {}
    for label, number in zip(cells, cells[1:]):
        if isinstance(label, str) and label.strip().lower() in labels and not isinstance(number, str):
            by_label[label.strip().lower()] = number
    numbers = [cell for cell in cells if not isinstance(cell, str)]
    found = by_label if len(by_label) == len(labels) else dict(zip(labels, numbers))
    if len(found) < len(labels):
        raise CLVError(
            f"{name} must hold {len(labels)} numbers ({', '.join(labels)}) or the block a fit "
            f"returns (got {len(numbers)} numbers)"
        )
    for label, number in found.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not np.isfinite(number):
            raise CLVError(f"{name}: {label} must be a number (got {_show(number)})")
    return {label: float(found[label]) for label in labels}
