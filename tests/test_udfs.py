"""The CLV_* Excel functions called with what Excel hands over."""

import inspect
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clv_xl import udfs
from clv_xl.workbook import reference
from clv_xl.excel import registry
from clv_xl.udfs import (
    CLV_AVG,
    CLV_CAC_RATIO,
    CLV_CHURN,
    CLV_CHURN_RATE,
    CLV_LIFESPAN,
    CLV_NET,
    CLV_PAYBACK,
    CLV_RETENTION,
    CLV_SEGMENT,
)

ERROR_CODES = ("#NUM!", "#VALUE!", "#DIV/0!", "#N/A")


def column(*cells):
    """A column range as xlwings hands it over with ndim=2."""
    return [[cell] for cell in cells]


# --- worked examples through the Excel functions -------------------------------------


def test_worked_examples_hold_through_the_excel_functions():
    assert CLV_AVG(50.0, 6.0, 3.0) == pytest.approx(900)
    assert CLV_AVG(200.0, 1.0, 20.0) == pytest.approx(4000)
    assert CLV_AVG(40.0, 1.0, 10.0) == pytest.approx(400)
    assert CLV_AVG(5.90, 218.4, 20.0, 0.213) == pytest.approx(5489.27, abs=0.005)
    assert CLV_CHURN(100.0, 1.0, 0.2, 0.12) == pytest.approx(350)
    assert CLV_NET(1000.0, 200.0, 150.0) == pytest.approx(650)
    assert CLV_CHURN_RATE(100.0, 90.0, 10.0) == pytest.approx(0.2)
    assert CLV_RETENTION(0.2) == pytest.approx(0.8)
    assert CLV_LIFESPAN(0.2) == pytest.approx(5)
    assert CLV_CAC_RATIO(900.0, 300.0) == pytest.approx(3)
    assert CLV_PAYBACK(120.0, 300.0) == pytest.approx(2.5)
    assert CLV_AVG(50.0, 6.0, 3.0, 0.3, 0.1) == pytest.approx(246.20, abs=0.005)


def test_the_cli_prints_every_worked_example_as_passing(capsys):
    from clv_xl.cli import main

    assert main(["examples"]) == 0
    assert "8 passed, 0 failed" in capsys.readouterr().out


# --- ranges in, spilled ranges out ------------------------------------------------------


def test_a_column_in_spills_a_column_out_and_scalars_broadcast():
    assert CLV_AVG(column(50.0, 200.0), column(6.0, 1.0), column(3.0, 20.0)) == column(900.0, 4000.0)
    assert CLV_CHURN(column(100.0, 200.0), 0.3, 0.05) == column(pytest.approx(600), pytest.approx(1200))


def test_a_row_and_a_column_broadcast_to_a_grid_like_excel():
    grid = CLV_CHURN([[100.0, 200.0]], 1.0, column(0.5, 0.25))
    assert grid == [[200.0, 400.0], [400.0, 800.0]]


def test_blank_cells_give_blank_results_and_one_bad_row_errors_alone():
    result = CLV_AVG(column(50.0, None, "abc", 50.0, 50.0), 6.0, column(3.0, 3.0, 3.0, -1.0, 3.0))
    assert result[0] == [900.0]
    assert result[1] == [""]
    assert result[2] == ["#VALUE! avg_purchase_value must be a number (got 'abc')"]
    assert result[3] == ["#NUM! lifespan_periods must be >= 0 (got -1)"]
    assert result[4] == [900.0]


def test_integers_arrive_as_floats_and_ints_work_too():
    assert CLV_AVG(50.0, 6.0, 3.0) == CLV_AVG(50, 6, 3) == 900.0


def test_a_single_blank_cell_gives_a_blank_result():
    assert CLV_CHURN(None, 0.3, 0.05) == ""


@given(st.lists(st.tuples(st.floats(0, 1e5), st.floats(0.01, 1), st.floats(0.01, 1)), min_size=2, max_size=15))
def test_a_range_equals_the_cell_by_cell_results(rows):
    revenue, margin, churn = (column(*values) for values in zip(*rows))
    spilled = CLV_CHURN(revenue, margin, churn)
    assert [row[0] for row in spilled] == pytest.approx([CLV_CHURN(*row) for row in rows])


# --- bad input: exact Excel error codes ----------------------------------------------


