"""Starter notebooks, generated from the exercise's own starter.py and statement.<lang>.md.

One source of truth: the notebook is never edited by hand. The statement becomes markdown
cells (one per heading), the starter becomes code cells (imports together, then one cell per
function or class), and a last cell says how to check the work with tfgrade.
Trusted side: no TensorFlow, nothing is executed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import nbformat

from tfgrade.i18n import Lang

_HEADING = re.compile(r"^#{1,6}\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PERCENT_CELL = re.compile(r"^# %%")

_SELF_CHECK = {
    "es": """## Comprueba tu trabajo

1. Ejecuta todas las celdas (Colab: *Entorno de ejecución → Ejecutar todas*; Jupyter: *Run → Run All Cells*) y mira que no haya errores.
2. Descarga el cuaderno como `{id}.ipynb` (Colab: *Archivo → Descargar → Descargar .ipynb*) sin cambiarle el nombre.
3. En una terminal con tfgrade instalado, ejecuta:

```
tfgrade check {id}.ipynb
```

El calificador ejecuta las celdas de código en orden y llama a tus funciones con **sus propios datos**:
no hace falta montar Google Drive ni subir ficheros, y `input()` no está disponible.
Las líneas `!pip install …` y las magias `%…` se ignoran al calificar.""",
    "en": """## Check your work

1. Run all cells (Colab: *Runtime → Run all*; Jupyter: *Run → Run All Cells*) and make sure there are no errors.
2. Download the notebook as `{id}.ipynb` (Colab: *File → Download → Download .ipynb*) without renaming it.
3. In a terminal where tfgrade is installed, run:

```
tfgrade check {id}.ipynb
```

The grader runs the code cells in order and calls your functions with **its own data**:
there is no need to mount Google Drive or upload files, and `input()` is not available.
`!pip install …` lines and `%…` magics are ignored while grading.""",
}


def split_markdown_sections(markdown: str) -> list[str]:
    """The statement cut before every heading (headings inside fenced code do not count)."""
    sections: list[list[str]] = [[]]
    in_fence = False
    for line in markdown.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and _HEADING.match(line) and any(part.strip() for part in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return [text for text in ("\n".join(part).strip("\n") for part in sections) if text.strip()]


def _docstring_lines(tree: ast.Module) -> range:
    first = tree.body[0] if tree.body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return range(first.lineno, (first.end_lineno or first.lineno) + 1)
    return range(0)


def split_starter_code(starter_py: str) -> list[str]:
    """Code cells: `# %%` markers when the starter has them; else the leading statements
    (imports, constants) in one cell, then one cell per top-level function or class, each
    with the comments just above it. The module docstring is left out: the statement says it."""
    lines = starter_py.replace("\r\n", "\n").split("\n")
    if any(_PERCENT_CELL.match(line) for line in lines):
        chunks: list[list[str]] = [[]]
        for line in lines:
            if _PERCENT_CELL.match(line):
                chunks.append([])
            else:
                chunks[-1].append(line)
        return [text for text in ("\n".join(c).strip("\n") for c in chunks) if text.strip()]
    tree = ast.parse(starter_py)
    skip = _docstring_lines(tree)
    starts: list[int] = []  # 1-based first line of each cell's first statement
    previous_was_definition = True
    for node in tree.body:
        if node.lineno in skip:
            continue
        is_definition = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if is_definition or previous_was_definition:
            decorators = [d.lineno for d in getattr(node, "decorator_list", [])]
            starts.append(min([node.lineno, *decorators]))
        previous_was_definition = is_definition
    cells: list[str] = []
    cell_from = (skip.stop - 1) if skip else 0  # 0-based index of the first line not yet used
    for position, start in enumerate(starts):
        end = starts[position + 1] - 1 if position + 1 < len(starts) else len(lines)
        # Comments right above the next cell's statement belong to it, not to this one.
        cut = end
        while cut > start and (not lines[cut - 1].strip() or lines[cut - 1].lstrip().startswith("#")):
            cut -= 1
        text = "\n".join(lines[cell_from:cut]).strip("\n")
        if text.strip():
            cells.append(text)
        cell_from = cut
    return cells


def make_starter_notebook(statement_md: str, starter_py: str, lang: Lang, *,
                          exercise_id: str) -> Any:
    """The starter notebook for one exercise in one language (an nbformat v4.5 NotebookNode)."""
    statement = statement_md.replace(f"tfgrade check {exercise_id}.py", f"tfgrade check {exercise_id}.ipynb")
    markdown = split_markdown_sections(statement)
    code = split_starter_code(starter_py)
    # nbformat's constructors are untyped.
    cells = [nbformat.v4.new_markdown_cell(text) for text in markdown]  # type: ignore[no-untyped-call]
    cells += [nbformat.v4.new_code_cell(text) for text in code]  # type: ignore[no-untyped-call]
    cells.append(nbformat.v4.new_markdown_cell(_SELF_CHECK[lang].format(id=exercise_id)))  # type: ignore[no-untyped-call]
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"{exercise_id}-{number}".replace("_", "-")  # stable ids: same input, same file
    nb = nbformat.v4.new_notebook(cells=cells, metadata={  # type: ignore[no-untyped-call]
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "tfgrade": {"exercise": exercise_id, "lang": lang},
    })
    nbformat.validate(nb)
    return nb


def write_starter_notebook(path: Path, statement_md: str, starter_py: str, lang: Lang, *,
                           exercise_id: str) -> Path:
    """Write the starter notebook to `path` (a .ipynb file) and return the path."""
    nb = make_starter_notebook(statement_md, starter_py, lang, exercise_id=exercise_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")  # type: ignore[no-untyped-call]
    return path


def starter_notebook_for_exercise(exercise_dir: Path, lang: Lang) -> Any:
    """The notebook for `exercises/<id>/` from its starter.py and statement.<lang>.md."""
    statement = (exercise_dir / f"statement.{lang}.md").read_text(encoding="utf-8")
    starter = (exercise_dir / "starter.py").read_text(encoding="utf-8")
    return make_starter_notebook(statement, starter, lang, exercise_id=exercise_dir.name)
