"""Grade one exercise: pytest over exercises/<id>/checks.py with the grading plugin.

pytest runs in-process on the trusted side; the `student` fixture is a sandbox proxy. Each
test report becomes a CheckResult. A student error (missing function, exception, timeout)
is told once, on the first check it breaks; the checks after it say "not evaluated".
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tfgrade.catalogue import GRADER, Catalogue
from tfgrade.engine.clean_process import Verifier
from tfgrade.engine.proxy import StudentError, StudentProxy
from tfgrade.engine.results import CheckResult, CheckStatus, ErrorInfo, ExerciseResult
from tfgrade.engine.verdicts import CheckFailed, NotApplicable, Recorder
from tfgrade.i18n import Msg
from tfgrade.intake.source import SourceFile
from tfgrade.pack.course import Course, Exercise, ExerciseLimits
from tfgrade.supervisor.children import Sandbox

_INI = Path(__file__).with_name("checks_pytest.ini")


@dataclass
class _Outcome:
    status: CheckStatus
    feedback: Msg
    details: dict[str, Any] = field(default_factory=dict)
    score_fraction: float | None = None
    student_error: ErrorInfo | None = None
    grader_error: str | None = None
    tampering: str | None = None


def tampering_signal(err: StudentError) -> str | None:
    """Attempts the sandbox stopped that are forging or harm, not honest mistakes: the class
    report flags them as "tampering blocked" for the instructor to look at."""
    if err.kind == "load" and err.exc_type == "SystemExit":
        return "exit at load time (sys.exit/exit): a known way to forge a passing run elsewhere"
    if err.kind == "crashed" and err.message == "exit status 0":
        return "the process ended itself with status 0 (os._exit): a known way to forge a passing run"
    if err.kind == "crashed" and err.reason == "processes":
        return "too many processes (a fork bomb?) — stopped by the process watchdog"
    return None


class GradingPlugin:
    """Registered for one pytest run: fixtures, markers from exercise.toml, report → result."""

    def __init__(self, exercise: Exercise, proxy: StudentProxy, include_hidden: bool) -> None:
        self._exercise = exercise
        self._proxy = proxy
        self.include_hidden = include_hidden
        self.outcomes: dict[str, _Outcome] = {}
        self.recorders: dict[str, Recorder] = {}
        self.order: list[str] = []
        self.pack_errors: list[str] = []
        self._told: dict[tuple[str, str, str], str] = {}

    # -- fixtures --------------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def student(self) -> StudentProxy:
        return self._proxy

    @pytest.fixture(scope="session")
    def params(self) -> dict[str, Any]:
        return dict(self._exercise.params)

    @pytest.fixture(scope="session")
    def exercise(self) -> Exercise:
        return self._exercise

    @pytest.fixture(scope="session")
    def messages(self) -> Catalogue:
        """The exercise's catalogue: `messages("key", **values)` is a bilingual Msg."""
        return self._exercise.messages

    @pytest.fixture
    def record(self, request: pytest.FixtureRequest) -> Recorder:
        rec = Recorder()
        self.recorders[_check_id(request.node.name)] = rec
        return rec

    # -- hooks -----------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points of a check (from exercise.toml)")
        config.addinivalue_line("markers", "hidden: a check run only when an instructor grades")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        selected, deselected = [], []
        for item in items:
            cid = _check_id(item.name)
            spec = self._exercise.check(cid)
            if spec is None:
                self.pack_errors.append(cid)
                deselected.append(item)
                continue
            item.add_marker(pytest.mark.points(spec.points))
            if spec.hidden:
                item.add_marker(pytest.mark.hidden)
            if spec.hidden and not self.include_hidden:
                deselected.append(item)
            else:
                selected.append(item)
                self.order.append(cid)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = selected

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # Output printed while a hidden check's calls run may hold held-out inputs: the
        # proxy files it apart from what the student's report shows.
        spec = self._exercise.check(_check_id(item.name))
        self._proxy.hidden = bool(spec and spec.hidden)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        self._proxy.hidden = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> None:
        """Read each phase's outcome; returning None leaves making the report to pytest."""
        cid = _check_id(item.name)
        if call.when == "call" and call.excinfo is None:
            rec = self.recorders.get(cid)
            self.outcomes.setdefault(cid, _Outcome("passed", rec.feedback if rec and rec.feedback else Msg("", ""),
                                                   dict(rec.details) if rec else {}))
        elif call.excinfo is not None and cid not in self.outcomes:
            self.outcomes[cid] = self._from_exception(cid, call.excinfo.value, call.excinfo)

    def _from_exception(self, cid: str, exc: BaseException, excinfo: Any) -> _Outcome:
        rec = self.recorders.get(cid)
        details = dict(rec.details) if rec else {}
        if isinstance(exc, CheckFailed):
            return _Outcome("failed", exc.msg, {**details, **exc.details}, exc.score_fraction)
        if isinstance(exc, NotApplicable):
            return _Outcome("not_applicable", exc.msg, details)
        if isinstance(exc, StudentError):
            key = (exc.function, exc.kind, exc.message)
            first = self._told.get(key)
            if first is None:
                self._told[key] = cid
                return _Outcome("error", exc.msg(), details, student_error=ErrorInfo.from_student_error(exc),
                                tampering=tampering_signal(exc))
            return _Outcome("skipped", GRADER("not_evaluated_depends", function=exc.function, first=first), details)
        if isinstance(exc, AssertionError):
            text = str(exc).split("\nassert ")[0].strip() or "assertion failed"
            return _Outcome("failed", Msg(text, text), details)
        if isinstance(exc, pytest.skip.Exception):
            return _Outcome("skipped", Msg(str(exc), str(exc)), details)
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
        return _Outcome("error", GRADER("internal_grader_error"), details, grader_error=tb)


