"""`tfgrade release`: the student distribution, built from the instructor's pack.

The checkout (and `pip install .`) is the instructor's install: reference solutions and
hidden checks travel with it. Students get a separate wheel, built here, with the same
name and version: the engine, starters, statements, `exercise.toml`s (hidden tables
included, so `check` can say how many points the instructor grades) and the *visible*
checks only. Hidden `test_<id>` functions, and module-level helpers used only by them, are
cut out of each `checks.py` by line ranges (comments and formatting of the rest stay).
A marker file makes `grade`, `validate`… refuse in a student install.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from tfgrade import __version__
from tfgrade.errors import PackError, TfgradeError
from tfgrade.i18n import Msg
from tfgrade.pack.course import Course, Exercise, bundled_dir

PACKAGE = Path(__file__).resolve().parent
MARKER = "STUDENT_BUILD"
STUDENT_PACKAGE = Msg(
    "este es el paquete de estudiantes: calificar necesita la instalación del profesor "
    "(para comprobar tu trabajo: tfgrade check <archivo>)",
    "this is the student package: grading needs the instructor's install "
    "(to check your work: tfgrade check <file>)")
_REMOVABLE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def is_student_build() -> bool:
    return (PACKAGE / "_bundled" / MARKER).is_file()


def require_instructor_install() -> None:
    """Raise the clear bilingual error (exit status 2) in a student install."""
    if is_student_build():
        raise TfgradeError(STUDENT_PACKAGE)


# --------------------------------------------------------------------------- stripping


@dataclass(frozen=True)
class Stripped:
    source: str
    removed: tuple[str, ...]        # top-level names cut out: hidden tests, then their helpers


def _defined(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    if targets and all(isinstance(t, ast.Name) for t in targets):
        return {t.id for t in targets if isinstance(t, ast.Name)}
    return set()


def _refs(stmt: ast.stmt) -> set[str]:
    """Every name a statement may use: loads, argument names (pytest fixtures are requested
    by parameter name) and string constants (`usefixtures("x")`, `getfixturevalue("x")`)."""
    names: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names - _defined(stmt)


def _span(stmt: ast.stmt, lines: list[str]) -> tuple[int, int]:
    """0-based [start, end) of a statement: its decorators, the comment lines right above it
    and indented comments trailing its body."""
    start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))]) - 1
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    end = stmt.end_lineno or stmt.lineno
    j = end
    while j < len(lines) and (not lines[j].strip() or lines[j][:1].isspace()):
        j += 1
        if lines[j - 1].strip():
            end = j
    return start, end


def strip_hidden(source: str, hidden_ids: Iterable[str], filename: str = "checks.py") -> Stripped:
    """`source` without `def test_<id>` of each hidden check, nor what only they used."""
    tree = ast.parse(source, filename)
    hidden_tests = {f"test_{cid}" for cid in hidden_ids}
    body = tree.body
    removed = {i for i, s in enumerate(body) if _defined(s) & hidden_tests and isinstance(s, _REMOVABLE)}
    while True:     # helpers whose only users are gone, until nothing more can go
        kept_refs = set().union(*(_refs(s) for i, s in enumerate(body) if i not in removed))
        gone_refs = set().union(*(_refs(body[i]) for i in removed))
        more = {i for i, s in enumerate(body)
                if i not in removed and isinstance(s, _REMOVABLE) and (names := _defined(s))
                and not any(n.startswith("test_") for n in names)
                and names & gone_refs and not names & kept_refs}
        if not more:
            break
        removed |= more
    lines = re.findall(r"[^\n]*\n|[^\n]+$", source)     # ast's line numbers count "\n" only
    drop: set[int] = set()
    for i in removed:
        start, end = _span(body[i], lines)
        drop.update(range(start, end))
    text = re.sub(r"\n{4,}", "\n\n\n", "".join(line for n, line in enumerate(lines) if n not in drop))
    text = text.rstrip("\n") + "\n"
    gone: set[str] = set().union(*(_defined(body[i]) for i in removed))
    _verify(text, filename, hidden_tests, set().union(*(_defined(s) for i, s in enumerate(body) if i not in removed)))
    return Stripped(text, tuple(sorted(gone)))


def _verify(text: str, filename: str, hidden_tests: set[str], kept: set[str]) -> None:
    """Refuse rather than leak: no hidden test left anywhere, every other definition intact."""
    try:
        tree = ast.parse(text, filename)
    except SyntaxError as exc:
        raise PackError(Msg(f"{filename}: no se pudieron quitar las comprobaciones ocultas ({exc})",
                            f"{filename}: the hidden checks could not be cut out ({exc})")) from None
    left = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    left |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    leaked = sorted(left & hidden_tests)
    lost = sorted(kept - set().union(*(_defined(s) for s in tree.body)))
    if leaked or lost:
        raise PackError(Msg(
            f"{filename}: no se pudieron separar las comprobaciones ocultas ({', '.join(leaked or lost)}); "
            "defínelas como funciones de primer nivel `def test_<id>`",
            f"{filename}: the hidden checks could not be separated ({', '.join(leaked or lost)}); "
            "define them as top-level `def test_<id>` functions"))


def _skip(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", "_bundled") or n.endswith(".pyc") or n.startswith("solution")}


def strip_pack(exercises: Iterable[Exercise], dest: Path) -> dict[str, tuple[str, ...]]:
    """Copy each exercise folder into `dest` with its hidden checks cut out."""
    removed: dict[str, tuple[str, ...]] = {}
    for ex in exercises:
        target = dest / ex.folder.name
        shutil.copytree(ex.folder, target, ignore=_skip)
        hidden = [c.id for c in ex.checks if c.hidden]
        if hidden and ex.checks_file.is_file():
            result = strip_hidden(ex.checks_file.read_text(encoding="utf-8"), hidden, str(ex.checks_file))
            (target / "checks.py").write_text(result.source, encoding="utf-8")
            removed[ex.id] = result.removed
    return removed


# --------------------------------------------------------------------------- the wheel


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """The small TOML subset a pyproject needs (JSON strings and lists are valid TOML)."""
    flat = [f"{_key(k)} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = ""
    if flat:
        out = (f"[{prefix}]\n" if prefix else "") + "\n".join(flat) + "\n\n"
    for k, v in data.items():
        if isinstance(v, dict):
            out += _toml(v, f"{prefix}.{_key(k)}" if prefix else _key(k))
    return out


def _project_table() -> tuple[dict[str, Any], str]:
    """[project] of the checkout's pyproject (and its README), else of the installed metadata."""
    pyproject, readme = PACKAGE.parent / "pyproject.toml", PACKAGE.parent / "README.md"
    if pyproject.is_file():
        project = dict(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"])
        text = readme.read_text(encoding="utf-8") if readme.is_file() else "# tfgrade\n"
    else:
        md = metadata.metadata("tfgrade")
        info: dict[str, Any] = md.json
        deps: list[str] = []
        extras: dict[str, list[str]] = {}
        for req in info.get("requires_dist", []):
            spec, _, marker = req.partition(";")
            found = re.fullmatch(r"\s*extra\s*==\s*['\"]([^'\"]+)['\"]\s*", marker)
            (extras.setdefault(found[1], []) if found else deps).append(spec.strip())
        project = {"name": info["name"], "description": info.get("summary", ""),
                   "requires-python": info.get("requires_python", ">=3.11"), "dependencies": deps,
                   "optional-dependencies": extras, "scripts": {"tfgrade": "tfgrade.cli:main"}}
        text = str(info.get("description") or "# tfgrade\n")
    project.pop("dynamic", None)
    project.update(version=__version__, readme="README.md")
    return project, text


def _stage(root: Path, course: Course) -> dict[str, tuple[str, ...]]:
    shutil.copytree(PACKAGE, root / "tfgrade", ignore=_skip)
    removed = strip_pack(course.exercises, root / "pack" / "exercises")
    shutil.copytree(bundled_dir("templates"), root / "pack" / "templates", ignore=_skip)
    (root / "pack" / MARKER).write_text(
        f"tfgrade {__version__}: student package (no reference solutions, no hidden checks).\n", encoding="utf-8")
    project, readme = _project_table()
    (root / "README.md").write_text(readme, encoding="utf-8")
    config = {
        "build-system": {"requires": ["hatchling>=1.24"], "build-backend": "hatchling.build"},
        "project": project,
        "tool": {"hatch": {"build": {"targets": {"wheel": {
            "packages": ["tfgrade"],
            "force-include": {"pack/exercises": "tfgrade/_bundled/exercises",
                              "pack/templates": "tfgrade/_bundled/templates",
                              f"pack/{MARKER}": f"tfgrade/_bundled/{MARKER}"}}}}}},
    }
    text = _toml(config)
    tomllib.loads(text)     # a bad pyproject is our bug: fail here, not inside hatchling
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return removed


def audit_wheel(wheel: Path, course: Course) -> None:
    """The last line of defence: no solution, no hidden test, the marker present."""
    hidden = {ex.folder.name: {f"test_{c.id}" for c in ex.checks if c.hidden} for ex in course.exercises}
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        problems = [n for n in names if "/solutions/" in n or n.startswith("solutions/")]
        if f"tfgrade/_bundled/{MARKER}" not in names:
            problems.append(f"tfgrade/_bundled/{MARKER} missing")
        for name in names:
            parts = name.split("/")
            if name.startswith("tfgrade/_bundled/exercises/") and parts[-1] == "checks.py":
                tree = ast.parse(zf.read(name))
                defs = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                problems += [f"{name}: {d}" for d in sorted(defs & hidden.get(parts[-2], set()))]
    if problems:
        raise PackError(Msg("el paquete de estudiantes contiene material del profesor: " + "; ".join(problems),
                            "the student package holds instructor material: " + "; ".join(problems)))


def build_student_wheel(out: Path, pack: Path | None = None) -> Path:
    """Build the student wheel from `pack` (default: the bundled pack) into `out`."""
    require_instructor_install()
    if importlib.util.find_spec("hatchling") is None:
        raise TfgradeError(Msg("release necesita hatchling: pip install hatchling",
                               "release needs hatchling: pip install hatchling"))
    course = Course.load(pack)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tfgrade-release-") as tmp:
        stage, built = Path(tmp) / "src", Path(tmp) / "dist"
        stage.mkdir()
        _stage(stage, course)
        proc = subprocess.run(
            [sys.executable, "-c", "import sys, hatchling.build as b; print(b.build_wheel(sys.argv[1]))",
             str(built)], cwd=stage, capture_output=True, text=True)
        if proc.returncode != 0:
            raise TfgradeError(Msg(f"hatchling falló:\n{proc.stderr[-3000:]}",
                                   f"hatchling failed:\n{proc.stderr[-3000:]}"))
        wheel = built / proc.stdout.strip().splitlines()[-1]
        audit_wheel(wheel, course)
        final = out / wheel.name
        shutil.copyfile(wheel, final)
    return final
