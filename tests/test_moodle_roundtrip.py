"""Moodle's round trip: grading worksheet in, filled worksheet and feedback-files zip out.

The fixtures are written as Moodle writes them (see the docstrings of
tfgrade/reports/moodle_worksheet.py and moodle_feedback.py for the source files): English and
Spanish headers, a BOM, `userdate` dates and "-", `format_float` grades, "Grade can be changed",
a scale assignment, and folder names of "Download all submissions".
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from report_fixtures import check, exercise, submission

from tfgrade.engine.results import SubmissionResult
from tfgrade.reports.moodle_feedback import (
    moodle_folder,
    read_folders,
    safe_entry,
    write_feedback_zip,
    write_folders,
)
from tfgrade.reports.moodle_worksheet import (
    WorksheetError,
    fill_worksheet,
    moodle_grade_text,
    parse_moodle_date,
    participant_id,
    read_worksheet,
    worksheet_submission_times,
    write_worksheet,
)
from tfgrade.reports.render import render_all
from tfgrade.reports.student_report import write_student_report
from tfgrade.runners.batch import StudentFiles

HOSTILE = "</a><script>alert(1)</script>"
INJECTION = "=cmd|' /C calc'!A0"
EN_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade", "Grade can be changed",
             "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
ES_HEADER = ["Identificador", "Nombre completo", "Dirección Email", "Estado", "Calificación", "Calificación máxima",
             "La calificación puede ser cambiada", "Última modificación (entrega)",
             "Última modificación (calificación)", "Comentarios de retroalimentación"]
EN_ROWS = [
    ["Participant 101", "Ana López", "ana@example.org", "Submitted for grading", "", "10.00", "Yes",
     "Tuesday, 1 December 2026, 10:15 PM", "-", ""],
    ["Participant 102", "Ana López", "ana.l@example.org", "Submitted for grading - Graded", "5.00", "10.00", "Yes",
     "Monday, 30 November 2026, 9:05 AM", "Wednesday, 2 December 2026, 8:00 AM", "<p>old comment</p>"],
    ["Participant 103", INJECTION, "x@example.org", "Submitted for grading", "", "10.00", "Yes",
     "Tuesday, 1 December 2026, 11:59 PM", "-", ""],
    ["Participant 104", HOSTILE, "y@example.org", "Submitted for grading - Graded", "9.00", "10.00", "No",
     "Tuesday, 1 December 2026, 12:30 PM", "Wednesday, 2 December 2026, 8:00 AM", ""],
    ["Participant 105", "Nadie Entrega", "n@example.org", "No submission", "", "10.00", "Yes", "-", "-", ""],
]


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _result(name: str, sid: str | None, points: float, out_of: float = 10.0) -> SubmissionResult:
    status = "passed" if points == out_of else "failed"
    ex = exercise("ex01_tf1_add", [check("c", "Suma", "Sum", status, points, out_of)])
    return submission(name, [ex], student_id=sid)


def _class() -> list[SubmissionResult]:
    return [_result("Ana López", "101", 7.5), _result("Ana López", "102", 10.0), _result(INJECTION, "103", 2.0),
            _result(HOSTILE, "104", 6.0), _result("Otro Curso", "999", 4.0), _result("sin_id", None, 3.0)]


@pytest.fixture
def english(tmp_path: Path) -> Path:
    path = tmp_path / "Grades-TF2-Práctica 1-42.csv"
    path.write_bytes(("\ufeff" + _csv([EN_HEADER, *EN_ROWS])).encode("utf-8"))
    return path


@pytest.fixture
def spanish(tmp_path: Path) -> Path:
    """As Excel re-saves it: ';', no BOM; Spanish strings ("Participante" has no trailing space)."""
    rows = [ES_HEADER,
            ["Participante101", "Ana López", "ana@example.org", "Enviado para calificar", "", "10,00", "Sí",
             "martes, 1 de diciembre de 2026, 22:15", "-", ""],
            ["Participante 102", "Ana López", "ana.l@example.org", "Enviado para calificar - Calificado", "5,00",
             "10,00", "Sí", "lunes, 30 de noviembre de 2026, 9:05", "miércoles, 2 de diciembre de 2026, 8:00", ""]]
    path = tmp_path / "Calificaciones.csv"
    path.write_bytes(_csv(rows, ";").encode("utf-8"))
    return path


def _reread(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


# ------------------------------------------------------------------ reading
def test_an_english_download_is_read_with_its_bom_header_and_dates(english: Path) -> None:
    ws = read_worksheet(english, tz=UTC)
    assert ws.bom and ws.delimiter == "," and ws.header == tuple(EN_HEADER)
    assert [r.participant_id for r in ws.rows] == ["101", "102", "103", "104", "105"]
    first = ws.rows[0]
    assert (first.full_name, first.email, first.max_grade, first.can_change) == ("Ana López", "ana@example.org", 10.0, True)
    assert first.submitted_at == datetime(2026, 12, 1, 22, 15, tzinfo=UTC)
    assert ws.rows[3].can_change is False and ws.rows[3].submitted_at == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    assert ws.rows[4].submitted_at is None and ws.rows[4].submitted_raw == "-"
    assert worksheet_submission_times(ws) == {"101": datetime(2026, 12, 1, 22, 15, tzinfo=UTC),
                                              "102": datetime(2026, 11, 30, 9, 5, tzinfo=UTC),
                                              "103": datetime(2026, 12, 1, 23, 59, tzinfo=UTC),
                                              "104": datetime(2026, 12, 1, 12, 30, tzinfo=UTC)}


def test_a_spanish_worksheet_resaved_with_semicolons_is_read(spanish: Path) -> None:
    madrid = timezone(timedelta(hours=1))
    ws = read_worksheet(spanish, tz=madrid)
    assert ws.delimiter == ";" and not ws.bom and ws.header == tuple(ES_HEADER)
    assert [r.participant_id for r in ws.rows] == ["101", "102"]
    assert ws.rows[0].max_grade == 10.0 and ws.rows[0].can_change
    assert ws.rows[0].submitted_at == datetime(2026, 12, 1, 22, 15, tzinfo=madrid)
    assert ws.rows[1].submitted_at == datetime(2026, 11, 30, 9, 5, tzinfo=madrid)


@pytest.mark.parametrize(("text", "want"), [
    ("Tuesday, 1 December 2026, 10:15 PM", datetime(2026, 12, 1, 22, 15)),
    ("Friday, 11 December 2026, 12:30 AM", datetime(2026, 12, 11, 0, 30)),
    ("Friday, 11 December 2026, 12:05 PM", datetime(2026, 12, 11, 12, 5)),
    ("martes, 1 de diciembre de 2026, 22:15", datetime(2026, 12, 1, 22, 15)),
    ("sábado, 7 de marzo de 2026, 08:00", datetime(2026, 3, 7, 8, 0)),
    ("-", None), ("", None), ("Tuesday, 31 February 2026, 10:15 PM", None), ("13 Smarch 2026, 10:00", None),
])
def test_userdate_is_parsed_in_english_and_spanish(text: str, want: datetime | None) -> None:
    got = parse_moodle_date(text, UTC)
    assert got == (want.replace(tzinfo=UTC) if want else None)


def test_without_a_zone_the_machine_local_zone_is_used() -> None:
    got = parse_moodle_date("Tuesday, 1 December 2026, 10:15 PM")
    assert got is not None and got.tzinfo is not None
    assert got.replace(tzinfo=None) == datetime(2026, 12, 1, 22, 15)


@pytest.mark.parametrize(("identifier", "want"), [("Participant 12345", "12345"), ("Participante12345", "12345"),
                                                   ("Participante 7", "7"), ("Participant", None), ("", None)])
def test_the_participant_id_comes_from_identifier_in_either_language(identifier: str, want: str | None) -> None:
    assert participant_id(identifier) == want


def test_a_file_that_is_not_a_worksheet_is_refused_in_both_languages(tmp_path: Path) -> None:
    path = tmp_path / "moodle.csv"      # tfgrade's own gradebook import: not a worksheet
    path.write_text("Email address,Full name,tfgrade\nana@example.org,Ana,7\n", encoding="utf-8")
    with pytest.raises(WorksheetError) as info:
        read_worksheet(path)
    assert "Identifier / Identificador" in info.value.msg.en and "Grade / Calificación" in info.value.msg.es
    assert "no es una hoja de calificaciones" in info.value.msg.es


# ------------------------------------------------------------------ filling
def test_round_trip_keeps_columns_order_and_moodle_cells_and_writes_the_new_grades(english: Path) -> None:
    ws = read_worksheet(english)
    out = english.with_name("grading_worksheet.csv")
    write_worksheet(fill_worksheet(ws, _class()), out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    again = read_worksheet(out)
    assert again.header == ws.header and again.delimiter == ","
    assert [r.participant_id for r in again.rows] == [r.participant_id for r in ws.rows]
    grades = {r.participant_id: r.grade for r in again.rows}
    assert grades == {"101": "7.5", "102": "10", "103": "2", "104": "9.00", "105": ""}
    for before, after in zip(ws.rows, again.rows, strict=True):
        for i, name in enumerate(ws.header):
            if name not in ("Grade", "Feedback comments") or before.participant_id in ("104", "105"):
                assert after.cells[i] == before.cells[i], (before.participant_id, name)
    assert again.rows[2].full_name == INJECTION            # Moodle's own cell, never rewritten
    feedback = again.rows[0].cells[EN_HEADER.index("Feedback comments")]
    assert feedback.startswith("Nota: 7,5 / 10.") and " · Grade: 7.5 / 10." in feedback
    assert feedback.index("Nota") < feedback.index("Grade:")


def test_unmatched_rows_and_results_are_listed_with_a_reason_never_dropped(english: Path) -> None:
    filled = fill_worksheet(read_worksheet(english), _class())
    reasons = {(u.participant_id, u.reason) for u in filled.unmatched}
    assert reasons == {("104", "grade_locked"), ("105", "no_result"), ("999", "no_row"), ("", "no_participant_id")}
    assert set(filled.filled) == {"101", "102", "103"}
    path = english.with_name("grading_worksheet.csv")
    write_worksheet(filled, path)
    rows = _reread(english.with_name("moodle_worksheet_unmatched.csv"))
    assert rows[0] == ["participant_id", "name", "tfgrade_points", "reason", "motivo", "why"]
    by_reason = {r[3]: r for r in rows[1:]}
    assert by_reason["grade_locked"][1] == HOSTILE and by_reason["no_row"][2] == "4 / 10"
    assert by_reason["no_participant_id"][1] == "sin_id" and "bloqueada" in by_reason["grade_locked"][4]
    assert len(rows) - 1 == len(filled.unmatched) == 4


def test_a_name_that_looks_like_a_formula_is_neutralised_in_the_unmatched_file(english: Path) -> None:
    filled = fill_worksheet(read_worksheet(english), [_result(INJECTION, "555", 1.0)])
    write_worksheet(filled, english.with_name("out.csv"))
    rows = _reread(english.with_name("moodle_worksheet_unmatched.csv"))
    assert [r[1] for r in rows if r[3] == "no_row"] == ["'" + INJECTION]


def test_two_students_with_the_same_full_name_get_their_own_grades(english: Path) -> None:
    filled = fill_worksheet(read_worksheet(english), _class())
    grade = EN_HEADER.index("Grade")
    assert (filled.rows[0][1], filled.rows[0][grade]) == ("Ana López", "7.5")
    assert (filled.rows[1][1], filled.rows[1][grade]) == ("Ana López", "10")


def test_the_grade_is_on_the_rows_scale_with_at_most_two_decimals_and_within_range(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    rows = [EN_HEADER, ["Participant 1", "A", "", "", "", "100.00", "Yes", "-", "-", ""],
            ["Participant 2", "B", "", "", "", "10.00", "Yes", "-", "-", ""],
            ["Participant 3", "C", "", "", "", "1,000.00", "Yes", "-", "-", ""]]
    path.write_text(_csv(rows), encoding="utf-8")
    results = [_result("A", "1", 30, 40), _result("B", "2", 1, 3), _result("C", "3", 5, 10)]
    filled = fill_worksheet(read_worksheet(path), results)
    assert [r[4] for r in filled.rows] == ["75", "3.33", "500"]
    over = fill_worksheet(read_worksheet(path), results, grade_for=lambda r: (12.0, 10.0))
    assert [r[4] for r in over.rows] == ["100", "10", "1000"]
    assert moodle_grade_text(7.499) == "7.5" and moodle_grade_text(-0.0001) == "0"


def test_a_scale_assignment_is_left_untouched_and_listed(tmp_path: Path) -> None:
    header = [*EN_HEADER[:5], "Scale", *EN_HEADER[6:]]
    rows = [header, ["Participant 101", "Ana López", "", "Submitted for grading", "Satisfactory",
                     "Not satisfactory\nSatisfactory\nOutstanding", "Yes", "-", "-", ""]]
    path = tmp_path / "scale.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    ws = read_worksheet(path)
    assert ws.scale and ws.rows[0].max_grade is None
    filled = fill_worksheet(ws, [_result("Ana López", "101", 7.0)])
    assert filled.rows[0] == ws.rows[0].cells and filled.filled == ()
    assert [u.reason for u in filled.unmatched] == ["scale"]
    write_worksheet(filled, tmp_path / "out.csv")
    assert read_worksheet(tmp_path / "out.csv").rows[0].cells[5] == "Not satisfactory\nSatisfactory\nOutstanding"


def test_feedback_from_student_keys_is_escaped_for_moodles_html_field(english: Path) -> None:
    filled = fill_worksheet(read_worksheet(english), _class(), summary=lambda r, lang: f"{r.student} & co")
    feedback = {row[0]: row[EN_HEADER.index("Feedback comments")] for row in filled.rows}
    assert "&lt;/a&gt;&lt;script&gt;" not in feedback["Participant 104"]      # locked: untouched
    text = feedback["Participant 103"]
    assert INJECTION in text and "&amp; co" in text and not text.startswith("=")
    hostile = fill_worksheet(read_worksheet(english), [_result("x", "101", 1.0)], summary=lambda r, lang: HOSTILE)
    cell = hostile.rows[0][EN_HEADER.index("Feedback comments")]
    assert "<script>" not in cell and "&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in cell


def test_a_spanish_worksheet_is_written_back_as_it_came(spanish: Path) -> None:
    ws = read_worksheet(spanish)
    out = spanish.with_name("grading_worksheet.csv")
    write_worksheet(fill_worksheet(ws, _class()), out)
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8").splitlines()[0] == ";".join(ES_HEADER)
    again = read_worksheet(out)
    assert again.delimiter == ";" and again.header == ws.header
    assert [r.cells[0] for r in again.rows] == ["Participante101", "Participante 102"]
    assert [r.grade for r in again.rows] == ["7.5", "10"]        # "." is read by unformat_float in every language
    assert again.rows[1].cells[8] == "miércoles, 2 de diciembre de 2026, 8:00"


def test_an_excel_ansi_resave_is_written_back_in_the_same_encoding(tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes(_csv([ES_HEADER, ["Participante 101", "Ana López", "", "", "", "10,00", "Sí", "-", "-", ""]],
                          ";").encode("cp1252"))
    ws = read_worksheet(path)
    assert ws.encoding == "cp1252" and ws.rows[0].full_name == "Ana López"
    write_worksheet(fill_worksheet(ws, [_result("Ana López", "101", 5.0)]), tmp_path / "out.csv")
    again = read_worksheet(tmp_path / "out.csv")
    assert again.encoding == "cp1252" and again.rows[0].grade == "5" and again.rows[0].full_name == "Ana López"


# ------------------------------------------------------------------ feedback zip
def _moodle_import(entry: str) -> str | None:
    """Moodle's importziplib is_valid_filename_for_import, on one path: the participant id it takes."""
    for part in entry.split("/"):
        info = part.split("_", 4)
        if len(info) >= 4 and info[1].isdigit() and (info[2], info[3]) == ("assignsubmission", "file"):
            return info[1]
    return None


