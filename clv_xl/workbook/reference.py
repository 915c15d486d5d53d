"""The function reference, generated from the CLV_* functions' signatures and docstrings.

One source for the README's function table, the template's reference sheet and
``clv-xl reference``, so none of them drifts from the code.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from ..excel.registry import argument_docs, docstring, summary
from ..udfs import FUNCTIONS


@dataclass(frozen=True)
class FunctionReference:
    """What a user needs to know about one CLV_* function."""

    name: str
    signature: str
    summary: str
    arguments: dict
    example_formula: str
    example_result: str


def _signature(function) -> str:
    """``CLV_X(a, b, [c])``: optional arguments in brackets, as Excel's help shows them."""
    parameters = inspect.signature(function).parameters.values()
    names = [p.name if p.default is inspect.Parameter.empty else f"[{p.name}]" for p in parameters]
    return f"{function.__name__}({', '.join(names)})"


def _example(function) -> tuple[str, str]:
    """``("=CLV_X(...)", "900")`` from the docstring line ``Example: =CLV_X(...) gives 900.``"""
    for line in docstring(function).splitlines():
        if line.startswith("Example:"):
            formula, _, result = line.removeprefix("Example:").strip().rstrip(".").partition(" gives ")
            return formula, result
    return "", ""


def function_reference() -> list[FunctionReference]:
    """One entry per registered CLV_* function, in registration order."""
    return [
        FunctionReference(name, _signature(f), summary(f), argument_docs(f), *_example(f))
        for name, f in FUNCTIONS.items()
    ]


def markdown_table() -> str:
    """The README's function table."""
    rows = ["| Function | What it gives | Example |", "|---|---|---|"]
    for entry in function_reference():
        example = f"`{entry.example_formula}` gives {entry.example_result}"
        rows.append(f"| `{entry.signature}` | {entry.summary} | {example} |")
    return "\n".join(rows)
