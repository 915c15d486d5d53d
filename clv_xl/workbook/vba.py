"""VBA for the workbook template: xlwings wrappers, the standalone module, vbaProject.bin.

Everything here runs on Linux without Excel:

* :func:`udf_wrappers_vba` writes the ``xlwings_udfs`` module exactly as xlwings'
  "Import Functions" (``ImportPythonUDFs`` -> ``xlwings.udfs.import_udfs``) writes
  it, by calling xlwings' own ``generate_vba_wrapper``.  On Linux ``xw.func``,
  ``xw.arg`` and ``xw.ret`` are no-ops that record nothing (no ``__xlfunc__``), so
  the UDF module is executed once more with xlwings' Windows decorators
  (``xlwings.udfs.xlfunc``/``xlarg``/``xlret``) swapped in; ``xlwings.udfs``
  itself is imported behind stand-ins for pywin32, which it names at import time
  only.
* :func:`xlwings_standalone_vba` returns the ``xlwings`` VBA module that
  ``xlwings quickstart --standalone`` embeds (the package's ``xlwings.bas``,
  identical to the module inside ``quickstart_standalone.xlsm``), and
  :func:`xlwings_dictionary_class_vba` the ``Dictionary`` class module that
  workbook also carries (needed by the module on macOS only).
* :func:`build_vba_project` makes a ``vbaProject.bin`` with pyOpenVBA holding the
  given modules plus the document modules (``ThisWorkbook``, ``Sheet1``...) whose
  code names XlsxWriter writes; :func:`attach_vba_project` does that for an
  ``xlsxwriter.Workbook`` whose sheets are all added.
* :func:`read_vba_modules` reads the modules back with oletools' olevba.

VBA sources use CRLF line ends, as the VBA editor stores them.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import sys
import tempfile
import types
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Name of the module "Import Functions" creates (``import_udfs`` hard-codes it).
UDF_MODULE_NAME = "xlwings_udfs"
#: Name of the standalone xlwings module (``Attribute VB_Name`` in ``xlwings.bas``).
STANDALONE_MODULE_NAME = "xlwings"
#: Class module the standalone workbook carries for ``GetConfigFromSheet`` on macOS.
DICTIONARY_CLASS_NAME = "Dictionary"
#: The sheet xlwings reads settings from: keys in column A from A1 down, values in B.
CONF_SHEET_NAME = "xlwings.conf"
#: Code name XlsxWriter gives the workbook once a VBA project is added.
WORKBOOK_CODENAME = "ThisWorkbook"


def crlf(text: str) -> str:
    """``text`` with every line end as CRLF, the form VBA stores."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


# ---------------------------------------------------------------------------
# xlwings' own UDF machinery, importable on Linux
# ---------------------------------------------------------------------------


def _xlwings_package_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent


