"""Moodle and Canvas grade-import CSVs, with and without a roster."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest
from report_fixtures import class_results, full_marks_student, timeout_student

from tfgrade.reports.lms import read_roster, write_canvas_csv, write_moodle_csv

ROSTER = """\ufeffStudent,Name,Email,Username,ID_number,Canvas_ID,SIS_User_ID,SIS_Login_ID,Section
ANA_GARCIA,"García, Ana",ana@uni.es,agarcia,A-1,101,S1,ana.garcia,Grupo A
bruno_díaz,"Díaz, Bruno",bruno@uni.es,bdiaz,A-2,102,S2,bruno.diaz,Grupo B
somebody,"Else, Some",,selse,A-9,,,,Grupo A
carla_lópez,"López, Carla",carla@uni.es,clopez,A-3,103,S3,carla.lopez,=cmd|' /C calc'!A0
"""


def rows(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return read_roster(path)


def test_read_roster_normalises_columns(roster) -> None:
    assert roster[0]["student"] == "ANA_GARCIA" and roster[0]["email"] == "ana@uni.es"
    assert set(roster[0]) == {"student", "name", "email", "username", "id_number", "canvas_id",
                              "sis_user_id", "sis_login_id", "section"}


def test_roster_needs_student_column(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("email,grade\na@b.c,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="student"):
        read_roster(path)


def test_moodle_with_roster(tmp_path, roster) -> None:
    export = write_moodle_csv(class_results(), tmp_path, roster=roster, identifier="email", scale_to=10)
    table = rows(export.path)
    assert table[0][:3] == ["Email address", "Full name", "tfgrade"]
    assert table[0][3:] == [f"tfgrade: {i}" for i in ("ex01_tf1_add", "ex02_sequential", "ex03_functional",
                                                     "ex04_regression", "ex05_matrix_power",
                                                     "ex06_diabetes_mlp", "ex07_cnn")]
    body = {r[0]: r for r in table[1:]}
    assert set(body) == {"ana@uni.es", "bruno@uni.es", "carla@uni.es"}
    assert body["ana@uni.es"][1:3] == ["García, Ana", "10"]           # 107/107 on a 0–10 scale
    assert body["bruno@uni.es"][2] == "5.71"                           # 61.1/107 × 10
    assert body["bruno@uni.es"][4] == "6"                              # ex02 points
    # not in the roster: returned and written, never dropped
    unmatched = {(u.student, u.reason) for u in export.unmatched}
    assert ("darío_ausente", "not_in_roster") in unmatched
    assert ("somebody", "no_result") in unmatched
    assert sorted(export.imported) == ["ana_garcia", "bruno_díaz", "carla_lópez"]
    written = rows(export.unmatched_path)
    assert written[0] == ["student", "student_id", "total", "reason"]
    assert {r[0] for r in written[1:]} >= {"darío_ausente", "somebody"}


def test_moodle_without_identifier_value_is_unmatched(tmp_path, roster) -> None:
    roster = [dict(r, email="") if r["student"] == "bruno_díaz" else r for r in roster]
    export = write_moodle_csv(class_results(), tmp_path, roster=roster, identifier="email")
    assert ("bruno_díaz", "no_identifier") in {(u.student, u.reason) for u in export.unmatched}
    export = write_moodle_csv(class_results(), tmp_path, roster=roster, identifier="username")
    assert rows(export.path)[0][0] == "Username"
    assert "bdiaz" in {r[0] for r in rows(export.path)[1:]}


def test_moodle_without_roster_uses_lms_id_then_name(tmp_path) -> None:
    export = write_moodle_csv(class_results(), tmp_path, identifier="id_number")
    keys = {r[0] for r in rows(export.path)[1:]}
    assert "20231234" in keys and "bruno_díaz" in keys                 # ana has an LMS id, bruno not
    assert export.unmatched == []


def test_canvas_with_roster(tmp_path, roster) -> None:
    export = write_canvas_csv(class_results(), tmp_path, roster=roster, assignment="Práctica 1 (555)")
    table = rows(export.path)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Práctica 1 (555)"]
    assert table[1] == ["Points Possible", "", "", "", "", "107"]
    body = {r[1]: r for r in table[2:]}
    assert body["101"] == ["García, Ana", "101", "S1", "ana.garcia", "Grupo A", "107"]
    assert body["102"][5] == "61.1"
    assert body["103"][4].startswith("'=")                             # formula in a section name neutralised
    assert {u.student for u in export.unmatched if u.reason == "not_in_roster"} >= {"darío_ausente"}


def test_canvas_matches_by_lms_id(tmp_path, roster) -> None:
    renamed = replace(timeout_student(), student="Carla López Folder", student_id="103")
    export = write_canvas_csv([renamed, full_marks_student()], tmp_path, roster=roster)
    assert sorted(export.imported) == ["Carla López Folder", "ana_garcia"]
    assert "103" in {r[1] for r in rows(export.path)[2:]}


def test_canvas_without_roster_needs_an_id(tmp_path) -> None:
    export = write_canvas_csv(class_results(), tmp_path, scale_to=100)
    table = rows(export.path)
    assert table[1][5] == "100"
    assert [r[1] for r in table[2:]] == ["20231234"]
    assert {u.reason for u in export.unmatched} == {"no_identifier"}
    assert len(export.unmatched) == len(class_results()) - 1
