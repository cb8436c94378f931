"""`tfgrade release`: the student wheel holds no reference solution and no hidden check, and
works in a fresh virtual environment for `check` while refusing to grade."""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from tfgrade import __version__, release
from tfgrade.cli import main
from tfgrade.errors import PackError
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent
COURSE = Course.load(ROOT / "exercises")
HIDDEN = {ex.id: [c.id for c in ex.checks if c.hidden] for ex in COURSE.exercises}


def _function_lines(source: str, name: str) -> set[str]:
    """The lines of top-level `def name` that appear nowhere else in the file."""
    tree = ast.parse(source)
    lines = source.splitlines()
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    own = lines[node.lineno - 1:node.end_lineno]
    rest = {line.strip() for line in lines[:node.lineno - 1] + lines[node.end_lineno:]}
    return {line.strip() for line in own if len(line.strip()) > 25 and line.strip() not in rest}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling (the build backend, in the test extra) is not installed")
    out = tmp_path_factory.mktemp("student-dist")
    assert main(["release", "--out", str(out), "--lang", "en"]) == 0
    wheels = list(out.glob("tfgrade-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


@pytest.fixture(scope="module")
def files(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as zf:
        return {n: zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if not n.endswith("/")}


def test_wheel_name_version_and_layout(wheel: Path, files: dict[str, str]) -> None:
    assert wheel.name.startswith(f"tfgrade-{__version__}-")
    assert {n.split("/")[0] for n in files} == {"tfgrade", f"tfgrade-{__version__}.dist-info"}
    assert "tfgrade/_bundled/STUDENT_BUILD" in files
    assert "tfgrade/cli.py" in files and "tfgrade/sandboxed/child.py" in files
    assert any(n.startswith("tfgrade/_bundled/templates/") for n in files)
    metadata = files[f"tfgrade-{__version__}.dist-info/METADATA"]
    assert "Name: tfgrade" in metadata and f"Version: {__version__}" in metadata
    assert "tfgrade = tfgrade.cli:main" in files[f"tfgrade-{__version__}.dist-info/entry_points.txt"]
    for ex in COURSE.exercises:
        for name in ("starter.py", "statement.es.md", "statement.en.md", "exercise.toml", "checks.py"):
            assert f"tfgrade/_bundled/exercises/{ex.id}/{name}" in files


def test_no_reference_solution(files: dict[str, str]) -> None:
    assert not [n for n in files if "solutions/" in n or "/solution" in n]
    shipped = [p for top in ("exercises", "tfgrade", "templates") for p in (ROOT / top).rglob("*")
               if p.is_file() and p.suffix in (".py", ".md", ".toml", ".j2")]
    pack = "\n".join(p.read_text(encoding="utf-8") for p in shipped)   # lines solutions share with these are not telling
    for sol in sorted((ROOT / "solutions").glob("*.py")):
        text = sol.read_text(encoding="utf-8")
        distinctive = {line.strip() for line in text.splitlines()
                       if len(line.strip()) > 25 and line.strip() not in pack}
        assert len(distinctive) >= 2, sol.name          # the check below has teeth
        for name, content in files.items():
            assert "Reference solution" not in content, name
            found = distinctive & {line.strip() for line in content.splitlines()}
            assert not found, f"{name} holds lines of {sol.name}: {sorted(found)[:3]}"


def test_hidden_checks_cut_visible_kept(files: dict[str, str]) -> None:
    assert any(HIDDEN.values())
    for ex in COURSE.exercises:
        original = ex.checks_file.read_text(encoding="utf-8")
        shipped = files[f"tfgrade/_bundled/exercises/{ex.id}/checks.py"]
        defs = {n.name for n in ast.walk(ast.parse(shipped)) if isinstance(n, ast.FunctionDef)}
        for cid in HIDDEN[ex.id]:
            assert f"def test_{cid}" not in shipped and f"test_{cid}" not in defs
            body = _function_lines(original, f"test_{cid}")
            assert body and not body & {line.strip() for line in shipped.splitlines()}, cid
        for check in ex.checks:
            if not check.hidden:
                assert f"def test_{check.id}(" in shipped, (ex.id, check.id)
        toml = tomllib.loads(files[f"tfgrade/_bundled/exercises/{ex.id}/exercise.toml"])
        assert [cid for cid, c in toml["checks"].items() if c.get("hidden")] == HIDDEN[ex.id]


def test_strip_hidden_keeps_the_rest() -> None:
    source = '''"""Checks."""

import pytest

LIMIT = 3          # only the hidden test uses it
SHARED = 1


@pytest.fixture
def secret_data():
    return [LIMIT]


@pytest.fixture(autouse=True)
def always():
    return None


def shared_helper():
    return SHARED


# right above the hidden test: goes with it
@pytest.mark.slow
def test_secret(secret_data):
    assert shared_helper() < secret_data[0]
    # trailing comment of the hidden body


def test_visible():  # a comment that stays
    assert shared_helper() == 1
'''
    result = release.strip_hidden(source, ["secret"])
    assert result.removed == ("LIMIT", "secret_data", "test_secret")
    assert "secret" not in result.source and "trailing comment" not in result.source
    assert "def always" in result.source and "def shared_helper" in result.source
    assert "# a comment that stays" in result.source and "\n\n\n\n" not in result.source
    compile(result.source, "checks.py", "exec")
    nested = "class TestAll:\n    def test_secret(self):\n        pass\n"
    with pytest.raises(PackError):
        release.strip_hidden(nested, ["secret"])


def test_project_table_from_installed_metadata(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An instructor install that is not a checkout (no pyproject.toml beside the package)."""
    monkeypatch.setattr(release, "PACKAGE", tmp_path / "tfgrade")
    project, _readme = release._project_table()
    assert project["name"] == "tfgrade" and project["version"] == __version__
    assert any(d.startswith("tensorflow") for d in project["optional-dependencies"]["tf"])
    assert not any("extra" in d for d in project["dependencies"])


# --------------------------------------------------------------------------- a fresh venv


@pytest.fixture(scope="module")
def student_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the student wheel installed. It sees this environment's dependencies
    (TensorFlow, numpy…: no network here) through a .pth line, which adds the folder to
    sys.path without running its .pth files, so the checkout's editable install stays out."""
    venv = tmp_path_factory.mktemp("student-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_instructor_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "--no-deps",
                    "--quiet", str(wheel)], check=True)
    return venv


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TFGRADE_PACK", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_fresh_venv_imports_the_wheel(student_venv: Path, tmp_path: Path) -> None:
    code = ("import tfgrade, tfgrade.release as r, sys; print(tfgrade.__file__); print(r.is_student_build()); "
            f"print(any(p.startswith({str(ROOT)!r}) and 'site-packages' not in p for p in sys.path))")
    proc = _run(student_venv, tmp_path, str(student_venv / "bin" / "python"), "-c", code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    where, student, checkout = proc.stdout.split()
    assert Path(where).is_relative_to(student_venv), where
    assert student == "True" and checkout == "False"


def test_fresh_venv_check_passes_visible_and_tells_hidden_points(student_venv: Path, tmp_path: Path) -> None:
    for ex_id in ("ex01_tf1_add", "ex02_sequential"):
        shutil.copyfile(ROOT / "solutions" / f"{ex_id}.py", tmp_path / f"{ex_id}.py")
    proc = _run(student_venv, tmp_path, "tfgrade", "check", "ex01_tf1_add.py", "ex02_sequential.py", "--lang", "en")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Points: 9/9" in proc.stdout and "1 points in hidden checks" in proc.stdout
    assert "Points: 10/10" in proc.stdout and "✗" not in proc.stdout


def test_fresh_venv_refuses_to_grade(student_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "subs" / "ana").mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / "ex02_sequential.py", tmp_path / "subs" / "ana" / "ex02_sequential.py")
    proc = _run(student_venv, tmp_path, "tfgrade", "grade", "subs", "--out", "out", "--lang", "en")
    assert proc.returncode == 2
    assert "this is the student package: grading needs the instructor's install" in proc.stderr
    assert not (tmp_path / "out").exists()
    for command, lang, text in ((["validate"], "es", "este es el paquete de estudiantes"),
                                (["gradescope-bundle", "--out", "ag.zip"], "en", "student package"),
                                (["grade-one", "subs/ana"], "en", "student package"),
                                (["release", "--out", "d"], "en", "student package")):
        proc = _run(student_venv, tmp_path, "tfgrade", *command, "--lang", lang)
        assert proc.returncode == 2 and text in proc.stderr, (command, proc.stderr[-1000:])
