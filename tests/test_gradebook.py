"""The gradebook export (pandas): one row per student, fixed columns, CSV and maybe XLSX."""

from __future__ import annotations

import pandas as pd
import pytest
from report_fixtures import EXERCISE_IDS, class_results, full_marks_student, not_submitted_student, submission

from tfgrade.reports.gradebook import gradebook_frame, write_gradebook, xlsx_available


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False)


def test_columns_and_one_row_per_student(tmp_path) -> None:
    results = class_results()
    paths = write_gradebook(results, EXERCISE_IDS, tmp_path)
    assert paths[0] == tmp_path / "gradebook.csv"
    frame = read(paths[0])
    assert list(frame.columns) == ["student", "id", *EXERCISE_IDS, "total", "max_total", "submitted_at", "time_source",
                                   "late_by", "penalty", "final", "percent", "adjusted", "status"]
    assert len(frame) == len(results)
    assert list(frame["student"].str.casefold()) == sorted(frame["student"].str.casefold())


def test_values(tmp_path) -> None:
    frame = read(write_gradebook(class_results(), EXERCISE_IDS, tmp_path)[0]).set_index("student")
    ana = frame.loc["ana_garcia (20231234)"]          # the display name carries the LMS id
    assert str(ana["id"]) == "20231234"
    assert (ana["total"], ana["max_total"], ana["percent"], ana["status"]) == (107, 107, 100, "ok")
    bruno = frame.loc["bruno_díaz"]
    assert bruno["ex02_sequential"] == 6 and bruno["ex07_cnn"] == 0
    assert bruno["total"] == pytest.approx(61.1) and bruno["max_total"] == 107
    assert bruno["percent"] == pytest.approx(57.1, abs=0.01) and bruno["status"] == "incomplete"
    # a student who handed in nothing still has a row, out of the same maximum
    dario = frame.loc["darío_ausente"]
    assert (dario["total"], dario["max_total"], dario["percent"], dario["status"]) == (0, 107, 0, "not_submitted")
    assert frame.loc["carla_lópez", "status"] == "timeout"
    # each exercise column sums back to the total
    for name, row in frame.iterrows():
        assert sum(row[i] for i in EXERCISE_IDS) == pytest.approx(row["total"]), name


def test_formula_names_are_neutralised() -> None:
    evil = submission("=HYPERLINK(\"http://x\",\"y\")", list(full_marks_student().exercises))
    frame = gradebook_frame([evil], EXERCISE_IDS)
    assert frame.loc[0, "student"].startswith("'=")


def test_instructor_maximum_and_empty_maximum() -> None:
    alone = gradebook_frame([not_submitted_student()], EXERCISE_IDS)
    assert alone.loc[0, "max_total"] == 0 and pd.isna(alone.loc[0, "percent"])
    given = gradebook_frame([not_submitted_student()], EXERCISE_IDS, max_points={i: 10.0 for i in EXERCISE_IDS})
    assert given.loc[0, "max_total"] == 70 and given.loc[0, "percent"] == 0


def test_xlsx_only_with_openpyxl(tmp_path) -> None:
    paths = write_gradebook(class_results(), EXERCISE_IDS, tmp_path)
    if xlsx_available():
        assert (tmp_path / "gradebook.xlsx") in paths
        assert len(pd.read_excel(tmp_path / "gradebook.xlsx")) == len(class_results())
    else:
        assert paths == [tmp_path / "gradebook.csv"]
        assert not (tmp_path / "gradebook.xlsx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp files left
