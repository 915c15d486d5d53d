"""``clv_xl.udfs`` registered and called by xlwings' own xlwings Lite machinery (``xlwings.server``).

Natively (xlwings 0.37.8) the calls run in a fresh interpreter with ``XLWINGS_ON_SERVER=true``,
so that the other tests keep the classic decorators; inside Pyodide (scripts/pyodide/test.sh,
xlwings 0.33.11 as Lite workbooks pin it, licence key set) xlwings already uses the Lite
decorators and the calls run in this process. Either way ``xlwings.server`` needs a licence
key: the free ``noncommercial`` one, only when none is set.
"""

import inspect
import json
import os
import subprocess
import sys

import pytest
import xlwings as xw

import lite_host
from clv_xl.excel.registry import argument_docs, summary
from clv_xl.udfs import FUNCTIONS

LITE_DECORATORS = xw.func.__module__ == "xlwings.pro.udfs_officejs"


@pytest.fixture(scope="module")
def lite():
    """xlwings' metadata of every function and the result of every call in ``lite_host.CALLS``."""
    if LITE_DECORATORS:
        return lite_host.lite_results()
    environment = dict(os.environ, XLWINGS_ON_SERVER="true")
    environment.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    done = subprocess.run([sys.executable, lite_host.__file__], env=environment, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def as_matrix(result):
    """A classic result as Office.js receives it: always a 2-D list."""
    return result if isinstance(result, list) else [[result]]


def test_every_function_is_registered_with_a_one_line_description_and_argument_help(lite):
    registered = {entry["id"]: entry for entry in lite["meta"]["functions"]}
    assert set(registered) == set(FUNCTIONS)
    for name, function in FUNCTIONS.items():
        entry = registered[name]
        assert entry["name"] == name
        assert entry["description"] == summary(function)
        assert "\n" not in entry["description"]
        parameters = inspect.signature(function).parameters
        help_texts = argument_docs(function)
        assert [p["name"] for p in entry["parameters"]] == list(parameters)
        for parameter in entry["parameters"]:
            assert parameter["description"] == help_texts[parameter["name"]]
            optional = parameters[parameter["name"]].default is not inspect.Parameter.empty
            assert parameter.get("optional", False) == optional


def test_clv_avg_gives_900_and_a_column_spills(lite):
    assert lite["results"]["average"] == [[900.0]]
    assert lite["results"]["average_column"] == [[900.0], [1080.0], [""]]


def test_each_call_gives_what_the_classic_path_gives(lite):
    for label, (name, arguments) in lite_host.CALLS.items():
        if name in FUNCTIONS:
            assert lite["results"][label] == as_matrix(FUNCTIONS[name](*arguments)), label


def test_messages_keep_their_excel_error_code(lite):
    (message,) = lite["results"]["churn_out_of_range"][0]
    assert message.startswith("#NUM! churn_rate")
    assert message == FUNCTIONS["CLV_CHURN"](100, 0.3, 1.5)


def test_a_blank_setting_that_lite_sends_as_0_acts_as_left_out(lite):
    assert lite["results"]["rfm_blank_as_of"] == lite["results"]["rfm"]
    assert lite["results"]["segment_blank_tiers"] == lite["results"]["segment"]


def test_the_main_py_of_clv_xl_lite_registers_the_button_scripts(lite):
    assert lite["scripts"] == ["refresh", "use_pasted_lines"]  # wrapped by xlwings' Lite script decorator
