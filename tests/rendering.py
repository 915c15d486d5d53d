"""Reading what LibreOffice renders: the text of a PDF and the worked-example rows in it."""

import re
import shutil
import subprocess

from clv_xl import examples


def pdf_text(pdf):
    """The text of ``pdf`` laid out as on the page (``pdftotext -layout``)."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is not installed: run scripts/setup.sh --tests (poppler-utils)"
    return subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def example_rows_shown(text):
    """Stated values of the worked examples whose row shows result, stated value and OK."""
    return [example.expected for example in examples.WORKED_EXAMPLES
            if re.search(rf"{example.expected:,.2f}\s+{example.expected:,.2f}\s+OK\b", text)]