def xlwings_udfs_module() -> types.ModuleType:
    """``xlwings.udfs`` (the Windows UDF module), imported on any platform.

    It imports ``pythoncom``, ``pywintypes`` and ``win32com.client`` at module level
    but uses them only when talking to Excel; where pywin32 is missing, stand-ins
    are put in ``sys.modules`` for the import and taken out again afterwards.
    """
    if "xlwings.udfs" in sys.modules:
        return sys.modules["xlwings.udfs"]
    added: list[str] = []
    try:
        for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
            try:
                importlib.import_module(name)
            except ImportError:
                sys.modules[name] = types.ModuleType(name)
                added.append(name)
        if "pythoncom" in added:
            sys.modules["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
        if "pywintypes" in added:
            sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
        if "win32com.client" in added:
            sys.modules["win32com.client"].Dispatch = None  # type: ignore[attr-defined]
            sys.modules["win32com"].client = sys.modules["win32com.client"]  # type: ignore[attr-defined]
        return importlib.import_module("xlwings.udfs")
    finally:
        for name in added:
            sys.modules.pop(name, None)


@contextlib.contextmanager
def _windows_decorators() -> Iterator[None]:
    """Make ``xw.func``/``xw.arg``/``xw.ret``/``xw.sub`` the recording Windows versions."""
    import xlwings

    udfs = xlwings_udfs_module()
    real = {"func": udfs.xlfunc, "arg": udfs.xlarg, "ret": udfs.xlret,
            "sub": udfs.xlsub, "script": udfs.xlsub}
    saved = {name: getattr(xlwings, name) for name in real}
    try:
        for name, value in real.items():
            setattr(xlwings, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(xlwings, name, value)


def _has_xlfuncs(module: types.ModuleType) -> bool:
    return any(hasattr(getattr(module, attr), "__xlfunc__") for attr in dir(module))


def load_udf_module(module: str | types.ModuleType) -> types.ModuleType:
    """The UDF module with xlwings' metadata (``__xlfunc__``) on its functions.

    A module whose functions already carry ``__xlfunc__`` (as on Windows) is
    returned as is.  Otherwise the module's file is executed again, as a new module
    object under the same name, with the Windows decorators in place; ``sys.modules``
    is left as it was, so the module the rest of the program uses is untouched.
    The UDF module must decorate through the ``xlwings`` module (``@xw.func`` or
    ``from xlwings import func`` at import time), as xlwings' docs show.
    """
    if isinstance(module, types.ModuleType):
        if _has_xlfuncs(module):
            return module
        name = module.__name__
    else:
        name = module
        already = sys.modules.get(name)
        if already is not None and _has_xlfuncs(already):
            return already
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find the UDF module {name!r}")
    fresh = importlib.util.module_from_spec(spec)
    missing = object()
    previous = sys.modules.get(name, missing)
    sys.modules[name] = fresh  # so that dataclasses, pickling etc. see it while it runs
    try:
        with _windows_decorators():
            spec.loader.exec_module(fresh)
    finally:
        if previous is missing:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous  # type: ignore[assignment]
    return fresh


def udf_infos(module: str | types.ModuleType) -> dict[str, dict[str, Any]]:
    """``{excel_name: __xlfunc__}`` for every xlwings function of the module.

    The Excel name is what xlwings uses: the Python function's ``__name__``
    (xlwings' VBA path ignores a ``name=`` keyword of ``xw.func``).  Sorted as
    ``dir()`` sorts, which is the order xlwings writes the wrappers in.
    """
    loaded = load_udf_module(module)
    infos: dict[str, dict[str, Any]] = {}
    for attr in dir(loaded):
        xlfunc = getattr(getattr(loaded, attr), "__xlfunc__", None)
        if xlfunc is not None:
            infos[xlfunc["name"]] = xlfunc
    return infos


def udf_vba_arguments(xlfunc: Mapping[str, Any]) -> list[str]:
    """The argument list of a wrapper as xlwings writes it: ``["a", "Optional b"]``.

    Mirrors ``generate_vba_wrapper``: arguments with a ``vba=`` expression are not
    parameters of the wrapper; a Python default makes it ``Optional``; ``*args``
    becomes ``ParamArray args()``.  Tests compare this with the generated source.
    """
    out = []
    for arg in xlfunc["args"]:
        if arg["name"] == "caller" or arg["vba"]:
            continue
        if "optional" in arg:
            out.append("Optional " + arg["name"])
        elif arg["vararg"]:
            out.append("ParamArray " + arg["name"] + "()")
        else:
            out.append(arg["name"])
    return out


def udf_wrappers_vba(
    module_name: str,
    module: types.ModuleType | None = None,
    *,
    workbook_name: str = "workbook_template.xlsm",
) -> str:
    """Source of the ``xlwings_udfs`` module, as "Import Functions" writes it.

    ``module_name`` is the importable name written into each wrapper's
    ``XLPy.CallUDF("<module_name>", ...)`` call, i.e. what the ``UDF Modules``
    setting says (``"clv_xl.udfs"``).  ``module`` defaults to importing that name.
    ``workbook_name`` matters only for its extension: an ``.xlam`` gets
    ``ActiveWorkbook`` instead of ``ThisWorkbook`` in the calls, as in xlwings.
    The header lines are those ``xlwings.udfs.import_udfs`` writes.
    """
    udfs = xlwings_udfs_module()
    loaded = load_udf_module(module if module is not None else module_name)
    buffer = io.StringIO()
    buffer.write(f'Attribute VB_Name = "{UDF_MODULE_NAME}"\n')
    buffer.write("'Autogenerated code by xlwings - changes will be lost with next import!\n")
    buffer.write("""#Const App = "Microsoft Excel" 'Adjust when using outside of Excel\n""")
    udfs.generate_vba_wrapper(module_name, loaded, buffer, types.SimpleNamespace(Name=workbook_name))
    return crlf(buffer.getvalue())


# ---------------------------------------------------------------------------
# The standalone xlwings module and other VBA sources
# ---------------------------------------------------------------------------


def xlwings_standalone_vba() -> str:
    """The ``xlwings`` VBA module that ``xlwings quickstart --standalone`` embeds.

    Read from the installed package's ``xlwings.bas`` (what ``xlwings copy vba``
    copies too); it is byte-for-byte the module inside the package's
    ``quickstart_standalone.xlsm``, which ``quickstart --standalone`` just copies.
    It starts with ``Attribute VB_Name = "xlwings"`` and pins the xlwings version
    (``xlwings64-<version>.dll``), so the Python side must run the same xlwings.
    """
    return crlf((_xlwings_package_dir() / "xlwings.bas").read_text(encoding="utf-8"))


def xlwings_dictionary_class_vba() -> str:
    """The ``Dictionary`` class module of ``quickstart_standalone.xlsm`` (VBA-Dictionary, MIT).

    ``xlwings.bas`` declares ``Dim d As Dictionary`` under ``#If Mac``; on Windows
    it uses late-bound ``Scripting.Dictionary`` and needs no reference.  Extracted
    at build time from the installed package's workbook.
    """
    modules = read_vba_modules(_xlwings_package_dir() / "quickstart_standalone.xlsm")
    return modules[DICTIONARY_CLASS_NAME]


def macros_vba(macros: Mapping[str, str], module_name: str = "clv_macros") -> str:
    """A standard module with one ``Sub`` per button: ``{"RefreshAll": "import m; m.f()"}``.

    Each Sub calls the standalone module's ``RunPython`` with the given Python code.
    """
    lines = [f'Attribute VB_Name = "{module_name}"', "Option Explicit", ""]
    for sub, code in macros.items():
        lines += [f"Sub {sub}()", f'    RunPython "{code.replace(chr(34), chr(34) * 2)}"', "End Sub", ""]
    return crlf("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# vbaProject.bin
# ---------------------------------------------------------------------------


def _vba_name(source: str) -> str | None:
    first = source.lstrip().split("\n", 1)[0].strip()
    prefix = "Attribute VB_Name = "
    if first.startswith(prefix):
        return first[len(prefix):].strip().strip('"')
    return None


def build_vba_project(
    modules: Mapping[str, str],
    *,
    class_modules: Mapping[str, str] | None = None,
    sheet_codenames: Sequence[str] = ("Sheet1",),
    workbook_codename: str = WORKBOOK_CODENAME,
) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding the given modules.

    ``modules``: standard modules, name -> source (an ``Attribute VB_Name`` line
    is added when missing, and must match the name when present).
    ``class_modules``: class modules, name -> source (stream form or a VBE ``.cls``
    export).  ``sheet_codenames``: one document module per worksheet, in sheet
    order, named as the workbook's ``codeName``s are (XlsxWriter: ``Sheet1``,
    ``Sheet2``... by position unless ``worksheet.set_vba_name()`` says otherwise);
    ``workbook_codename`` likewise (XlsxWriter's default ``ThisWorkbook``).

    Built with pyOpenVBA as Excel builds a first project: a skeleton ``.xlsm``
    carrying those code names gets a project (``add_vba_project``), the modules are
    added, and ``xl/vbaProject.bin`` is taken out of the saved file.
    """
    import xlsxwriter
    from pyopenvba import ExcelFile, VBAModuleKind

    for name, source in list(modules.items()) + list((class_modules or {}).items()):
        declared = _vba_name(source)
        if declared is not None and declared != name:
            raise ValueError(f"module {name!r} declares Attribute VB_Name = {declared!r}")
    with tempfile.TemporaryDirectory(prefix="clv_vba_") as tmp:
        skeleton = os.path.join(tmp, "skeleton.xlsm")
        book = xlsxwriter.Workbook(skeleton)
        book.set_vba_name(workbook_codename)
        for place, code in enumerate(sheet_codenames, start=1):
            book.add_worksheet(f"S{place}").set_vba_name(code)
        book.close()
        done = os.path.join(tmp, "done.xlsm")
        with ExcelFile(skeleton) as wb:
            project = wb.add_vba_project()
            present = {m.name for m in project.modules}
            expected = {workbook_codename, *sheet_codenames}
            if present != expected:  # pragma: no cover - guards a pyOpenVBA change
                raise RuntimeError(f"document modules {sorted(present)} != {sorted(expected)}")
            for name, source in modules.items():
                project.add_module(name, crlf(source), kind=VBAModuleKind.standard)
            for name, source in (class_modules or {}).items():
                project.add_module(name, crlf(source), kind=VBAModuleKind.other)
            wb.save(done)
        with zipfile.ZipFile(done) as package:
            return package.read("xl/vbaProject.bin")


def attach_vba_project(
    workbook: Any,
    modules: Mapping[str, str],
    *,
    class_modules: Mapping[str, str] | None = None,
) -> bytes:
    """Give an ``xlsxwriter.Workbook`` a VBA project with these modules.

    Call after every worksheet is added (document modules follow the sheets).
    Sets the code names explicitly (workbook ``ThisWorkbook`` unless already set,
    sheets ``Sheet<n>`` by position unless already set), builds the project and
    adds it with ``add_vba_project(..., is_stream=True)``.  Chartsheets are
    refused: XlsxWriter would name them ``Sheet<n>`` where Excel says ``Chart<n>``;
    put charts on worksheets.  Returns the ``vbaProject.bin`` bytes.
    """
    if any(getattr(sheet, "is_chartsheet", False) for sheet in workbook.worksheets()):
        raise ValueError("chartsheets are not supported with a VBA project; use worksheet charts")
    if workbook.vba_codename is None:
        workbook.set_vba_name(WORKBOOK_CODENAME)
    codenames = []
    for sheet in workbook.worksheets():
        if sheet.vba_codename is None:
            sheet.set_vba_name()
        codenames.append(sheet.vba_codename)
    data = build_vba_project(modules, class_modules=class_modules, sheet_codenames=codenames,
                             workbook_codename=workbook.vba_codename)
    workbook.add_vba_project(io.BytesIO(data), is_stream=True)
    return data


def write_conf_sheet(workbook: Any, settings: Mapping[str, Any], *, name: str = CONF_SHEET_NAME) -> Any:
    """Add the ``xlwings.conf`` sheet: one ``key | value`` row per setting from A1 down.

    xlwings reads column A from A1 to the first blank (``End(xlDown)``), upper-cases
    the keys and takes column B; no header row.  Keys as in xlwings' quickstart
    sheet: ``"UDF Modules"``, ``"Interpreter_Win"``, ``"Interpreter_Mac"``,
    ``"PYTHONPATH"``, ``"Conda Path"``, ``"Conda Env"``, ``"Debug UDFs"``,
    ``"Use UDF Server"``, ``"Show Console"``.  Keys must be unique.
    """
    keys = [str(k).upper() for k in settings]
    if len(set(keys)) != len(keys) or "" in keys:
        raise ValueError("xlwings.conf keys must be unique and non-empty")
    sheet = workbook.add_worksheet(name)
    for row, (key, value) in enumerate(settings.items()):
        sheet.write_string(row, 0, str(key))
        if isinstance(value, bool):
            sheet.write_boolean(row, 1, value)
        elif value is not None:
            sheet.write(row, 1, value)
    return sheet


# ---------------------------------------------------------------------------
# Reading back
# ---------------------------------------------------------------------------


def read_vba_modules(source: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """``{module name: source}`` as oletools' olevba extracts them.

    ``source`` is a path to an ``.xlsm``/``vbaProject.bin`` or their bytes.  The
    sources include their ``Attribute`` lines and keep their CRLF line ends: for a
    module written by :func:`build_vba_project` the text equals what was put in.
    """
    from oletools.olevba import VBA_Parser

    if isinstance(source, bytes):
        parser = VBA_Parser("vba.bin", data=source)
    else:
        parser = VBA_Parser(os.fspath(source))
    try:
        out: dict[str, str] = {}
        for _filename, _stream, vba_filename, code in parser.extract_macros():
            name = vba_filename.rsplit(".", 1)[0]
            if isinstance(code, bytes):
                code = code.decode("latin-1")
            out[name] = code
        return out
    finally:
        parser.close()


def normalize_vba(text: str) -> str:
    """Source compared loosely: LF line ends, no trailing blank lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n"


def template_vba_modules(
    udf_module_name: str = "clv_xl.udfs",
    macros: Mapping[str, str] | None = None,
    *,
    udf_module: types.ModuleType | None = None,
    workbook_name: str = "workbook_template.xlsm",
) -> tuple[dict[str, str], dict[str, str]]:
    """``(standard_modules, class_modules)`` for the template, ready for :func:`attach_vba_project`.

    Standard: ``xlwings`` (standalone), ``xlwings_udfs`` (wrappers), and
    ``clv_macros`` when ``macros`` are given.  Class: ``Dictionary``.
    """
    standard = {
        STANDALONE_MODULE_NAME: xlwings_standalone_vba(),
        UDF_MODULE_NAME: udf_wrappers_vba(udf_module_name, udf_module, workbook_name=workbook_name),
    }
    if macros:
        standard["clv_macros"] = macros_vba(macros)
    return standard, {DICTIONARY_CLASS_NAME: xlwings_dictionary_class_vba()}


__all__: Iterable[str] = [
    "CONF_SHEET_NAME", "DICTIONARY_CLASS_NAME", "STANDALONE_MODULE_NAME", "UDF_MODULE_NAME",
    "WORKBOOK_CODENAME", "attach_vba_project", "build_vba_project", "crlf", "load_udf_module",
    "macros_vba", "normalize_vba", "read_vba_modules", "template_vba_modules", "udf_infos",
    "udf_vba_arguments", "udf_wrappers_vba", "write_conf_sheet", "xlwings_dictionary_class_vba",
    "xlwings_standalone_vba", "xlwings_udfs_module",
]
