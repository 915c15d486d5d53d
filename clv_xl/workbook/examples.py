"""Worked examples from the CLV source documents, with the values they state.

Each example is a ``CLV_*`` call on literal inputs and the result the source
document gives for it. ``clv-xl examples`` prints them computed through the
Excel functions; the workbook template shows them with a check cell.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkedExample:
    """One worked example: a CLV_* call on named inputs and its stated result."""

    title: str
    source: str
    function: str
    inputs: dict
    expected: float
    unit: str


WORKED_EXAMPLES = (
    WorkedExample(
        "EUR 50 a purchase, 6 purchases a year, 3 years",
        "Average-lifetime method, source document",
        "CLV_AVG",
        {"avg_purchase_value": 50, "purchases_per_period": 6, "lifespan_periods": 3},
        900.0,
        "EUR",
    ),
    WorkedExample(
        "USD 200 a quarter for 5 years (20 quarters)",
        "Average-lifetime method, source document",
        "CLV_AVG",
        {"avg_purchase_value": 200, "purchases_per_period": 1, "lifespan_periods": 20},
        4000.0,
        "USD",
    ),
    WorkedExample(
        "A EUR 40 tree every year for 10 years",
        "Average-lifetime method, source document",
        "CLV_AVG",
        {"avg_purchase_value": 40, "purchases_per_period": 1, "lifespan_periods": 10},
        400.0,
        "EUR",
    ),
    WorkedExample(
        "Coffee shop: AOV 5.90, 4.2 visits a week (x52), 20 years, margin 21.3%",
        "Published case, extended (margin) method",
        "CLV_AVG",
        {
            "avg_purchase_value": 5.90,
            "purchases_per_period": 4.2 * 52,
            "lifespan_periods": 20,
            "margin": 0.213,
        },
        5489.27,
        "USD",
    ),
    WorkedExample(
        "EUR 50 x 6 a year for 3 years, margin 30%, discount 10% a year",
        "Extended method, discounted: 90 + 90 / 1.1 + 90 / 1.1^2",
        "CLV_AVG",
        {
            "avg_purchase_value": 50,
            "purchases_per_period": 6,
            "lifespan_periods": 3,
            "margin": 0.3,
            "discount_rate": 0.1,
        },
        246.20,
        "EUR",
    ),
    WorkedExample(
        "Revenue 100 a month, margin 30%, churn 5% a month",
        "Revenue method: revenue x margin / churn = 100 x 0.3 / 0.05",
        "CLV_CHURN",
        {"revenue_per_period": 100, "margin": 0.3, "churn_rate": 0.05},
        600.0,
        "USD",
    ),
    WorkedExample(
        "Retention 80%, discount 12%: margin multiple 3.5 (first payment now)",
        "Margin multiple (1 + d) / (1 + d - r); 2.5 = r / (1 + d - r) if paid a period later",
        "CLV_CHURN",
        {"revenue_per_period": 100, "margin": 1, "churn_rate": 0.2, "discount_rate": 0.12},
        350.0,
        "USD",
    ),
    WorkedExample(
        "Revenue 1,000 minus acquisition 200 minus service 150",
        "Net value: revenue - acquisition cost - service cost",
        "CLV_NET",
        {"revenue": 1000, "acquisition_cost": 200, "service_cost": 150},
        650.0,
        "USD",
    ),
)


def compute(example: WorkedExample, functions: dict):
    """The example's result through the Excel function of that name."""
    return functions[example.function](**example.inputs)


def passes(result, expected: float) -> bool:
    """True when ``result`` matches the stated value to the cent."""
    return isinstance(result, float) and abs(result - expected) < 0.005
