"""The ``clv-xl`` command: worked examples, template build, headless recalculation and order-file summaries."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import shutil
import sys
import zipfile
import zlib
from pathlib import Path

from . import TEMPLATE_NAME
from .workbook import examples

#: Modules of the ``[template]`` extra that each command imports.
EXTRA_MODULES = {
    "recalc": ("formulas", "openpyxl"),
    "build-template": ("formulas", "openpyxl", "xlsxwriter", "pyopenvba", "oletools"),
}
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
#: Parts every workbook package has; without one, the file is not a workbook.
WORKBOOK_PARTS = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")


class UserError(Exception):
    """A mistake in the command line or its files: reported in one line, exit code 2."""


def require_extra(command: str) -> None:
    """Raise :class:`UserError` if a module that ``command`` needs from the ``[template]`` extra is missing."""
    missing = [name for name in EXTRA_MODULES[command] if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"clv-xl {command} needs the [template] extra ({', '.join(missing)} not installed): "
                        f'pip install "<the clv-xl folder or wheel>[template]", e.g. pip install -e ".[template]"')


def workbook_to_read(path: str) -> Path:
    """``path`` checked to be a readable Excel workbook package.

    Raises
    ------
    UserError
        If it is missing, a folder, not named as a workbook, or not a sound zip package
        with the workbook parts (another kind of file renamed, truncated, corrupted).
    """
    workbook = Path(path)
    if workbook.is_dir():
        raise UserError(f"{path} is a folder; give the workbook file itself")
    if not workbook.is_file():
        raise UserError(f"{path}: no such file")
    if workbook.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise UserError(f"{path} is not an Excel workbook: give an .xlsx or .xlsm file")
    damaged = (f"{path} is damaged or not a workbook (truncated, or another kind of file renamed); "
               f"save it again from Excel")
    try:
        with zipfile.ZipFile(workbook) as package:
            names = set(package.namelist())
            first_bad_part = package.testzip()
    except (zipfile.BadZipFile, zlib.error):
        raise UserError(damaged) from None
    if first_bad_part is not None:
        raise UserError(damaged)
    missing = sorted(set(WORKBOOK_PARTS) - names)
    if missing:
        raise UserError(f"{path} is not an Excel workbook (no {', '.join(missing)}); save it again from Excel")
    return workbook


def file_to_write(path: str | os.PathLike[str], force: bool = True) -> Path:
    """``path`` checked to be a file that can be written: its folder exists, it is not a folder.

    Raises
    ------
    UserError
        If it cannot be written, or it exists and ``force`` is false.
    """
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist; create it or choose another path")
    if target.exists() and not force:
        raise UserError(f"{target} already exists; add --force to replace it")
    return target


def template_to_write(path: str, force: bool) -> Path:
    """``path`` checked to be a new ``.xlsm`` file (or an existing one with ``force``)."""
    if not path.lower().endswith(".xlsm"):
        raise UserError(f"{path}: the template is a macro-enabled workbook; give a name ending in .xlsm")
    return file_to_write(path, force)


def installed_template() -> Path:
    """The workbook template of this installation.

    A wheel carries it inside the package; a checkout (editable install) has it at the
    repository's top, where ``clv-xl build-template`` writes it.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / TEMPLATE_NAME, package.parent / TEMPLATE_NAME):
        if candidate.is_file():
            return candidate
    raise UserError("this installation of clv-xl has no workbook template; install it from a wheel "
                    "(pip wheel .) or run clv-xl build-template")


def print_examples() -> int:
    """Print every worked example through the CLV_* functions; 1 if any fails."""
    from .udfs import FUNCTIONS

    failures = 0
    for example in examples.WORKED_EXAMPLES:
        result = examples.compute(example, FUNCTIONS)
        ok = examples.passes(result, example.expected)
        failures += not ok
        shown = f"{result:,.2f}" if isinstance(result, float) else str(result)
        print(f"{'PASS' if ok else 'FAIL'}  {example.function:<10} {shown:>10} "
              f"(stated {example.expected:,.2f} {example.unit})  {example.title}")
    print(f"{len(examples.WORKED_EXAMPLES) - failures} passed, {failures} failed")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clv-xl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("examples", help="print the worked examples computed by the CLV_* functions")
    commands.add_parser("reference", help="print the function reference as a Markdown table")
    commands.add_parser("lite", help="print the requirements.txt and main.py of an xlwings Lite workbook")
    build = commands.add_parser("build-template", help=f"write {TEMPLATE_NAME} from code")
    copy = commands.add_parser("template", help=f"write a copy of the installed {TEMPLATE_NAME}")
    for command in (build, copy):
        command.add_argument("path", nargs="?", default=TEMPLATE_NAME, help="an .xlsm file (default: %(default)s)")
        command.add_argument("--force", action="store_true", help="replace the file if it exists")
    recalc = commands.add_parser(
        "recalc", help="recalculate a workbook's formulas without Excel and print its checks"
    )
    recalc.add_argument("workbook")
    recalc.add_argument("-o", "--output",
                        help="write the recalculated workbook here (a folder: under the workbook's name)")
    recalc.add_argument("--values-only", action="store_true",
                        help="write OUTPUT as a macro-free .xlsx with every formula replaced by its value")
    summary = commands.add_parser(
        "summarize", help="read an order file (customer, date, amount) as Load CSV does; print its RFM summary")
    summary.add_argument("file", help="a CSV file: customer, date, amount, with a header row")
    summary.add_argument("--as-of", help="end of the observation (default: the last date in the file)")
    summary.add_argument("--period", type=str.upper, choices=tuple("DWMY"), default="W",
                         help="unit of recency and T: D, W, M or Y (default: %(default)s)")
    summary.add_argument("--date-order", type=str.lower, choices=("auto", "day-month", "month-day"), default="auto",
                         help="order of day and month in dates such as 3-1-2025 (default: %(default)s)")
    summary.add_argument("-o", "--output", help="write the summary to this CSV file instead of printing it")
    return parser


