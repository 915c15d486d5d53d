"""The ``clv-xl`` command: user mistakes give one line and exit code 2; the template ships in the wheel."""

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from clv_xl import cli
from clv_xl.workbook import sheets

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / sheets.TEMPLATE_NAME


def small_workbook(path, formulas=(("B1", "=A1*3", 6),)):
    """A one-sheet workbook ``S`` with 2 in A1 and the given ``(cell, formula, cached value)``."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    sheet.write_number("A1", 2)
    for cell, formula, value in formulas:
        sheet.write_formula(cell, formula, None, value)
    book.close()
    return path


def fails_with(capsys, argv, *words):
    """Run ``clv-xl argv``: exit code 2, one ``clv-xl: error:`` line naming ``words``, nothing on stdout."""
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("clv-xl: error: ")
    for word in words:
        assert word in err
    return err


@pytest.fixture
def umask_022():
    """Run the test under umask 022 (restored afterwards)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------------------
# recalc: the workbook
# ---------------------------------------------------------------------------


def test_recalc_missing_workbook(capsys, tmp_path):
    fails_with(capsys, ["recalc", str(tmp_path / "missing.xlsm")], "missing.xlsm: no such file")


def test_recalc_folder_as_workbook(capsys, tmp_path):
    fails_with(capsys, ["recalc", str(tmp_path)], "is a folder")


def test_recalc_not_a_workbook_name(capsys, tmp_path):
    data = tmp_path / "orders.csv"
    data.write_text("customer,date,amount\n")
    fails_with(capsys, ["recalc", str(data)], "orders.csv is not an Excel workbook", ".xlsx or .xlsm")


def test_recalc_text_file_renamed(capsys, tmp_path):
    renamed = tmp_path / "notes.xlsm"
    renamed.write_text("not a workbook\n")
    fails_with(capsys, ["recalc", str(renamed)], "notes.xlsm is damaged or not a workbook")


def test_recalc_truncated_workbook(capsys, tmp_path):
    truncated = tmp_path / "truncated.xlsm"
    truncated.write_bytes(TEMPLATE.read_bytes()[:50_000])
    fails_with(capsys, ["recalc", str(truncated)], "truncated.xlsm is damaged or not a workbook")


def test_recalc_corrupted_part(capsys, tmp_path):
    path = small_workbook(tmp_path / "corrupted.xlsx")
    with zipfile.ZipFile(path) as package:
        info = package.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for at in range(start + 5, start + info.compress_size - 5):
        data[at] ^= 0x55
    path.write_bytes(bytes(data))
    fails_with(capsys, ["recalc", str(path)], "corrupted.xlsx is damaged or not a workbook")


def test_recalc_zip_without_workbook_parts(capsys, tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("readme.txt", "hello")
    fails_with(capsys, ["recalc", str(path)], "archive.xlsx is not an Excel workbook", "xl/workbook.xml")


def test_recalc_circular_reference_names_the_cells(capsys, tmp_path):
    path = small_workbook(tmp_path / "circular.xlsx",
                          [("A2", "=B2+1", 0), ("B2", "=A2+1", 0), ("C2", "=A2*2", 0), ("D2", "=A1+1", 3)])
    err = fails_with(capsys, ["recalc", str(path)], "circular reference: S!A2, S!B2")
    assert "C2" not in err and "D2" not in err  # C2 only depends on the loop; D2 is fine


# ---------------------------------------------------------------------------
# recalc: the output
# ---------------------------------------------------------------------------


def test_recalc_output_folder_takes_the_workbook_name(capsys, tmp_path, umask_022):
    path = small_workbook(tmp_path / "book.xlsx")
    folder = tmp_path / "out"
    folder.mkdir()
    assert cli.main(["recalc", str(path), "-o", str(folder)]) == 0
    written = folder / "book.xlsx"
    assert f"saved to {written}" in capsys.readouterr().out
    assert sorted(folder.iterdir()) == [written]
    assert mode(written) == 0o644


def test_recalc_output_honours_the_umask(capsys, tmp_path):
    path = small_workbook(tmp_path / "book.xlsx")
    previous = os.umask(0o027)
    try:
        assert cli.main(["recalc", str(path), "-o", str(tmp_path / "out.xlsx")]) == 0
    finally:
        os.umask(previous)
    assert mode(tmp_path / "out.xlsx") == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out.xlsx"]  # no temporary left


def test_recalc_output_in_missing_folder(capsys, tmp_path):
    path = small_workbook(tmp_path / "book.xlsx")
    fails_with(capsys, ["recalc", str(path), "-o", str(tmp_path / "nowhere" / "out.xlsx")],
               "folder", "nowhere does not exist")


def test_recalc_output_onto_the_workbook_itself(capsys, tmp_path):
    path = small_workbook(tmp_path / "book.xlsx")
    before = path.read_bytes()
    fails_with(capsys, ["recalc", str(path), "-o", str(tmp_path)], "is the workbook itself")
    assert path.read_bytes() == before


# ---------------------------------------------------------------------------
# template and build-template
# ---------------------------------------------------------------------------


def test_template_writes_a_copy_in_the_current_folder(capsys, tmp_path, monkeypatch, umask_022):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["template"]) == 0
    written = tmp_path / sheets.TEMPLATE_NAME
    assert capsys.readouterr().out == f"Wrote {sheets.TEMPLATE_NAME}\n"
    assert written.read_bytes() == TEMPLATE.read_bytes()
    assert mode(written) == 0o644


