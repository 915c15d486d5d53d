"""Headless recalculation of a workbook with the ``CLV_*`` functions served by Python (see :mod:`.engine`)."""

from .engine import *  # noqa: F403 - the module moved as it was; the next commit splits it
from .engine import __all__  # noqa: F401
