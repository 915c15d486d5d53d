"""The settings and parameter blocks of the CLV_* functions, read from what Excel hands over.

Each reader takes the raw argument (a 2-D list, as every CLV_* argument arrives)
and returns what the formula or model functions take, or raises a
:class:`~clv_xl.errors.CLVError` that names the argument. The cell-level coercion
they build on is :mod:`clv_xl.excel.cells`.
"""

from __future__ import annotations

import numpy as np

from ..errors import CLVError, NumError
from ..models import bgnbd as bgnbd_model
from ..models import gamma_gamma as gamma_gamma_model
from ..models import sbg as sbg_model
from ..models.rfm import days_per_unit
from .cells import (
    _show,
    cell_number,
    column_values,
    error_code,
    flat_cells,
    input_error,
    is_blank,
    parameter_block,
    single_cell,
    to_date,
    to_grid,
)


def tiers(tiers):
    """A single cell is a tier count; a range is a list of thresholds (blanks dropped)."""
    grid = to_grid(tiers)
    cells = [cell for cell in grid.ravel() if not is_blank(cell)]
    if not cells:
        return 3
    other = next((cell for cell in cells if isinstance(cell, bool) or not isinstance(cell, (int, float))), None)
    if other is not None:
        raise CLVError(f"tiers must be a number or a range of numbers (got {_show(other)})")
    return cells[0] if grid.size == 1 else np.array(cells, dtype=float)


def labels(labels):
    """Tier names from a cell or range, blanks dropped (``None``: the default names); an error cell is refused."""
    if labels is None:
        return None
    cells = [cell for cell in to_grid(labels).ravel() if not is_blank(cell)]
    error = next((cell for cell in cells if error_code(cell)), None)
    if error is not None:
        raise input_error("labels", error)
    return [str(cell) for cell in cells] or None


def period(value, default="W"):
    """A time-unit letter from a single cell (``default`` when blank): D, W, M or Y."""
    cell = single_cell("period", value)
    letter = default if cell is None else str(cell).strip().upper()
    days_per_unit(letter, "period")  # refuses any other letter, naming the argument the user typed
    return letter


def single_number(name, value):
    """A setting that must be one number (not a range)."""
    return cell_number(name, single_cell(name, value))


def max_count(max_count):
    """The largest repeat-purchase count of a diagnostic table (default 7)."""
    cell = single_cell("max_count", max_count)
    return 7.0 if cell is None else cell_number("max_count", cell)


def date(name, value, required=False):
    """A date setting from a single cell (a date, a serial number or yyyy-mm-dd); ``None`` when blank.

    A blank cell is refused when the date is ``required``.
    """
    cell = single_cell(name, value)
    if cell is None and required:
        raise CLVError(f"{name} is blank; enter a date (a date cell or yyyy-mm-dd)")
    return None if cell is None else to_date(name, cell)


def flag(name, value) -> bool:
    """A TRUE/FALSE setting (blank: FALSE); a number counts as in Excel (0 is FALSE), text is refused."""
    cell = single_cell(name, value)
    if cell is not None and not isinstance(cell, (bool, int, float)):
        raise CLVError(f"{name} must be TRUE or FALSE (got {_show(cell)})")
    return bool(cell)


def broadcast_column(value, like):
    """A single cell repeated to the length of the column ``like``; a range as it is.

    A long column is passed on without being read here: only a one-row
    argument is looked at, and ``like`` is read once, on the fast path.
    """
    if isinstance(value, (list, tuple)) and len(value) > 1:
        return value
    cells = flat_cells(value)
    return [[cells.values[0]]] * len(flat_cells(like).values) if len(cells.values) == 1 else value


def check_no_gap(survivors):
    """Refuse a blank survivor cell followed by a count: the later counts would move up a period.

    Blank cells after the last count are fine (a range drawn longer than the data).
    """
    cells = column_values("survivors", survivors, blank_ok=True)
    last_count = max((index for index, cell in enumerate(cells) if cell is not None), default=-1)
    gap = next((index for index in range(last_count) if cells[index] is None), None)
    if gap is not None:
        raise NumError(f"survivors has a blank cell in row {gap + 1} before later counts: a gap shifts every "
                       "later period; fill in that period's count, or end the range at the last count")


def fitted_params(name, block, model, labels):
    """Parameters with their covariance from the whole block a fit returns (for intervals)."""
    estimates = parameter_block(name, block, labels)
    rows = {str(row[0]).strip().lower(): row for row in to_grid(block) if isinstance(row[0], str)}
    width = 5 + len(labels)
    if any(label not in rows or len(rows[label]) < width for label in labels):
        raise CLVError(f"{name} must be the whole block the fit returns ({width} columns with the standard "
                       "errors and correlations) for an interval")
    cells = {label: rows[label][2:width] for label in labels}
    message = next((cell for row in cells.values() for cell in row if _is_fit_message(cell)), None)
    if message is not None:
        raise NumError(f"{name} has no standard errors: {message.split(' ', 1)[-1]}")
    errors = np.array([cell_number(f"{name} std. error of {label}", cells[label][0]) for label in labels])
    correlations = np.array([[cell_number(f"{name} corr. {label} {other}", cell)
                              for other, cell in zip(labels, cells[label][3:])] for label in labels])
    return model(**estimates, covariance=correlations * np.outer(errors, errors))


def _is_fit_message(cell) -> bool:
    """A fit's own coded message in its block (``"#NUM! the information matrix ..."``), not a bare error value."""
    code = error_code(cell)
    return code is not None and cell.strip() != code


def bgnbd_params(params):
    """BG/NBD parameters from a block of (label, number) rows."""
    return bgnbd_model.BGNBDParams(**parameter_block("params", params, bgnbd_model.PARAM_NAMES))


def gamma_gamma_params(params):
    """Gamma-Gamma parameters from a block of (label, number) rows."""
    return gamma_gamma_model.GammaGammaParams(**parameter_block("gg_params", params, gamma_gamma_model.PARAM_NAMES))


def sbg_params(params):
    """sBG parameters from a block of (label, number) rows."""
    return sbg_model.SBGParams(**parameter_block("params", params, sbg_model.PARAM_NAMES))

