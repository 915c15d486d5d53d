"""What Excel hands over and gets back, between the CLV_* functions and the math.

* :mod:`~clv_xl.excel.cells`: coercion of cells and ranges (blanks, text, error values,
  dates) to numbers and arrays, per-cell messages, results back as cells.
* :mod:`~clv_xl.excel.arguments`: settings and parameter blocks of the functions.
* :mod:`~clv_xl.excel.results`: the tables the functions spill (fit blocks, headers).
* :mod:`~clv_xl.excel.fit_cache`: fits kept while their input cells do not change.
* :mod:`~clv_xl.excel.registry`: registration with xlwings and the Function Wizard help.

The math (:mod:`clv_xl.formula`, :mod:`clv_xl.models`) never imports this package.
"""
