"""What differs in xlwings Lite, through the Excel functions: ints, serial dates, blank cells as 0."""

import datetime as dt

from clv_xl import lite
from clv_xl.excel.registry import ZERO_MEANS_OMITTED, docstring
from clv_xl.udfs import CLV_AVG, CLV_COHORT, CLV_RFM, CLV_SEGMENT, FUNCTIONS

IDS = [["a"], ["a"], ["b"], ["a"]]
DATES = [[dt.datetime(2025, 1, 1)], [dt.datetime(2025, 1, 8)], [dt.datetime(2025, 1, 3)], [dt.datetime(2025, 1, 29)]]
SERIALS = [[45658], [45665], [45660], [45686]]  # the same dates as Lite sends them (ints)
AMOUNTS = [[10], [20], [15], [30]]


def test_a_star_import_brings_exactly_the_clv_functions():
    namespace = {}
    exec("from clv_xl.udfs import *", namespace)
    assert sorted(name for name in namespace if name != "__builtins__") == sorted(FUNCTIONS)


def test_the_registered_docstring_is_the_one_line_description_and_the_full_one_stays_readable():
    for function in FUNCTIONS.values():
        assert "\n" not in function.__doc__
        assert docstring(function).startswith(function.__doc__ + "\n")
        assert "Parameters" in docstring(function)


def test_integers_stay_integers_and_give_the_same_values():
    assert CLV_AVG(50, 6, 3) == 900.0
    assert CLV_AVG([[50], [60]], 6, 3) == CLV_AVG([[50.0], [60.0]], 6.0, 3.0)


def test_dates_as_serial_numbers_give_the_same_summary_and_cohorts():
    assert CLV_RFM(IDS, SERIALS, AMOUNTS) == CLV_RFM(IDS, DATES, AMOUNTS)
    assert CLV_RFM(IDS, SERIALS, AMOUNTS, 45688) == CLV_RFM(IDS, DATES, AMOUNTS, dt.datetime(2025, 1, 31))
    assert CLV_COHORT(IDS, SERIALS) == CLV_COHORT(IDS, DATES)


def test_a_blank_setting_sent_as_0_acts_as_left_out():
    assert CLV_RFM(IDS, SERIALS, AMOUNTS, 0, 0) == CLV_RFM(IDS, SERIALS, AMOUNTS)
    assert CLV_RFM(IDS, SERIALS, AMOUNTS, [[0.0]], [[0]]) == CLV_RFM(IDS, SERIALS, AMOUNTS)
    assert CLV_COHORT(IDS, SERIALS, 0) == CLV_COHORT(IDS, SERIALS)
    values = [[300], [200], [100]]
    assert CLV_SEGMENT(values, 0, 0) == CLV_SEGMENT(values) == [["High"], ["Medium"], ["Low"]]
    assert ZERO_MEANS_OMITTED == {"as_of", "period", "tiers", "labels"}


def test_a_0_where_0_is_a_value_stays_0():
    assert CLV_AVG(50, 6, 3, 0) == 0.0  # margin 0%
    assert CLV_RFM(IDS, SERIALS, AMOUNTS, False) != CLV_RFM(IDS, SERIALS, AMOUNTS)  # FALSE is no date


def test_the_lite_snippets_install_clv_xl_and_import_every_function_and_script():
    text = lite.snippets()
    assert "clv-xl" in lite.REQUIREMENTS
    assert lite.REQUIREMENTS in text and lite.MAIN_PY in text
    assert "from clv_xl.udfs import *" in lite.MAIN_PY
    assert "from clv_xl.lite import refresh, use_pasted_lines" in lite.MAIN_PY


def test_clv_xl_lite_prints_the_snippets(capsys):
    from clv_xl.cli import main

    assert main(["lite"]) == 0
    assert capsys.readouterr().out == lite.snippets()
