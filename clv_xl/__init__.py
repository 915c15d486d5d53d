"""clv-xl: Customer Lifetime Value functions for Excel.

The math lives in :mod:`clv_xl.formula` (pure numpy, no Excel types); the Excel
layer in :mod:`clv_xl.udfs` is the only module that imports xlwings.
"""

__version__ = "0.1.0"
