"""One xlwings for classic Excel (template VBA = pinned DLL), any Lite-era xlwings for the core."""

import importlib.metadata
import re
from pathlib import Path

from packaging.requirements import Requirement

from clv_xl import XLWINGS_CLASSIC_VERSION
from clv_xl.workbook.vba import STANDALONE_MODULE_NAME, read_vba_modules

ROOT = Path(__file__).resolve().parent.parent
#: The installed package's requirements (pyproject.toml as pip sees it; works on Python 3.10 too).
REQUIREMENTS = [Requirement(text) for text in importlib.metadata.requires("clv-xl")]


def xlwings_requirement(extra=None):
    """The xlwings requirement of the core (``extra=None``) or of one extra."""
    (found,) = [requirement for requirement in REQUIREMENTS if requirement.name == "xlwings" and (
        requirement.marker.evaluate({"extra": extra}) if requirement.marker else extra is None)]
    return found


def test_the_core_installs_beside_the_xlwings_a_lite_workbook_pins():
    specifier = xlwings_requirement().specifier
    assert specifier.contains("0.33.11") and specifier.contains(XLWINGS_CLASSIC_VERSION)


def test_the_classic_extra_pins_the_version_whose_vba_the_template_embeds():
    assert str(xlwings_requirement("classic").specifier) == (
        f"=={XLWINGS_CLASSIC_VERSION}")
    module = read_vba_modules(ROOT / "workbook_template.xlsm")[STANDALONE_MODULE_NAME]
    assert re.search(r"^'Version: (\S+)", module, re.M).group(1) == XLWINGS_CLASSIC_VERSION
    assert f'"xlwings64-{XLWINGS_CLASSIC_VERSION}.dll"' in module