def _check_id(node_name: str) -> str:
    name = node_name.split("[")[0]
    return name[5:] if name.startswith("test_") else name


def _drop_checks_module(path: Path) -> None:
    """pytest may keep imported check modules in sys.modules: drop them so no state leaks
    from one student to the next."""
    target = str(path.resolve())
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        # Only a file of the same name can be it: resolving every module's path costs more
        # than grading a small exercise.
        if file and os.path.basename(file) == path.name and (file == target or str(Path(file).resolve()) == target):
            del sys.modules[name]


# Built-in plugins a grading run never uses (each costs start-up time in every exercise);
# fixtures a pack may use (tmp_path, monkeypatch, recwarn) stay, and so does helpconfig,
# which pytest's own start-up needs.
UNUSED_PLUGINS = ("cacheprovider", "randomly", "doctest", "junitxml", "pastebin", "unittest", "nose",
                  "faulthandler", "legacypath", "logging", "stepwise", "setuponly", "setupplan",
                  "capture", "debugging")


def run_checks(exercise: Exercise, proxy: StudentProxy, include_hidden: bool) -> GradingPlugin:
    plugin = GradingPlugin(exercise, proxy, include_hidden)
    args = [str(exercise.checks_file), "-c", str(_INI), "--rootdir", str(exercise.folder),
            "-q", "--import-mode=importlib", "-o", "python_files=checks.py", "-W", "ignore::DeprecationWarning"]
    for unused in UNUSED_PLUGINS:
        args += ["-p", f"no:{unused}"]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[plugin])
    finally:
        _drop_checks_module(exercise.checks_file)
    if code not in (0, 1, 5) and not plugin.outcomes:
        plugin.pack_errors.append(f"pytest exit {code}: {sink.getvalue()[-2000:]}")
    return plugin


from tfgrade.pack.requirements import NO_GPU  # noqa: E402 - the one wording of the GPU rule


def not_graded(exercise: Exercise, include_hidden: bool, status: str, msg: Msg,
                source: str | None = None, warnings: tuple[Msg, ...] = (),
                missing_features: frozenset[str] = frozenset()) -> ExerciseResult:
    """Every check at 0 with one message; a check needing what this machine lacks (a GPU)
    is not applicable here, so every student's maximum is the same."""
    checks = tuple(
        CheckResult(id=c.id, title=c.title, status="not_applicable", points=0.0, max_points=c.points,
                    hidden=c.hidden, feedback=NO_GPU)
        if c.requires and c.requires in missing_features else
        CheckResult(id=c.id, title=c.title, status="skipped", points=0.0, max_points=c.points,
                    hidden=c.hidden, feedback=msg)
        for c in exercise.checks if include_hidden or not c.hidden)
    hidden = 0.0 if include_hidden else exercise.hidden_points
    return ExerciseResult(exercise=exercise.id, title=exercise.title, status=status,  # type: ignore[arg-type]
                          checks=checks, source=source, message=msg, warnings=warnings, hidden_points=hidden)


