"""clv-xl: Customer Lifetime Value functions for Excel.

The math lives in :mod:`clv_xl.formula` (pure numpy, no Excel types); the Excel
layer in :mod:`clv_xl.udfs` is the only module that imports xlwings.
"""

__version__ = "0.1.0"

#: File name of the workbook template (built at the repository top; the wheel carries a copy).
TEMPLATE_NAME = "workbook_template.xlsm"

#: The xlwings whose VBA module the workbook template embeds (that version's DLL is what it loads):
#: the ``classic`` extra pins it. xlwings Lite installs the version its workbook pins instead.
XLWINGS_CLASSIC_VERSION = "0.37.8"
