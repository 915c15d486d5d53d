"""What LibreOffice renders: a workbook converted headless, the text of a PDF and the worked-example rows in it."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from clv_xl.workbook import examples


def pdf_text(pdf):
    """The text of ``pdf`` laid out as on the page (``pdftotext -layout``)."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is not installed: run scripts/setup.sh --tests (poppler-utils)"
    return subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def example_rows_shown(text):
    """Stated values of the worked examples whose row shows result, stated value and OK."""
    return [example.expected for example in examples.WORKED_EXAMPLES
            if re.search(rf"{example.expected:,.2f}\s+{example.expected:,.2f}\s+OK\b", text)]


def soffice_convert(
    path: str | os.PathLike[str],
    fmt: str = "pdf",
    outdir: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 180,
) -> Path:
    """Convert a workbook with headless LibreOffice; returns the written file.

    Runs ``soffice --headless --norestore -env:UserInstallation=file://<tmp profile>
    --convert-to <fmt> --outdir <outdir> <path>`` with a throw-away profile and
    ``HOME``, so it works as root, in CI and beside a running LibreOffice.  LibreOffice
    shows the values cached in the file (it does not recalculate xlsx on load by
    default), so recalculate first.  Raises ``FileNotFoundError`` without ``soffice``.
    """
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise FileNotFoundError("soffice (LibreOffice) is not installed")
    path = Path(path).resolve()
    outdir = Path(outdir or path.parent).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clv_lo_") as profile:
        env = dict(os.environ, HOME=profile)
        cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation={Path(profile).as_uri()}",
               "--convert-to", fmt, "--outdir", str(outdir), str(path)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    target = outdir / (path.stem + "." + fmt.split(":")[0])
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(f"soffice failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    return target
