"""The course's [deadline]: parsing, the penalty per started day, the cut-off, extensions,
submission times by source, and what the gradebook, the student report and Gradescope say."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import ex01_full, ex02_full, full_marks_student, not_submitted_student, submission

from tfgrade.engine.results import SubmissionResult
from tfgrade.errors import PackError
from tfgrade.pack.course import Course
from tfgrade.policy.apply import Policy, RunSettings, build_policy
from tfgrade.policy.deadline import DeadlineError, DeadlinePolicy, late_by_text
from tfgrade.policy.submission_times import (
    SubmissionTimes,
    gradescope_created_at,
    load_file_times,
    read_times_csv,
    save_file_times,
)
from tfgrade.reports.gradescope import to_gradescope
from tfgrade.reports.render import render_all

CET = timezone(timedelta(hours=1))
ISSUE_TABLE = """
[deadline]
due = 2026-11-30T23:59:00+01:00
late_until = 2026-12-07T23:59:00+01:00   # after it: 0
penalty_per_day = 0.10                   # share of the total lost per started day late
[deadline.extensions]                    # student key (the LMS id where there is one) = new due
"12345" = 2026-12-03T23:59:00+01:00
"""


def policy() -> DeadlinePolicy:
    return DeadlinePolicy.from_table(tomllib.loads(ISSUE_TABLE)["deadline"])


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CET)


def test_the_issue_table_parses_from_a_course_file(tmp_path: Path) -> None:
    cfg = tmp_path / "course.toml"
    cfg.write_text(ISSUE_TABLE, encoding="utf-8")
    course = Course.load(config=cfg)
    assert course.deadline is not None
    assert course.deadline.due == datetime(2026, 11, 30, 23, 59, tzinfo=CET)
    assert course.deadline.penalty_per_day == pytest.approx(0.10)
    assert course.deadline.extensions["12345"] == at(3, 23, 59)


@pytest.mark.parametrize(("submitted", "days", "share"), [
    (at(30, 23, 59, month=11), 0, 0.0),          # exactly on the deadline: on time
    (at(1, 0, 0), 1, 0.10),                       # one minute late: one started day
    (at(1, 23, 59), 1, 0.10),                     # a whole day late: still one day
    (at(2, 0, 0), 2, 0.20),                       # the second day has started
    (at(7, 23, 59), 7, 0.70),                     # the last minute accepted
])
def test_each_started_day_costs_its_share(submitted: datetime, days: int, share: float) -> None:
    late = policy().penalty(("999",), submitted, "worksheet")
    assert (late.days_late, late.after_cutoff) == (days, False)
    assert late.share == pytest.approx(share)
    assert late.is_late == (days > 0)


def test_after_late_until_the_whole_total_is_lost() -> None:
    late = policy().penalty(("999",), at(8, 0, 0), "worksheet")
    assert late.after_cutoff and late.share == 1.0


def test_an_extension_moves_the_due_and_the_cutoff() -> None:
    on_time = policy().penalty(("12345",), at(3, 23, 0), "csv")
    assert on_time.extended and not on_time.is_late and on_time.share == 0.0
    late = policy().penalty(("12345",), at(4, 1, 0), "csv")
    assert late.days_late == 1 and late.share == pytest.approx(0.10)
    # The cut-off moved by the extension's three days: Dec 10th is still accepted.
    assert not policy().penalty(("12345",), at(10, 20, 0), "csv").after_cutoff
    assert policy().penalty(("99",), at(10, 20, 0), "csv").after_cutoff


def test_the_penalty_never_exceeds_the_total_without_a_cutoff() -> None:
    table = {"due": "2026-11-30T23:59:00+01:00", "penalty_per_day": 0.25}
    late = DeadlinePolicy.from_table(table).penalty(("x",), at(20, 0, 0), "csv")
    assert late.share == 1.0 and not late.after_cutoff


def test_grace_minutes_and_timezone_for_naive_times() -> None:
    table = {"due": datetime(2026, 11, 30, 23, 59), "timezone": "Europe/Madrid", "grace_minutes": 10,
             "penalty_per_day": 0.1}
    pol = DeadlinePolicy.from_table(table)
    assert pol.due.utcoffset() == timedelta(hours=1)
    assert not pol.penalty(("x",), datetime(2026, 12, 1, 0, 5), "worksheet").is_late      # naive: Madrid
    assert pol.penalty(("x",), datetime(2026, 12, 1, 0, 10, tzinfo=UTC), "worksheet").is_late


@pytest.mark.parametrize("table", [
    {},                                                                # no due
    {"due": "mañana"},
    {"due": datetime(2026, 11, 30, 23, 59)},                           # no offset, no timezone
    {"due": "2026-11-30T23:59:00+01:00", "penalty_per_day": 1.5},
    {"due": "2026-11-30T23:59:00+01:00", "penalty_per_day": "10%"},
    {"due": "2026-11-30T23:59:00+01:00", "late_until": "2026-11-01T00:00:00+01:00"},
    {"due": "2026-11-30T23:59:00+01:00", "timezone": "Mars/Olympus"},
    {"due": "2026-11-30T23:59:00+01:00", "penalty": 0.1},             # a typo'd key is not ignored
    {"due": "2026-11-30T23:59:00+01:00", "extensions": {"1": "soon"}},
])
def test_a_bad_table_is_a_clear_bilingual_error(table: dict) -> None:
    with pytest.raises(DeadlineError) as info:
        DeadlinePolicy.from_table(table)
    assert isinstance(info.value, PackError)
    assert info.value.msg.es != info.value.msg.en and "[deadline]" in info.value.msg.en


def test_late_by_text() -> None:
    assert late_by_text(0) == ""
    assert late_by_text(60) == "0d 00:01"
    assert late_by_text(2 * 86400 + 3 * 3600 + 15 * 60) == "2d 03:15"


# --------------------------------------------------------------------------- times by source

def test_times_csv_and_precedence(tmp_path: Path) -> None:
    csv_path = tmp_path / "times.csv"
    csv_path.write_text("student,submitted_at\n12345,2026-12-02T10:00:00+01:00\nana,2026-11-29T09:00:00\n",
                        encoding="utf-8")
    times = read_times_csv(csv_path, CET)
    assert times["12345"] == at(2, 10) and times["ana"] == datetime(2026, 11, 29, 9, tzinfo=CET)
    table = (SubmissionTimes().with_source("file_time", {"12345": at(9, 0)})
             .with_source("worksheet", {"12345": at(5, 0)}).with_source("csv", times))
    stamp = table.lookup(["12345"])
    assert stamp is not None and (stamp.at, stamp.source) == (at(2, 10), "csv")
    only_files = SubmissionTimes().with_source("file_time", {"b": at(9, 0)}).lookup(["b"])
    assert only_files is not None and only_files.source == "file_time"
    assert table.lookup(["nobody"]) is None


def test_a_bad_times_csv_says_which_line(tmp_path: Path) -> None:
    bad = tmp_path / "times.csv"
    bad.write_text("student,submitted_at\nana,ayer\n", encoding="utf-8")
    with pytest.raises(Exception) as info:
        read_times_csv(bad, CET)
    assert "line 2" in info.value.msg.en and "línea 2" in info.value.msg.es    # type: ignore[attr-defined]


def test_gradescope_metadata(tmp_path: Path) -> None:
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"id": 1, "created_at": "2026-12-01T10:15:30.123456-08:00",
                                "users": [{"email": "ana@uni.es", "id": 77, "name": "Ana", "sid": "12345"}]}),
                    encoding="utf-8")
    created, ids = gradescope_created_at(meta)
    assert created == datetime(2026, 12, 1, 18, 15, 30, 123456, tzinfo=UTC)
    assert ids == ["12345", "ana@uni.es", "77"]
    assert gradescope_created_at(tmp_path / "absent.json") == (None, [])
    meta.write_text("[1, 2", encoding="utf-8")
    assert gradescope_created_at(meta) == (None, [])


def test_file_times_round_trip(tmp_path: Path) -> None:
    save_file_times(tmp_path, {"ana": at(1, 12)})
    assert load_file_times(tmp_path) == {"ana": at(1, 12)}
    assert load_file_times(tmp_path / "none") == {}


# --------------------------------------------------------------------------- in the outputs

def late_class() -> list[SubmissionResult]:
    return [replace_id(full_marks_student("ana"), "12345"), replace_id(full_marks_student("bea"), "222"),
            replace_id(submission("carl", [ex01_full(), ex02_full()]), "333"),
            replace_id(not_submitted_student("dario"), "444")]


def replace_id(result: SubmissionResult, sid: str) -> SubmissionResult:
    from dataclasses import replace

    return replace(result, student_id=sid)


def test_policy_applies_to_results_and_gradebook(tmp_path: Path) -> None:
    times = SubmissionTimes().with_source("worksheet", {"12345": at(4, 1), "222": at(2, 12)}) \
        .with_source("file_time", {"333": at(29, 8, month=11)})
    pol = Policy(deadline=policy(), times=times)
    results = late_class()
    summary = render_all(tmp_path, "en", results=results, policy=pol)
    assert summary.index is not None
    book = pd.read_csv(tmp_path / "gradebook.csv", dtype={"id": str}).set_index("id")
    # ana: extension to Dec 3rd, handed in Dec 4th 01:00: one day, 10 %.
    assert book.loc["12345", "penalty"] == pytest.approx(0.1 * book.loc["12345", "total"])
    assert book.loc["12345", "final"] == pytest.approx(0.9 * book.loc["12345", "total"])
    assert book.loc["12345", "time_source"] == "worksheet" and book.loc["12345", "late_by"] == "0d 01:01"
    # bea: Dec 2nd 12:00, two started days.
    assert book.loc["222", "final"] == pytest.approx(0.8 * book.loc["222", "total"])
    # carl: on time by the files' dates, and the gradebook says where the time came from.
    assert book.loc["333", "penalty"] == 0 and book.loc["333", "time_source"] == "file_time"
    # dario handed in nothing: no time, no penalty columns.
    assert pd.isna(book.loc["444", "penalty"])
    assert book.loc["12345", "percent"] == pytest.approx(90.0)
    moodle = pd.read_csv(tmp_path / "lms" / "moodle.csv", dtype=str).set_index("Email address")
    assert float(moodle.loc["12345", "tfgrade"]) == pytest.approx(book.loc["12345", "final"], abs=0.01)


def test_student_report_shows_the_penalty_and_why(tmp_path: Path) -> None:
    times = SubmissionTimes().with_source("file_time", {"222": at(2, 12)})
    render_all(tmp_path, "es", results=late_class(), policy=Policy(deadline=policy(), times=times))
    html = next((tmp_path / "reports").glob("bea*.html")).read_text(encoding="utf-8")
    assert 'id="deadline"' in html
    assert "2 día(s) de retraso" in html and "20 %" in html
    assert "fecha de los archivos" in html              # the time came from the files, and it says so
    carl = next((tmp_path / "reports").glob("carl*.html")).read_text(encoding="utf-8")
    assert "No se encontró la hora de entrega" in carl
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "entregado tarde" in index


def test_no_deadline_changes_nothing(tmp_path: Path) -> None:
    render_all(tmp_path, "en", results=late_class())
    book = pd.read_csv(tmp_path / "gradebook.csv", dtype={"id": str}).set_index("id")
    assert (book["final"] == book["total"]).all() and book["penalty"].isna().all()
    html = next((tmp_path / "reports").glob("bea*.html")).read_text(encoding="utf-8")
    assert 'id="deadline"' not in html


def test_gradescope_score_honours_the_policy() -> None:
    result = Policy(deadline=policy(), times=SubmissionTimes().with_source("gradescope", {"bea": at(2, 12)})) \
        .apply([full_marks_student("bea")], {}).results[0]
    out = to_gradescope(result, 3.0, lang="en")
    assert out["score"] == pytest.approx(0.8 * result.score)
    assert "2 started day(s) late" in out["output"] and "Gradescope" in out["output"]


def test_report_remembers_the_course_file(tmp_path: Path) -> None:
    cfg = tmp_path / "course.toml"
    cfg.write_text(ISSUE_TABLE, encoding="utf-8")
    RunSettings(course=cfg).save(tmp_path)
    stored = RunSettings.load(tmp_path)
    assert stored.course == cfg.resolve()
    assert stored.overlay(course=None).course == cfg.resolve()
    built = build_policy(stored, Course.load(config=stored.course).deadline, tmp_path)
    assert built.deadline is not None and built.overrides is None


def test_an_extension_or_time_for_nobody_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in an extension's id would penalise the student it meant: it is told, by name."""
    times = SubmissionTimes().with_source("csv", {"12345": at(1, 0), "99999": at(1, 0)})
    outcome = Policy(deadline=policy(), times=times).apply(late_class(), {})
    said = [m.en for m in outcome.warnings]
    assert not any("[deadline.extensions]" in w for w in said)      # 12345 has a result: nothing to say
    assert any("submission-times" in w and "99999" in w for w in said)
    typo = DeadlinePolicy.from_table({**tomllib.loads(ISSUE_TABLE)["deadline"], "extensions": {"12354": "2026-12-03"}})
    said = [m.en for m in Policy(deadline=typo).apply(late_class(), {}).warnings]
    assert any("[deadline.extensions]" in w and "12354" in w for w in said)
    for r in late_class():
        r.save(tmp_path / "results" / f"{r.file_label}.json")
    cfg = tmp_path / "course.toml"
    cfg.write_text(ISSUE_TABLE.replace('"12345"', '"12354"'), encoding="utf-8")
    from tfgrade.cli import main

    assert main(["report", str(tmp_path), "--lang", "en", "--course", str(cfg)]) == 0
    assert "12354" in capsys.readouterr().err


def test_the_class_report_flags_where_a_time_came_from() -> None:
    from tfgrade.reports.class_report import student_flags

    times = SubmissionTimes().with_source("file_time", {"222": at(2, 12)}).with_source("worksheet", {"12345": at(1, 1)})
    results = Policy(deadline=policy(), times=times).apply(late_class(), {}).results
    flags = {r.key: student_flags(r) for r in results}
    assert "late" in flags["222"] and "late_time_from_files" in flags["222"]
    assert "late_time_from_files" not in flags["12345"] and "late" not in flags["12345"]   # extension: on time
    assert "late_time_unknown" in flags["333"] and "late" not in flags["333"]
    assert not {"late", "late_time_unknown"} & set(flags["444"])                         # handed in nothing