def summarize(path, as_of, period, date_order, output) -> int:
    """Print the format of the order file ``path`` and its RFM summary (or write it to ``output``).

    The summary file uses the order file's delimiter and decimal mark (so Excel opens it as it
    opened the orders), UTF-8 with a BOM, and quotes every text, customer IDs included.
    """
    from .errors import CLVError
    from .models.rfm import rfm_summary
    from .transactions import read_date, read_transactions

    target = None if output is None else file_to_write(output)
    try:
        frame, read_format = read_transactions(path, date_order, date_order_setting="--date-order")
        if as_of is not None:
            as_of = read_date(as_of, read_format.date_order, name="--as-of", date_order_setting="--date-order")
        summary = rfm_summary(frame["customer_id"], frame["date"], frame["amount"], as_of=as_of, time_unit=period)
    except CLVError as error:
        raise UserError(str(error)) from None
    print(f"{path}: {read_format.describe()}")
    if target is None:
        print(summary.to_string())
        return 0
    summary.reset_index().to_csv(target, index=False, sep=read_format.delimiter, decimal=read_format.decimal_mark
                                 or ".", quoting=csv.QUOTE_NONNUMERIC, encoding="utf-8-sig")
    print(f"Wrote the summary of {len(summary):,} customers to {target}")
    return 0


def recalculate_and_report(workbook, output, values_only=False) -> int:
    """Recalculate ``workbook`` headless, optionally save it (values only: as .xlsx), print its check rows."""
    workbook = workbook_to_read(workbook)
    if output is not None:
        output = Path(output)
        if output.is_dir():
            output = output / ((workbook.stem + ".xlsx") if values_only else workbook.name)
        output = file_to_write(output)
        if output.resolve() == workbook.resolve():
            raise UserError(f"{output} is the workbook itself; write the result to another file")
    from . import recalc
    from .workbook import report
    from .udfs import FUNCTIONS

    if values_only:
        try:
            recalc.check_values_only_path(output)
        except ValueError as error:
            raise UserError(f"--values-only: {error}") from None
    try:
        values = recalc.recalculate(workbook, FUNCTIONS, out_path=output, values_only=values_only)
    except recalc.CircularReferenceError as error:
        raise UserError(f"{workbook}: {error}; change these formulas so that none depends on its own "
                        f"result") from None
    print(f"Recalculated {len(values.formulas):,} formulas ({len(values):,} cells) in {workbook}"
          + (f"; saved to {output}" if output else ""))
    for (sheet, anchor), (declared, found) in values.spill_mismatches.items():
        print(f"WARNING {sheet}!{anchor}: the result is {found[0]}x{found[1]} but the file spills "
              f"{declared[0]}x{declared[1]} cells; resize it in Excel (or press the sheet's button)")
    checks = report.find_checks(values)
    print(report.format_checks(checks))
    return 1 if any(not check.passed for check in checks) else 0


def main(argv=None) -> int:
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars from the formulas package
    arguments = build_parser().parse_args(argv)
    try:
        return run(arguments)
    except UserError as error:
        print(f"clv-xl: error: {error}", file=sys.stderr)
        return 2
    except PermissionError as error:
        print(f"clv-xl: error: {error.filename or error}: permission denied; choose a file or folder "
              f"you may read and write", file=sys.stderr)
        return 2


def run(arguments: argparse.Namespace) -> int:
    """Carry out the parsed command; its exit code."""
    if arguments.command == "examples":
        return print_examples()
    if arguments.command == "build-template":
        require_extra("build-template")
        path = template_to_write(arguments.path, arguments.force)
        from .workbook.sheets import build_template

        print(f"Wrote {build_template(path)}")
        return 0
    if arguments.command == "template":
        path = template_to_write(arguments.path, arguments.force)
        shutil.copyfile(installed_template(), path)
        print(f"Wrote {path}")
        return 0
    if arguments.command == "recalc":
        require_extra("recalc")
        return recalculate_and_report(arguments.workbook, arguments.output, arguments.values_only)
    if arguments.command == "summarize":
        return summarize(arguments.file, arguments.as_of, arguments.period, arguments.date_order, arguments.output)
    if arguments.command == "lite":
        from .lite import snippets

        print(snippets(), end="")
        return 0
    if arguments.command == "reference":
        from .workbook.reference import markdown_table

        print(markdown_table())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
