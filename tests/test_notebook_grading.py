"""Notebooks through the whole grader: Colab habits, magics, a failing data cell, and the
sanitized notebook view linked from the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from tfgrade.cli import main
from tfgrade.engine.grader import Grader

ROOT = Path(__file__).resolve().parent.parent
TRAINING = {"ex04_regression", "ex06_diabetes_mlp", "ex07_cnn"}


def colab_notebook(solution: str, minor: int = 5) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Mi solución\nHecho en Colab."),
        nbformat.v4.new_code_cell("%matplotlib inline\n!pip install -q tensorflow\n"
                                  "from google.colab import drive\ndrive.mount('/content/drive')"),
        nbformat.v4.new_code_cell(solution),
        nbformat.v4.new_code_cell("import pandas as pd\ndf = pd.read_csv('/content/drive/MyDrive/datos.csv')"),
        nbformat.v4.new_code_cell("%%time\nx = 1 + 1"),
    ]
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    return nbformat.writes(nb).encode()


@pytest.mark.parametrize("exercise_id", [pytest.param(
    e, marks=[pytest.mark.slow] if e in TRAINING else []) for e in (
        "ex01_tf1_add", "ex02_sequential", "ex03_functional", "ex04_regression", "ex05_matrix_power",
        "ex06_diabetes_mlp", "ex07_cnn")])
def test_a_colab_notebook_solving_each_exercise(grader: Grader, tmp_path: Path, exercise_id: str) -> None:
    solution = (ROOT / "solutions" / f"{exercise_id}.py").read_text()
    path = tmp_path / f"Copia de {exercise_id}.ipynb"
    path.write_bytes(colab_notebook(solution, minor=0 if exercise_id == "ex01_tf1_add" else 5))
    r = grader.grade_file(grader.course.get(exercise_id), path)
    assert r.score == r.max_score > 0, [(c.id, c.status, c.feedback.en) for c in r.checks]
    warnings = " | ".join(w.en for w in r.warnings)
    assert "pip install" in warnings                      # the neutralised shell escape is listed
    assert "code cell 3 raised FileNotFoundError" in warnings
    assert "the grader passes the data to your functions" in warnings


def test_notebook_that_never_defines_the_functions(grader: Grader, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])")]
    path = tmp_path / "ex02_sequential.ipynb"
    path.write_text(nbformat.writes(nb))
    r = grader.grade_file(grader.course.get("ex02_sequential"), path)
    assert r.score == 0
    assert any("does not define: build_model" in w.en for w in r.warnings)
    assert "not found in your file" in r.checks[0].feedback.en


def test_class_with_notebooks_gets_sanitized_views(tmp_path: Path) -> None:
    subs = tmp_path / "subs" / "ana"
    subs.mkdir(parents=True)
    solution = (ROOT / "solutions" / "ex02_sequential.py").read_text()
    nb = nbformat.reads(colab_notebook(solution).decode(), as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": "<script>alert(1)</script><img src=x onerror=alert(2)>"})]
    (subs / "ex02_sequential.ipynb").write_text(nbformat.writes(nb))
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "exercises" / "ex02_sequential", pack / "ex02_sequential")
    out = tmp_path / "out"
    assert main(["grade", str(subs.parent), "--out", str(out), "--pack", str(pack), "-j", "1", "--lang", "en"]) == 0
    view = out / "notebooks" / "ana" / "ex02_sequential.html"
    html = view.read_text()
    assert "build_model" in html and "Mi solución" in html
    assert "<script>alert" not in html and "onerror=" not in html
    report = (out / "reports" / "ana.html").read_text()
    assert "../notebooks/ana/ex02_sequential.html" in report
