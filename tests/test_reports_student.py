"""The student report: content, hidden checks, escaping of everything from student code."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from report_fixtures import (
    SEQ_EXPECTED,
    SEQ_LAYERS,
    XSS,
    XSS_IMG,
    adversarial_student,
    check,
    exercise,
    failing_student,
    full_marks_student,
    not_submitted_student,
    self_check_student,
    submission,
    timeout_student,
)

from tfgrade.engine.results import ErrorInfo, Frame
from tfgrade.reports.formatting import report_filename
from tfgrade.reports.labels import labels
from tfgrade.reports.student_report import render_student_report, write_student_report
from tfgrade.reports.templating import PAGE_SCRIPT


class TagCollector(HTMLParser):
    """Every start tag with its attributes, and the text of every <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> TagCollector:
    parser = TagCollector()
    parser.feed(page)
    parser.close()
    return parser


def assert_no_injected_markup(page: str) -> None:
    """Only our own script, no event handlers, images only from data: URIs."""
    doc = parse(page)
    assert doc.scripts == [PAGE_SCRIPT], "a <script> other than the report's own one"
    for tag, attrs in doc.tags:
        assert not [a for a in attrs if a.startswith("on")], f"event handler attribute on <{tag}>"
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/svg+xml;base64,"), attrs
        assert tag not in ("iframe", "object", "embed", "link", "base", "form"), tag


# ------------------------------------------------------------------ escaping
def test_adversarial_text_is_escaped_everywhere() -> None:
    page = render_student_report(adversarial_student(), "en", reveal_hidden=True)
    assert XSS not in page and XSS_IMG not in page
    escaped = str(escape(XSS))
    # the name (title and heading), the layer name, the feedback, the found value, the metric
    assert page.count(escaped) >= 6
    assert str(escape(XSS_IMG)) in page                      # the exception message
    assert "&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in page  # the student's output
    assert_no_injected_markup(page)


def test_adversarial_report_never_shows_grader_traceback() -> None:
    for reveal in (False, True):
        page = render_student_report(adversarial_student(), "es", reveal_hidden=reveal)
        assert "SECRET_HOLDOUT_PATH" not in page
        assert "tfgrade/engine/plugin.py" not in page


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_any_layer_name_or_message_renders_as_text(text: str) -> None:
    layers = [dict(SEQ_LAYERS[0], name=text)]
    result = submission(text, [exercise("ex02_sequential", [
        check("first_layer", "t", "t", "error", 0, 2, fb_es=text, fb_en=text, layers=layers,
              student_error=ErrorInfo("raised", text, text, text, (Frame(1, text, text),)), tampering=text,
              self_reported_fit_calls=text, optimizer=text),
    ], output=text)])
    page = render_student_report(result, "en")
    assert_no_injected_markup(page)
    if "<" in text:
        assert text not in page


# ------------------------------------------------------------------ content
def test_full_marks_totals_and_not_applicable_gpu_check() -> None:
    result = full_marks_student()
    assert result.score == result.max_score == 107
    page = render_student_report(result, "es")
    assert '<strong class="total-score">107</strong>' in page
    assert "/ 107 puntos" in page and "100 %" in page
    # the GPU check: its own status, and its 3 points struck out of the maximum
    assert "no aplicable" in page
    assert re.search(r"El resultado vive en /GPU:0</span>\s*<span class=\"check-points\">— <small>/ <s>3</s>", page)


def test_failures_show_expected_and_found_layers_side_by_side() -> None:
    page = render_student_report(failing_student(), "es")
    assert "capa 1: se esperaban 32 unidades, hay 16" in page
    assert "Tu modelo" in page and "Modelo esperado" in page
    assert page.count('<td class="num diff">16</td>') == 1          # the student's wrong units
    assert page.count('<td class="num diff">32</td>') == 1          # the expected ones beside them
    # compile settings compared key by key; only the optimizer differs
    assert re.search(r"<th scope=\"row\">optimizer</th><td>RMSprop</td><td class=\"diff\">Adam</td>", page)
    assert re.search(r"<th scope=\"row\">loss</th><td>binary_crossentropy</td><td class=\"\">binary_crossentropy", page)


def test_student_error_output_and_statuses() -> None:
    page = render_student_report(failing_student(), "es")
    assert '<span class="etype">ValueError</span>' in page
    assert "operands could not be broadcast together with shapes (200,) (3,)" in page
    assert "línea 18, en fit_line" in page and "línea 25, en fit_line" in page
    assert "loss = (y - w * x + b) ** 2" in page
    assert "Salida de tu programa" in page and "numpy=0.0&gt;" in page
    for label in ("superada", "fallida", "error", "no evaluada", "oculta", "no entregado"):
        assert f">{label}</span>" in page, label


