"""The self-check inside a notebook: `%tfgrade check ex02_sequential` or `tfgrade.check(…)`.

In Jupyter or Colab, after `%load_ext tfgrade`, a student grades the code of the cells run
so far in this kernel session (IPython's raw input history, `In [1]` … `In [N]`) exactly as
`tfgrade check` grades a notebook file with those cells: the history becomes a notebook, the
notebook intake (`tfgrade.intake.notebooks`) turns it into the module the sandbox runs (magics
and shell escapes neutralised with warnings, a failing cell does not stop the others), and
`Grader.grade_file` grades it with the visible checks only. No file is needed (in Colab the
notebook lives in Drive); a temporary one is written only for the intake to read.

What is left out of the graded code: the tfgrade invocations themselves (`%load_ext tfgrade`,
`%tfgrade …`, `tfgrade.check(…)`), and in the cell that is running the check, everything from
the invocation on (it has not run yet).

The table is shown as HTML in the cell's output (Jinja, autoescape on, `templates/notebook_check.html.j2`),
in the student's language. The Grader, and with it the sandbox's zygote, stays alive for the
kernel's lifetime, so a second check costs a fork, not a TensorFlow import; it is closed when
the kernel exits.

This module is trusted-side code: it never imports TensorFlow, and the student's code runs
only in the sandbox, never in this kernel a second time.
"""

from __future__ import annotations

import ast
import atexit
import os
import re
import shlex
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfgrade.catalogue import GRADER
from tfgrade.engine.results import ExerciseResult
from tfgrade.errors import TfgradeError, UnknownExercise
from tfgrade.i18n import LANGS, Lang, default_lang

if TYPE_CHECKING:
    from tfgrade.engine.grader import Grader
    from tfgrade.pack.course import Exercise
    from tfgrade.runners.config import RunConfig

TEMPLATE = "notebook_check.html.j2"
# `%tfgrade …`, `%load_ext tfgrade`: IPython escapes, looked at only where a logical line starts.
_MAGIC_INVOCATION = re.compile(r"^\s*%tfgrade(?:\s|$)")
_EXTENSION_LINE = re.compile(r"^\s*%(?:load_ext|reload_ext|unload_ext)\s+tfgrade\s*(?:#.*)?$")
_CHECK_FUNCTIONS = frozenset({"check", "load_ipython_extension"})


# -- the cells run so far ------------------------------------------------------------------
def history_cells(ipython: Any) -> list[str]:
    """The raw source of every input of this kernel session, In [1] … In [N] (the last one
    is the cell running now: IPython stores an input before running it)."""
    manager = getattr(ipython, "history_manager", None)
    raw = getattr(manager, "input_hist_raw", None)
    if raw is None:
        raw = (getattr(ipython, "user_ns", {}) or {}).get("In") or [""]
    return [str(cell) for cell in list(raw)[1:]]


def _split(cell: str) -> list[str]:
    return cell.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _names_bound_to_check(cells: Sequence[str]) -> dict[str, str]:
    """Local names of `from tfgrade import check [as x]` anywhere in the history, each to
    the function it names."""
    names: dict[str, str] = {}
    for cell in cells:
        if "tfgrade" not in cell:
            continue
        tree = _parse(cell)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "tfgrade" and not node.level:
                names.update({alias.asname or alias.name: alias.name for alias in node.names
                              if alias.name in _CHECK_FUNCTIONS})
    return names


def _parse(cell: str) -> ast.Module | None:
    """The cell as Python (its IPython escapes neutralised first), or None if it is not."""
    from tfgrade.intake.ipython_syntax import rewrite_cell

    try:
        return ast.parse("\n".join(rewrite_cell(cell).lines) + "\n")
    except (SyntaxError, ValueError):
        return None


