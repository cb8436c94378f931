"""The in-notebook self-check: `%load_ext tfgrade`, `%tfgrade check …`, `tfgrade.check(…)`.

The kernel tests run a real Jupyter kernel (nbclient + ipykernel) whose PYTHONPATH puts this
checkout first; they are skipped where ipykernel is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_watch import still_running

from tfgrade.engine.results import CheckResult, ExerciseResult
from tfgrade.i18n import Msg
from tfgrade.notebook_check import graded_cells, history_notebook, parse_magic, render_html

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "ex02_sequential.py").read_text(encoding="utf-8")
KERNEL_TIMEOUT_S = 180


# -- without a kernel ----------------------------------------------------------------------
def test_importing_tfgrade_stays_light() -> None:
    code = ("import sys, tfgrade\n"
            "assert callable(tfgrade.check) and callable(tfgrade.load_ipython_extension)\n"
            "heavy = [m for m in ('pytest', 'pandas', 'tfgrade.engine', 'tfgrade.notebook_check', 'IPython')\n"
            "         if m in sys.modules]\n"
            "print(heavy)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_invocations_leave_the_graded_code() -> None:
    cells = ["import numpy as np",
             "%load_ext tfgrade",
             "!pip install x\n1 / 0",
             "import tfgrade\nr = tfgrade.check(\n    'ex02_sequential')\nprint(1)",
             's = """\n%tfgrade check inside_a_string\n"""',
             "def build_model():\n    return 1\n%tfgrade check ex02_sequential --lang en\nprint('not run yet')"]
    out = graded_cells(cells)
    assert len(out) == len(cells)                 # code cell N stays In [N]
    assert out[0] == cells[0]
    assert out[1] == "pass"                       # the extension, silently
    assert out[2] == cells[2]                     # other escapes: the intake warns about them
    assert out[3] == "import tfgrade\npass\n\nprint(1)"     # an earlier check; lines kept
    assert out[4] == cells[4]                     # text inside a string is not an invocation
    assert out[5] == "def build_model():\n    return 1"   # the running cell: up to the check


def test_a_check_imported_by_name_is_found() -> None:
    cells = ["from tfgrade import check as grade_me\nx = 1", "y = 2\nresult = grade_me('ex02_sequential')"]
    assert graded_cells(cells) == [cells[0], "y = 2"]


def test_the_history_notebook_is_graded_like_a_file() -> None:
    from tfgrade.intake.notebooks import notebook_to_source

    cells = graded_cells(["x = 1", "%load_ext tfgrade", "!pip install x", "%tfgrade check ex02_sequential"])
    nb = notebook_to_source(history_notebook(cells), "ex02_sequential.ipynb")
    texts = [w.en for w in nb.warnings]
    assert any("code cell 3" in t and "shell commands" in t for t in texts), texts
    assert not any("tfgrade" in t for t in texts), texts
    assert "%tfgrade" not in nb.source.replace("# ", "")


@pytest.mark.parametrize("line, expected", [
    ("check ex02_sequential", ("ex02_sequential", None)),
    ("check ex02_sequential --lang en", ("ex02_sequential", "en")),
    ("check --lang=es ex02_sequential", ("ex02_sequential", "es")),
    ("check", None), ("", None), ("grade ex02_sequential", None),
    ("check ex02_sequential --lang fr", None), ("check a b", None),
])
def test_the_magic_line(line: str, expected: Any) -> None:
    assert parse_magic(line) == expected


def test_the_table_is_escaped_and_in_the_language() -> None:
    evil = "<script>alert(1)</script>"
    checks = (CheckResult("a", Msg("es un modelo", "is a model"), "passed", 1.0, 1.0, False, Msg("", "")),
              CheckResult("b", Msg("capas", "layers"), "failed", 0.0, 2.0, False, Msg(evil, evil)))
    result = ExerciseResult("ex02_sequential", Msg("Modelos", "Models"), "graded", checks,
                            source="cells", warnings=(Msg(evil, evil),), output=evil)
    html = render_html(result, "es", "standard")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<table" in html and "✓" in html and "✗" in html and "1/3" in html and "capas" in html
    assert "layers" in render_html(result, "en", "standard")


# -- in a real kernel ----------------------------------------------------------------------
def _kernel_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("ipykernel", "IPython", "nbclient"))


needs_kernel = pytest.mark.skipif(not _kernel_available(), reason="ipykernel/nbclient not installed")


def _run_notebook(cells: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Execute `cells` in a fresh kernel with this checkout first on its path."""
    import ipykernel
    import nbformat
    from nbclient import NotebookClient

    spec = importlib.util.find_spec("ipykernel")
    assert spec is not None and spec.origin is not None
    kernel_path = [str(ROOT), str(Path(ipykernel.__file__).resolve().parent.parent)]
    if os.environ.get("PYTHONPATH"):
        kernel_path.append(os.environ["PYTHONPATH"])
    bin_dir = tmp_path / "bin"               # `!pip` in the kernel runs this stub, not pip
    bin_dir.mkdir()
    (bin_dir / "pip").write_text("#!/bin/sh\necho \"stub pip $*\"\n")
    (bin_dir / "pip").chmod(0o755)
    kernels = tmp_path / "jupyter" / "kernels" / "tfgrade-test"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tfgrade test", "language": "python",
        "env": {"PYTHONPATH": os.pathsep.join(kernel_path), "TFGRADE_LANG": "es",
                "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    work = tmp_path / "work"
    work.mkdir()
    client = NotebookClient(nb, timeout=KERNEL_TIMEOUT_S, kernel_name="tfgrade-test", allow_errors=True,
                            resources={"metadata": {"path": str(work)}})
    client.execute()
    return nb


def _outputs(cell: Any, mime: str) -> str:
    parts = []
    for out in cell.outputs:
        if out.get("output_type") in ("display_data", "execute_result") and mime in out.get("data", {}):
            parts.append(out["data"][mime])
        elif mime == "stream" and out.get("output_type") == "stream":
            parts.append(out["text"])
        elif mime == "error" and out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(parts)


# The last cell of a notebook: the processes under the kernel (the warm sandbox), as JSON.
TREE_CELL = ("import json, os, sys\n"
             f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
             "from test_watch import descendants\n"
             "print('TREE=' + json.dumps(descendants(os.getpid())))")


@needs_kernel
def test_the_magic_grades_the_cells_run_so_far(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _run_notebook([SOLUTION, "%load_ext tfgrade", "%tfgrade check ex02_sequential --lang en", TREE_CELL],
                       tmp_path, monkeypatch)
    check = nb.cells[2]
    html = _outputs(check, "text/html")
    assert not _outputs(check, "error"), _outputs(check, "error")
    assert "<table" in html and "✓" in html and "✗" not in html, html
    assert "10/10" in html and "Compiled with RMSprop" in html, html
    assert "Has two Dense layers" in html            # --lang en, although the kernel's default is es
    assert "load_ext" not in html and "tfgrade check" not in html, html   # no warning about them
    # the sandbox stayed warm in the kernel, and left with it when the kernel shut down
    line = next(x for x in _outputs(nb.cells[3], "stream").splitlines() if x.startswith("TREE="))
    tree = {int(pid): start for pid, start in json.loads(line[len("TREE="):]).items()}
    assert tree, "the warm sandbox should run under the kernel"
    deadline = time.monotonic() + 15
    while still_running(tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert still_running(tree) == []


@needs_kernel
def test_a_failing_cell_and_a_shell_escape_do_not_break_it(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _run_notebook([
        "%load_ext tfgrade",
        "!pip install x",
        "raise ValueError('an experiment that failed')",
        SOLUTION,
        "import tfgrade\nresult = tfgrade.check('ex02_sequential', lang='en')\nprint(result.score, result.max_score)",
        "tfgrade.check('ex02_sequential')",
    ], tmp_path, monkeypatch)
    assert "stub pip install x" in _outputs(nb.cells[1], "stream")          # it did run in the kernel
    assert "ValueError" in _outputs(nb.cells[2], "error")
    check = nb.cells[4]
    assert not _outputs(check, "error"), _outputs(check, "error")
    html = _outputs(check, "text/html")
    assert "<table" in html and "✓" in html and "10/10" in html, html
    assert "code cell 2" in html and "shell commands (!) are not run while grading" in html, html
    assert "code cell 3" in html and "ValueError" in html, html
    assert "10.0 10.0" in _outputs(check, "stream")
    # a bare call as the cell's last expression: the table, then a one-line summary, in the
    # environment's language (TFGRADE_LANG=es in the kernel)
    plain = nb.cells[5]
    assert not _outputs(plain, "error"), _outputs(plain, "error")
    html = _outputs(plain, "text/html")
    assert "10/10" in html and "Tiene dos capas Dense" in html, html
    assert _outputs(plain, "text/plain").strip().endswith("ex02_sequential: 10/10 puntos")
