"""Jupyter notebooks in: a student's .ipynb becomes one Python module the sandbox can load.

Jupyter's "Run all", kept where it matters for grading:
- code cells run in order; markdown and raw cells are ignored;
- a cell that raises does not stop the later ones: each cell is wrapped in try/except at run
  time, and the failure is printed to stderr and appended to `_tfgrade_failed_cells`, so a
  function defined after a broken experiment still exists when the checks call it;
- a cell with a syntax error is not run (as in Jupyter) and is reported;
- IPython-only syntax is rewritten by `tfgrade.intake.ipython_syntax`; each line whose effect is lost
  becomes a bilingual warning.
Every line of every cell keeps a line of its own in the produced module, so a traceback's
line number maps back to (code cell, line) through `NotebookSource.locate`.

"Code cell N" counts code cells only, from 1: markdown cells between them do not count.
Trusted side: reads JSON, never runs anything.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import nbformat

from tfgrade.errors import SubmissionError
from tfgrade.i18n import Msg
from tfgrade.intake.ipython_syntax import LineNote, rewrite_cell

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
# Names the produced module defines for itself; the sandbox loader may read the failures.
FAILED_CELLS_VARIABLE = "_tfgrade_failed_cells"
_SHOWN_LINE_CHARS = 80

CellStatus = Literal["run", "skipped", "syntax_error", "empty"]


@dataclass(frozen=True)
class CellSpan:
    """Where one code cell's lines sit in the produced module."""

    number: int  # 1-based among code cells: "celda de código N"
    index: int  # 0-based position among all the notebook's cells
    first_line: int  # module line of the cell's first line (1-based)
    line_count: int
    status: CellStatus


@dataclass(frozen=True)
class NotebookSource:
    """A notebook turned into one Python module, plus what the student should be told."""

    source: str
    warnings: tuple[Msg, ...]
    defined_functions: tuple[str, ...]
    cells: tuple[CellSpan, ...]

    def locate(self, lineno: int) -> tuple[int, int] | None:
        """(code cell number, line inside that cell) for a line of `source`, if it is a cell's."""
        for span in self.cells:
            if span.first_line <= lineno < span.first_line + span.line_count:
                return span.number, lineno - span.first_line + 1
        return None

    def where(self, lineno: int) -> Msg | None:
        """'celda de código 3, línea 2' for a line of `source`."""
        found = self.locate(lineno)
        if found is None:
            return None
        cell, line = found
        return Msg(f"celda de código {cell}, línea {line}", f"code cell {cell}, line {line}")


def _not_a_notebook(filename: str, why_es: str, why_en: str) -> SubmissionError:
    return SubmissionError(Msg(
        f"«{filename}» no se puede leer como cuaderno de Jupyter: {why_es}. "
        "Ábrelo en Jupyter o Colab y descárgalo de nuevo como .ipynb (Archivo → Descargar → .ipynb).",
        f"'{filename}' cannot be read as a Jupyter notebook: {why_en}. "
        "Open it in Jupyter or Colab and download it again as .ipynb (File → Download → .ipynb).",
    ))


