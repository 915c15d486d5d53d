"""xlwings Lite: the two files a workbook needs, and the button macros as Lite scripts.

xlwings Lite is an Office add-in that runs Python inside Excel (Windows, macOS, the
web) through Pyodide. A workbook keeps a ``requirements.txt`` (packages to install)
and a ``main.py`` (the functions and scripts Lite registers); :func:`snippets` gives
both, as ``clv-xl lite`` prints them. In ``main.py``, ``from clv_xl.udfs import *``
registers every ``CLV_*`` function (``clv_xl.udfs.__all__``) and the import of this
module's scripts adds the buttons Lite can run: :func:`refresh` (Refresh customers)
and :func:`use_pasted_lines`. Lite cannot read local files, so there is no Load CSV:
paste the order lines into the Transactions sheet and run :func:`use_pasted_lines`,
which resizes what Load CSV resizes.
"""

from __future__ import annotations

import xlwings as xw

from .workbook import macros

#: Lines to add to the workbook's requirements.txt (under the xlwings line the add-in wrote).
REQUIREMENTS = "clv-xl\n"

#: The workbook's main.py.
MAIN_PY = '''\
from clv_xl.udfs import *  # registers every CLV_* function
from clv_xl.lite import refresh, use_pasted_lines  # the buttons as scripts (Lite has no Load CSV)
'''


def snippets() -> str:
    """The ``requirements.txt`` and ``main.py`` of an xlwings Lite workbook, ready to paste."""
    return (f"# requirements.txt: keep the xlwings line the add-in wrote and add\n{REQUIREMENTS}\n"
            f"# main.py\n{MAIN_PY}")


@xw.script
def refresh(book: xw.Book):
    """Refresh customers: resize every output of the Customers sheet to the pasted table."""
    macros.refresh_book(book)


@xw.script
def use_pasted_lines(book: xw.Book):
    """Use pasted order lines: resize the Prediction and Validation sheets and the cohort table to them."""
    macros.use_pasted_lines(book)
