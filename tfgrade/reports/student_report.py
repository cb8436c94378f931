"""One student's report: OUT/reports/<student>.html, a single self-contained HTML file.

The view built here is plain data (strings and numbers already formatted for the language);
the template only lays it out, and Jinja's autoescape escapes every string, so text from
student code (layer names, exception messages, printed output, even the student's name)
can never become markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment

from tfgrade.engine.results import CheckResult, ExerciseResult, SubmissionResult, write_text_atomic
from tfgrade.i18n import Lang
from tfgrade.reports.details import DetailsView, details_view
from tfgrade.reports.formatting import (
    MAX_MESSAGE_CHARS,
    fmt_date,
    fmt_num,
    fmt_percent,
    fmt_seconds,
    report_filename,
    trim_text,
)
from tfgrade.reports.labels import labels
from tfgrade.reports.policy_view import adjustment_msg, result_late_msgs
from tfgrade.reports.scoring import exercise_max, student_max
from tfgrade.reports.templating import page_context, template_env


@dataclass(frozen=True)
class CheckView:
    id: str
    title: str
    status: str            # css/status key: passed | failed | error | skipped | not_applicable | hidden
    status_label: str
    points: str
    max_points: str
    feedback: str
    masked: bool           # a hidden check shown without its feedback and details
    counts: bool           # False for not applicable: its points leave the total
    hidden: bool           # a hidden check (shown in full only with reveal_hidden)
    details: DetailsView | None
    adjusted: str = ""     # "adjusted by your instructor: REASON (1 → 3 points)"


@dataclass(frozen=True)
class ExerciseView:
    id: str
    title: str
    status: str
    status_label: str
    score: str
    max_score: str
    percent: float         # 0..100, for the bar
    band: str              # good | fair | poor | none: the bar's colour
    checks: list[CheckView]
    message: str
    warnings: list[str]
    output: str
    output_trimmed: bool
    source: str
    student_time: str
    hidden_points_pending: str
    notebook: str = ""          # link to the student's notebook, rendered and sanitized
    hidden_output: str = ""     # printed during hidden checks' calls: only when revealing hidden
    hidden_output_trimmed: bool = False
    adjusted: str = ""          # an instructor's adjustment of the whole exercise


@dataclass(frozen=True)
class StudentView:
    student: str
    student_id: str
    date: str
    score: str
    max_score: str
    percent: float
    percent_text: str
    band: str
    status_label: str
    exercises: list[ExerciseView]
    isolation: str
    isolation_key: str
    tool_version: str
    duration: str
    total_before_penalty: str = ""    # the (adjusted) total, when a late penalty took some of it
    penalty: str = ""                 # points the late policy took ("" when none)
    late_lines: tuple[str, ...] = ()  # why: the deadline, when it was handed in, where that time came from
    late_kind: str = ""               # on_time | late | cutoff | unknown: the callout's colour


def _late_kind(result: SubmissionResult) -> str:
    late = result.late
    if late is None:
        return ""
    if late.submitted_at is None:
        return "unknown"
    return "cutoff" if late.after_cutoff else "late" if late.is_late else "on_time"


def band(score: float, max_score: float) -> str:
    if max_score <= 0:
        return "none"
    share = score / max_score
    return "good" if share >= 0.85 else "fair" if share >= 0.5 else "poor"


def _percent(score: float, max_score: float) -> float:
    return round(max(0.0, min(100.0, 100.0 * score / max_score)), 2) if max_score > 0 else 0.0


def check_view(check: CheckResult, lang: Lang, reveal_hidden: bool) -> CheckView:
    t = labels(lang)
    masked = check.hidden and not reveal_hidden
    status = "hidden" if masked else check.status
    feedback = "" if masked else trim_text(check.feedback.get(lang), MAX_MESSAGE_CHARS)[0]
    details = None
    if not masked and (check.details or check.student_error or check.tampering):
        view = details_view(check.details, lang, student_error=check.student_error, tampering=check.tampering)
        details = None if view.empty else view
    return CheckView(
        id=check.id, title=check.title.get(lang), status=status, status_label=t[f"status_{status}"],
        points=fmt_num(check.points, lang) if check.counts_in_total else "—",
        max_points=fmt_num(check.max_points, lang), feedback=feedback, masked=masked,
        counts=check.counts_in_total, hidden=check.hidden, details=details,
        adjusted=adjustment_msg(check.adjustment, lang) if check.adjustment else "",
    )


def exercise_view(ex: ExerciseResult, lang: Lang, reveal_hidden: bool, max_score: float | None = None,
                  notebook: str = "") -> ExerciseView:
    t = labels(lang)
    max_score = ex.max_score if max_score is None else max_score
    message = ex.message.get(lang) if ex.message else ""
    if ex.status == "grader_error":
        # The engine's message here may carry grader internals: students get the plain words,
        # instructors find the message in the class report.
        message = t["grader_error_student"]
    # Only what the student's code printed during visible checks: output of hidden checks'
    # calls may hold private held-out inputs, so it is shown only when revealing hidden.
    output, output_trimmed = trim_text(ex.output) if ex.output else ("", False)
    hidden_output, hidden_trimmed = (trim_text(ex.hidden_output) if reveal_hidden and ex.hidden_output
                                     else ("", False))
    return ExerciseView(
        id=ex.exercise, title=ex.title.get(lang), status=ex.status, status_label=t[f"ex_{ex.status}"],
        score=fmt_num(ex.score, lang), max_score=fmt_num(max_score, lang),
        percent=_percent(ex.score, max_score), band=band(ex.score, max_score),
        checks=[check_view(c, lang, reveal_hidden) for c in ex.checks],
        message=trim_text(message, MAX_MESSAGE_CHARS)[0], warnings=[w.get(lang) for w in ex.warnings],
        output=output, output_trimmed=output_trimmed, source=ex.source or "",
        student_time=fmt_seconds(ex.student_time_s, lang) if ex.student_time_s > 0 else "",
        hidden_points_pending=fmt_num(ex.hidden_points, lang) if ex.hidden_points > 0 else "",
        notebook=notebook, hidden_output=hidden_output, hidden_output_trimmed=hidden_trimmed,
        adjusted=adjustment_msg(ex.adjustment, lang) if ex.adjustment else "",
    )


def student_view(result: SubmissionResult, lang: Lang, reveal_hidden: bool = False,
                 max_points: Mapping[str, float] | None = None,
                 notebooks: Mapping[str, str] | None = None) -> StudentView:
    """`max_points`: the class's maximum per exercise (scoring.reference_max), used for
    exercises that came back without checks (not submitted) so the total is out of the
    same number for everyone."""
    t = labels(lang)
    ref = max_points or {}
    ids = [e.exercise for e in result.exercises]
    total_max = student_max(result, ids, ref)
    final = result.final_score
    return StudentView(
        student=result.student, student_id=result.student_id or "", date=fmt_date(result.graded_at, lang),
        score=fmt_num(final, lang), max_score=fmt_num(total_max, lang),
        percent=_percent(final, total_max),
        percent_text=fmt_percent(final, total_max, lang),
        total_before_penalty=fmt_num(result.score, lang) if result.penalty > 0 else "",
        penalty=fmt_num(result.penalty, lang) if result.penalty > 0 else "",
        late_lines=tuple(result_late_msgs(result, lang)), late_kind=_late_kind(result),
        band=band(final, total_max), status_label=t.get(f"sub_{result.status}", result.status),
        exercises=[exercise_view(e, lang, reveal_hidden, exercise_max(e, e.exercise, ref),
                                 (notebooks or {}).get(e.exercise, "")) for e in result.exercises],
        isolation=t.get(f"isolation_{result.isolation}", result.isolation), isolation_key=result.isolation,
        tool_version=result.tool_version, duration=fmt_seconds(result.duration_s, lang),
    )


def render_student_report(result: SubmissionResult, lang: Lang = "es", reveal_hidden: bool = False,
                          env: Environment | None = None, max_points: Mapping[str, float] | None = None,
                          notebooks: Mapping[str, str] | None = None) -> str:
    env = env or template_env()
    view = student_view(result, lang, reveal_hidden, max_points, notebooks)
    context = page_context(lang, title=f"{view.student} · {labels(lang)['student_title']}")
    return env.get_template("student_report.html.j2").render(**context, r=view)


def write_student_report(result: SubmissionResult, out_dir: Path, lang: Lang = "es",
                         reveal_hidden: bool = False, env: Environment | None = None,
                         max_points: Mapping[str, float] | None = None) -> Path:
    """Write OUT/reports/<student>.html atomically and return its path."""
    path = Path(out_dir) / "reports" / report_filename(result.file_label)
    write_text_atomic(path, render_student_report(result, lang, reveal_hidden, env, max_points,
                                                  notebook_links(result, Path(out_dir))))
    return path


def notebook_path(out_dir: Path, student: str, exercise: str) -> Path:
    """Where the grader stores a student's notebook rendered to sanitized HTML; `student` is
    the student's file label (SubmissionResult.file_label, StudentFiles.file_label)."""
    return Path(out_dir) / "notebooks" / Path(report_filename(student)).stem / f"{exercise}.html"


def notebook_links(result: SubmissionResult, out_dir: Path) -> dict[str, str]:
    links = {}
    for ex in result.exercises:
        path = notebook_path(out_dir, result.file_label, ex.exercise)
        if path.is_file():
            links[ex.exercise] = "../" + "/".join(quote(p) for p in path.relative_to(out_dir).parts)
    return links