def _reports(tmp_path: Path, results: list[SubmissionResult]) -> Path:
    for r in results:
        write_student_report(r, tmp_path, "es")
    return tmp_path / "reports"


def test_the_feedback_zip_holds_each_report_in_the_students_download_folder(tmp_path: Path) -> None:
    results = _class()
    reports = _reports(tmp_path, results)
    folders = {"101": "Ana López_101_assignsubmission_file_",          # Moodle 3.x names, kept
               "102": "Ana López_102_assignsubmission_file",
               "103": "../../etc_103_assignsubmission_file",           # hostile: rebuilt
               "104": "Someone Else_777_assignsubmission_file"}        # another id: rebuilt
    made = write_feedback_zip(results, reports, tmp_path / "moodle" / "feedback_files.zip", folders=folders)
    with zipfile.ZipFile(made.path) as zf:
        names = zf.namelist()
        html = zf.read("Ana López_101_assignsubmission_file_/Ana López_101.html").decode("utf-8")
    assert "<html" in html and "Ana López" in html
    assert set(names) == set(made.entries) and len(names) == 5
    assert {_moodle_import(n) for n in names} == {"101", "102", "103", "104", "999"}
    assert all(safe_entry(n) and ".." not in n.split("/") for n in names)
    hostile = [n for n in names if _moodle_import(n) == "104"][0]
    assert hostile.startswith("ascriptalert(1)script_104_assignsubmission_file/") and "<" not in hostile
    assert [n for n in names if _moodle_import(n) == "103"][0].startswith("=cmd C calc!A0_103_assignsubmission_file/")
    assert [(u.name, u.reason) for u in made.unmatched] == [("sin_id", "no_participant_id")]


