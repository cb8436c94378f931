"""Verdict signals as typed fields of CheckResult (schema 2), the reader of schema 1 files,
and the grading plugin's outcomes and messages (no sandbox: a stand-in proxy)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tfgrade.catalogue import GRADER
from tfgrade.engine.plugin import GradingPlugin, run_checks
from tfgrade.engine.proxy import StudentError
from tfgrade.engine.results import (
    SCHEMA_VERSION,
    CheckResult,
    ErrorInfo,
    ExerciseResult,
    Frame,
    SubmissionResult,
)
from tfgrade.i18n import Msg
from tfgrade.pack.course import Exercise
from tfgrade.reports.class_report import grader_errors, render_class_report, student_flags
from tfgrade.reports.gradescope import to_gradescope
from tfgrade.reports.student_report import render_student_report

TRACEBACK = ('Traceback (most recent call last):\n  File "tfgrade/engine/plugin.py", line 140, in _from_exception\n'
             "KeyError: 'accuracy_full_at'")

# What tfgrade 0.1 wrote (schema 1): the signals inside each check's details.
SCHEMA_1 = {
    "schema_version": 1, "student": "beto_ruiz", "student_id": "20231777", "score": 1.0, "max_score": 13.0,
    "status": "grader_error", "isolation": "standard", "tool_version": "0.1.0",
    "graded_at": "2025-03-14T10:35:40+00:00", "duration_s": 12.418, "fingerprint": "9c0f3a…",
    "exercises": [
        {"exercise": "ex02_sequential", "title": {"es": "Modelo Sequential", "en": "Sequential model"},
         "status": "graded", "score": 0.0, "max_score": 3.0, "source": "ex02_sequential.py",
         "message": None, "warnings": [], "output": "", "duration_s": 1.204, "student_time_s": 0.0,
         "hidden_points": 0.0, "hidden_output": "",
         "checks": [
             {"id": "is_sequential", "title": {"es": "Es un keras.Sequential", "en": "Is a keras.Sequential"},
              "status": "error", "points": 0.0, "max_points": 1.0, "hidden": False,
              "feedback": {"es": "tu archivo llamó a sys.exit()/exit() al cargarse: quítalo, el calificador "
                                 "necesita llamar a tus funciones",
                           "en": "your file called sys.exit()/exit() while loading: remove it, the grader "
                                 "needs to call your functions"},
              "details": {"student_error": {"kind": "load", "function": "<módulo/module>", "type": "SystemExit",
                                            "message": "0",
                                            "frames": [{"line": 41, "function": "<module>", "code": "sys.exit(0)"}]},
                          "tampering": "exit at load time (sys.exit/exit): a known way to forge a passing run elsewhere"}},
             {"id": "two_dense", "title": {"es": "Dos capas Dense", "en": "Two Dense layers"},
              "status": "skipped", "points": 0.0, "max_points": 2.0, "hidden": False,
              "feedback": {"es": "no evaluado: depende de <módulo/module>, que falló (ver «is_sequential»)",
                           "en": "not evaluated: it depends on <módulo/module>, which failed (see “is_sequential”)"},
              "details": {}},
         ]},
        {"exercise": "ex06_diabetes_mlp", "title": {"es": "Diabetes con un MLP", "en": "Diabetes with an MLP"},
         "status": "grader_error", "score": 1.0, "max_score": 10.0, "source": "ex06_diabetes_mlp.py",
         "message": None, "warnings": [], "output": "Epoch 1/8\n", "duration_s": 9.87, "student_time_s": 6.1,
         "hidden_points": 0.0, "hidden_output": "",
         "checks": [
             {"id": "accuracy", "title": {"es": "Exactitud ≥ 0,75", "en": "Held-out accuracy ≥ 0.75"},
              "status": "failed", "points": 1.0, "max_points": 8.0, "hidden": True,
              "feedback": {"es": "exactitud 0,700", "en": "accuracy 0.700"},
              "details": {"expected": "accuracy ≥ 0.75", "found": 0.7, "accuracy": 0.7, "n_test": 332,
                          "score_fraction": 0.125}},
             {"id": "time", "title": {"es": "Dentro del límite de tiempo", "en": "Within the time limit"},
              "status": "error", "points": 0.0, "max_points": 2.0, "hidden": False,
              "feedback": {"es": "error interno del calificador en esta comprobación (no es culpa tuya); avisa a tu profesor",
                           "en": "internal grader error in this check (not your fault); tell your instructor"},
              "details": {"duration_s": 6.1, "grader_error": TRACEBACK}},
         ]},
    ],
}


def test_a_schema_1_file_reads_into_typed_fields(tmp_path: Path) -> None:
    path = tmp_path / "beto_ruiz_20231777.json"
    path.write_text(json.dumps(SCHEMA_1, ensure_ascii=False), encoding="utf-8")
    result = SubmissionResult.load(path)
    exit_check, skipped = result.exercises[0].checks
    assert exit_check.student_error == ErrorInfo(kind="load", function="<módulo/module>", type="SystemExit",
                                                 message="0", frames=(Frame(41, "<module>", "sys.exit(0)"),))
    assert exit_check.tampering and "sys.exit" in exit_check.tampering
    assert exit_check.details == {} and exit_check.grader_error is None
    assert skipped.student_error is None and skipped.tampering is None
    accuracy, timed = result.exercises[1].checks
    assert accuracy.details == {"expected": "accuracy ≥ 0.75", "found": 0.7, "accuracy": 0.7, "n_test": 332}
    assert accuracy.points == 1.0                                     # partial credit kept as points
    assert timed.grader_error == TRACEBACK and timed.details == {"duration_s": 6.1}
    assert (result.score, result.max_score, result.status) == (1.0, 13.0, "grader_error")
    # and written again, it is a schema 2 file
    assert result.to_json()["schema_version"] == SCHEMA_VERSION == 2


def _typed_result() -> SubmissionResult:
    error = ErrorInfo(kind="raised", function="fit_line", type="ValueError", message="shapes (200,) (3,)",
                      frames=(Frame(18, "fit_line", "loss = (y - w * x + b) ** 2"), Frame(None, "<lambda>", "")))
    checks = (
        CheckResult(id="fit_line", title=Msg("fit_line recupera w y b", "fit_line recovers w and b"), status="error",
                    points=0.0, max_points=4.0, hidden=False, feedback=Msg("lanzó", "raised"),
                    student_error=error, tampering="too many processes (a fork bomb?) — stopped by the process watchdog"),
        CheckResult(id="time", title=Msg("Tiempo", "Time"), status="error", points=0.0, max_points=2.0, hidden=False,
                    feedback=GRADER("internal_grader_error"), details={"duration_s": 1.5}, grader_error=TRACEBACK),
        CheckResult(id="uses_tape", title=Msg("Usa tf.GradientTape", "Uses tf.GradientTape"), status="passed",
                    points=2.0, max_points=2.0, hidden=False, feedback=Msg("sí", "yes"),
                    details={"self_reported_tape_gradients": 200}),
    )
    ex = ExerciseResult(exercise="ex04_regression", title=Msg("Regresión", "Regression"), status="grader_error",
                        checks=checks, source="ex04_regression.py")
    return SubmissionResult(student="ana", exercises=(ex,), isolation="strong", tool_version="0.2.0",
                            graded_at="2025-03-14T10:32:05+00:00", student_id="111")


def test_a_schema_2_file_round_trips(tmp_path: Path) -> None:
    result = _typed_result()
    path = tmp_path / "ana_111.json"
    result.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 2
    check = data["exercises"][0]["checks"][0]
    assert check["student_error"]["frames"][0] == {"line": 18, "function": "fit_line", "code": "loss = (y - w * x + b) ** 2"}
    assert check["tampering"].startswith("too many processes") and check["grader_error"] is None
    assert all(not {"student_error", "grader_error", "tampering"} & set(c["details"])
               for c in data["exercises"][0]["checks"])
    assert SubmissionResult.load(path) == result
    assert data["exercises"][0]["checks"][1]["feedback"]["key"] == "internal_grader_error"


def test_details_refuse_the_signals_and_unknown_schemas_are_refused() -> None:
    with pytest.raises(ValueError, match="reserved"):
        CheckResult(id="a", title=Msg("a", "a"), status="error", points=0, max_points=1, hidden=False,
                    feedback=Msg("", ""), details={"grader_error": "x"})
    with pytest.raises(ValueError, match="schema_version 3"):
        SubmissionResult.from_json({**SCHEMA_1, "schema_version": 3})


def test_class_report_flags_tampering_and_grader_errors_from_typed_fields(tmp_path: Path) -> None:
    old = SubmissionResult.from_json(SCHEMA_1)
    new = _typed_result()
    assert student_flags(old) == ["tampering", "grader_error"]
    assert student_flags(new) == ["tampering", "grader_error"]
    rows = grader_errors([old, new])
    assert [(r.student, r.exercise, r.check) for r in rows] == [
        ("beto_ruiz (20231777)", "ex06_diabetes_mlp", "time"), ("ana (111)", "ex04_regression", "time")]
    assert all("KeyError: 'accuracy_full_at'" in r.text for r in rows)
    page = render_class_report([old, new], "en")
    assert page.count(">tampering blocked</span>") == 2
    assert "KeyError: &#39;accuracy_full_at&#39;" in page


def test_student_facing_exports_show_the_error_and_never_the_traceback() -> None:
    result = _typed_result()
    page = render_student_report(result, "en", reveal_hidden=True)
    assert '<span class="etype">ValueError</span>' in page and "line 18, in fit_line" in page
    assert "line ?, in &lt;lambda&gt;" in page
    assert "The sandbox blocked a forbidden operation" in page
    assert "accuracy_full_at" not in page and "plugin.py" not in page
    tests = to_gradescope(result, 3.0, lang="en")["tests"]
    assert "ValueError: shapes (200,) (3,)" in tests[0]["output"]
    assert "The sandbox blocked a forbidden operation" in tests[0]["output"]
    assert not any("accuracy_full_at" in t["output"] for t in tests)


def test_error_info_from_the_proxys_student_error() -> None:
    err = StudentError("raised", "build_model", "ValueError", "bad units",
                       ({"line": 7, "function": "build_model", "code": "Dense(-1)"},))
    info = ErrorInfo.from_student_error(err)
    assert info == ErrorInfo("raised", "build_model", "ValueError", "bad units", (Frame(7, "build_model", "Dense(-1)"),))
    assert info.to_json() == err.to_json()                           # the same data, typed


# ------------------------------------------------------------------ the plugin, no sandbox
CHECKS = '''
import pytest
from tfgrade.engine.proxy import StudentError
from tfgrade.engine.verdicts import fail


def _boom():
    raise StudentError("raised", "f", "ValueError", "boom", ({"line": 3, "function": "f", "code": "x = 1 / 0"},))


def test_first(student):
    _boom()


def test_second(student):
    _boom()


def test_third():
    {}["missing"]


def test_fourth(record):
    record(es="bien", en="fine", products=10)


def test_fifth():
    fail(es="mitad", en="half", expected=1, found=0.5, score_fraction=0.5)


def test_sixth():
    raise SystemExit(0)
'''


@dataclass
class _StandIn:
    hidden: bool = False


def _exercise(tmp_path: Path) -> Exercise:
    folder = tmp_path / "ex98"
    folder.mkdir()
    tables = "".join(f"[checks.{c}]\npoints = 2\n" for c in ("first", "second", "third", "fourth", "fifth", "sixth"))
    (folder / "exercise.toml").write_text(f'id = "ex98"\n{tables}', encoding="utf-8")
    (folder / "checks.py").write_text(CHECKS, encoding="utf-8")
    return Exercise.from_folder(folder)


def test_plugin_outcomes_signals_and_catalogue_messages(tmp_path: Path) -> None:
    plugin: GradingPlugin = run_checks(_exercise(tmp_path), _StandIn(), include_hidden=True)  # type: ignore[arg-type]
    out = plugin.outcomes
    assert out["first"].status == "error"
    assert out["first"].student_error == ErrorInfo("raised", "f", "ValueError", "boom", (Frame(3, "f", "x = 1 / 0"),))
    assert out["first"].tampering is None and out["first"].details == {}
    assert out["second"].status == "skipped" and out["second"].student_error is None
    assert out["second"].feedback == GRADER("not_evaluated_depends", function="f", first="first")
    assert out["second"].feedback.key == "not_evaluated_depends"
    assert "«first»" in out["second"].feedback.es and "“first”" in out["second"].feedback.en
    assert out["third"].status == "error" and out["third"].feedback.key == "internal_grader_error"
    assert out["third"].grader_error and "KeyError: 'missing'" in out["third"].grader_error
    assert (out["fourth"].status, out["fourth"].feedback.en, out["fourth"].details) == ("passed", "fine", {"products": 10})
    assert (out["fifth"].status, out["fifth"].score_fraction) == ("failed", 0.5)
    assert out["fifth"].details == {"expected": 1, "found": 0.5}
    # SystemExit in a check is the grader's problem (not a pass): an error with its traceback
    assert out["sixth"].status == "error" and out["sixth"].grader_error


def test_plugin_reads_reports_without_an_old_style_hookwrapper() -> None:
    opts = getattr(GradingPlugin.pytest_runtest_makereport, "pytest_impl", {})
    assert opts and not opts.get("hookwrapper")


def test_plugin_messages_live_in_the_catalogue() -> None:
    for key in ("not_evaluated_depends", "internal_grader_error", "check_did_not_run", "no_gpu",
                "submission_missing", "file_does_not_define", "cell_raised", "cell_needs_no_drive"):
        assert key in GRADER
    msg = GRADER("submission_missing", exercise="ex03_functional")
    assert msg.es == "no se entregó ex03_functional.py ni ex03_functional.ipynb"
    assert msg.en == "no ex03_functional.py or ex03_functional.ipynb was handed in"
    assert GRADER.problems() == []
