"""The CLV_* Excel functions: a thin xlwings layer over :mod:`clv_xl.formula`.

This is the only module that imports xlwings. Each function here only does the
Excel part: it coerces what Excel hands over (:mod:`clv_xl.cells`), calls the
pure formula module and turns failures into short cell messages. The numpydoc
``Parameters`` section of each docstring becomes the Function Wizard's help
for that argument, the function reference sheet and the README table.

Every argument takes a single cell or a range (passed as a 2-D list, so a
column stays a column); a range in spills a result of the same shape out.
"""

from __future__ import annotations

import inspect

import numpy as np
import xlwings as xw

from . import formula
from .cells import evaluate, excel_errors, from_grid, is_blank, numeric_grid, to_grid
from .errors import CLVError

CATEGORY = "CLV"
FUNCTIONS: dict = {}


def argument_docs(function) -> dict:
    """Argument name -> one-line help, read from the numpydoc ``Parameters`` section."""
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    start = lines.index("Parameters") + 2
    docs, name = {}, None
    for line, following in zip(lines[start:], lines[start + 1 :] + [""]):
        if following.startswith("---"):
            break
        if line and not line[0].isspace():
            name = line.split(":")[0].strip()
            docs[name] = ""
        elif name and line.strip():
            docs[name] = f"{docs[name]} {line.strip()}".strip()
    return docs


def summary(function) -> str:
    """The first line of a function's docstring, written for a marketer."""
    return inspect.cleandoc(function.__doc__ or "").splitlines()[0]


def excel_function(function):
    """Register ``function`` as a CLV_* Excel function with its argument help.

    Every argument is received as a 2-D range (``ndim=2``); failures come
    back as cell messages. The function is also listed in :data:`FUNCTIONS`,
    which the template builder and the headless recalculation use.
    """
    guarded = excel_errors(function)
    docs = argument_docs(function)
    for name in inspect.signature(function).parameters:
        guarded = xw.arg(name, ndim=2, doc=docs[name])(guarded)
    guarded = xw.func(category=CATEGORY)(guarded)
    FUNCTIONS[function.__name__] = guarded
    return guarded


# --- closed-form CLV -------------------------------------------------------------


@excel_function
def CLV_AVG(
    avg_purchase_value,
    purchases_per_period,
    lifespan_periods,
    margin=1.0,
    acquisition_cost=0.0,
    discount_rate=0.0,
):
    """Customer lifetime value: average purchase x purchases per period x lifespan.

    One payment at the start of each period, the first undiscounted; the first
    purchase counts.

    Example: =CLV_AVG(50, 6, 3) gives 900.

    Parameters
    ----------
    avg_purchase_value
        Average order value in money, e.g. 50.
    purchases_per_period
        Purchases per period (year, quarter, month...), e.g. 6.
    lifespan_periods
        Customer lifespan in the same periods, e.g. 3.
    margin
        Optional gross margin as a fraction, e.g. 30% (default 100%: revenue CLV).
    acquisition_cost
        Optional cost to win the customer, subtracted (default 0).
    discount_rate
        Optional discount rate per period, e.g. 10% (default 0).
    """
    return evaluate(formula.clv_average, locals())


@excel_function
def CLV_CHURN(
    revenue_per_period, margin, churn_rate, discount_rate=0.0, acquisition_cost=0.0
):
    """Customer lifetime value from revenue, margin and churn: revenue x margin / churn.

    Payments at the start of each period while the customer stays; with a
    discount rate d the value is revenue x margin x (1 + d) / (d + churn).

    Example: =CLV_CHURN(100, 30%, 5%) gives 600.

    Parameters
    ----------
    revenue_per_period
        Revenue per customer per period, e.g. 100.
    margin
        Gross margin as a fraction, e.g. 30%.
    churn_rate
        Share of customers lost per period, e.g. 20% (> 0 and <= 100%).
    discount_rate
        Optional discount rate per period, e.g. 12% (default 0).
    acquisition_cost
        Optional cost to win the customer, subtracted (default 0).
    """
    return evaluate(formula.clv_churn, locals())