def test_a_missing_report_is_listed_not_dropped(tmp_path: Path) -> None:
    made = write_feedback_zip([_result("Ana", "1", 1.0)], tmp_path / "reports", tmp_path / "f.zip")
    assert made.entries == () and [u.reason for u in made.unmatched] == ["no_report"]
    assert zipfile.ZipFile(made.path).namelist() == []


@pytest.mark.parametrize(("name", "original", "want"), [
    ("Ana_María", None, "Ana María_7_assignsubmission_file"),
    ("Ana", "Ana_7_assignsubmission_onlinetext_", "Ana_7_assignsubmission_onlinetext_"),
    ("Ana", "Ana_7_assignsubmission_file/../x", "Ana_7_assignsubmission_file"),
    ("..", "..", "Participant_7_assignsubmission_file"),
    ("Ana", "Ana_8_assignsubmission_file", "Ana_7_assignsubmission_file"),
])
def test_folder_names_follow_moodle_and_never_escape(name: str, original: str | None, want: str) -> None:
    assert moodle_folder(name, "7", original) == want


def test_folder_names_of_the_download_are_stored_and_read_back(tmp_path: Path) -> None:
    students = [StudentFiles("Ana López", tmp_path / "Ana López_101_assignsubmission_onlinetext", {}, student_id="101",
                             extra_folders=(tmp_path / "Ana López_101_assignsubmission_file",)),
                StudentFiles("bruno", tmp_path / "bruno", {})]
    write_folders(students, tmp_path)
    assert read_folders(tmp_path) == {"101": "Ana López_101_assignsubmission_file"}
    (tmp_path / "moodle" / "folders.json").write_text("[1, 2]", encoding="utf-8")
    assert read_folders(tmp_path) == {}
    assert read_folders(tmp_path / "nowhere") == {}


