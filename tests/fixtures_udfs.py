"""A tiny stand-in for ``clv_xl.udfs`` used by the tooling tests.

Same contract: Excel-named functions decorated with ``xw.func``/``xw.arg``/``xw.ret``,
taking what Excel hands over (float, str, None, 2-D lists) and returning a scalar or
a 2-D list; errors come back as "#CODE! message" strings.  ``FUNCTIONS`` maps the
Excel name to the callable.
"""

import xlwings as xw


def _numbers(values):
    """Numbers of a 2-D range (or a scalar), blanks and text skipped."""
    rows = values if isinstance(values, list) else [[values]]
    return [v for row in rows for v in (row if isinstance(row, list) else [row])
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


@xw.func(category="CLV")
@xw.arg("values", doc="Range of order values; blanks and text are ignored")
def CLV_AVG(values):
    """Average of the numbers in a range."""
    nums = _numbers(values)
    if not nums:
        return "#DIV/0! no numbers in values"
    return sum(nums) / len(nums)


@xw.func(category="CLV")
@xw.arg("margin", doc="Margin per period")
@xw.arg("churn_rate", doc="Churn per period, > 0 and <= 1")
@xw.arg("discount_rate", doc="Discount rate per period (default 0)")
def CLV_SIMPLE(margin, churn_rate, discount_rate=None):
    """Simple CLV: margin * (1 + d) / (d + churn)."""
    d = 0.0 if discount_rate is None else discount_rate
    if not isinstance(churn_rate, (int, float)) or not 0 < churn_rate <= 1:
        return f"#NUM! churn_rate must be > 0 and <= 1 (got {churn_rate})"
    if not isinstance(margin, (int, float)):
        return f"#VALUE! margin must be a number (got {margin!r})"
    return margin * (1 + d) / (d + churn_rate)


@xw.func(category="CLV")
@xw.arg("churn_rate", doc="Churn per period")
@xw.arg("periods", doc="Number of periods")
@xw.ret(expand="table")
def CLV_SURVIVAL(churn_rate, periods):
    """Survival curve: one row per period (spills down)."""
    if not isinstance(churn_rate, (int, float)) or not 0 < churn_rate <= 1:
        return f"#NUM! churn_rate must be > 0 and <= 1 (got {churn_rate})"
    n = int(periods)
    return [[float(t + 1), (1 - churn_rate) ** (t + 1)] for t in range(n)]


FUNCTIONS = {"CLV_AVG": CLV_AVG, "CLV_SIMPLE": CLV_SIMPLE, "CLV_SURVIVAL": CLV_SURVIVAL}