@excel_function
def CLV_NET(revenue, acquisition_cost, service_cost=0.0):
    """Net customer value: revenue minus acquisition cost minus service cost.

    Example: =CLV_NET(1000, 200, 150) gives 650.

    Parameters
    ----------
    revenue
        Revenue from the customer over the period you look at.
    acquisition_cost
        Cost to win the customer.
    service_cost
        Optional cost to serve the customer over the same period (default 0).
    """
    return evaluate(formula.clv_net, locals())


# --- churn, retention, lifespan ------------------------------------------------


@excel_function
def CLV_CHURN_RATE(customers_start, customers_end, new_customers=0.0):
    """Churn rate: share of the period's starting customers that you lost.

    (customers_start + new_customers - customers_end) / customers_start.

    Example: =CLV_CHURN_RATE(100, 90, 10) gives 0.2.

    Parameters
    ----------
    customers_start
        Customers at the start of the period.
    customers_end
        Customers at the end of the period.
    new_customers
        Optional customers won during the period (default 0).
    """
    return evaluate(formula.churn_rate, locals())


@excel_function
def CLV_RETENTION(churn_rate):
    """Retention rate: share of customers you keep each period (1 - churn).

    Example: =CLV_RETENTION(20%) gives 0.8.

    Parameters
    ----------
    churn_rate
        Share of customers lost per period, e.g. 20%.
    """
    return evaluate(formula.retention_rate, locals())


@excel_function
def CLV_LIFESPAN(churn_rate):
    """Average customer lifespan in periods: 1 / churn rate.

    Example: =CLV_LIFESPAN(20%) gives 5.

    Parameters
    ----------
    churn_rate
        Share of customers lost per period, e.g. 20% gives 5 periods.
    """
    return evaluate(formula.expected_lifespan, locals())


# --- acquisition economics ---------------------------------------------------


@excel_function
def CLV_CAC_RATIO(clv, acquisition_cost):
    """CLV:CAC ratio: how many times a customer pays back what it cost to win them.

    Example: =CLV_CAC_RATIO(900, 300) gives 3.

    Parameters
    ----------
    clv
        Customer lifetime value before acquisition cost.
    acquisition_cost
        Customer acquisition cost (CAC), > 0.
    """
    return evaluate(formula.cac_ratio, locals())


@excel_function
def CLV_PAYBACK(acquisition_cost, margin_per_period):
    """CAC payback: periods of margin needed to earn back the acquisition cost.

    Example: =CLV_PAYBACK(300, 120) gives 2.5.

    Parameters
    ----------
    acquisition_cost
        Customer acquisition cost (CAC).
    margin_per_period
        Gross margin the customer brings per period, in money, > 0.
    """
    return evaluate(formula.cac_payback, locals())


# --- segmentation -----------------------------------------------------------


@excel_function
def CLV_SEGMENT(values, tiers=3, labels=None):
    """Customer tiers: label each CLV High / Medium / Low (or your own tiers).

    Example: =CLV_SEGMENT(H2:H201) gives a column of High, Medium or Low.

    Parameters
    ----------
    values
        CLV per customer (a column); blank cells give blank labels.
    tiers
        Optional number of equal-size tiers, 2-10 (default 3), or a range of ascending thresholds.
    labels
        Optional tier names, highest first (default High, Medium, Low or Tier 1..n).
    """
    grid = to_grid(values)
    numbers, messages = numeric_grid("values", grid)
    labels = formula.segment(numbers, _tiers_argument(tiers), _labels_argument(labels))
    output = np.where(np.equal(messages, None), labels, messages)
    return from_grid(output, grid.size > 1)


def _tiers_argument(tiers):
    """A single cell is a tier count; a range is a list of thresholds (blanks dropped)."""
    cells = [cell for cell in to_grid(tiers).ravel() if not is_blank(cell)]
    if not cells:
        return 3
    if any(isinstance(cell, bool) or not isinstance(cell, (int, float)) for cell in cells):
        raise CLVError(f"tiers must be a number or a range of numbers (got {cells!r})")
    return cells[0] if to_grid(tiers).size == 1 else np.array(cells, dtype=float)


def _labels_argument(labels):
    if labels is None:
        return None
    names = [str(cell) for cell in to_grid(labels).ravel() if not is_blank(cell)]
    return names or None

