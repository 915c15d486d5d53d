"""The Function Wizard side of the CLV_* functions: registration with xlwings and the help read from docstrings.

The numpydoc ``Parameters`` section of each function's docstring becomes the
Function Wizard's help for that argument, the function reference sheet and the
README table. :func:`excel_functions` gives the decorator that wraps a function
as Excel calls it (every argument a 2-D range, error cells as text, failures as
cell messages) and registers it with xlwings. The one difference between the
hosts handled here: xlwings Lite hands a blank cell over as 0
(:data:`ZERO_MEANS_OMITTED`).
"""

from __future__ import annotations

import inspect

import xlwings as xw

from .cells import excel_errors, zero_as_omitted

CATEGORY = "CLV"


#: Optional settings for which 0 is no meaningful value: a 0 there acts like the argument left out.
#: xlwings Lite hands a blank cell over as 0, so a blank as_of, period, tiers or labels cell means
#: the default in both hosts. (margin, value_per_period: 0 is a value; the rest default to 0.)
ZERO_MEANS_OMITTED = frozenset({"as_of", "period", "tiers", "labels"})


def docstring(function) -> str:
    """The full docstring of a CLV_* function (the registered one carries only its first line)."""
    return inspect.cleandoc(inspect.unwrap(function).__doc__ or "")


def argument_docs(function) -> dict:
    """Argument name -> one-line help, read from the numpydoc ``Parameters`` section."""
    lines = docstring(function).splitlines()
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
    return docstring(function).splitlines()[0]


def excel_functions(functions: dict):
    """A decorator registering CLV_* Excel functions, each also listed in ``functions`` (name -> function).

    The dict belongs to the function module (:data:`clv_xl.udfs.FUNCTIONS`), so a second
    run of that module (:func:`clv_xl.workbook.vba.load_udf_module`, with xlwings' Windows
    decorators) fills its own dict and leaves the running program's untouched.
    """

    def excel_function(function):
        return _registered(function, functions)

    return excel_function


def _registered(function, functions: dict):
    """Register ``function`` as a CLV_* Excel function with its argument help.

    Every argument is received as a 2-D range (``ndim=2``), error cells as
    their text (``err_to_str``: ``"#N/A"``, so the result row shows the same
    code instead of treating the cell as blank); failures come back as cell
    messages; a 0 in a :data:`ZERO_MEANS_OMITTED` argument acts
    as omitted. The registered function's docstring is the first line only:
    xlwings shows the docstring as the function's description, in classic
    Excel (up to 255 characters) and in xlwings Lite (all of it). The function
    is also listed in ``functions`` (:data:`clv_xl.udfs.FUNCTIONS`), which the template
    builder and the headless recalculation use.
    """
    guarded = excel_errors(zero_as_omitted(function, ZERO_MEANS_OMITTED))
    guarded.__doc__ = summary(function)
    docs = argument_docs(function)
    for name in inspect.signature(function).parameters:
        guarded = xw.arg(name, ndim=2, err_to_str=True, doc=docs[name])(guarded)
    guarded = xw.func(category=CATEGORY)(guarded)
    functions[function.__name__] = guarded
    return guarded


def declare_cellwise(functions: dict, declared: dict):
    """Set ``cellwise_arguments`` (what :mod:`clv_xl.recalc` reads) on each function of ``declared``."""
    for name, arguments in declared.items():
        function = functions[name]
        function.cellwise_arguments = frozenset(inspect.signature(function).parameters if arguments is None
                                                else arguments)

