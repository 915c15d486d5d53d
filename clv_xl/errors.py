"""Errors that know which Excel error code a cell should show.

The pure layers (``clv_xl.formula`` and ``clv_xl.models``) raise these; the Excel
layer turns them into a short cell message such as
``#NUM! churn_rate must be > 0 and <= 1 (got 1.5)``.
"""


class CLVError(ValueError):
    """A problem with an input or a result; ``code`` is the matching Excel error.

    ``rows``, when a check knows it, is a boolean array in the shape of the
    checked values: which of them break the rule. The Excel layer then
    computes those rows apart and the others together, instead of searching
    for the failing rows.
    """

    code = "#VALUE!"
    rows = None

    def cell_message(self) -> str:
        """The short text a spreadsheet cell shows for this error."""
        return f"{self.code} {self}"


class NumError(CLVError):
    """A number outside its allowed range (Excel's ``#NUM!``)."""

    code = "#NUM!"


class DivZeroError(CLVError):
    """A division by zero (Excel's ``#DIV/0!``)."""

    code = "#DIV/0!"


class ShapeError(CLVError):
    """Ranges whose sizes do not fit together (Excel's ``#N/A``)."""

    code = "#N/A"


class FitError(NumError):
    """A model fit that failed or did not converge."""


class FileFormatError(CLVError):
    """A file that cannot be read for sure (its row, value and the fix in the message); nothing is loaded."""


class InputErrorValue(CLVError):
    """An input cell holding an Excel error value (``#N/A``, ``#DIV/0!``, ...) or another function's message.

    The result shows the same code, so an error upstream stays visible downstream.
    """

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code = code