def _parse_json(data: bytes, filename: str) -> dict[str, Any]:
    if len(data) > MAX_NOTEBOOK_BYTES:
        mb = MAX_NOTEBOOK_BYTES // (1024 * 1024)
        raise _not_a_notebook(filename, f"ocupa más de {mb} MB (borra las salidas grandes)",
                              f"it is larger than {mb} MB (clear the large outputs)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_a_notebook(filename, "no es texto UTF-8", "it is not UTF-8 text") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_a_notebook(
            filename, f"el JSON está dañado (línea {exc.lineno}, columna {exc.colno}: {exc.msg})",
            f"its JSON is broken (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("nbformat"), int):
        raise _not_a_notebook(filename, "es JSON pero no un cuaderno (falta «nbformat»)",
                              "it is JSON but not a notebook ('nbformat' is missing)")
    return obj


def read_notebook(data: bytes, filename: str, *, strict: bool = False) -> tuple[Any, tuple[Msg, ...]]:
    """Parse any nbformat 4.x notebook (3.x is converted) into a v4 NotebookNode.

    Jupyter opens notebooks that break the schema in small ways (a missing field in an
    output, say) with a mere warning; so do we unless `strict`. What cannot be read at all
    (not JSON, not a notebook, cells without source) raises SubmissionError.
    """
    obj = _parse_json(data, filename)
    major, minor = obj["nbformat"], obj.get("nbformat_minor", 0)
    if major not in (3, 4):
        raise _not_a_notebook(filename, f"usa el formato {major}, que no se admite (se admite 4.x)",
                              f"it uses format {major}, which is not supported (4.x is)")
    if major == 4 and not isinstance(obj.get("cells"), list):
        raise _not_a_notebook(filename, "no tiene lista de celdas («cells»)", "it has no 'cells' list")
    if major == 4:
        for cell in obj["cells"]:
            if isinstance(cell, dict):  # fields nbformat's reader needs; the schema check still reports them
                cell.setdefault("metadata", {})
                if cell.get("cell_type") == "code":
                    cell.setdefault("outputs", [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.versions[major].to_notebook_json(obj, minor=minor)
            nb = nbformat.convert(nb, 4)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises AttributeError/TypeError/KeyError on odd structure
        raise _not_a_notebook(filename, f"su estructura no es válida ({exc})",
                              f"its structure is not valid ({exc})") from None
    for position, cell in enumerate(nb.get("cells", [])):
        if not isinstance(cell, dict) or not isinstance(cell.get("source"), str):
            raise _not_a_notebook(filename, f"la celda {position + 1} no tiene código legible",
                                  f"cell {position + 1} has no readable source")
    schema_warnings: tuple[Msg, ...] = ()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        detail = str(exc).splitlines()[0][:200]
        if strict:
            raise _not_a_notebook(filename, f"no cumple el formato de Jupyter ({detail})",
                                  f"it does not follow the Jupyter format ({detail})") from None
        schema_warnings = (Msg(
            f"el cuaderno no cumple del todo el formato de Jupyter ({detail}); se usa su código igualmente",
            f"the notebook does not fully follow the Jupyter format ({detail}); its code is used anyway"),)
    return nb, schema_warnings


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_LINE_CHARS else text[: _SHOWN_LINE_CHARS - 1] + "…"


def _note_message(cell: int, note: LineNote) -> Msg:
    where = Msg(f"celda de código {cell}, línea {note.line}: se omitió `{_shown(note.text)}`: ",
                f"code cell {cell}, line {note.line}: skipped `{_shown(note.text)}`: ")
    if note.kind == "shell":
        why = Msg("los comandos de shell (!) no se ejecutan al calificar",
                  "shell commands (!) are not run while grading")
    elif note.kind == "help":
        why = Msg("la ayuda de IPython (?) no se usa al calificar", "IPython help (?) is not used while grading")
    else:
        why = Msg(f"la magia {note.magic} no está disponible al calificar",
                  f"the {note.magic} magic is not available while grading")
    return where + why


def _lines_inside_strings(text: str) -> set[int]:
    """1-based lines that begin inside a multi-line string: indenting them would change the string."""
    inside: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        start, end = token.start[0], token.end[0]
        if end > start and token.type not in (tokenize.NEWLINE, tokenize.NL):
            inside.update(range(start + 1, end + 1))
    return inside


def _wrapped_cell(lines: list[str], number: int) -> list[str]:
    """try/except around the cell; every cell line stays on a line of its own."""
    text = "\n".join(lines) + "\n"
    keep = _lines_inside_strings(text)
    body = [line if (i + 1 in keep or not line) else "    " + line for i, line in enumerate(lines)]
    return ["try:", *body, "    pass",
            "except (Exception, SystemExit) as _tfgrade_exc:",
            f"    _tfgrade_cell_failed({number}, _tfgrade_exc)"]


def _functions_defined(tree: ast.Module) -> list[str]:
    """Top-level functions, also those under a top-level if/try/with (`try: def f(): …`)."""
    names: list[str] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.If | ast.Try | ast.With):
            nested: list[ast.stmt] = list(node.body)
            nested += getattr(node, "orelse", []) + getattr(node, "finalbody", [])
            for handler in getattr(node, "handlers", []):
                nested += handler.body
            pending[:0] = nested
    return names


def _safe_comment(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


# The runtime helpers the produced module defines for itself. Its line count never changes,
# so cell positions are known before the table of cells is written into it.
_HEADER = '''\
# Generado por tfgrade a partir de {name}: las celdas de código corren en orden y una que falla no detiene las demás.
# Generated by tfgrade from {name}: code cells run in order and a failing cell does not stop the others.
{future}
import sys as _tfgrade_sys
_tfgrade_failed_cells = []
_tfgrade_cell_lines = {table}
def _tfgrade_report(cell, kind, text, at_cell, at_line):
    _tfgrade_failed_cells.append({{"cell": cell, "type": kind, "message": text, "at_cell": at_cell, "at_line": at_line}})
    where_es = where_en = ""
    if at_line is not None:
        where_es = f" (línea {{at_line}})" if at_cell == cell else f" (celda {{at_cell}}, línea {{at_line}})"
        where_en = f" (line {{at_line}})" if at_cell == cell else f" (cell {{at_cell}}, line {{at_line}})"
    print(f"[tfgrade] celda de código {{cell}} lanzó {{kind}}: {{text}}{{where_es}}; las demás celdas siguen", file=_tfgrade_sys.stderr)
    print(f"[tfgrade] code cell {{cell}} raised {{kind}}: {{text}}{{where_en}}; the other cells still run", file=_tfgrade_sys.stderr)
def _tfgrade_cell_failed(cell, exc):
    try:
        text = " ".join(str(exc).split())
    except Exception:
        text = "?"
    text = text if len(text) <= 300 else text[:299] + "…"
    here, found, tb = _tfgrade_cell_failed.__code__.co_filename, None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == here:
            found = tb.tb_lineno
        tb = tb.tb_next
    at_cell = at_line = None
    for number, first, count in _tfgrade_cell_lines:
        if found is not None and first <= found < first + count:
            at_cell, at_line = number, found - first + 1
    _tfgrade_report(cell, type(exc).__name__, text, at_cell, at_line)
def _tfgrade_cell_not_run(cell, line, text):
    _tfgrade_report(cell, "SyntaxError", text, cell, line)
'''
_HEADER_LINES = _HEADER.count("\n")
_EMPTY_SOURCE = "# tfgrade: el cuaderno no tiene código / the notebook has no code\n"


@dataclass
class _Block:
    span_number: int
    index: int
    status: CellStatus
    cell_lines: list[str]  # the lines that map 1:1 to the student's lines
    prefix: list[str]  # lines before them (try:)
    suffix: list[str]  # lines after them (except …)


def _convert_cell(source: str, number: int, index: int, filename: str,
                  warnings_out: list[Msg], functions: list[str], future: list[str]) -> _Block:
    if not source.strip():
        return _Block(number, index, "empty", [], [], [])
    rewrite = rewrite_cell(source)
    for note in rewrite.notes:
        warnings_out.append(_note_message(number, note))
    if rewrite.skipped_by is not None:
        magic = rewrite.skipped_by
        warnings_out.append(Msg(
            f"celda de código {number}: se omitió la celda entera (`{magic}`): las celdas {magic} no se ejecutan al calificar",
            f"code cell {number}: skipped the whole cell (`{magic}`): {magic} cells are not run while grading"))
        return _Block(number, index, "skipped", rewrite.lines, [], [])
    text = "\n".join(rewrite.lines) + "\n"
    shift = 0  # the wrapped cell has one line ("try:") above the student's first line
    try:
        compile(text, filename, "exec", dont_inherit=True)  # errors with the cell's own line numbers
        tree = ast.parse(text, filename)
        shift = 1
        wrapped = _wrapped_cell(rewrite.lines, number)
        compile("\n".join(wrapped) + "\n", filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, tokenize.TokenError) as exc:
        line = max(1, min((getattr(exc, "lineno", None) or 1) - shift, len(rewrite.lines)))
        reason = " ".join(str(getattr(exc, "msg", exc)).split())
        warnings_out.append(Msg(
            f"celda de código {number}, línea {line}: error de sintaxis ({reason}); la celda no se ejecuta al calificar",
            f"code cell {number}, line {line}: syntax error ({reason}); the cell is not run while grading"))
        commented = ["# " + line_ if line_ else line_ for line_ in rewrite.lines]
        return _Block(number, index, "syntax_error", commented, [],
                      [f"_tfgrade_cell_not_run({number}, {line}, {reason!r})"])
    functions.extend(name for name in _functions_defined(tree) if name not in functions)
    future.extend(name for name in rewrite.future_features if name not in future)
    body = wrapped[1:1 + len(rewrite.lines)]
    return _Block(number, index, "run", body, wrapped[:1], wrapped[1 + len(rewrite.lines):])


def notebook_to_source(data: bytes, filename: str, *, strict: bool = False) -> NotebookSource:
    """The notebook's code cells as one module that runs like Jupyter's "Run all"."""
    nb, found_warnings = read_notebook(data, filename, strict=strict)
    messages: list[Msg] = list(found_warnings)
    functions: list[str] = []
    future: list[str] = []
    blocks: list[_Block] = []
    code_cells = [(i, cell) for i, cell in enumerate(nb.cells) if cell.get("cell_type") == "code"]
    for number, (index, cell) in enumerate(code_cells, start=1):
        source = cell.source.replace("\x00", "")
        blocks.append(_convert_cell(source, number, index, filename, messages, functions, future))
    if all(block.status == "empty" for block in blocks):
        messages.append(Msg("el cuaderno no tiene código", "the notebook has no code"))
        spans = tuple(CellSpan(b.span_number, b.index, 0, 0, "empty") for b in blocks)
        return NotebookSource(_EMPTY_SOURCE, tuple(messages), (), spans)

    lines: list[str] = []
    spans_list: list[CellSpan] = []
    next_line = _HEADER_LINES + 1
    for block in blocks:
        lines += block.prefix
        first = next_line + len(block.prefix)
        spans_list.append(CellSpan(block.span_number, block.index, first, len(block.cell_lines), block.status))
        lines += block.cell_lines + block.suffix
        next_line = _HEADER_LINES + 1 + len(lines)
    table = tuple((s.number, s.first_line, s.line_count) for s in spans_list if s.line_count)
    header = _HEADER.format(
        name=_safe_comment(filename), table=repr(table),
        future=f"from __future__ import {', '.join(future)}" if future else "")
    source = header + "\n".join(lines) + "\n"
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # every cell compiled alone: this is our bug, say so clearly
        raise SubmissionError(Msg(f"no se pudo convertir «{filename}» a Python ({exc}); avisa al profesor",
                                  f"could not convert '{filename}' to Python ({exc}); tell your instructor")) from exc
    return NotebookSource(source, tuple(messages), tuple(functions), tuple(spans_list))