def _called(node: ast.AST, bound: dict[str, str]) -> str | None:
    """"check" or "load_ipython_extension" when `node` calls tfgrade's function of that name."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _CHECK_FUNCTIONS:
        return func.attr if isinstance(func.value, ast.Name) and func.value.id == "tfgrade" else None
    return bound.get(func.id) if isinstance(func, ast.Name) else None


@dataclass(frozen=True)
class _Invocation:
    first: int        # 0-based line of the cell
    last: int         # inclusive
    is_check: bool    # a check (the one running now, in the last cell), not the extension's set-up


def _invocations(cell: str, bound: dict[str, str]) -> list[_Invocation]:
    """Where tfgrade itself is invoked in a cell: magic lines, and top-level statements that
    are (or assign) a call of tfgrade.check / tfgrade.load_ipython_extension."""
    from tfgrade.intake.ipython_syntax import rewrite_cell

    lines = _split(cell)
    rewritten = rewrite_cell(cell).lines
    found: list[_Invocation] = []
    for index, (original, plain) in enumerate(zip(lines, rewritten, strict=False)):
        if original == plain:
            continue      # not an IPython escape at the start of a logical line
        if _MAGIC_INVOCATION.match(original):
            found.append(_Invocation(index, index, True))
        elif _EXTENSION_LINE.match(original):
            found.append(_Invocation(index, index, False))
    if "tfgrade" in cell or bound:
        tree = _parse(cell)
        statements = list(tree.body) if tree is not None else []
        for position, stmt in enumerate(statements):
            value = stmt.value if isinstance(stmt, ast.Expr | ast.Assign | ast.AnnAssign) else None
            called = _called(value, bound) if value is not None else None
            if called is None:
                continue
            first, last = stmt.lineno - 1, (stmt.end_lineno or stmt.lineno) - 1
            neighbours = statements[max(0, position - 1):position] + statements[position + 1:position + 2]
            if any(other.lineno - 1 <= last and (other.end_lineno or other.lineno) - 1 >= first
                   for other in neighbours):
                continue  # shares a line with other code (`x = 1; tfgrade.check(…)`): left as is
            found.append(_Invocation(first, last, called == "check"))
    return sorted(found, key=lambda inv: inv.first)


def graded_cells(cells: Sequence[str]) -> list[str]:
    """The history without tfgrade's own invocations; the last cell (the one running the
    check) only up to the check. Every cell keeps its place, so "code cell N" is In [N];
    a removed line becomes `pass` at its indentation, so the cell keeps its line numbers."""
    bound = _names_bound_to_check(cells)
    out: list[str] = []
    for number, cell in enumerate(cells):
        found = _invocations(cell, bound) if "tfgrade" in cell or bound else []
        if not found:
            out.append(cell)
            continue
        lines = _split(cell)
        if number == len(cells) - 1:
            check = next((inv for inv in found if inv.is_check), None)
            if check is not None:
                lines = lines[:check.first]
                found = [inv for inv in found if inv.last < check.first]
        for inv in found:
            indent = lines[inv.first][: len(lines[inv.first]) - len(lines[inv.first].lstrip())]
            lines[inv.first] = f"{indent}pass"
            for index in range(inv.first + 1, inv.last + 1):
                lines[index] = ""
        out.append("\n".join(lines))
    return out


def history_notebook(cells: Sequence[str]) -> bytes:
    """The cells as a notebook (.ipynb bytes): one code cell per input, in order."""
    import nbformat

    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    text: str = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    return text.encode("utf-8")


# -- the grader, warm for the kernel's lifetime --------------------------------------------
_GRADERS: dict[tuple[str, ...], tuple[RunConfig, Grader]] = {}
_LOCK = threading.Lock()


def _grader(isolation: str = "auto") -> tuple[RunConfig, Grader]:
    """One Grader per (pack, isolation) for this kernel: the sandbox's zygote
    imports TensorFlow once, and later checks only fork."""
    from tfgrade.runners.config import RunConfig

    key = (os.environ.get("TFGRADE_PACK", ""), isolation)      # the pack: $TFGRADE_PACK or the bundled one
    with _LOCK:
        if key not in _GRADERS:
            config = RunConfig.from_args({"command": "check", "isolation": isolation})
            _GRADERS[key] = (config, config.grader())
            if len(_GRADERS) == 1:
                atexit.register(close)
        return _GRADERS[key]


def close() -> None:
    """Stop the sandboxes this kernel started (also run when the kernel exits)."""
    with _LOCK:
        graders = [grader for _, grader in _GRADERS.values()]
        _GRADERS.clear()
    for grader in graders:
        try:
            grader.close()
        except Exception:  # noqa: BLE001 - closing at exit: nothing to report to
            pass


def _exercise(config: RunConfig, name: str) -> Exercise:
    course = config.course
    try:
        return course.get(name)
    except UnknownExercise:
        if Path(name).suffix:
            return course.exercise_for_file(Path(name))
        raise


# -- the result, shown -----------------------------------------------------------------------
class NotebookResult(ExerciseResult):
    """An ExerciseResult whose repr is one line (the table is already in the cell's output)."""

    def __repr__(self) -> str:
        from tfgrade.reports.formatting import fmt_num

        lang: Lang = getattr(self, "_lang", "es")
        return GRADER("notebook_summary", exercise=self.exercise, score=fmt_num(self.score, lang),
                      max_score=fmt_num(self.max_score, lang)).get(lang)


def _as_notebook_result(result: ExerciseResult, lang: Lang) -> NotebookResult:
    out = NotebookResult(**{f.name: getattr(result, f.name) for f in fields(result)})
    object.__setattr__(out, "_lang", lang)
    return out


def render_html(result: ExerciseResult, lang: Lang, isolation: str) -> str:
    """The ✓/✗ table as an HTML fragment for a cell's output (autoescaped)."""
    from tfgrade.reports.formatting import fmt_num
    from tfgrade.reports.labels import labels
    from tfgrade.reports.student_report import exercise_view
    from tfgrade.reports.templating import template_env
    from tfgrade.reports.terminal import SYMBOLS

    view = exercise_view(result, lang, reveal_hidden=False)
    t = labels(lang)
    checks = []
    for check, shown in zip(result.checks, view.checks, strict=True):
        points = fmt_num(check.points, lang) if check.counts_in_total else "–"
        checks.append({
            "status": check.status, "status_label": shown.status_label, "mark": SYMBOLS.get(check.status, "?"),
            "points": f"{points}/{fmt_num(check.max_points, lang)}", "title": shown.title,
            "feedback": shown.feedback if check.status != "passed" else "",
        })
    score = f"{fmt_num(result.score, lang)}/{fmt_num(result.max_score, lang)}"
    isolation_text = t.get(f"isolation_{isolation}", isolation)
    return template_env().get_template(TEMPLATE).render(
        lang=lang, t=t, ex=view, checks=checks, score=score, isolation=isolation_text,
        cell_numbers=GRADER("notebook_cell_numbers").get(lang))


def _display_html(html: str) -> None:
    try:
        from IPython import display as ipython_display
    except ImportError:      # not in IPython: nothing to show the HTML in
        return
    shown: Any = ipython_display      # IPython's own type hints differ between versions
    shown.display(shown.HTML(html))


# -- the entry points ------------------------------------------------------------------------
def _current_ipython() -> Any:
    try:
        import IPython
    except ImportError:
        return None
    module: Any = IPython
    return module.get_ipython()


def grade_cells(exercise_id: str, cells: Sequence[str], lang: Lang | None = None, *,
                isolation: str = "auto") -> tuple[ExerciseResult, str]:
    """Grade `cells` (sources, In [1] … In [N]) as a notebook file with those cells would be
    graded by `tfgrade check`; the result and the HTML table."""
    lang = lang if lang in LANGS else default_lang()
    config, grader = _grader(isolation)
    exercise = _exercise(config, exercise_id)
    graded = graded_cells(cells)
    label = GRADER("notebook_cells_label", last=len(cells)).get(lang)
    with tempfile.TemporaryDirectory(prefix="tfgrade-notebook-") as folder:
        path = Path(folder) / f"{exercise.id}.ipynb"
        path.write_bytes(history_notebook(graded))
        result = grader.grade_file(exercise, path, label)
    return result, render_html(result, lang, grader.isolation)


def check(exercise_id: str, lang: Lang | None = None, *, ipython: Any = None,
          isolation: str = "auto") -> NotebookResult:
    """Grade the cells run so far in this notebook against `exercise_id`'s visible checks,
    show the ✓/✗ table in the cell's output and return the result."""
    ipython = ipython if ipython is not None else _current_ipython()
    if ipython is None:
        raise TfgradeError(GRADER("notebook_outside_ipython", exercise=exercise_id))
    lang = lang if lang in LANGS else default_lang()
    result, html = grade_cells(exercise_id, history_cells(ipython), lang, isolation=isolation)
    _display_html(html)
    return _as_notebook_result(result, lang)


def parse_magic(line: str) -> tuple[str, Lang | None] | None:
    """`check ex02_sequential [--lang en]` → ("ex02_sequential", "en"); None if not that."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if not words or words[0] != "check":
        return None
    exercise: str | None = None
    lang: str | None = None
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if word == "--lang" and rest:
            lang = rest.pop(0)
        elif word.startswith("--lang="):
            lang = word.split("=", 1)[1]
        elif word.startswith("-") or exercise is not None:
            return None
        else:
            exercise = word
    if exercise is None:
        return None
    if lang is None:
        return exercise, None
    for known in LANGS:
        if lang == known:
            return exercise, known
    return None


def tfgrade_magic(line: str) -> None:
    """%tfgrade check <exercise> [--lang es|en]"""
    parsed = parse_magic(line)
    if parsed is None:
        print(GRADER("notebook_usage").get(default_lang()), file=sys.stderr)
        return
    exercise, lang = parsed
    try:
        check(exercise, lang)
    except TfgradeError as exc:      # an unknown exercise, a broken pack: one clear line
        print(f"tfgrade: {exc.text(lang or default_lang())}", file=sys.stderr)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext tfgrade`: registers the `%tfgrade` line magic."""
    ipython.register_magic_function(tfgrade_magic, magic_kind="line", magic_name="tfgrade")
