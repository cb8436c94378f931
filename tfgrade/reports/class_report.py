"""The class report: OUT/index.html, what an instructor reads after grading a class.

Score distribution (a real histogram), per-exercise mean/median/max, the pass rate of every
check from the hardest, and the students table with links to each report and flags
(timeout, crash, tampering blocked, not submitted, grader error). Grader tracebacks are shown
here, folded, and nowhere else: they are for instructors.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from jinja2 import Environment

from tfgrade.engine.results import SubmissionResult, write_text_atomic
from tfgrade.i18n import Lang
from tfgrade.reports.formatting import fmt_date, fmt_num, parse_iso, report_filename, trim_text
from tfgrade.reports.labels import labels
from tfgrade.reports.plots import histogram_plot
from tfgrade.reports.scoring import exercise_ids, reference_max, student_final, student_max
from tfgrade.reports.student_report import band
from tfgrade.reports.templating import page_context, template_env

if TYPE_CHECKING:
    from tfgrade.reports.leaderboard import LeaderboardView
    from tfgrade.similarity.report import SimilarityReport

FLAG_ORDER = ("not_submitted", "timeout", "crash", "unreadable", "tampering", "implausible", "public_data",
              "grader_error", "late", "late_time_from_files", "late_time_unknown", "adjusted")
# A flag that only repeats the student's status chip is not shown twice.
_SAME_AS_STATUS = {"not_submitted": "not_submitted", "timeout": "timeout", "crashed": "crash",
                   "unreadable": "unreadable", "grader_error": "grader_error"}


@dataclass(frozen=True)
class StudentRow:
    name: str
    student_id: str
    href: str
    exercise_scores: list[str]
    score: str
    max_score: str
    percent: str
    band: str
    status: str
    status_label: str
    flags: list[tuple[str, str]]         # (css kind, label), beyond what the status says


@dataclass(frozen=True)
class ExerciseStat:
    id: str
    title: str
    submitted: int
    mean: str
    median: str
    max: str
    max_points: str
    mean_percent: float
    band: str


@dataclass(frozen=True)
class CheckRate:
    exercise: str
    check: str
    title: str
    hidden: bool
    passed: int
    attempts: int
    rate: float            # 0..100
    rate_text: str
    band: str


@dataclass(frozen=True)
class GraderErrorRow:
    student: str
    exercise: str
    check: str
    text: str


@dataclass(frozen=True)
class ClassView:
    n_students: int
    n_submitted: int
    mean_percent: str
    median_percent: str
    histogram: str | None
    histogram_narrow: str | None
    exercise_ids: list[str]
    exercises: list[ExerciseStat]
    checks: list[CheckRate]
    students: list[StudentRow]
    grader_errors: list[GraderErrorRow]
    isolation: str
    mixed_isolation: bool
    tool_versions: str
    graded_from: str
    graded_to: str


def student_flags(result: SubmissionResult) -> list[str]:
    """Flag keys, in a fixed order, for one student's row."""
    statuses = {e.status for e in result.exercises}
    checks = [c for e in result.exercises for c in e.checks]
    details = [c.details for c in checks]
    found = {
        "not_submitted": result.status == "not_submitted",
        "timeout": "timeout" in statuses,
        "crash": "crashed" in statuses,
        "unreadable": "unreadable" in statuses,
        "tampering": any(c.tampering for c in checks),
        # A held-out metric beyond what the data allows (memorised labels?); no score changes.
        "implausible": any(d.get("implausible") for d in details),
        # Hidden accuracy checks graded on the bundled (public) split: fix with [datasets].
        "public_data": any(d.get("public_held_out") for d in details),
        "grader_error": "grader_error" in statuses or any(c.grader_error is not None for c in checks),
        # The policies (tfgrade.policy): a late penalty, a time only the files' dates gave, an override.
        "late": result.late is not None and result.late.is_late,
        "late_time_from_files": result.late is not None and result.late.time_source == "file_time",
        "late_time_unknown": result.late is not None and result.late.time_source == "unknown",
        "adjusted": result.adjusted,
    }
    return [key for key in FLAG_ORDER if found[key]]


def grader_errors(results: Sequence[SubmissionResult]) -> list[GraderErrorRow]:
    rows = []
    for r in results:
        for ex in r.exercises:
            if ex.status == "grader_error" and ex.message:
                rows.append(GraderErrorRow(r.display_name, ex.exercise, "", trim_text(ex.message.en, 4000)[0]))
            for c in ex.checks:
                if c.grader_error is not None:
                    rows.append(GraderErrorRow(r.display_name, ex.exercise, c.id, trim_text(c.grader_error, 8000)[0]))
    return rows


def _pct(score: float, max_score: float) -> float | None:
    return 100.0 * score / max_score if max_score > 0 else None


