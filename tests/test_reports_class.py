"""The class report: statistics, pass rates, flags, links and grader errors."""

from __future__ import annotations

import base64
import re
import statistics
from urllib.parse import unquote

from markupsafe import escape
from report_fixtures import (
    EXERCISE_IDS,
    XSS,
    adversarial_student,
    class_results,
    full_marks_student,
    self_check_student,
)

from tfgrade.reports.class_report import check_rates, class_view, render_class_report, student_flags
from tfgrade.reports.formatting import report_filename
from tfgrade.reports.scoring import exercise_ids


def test_exercise_order_follows_the_pack() -> None:
    assert exercise_ids(class_results()) == EXERCISE_IDS
    # a result with only one exercise first must not reorder the columns
    assert exercise_ids([adversarial_student(), full_marks_student()]) == EXERCISE_IDS


def test_per_exercise_statistics_match_the_results() -> None:
    results = class_results()
    view = class_view(results, "en")
    for stat in view.exercises:
        scores = [ex.score for r in results if (ex := r.exercise(stat.id)) and ex.status != "missing"]
        assert stat.submitted == len(scores)
        assert stat.mean == f"{round(statistics.fmean(scores), 2):g}"
        assert stat.median == f"{statistics.median(scores):g}"
        assert stat.max == f"{max(scores):g}"
    ex02 = next(s for s in view.exercises if s.id == "ex02_sequential")
    # ana 10, bruno 6, carla 10, the crashed adversarial student 0; darío did not hand it in
    assert (ex02.submitted, ex02.mean, ex02.median, ex02.max) == (4, "6.5", "8", "10")


def test_pass_rates_sorted_hardest_first_and_not_applicable_excluded() -> None:
    rates = check_rates(class_results(), "en")
    values = [r.rate for r in rates]
    assert values == sorted(values)
    assert rates[0].rate < rates[-1].rate == 100.0
    assert not [r for r in rates if r.check == "gpu_device"]          # not applicable everywhere
    cnn_accuracy = next(r for r in rates if (r.exercise, r.check) == ("ex07_cnn", "accuracy"))
    assert (cnn_accuracy.passed, cnn_accuracy.attempts) == (1, 2)     # ana passed, carla timed out
    assert cnn_accuracy.hidden
    first_layer = next(r for r in rates if (r.exercise, r.check) == ("ex02_sequential", "first_layer"))
    assert (first_layer.passed, first_layer.attempts) == (2, 4)


def test_flags() -> None:
    by_name = {r.student: student_flags(r) for r in class_results()}
    assert by_name["ana_garcia"] == []
    assert by_name["carla_lópez"] == ["timeout"]
    assert by_name["darío_ausente"] == ["not_submitted"]
    assert by_name[XSS] == ["crash", "tampering", "grader_error"]
    page = render_class_report(class_results(), "en")
    assert ">tampering blocked</span>" in page and ">grader error</span>" in page
    assert ">timed out</span>" in page and ">not submitted</span>" in page


def test_students_table_links_and_totals() -> None:
    results = class_results()
    page = render_class_report(results, "es")
    hrefs = re.findall(r'<a href="(reports/[^"]+)">', page)
    assert sorted(unquote(h) for h in hrefs) == sorted(f"reports/{report_filename(r.file_label)}" for r in results)
    # everyone is measured against the same maximum (107), not-submitted students included
    assert page.count("/ 107</span>") == 4
    assert re.search(r"<strong>61,1</strong> <span class=\"muted\">/ 107</span></td>\s*<td class=\"num\">57,1 %", page)


def test_histogram_is_a_real_plot() -> None:
    page = render_class_report(class_results(), "en")
    match = re.search(r'<img class="plot histogram" src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert match
    svg = base64.b64decode(match.group(1)).decode("utf-8")
    assert svg.count("<path") > 10                                    # bars, ticks and text as paths


def test_meta_print_and_instructor_only_grader_errors() -> None:
    results = class_results() + [self_check_student()]
    page = render_class_report(results, "en")
    assert "@media print" in page
    assert "tfgrade version 0.1.0" in page
    assert "standard (namespaces) (5)" in page and "basic (no network or file isolation) (1)" in page
    assert "not every submission was graded with the same isolation" in page
    assert "14 Mar 2025, 10:32 UTC" in page and "14 Mar 2025, 10:50 UTC" in page
    assert "Grader errors (instructors only)" in page
    assert "KeyError: &#39;SECRET_HOLDOUT_PATH&#39;" in page
    assert XSS not in page and str(escape(XSS)) in page


def test_empty_class() -> None:
    page = render_class_report([], "es")
    assert "Todavía no hay resultados." in page
    assert "<img" not in page


def test_grader_error_exercise_message_for_instructors() -> None:
    from report_fixtures import exercise, submission

    from tfgrade.i18n import Msg

    broken = exercise("ex02_sequential", [], status="grader_error",
                      message=Msg("Traceback: KeyError 'holdout'", "Traceback: KeyError 'holdout'"))
    page = render_class_report([submission("x", [broken])], "en")
    assert "Traceback: KeyError &#39;holdout&#39;" in page
    assert ">grader error</span>" in page
