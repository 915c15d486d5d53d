"""The ``clv-xl`` command: worked examples, template build and headless recalculation."""

from __future__ import annotations

import argparse
import os
import sys

from . import examples


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
    build = commands.add_parser("build-template", help="write workbook_template.xlsm from code")
    build.add_argument("path", nargs="?", default="workbook_template.xlsm")
    recalc = commands.add_parser(
        "recalc", help="recalculate a workbook's formulas without Excel and print its checks"
    )
    recalc.add_argument("workbook")
    recalc.add_argument("-o", "--output", help="write the recalculated workbook here")
    return parser


def recalculate_and_report(workbook, output) -> int:
    """Recalculate ``workbook`` headless, optionally save it, print its check rows."""
    from . import recalc, report
    from .udfs import FUNCTIONS

    values = recalc.recalculate(workbook, FUNCTIONS, out_path=output)
    print(f"Recalculated {len(values.formulas):,} formulas ({len(values):,} cells) in {workbook}"
          + (f"; saved to {output}" if output else ""))
    for (sheet, anchor), (declared, found) in values.spill_mismatches.items():
        print(f"WARNING {sheet}!{anchor}: the result is {found[0]}x{found[1]} but the file spills "
              f"{declared[0]}x{declared[1]} cells; resize it in Excel (or press the sheet's button)")
    checks = report.find_checks(workbook, values, values.formulas)
    print(report.format_checks(checks))
    return 1 if any(not check.passed for check in checks) else 0


def main(argv=None) -> int:
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars from the formulas package
    arguments = build_parser().parse_args(argv)
    if arguments.command == "examples":
        return print_examples()
    if arguments.command == "build-template":
        from .template import build_template

        print(f"Wrote {build_template(arguments.path)}")
        return 0
    if arguments.command == "recalc":
        return recalculate_and_report(arguments.workbook, arguments.output)
    if arguments.command == "reference":
        from .reference import markdown_table

        print(markdown_table())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
