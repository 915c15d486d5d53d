"""Headless recalculation of a workbook with the ``CLV_*`` functions served by Python.

The ``formulas`` package (1.3.x) parses and evaluates the workbook; each Excel
function of ours is registered into ``formulas.get_functions()`` for the duration of
one run, behind an adapter that hands it what Excel + xlwings would hand it.

One job per module, each using only those above it:

* :mod:`~clv_xl.recalc.package`: reading the package XML (parts, relationships,
  cells, formulas, cached values) and copying a package with parts replaced.
* :mod:`~clv_xl.recalc.adapters`: the values Excel + xlwings hand the ``CLV_*``
  functions and get back (xlwings' per-argument options included).
* :mod:`~clv_xl.recalc.writing`: new values cached beside the formulas
  (:func:`write_values`), or a macro-free values-only ``.xlsx`` copy
  (:func:`write_values_only`).
* :mod:`~clv_xl.recalc.columns`: formulas filled down a column, each a single call
  of a Python function, grouped and evaluated without the engine (a whole column in
  one call when the function computes cell by cell).
* :mod:`~clv_xl.recalc.engine`: the ``formulas`` engine loaded with only the other
  formulas, and :func:`recalculate`.

The recalculated workbook is written by putting the new values into the cached
``<v>`` of every formula cell of the original package, so VBA, buttons, charts and
dynamic-array metadata stay as they were (``formulas``' own writer would produce a
values-only workbook).  :func:`write_values_only` writes instead a macro-free ``.xlsx``
copy with every formula replaced by its value, for LibreOffice (which recalculates
array formulas on load) and anyone without Python.  (The LibreOffice converter the
tests use is ``tests/rendering.py``.)
"""

from .adapters import argument_options, convert_argument, convert_result, excel_adapter
from .columns import relative_form
from .engine import CircularReferenceError, Recalculation, SpillMismatchError, recalculate
from .package import CellKey, PackageCells, cached_values, cells_of, formula_cells, read_package
from .writing import check_values_only_path, write_values, write_values_only

__all__ = [
    "CellKey", "CircularReferenceError", "Recalculation", "SpillMismatchError", "argument_options",
    "cached_values", "cells_of", "check_values_only_path", "convert_argument", "convert_result",
    "excel_adapter", "formula_cells", "PackageCells", "read_package", "recalculate", "relative_form",
    "write_values", "write_values_only",
]
