"""`tfgrade report OUT`: render_all / main_report, plus the shared plot and format helpers."""

from __future__ import annotations

import base64
import json
import math

import pytest
from report_fixtures import XSS, class_results, full_marks_student

from tfgrade.reports import main_report, render_all
from tfgrade.reports.formatting import fmt_date, fmt_int, fmt_num, report_filename, trim_text
from tfgrade.reports.plots import curves_plots, histogram_plot


def write_results(out, results) -> None:
    for r in results:
        r.save(out / "results" / (report_filename(r.file_label)[:-5] + ".json"))


def test_render_all_writes_everything(tmp_path) -> None:
    results = class_results()
    write_results(tmp_path, results)
    summary = render_all(tmp_path, "es", False)
    assert summary.unreadable == []
    assert summary.index == tmp_path / "index.html"
    assert sorted(p.name for p in summary.reports) == sorted(report_filename(r.file_label) for r in results)
    for path in summary.reports:
        assert path.is_file() and path.parent == tmp_path / "reports"
    names = {p.relative_to(tmp_path).as_posix() for p in summary.exports}
    assert {"gradebook.csv", "lms/moodle.csv", "lms/canvas.csv", "lms/moodle_unmatched.csv"} <= names
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Informe de la clase" in index
    # a not-submitted student is measured out of the class maximum in their own report too
    dario = (tmp_path / "reports" / report_filename("darío_ausente")).read_text(encoding="utf-8")
    assert "/ 107 puntos" in dario


def test_render_all_takes_the_course_order(tmp_path) -> None:
    write_results(tmp_path, class_results())
    render_all(tmp_path, "en", False, exercise_ids=["ex07_cnn", "ex01_tf1_add"])
    header = (tmp_path / "gradebook.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ("student,id,ex07_cnn,ex01_tf1_add,total,max_total,submitted_at,time_source,late_by,penalty,"
                      "final,percent,adjusted,status")


def test_render_is_deterministic_and_reveal_passes_through(tmp_path) -> None:
    write_results(tmp_path, [full_marks_student()])
    render_all(tmp_path, "en", False)
    report = tmp_path / "reports" / "ana_garcia_20231234.html"
    first = report.read_text(encoding="utf-8")
    render_all(tmp_path, "en", False)
    assert report.read_text(encoding="utf-8") == first                # same results, same bytes
    assert 'class="check hidden"' in first
    render_all(tmp_path, "en", True)
    assert 'class="check hidden"' not in report.read_text(encoding="utf-8")


def test_main_report_codes(tmp_path, capsys) -> None:
    assert main_report(tmp_path / "nothing", "en", False) == 2
    assert "does not exist" in capsys.readouterr().err
    write_results(tmp_path, class_results())
    assert main_report(tmp_path, "en", False) == 0
    out = capsys.readouterr().out
    assert "5 reports in" in out and "gradebook.csv" in out
    (tmp_path / "results" / "broken.json").write_text("{not json", encoding="utf-8")
    old = json.loads((tmp_path / "results" / "ana_garcia_20231234.json").read_text(encoding="utf-8"))
    old["schema_version"] = 999
    (tmp_path / "results" / "future.json").write_text(json.dumps(old), encoding="utf-8")
    assert main_report(tmp_path, "es", False) == 1
    captured = capsys.readouterr()
    assert "broken.json" in captured.err and "future.json" in captured.err
    assert "5 informes" in captured.out                                 # the readable ones still rendered


def test_main_report_only_unreadable(tmp_path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("[]", encoding="utf-8")
    assert main_report(tmp_path, "es", False) == 2


def test_roster_next_to_results_is_used(tmp_path) -> None:
    write_results(tmp_path, class_results())
    (tmp_path / "roster.csv").write_text("student,email\nana_garcia,ana@uni.es\n", encoding="utf-8")
    summary = render_all(tmp_path, "es", False)
    moodle = (tmp_path / "lms" / "moodle.csv").read_text(encoding="utf-8").splitlines()
    assert moodle[1].startswith("ana@uni.es,")
    assert len(moodle) == 2
    assert XSS in summary.unmatched and "bruno_díaz" in summary.unmatched


# ------------------------------------------------------------------ plots
def _svg(uri: str) -> str:
    assert uri.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")


def test_curves_split_losses_and_metrics() -> None:
    images = curves_plots({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]})
    assert len(images) == 2 and all("<svg" in _svg(i) for i in images)
    assert len(curves_plots({"loss": [1.0, 0.5]})) == 1


def test_curves_survive_hostile_input() -> None:
    hostile = {XSS: [1.0, math.nan, math.inf], "$\\frac{": [0.2, 0.1], "bad": ["x", "y"], "empty": []}
    images = curves_plots(hostile)
    assert len(images) == 1
    assert "<script" not in _svg(images[0])                           # text drawn as paths
    assert curves_plots("not a dict") == [] and curves_plots({"loss": [math.nan]}) == []


def test_histogram() -> None:
    assert histogram_plot([]) is None
    svg = _svg(histogram_plot([0, 55.5, 100, 100, 130, -5]) or "")
    assert svg.count("<path") > 10


# ------------------------------------------------------------------ formatting
@pytest.mark.parametrize(("value", "es", "en"), [
    (12.5, "12,5", "12.5"), (10.0, "10", "10"), (50, "50", "50"), (0.1 + 0.2, "0,3", "0.3"),
    (-0.001, "0", "0"), (None, "—", "—"), (2 / 3, "0,67", "0.67"),
])
def test_fmt_num(value, es, en) -> None:
    assert fmt_num(value, "es") == es and fmt_num(value, "en") == en


def test_fmt_int_and_date_and_trim() -> None:
    assert fmt_int(3265, "es") == "3265" and fmt_int(3265, "en") == "3,265"
    assert fmt_int(100000, "es") == "100\u202f000"
    assert fmt_date("2025-03-14T10:32:05Z", "es") == "14 mar 2025, 10:32 UTC"
    assert fmt_date("2025-12-01T23:59:00+02:00", "en") == "1 Dec 2025, 21:59 UTC"
    assert fmt_date("yesterday", "en") == "yesterday"
    text, cut = trim_text("a" * 100 + "b" * 100, 50)
    assert cut and text.startswith("a" * 25) and text.endswith("b" * 25) and "150" in text
    assert trim_text("short", 50) == ("short", False)
