"""Every CLV_* function called through xlwings' own xlwings Lite machinery (``xlwings.server``).

:func:`lite_results` registers ``clv_xl.udfs`` as a Lite ``main.py`` does (``from clv_xl.udfs
import *``) and returns xlwings' function metadata and the result of each call in
:data:`CALLS`, sent as Office.js sends arguments. It needs xlwings' Lite decorators, i.e.
xlwings imported with ``XLWINGS_ON_SERVER=true`` (or, in Pyodide, a licence key), so the
native test runs this file as a script in a fresh interpreter and reads its JSON output.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
import cdnow

CDNOW_BGNBD = cdnow.BGNBD_CELLS
CDNOW_GG = cdnow.GAMMA_GAMMA_CELLS
SBG_REGULAR = [[0.704], [1.182]]
IDS = [["a"], ["a"], ["b"], ["a"], ["b"], ["c"]]
DATE_SERIALS = [[45658], [45665], [45660], [45686], [45700], [45701]]  # Lite sends date cells as serials
AMOUNTS = [[10], [20], [15], [30], [25], [5]]

#: label -> (function, arguments as Excel hands them over: a value, a 2-D list, None when left out)
CALLS = {
    "average": ("CLV_AVG", [50, 6, 3]),
    "average_column": ("CLV_AVG", [[[50], [60], [None]], 6, 3]),
    "churn_out_of_range": ("CLV_CHURN", [100, 0.3, 1.5]),
    "net": ("CLV_NET", [1000, 200, 150]),
    "churn_rate": ("CLV_CHURN_RATE", [100, 90, 10]),
    "retention": ("CLV_RETENTION", [0.2]),
    "lifespan": ("CLV_LIFESPAN", [0.2]),
    "cac_ratio": ("CLV_CAC_RATIO", [900, 300]),
    "payback": ("CLV_PAYBACK", [120, 300]),
    "segment": ("CLV_SEGMENT", [[[300], [200], [100], [None]]]),
    "segment_blank_tiers": ("CLV_SEGMENT", [[[300], [200], [100], [None]], 0]),
    "rfm": ("CLV_RFM", [IDS, DATE_SERIALS, AMOUNTS]),
    "rfm_blank_as_of": ("CLV_RFM", [IDS, DATE_SERIALS, AMOUNTS, 0, 0]),
    "cohort": ("CLV_COHORT", [IDS, DATE_SERIALS]),
    "fit_bgnbd": ("CLV_FIT_BGNBD", [[[0], [2], [1], [5]], [[0], [10.0], [3.0], [30.0]], [[40.0], [38.0], [20.0], [39.0]]]),
    "p_alive": ("CLV_PALIVE", [CDNOW_BGNBD, 2, 30.43, 38.86]),
    "purchases": ("CLV_PURCHASES", [CDNOW_BGNBD, 2, 30.43, 38.86, 39]),
    "purchases_new": ("CLV_PURCHASES_NEW", [CDNOW_BGNBD, 52]),
    "fit_gg": ("CLV_FIT_GG", [[[1], [2], [3], [1], [4]], [[20.0], [35.0], [18.5], [60.0], [27.0]]]),
    "spend": ("CLV_SPEND", [CDNOW_GG, 2, 22]),
    "predict": ("CLV_PREDICT", [CDNOW_BGNBD, CDNOW_GG, 2, 30.43, 38.86, 22, 52]),
    "fit_sbg": ("CLV_FIT_SBG", [[[1000], [631], [468], [382], [326], [289], [255], [232]]]),
    "sbg_survival": ("CLV_SBG_SURVIVAL", [SBG_REGULAR, [[0], [1], [2]]]),
    "sbg_retention": ("CLV_SBG_RETENTION", [SBG_REGULAR, [[1], [2]]]),
    "derl": ("CLV_DERL", [SBG_REGULAR, 0, 0.1, 100]),
    "del": ("CLV_DEL", [SBG_REGULAR, 0.1, 100]),
}


def office_js(argument):
    """An argument as Office.js sends it to a matrix parameter: a 2-D list; null when left out."""
    if argument is None or isinstance(argument, list):
        return argument
    return [[argument]]


def run_to_end(coroutine):
    """The result of a coroutine that never waits (a plain custom function's call)."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    raise RuntimeError("the custom function call waited for something")


def lite_results() -> dict:
    """``{"meta": custom_functions_meta, "results": {label: result}, "version", "scripts"}``."""
    import xlwings as xw
    from xlwings import server

    from clv_xl.lite import MAIN_PY

    main = types.ModuleType("main")
    exec(MAIN_PY, main.__dict__)  # the workbook's main.py, as clv-xl lite prints it
    results = {}
    for label, (name, arguments) in CALLS.items():
        if not hasattr(main, name):  # a function being added in another branch of work
            continue
        request = {"func_name": name, "args": [office_js(argument) for argument in arguments],
                   "version": xw.__version__, "client": "Office.js", "runtime": "1.4",
                   "culture_info_name": "en-US", "date_format": None}
        results[label] = run_to_end(server.custom_functions_call(request, main))
    return {"meta": server.custom_functions_meta(main), "results": results, "version": xw.__version__,
            "scripts": [name for name, member in vars(main).items() if inspect.iscoroutinefunction(member)]}


if __name__ == "__main__":
    json.dump(lite_results(), sys.stdout)