def test_render_all_writes_the_moodle_folder(tmp_path: Path, english: Path) -> None:
    summary = render_all(tmp_path / "out", "en", results=_class(), worksheet=english,
                         folders={"101": "Ana López_101_assignsubmission_file"})
    moodle = tmp_path / "out" / "moodle"
    assert summary.moodle is not None and summary.moodle.filled == 3 and summary.moodle.reports == 5
    for name in ("grading_worksheet.csv", "feedback_files.zip", "moodle_worksheet_unmatched.csv",
                 "feedback_files_unmatched.csv"):
        assert (moodle / name).is_file() and moodle / name in summary.exports
    assert read_worksheet(moodle / "grading_worksheet.csv").header == tuple(EN_HEADER)
    assert "Ana López_101_assignsubmission_file/Ana López_101.html" in zipfile.ZipFile(moodle / "feedback_files.zip").namelist()


def test_tfgrade_report_with_a_worksheet_fills_it_in(tmp_path: Path, english: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tfgrade.cli import main
    from tfgrade.engine.results import safe_file_stem, write_json_atomic

    out = tmp_path / "OUT"
    for r in _class():
        write_json_atomic(out / "results" / f"{safe_file_stem(r.file_label)}.json", r.to_json())
    write_folders([StudentFiles("Ana López", tmp_path / "Ana López_101_assignsubmission_file_", {}, student_id="101")], out)
    assert main(["report", str(out), "--lang", "en", "--worksheet", str(english)]) == 0
    said = capsys.readouterr().out
    assert "Moodle: 3 of 5 rows filled in moodle/grading_worksheet.csv; 5 reports in moodle/feedback_files.zip" in said
    assert "Moodle: 5 rows, results or reports could not be matched" in said     # 4 worksheet + 1 zip
    assert "Ana López_101_assignsubmission_file_/Ana López_101.html" in zipfile.ZipFile(
        out / "moodle" / "feedback_files.zip").namelist()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["report", str(out), "--lang", "es", "--worksheet", str(bad)]) == 2
    assert "no es una hoja de calificaciones de Moodle" in capsys.readouterr().err
