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

import contextlib
import datetime as dt
import functools
import gc
import inspect
import itertools
import logging
from typing import NamedTuple

import numpy as np

from ..errors import CLVError, InputErrorValue, NumError, ShapeError
from ..transactions import EXCEL_EPOCH, LAST_EXCEL_SERIAL, is_blank

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


#: Excel's error values; xlwings hands them over as this text (``err_to_str``, set on every argument).
EXCEL_ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                     "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!")


def error_code(value):
    """The Excel error code of a cell holding an error value or a coded message (``"#NUM! ..."``), else ``None``."""
    if not isinstance(value, str) or not value.startswith("#"):
        return None
    code = value.split(" ", 1)[0]
    return code if code in EXCEL_ERROR_CODES else None


def input_error(name, value) -> InputErrorValue:
    """The error for an input cell ``name`` holding an error value: same code, the cell named."""
    code = error_code(value)
    return InputErrorValue(code, f"{name} is an error value ({_show(value)}); fix the cell it comes from")


def _number_or_message(name, value):
    """``(number, None)`` for a numeric cell, else ``(nan, cell message)``."""
    if is_blank(value):
        return np.nan, BLANK
    if error_code(value):
        return np.nan, input_error(name, value).cell_message()
    if isinstance(value, (bool, np.bool_, dt.date, dt.datetime)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        return np.nan, f"#VALUE! {name} must be a number (got {_show(value)})"
    try:
        number = float(value)
    except OverflowError:  # a Python int beyond any double
        number = np.inf
    if not np.isfinite(number):
        return np.nan, f"#NUM! {name} must be a finite number (got {_show(value)})"
    return number, None


def _show(value) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


#: Cell types read as numbers without a per-cell look (``bool`` is not one of them).
PLAIN_NUMBER_TYPES = frozenset({float, int, np.float64, np.int64})
PLAIN_FLOAT_TYPES = frozenset({float, np.float64})
#: Cell types read as dates in one vectorised step (xlwings hands date cells over as ``datetime``).
PLAIN_DATE_TYPES = frozenset({dt.datetime, dt.date})
UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
NOT_FINITE_RESULT = "#NUM! the result is not a finite number"


class Cells(NamedTuple):
    """What Excel handed over for one argument, flattened row by row."""

    values: list  # the cells, row by row
    shape: tuple  # (rows, columns)
    types: frozenset  # the Python types of the cells


def flat_cells(value) -> Cells:
    """The cells of a single value, a 1-D list (a column) or a 2-D list, row by row.

    One pass of C-level list operations; a 1,000,000-row column costs tens of
    milliseconds, never a Python step per cell.

    Raises
    ------
    ShapeError
        If the rows have different lengths, the range is empty or a cell is itself a list.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return Cells([value], (1, 1), frozenset({type(value)}))
    numbers = _number_column(value)
    if numbers:
        return Cells(numbers, (len(numbers), 1), NUMBER_CELLS)
    values = _column_range(value)
    if values is not None:
        return _checked(values, (len(values), 1))
    row_types = set(map(type, value))
    if row_types <= {list, tuple}:
        widths = set(map(len, value))
        if len(widths) != 1 or 0 in widths:
            raise ShapeError("ranges must be rectangular")
        values, shape = list(itertools.chain.from_iterable(value)), (len(value), widths.pop())
    else:
        values, shape = list(value), (len(value), 1)
    return _checked(values, shape)


#: The cell types of a column of plain numbers: xlwings hands numbers over as floats, xlwings Lite
#: whole numbers as ints. A column read by :func:`_number_column` may hold either or both.
NUMBER_CELLS = frozenset({float, int})


def _number_column(rows) -> list | None:
    """The cells of a column of floats and ints only (one-cell rows), or ``None`` (also for an empty list).

    The common case of a large range: one pass unpacks each row and keeps
    the plain numbers, which here are all of them, so no separate look at
    the cell types is needed (about 20 ms for 1,000,000 rows instead of 30).
    """
    try:
        numbers = [cell for (cell,) in rows if cell.__class__ is float or cell.__class__ is int]
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == len(rows) else None


def _column_range(rows) -> list | None:
    """The cells of a column as xlwings hands it over (one-cell rows), or ``None`` for any other list.

    One pass that unpacks each row into exactly one cell: a row of another
    length or a row that is no sequence stops it (``ValueError``,
    ``TypeError``). The 1,000,000 rows of a column take about 15 ms.
    """
    try:
        return [cell for (cell,) in rows]
    except (TypeError, ValueError):
        return None


def _checked(values: list, shape: tuple) -> Cells:
    """:class:`Cells` of flat ``values``; ``ShapeError`` if there are none or a cell is itself a list."""
    types = frozenset(map(type, values))
    if not values or types & {list, tuple, np.ndarray}:
        raise ShapeError("ranges must be rectangular")
    return Cells(values, shape, types)


class Numbers(NamedTuple):
    """One argument as numbers, with a message for each cell that is not one."""

    floats: np.ndarray  # 2-D; NaN where a cell is no usable number
    messages: dict  # flat index (row by row) -> BLANK or "#CODE! text" for the cells that are not numbers


def numeric_grid(name, value) -> Numbers:
    """Coerce one argument to :class:`Numbers`.

    An all-number range becomes an array in one step; only the cells that are
    not plain finite numbers (blanks, text, booleans, dates, NaN) are looked at
    one by one, and each gets ``BLANK`` or a ``#VALUE!``/``#NUM!`` text.
    """
    cells = flat_cells(value)
    floats, messages = _floats_and_messages(name, cells)
    return Numbers(floats.reshape(cells.shape), messages)


def _floats_and_messages(name, cells: Cells) -> tuple[np.ndarray, dict]:
    """Flat floats of ``cells`` and the messages of the cells that are not usable numbers."""
    floats = _plain_floats(cells)
    messages = {}
    for index in np.flatnonzero(~np.isfinite(floats)).tolist():
        floats[index], message = _number_or_message(name, cells.values[index])
        if message is not None:
            messages[index] = message
    return floats, messages


def _plain_floats(cells: Cells) -> np.ndarray:
    """The plain number cells as floats in one step, NaN for the others (looked at one by one after)."""
    try:
        if cells.types <= PLAIN_NUMBER_TYPES:
            return np.fromiter(cells.values, dtype=float, count=len(cells.values))
        return _floats_of(cells.values, PLAIN_NUMBER_TYPES)
    except OverflowError:  # a Python int beyond any double: the ints are looked at one by one
        return _floats_of(cells.values, PLAIN_FLOAT_TYPES)


def _floats_of(values: list, types: frozenset) -> np.ndarray:
    """The values of ``types`` as floats, NaN for the others (replaced in a copy, then one ``np.fromiter``)."""
    numbers = list(values)
    for index in np.flatnonzero(~_of_types(values, types)).tolist():
        numbers[index] = np.nan
    return np.fromiter(numbers, dtype=float, count=len(numbers))


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

    Notes
    -----
    The usable cells are computed in one vectorised call; when the function
    refuses some of them, :func:`_compute` finds those rows by halving, so one
    bad cell costs about one extra call per halving, not a call per row.
    """
    grids = {name: numeric_grid(name, value) for name, value in arguments.items()}
    shape = broadcast_shape({name: grid.floats for name, grid in grids.items()})
    as_range = any(grid.floats.size > 1 for grid in grids.values())
    messages = _first_messages(grids, shape)
    columns = {name: np.broadcast_to(grid.floats, shape).reshape(-1) for name, grid in grids.items()}
    if not messages:
        values, failures = _compute(function, columns)
        return from_grid(values.reshape(shape), as_range, failures)
    rows = np.flatnonzero(_without(messages, int(np.prod(shape))))
    values, failures = _compute(function, {name: column[rows] for name, column in columns.items()})
    result = np.full(shape, np.nan)
    result.reshape(-1)[rows] = values
    messages.update({int(rows[position]): message for position, message in failures.items()})
    return from_grid(result, as_range, messages)


def _without(messages: dict, size: int) -> np.ndarray:
    """A flat mask of the cells that have no message."""
    usable = np.ones(size, dtype=bool)
    usable[np.fromiter(messages, dtype=np.intp, count=len(messages))] = False
    return usable


def _first_messages(grids: dict, shape: tuple) -> dict:
    """Result flat index -> the first argument's blank or error message there."""
    result = {}
    for grid in reversed(list(grids.values())):  # earlier arguments overwrite later ones
        if not grid.messages:
            continue
        where = np.full(grid.floats.shape, -1, dtype=np.intp)
        where.reshape(-1)[np.fromiter(grid.messages, dtype=np.intp)] = np.arange(len(grid.messages))
        spread = np.broadcast_to(where, shape).reshape(-1)
        indices = np.flatnonzero(spread >= 0)
        texts = list(grid.messages.values())
        result.update(zip(indices.tolist(), (texts[code] for code in spread[indices].tolist())))
    return result


def _compute(function, columns: dict) -> tuple[np.ndarray, dict]:
    """Evaluate ``function`` on equal-length 1-D columns; rows it refuses get their message.

    Returns
    -------
    values : ndarray
        One float per row (NaN where a row has a message).
    messages : dict
        Row -> ``#CODE! text`` for the rows the function refuses or whose
        result is not finite.

    Notes
    -----
    One vectorised call when every row is fine. When the call raises a
    :class:`CLVError`, the rows are cut in halves and each half is tried
    again, down to the single rows that fail: k bad rows among n cost about
    2 k log2(n) calls, and the good rows are still computed in large blocks.
    """
    length = len(next(iter(columns.values()))) if columns else 1
    if length == 0:  # every row already has its message
        return np.empty(0), {}
    try:
        values = np.asarray(function(**columns), dtype=float).reshape(-1)
    except CLVError as error:
        if length == 1:
            return np.full(1, np.nan), {0: error.cell_message()}
        if _names_rows(error, length):
            return _compute_apart(function, columns, error.rows)
        half = length // 2
        head_values, head_messages = _compute(function, {name: c[:half] for name, c in columns.items()})
        tail_values, tail_messages = _compute(function, {name: c[half:] for name, c in columns.items()})
        head_messages.update({half + row: message for row, message in tail_messages.items()})
        return np.concatenate([head_values, tail_values]), head_messages
    values = np.broadcast_to(values, (length,))
    return values, dict.fromkeys(np.flatnonzero(~np.isfinite(values)).tolist(), NOT_FINITE_RESULT)


def _names_rows(error: CLVError, length: int) -> bool:
    """Whether ``error`` says which of ``length`` rows broke its rule (``error.rows``)."""
    return error.rows is not None and error.rows.shape == (length,) and bool(error.rows.any())


def _compute_apart(function, columns: dict, refused: np.ndarray) -> tuple[np.ndarray, dict]:
    """:func:`_compute` with the rows a check ``refused`` computed one by one, the others together.

    Each refused row gets its own message from a call on that row alone (a
    row that passes alone gets its value); identical refused rows share one
    call, so a what-if column of 1,000,000 rates with 31 different values, a
    few of them refused, costs a few dozen calls instead of a halving search
    for every refused row.
    """
    values = np.full(refused.size, np.nan)
    messages = {}
    rows = np.flatnonzero(refused)
    alone = {}
    for row, key in zip(rows.tolist(), zip(*(column[rows].tolist() for column in columns.values()))):
        if key not in alone:
            alone[key] = _compute(function, {name: column[row:row + 1] for name, column in columns.items()})
        row_values, row_messages = alone[key]
        values[row] = row_values[0]
        if row_messages:
            messages[row] = row_messages[0]
    others = np.flatnonzero(~refused)
    other_values, other_messages = _compute(function, {name: column[others] for name, column in columns.items()})
    values[others] = other_values
    messages.update({int(others[row]): message for row, message in other_messages.items()})
    return values, messages


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while building large result lists.

    A 1,000,000-row result is 1,000,000 new lists; with the collector running
    each allocation burst triggers a collection that walks all of them (0.47 s
    instead of 0.07 s). The lists hold no cycles, so nothing is lost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def from_grid(grid: np.ndarray, as_range: bool, messages=None):
    """A 2-D list (``as_range``) or the single value, in plain Python types.

    ``messages`` (flat index -> text) replace the cells at those positions.
    """
    with gc_paused():
        cells = grid.tolist()
    width = grid.shape[1]
    for index, message in (messages or {}).items():
        cells[index // width][index % width] = message
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


#: What a cell shows when a function fails in a way the product does not foresee (a bug).
UNEXPECTED_MESSAGE = ("#VALUE! unexpected input; please report it with the formula and its input cells "
                      "(the details are in the clv_xl log)")
LOG = logging.getLogger("clv_xl")


def excel_errors(function):
    """Return a cell message instead of raising: ``#CODE! what went wrong``.

    A :class:`CLVError` shows its own message. Anything unexpected is a bug:
    the cell shows :data:`UNEXPECTED_MESSAGE` (never a traceback or Python's
    wording) and the traceback goes to the ``clv_xl`` log for the report.
    """

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except CLVError as error:
            return error.cell_message()
        except Exception:  # noqa: BLE001 - a cell must never show a traceback
            LOG.exception("%s failed on unexpected input", function.__name__)
            return UNEXPECTED_MESSAGE

    return guarded


# --- dates and parameter blocks -------------------------------------------------------

#: The dates Excel can hold: serial 1 to 2958465 (serial 1 reads as 1899-12-31 here: with the epoch,
#: chosen for Excel's 1900 leap-year bug, serials 1-60 land a day early).
FIRST_EXCEL_DATE = EXCEL_EPOCH + np.timedelta64(1, "D")
LAST_EXCEL_DATE = EXCEL_EPOCH + np.timedelta64(LAST_EXCEL_SERIAL, "D")


def to_date(name, value) -> np.datetime64:
    """One date cell as ``datetime64[D]``: a date, an Excel serial number or ISO text, within Excel's dates."""
    if isinstance(value, (dt.date, dt.datetime, np.datetime64)):
        return _excel_dates(name, np.datetime64(value, "D"))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if value >= LAST_EXCEL_SERIAL + 1:  # compared before any conversion: a Python int can exceed a float
            raise _out_of_range(name, _show(value))
        if not value >= 1:  # NaN too
            raise CLVError(f"{name} must be a date (got {_show(value)})")
        return EXCEL_EPOCH + np.timedelta64(int(value), "D")
    if error_code(value):
        raise input_error(name, value)
    if isinstance(value, str):
        try:
            return _excel_dates(name, np.datetime64(dt.date.fromisoformat(value.strip()[:10]), "D"))
        except ValueError:
            pass
    raise CLVError(f"{name} must be a date (got {_show(value)}); use a date cell or yyyy-mm-dd")


def _excel_dates(name, days):
    """``days`` (a date or an array of dates) when all lie in Excel's range; else ``NumError`` naming the first."""
    outside = (days < FIRST_EXCEL_DATE) | (days > LAST_EXCEL_DATE)
    if np.any(outside):
        where = int(np.argmax(outside)) if np.ndim(days) else None
        row = "" if where is None else f" row {where + 1}"
        raise _out_of_range(f"{name}{row}", str(days if where is None else days[where]))
    return days


def _out_of_range(name, shown) -> NumError:
    return NumError(f"{name} must be a date from 1900-01-01 to 9999-12-31, Excel's dates (got {shown})")


def to_serial(date) -> float:
    """An Excel date serial number for a ``datetime64``/``Timestamp`` date."""
    return float((np.datetime64(date, "D") - EXCEL_EPOCH) / np.timedelta64(1, "D"))


def single_cell(name, value):
    """The one cell of a setting that must not be a range (``None`` when blank)."""
    grid = to_grid(value)
    if grid.size != 1:
        raise ShapeError(f"{name} must be a single cell (got {grid.shape[0]}x{grid.shape[1]})")
    cell = grid[0, 0]
    if error_code(cell):
        raise input_error(name, cell)
    return None if is_blank(cell) else cell


def column_cells(name, value) -> Cells:
    """The cells of a one-column (or one-row) range."""
    cells = flat_cells(value)
    if min(cells.shape) != 1:
        raise ShapeError(f"{name} must be a single column or row (got {cells.shape[0]}x{cells.shape[1]})")
    return cells


def column_values(name, value, blank_ok=False) -> list:
    """The cells of a one-column (or one-row) range as a flat list, blanks kept as ``None``."""
    return _column(name, value, blank_ok).values


def id_column(name, value) -> np.ndarray:
    """Customer ids as an array: numbers, text, or both kept as they are; no blanks, no infinite numbers.

    A column of numbers becomes a float array and one of text a text array.
    A mixed column (1001, 1002, "A17") becomes an object array, so that 1001
    stays the number 1001 (numpy would turn it into the text "1001.0").
    """
    cells = _column(name, value, blank_ok=False)
    if cells.types == {str}:
        return np.array(cells.values)
    numbers = _plain_floats(cells)  # NaN for the cells that are not numbers
    infinite = np.isinf(numbers)
    if infinite.any():
        row = int(np.argmax(infinite))
        raise NumError(f"{name} row {row + 1} must be text or a finite number (got {_show(cells.values[row])})")
    if cells.types <= PLAIN_NUMBER_TYPES:
        return numbers
    ids = np.empty(len(cells.values), dtype=object)
    ids[:] = cells.values
    return ids


def _column(name, value, blank_ok) -> Cells:
    """:func:`column_cells` with blank cells as ``None``; a blank is an error unless ``blank_ok``."""
    cells = column_cells(name, value)
    if type(None) not in cells.types and str not in cells.types:
        return cells
    first_error = next((index for index, cell in enumerate(cells.values) if error_code(cell)), None)
    if first_error is not None:
        raise input_error(f"{name} row {first_error + 1}", cells.values[first_error])
    if cells.types == {str} and all(map(str.strip, cells.values)):
        return cells
    blanks = [index for index, cell in enumerate(cells.values) if is_blank(cell)]
    if blanks and not blank_ok:
        raise CLVError(f"{name} has a blank cell (row {blanks[0] + 1}); fill or remove it")
    for index in blanks:
        cells.values[index] = None
    return cells


def _of_types(values: list, types: frozenset) -> np.ndarray:
    """A mask of the values whose type is one of ``types``."""
    return np.fromiter(map(types.__contains__, map(type, values)), dtype=bool, count=len(values))


def date_column(name, value) -> np.ndarray:
    """A column of dates as ``datetime64[D]``; the first blank or non-date cell names its row.

    Date cells (``datetime``/``date``, as xlwings hands them over) are
    converted in one step; other cells (serial numbers, ISO text) one by one
    with :func:`to_date`. A column of dates only is read without a look at
    each cell's type: the conversion itself refuses any other cell.
    """
    values = _column_range(value) if isinstance(value, list) else None
    if values:
        with contextlib.suppress(TypeError):  # a cell that is no date: read cell by cell below
            return _excel_dates(name, _days(values))
    cells = _column(name, value, blank_ok=False)
    if cells.types <= PLAIN_DATE_TYPES:
        return _excel_dates(name, _days(cells.values))
    is_date = _of_types(cells.values, PLAIN_DATE_TYPES)
    days = np.empty(len(cells.values), dtype="datetime64[D]")
    days[is_date] = _days([cells.values[index] for index in np.flatnonzero(is_date).tolist()])
    for index in np.flatnonzero(~is_date).tolist():
        days[index] = to_date(f"{name} row {index + 1}", cells.values[index])
    return _excel_dates(name, days)


def _days(dates: list) -> np.ndarray:
    """``date``/``datetime`` values as ``datetime64[D]`` (time of day dropped)."""
    ordinals = np.fromiter(map(dt.date.toordinal, dates), dtype=np.int64, count=len(dates))
    return (ordinals - UNIX_EPOCH_ORDINAL).astype("datetime64[D]")


def summary_columns(**ranges) -> list:
    """Equal-length float columns of one table; rows blank in every column (e.g. trailing rows) are dropped.

    Parameters
    ----------
    **ranges
        Column name -> one-column (or one-row) range as Excel hands it over.

    Returns
    -------
    list of ndarray
        One 1-D float array per range, in the order given.

    Raises
    ------
    ShapeError
        If a range is not one column or the columns differ in length.
    CLVError
        For the first cell (first column first, then by row) that is blank or
        not a finite number in a row that is not blank everywhere; the message
        names the column and the row within the range.
    """
    columns = {name: column_cells(name, value) for name, value in ranges.items()}
    lengths = {len(cells.values) for cells in columns.values()}
    if len(lengths) != 1:
        sizes = ", ".join(f"{name} has {len(cells.values)}" for name, cells in columns.items())
        raise ShapeError(f"the columns must have the same number of rows ({sizes})")
    converted = {name: _floats_and_messages(name, cells) for name, cells in columns.items()}
    blank_everywhere = np.ones(lengths.pop(), dtype=bool)
    for _, messages in converted.values():
        blank = np.zeros(blank_everywhere.shape, dtype=bool)
        blank[[index for index, message in messages.items() if message == BLANK]] = True
        blank_everywhere &= blank
    for name, (_, messages) in converted.items():
        refused = [index for index in messages if not blank_everywhere[index]]
        if refused:
            row = min(refused)
            raise cell_error(f"{name} row {row + 1}", columns[name].values[row])
    used = ~blank_everywhere
    return [floats if used.all() else floats[used] for floats, _ in converted.values()]


def cell_number(name, cell) -> float:
    """One cell ``name`` as a finite float; a blank or any other cell is refused (:func:`cell_error`)."""
    number, message = _number_or_message(name, cell)
    if message is not None:
        raise cell_error(name, cell)
    return number


def cell_error(name, cell) -> CLVError:
    """The error for a cell ``name`` (e.g. "frequency row 3") that is blank or no usable number."""
    _, message = _number_or_message(name, cell)
    if not message:
        return CLVError(f"{name} is blank")
    code, text = message.split(" ", 1)
    return InputErrorValue(code, text)  # the code of the cell's own message (#VALUE!, #NUM!, #N/A, ...)


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
    message = next((cell for cell in cells if error_code(cell)), None)
    if len(found) < len(labels) and message is not None:  # e.g. a failed fit; a fit's #NUM! standard errors are fine
        raise input_error(name, message)
    if len(found) < len(labels):
        raise CLVError(
            f"{name} must hold {len(labels)} numbers ({', '.join(labels)}) or the block a fit "
            f"returns (got {len(numbers)} numbers)"
        )
    for label, number in found.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not -np.inf < number < np.inf:
            raise CLVError(f"{name}: {label} must be a number (got {_show(number)})")
    return {label: float(found[label]) for label in labels}
