"""An instructor's week end to end through the command line: a Moodle download graded with
the course's [deadline], an overrides file and a times file; `report` re-rendering with what
`grade` remembered; Gradescope's grade-one with submission_metadata.json. One small exercise
(ex01) keeps the real grading short."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from tfgrade.cli import main
from tfgrade.policy.audit import LOG_NAME, read_log

ROOT = Path(__file__).resolve().parent.parent
COURSE = """
[deadline]
due = 2026-11-30T23:59:00+01:00
late_until = 2026-12-07T23:59:00+01:00
penalty_per_day = 0.10
[deadline.extensions]
"12345" = 2026-12-03T23:59:00+01:00
"""


def pack(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(ROOT / "exercises" / "ex01_tf1_add", folder / "ex01_tf1_add")
    return folder


def moodle_class(tmp_path: Path) -> Path:
    subs = tmp_path / "download"
    for name, sid in (("Ana López", "12345"), ("Bruno Díaz", "222"), ("Carla Ruiz", "333")):
        folder = subs / f"{name}_{sid}_assignsubmission_file_"
        folder.mkdir(parents=True)
        shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", folder / "ex01_tf1_add.py")
    # Carla's file is dated Dec 3rd 12:00 CET: with no other time, the file's date decides.
    moment = 1796295600.0          # 2026-12-03T11:00:00Z
    os.utime(subs / "Carla Ruiz_333_assignsubmission_file_" / "ex01_tf1_add.py", (moment, moment))
    return subs


def rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}


def test_grade_with_deadline_overrides_and_times_then_report(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    course = tmp_path / "course.toml"
    course.write_text(COURSE, encoding="utf-8")
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\n12345,2026-12-04T10:00:00+01:00\n222,2026-11-30T20:00:00+01:00\n",
                     encoding="utf-8")
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,check,points,delta,reason,by,when\n"
                         "222,ex01_tf1_add,,,-2,used tf.add twice,mg,2026-12-02\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["grade", str(moodle_class(tmp_path)), "--out", str(out), "--pack", str(pack(tmp_path)), "--lang", "en",
            "--course", str(course), "--overrides", str(overrides), "--submission-times", str(times), "-j", "1"]
    assert main(args) == 0
    book = rows(out / "gradebook.csv")
    # Ana: extension to Dec 3rd, handed in Dec 4th 10:00 (the instructor's CSV): one day, 10 %.
    assert float(book["12345"]["total"]) == 10 and float(book["12345"]["final"]) == 9
    assert book["12345"]["time_source"] == "csv"
    # Bruno: on time, 2 points taken by the instructor.
    assert float(book["222"]["final"]) == 8 and book["222"]["adjusted"] == "True"
    # Carla: the file's date (Dec 3rd): three started days late, and the report says where the time came from.
    assert book["333"]["time_source"] == "file_time" and float(book["333"]["final"]) == 7
    carla = (out / "reports" / "Carla Ruiz_333.html").read_text(encoding="utf-8")
    assert "files&#39; dates" in carla or "files' dates" in carla
    assert read_log(out / LOG_NAME)[0]["student"] == "222"
    # `report` with no flags renders the same grades from what grade remembered.
    before = (out / "gradebook.csv").read_text(encoding="utf-8")
    assert main(["report", str(out), "--lang", "en"]) == 0
    assert (out / "gradebook.csv").read_text(encoding="utf-8") == before
    assert len(read_log(out / LOG_NAME)) == 1


def test_a_typo_in_the_overrides_stops_before_grading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,check,points,delta,reason,by,when\n"
                         "222,ex01_tf1_add,no_such_check,1,,r,,\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["grade", str(moodle_class(tmp_path)), "--out", str(out), "--pack", str(pack(tmp_path)),
                 "--lang", "en", "--overrides", str(overrides)])
    assert code == 2
    assert "no check 'no_such_check'" in capsys.readouterr().err
    assert not (out / "results").exists()            # nothing was graded for nothing


def test_grade_one_honours_the_deadline_with_gradescope_metadata(tmp_path: Path) -> None:
    course = tmp_path / "course.toml"
    course.write_text(COURSE, encoding="utf-8")
    root = tmp_path / "autograder"
    sub = root / "submission"
    sub.mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", sub / "ex01_tf1_add.py")
    (root / "submission_metadata.json").write_text(json.dumps({
        "id": 123, "created_at": "2026-12-02T01:30:00.000000+01:00",
        "users": [{"email": "ana@uni.es", "id": 9, "name": "Ana López", "sid": "777"}]}), encoding="utf-8")
    out = tmp_path / "results.json"
    assert main(["grade-one", str(sub), "--gradescope", str(out), "--pack", str(pack(tmp_path)), "--lang", "en",
                 "--course", str(course)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["score"] == pytest.approx(8.0)             # two started days late: 20 %
    assert "from Gradescope" in data["output"]


WORKSHEET_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
                    "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def test_the_moodle_week_download_grade_upload(tmp_path: Path) -> None:
    """Download (submissions zip + worksheet) → grade with the course's deadline → the worksheet
    to upload has the grade after the penalty, the zip has each report in its folder."""
    import zipfile

    course = tmp_path / "course.toml"
    # Moodle's dates have no offset: they are read in the deadline's own zone.
    course.write_text(COURSE.replace("penalty_per_day = 0.10\n", 'penalty_per_day = 0.10\ntimezone = "Europe/Madrid"\n'),
                      encoding="utf-8")
    subs = moodle_class(tmp_path)
    archive = tmp_path / "Práctica 1-12-submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(subs.rglob("*")):
            zf.write(path, path.relative_to(subs).as_posix())
    worksheet = tmp_path / "Grades-Práctica 1.csv"
    rows = [WORKSHEET_HEADER,
            ["Participant 12345", "Ana López", "ana@uni.es", "Submitted for grading", "", "100.00", "Yes",
             "Friday, 4 December 2026, 10:00 AM", "-", ""],      # extension to Dec 3rd: one day late
            ["Participant 222", "Bruno Díaz", "bruno@uni.es", "Submitted for grading", "", "100.00", "Yes",
             "Monday, 30 November 2026, 8:00 PM", "-", ""],
            ["Participant 333", "Carla Ruiz", "carla@uni.es", "Submitted for grading", "", "100.00", "Yes",
             "Wednesday, 2 December 2026, 9:00 AM", "-", ""],    # two started days late
            ["Participant 444", "Dario Nadie", "dario@uni.es", "No submission", "", "100.00", "Yes", "-", "-", ""]]
    with open(worksheet, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    out = tmp_path / "out"
    assert main(["grade", str(archive), "--out", str(out), "--pack", str(pack(tmp_path)), "--lang", "en",
                 "--course", str(course), "--worksheet", str(worksheet), "-j", "1"]) == 0
    book = {r["id"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert {k: book[k]["time_source"] for k in ("12345", "222", "333")} == dict.fromkeys(("12345", "222", "333"),
                                                                                          "worksheet")
    filled = {r["Identifier"]: r for r in csv.DictReader((out / "moodle" / "grading_worksheet.csv")
                                                         .open(encoding="utf-8-sig"))}
    assert filled["Participant 12345"]["Grade"] == "90"      # 10/10 less 10 %, on the 100-point scale
    assert filled["Participant 222"]["Grade"] == "100"
    assert filled["Participant 333"]["Grade"] == "80"
    assert filled["Participant 444"]["Grade"] == ""           # no result: left as downloaded, and listed
    assert "Late penalty" in filled["Participant 333"]["Feedback comments"]
    unmatched = (out / "moodle" / "moodle_worksheet_unmatched.csv").read_text(encoding="utf-8")
    assert "444" in unmatched
    with zipfile.ZipFile(out / "moodle" / "feedback_files.zip") as zf:
        names = zf.namelist()
        assert any(n.startswith("Carla Ruiz_333_assignsubmission_file") and n.endswith(".html") for n in names)
        assert len(names) == 3
        carla = zf.read(next(n for n in names if n.startswith("Carla"))).decode("utf-8")
    assert "2 started day(s) late" in carla and "from Moodle" in carla


def test_grade_one_sends_the_public_leaderboard_figure(tmp_path: Path) -> None:
    import jsonschema

    from tfgrade.reports.gradescope import RESULTS_SCHEMA

    course = tmp_path / "course.toml"
    course.write_text("[leaderboard]\npublic_share = 0.5\n", encoding="utf-8")
    folder = tmp_path / "pack"
    shutil.copytree(ROOT / "exercises" / "ex04_regression", folder / "ex04_regression")
    sub = tmp_path / "autograder" / "submission"
    sub.mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / "ex04_regression.py", sub / "ex04_regression.py")
    out = tmp_path / "results.json"
    ours = tmp_path / "result.json"
    assert main(["grade-one", str(sub), "--gradescope", str(out), "--json", str(ours), "--pack", str(folder),
                 "--lang", "en", "--course", str(course)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(data, RESULTS_SCHEMA)
    board = data["leaderboard"]
    assert len(board) == 1 and board[0]["order"] == "asc" and "public" in board[0]["name"]   # MAE: lower wins
    figures = next(c["details"]["leaderboard"] for e in json.loads(ours.read_text(encoding="utf-8"))["exercises"]
                   for c in e["checks"] if "leaderboard" in c["details"])
    assert board[0]["value"] == pytest.approx(figures["public"], abs=1e-4)
    assert str(figures["private"]) not in out.read_text(encoding="utf-8")       # students see the public part only
