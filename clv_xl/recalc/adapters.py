"""Values between the ``formulas`` engine and the ``CLV_*`` functions, as Excel + xlwings hand them over.

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
  is listed in :attr:`clv_xl.recalc.Recalculation.udf_errors`.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

LOG = logging.getLogger("clv_xl")


@functools.lru_cache(maxsize=None)
def formulas_types():
    import schedula as sh
    from formulas.functions import Array
    from formulas.ranges import Ranges
    from formulas.tokens.operand import Error, XlError

    return sh, Array, Ranges, Error, XlError


def _to_python(value: Any, err_to_str: bool, empty: Any, numbers: Callable | None) -> Any:
    """One cell value as Excel + xlwings hand it to a UDF."""
    if type(value) is float:  # the common case first
        return numbers(value) if numbers is not None else value
    sh, _Array, _Ranges, _Error, XlError = formulas_types()
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


def to_grid(value: Any) -> np.ndarray:
    _sh, _Array, Ranges, _Error, _XlError = formulas_types()
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
    grid = to_grid(value)
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
    sh, _Array, _Ranges, Error, _XlError = formulas_types()
    if value is None:
        return sh.EMPTY
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return Error.errors["#NUM!"]
    return value


def convert_result(value: Any) -> Any:
    """A UDF's return value as ``formulas`` wants it: a scalar or a 2-D ``Array``."""
    _sh, Array, _Ranges, _Error, _XlError = formulas_types()
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


def plain_value(value: Any) -> Any:
    sh, _Array, Ranges, _Error, XlError = formulas_types()
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