def test_hidden_checks_masked_unless_revealed() -> None:
    result = full_marks_student()
    masked = render_student_report(result, "en")
    revealed = render_student_report(result, "en", reveal_hidden=True)
    hidden_titles = [c.title.en for e in result.exercises for c in e.checks if c.hidden]
    assert len(hidden_titles) == 5
    for title in hidden_titles:
        assert str(escape(title)) in masked                            # listed, with points
    assert masked.count(">hidden</span>") == 5
    assert masked.count(labels("en")["hidden_note"]) == 5
    # feedback-only content of hidden checks: the throughput (ex05) and the confusion matrix
    assert "Rate against tf.matmul" not in masked and "Rate against tf.matmul" in revealed
    assert 'class="confusion"' not in masked and 'class="confusion"' in revealed
    assert labels("en")["hidden_note"] not in revealed and 'class="check hidden"' not in revealed
    assert revealed.count(">hidden</span>") == 5                      # still tagged, now with feedback
    # a hidden check still shows its points: 8 / 8 for the CNN accuracy
    assert re.search(r"Held-out accuracy ≥ 0.95</span>\s*<span class=\"check-points\">8 <small>/ 8", masked)


def test_pending_hidden_points_of_a_self_check() -> None:
    page = render_student_report(self_check_student(), "es")
    assert "10 puntos en comprobaciones ocultas" in page


def test_curves_confusion_and_measured_facts() -> None:
    page = render_student_report(full_marks_student(), "en", reveal_hidden=True)
    images = re.findall(r'<img class="plot curves" src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert len(images) >= 4
    svg = base64.b64decode(images[0]).decode("utf-8")
    assert "<svg" in svg and "</svg>" in svg
    # the 10x10 digits matrix: 100 coloured cells in the ex07 table, accuracy from the counts
    table = page[page.index('<table class="confusion">', page.index('id="ex-ex07_cnn"')):]
    table = table[:table.index("</table>")]
    assert table.count("<td style=") == 100
    assert "Confusion matrix · 97.3 %" in page                         # 440 / 452
    assert "<dt>Result device</dt><dd><code>/job:localhost/replica:0/task:0/device:CPU:0</code></dd>" in page
    # ex05's O(log n) and throughput checks, as they record them
    assert "<dt>Matrix products counted</dt><dd>10</dd><dt>Product limit</dt><dd>20</dd>" in page
    assert "<dt>How they were counted</dt><dd>in the traced graph</dd>" in page
    assert "<dt>Rate against tf.matmul</dt><dd>83 %</dd>" in page
    assert "<dt>Time of your computation (clean process)</dt><dd>41.2 ms</dd>" in page
    assert "<dt>One tf.matmul (clean process)</dt><dd>5.7 ms</dd><dt>Products needed</dt><dd>6</dd>" in page
    assert "<dt>Largest relative error</dt><dd>3.1e-06</dd>" in page
    # the CNN's layers show their filters and kernels
    assert "<th class=\"num\">Filters</th>" in page and "<th>Kernel</th>" in page
    es = render_student_report(full_marks_student(), "es", reveal_hidden=True)
    assert "<dt>Ritmo frente a tf.matmul</dt><dd>83 %</dd>" in es
    assert "<dt>Error relativo máximo</dt><dd>3,1e-06</dd>" in es
    assert "<dt>Tiempo (reloj del corrector)</dt><dd>14,21 s</dd>" in es


def test_self_reported_counters_are_labelled_as_worth_no_points() -> None:
    page = render_student_report(full_marks_student(), "en")
    section = page[page.index('id="ex-ex04_regression"'):]
    section = section[:section.index('id="ex-ex05_matrix_power"')]
    assert labels("en")["self_reported"] in section
    assert '<dl class="kv self-reported">' in section
    assert "<dt>tape.gradient calls</dt><dd>200</dd>" in section
    assert "self_reported_" not in page                                # never the raw key
    es = render_student_report(full_marks_student(), "es")
    assert "Lo que dijo tu propio proceso (no puntúa)" in es and "<dt>llamadas a Session.run</dt><dd>1</dd>" in es


def test_timeout_and_long_output_trimmed() -> None:
    result = timeout_student()
    long_ex = replace(result.exercises[-1], output="HEAD\n" + "x" * 50_000 + "\nTAIL-LINE")
    result = replace(result, exercises=(*result.exercises[:-1], long_ex))
    page = render_student_report(result, "es")
    assert "el ejercicio superó su límite de tiempo (120 s)" in page
    assert ">tiempo agotado</span>" in page
    assert "(recortado)" in page and "HEAD" in page and "TAIL-LINE" in page
    assert len(page) < 200_000


def test_not_submitted_counts_against_class_maximum() -> None:
    result = not_submitted_student()
    alone = render_student_report(result, "en")
    assert "/ 0 points" in alone and "—" in alone
    ref = {e.exercise: e.max_score for e in full_marks_student().exercises}
    page = render_student_report(result, "en", max_points=ref)
    assert "/ 107 points" in page and "0 %" in page
    assert page.count(">not submitted</span>") == 14                  # summary row + section, 7 each


def test_languages_and_labels() -> None:
    es, en = labels("es"), labels("en")
    assert es.keys() == en.keys() and all(es.values()) and all(en.values())
    page_es = render_student_report(full_marks_student(), "es")
    page_en = render_student_report(full_marks_student(), "en")
    assert '<html lang="es">' in page_es and '<html lang="en">' in page_en
    assert "Informe de corrección" in page_es and "Informe de corrección" not in page_en
    assert "Grading report" in page_en and "Puntuación" not in page_en
    assert "14 mar 2025, 10:32 UTC" in page_es and "14 Mar 2025, 10:32 UTC" in page_en


def test_self_contained_page() -> None:
    page = render_student_report(failing_student(), "es")
    doc = parse(page)
    assert not [t for t, _ in doc.tags if t == "link"]
    for _tag, attrs in doc.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), value
    assert "@import" not in page and "url(" not in page
    csp = [a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0] and "script-src 'sha256-" in csp[0]
    assert "@media print" in page