def test_template_refuses_to_overwrite_without_force(capsys, tmp_path):
    target = tmp_path / "mine.xlsm"
    target.write_bytes(b"my own work")
    fails_with(capsys, ["template", str(target)], "mine.xlsm already exists", "--force")
    assert target.read_bytes() == b"my own work"
    assert cli.main(["template", str(target), "--force"]) == 0
    assert target.read_bytes() == TEMPLATE.read_bytes()


@pytest.mark.parametrize("command", ["template", "build-template"])
def test_template_commands_refuse_a_name_without_xlsm(capsys, tmp_path, command):
    fails_with(capsys, [command, str(tmp_path / "book.xlsx")], "book.xlsx", "ending in .xlsm")
    assert not (tmp_path / "book.xlsx").exists()


@pytest.mark.parametrize("command", ["template", "build-template"])
def test_template_commands_refuse_a_missing_folder(capsys, tmp_path, command):
    fails_with(capsys, [command, str(tmp_path / "nowhere" / "book.xlsm")], "nowhere does not exist")


def test_a_file_that_may_not_be_written_is_one_line(capsys, tmp_path, monkeypatch):
    def refuse(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(cli.shutil, "copyfile", refuse)
    fails_with(capsys, ["template", str(tmp_path / "locked.xlsm")], "locked.xlsm: permission denied")


def test_build_template_refuses_to_overwrite_without_force(capsys, tmp_path):
    target = tmp_path / "mine.xlsm"
    target.write_bytes(b"my own work")
    fails_with(capsys, ["build-template", str(target)], "mine.xlsm already exists", "--force")
    assert target.read_bytes() == b"my own work"


# ---------------------------------------------------------------------------
# A plain install (no [template] extra)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("command, module", [("recalc", "formulas"), ("build-template", "oletools")])
def test_commands_name_the_missing_extra(capsys, monkeypatch, tmp_path, command, module):
    monkeypatch.setitem(sys.modules, module, None)  # importlib finds no such module
    fails_with(capsys, [command, str(tmp_path / "book.xlsm")], module, '[template]"', 'pip install -e ".[template]"')


# ---------------------------------------------------------------------------
# The installed command and the wheel
# ---------------------------------------------------------------------------


def test_entry_point_exit_code_and_no_traceback(tmp_path):
    command = Path(sys.executable).with_name("clv-xl")
    done = subprocess.run([str(command), "recalc", "missing.xlsm"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "clv-xl: error: missing.xlsm: no such file\n"


def test_wheel_ships_the_template_and_the_license(tmp_path):
    """The sdist (MANIFEST.in) carries the template; the wheel built from it has it inside clv_xl/."""
    build_sdist = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    sdist = subprocess.run([sys.executable, "-c", build_sdist, str(tmp_path)], cwd=ROOT,
                           capture_output=True, text=True, check=True, timeout=120).stdout.splitlines()[-1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(tmp_path / sdist), "--no-deps",
                    "--no-build-isolation", "--quiet", "-w", str(tmp_path)], check=True, timeout=120)
    [wheel] = tmp_path.glob("clv_xl-*.whl")
    with zipfile.ZipFile(wheel) as package:
        names = package.namelist()
        assert package.read("clv_xl/workbook_template.xlsm") == TEMPLATE.read_bytes()
        licenses = [name for name in names if ".dist-info/" in name and name.endswith("/LICENSE")]
        assert [package.read(name) for name in licenses] == [(ROOT / "LICENSE").read_bytes()]
