"""The words a student reads about what the policies changed: an instructor's adjustment
beside a check or an exercise, and the late penalty with its reasons. One place, so that
the HTML report, Gradescope's output and Moodle's feedback comments say the same thing."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tfgrade.catalogue import GRADER
from tfgrade.engine.adjustments import Adjustment, LatePenalty, TimeSource
from tfgrade.engine.results import SubmissionResult
from tfgrade.i18n import Lang, Msg
from tfgrade.reports.formatting import fmt_num
from tfgrade.reports.labels import MONTHS

TIME_SOURCE_KEYS: dict[TimeSource, str] = {
    "worksheet": "policy_time_source_worksheet", "gradescope": "policy_time_source_gradescope",
    "csv": "policy_time_source_csv", "file_time": "policy_time_source_file_time", "unknown": "policy_time_unknown"}


def fmt_moment(text: str | None, lang: Lang) -> str:
    """'2026-11-30T23:59:00+01:00' -> '30 nov 2026, 23:59 (UTC+01:00)': in the deadline's own
    offset, as the instructor wrote it, so that nobody converts time zones in their head."""
    if not text:
        return "—"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    zone = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}" if minutes else "UTC"
    return f"{moment.day} {MONTHS[lang][moment.month - 1]} {moment.year}, {moment:%H:%M} ({zone})"


def duration_words(seconds: float, lang: Lang) -> str:
    """'2 days, 3 h 15 min' / '2 días, 3 h 15 min' (rounded up to the minute)."""
    minutes = max(1, math.ceil(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    clock = " ".join(part for part in (f"{hours} h" if hours else "", f"{mins} min" if mins else "") if part)
    if not days:
        return clock
    unit = ("día" if days == 1 else "días") if lang == "es" else ("day" if days == 1 else "days")
    return f"{days} {unit}, {clock}" if clock else f"{days} {unit}"


def adjustment_msg(adj: Adjustment, lang: Lang) -> str:
    """"adjusted by your instructor: REASON (1 → 3 points)"."""
    said = GRADER("policy_adjusted", reason=adj.reason).get(lang)
    change = GRADER("policy_adjusted_points", before=fmt_num(adj.before, lang), after=fmt_num(adj.after, lang))
    return f"{said} ({change.get(lang)})"


def _percent(share: float, lang: Lang) -> str:
    return fmt_num(100.0 * share, lang, 0) + " %"


def late_msgs(late: LatePenalty, penalty_points: float, lang: Lang) -> list[str]:
    """The late policy's lines for one student: extension, the verdict, where the time came from."""
    out: list[Msg] = []
    if late.extended:
        out.append(GRADER("policy_extension", due=fmt_moment(late.due, lang)))
    if late.submitted_at is None:
        out.append(GRADER("policy_time_unknown"))
        return [m.get(lang) for m in out]
    submitted, due = fmt_moment(late.submitted_at, lang), fmt_moment(late.due, lang)
    if late.after_cutoff:
        out.append(GRADER("policy_after_cutoff", submitted=submitted, late_until=fmt_moment(late.late_until, lang)))
    elif late.is_late:
        out.append(GRADER("policy_late", submitted=submitted, late_by=duration_words(late.late_by_s, lang), due=due,
                          days=late.days_late, rate=_percent(late.rate, lang),
                          share=_percent(late.share, lang), penalty=fmt_num(penalty_points, lang)))
    else:
        out.append(GRADER("policy_on_time", submitted=submitted, due=due))
    out.append(GRADER(TIME_SOURCE_KEYS[late.time_source]))
    return [m.get(lang) for m in out]


def result_late_msgs(result: SubmissionResult, lang: Lang) -> list[str]:
    if result.late is None:
        return []
    return late_msgs(result.late, result.penalty, lang)