def test_write_student_report_file_name(tmp_path) -> None:
    path = write_student_report(adversarial_student(), tmp_path, "en")
    assert path.parent == tmp_path / "reports"
    assert path.name == report_filename(XSS)
    assert "/" not in path.name[:-5] and "<" not in path.name
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("name", ["ana_garcia", "bruno_díaz", "Ana María.Pérez-2"])
def test_report_filename_keeps_ordinary_names(name: str) -> None:
    assert report_filename(name) == f"{name}.html"


def test_report_filename_unique_for_unsafe_names() -> None:
    names = ["a/b", "a\\b", "a:b", "../x", "..", "", XSS]
    files = [report_filename(n) for n in names]
    assert len(set(files)) == len(files)
    for f in files:
        assert re.fullmatch(r"[\w.\- ]+\.html", f) and not f.startswith((".", " "))


def test_expected_layers_alone_and_malformed_details() -> None:
    result = submission("x", [exercise("ex02_sequential", [
        check("a", "a", "a", "failed", 0, 1, expected_layers=SEQ_EXPECTED),
        check("b", "b", "b", "failed", 0, 1, layers="not a list", confusion_matrix={"counts": [[1, 2], [3]]},
              curves={"loss": "nope"}, products="many", limit=None, custom_key={"k": [1, 2]}),
    ])])
    page = render_student_report(result, "en")
    assert "Expected model" in page
    assert "Other data" in page and "custom_key" in page and "not a list" in page
    assert "<dt>products</dt><dd><code>many</code></dd>" in page       # a fact of the wrong type, as data
    assert "<dt>Product limit</dt><dd>—</dd>" in page
    assert labels("en")["plot_unavailable"] in page
    assert 'class="confusion"' not in page


def test_grader_error_exercise_shows_no_internals() -> None:
    from tfgrade.i18n import Msg

    broken = exercise("ex02_sequential", [], status="grader_error",
                      message=Msg("Traceback: KeyError 'holdout'", "Traceback: KeyError 'holdout'"))
    page = render_student_report(submission("x", [broken]), "es")
    assert "Traceback" not in page and "holdout" not in page
    assert labels("es")["grader_error_student"] in page


def test_hidden_checks_output_stays_out_of_student_reports() -> None:
    """What the student's code printed during hidden checks' calls may hold private held-out
    inputs: the student's report shows only `output`; --reveal-hidden shows both."""
    import json

    from tfgrade.engine.results import ExerciseResult

    ex = exercise("ex02_sequential", [check("a", "a", "a", "passed", 1, 1)],
                  output="visible print 123", hidden_output="HELD-OUT ROW 6,148,72")
    result = submission("x", [ex])
    student_page = render_student_report(result, "en")
    assert "visible print 123" in student_page and "HELD-OUT" not in student_page
    instructor_page = render_student_report(result, "en", reveal_hidden=True)
    assert "visible print 123" in instructor_page and "HELD-OUT ROW 6,148,72" in instructor_page
    assert labels("en")["hidden_output"] in instructor_page
    # serialized, and a result file written before the field existed still reads
    data = ex.to_json()
    assert data["hidden_output"] == "HELD-OUT ROW 6,148,72"
    assert ExerciseResult.from_json(json.loads(json.dumps(data))) == ex
    del data["hidden_output"]
    assert ExerciseResult.from_json(data).hidden_output == ""
