"""Instructor overrides: the CSV, every way it can be wrong, what it changes in each output,
and the append-only audit log."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import failing_student, full_marks_student, missing, not_submitted_student, submission

from tfgrade.cli import main
from tfgrade.engine.results import SubmissionResult
from tfgrade.policy.apply import Policy
from tfgrade.policy.audit import LOG_NAME, read_log
from tfgrade.policy.overrides import OverrideError, Overrides, apply_overrides, precheck
from tfgrade.reports.gradescope import to_gradescope
from tfgrade.reports.render import render_all

HEADER = "student,exercise,check,points,delta,reason,by,when\n"


def write(tmp_path: Path, body: str, name: str = "overrides.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def klass() -> list[SubmissionResult]:
    return [replace(full_marks_student("Ana López"), student_id="12345"),
            replace(failing_student("Bruno Díaz"), student_id="222"),
            replace(not_submitted_student("Darío"), student_id="444")]


def failed_check(result: SubmissionResult) -> tuple[str, str, float, float]:
    for ex in result.exercises:
        for c in ex.checks:
            if c.status in ("failed", "error") and c.max_points > 0:
                return ex.exercise, c.id, c.points, c.max_points
    raise AssertionError("the fixture has no failed check")


def test_set_a_check_and_add_to_an_exercise(tmp_path: Path) -> None:
    results = klass()
    ex_id, check_id, before, top = failed_check(results[1])
    path = write(tmp_path, f"222,{ex_id},{check_id},{top},,regrade: the data file was the old one,mg,2026-12-02\n"
                           f'Ana López (12345),ex02_sequential,,,"-1,5",copied the slide verbatim,mg,\n')
    out, applied = apply_overrides(results, Overrides.read(path), {})
    bruno, ana = out[1], out[0]
    check = next(c for c in bruno.exercise(ex_id).checks if c.id == check_id)  # type: ignore[union-attr]
    assert check.points == top and check.adjustment is not None and check.adjustment.before == before
    assert bruno.score == pytest.approx(results[1].score + top - before)
    ex02 = ana.exercise("ex02_sequential")
    assert ex02 is not None and ex02.adjustment is not None
    assert ex02.score == pytest.approx(results[0].exercise("ex02_sequential").score - 1.5)  # type: ignore[union-attr]
    assert ana.adjusted and not out[2].adjusted
    assert {(a.student, a.exercise, a.check) for a in applied} == {("222", ex_id, check_id),
                                                                   ("12345", "ex02_sequential", "")}


def test_a_delta_stops_at_the_maximum_and_at_zero(tmp_path: Path) -> None:
    results = klass()
    path = write(tmp_path, "12345,ex02_sequential,,,+100,bonus,mg,\n222,ex01_tf1_add,,,-100,plagiarism,mg,\n")
    out, applied = apply_overrides(results, Overrides.read(path), {})
    ex02 = out[0].exercise("ex02_sequential")
    assert ex02 is not None and ex02.score == ex02.max_score
    assert out[1].exercise("ex01_tf1_add").score == 0  # type: ignore[union-attr]
    assert all(a.adjustment.clamped for a in applied)


def test_a_missing_exercise_can_be_graded_by_hand(tmp_path: Path) -> None:
    results = [submission("eva", [missing("ex02_sequential")], student_id="9")]
    path = write(tmp_path, "9,ex02_sequential,,8,,handed in by e-mail on time,mg,\n")
    out, _ = apply_overrides(results, Overrides.read(path), {"ex02_sequential": 10.0})
    assert out[0].exercise("ex02_sequential").score == 8  # type: ignore[union-attr]


@pytest.mark.parametrize(("body", "words"), [
    ("nobody,ex02_sequential,,1,,r,,\n", "no student 'nobody'"),
    ("12345,ex99,,1,,r,,\n", "'ex99' is not an exercise"),
    ("12345,ex02_sequential,no_such_check,1,,r,,\n", "no check 'no_such_check'"),
    ("12345,ex02_sequential,,1,1,r,,\n", "exactly one of"),
    ("12345,ex02_sequential,,,,r,,\n", "exactly one of"),
    ("12345,ex02_sequential,,uno,,r,,\n", "not a number"),
    ("12345,ex02_sequential,,-2,,r,,\n", "cannot be negative"),
    ("12345,ex02_sequential,,1,,,,\n", "'reason' is missing"),
    ("12345,ex02_sequential,,1000,,r,,\n", "exceed the maximum"),
    ("444,ex02_sequential,model_built,1,,r,,\n", "was not graded for this student"),
])
def test_every_bad_row_is_an_error_never_ignored(tmp_path: Path, body: str, words: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(OverrideError) as info:
        apply_overrides(klass(), Overrides.read(path), {})
    assert words in info.value.msg.en and "línea 2" in info.value.msg.es


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "nobody,ex02_sequential,,1,,r,,\n12345,ex99,,1,,r,,\n12345,ex01_tf1_add,,1,,fine,,\n")
    with pytest.raises(OverrideError) as info:
        apply_overrides(klass(), Overrides.read(path), {})
    assert "2 problem(s)" in info.value.msg.en and "line 2" in info.value.msg.en and "line 3" in info.value.msg.en


def test_a_name_two_students_share_must_be_an_id(tmp_path: Path) -> None:
    twins = [replace(full_marks_student("Ana"), student_id="1"), replace(full_marks_student("Ana"), student_id="2")]
    with pytest.raises(OverrideError) as info:
        apply_overrides(twins, Overrides.read(write(tmp_path, "Ana,ex01_tf1_add,,1,,r,,\n")), {})
    assert "more than one student" in info.value.msg.en
    out, _ = apply_overrides(twins, Overrides.read(write(tmp_path, "2,ex01_tf1_add,,1,,r,,\n")), {})
    assert not out[0].adjusted and out[1].adjusted


def test_not_a_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("name,grade\nana,3\n", encoding="utf-8")
    with pytest.raises(OverrideError) as info:
        Overrides.read(path)
    assert "needs the columns" in info.value.msg.en
    path.write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(OverrideError) as info:
        Overrides.read(path)
    assert "cannot read" in info.value.msg.en


def test_precheck_before_grading(tmp_path: Path) -> None:
    students = [(("12345", "Ana (12345)", "12345"), "Ana")]
    checks = {"ex02_sequential": {"model_built"}}
    precheck(Overrides.read(write(tmp_path, "Ana,ex02_sequential,model_built,1,,r,,\n")), students, checks)
    with pytest.raises(OverrideError) as info:
        precheck(Overrides.read(write(tmp_path, "Ana,ex02_sequential,typo,1,,r,,\n")), students, checks)
    assert "no check 'typo'" in info.value.msg.en
    with pytest.raises(OverrideError) as info:
        precheck(Overrides.read(write(tmp_path, "Anna,ex02_sequential,,1,,r,,\n")), students, checks)
    assert "no student" in info.value.msg.en


def test_every_output_carries_the_adjusted_points(tmp_path: Path) -> None:
    results = klass()
    ex_id, check_id, before, top = failed_check(results[1])
    path = write(tmp_path, f'222,{ex_id},{check_id},{top},,"regrade: <b>old</b> data file",mg,2026-12-02\n')
    pol = Policy(overrides=Overrides.read(path))
    render_all(tmp_path / "out", "en", results=results, policy=pol)
    book = pd.read_csv(tmp_path / "out" / "gradebook.csv", dtype={"id": str}).set_index("id")
    assert book.loc["222", "total"] == pytest.approx(results[1].score + top - before, abs=0.01)
    assert book.loc["222", ex_id] == pytest.approx(results[1].exercise(ex_id).score + top - before)  # type: ignore[union-attr]
    assert bool(book.loc["222", "adjusted"]) and not bool(book.loc["12345", "adjusted"])
    moodle = pd.read_csv(tmp_path / "out" / "lms" / "moodle.csv", dtype=str).set_index("Email address")
    assert float(moodle.loc["222", "tfgrade"]) == pytest.approx(book.loc["222", "total"], abs=0.01)
    html = next((tmp_path / "out" / "reports").glob("Bruno*.html")).read_text(encoding="utf-8")
    assert "adjusted by your instructor: regrade: &lt;b&gt;old&lt;/b&gt; data file" in html
    assert "<b>old</b>" not in html
    adjusted = pol.apply(results, {}).results[1]
    gs = to_gradescope(adjusted, 1.0, lang="en")
    assert gs["score"] == pytest.approx(adjusted.score)
    assert any("adjusted by your instructor" in t["output"] for t in gs["tests"])
    # The stored results are the automatic ones: applying twice adds nothing.
    assert pol.apply(pol.apply(results, {}).results, {}).results[1].score == adjusted.score


def test_the_log_is_append_only_and_records_changes(tmp_path: Path) -> None:
    results, out = klass(), tmp_path / "out"
    path = write(tmp_path, "222,ex01_tf1_add,,1,,first look,mg,\n")
    render_all(out, "en", results=results, policy=Policy(overrides=Overrides.read(path)))
    render_all(out, "en", results=results, policy=Policy(overrides=Overrides.read(path)))    # nothing new
    log = read_log(out / LOG_NAME)
    assert [e["action"] for e in log] == ["applied"]
    assert log[0]["student"] == "222" and log[0]["after"] == 1 and log[0]["lines"] == [2]
    assert log[0]["sha256"] == Overrides.read(path).sha256
    first_line = (out / LOG_NAME).read_text(encoding="utf-8").splitlines()[0]
    write(tmp_path, "222,ex01_tf1_add,,2,,second look,mg,\n")
    render_all(out, "en", results=results, policy=Policy(overrides=Overrides.read(path)))
    write(tmp_path, "")
    render_all(out, "en", results=results, policy=Policy(overrides=Overrides.read(path)))
    log = read_log(out / LOG_NAME)
    assert [e["action"] for e in log] == ["applied", "applied", "removed"]
    assert log[1]["reason"] == "second look" and log[2]["exercise"] == "ex01_tf1_add"
    assert (out / LOG_NAME).read_text(encoding="utf-8").splitlines()[0] == first_line


def test_report_command_with_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    for r in klass():
        r.save(out / "results" / f"{r.file_label}.json")
    good = write(tmp_path, "12345,ex01_tf1_add,,0,,no Session.run in the end,mg,\n")
    assert main(["report", str(out), "--lang", "en", "--overrides", str(good)]) == 0
    assert read_log(out / LOG_NAME)[0]["student"] == "12345"
    stored = json.loads((out / "results" / "Ana López_12345.json").read_text(encoding="utf-8"))
    assert all(e.get("adjustment") is None for e in stored["exercises"])      # results stay automatic
    # The next `report` remembers the file; a bad one is exit 2 with every problem, nothing written.
    before = (out / "gradebook.csv").read_text(encoding="utf-8")
    assert main(["report", str(out), "--lang", "en"]) == 0
    assert (out / "gradebook.csv").read_text(encoding="utf-8") == before
    bad = write(tmp_path, "nobody,ex01_tf1_add,,0,,r,,\n", name="bad.csv")
    assert main(["report", str(out), "--lang", "es", "--overrides", str(bad)]) == 2
    assert "no hay ningún estudiante «nobody»" in capsys.readouterr().err
    assert (out / "gradebook.csv").read_text(encoding="utf-8") == before


def test_a_spanish_excel_file_semicolons_decimal_commas_bom(tmp_path: Path) -> None:
    path = tmp_path / "ajustes.csv"
    path.write_bytes("\ufeffstudent;exercise;check;points;delta;reason;by;when\r\n"
                     "12345;ex02_sequential;;;-1,5;\"copió la diapositiva;\nsin citarla\";mg;2/12/2026\r\n"
                     "nobody;ex02_sequential;;1;;r;;\r\n".encode("utf-8"))
    overrides = Overrides.read(path)
    assert overrides.rows[0].delta == -1.5 and overrides.rows[0].reason == "copió la diapositiva;\nsin citarla"
    with pytest.raises(OverrideError) as info:
        apply_overrides(klass(), overrides, {})
    assert "line 4" in info.value.msg.en         # the row after a quoted line break starts on line 4


def test_report_can_forget_a_remembered_overrides_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for r in klass():
        r.save(out / "results" / f"{r.file_label}.json")
    path = write(tmp_path, "12345,ex01_tf1_add,,0,,r,mg,\n")
    assert main(["report", str(out), "--lang", "en", "--overrides", str(path)]) == 0
    path.unlink()                                    # the file is gone: `report` says so rather than guess
    assert main(["report", str(out), "--lang", "en"]) == 2
    assert main(["report", str(out), "--lang", "en", "--forget", "overrides"]) == 0
    log = read_log(out / LOG_NAME)
    assert [e["action"] for e in log] == ["applied", "removed"]
    assert main(["report", str(out), "--lang", "en"]) == 0          # forgotten for good


def test_precheck_and_apply_designate_students_by_one_rule(tmp_path: Path) -> None:
    """"222" is Bruno's id and also a (strange) folder name of another student: the exact id
    wins in both, so `grade` never refuses a file that `report` would apply."""
    results = [replace(failing_student("Bruno Díaz"), student_id="222"), full_marks_student("222")]
    overrides = Overrides.read(write(tmp_path, "222,ex01_tf1_add,,1,,r,,\n"))
    people = [((r.key, r.display_name, r.student_id or ""), r.student) for r in results]
    precheck(overrides, people, {"ex01_tf1_add": set()})
    out, _ = apply_overrides(results, overrides, {})
    assert out[0].adjusted and not out[1].adjusted