def missing_result(exercise: Exercise, include_hidden: bool,
                   missing_features: frozenset[str] = frozenset()) -> ExerciseResult:
    return not_graded(exercise, include_hidden, "missing", GRADER("submission_missing", exercise=exercise.id),
                      missing_features=missing_features)


def unreadable_result(exercise: Exercise, include_hidden: bool, msg: Msg, source: str,
                      missing_features: frozenset[str] = frozenset()) -> ExerciseResult:
    return not_graded(exercise, include_hidden, "unreadable", msg, source, missing_features=missing_features)


def _cell_warning(cell: dict[str, Any]) -> Msg:
    n, kind, text = cell.get("cell"), cell.get("type", ""), cell.get("message", "")
    msg = GRADER("cell_raised", cell=n, type=kind, message=text)
    if kind in ("FileNotFoundError", "URLError", "HTTPError", "ConnectionError", "OSError") or \
            "/content/drive" in text or "http" in text:
        msg = msg + GRADER("cell_needs_no_drive")
    return msg


def exercise_budget_s(limits: ExerciseLimits) -> float:
    """Wall clock one exercise may use in the student's child, loads and respawns included:
    a load and a training call at the training limit, each twice (one respawn), plus four
    calls at the call limit. A function that timed out is never called again, so a hang
    costs its limit once; this budget bounds everything else (docs/CHECKS.md)."""
    return 2 * limits.train_timeout_s + 4 * limits.call_timeout_s


def grade_exercise(course: Course, exercise: Exercise, source: SourceFile, sandbox: Sandbox, *,
                   include_hidden: bool, source_label: str, workdir: str = "/tmp",
                   audit: bool = False, verifier: Verifier | None = None) -> tuple[ExerciseResult, StudentProxy]:
    limits = course.limits_for(exercise)
    proxy = StudentProxy(sandbox=sandbox, module=exercise.id, filename=f"{exercise.id}.py",
                         source=source.text, seed=course.seed, call_timeout_s=limits.call_timeout_s,
                         train_timeout_s=limits.train_timeout_s, workdir=workdir, audit=audit,
                         memory_mb=limits.memory_mb, budget_s=exercise_budget_s(limits),
                         shared_verifier=verifier)
    start = time.monotonic()
    try:
        plugin = run_checks(exercise, proxy, include_hidden)
    finally:
        proxy.close()
    checks: list[CheckResult] = []
    for spec in exercise.checks:
        if spec.hidden and not include_hidden:
            continue
        outcome = plugin.outcomes.get(spec.id)
        if outcome is None:
            outcome = _Outcome("error", GRADER("check_did_not_run"), grader_error="; ".join(plugin.pack_errors))
        points = spec.points if outcome.status == "passed" else 0.0
        if outcome.status == "failed":
            # Partial credit (a metric between its zero and full-points lines): the check
            # reports the fraction; the points themselves are computed here, from the pack.
            fraction = outcome.score_fraction
            if isinstance(fraction, (int, float)) and not isinstance(fraction, bool):
                points = round(spec.points * min(1.0, max(0.0, float(fraction))), 2)
        checks.append(CheckResult(id=spec.id, title=spec.title, status=outcome.status, points=points,
                                  max_points=spec.points, hidden=spec.hidden, feedback=outcome.feedback,
                                  details=outcome.details, student_error=outcome.student_error,
                                  grader_error=outcome.grader_error, tampering=outcome.tampering))
    status = "graded"
    kinds = {c.student_error.kind for c in checks if c.student_error}
    if "timeout" in kinds:
        status = "timeout"
    elif "crashed" in kinds:
        status = "crashed"
    if any(c.grader_error is not None for c in checks):
        status = "grader_error"
    warnings = tuple(source.warnings) + tuple(_cell_warning(c) for c in proxy.failed_cells)
    if proxy.defined and exercise.entry_points:
        absent = [f for f in exercise.entry_points if f not in proxy.defined]
        if absent:
            warnings += (GRADER("file_does_not_define", names=", ".join(absent)),)
    result = ExerciseResult(
        exercise=exercise.id, title=exercise.title, status=status, checks=tuple(checks),  # type: ignore[arg-type]
        source=source_label, warnings=warnings, output=proxy.output[-20000:],
        hidden_output=proxy.hidden_output[-20000:],
        duration_s=time.monotonic() - start, student_time_s=proxy.student_time_s,
        hidden_points=0.0 if include_hidden else exercise.hidden_points)
    return result, proxy