@pytest.mark.parametrize(
    "result, expected",
    [
        (lambda: CLV_CHURN(100.0, 0.3, 1.5), "#NUM! churn_rate must be > 0 and <= 1 (got 1.5)"),
        (lambda: CLV_CHURN(100.0, 0.3, "20%"), "#VALUE! churn_rate must be a number (got '20%')"),
        (lambda: CLV_CHURN(100.0, 0.3, True), "#VALUE! churn_rate must be a number (got True)"),
        (lambda: CLV_AVG(50.0, 6.0, 3.0, 30.0), "#NUM! margin must be between 0 and 1, e.g. 30% or 0.3 (got 30)"),
        (lambda: CLV_CHURN_RATE(0.0, 0.0), "#DIV/0! customers_start must be > 0 (got 0)"),
        (lambda: CLV_PAYBACK(0.0, 300.0), "#DIV/0! margin_per_period must be > 0 (got 0); it never pays back"),
        (lambda: CLV_CAC_RATIO(900.0, 0.0), "#DIV/0! acquisition_cost must be > 0 (got 0)"),
        (lambda: CLV_LIFESPAN(0.0), "#NUM! churn_rate must be > 0 and <= 1 (got 0)"),
        (
            lambda: CLV_CHURN(column(1.0, 2.0, 3.0), 1.0, column(0.1, 0.2)),
            "#N/A ranges must have the same size, or be a single cell, row or column "
            "(revenue_per_period is 3x1, churn_rate is 2x1)",
        ),
        (lambda: CLV_SEGMENT(column(1.0, 2.0), 11.0), "#NUM! tiers must be a whole number from 2 to 10 or a range of thresholds (got 11)"),
        (lambda: CLV_SEGMENT(column(1.0, 2.0), 3.0, column("A", "B")), "#N/A labels must hold 3 names, one per tier (got 2)"),
        (lambda: CLV_SEGMENT(column(1.0, 2.0), column(100.0, "high")),
         "#VALUE! tiers must be a number or a range of numbers (got 'high')"),
    ],
)
def test_bad_input_shows_a_short_message_with_the_excel_error_code(result, expected):
    assert result() == expected


def test_nothing_raises_into_excel_even_for_unexpected_types():
    for function in udfs.FUNCTIONS.values():
        arguments = [object()] * len(inspect.signature(function).parameters)
        message = function(*arguments)
        assert isinstance(message, str) and message.startswith(ERROR_CODES)
        assert "Traceback" not in message


# --- segmentation -----------------------------------------------------------------------


def test_segment_a_column_with_blanks_and_text():
    labels = CLV_SEGMENT(column(900.0, 4000.0, None, "n/a", 400.0))
    assert labels == column("Medium", "High", "", "#VALUE! values must be a number (got 'n/a')", "Low")


def test_segment_with_a_threshold_range_and_custom_labels():
    labels = CLV_SEGMENT(column(50.0, 500.0, 5000.0), column(100.0, 1000.0, None), column("Gold", "Silver", "Bronze"))
    assert labels == column("Bronze", "Silver", "Gold")


# --- what the Function Wizard shows ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(udfs.FUNCTIONS))
def test_every_function_is_named_clv_and_documents_every_argument(name):
    function = udfs.FUNCTIONS[name]
    assert name.startswith("CLV_") and function.__name__ == name
    docs = registry.argument_docs(function)
    assert list(docs) == list(inspect.signature(function).parameters)
    assert all(len(doc) > 10 for doc in docs.values())
    assert len(registry.summary(function)) <= 100


@pytest.mark.parametrize("name, pure", [("CLV_AVG", "clv_average"), ("CLV_CHURN", "clv_churn"), ("CLV_NET", "clv_net"),
                                        ("CLV_CHURN_RATE", "churn_rate"), ("CLV_SEGMENT", "segment")])
def test_a_wrapper_has_its_pure_functions_arguments_and_defaults(name, pure):
    from clv_xl import formula

    def defaults(function):
        return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]

    assert defaults(inspect.unwrap(udfs.FUNCTIONS[name])) == defaults(getattr(formula, pure))


# --- the reference table ------------------------------------------------------------------


def _literal(text):
    text = text.strip()
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


LITERAL_EXAMPLES = [entry for entry in reference.function_reference() if ":" not in entry.example_formula]


def test_every_function_has_an_example_and_most_are_literal():
    assert all(entry.example_formula.startswith(f"={entry.name}(") for entry in reference.function_reference())
    assert len(LITERAL_EXAMPLES) >= 8


@pytest.mark.parametrize("entry", LITERAL_EXAMPLES, ids=lambda entry: entry.name)
def test_docstring_examples_give_what_they_say(entry):
    name, _, arguments = entry.example_formula.removeprefix("=").partition("(")
    values = [_literal(text) for text in arguments.rstrip(")").split(",")]
    assert udfs.FUNCTIONS[name](*values) == pytest.approx(float(entry.example_result))


def test_readme_function_table_matches_the_code():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert reference.markdown_table() in readme
