"""Reading a workbook package (``.xlsx``/``.xlsm``) from its XML: parts, relationships, cells and formulas."""

from __future__ import annotations

import html
import os
import posixpath
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

CellKey = tuple[str, str]  # (sheet name as in the workbook, "B7")


def cells_of(ref: str) -> list[list[str]]:
    """"A1:B2" -> [["A1", "B1"], ["A2", "B2"]]."""
    from openpyxl.utils.cell import rows_from_range

    return [list(row) for row in rows_from_range(ref.upper())]


CELL_ELEMENT = re.compile(r'<c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.S)
XML_ATTRIBUTE = re.compile(r'\s([\w:]+)="([^"]*)"')


class Relationship(NamedTuple):
    element: str  # the <Relationship .../> element as written
    id: str
    kind: str  # last segment of the relationship type: "worksheet", "vmlDrawing", ...
    target: str  # the target part's name in the package


def relationships_part(part: str) -> str:
    """"xl/workbook.xml" -> "xl/_rels/workbook.xml.rels"."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def relationships(package: zipfile.ZipFile, part: str) -> list[Relationship]:
    """Relationships of ``part`` (none if it has no ``.rels`` part), targets resolved to part names."""
    folder = posixpath.dirname(part)
    rels_part = relationships_part(part)
    if rels_part not in package.namelist():
        return []
    found = []
    for element in re.findall(r"<Relationship\b[^>]*>", package.read(rels_part).decode("utf-8")):
        attrs = dict(XML_ATTRIBUTE.findall(" " + element[len("<Relationship"):]))
        target = attrs.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found.append(Relationship(element, attrs.get("Id", ""), attrs.get("Type", "").rsplit("/", 1)[-1], target))
    return found


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part, from workbook.xml and its relationships."""
    workbook = package.read("xl/workbook.xml").decode("utf-8")
    targets = {rel.id: rel.target for rel in relationships(package, "xl/workbook.xml")}
    parts = {}
    for sheet in re.findall(r"<sheet\b[^>]*/>", workbook):
        attrs = dict(XML_ATTRIBUTE.findall(" " + sheet[len("<sheet"):]))
        parts[html.unescape(attrs["name"])] = targets[attrs["r:id"]]
    return parts


def copy_package(package: zipfile.ZipFile, dst: Path, replaced: Mapping[str, str],
                 dropped: frozenset[str] = frozenset()) -> None:
    """Copy ``package`` to ``dst`` (through a temporary file) with parts ``replaced`` and ``dropped``."""
    # A temporary name beside dst, created as any new file is (permissions from the umask).
    tmp_path = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as out:
            for info in package.infolist():
                if info.filename in dropped:
                    continue
                data = replaced.get(info.filename)
                out.writestr(info, data.encode("utf-8") if data is not None else package.read(info.filename))
        os.replace(tmp_path, dst)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def formula_cells(path: str | os.PathLike[str]) -> tuple[dict[CellKey, str], dict[CellKey, str]]:
    """``(formulas, array_refs)`` of a workbook, as openpyxl reads them.

    ``formulas``: ``{(sheet, cell): "=..."}`` for each formula cell (anchors only for
    array formulas).  ``array_refs``: ``{(sheet, anchor): "C1:D3"}`` for array
    formulas, dynamic ones (XlsxWriter ``write_dynamic_array_formula``) included.
    """
    found, arrays, _values, _extents = read_package(path)
    return found, arrays


class PackageCells(NamedTuple):
    """What :func:`read_package` reads from a workbook."""

    #: ``{(sheet, cell): "=..."}``, shared formulas translated to each cell (as openpyxl does)
    formulas: dict[CellKey, str]
    #: ``{(sheet, anchor): "C1:D3"}`` of the array formulas
    arrays: dict[CellKey, str]
    #: ``{sheet: {(row, column): value}}`` of the other cells, as the ``formulas`` engine holds them
    values: dict[str, dict[tuple[int, int], Any]]
    #: ``{sheet: (last row, last column)}`` of the cells in the file
    extents: dict[str, tuple[int, int]]


_SHARED_STRING = re.compile(r"<si>(.*?)</si>|<si/>", re.S)
_PHONETIC_RUN = re.compile(r"<rPh\b.*?</rPh>", re.S)
_TEXT = re.compile(r"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_VALUE = re.compile(r"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
_FORMULA_PARTS = re.compile(r"<f\b(?P<attrs>[^>]*?)(?:/>|>(?P<text>.*?)</f>)", re.S)
_HEX_ESCAPE = re.compile(r"_x([0-9A-Z]{4})_")


def _text_of(xml: str) -> str:
    """The text of a string item (``<t>`` and rich-text runs, phonetic runs left out), unescaped."""
    return html.unescape("".join(_TEXT.findall(_PHONETIC_RUN.sub("", xml))))


def _shared_strings(package: zipfile.ZipFile) -> list[str]:
    """The shared-string table as ``formulas``' reader reads it (``_xHHHH_`` escapes decoded)."""
    parts = [rel.target for rel in relationships(package, "xl/workbook.xml") if rel.kind == "sharedStrings"]
    if not parts:
        return []
    strings = []
    for found in _SHARED_STRING.finditer(package.read(parts[0]).decode("utf-8")):
        text = _text_of(found.group(1) or "")
        if "_x" in text:
            text = _HEX_ESCAPE.sub(lambda code: chr(int(code.group(1), 16)), text)
        strings.append(text.replace("x005F_", ""))
    return strings


def _cell_value(kind: str, body: str, strings: list[str]) -> Any:
    """A constant cell's value as ``formulas`` holds it (openpyxl's reader with dates left as
    numbers, then ``ExcelModel.compile_cell``: floats rounded to 15 digits, errors as ``XlError``)."""
    from formulas.tokens.operand import Error
    from openpyxl.utils.datetime import from_ISO8601

    if kind == "inlineStr":
        inline = re.search(r"<is>(.*?)</is>", body, re.S)
        return _text_of(inline.group(1)) if inline else None
    found = _VALUE.search(body)
    text = html.unescape(found.group(1)) if found else ""
    if not text:
        return None
    if kind == "n":
        return round(float(text), 15) if any(mark in text for mark in ".Ee") else int(text)
    if kind == "s":
        return strings[int(text)]
    if kind == "b":
        return bool(int(text))
    if kind == "e":
        return Error.errors.get(text, text)
    if kind == "d":
        return from_ISO8601(text)
    return text


def read_package(path: str | os.PathLike[str]) -> PackageCells:
    """Formulas and values of every cell of the workbook at ``path``, read from its XML.

    The same cells, formulas and values that ``formulas``' openpyxl-based reader
    gives, about ten times faster: openpyxl builds an object per cell.  Cells must
    carry their reference (``r``), as Excel, LibreOffice and XlsxWriter write them.
    """
    from openpyxl.formula.translate import Translator
    from openpyxl.utils.cell import coordinate_to_tuple

    found: dict[CellKey, str] = {}
    arrays: dict[CellKey, str] = {}
    values: dict[str, dict[tuple[int, int], Any]] = {}
    extents: dict[str, tuple[int, int]] = {}
    with zipfile.ZipFile(path) as package:
        strings = _shared_strings(package)
        for sheet, part in sheet_parts(package).items():
            table = values.setdefault(sheet, {})
            shared: dict[str, Translator] = {}
            last_row = last_column = 0
            xml = package.read(part).decode("utf-8").partition("<sheetData")[2]
            for cell in CELL_ELEMENT.finditer(xml):
                attrs = dict(XML_ATTRIBUTE.findall(cell.group("attrs")))
                if "r" not in attrs:
                    raise ValueError(f"{path}: a cell of sheet {sheet!r} has no reference (r)")
                row, column = coordinate_to_tuple(attrs["r"])
                body = cell.group("body") or ""
                formula = _FORMULA_PARTS.search(body)
                if formula is None:
                    value = _cell_value(attrs.get("t", "n"), body, strings)
                    if value is not None:
                        table[(row, column)] = value
                else:
                    options = dict(XML_ATTRIBUTE.findall(formula.group("attrs")))
                    text = "=" + html.unescape(formula.group("text") or "")
                    if options.get("t") == "shared" and options.get("si") in shared:
                        text = shared[options["si"]].translate_formula(attrs["r"])
                    elif options.get("t") == "shared" and text != "=":
                        shared[options["si"]] = Translator(text, attrs["r"])
                    if options.get("t") == "array":
                        arrays[(sheet, attrs["r"])] = options["ref"]
                    if options.get("t") != "dataTable":
                        found[(sheet, attrs["r"])] = text
                last_row, last_column = max(last_row, row), max(last_column, column)
            extents[sheet] = (last_row, last_column)
    return PackageCells(found, arrays, values, extents)


def cached_values(path: str | os.PathLike[str], cells: Mapping[CellKey, Any] | None = None) -> dict[CellKey, Any]:
    """Values cached in the file (openpyxl ``data_only=True``) for ``cells``.

    Default: every formula cell and every cell of an array formula.
    """
    import openpyxl

    if cells is None:
        found, arrays = formula_cells(path)
        keys = output_cells(found, arrays)
    else:
        keys = list(cells)
    book = openpyxl.load_workbook(path, data_only=True)
    try:
        return {(s, c): book[s][c].value for s, c in keys}
    finally:
        book.close()


def output_cells(found: Mapping[CellKey, str], arrays: Mapping[CellKey, str]) -> list[CellKey]:
    keys = dict.fromkeys(found)
    for (sheet, _anchor), ref in arrays.items():
        for row in cells_of(ref):
            for cell in row:
                keys.setdefault((sheet, cell))
    return list(keys)
