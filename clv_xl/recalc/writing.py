"""Writing values into a workbook package: cached results beside the formulas, or a values-only copy."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .package import (CELL_ELEMENT, CellKey, copy_package, relationships, relationships_part,
                      sheet_parts)

_FORMULA = re.compile(r"<f\b.*?(?:/>|</f>)", re.S)
_CELL_REF = re.compile(r'\sr="([^"]+)"')
_SPILL_METADATA = re.compile(r'\scm="[^"]*"')
_MACRO_BUTTON = re.compile(r"<v:shape\b(?:(?!</v:shape>).)*?<x:FmlaMacro>.*?</v:shape>", re.S)
_VBA_CONTENT_TYPE = re.compile(
    r'<(?:Default|Override)\b[^>]*ContentType="application/vnd\.ms-office\.vbaProject"[^>]*/>')

MACRO_ENABLED_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MACRO_FREE_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
#: Relationship types (last path segment) of the workbook parts a values-only copy leaves out.
VALUES_ONLY_DROPPED = ("vbaProject", "sheetMetadata")


def _cell_xml(attrs: str, formula: str, value: Any) -> str:
    """A ``<c>`` element with attributes ``attrs`` (its ``t`` replaced), ``formula`` (may be "") and ``value``."""
    attrs = re.sub(r'\st="[^"]*"', "", attrs)
    if value is None:
        return f"<c{attrs}>{formula}</c>" if formula else f"<c{attrs}/>"
    if isinstance(value, bool):
        kind, text = "b", "1" if value else "0"
    elif isinstance(value, (int, float)):
        kind, text = "", repr(float(value)) if isinstance(value, float) else str(value)
        if text.endswith(".0"):
            text = text[:-2]
    elif isinstance(value, str) and value in _ERRORS:
        kind, text = "e", value
    elif formula:
        kind, text = "str", escape(str(value))
    else:
        return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'
    type_attr = f' t="{kind}"' if kind else ""
    return f"<c{attrs}{type_attr}>{formula}<v>{text}</v></c>"


_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}


def _cells_by_sheet(values: Mapping[CellKey, Any]) -> dict[str, dict[str, Any]]:
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, cell), value in values.items():
        by_sheet.setdefault(sheet, {})[cell.upper()] = value
    return by_sheet


def _rewrite_cells(xml: str, sheet: str, cells: Mapping[str, Any], *, keep_formulas: bool) -> str:
    """Worksheet ``xml`` with the value of each cell in ``cells`` written into its ``<c>`` element.

    ``keep_formulas``: a cell keeps its ``<f>`` and the value becomes its cached result;
    otherwise the formula and the dynamic-array ``cm`` attribute go, and a formula cell
    missing from ``cells`` is an error.  Raises ``KeyError`` for a cell of ``cells`` that
    is not in the sheet XML, or (values only) a formula cell without a value.
    """
    remaining = dict(cells)
    without_value = []

    def replace(match: re.Match[str]) -> str:
        attrs = match.group("attrs")
        ref = _CELL_REF.search(attrs)
        ref = ref.group(1) if ref else ""
        if ref not in remaining and keep_formulas:
            return match.group(0)
        formula = _FORMULA.search(match.group("body") or "")
        if ref in remaining:
            if keep_formulas:
                return _cell_xml(attrs, formula.group(0) if formula else "", remaining.pop(ref))
            return _cell_xml(_SPILL_METADATA.sub("", attrs), "", remaining.pop(ref))
        if formula:
            without_value.append(ref)
        return match.group(0)

    head, sep, tail = xml.partition("<sheetData")
    xml = head + sep + CELL_ELEMENT.sub(replace, tail)
    if remaining:
        raise KeyError(f"cells not in {sheet!r}: {sorted(remaining)}")
    if without_value:
        raise KeyError(f"formula cells without a value in {sheet!r}: {without_value}")
    return xml


def write_values(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    values: Mapping[CellKey, Any],
) -> None:
    """Copy the package ``src`` to ``dst`` with the given cell values cached.

    Only ``<c>`` elements of the named cells change (their ``<v>``/``t``; formulas
    kept); every other part is copied byte for byte.  Every cell must exist in the
    sheet XML (XlsxWriter writes every cell of an array formula's range).
    """
    with zipfile.ZipFile(src) as package:
        parts = sheet_parts(package)
        replaced = {parts[sheet]: _rewrite_cells(package.read(parts[sheet]).decode("utf-8"), sheet, cells,
                                                 keep_formulas=True)
                    for sheet, cells in _cells_by_sheet(values).items()}
        copy_package(package, Path(dst), replaced)


def check_values_only_path(path: str | os.PathLike[str] | None) -> None:
    """Raise ``ValueError`` unless ``path`` names an ``.xlsx`` file (what a values-only copy is)."""
    if path is None or Path(path).suffix.lower() != ".xlsx":
        given = "none given" if path is None else f"got {path}"
        raise ValueError(f"a values-only copy is a macro-free .xlsx workbook: give an output path "
                         f"ending in .xlsx ({given})")


def _without_macro_buttons(package: zipfile.ZipFile, part: str, sheet_xml: str
                           ) -> tuple[str, dict[str, str], set[str]]:
    """The worksheet ``part`` without its form-control buttons that run macros.

    Returns the new sheet XML, the other parts changed (VML drawings, the sheet's
    relationships) and the parts to drop (a VML drawing left without shapes).
    """
    replaced: dict[str, str] = {}
    dropped: set[str] = set()
    rels_part = relationships_part(part)
    for rel in relationships(package, part):
        if rel.kind != "vmlDrawing":
            continue
        vml = package.read(rel.target).decode("utf-8")
        kept = _MACRO_BUTTON.sub("", vml)
        if kept == vml:
            continue
        if re.search(r"<v:shape\b", kept):
            replaced[rel.target] = kept
            continue
        dropped.add(rel.target)
        rels = replaced.get(rels_part) or package.read(rels_part).decode("utf-8")
        replaced[rels_part] = rels.replace(rel.element, "")
        sheet_xml = re.sub(rf'<legacyDrawing\b[^>]*\br:id="{re.escape(rel.id)}"[^>]*/>', "", sheet_xml)
    return sheet_xml, replaced, dropped


def write_values_only(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    values: Mapping[CellKey, Any],
) -> None:
    """Copy the workbook ``src`` to the ``.xlsx`` file ``dst`` with every formula replaced by its value.

    Parameters
    ----------
    src : path-like
        An ``.xlsx`` or ``.xlsm`` package.
    dst : path-like
        Where to write the copy; must end in ``.xlsx``.
    values : mapping
        ``{(sheet, cell): value}`` for every formula cell and every cell of an array
        formula (what :func:`recalculate` returns); any other cell named gets the value too.

    Notes
    -----
    Sheets, formatting, charts (with their cached data) and defined names are kept.
    Left out: the VBA project, the dynamic-array metadata (``cm`` attributes and
    ``xl/metadata.xml``, so no cell claims to be a spill) and the form-control buttons
    that run macros.  The workbook part gets the macro-free content type.  Text results
    are written as inline strings and error values (``"#N/A"``) as errors.

    Raises
    ------
    ValueError
        If ``dst`` does not end in ``.xlsx``.
    KeyError
        If a cell of ``values`` is not in its sheet, or a formula cell has no value.
    """
    check_values_only_path(dst)
    by_sheet = _cells_by_sheet(values)
    with zipfile.ZipFile(src) as package:
        parts = sheet_parts(package)
        unknown = set(by_sheet) - set(parts)
        if unknown:
            raise KeyError(f"no such sheets: {sorted(unknown)}")
        replaced: dict[str, str] = {}
        dropped: set[str] = set()
        for sheet, part in parts.items():
            xml = _rewrite_cells(package.read(part).decode("utf-8"), sheet, by_sheet.get(sheet, {}),
                                 keep_formulas=False)
            replaced[part], drawings, unused = _without_macro_buttons(package, part, xml)
            replaced.update(drawings)
            dropped |= unused
        workbook_rels = package.read(relationships_part("xl/workbook.xml")).decode("utf-8")
        for rel in relationships(package, "xl/workbook.xml"):
            if rel.kind in VALUES_ONLY_DROPPED:
                workbook_rels = workbook_rels.replace(rel.element, "")
                dropped.add(rel.target)
        replaced[relationships_part("xl/workbook.xml")] = workbook_rels
        types = package.read("[Content_Types].xml").decode("utf-8")
        types = _VBA_CONTENT_TYPE.sub("", types.replace(MACRO_ENABLED_WORKBOOK, MACRO_FREE_WORKBOOK))
        for part in dropped:
            types = re.sub(rf'<Override\b[^>]*\bPartName="/{re.escape(part)}"[^>]*/>', "", types)
        replaced["[Content_Types].xml"] = types
        copy_package(package, Path(dst), replaced, frozenset(dropped))
