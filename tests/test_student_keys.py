"""Students with the same name stay apart: results, reports, gradebook and LMS exports are
keyed by a unique student key (the LMS id where there is one), and two folders that would
share one are refused."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
from report_fixtures import full_marks_student

from tfgrade.cli import main
from tfgrade.errors import DuplicateStudentError
from tfgrade.intake.classfolder import discover
from tfgrade.pack.course import Course
from tfgrade.reports.lms import write_canvas_csv, write_moodle_csv

ROOT = Path(__file__).resolve().parent.parent
A111 = "Ana Lopez_111_assignsubmission_file_"
A222 = "Ana Lopez_222_assignsubmission_file_"


def _pack(tmp: Path) -> Path:
    pack = tmp / "pack"
    for ex_id in ("ex01_tf1_add", "ex02_sequential"):
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    return pack


def _moodle_class(root: Path) -> Path:
    """Two students called the same; the first also has Moodle's onlinetext folder."""
    good = (ROOT / "solutions" / "ex02_sequential.py").read_text()
    (root / A111).mkdir(parents=True)
    (root / A111 / "ex02_sequential.py").write_text(good)
    (root / "Ana Lopez_111_assignsubmission_onlinetext_").mkdir()
    (root / "Ana Lopez_111_assignsubmission_onlinetext_" / "onlinetext.html").write_text("hola")
    (root / A222).mkdir()
    (root / A222 / "Copia de ex02_sequential (1).py").write_text("def build_model(:\n")
    shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", root / A222 / "ex01_tf1_add.py")
    return root


def _zip_of(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return dest


@pytest.fixture(params=["folder", "zip"])
def moodle_download(request, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    folder = _moodle_class(tmp_path / "moodle")
    return folder if request.param == "folder" else _zip_of(folder, tmp_path / "moodle.zip")


def test_intake_keeps_same_named_students_apart(moodle_download: Path, tmp_path: Path) -> None:
    course = Course.load(_pack(tmp_path))
    students = {s.key: s for s in discover(moodle_download, course, tmp_path / "work")}
    assert set(students) == {"111", "222"}
    assert students["111"].display == "Ana Lopez (111)" and students["222"].display == "Ana Lopez (222)"
    assert set(students["111"].files) == {"ex02_sequential"}
    assert len(students["111"].extra_folders) == 1            # the onlinetext folder, merged
    assert set(students["222"].files) == {"ex01_tf1_add", "ex02_sequential"}


def test_grading_same_named_students(moodle_download: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["grade", str(moodle_download), "--out", str(out), "--pack", str(_pack(tmp_path)),
                 "-j", "1", "--lang", "en"]) == 0
    assert sorted(p.name for p in (out / "results").glob("*.json")) == ["Ana Lopez_111.json", "Ana Lopez_222.json"]
    assert sorted(p.name for p in (out / "reports").glob("*.html")) == ["Ana Lopez_111.html", "Ana Lopez_222.html"]
    rows = list(csv.DictReader((out / "gradebook.csv").open(encoding="utf-8")))
    assert [(r["student"], r["id"]) for r in rows] == [("Ana Lopez (111)", "111"), ("Ana Lopez (222)", "222")]
    by_id = {r["id"]: r for r in rows}
    assert float(by_id["111"]["ex01_tf1_add"]) == 0 and float(by_id["111"]["ex02_sequential"]) > 0
    assert float(by_id["222"]["ex01_tf1_add"]) == 10 and float(by_id["222"]["ex02_sequential"]) == 0
    moodle = list(csv.reader((out / "lms" / "moodle.csv").open(encoding="utf-8")))
    assert sorted(r[0] for r in moodle[1:]) == ["111", "222"]
    canvas = list(csv.reader((out / "lms" / "canvas.csv").open(encoding="utf-8")))
    assert sorted(r[1] for r in canvas[2:]) == ["111", "222"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Ana%20Lopez_111.html" in index and "Ana%20Lopez_222.html" in index


@pytest.mark.parametrize("first,second", [
    (A111, "Ana M Lopez_111_assignsubmission_file_"),     # one Moodle id, two names
    (A111, "111"),                                         # a plain folder named like an LMS id
    (A111, "Ana Lopez (111)"),                             # a plain folder named like a display name
])
def test_two_folders_with_one_key_are_refused(tmp_path: Path, first: str, second: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "subs"
    for name in (first, second):
        (subs / name).mkdir(parents=True)
        shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", subs / name / "ex01_tf1_add.py")
    course = Course.load(_pack(tmp_path))
    with pytest.raises(DuplicateStudentError) as err:
        discover(subs, course, tmp_path / "work")
    assert "same student" in err.value.msg.en and "mismo estudiante" in err.value.msg.es
    for lang, words in (("en", "two folders map to the same student"), ("es", "dos carpetas corresponden")):
        assert main(["grade", str(subs), "--out", str(tmp_path / "out"), "--pack", str(tmp_path / "pack"),
                     "--lang", lang]) == 2
        text = capsys.readouterr().err
        assert words in text and "Traceback" not in text
    assert not (tmp_path / "out" / "results").exists()


def test_lms_exports_keep_same_named_students_apart(tmp_path: Path) -> None:
    from dataclasses import replace

    a = replace(full_marks_student(), student="Ana Lopez", student_id="111")
    b = replace(full_marks_student(), student="Ana Lopez", student_id="222")
    moodle = write_moodle_csv([a, b], tmp_path, identifier="id_number")
    rows = list(csv.reader(moodle.path.open(encoding="utf-8")))
    assert sorted(r[0] for r in rows[1:]) == ["111", "222"]
    # a roster that only knows the name cannot tell them apart: neither gets the other's grade
    roster = [{"student": "Ana Lopez", "email": "ana@uni.es", "canvas_id": "", "id_number": ""}]
    moodle = write_moodle_csv([a, b], tmp_path, roster=roster)
    assert len(list(csv.reader(moodle.path.open(encoding="utf-8")))) == 1          # header only
    assert {(u.student_id, u.reason) for u in moodle.unmatched} >= {("111", "ambiguous"), ("222", "ambiguous")}
    # with the LMS ids in the roster each one finds their own row
    roster = [{"student": "Ana Lopez", "canvas_id": "111", "sis_user_id": "S1"},
              {"student": "Ana Lopez", "canvas_id": "222", "sis_user_id": "S2"}]
    canvas = write_canvas_csv([a, b], tmp_path, roster=roster)
    rows = list(csv.reader(canvas.path.open(encoding="utf-8")))
    assert sorted((r[1], r[2]) for r in rows[2:]) == [("111", "S1"), ("222", "S2")]
