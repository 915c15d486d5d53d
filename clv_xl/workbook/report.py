"""The check rows of a recalculated workbook: computed value, stated value, OK or not.

A check cell is any formula of the form ``=IF(ABS(result-stated)<tolerance,"OK","CHECK")``;
its row's first cell is the title. The template uses it for every worked
example and every published result, so ``clv-xl recalc`` can print them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def find_checks(path, values: dict, formulas: dict) -> list[Check]:
    """The checks of the workbook at ``path``, with ``values`` of its formula cells.

    The workbook is read (for the titles and stated values) only if it has check cells.
    """
    import openpyxl

    found_checks = [(sheet, cell, found) for (sheet, cell), formula in formulas.items()
                    if (found := CHECK_FORMULA.match(formula.replace(" ", "")))]
    if not found_checks:
        return []
    book = openpyxl.load_workbook(path, data_only=True)
    checks = []
    try:
        for sheet, cell, found in found_checks:
            row = int(re.sub(r"[A-Z$]", "", cell))
            lookup = lambda ref: values.get((sheet, ref.replace("$", "")), book[sheet][ref.replace("$", "")].value)
            checks.append(Check(sheet, str(book[sheet][f"A{row}"].value), lookup(found["result"]),
                                lookup(found["stated"]), values.get((sheet, cell))))
    finally:
        book.close()
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
