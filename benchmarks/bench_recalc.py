"""Time ``clv-xl recalc`` on generated workbooks with 1,000 / 10,000 / 50,000 formula rows.

Each workbook has one customer per row (order value, purchases per year, lifespan)
and one ``=CLV_AVG(B2,C2,D2,$G$2)`` per row (``$G$2``: the margin), filled down, plus a summary sheet
(SUM, AVERAGE, COUNTIF over the CLV column). Each size is recalculated by the
command as a user runs it (``clv-xl recalc BOOK -o OUT``, a fresh process), under
``/usr/bin/time -v``: wall-clock time and peak memory (maximum resident set size).
Prints a Markdown table.

    python benchmarks/bench_recalc.py
    python benchmarks/bench_recalc.py --rows 1000 10000

To time another version of clv-xl (e.g. a clone at an older commit), run the script
from that clone's folder: the command runs as ``python -c``, which imports ``clv_xl``
from the working directory first.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import xlsxwriter

SIZES = (1_000, 10_000, 50_000)
MARGIN_CELL = "$G$2"
RUN_CLI = "import sys; from clv_xl.cli import main; sys.exit(main(sys.argv[1:]))"


def build_workbook(path: Path, rows: int, seed: int = 1) -> Path:
    """Write a workbook with ``rows`` customers and one ``CLV_AVG`` formula per customer.

    Parameters
    ----------
    path : Path
        Where to write the ``.xlsx`` file.
    rows : int
        Customers, i.e. formula rows.
    seed : int
        Seed of the random inputs.

    Returns
    -------
    Path
        ``path``.
    """
    rng = np.random.default_rng(seed)
    book = xlsxwriter.Workbook(str(path))
    customers = book.add_worksheet("Customers")
    customers.write_row(0, 0, ["customer", "avg_value", "purchases", "lifespan", "clv", "", "margin"])
    customers.write_number(MARGIN_CELL.replace("$", ""), 0.3)
    value = rng.uniform(10, 100, rows)
    purchases = rng.integers(1, 12, rows)
    lifespan = rng.uniform(0.5, 5, rows)
    for index in range(rows):
        row = index + 1
        excel_row = row + 1
        customers.write_string(row, 0, f"C{index + 1:06d}")
        customers.write_row(row, 1, [value[index], int(purchases[index]), lifespan[index]])
        customers.write_formula(row, 4, f"=CLV_AVG(B{excel_row},C{excel_row},D{excel_row},{MARGIN_CELL})",
                                None, 0)
    clv = f"Customers!$E$2:$E${rows + 1}"
    summary = book.add_worksheet("Summary")
    summary.write_column("A1", ["total CLV", "average CLV", "customers with CLV over 500"])
    summary.write_formula("B1", f"=SUM({clv})", None, 0)
    summary.write_formula("B2", f"=AVERAGE({clv})", None, 0)
    summary.write_formula("B3", f'=COUNTIF({clv},">500")', None, 0)
    book.close()
    return path


def time_recalc(workbook: Path, output: Path) -> tuple[float, float]:
    """Run ``clv-xl recalc workbook -o output`` under ``/usr/bin/time -v``.

    Returns
    -------
    tuple of float
        Wall-clock seconds and peak resident memory in MiB.
    """
    command = ["/usr/bin/time", "-v", sys.executable, "-c", RUN_CLI, "recalc", str(workbook), "-o", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"recalc failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-2000:]}")
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = clock.groups()
    wall = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return wall, peak_kib / 1024


def main(argv: list[str] | None = None) -> None:
    """Build, recalculate and print one table row per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES), help="formula rows per workbook")
    arguments = parser.parse_args(argv)
    print("| formula rows | formula cells | clv-xl recalc (s) | peak memory (MiB) |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench_recalc_") as folder:
        for rows in arguments.rows:
            workbook = build_workbook(Path(folder) / f"customers_{rows}.xlsx", rows)
            wall, peak = time_recalc(workbook, Path(folder) / f"recalculated_{rows}.xlsx")
            print(f"| {rows:,} | {rows + 3:,} | {wall:.1f} | {peak:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
