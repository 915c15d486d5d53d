"""The check rows of a recalculated workbook: computed value, stated value, OK or not.

A check cell is any formula of the form ``=IF(ABS(result-stated)<tolerance,"OK","CHECK")``;
its row's first cell is the title. The template uses it for every worked
example and every published result, so ``clv-xl recalc`` can print them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import layout

CHECK_FORMULA = re.compile(
    r'^=IF\(ABS\((?P<result>\$?[A-Z]+\$?\d+)-(?P<stated>\$?[A-Z]+\$?\d+)\)<(?P<tolerance>[0-9.]+),"OK","CHECK"\)$'
)


@dataclass(frozen=True)
class Check:
    """One check row: what was computed, what the source states, and the verdict."""

    sheet: str
    title: str
    result: object
    stated: object
    verdict: object

    @property
    def passed(self) -> bool:
        return self.verdict == "OK"


def check_formula(result_cell: str, stated_cell: str, tolerance: float) -> str:
    """The formula of a check cell comparing two cells within ``tolerance``."""
    return f'=IF(ABS({result_cell}-{stated_cell})<{tolerance:g},"OK","CHECK")'


def find_checks(recalculation) -> list[Check]:
    """The checks of a recalculated workbook (a :class:`clv_xl.recalc.Recalculation`).

    Results are the recalculated values; titles and stated values the cells as
    the file holds them (:attr:`~clv_xl.recalc.Recalculation.cells`).
    """
    from openpyxl.utils.cell import coordinate_to_tuple

    def value(sheet, ref):
        ref = ref.replace("$", "")
        return recalculation.get((sheet, ref), recalculation.cells[sheet].get(coordinate_to_tuple(ref)))

    checks = []
    for (sheet, cell), formula in recalculation.formulas.items():
        found = CHECK_FORMULA.match(formula.replace(" ", ""))
        if found:
            checks.append(Check(sheet, str(value(sheet, f"A{layout.row_of(cell)}")), value(sheet, found["result"]),
                                value(sheet, found["stated"]), recalculation.get((sheet, cell))))
    return checks


def _number(value) -> str:
    """Money-like values to the cent, small ones (rates, parameters) to 3 decimals."""
    if not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.3f}"


def format_checks(checks: list[Check]) -> str:
    """A plain-text table of the checks, then 'N passed, M failed'."""
    lines = []
    for check in checks:
        result, stated = _number(check.result), _number(check.stated)
        lines.append(f"{'PASS' if check.passed else 'FAIL'}  {check.sheet:<12} {result:>12}  "
                     f"(stated {stated})  {check.title}")
    failed = sum(not check.passed for check in checks)
    lines.append(f"{len(checks) - failed} passed, {failed} failed")
    return "\n".join(lines)
