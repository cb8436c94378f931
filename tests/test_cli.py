"""The command line: `main(argv)` is testable without a shell."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from tfgrade.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "ex02_sequential" in out and "110" in out.splitlines()[-1] or "total" in out


def test_start_copies_starters_never_solutions(tmp_path: Path) -> None:
    assert main(["start", "ex02_sequential", "ex05_matrix_power", "--dir", str(tmp_path), "--lang", "es"]) == 0
    starter = (tmp_path / "ex02_sequential.py").read_text()
    assert "NotImplementedError" in starter
    assert starter != (ROOT / "solutions" / "ex02_sequential.py").read_text()
    assert (tmp_path / "ex02_sequential.es.md").is_file()
    assert not (tmp_path / "ex01_tf1_add.py").exists()


def test_start_does_not_overwrite(tmp_path: Path) -> None:
    (tmp_path / "ex02_sequential.py").write_text("# my work\n")
    assert main(["start", "ex02_sequential", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "ex02_sequential.py").read_text() == "# my work\n"


def test_start_notebooks(tmp_path: Path) -> None:
    import nbformat

    assert main(["start", "ex02_sequential", "--dir", str(tmp_path), "--format", "ipynb", "--lang", "en"]) == 0
    nb = nbformat.read(tmp_path / "ex02_sequential.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert any("def build_model" in c.source for c in nb.cells if c.cell_type == "code")


def test_unknown_exercise_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "tarea.py"
    bad.write_text("x = 1\n")
    assert main(["check", str(bad), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "matches no exercise" in err and "ex02_sequential" in err


def test_check_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "ex02_sequential.py"
    shutil.copyfile(ROOT / "solutions" / "ex02_sequential.py", good)
    assert main(["check", str(good), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "✓" in out and "Points: 10/10" in out
    bad = tmp_path / "sub" / "ex02_sequential.py"
    bad.parent.mkdir()
    bad.write_text(good.read_text().replace('"relu"', '"tanh"'))
    assert main(["check", str(bad), "--lang", "es"]) == 1
    out = capsys.readouterr().out
    assert "✗" in out and "Puntos: 8/10" in out


def test_check_reports_hidden_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ex01_tf1_add.py"
    shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", f)
    assert main(["check", str(f), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Points: 9/9" in out and "1 points in hidden checks" in out


def test_grade_a_small_class(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "ana").mkdir(parents=True)
    (subs / "beto").mkdir()
    (subs / "carla").mkdir()
    shutil.copyfile(ROOT / "solutions" / "ex02_sequential.py", subs / "ana" / "ex02_sequential.py")
    shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", subs / "ana" / "Copia de ex01_tf1_add (1).py")
    (subs / "beto" / "ex02_sequential.py").write_text("def build_model(:\n")
    pack = tmp_path / "pack"
    for ex_id in ("ex01_tf1_add", "ex02_sequential"):
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    out = tmp_path / "out"
    assert main(["grade", str(subs), "--out", str(out), "--pack", str(pack), "--lang", "en"]) == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert set(rows) == {"ana", "beto", "carla"}
    assert float(rows["ana"]["total"]) == 20 and float(rows["ana"]["ex01_tf1_add"]) == 10
    assert float(rows["beto"]["total"]) == 0
    assert rows["carla"]["status"] == "not_submitted"
    assert (out / "results" / "ana.json").is_file()
    # a rerun skips unchanged students and yields the same gradebook
    before = (out / "gradebook.csv").read_text()
    assert main(["grade", str(subs), "--out", str(out), "--pack", str(pack), "--lang", "en"]) == 0
    assert (out / "gradebook.csv").read_text() == before


def test_grade_one_writes_gradescope_results(tmp_path: Path) -> None:
    import json

    from tfgrade.reports.gradescope import RESULTS_SCHEMA

    jsonschema = pytest.importorskip("jsonschema")
    sub = tmp_path / "submission"
    sub.mkdir()
    shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", sub / "ex01_tf1_add.py")
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "exercises" / "ex01_tf1_add", pack / "ex01_tf1_add")
    out = tmp_path / "results.json"
    assert main(["grade-one", str(sub), "--gradescope", str(out), "--pack", str(pack), "--lang", "en"]) == 0
    data = json.loads(out.read_text())
    jsonschema.validate(data, RESULTS_SCHEMA)
    assert data["score"] == 10
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert len(hidden) == 1 and hidden[0]["score"] == 1


def test_gradescope_bundle(tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "autograder.zip"
    assert main(["gradescope-bundle", "--out", str(out)]) == 0
    names = zipfile.ZipFile(out).namelist()
    assert "setup.sh" in names and "run_autograder" in names


def test_check_a_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline"),
                nbformat.v4.new_code_cell((ROOT / "solutions" / "ex03_functional.py").read_text())]
    path = tmp_path / "ex03_functional.ipynb"
    path.write_text(nbformat.writes(nb))
    assert main(["check", str(path), "--lang", "en"]) == 0
    assert "Points: 10/10" in capsys.readouterr().out


def test_validate_good_and_broken_packs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "pack"
    for ex_id in ("ex01_tf1_add", "ex03_functional"):
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    assert main(["validate", "--pack", str(pack), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "OK  ex01_tf1_add" in out and "Pack is valid" in out
    # a check without its [checks.*] table, and a starter that scores points
    checks = pack / "ex03_functional" / "checks.py"
    checks.write_text(checks.read_text() + "\n\ndef test_orphan():\n    pass\n")
    starter = pack / "ex03_functional" / "starter.py"
    starter.write_text((ROOT / "solutions" / "ex03_functional.py").read_text())
    assert main(["validate", "--pack", str(pack), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "test_orphan has no [checks.orphan]" in out
    assert "starter scores 10" in out and "Pack has problems" in out