def check_rates(results: Sequence[SubmissionResult], lang: Lang) -> list[CheckRate]:
    """Pass rate of every check among students who handed the exercise in; hardest first.

    A not-applicable check is not an attempt; a skipped one is (the student's code did not
    get there), so it counts as not passed.
    """
    tally: dict[tuple[str, str], list[int]] = {}
    info: dict[tuple[str, str], tuple[str, bool]] = {}
    for r in results:
        for ex in r.exercises:
            if ex.status == "missing":
                continue
            for c in ex.checks:
                if c.status == "not_applicable":
                    continue
                key = (ex.exercise, c.id)
                counts = tally.setdefault(key, [0, 0])
                counts[0] += c.status == "passed"
                counts[1] += 1
                info.setdefault(key, (c.title.get(lang), c.hidden))
    rates = []
    for (ex_id, check_id), (passed, attempts) in tally.items():
        rate = 100.0 * passed / attempts
        title, hidden = info[(ex_id, check_id)]
        rates.append(CheckRate(ex_id, check_id, title, hidden, passed, attempts, round(rate, 2),
                               fmt_num(rate, lang, 0) + " %", band(passed, attempts)))
    return sorted(rates, key=lambda c: (c.rate, -c.attempts, c.exercise, c.check))


def class_view(results: Sequence[SubmissionResult], lang: Lang,
               max_points: Mapping[str, float] | None = None) -> ClassView:
    t = labels(lang)
    results = sorted(results, key=lambda r: (r.student.casefold(), r.key))
    ids = exercise_ids(results)
    ref = reference_max(results, max_points)
    titles: dict[str, str] = {}
    for r in results:
        for ex in r.exercises:
            titles.setdefault(ex.exercise, ex.title.get(lang))

    rows, percents = [], []
    for r in results:
        total, total_max = student_final(r, ids), student_max(r, ids, ref)
        pct = _pct(total, total_max)
        if r.status != "not_submitted" and pct is not None:
            percents.append(pct)
        rows.append(StudentRow(
            name=r.student, student_id=r.student_id or "",
            href="reports/" + quote(report_filename(r.file_label)),
            exercise_scores=[fmt_num(e.score, lang) if (e := r.exercise(i)) and e.status != "missing" else "—"
                             for i in ids],
            score=fmt_num(total, lang), max_score=fmt_num(total_max, lang),
            percent=fmt_num(pct, lang, 1) + " %" if pct is not None else "—",
            band=band(total, total_max), status=r.status, status_label=t.get(f"sub_{r.status}", r.status),
            flags=[(k, t[f"flag_{k}"]) for k in student_flags(r) if k != _SAME_AS_STATUS.get(r.status)],
        ))

    stats = []
    for i in ids:
        scores = [e.score for r in results if (e := r.exercise(i)) is not None and e.status != "missing"]
        top = ref.get(i, 0.0)
        mean = statistics.fmean(scores) if scores else None
        stats.append(ExerciseStat(
            id=i, title=titles.get(i, i), submitted=len(scores),
            mean=fmt_num(mean, lang), median=fmt_num(statistics.median(scores) if scores else None, lang),
            max=fmt_num(max(scores) if scores else None, lang), max_points=fmt_num(top, lang),
            mean_percent=round(100.0 * mean / top, 2) if mean is not None and top > 0 else 0.0,
            band=band(mean or 0.0, top),
        ))

    levels = Counter(r.isolation for r in results)
    moments = sorted(m for r in results if (m := parse_iso(r.graded_at)) is not None)
    return ClassView(
        n_students=len(results), n_submitted=sum(r.status != "not_submitted" for r in results),
        mean_percent=fmt_num(statistics.fmean(percents), lang, 1) + " %" if percents else "—",
        median_percent=fmt_num(statistics.median(percents), lang, 1) + " %" if percents else "—",
        histogram=histogram_plot(percents, t["score_percent"], t["n_students"]),
        histogram_narrow=histogram_plot(percents, t["score_percent"], t["n_students"], narrow=True),
        exercise_ids=ids, exercises=stats, checks=check_rates(results, lang), students=rows,
        grader_errors=grader_errors(results),
        isolation=", ".join(f"{t.get('isolation_' + k, k)} ({n})" for k, n in levels.most_common()),
        mixed_isolation=len(levels) > 1,
        tool_versions=", ".join(sorted({r.tool_version for r in results})),
        graded_from=fmt_date(moments[0].isoformat(), lang) if moments else "—",
        graded_to=fmt_date(moments[-1].isoformat(), lang) if moments else "—",
    )


def render_class_report(results: Sequence[SubmissionResult], lang: Lang = "es",
                        env: Environment | None = None, max_points: Mapping[str, float] | None = None,
                        leaderboard: LeaderboardView | None = None, similarity: SimilarityReport | None = None) -> str:
    """`leaderboard`: the instructors' view of the board (reports.leaderboard), if the course has one;
    `similarity`: the class's similar pairs (OUT/similarity.json), instructors only."""
    env = env or template_env()
    t = labels(lang)
    context = page_context(lang, title=f"{t['class_title']} · {t['tool']}")
    sim = None
    if similarity is not None:
        from tfgrade.similarity.pages import similarity_view

        sim = similarity_view(similarity, lang)
    return env.get_template("class_report.html.j2").render(**context, c=class_view(results, lang, max_points),
                                                           lb=leaderboard, sim=sim)


def write_class_report(results: Sequence[SubmissionResult], out_dir: Path, lang: Lang = "es",
                       env: Environment | None = None, max_points: Mapping[str, float] | None = None,
                       leaderboard: LeaderboardView | None = None, similarity: SimilarityReport | None = None) -> Path:
    path = Path(out_dir) / "index.html"
    write_text_atomic(path, render_class_report(results, lang, env, max_points, leaderboard, similarity))
    return path

