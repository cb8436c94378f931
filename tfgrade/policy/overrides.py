"""Instructor overrides and regrades: a CSV applied on top of the automatic results.

```csv
student,exercise,check,points,delta,reason,by,when
12345,ex06_diabetes_mlp,heldout_accuracy,3,,regrade: the data file was the old one,mgarcia,2026-12-02
Ana López,ex02_sequential,,,+1,good explanation in the notebook,mgarcia,2026-12-02
```

- `student`: the student's key (the LMS id where there is one), their display name
  ("Ana López (12345)") or their name when no other student has it;
- `check` empty: the whole exercise (its score, on top of its checks);
- exactly one of `points` (set) or `delta` (add, may be negative); `reason` is required (the
  student reads it); `by` and `when` are kept for the record.

A set value must lie in [0, max]; a delta stops at 0 and at the maximum (the log says so).
Rows on the same target apply in file order. Anything that names an unknown student,
exercise or check, or is malformed, is an error listing every bad line: never ignored.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tfgrade.catalogue import GRADER
from tfgrade.engine.adjustments import Adjustment
from tfgrade.engine.results import CheckResult, ExerciseResult, SubmissionResult
from tfgrade.errors import TfgradeError
from tfgrade.i18n import Msg
from tfgrade.policy.csvfile import read_table

COLUMNS = ("student", "exercise", "check", "points", "delta", "reason", "by", "when")


class OverrideError(TfgradeError):
    """An overrides file with rows that cannot be applied; every problem is listed."""

    @classmethod
    def from_problems(cls, path: Path, problems: Sequence[Msg]) -> OverrideError:
        head = GRADER("policy_overrides_invalid", path=str(path), n=len(problems))
        return cls(Msg("\n  ".join([head.es, *(p.es for p in problems)]),
                       "\n  ".join([head.en, *(p.en for p in problems)])))


@dataclass(frozen=True)
class Override:
    line: int
    student: str
    exercise: str
    check: str                 # "" = the whole exercise
    points: float | None
    delta: float | None
    reason: str
    by: str = ""
    when: str = ""


@dataclass(frozen=True)
class Overrides:
    path: Path
    sha256: str
    rows: tuple[Override, ...]

    @classmethod
    def read(cls, path: Path) -> Overrides:
        path = Path(path)
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise OverrideError(GRADER("policy_overrides_unreadable", path=str(path), why=str(exc))) from None
        try:
            table = read_table(text)
        except csv.Error as exc:
            raise OverrideError(GRADER("policy_overrides_unreadable", path=str(path), why=str(exc))) from None
        missing = [c for c in ("student", "exercise", "reason") if c not in table.header]
        if missing or not ("points" in table.header or "delta" in table.header):
            raise OverrideError(GRADER("policy_overrides_columns", path=str(path), columns=", ".join(COLUMNS)))
        rows: list[Override] = []
        problems: list[Msg] = []
        for line, row in table.rows:
            parsed = _parse_row(line, row, problems)
            if parsed is not None:
                rows.append(parsed)
        if problems:
            raise OverrideError.from_problems(path, problems)
        return cls(path=path, sha256=hashlib.sha256(raw).hexdigest(), rows=tuple(rows))


def _number(text: str) -> float | None:
    text = text.replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")            # 1,5 from a Spanish spreadsheet
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _parse_row(line: int, row: Mapping[str, str], problems: list[Msg]) -> Override | None:
    before = len(problems)
    for column in ("student", "exercise", "reason"):
        if not row.get(column):
            problems.append(GRADER("policy_override_missing", line=line, column=column))
    points_text, delta_text = row.get("points", ""), row.get("delta", "")
    if bool(points_text) == bool(delta_text):
        problems.append(GRADER("policy_override_points_or_delta", line=line))
    points = _number(points_text) if points_text else None
    delta = _number(delta_text) if delta_text else None
    if points_text and points is None:
        problems.append(GRADER("policy_override_not_number", line=line, column="points", value=points_text[:40]))
    if delta_text and delta is None:
        problems.append(GRADER("policy_override_not_number", line=line, column="delta", value=delta_text[:40]))
    if points is not None and points < 0:
        problems.append(GRADER("policy_override_negative", line=line, value=points_text[:40]))
    if len(problems) > before:
        return None
    return Override(line=line, student=row["student"], exercise=row["exercise"], check=row.get("check", ""),
                    points=points, delta=delta, reason=row["reason"], by=row.get("by", ""), when=row.get("when", ""))


Person = tuple[tuple[str, ...], str]      # (exact names: key, display name, LMS id; plain name)


def _person(result: SubmissionResult) -> Person:
    return (result.key, result.display_name, result.student_id or ""), result.student


def designate(name: str, people: Sequence[Person]) -> tuple[int | None, bool]:
    """(index of the person `name` designates, ambiguous): an exact name (key, display name,
    id) first, then a plain name no one else has; case and outer spaces do not count."""
    wanted = name.strip().casefold()
    exact = [i for i, (names, _) in enumerate(people) if wanted in {n.strip().casefold() for n in names if n}]
    if len(exact) == 1:
        return exact[0], False
    by_name = [i for i, (_, plain) in enumerate(people) if plain.strip().casefold() == wanted]
    if len(exact) > 1 or len(by_name) > 1:
        return None, True
    return (by_name[0], False) if by_name else (None, False)


def find_student(name: str, results: Sequence[SubmissionResult]) -> tuple[SubmissionResult | None, bool]:
    """(the result `name` designates, ambiguous): see `designate`."""
    index, ambiguous = designate(name, [_person(r) for r in results])
    return (results[index] if index is not None else None), ambiguous


@dataclass(frozen=True)
class Applied:
    """One target's adjustment as applied (what the audit log records)."""

    student: str              # the student's key
    exercise: str
    check: str
    adjustment: Adjustment
    lines: tuple[int, ...]


def _clamp(value: float, top: float) -> tuple[float, bool]:
    clamped = min(max(value, 0.0), top)
    return round(clamped, 4), clamped != value


def apply_overrides(results: Sequence[SubmissionResult], overrides: Overrides,
                    reference_max: Mapping[str, float]) -> tuple[list[SubmissionResult], list[Applied]]:
    """The results with every override applied, and what was applied. Raises OverrideError
    (listing every problem) when a row names an unknown student, exercise or check."""
    problems: list[Msg] = []
    by_result: dict[int, list[Override]] = {}
    for row in overrides.rows:
        result, ambiguous = find_student(row.student, results)
        if result is None:
            key = "policy_override_ambiguous_student" if ambiguous else "policy_override_unknown_student"
            problems.append(GRADER(key, line=row.line, student=row.student[:80]))
            continue
        ex = result.exercise(row.exercise)
        if ex is None:
            problems.append(GRADER("policy_override_unknown_exercise", line=row.line, exercise=row.exercise[:80],
                                   valid=", ".join(e.exercise for e in result.exercises)))
            continue
        if row.check:
            check = next((c for c in ex.checks if c.id == row.check), None)
            if check is None:
                valid = ", ".join(c.id for c in ex.checks) or "—"
                key = "policy_override_unknown_check" if ex.checks else "policy_override_no_checks"
                problems.append(GRADER(key, line=row.line, check=row.check[:80], exercise=ex.exercise, valid=valid))
                continue
            if not check.counts_in_total:
                problems.append(GRADER("policy_override_not_applicable", line=row.line, check=check.id))
                continue
            if row.points is not None and row.points > check.max_points:
                problems.append(GRADER("policy_override_above_max", line=row.line, value=row.points,
                                       top=check.max_points))
                continue
        else:
            top = ex.max_score if ex.checks else float(reference_max.get(ex.exercise, 0.0))
            if row.points is not None and row.points > top:
                problems.append(GRADER("policy_override_above_max", line=row.line, value=row.points, top=top))
                continue
        by_result.setdefault(id(result), []).append(row)
    if problems:
        raise OverrideError.from_problems(overrides.path, problems)
    out, applied = [], []
    for result in results:
        rows = by_result.get(id(result), [])
        if not rows:
            out.append(result)
            continue
        exercises = []
        for ex in result.exercises:
            new_ex, done = _apply_to_exercise(ex, [r for r in rows if r.exercise == ex.exercise], reference_max)
            exercises.append(new_ex)
            applied += [Applied(result.key, ex.exercise, check, adj, lines) for check, adj, lines in done]
        out.append(replace(result, exercises=tuple(exercises)))
    return out, applied


def _fold(rows: Sequence[Override], start: float, top: float, automatic: float) -> Adjustment:
    value, clamped = start, False
    for row in rows:
        value, hit = _clamp(row.points if row.points is not None else value + (row.delta or 0.0), top)
        clamped |= hit
    last = rows[-1]
    reasons = " · ".join(dict.fromkeys(r.reason for r in rows))
    return Adjustment(before=automatic, after=value, reason=reasons, by=last.by, when=last.when, clamped=clamped)


def _apply_to_exercise(ex: ExerciseResult, rows: Sequence[Override], reference_max: Mapping[str, float]
                       ) -> tuple[ExerciseResult, list[tuple[str, Adjustment, tuple[int, ...]]]]:
    if not rows:
        return ex, []
    done: list[tuple[str, Adjustment, tuple[int, ...]]] = []
    checks: list[CheckResult] = []
    for check in ex.checks:
        mine = [r for r in rows if r.check == check.id]
        if mine:
            adj = _fold(mine, check.points, check.max_points, check.points)
            checks.append(replace(check, points=adj.after, adjustment=adj))
            done.append((check.id, adj, tuple(r.line for r in mine)))
        else:
            checks.append(check)
    new_ex = replace(ex, checks=tuple(checks))
    whole = [r for r in rows if not r.check]
    if whole:
        top = new_ex.max_score if new_ex.checks else float(reference_max.get(ex.exercise, 0.0))
        base = new_ex.checks_score
        adj = _fold(whole, base, top, base)
        new_ex = replace(new_ex, adjustment=adj)
        done.append(("", adj, tuple(r.line for r in whole)))
    return new_ex, done


def precheck(overrides: Overrides, students: Sequence[Person], checks: Mapping[str, set[str]]) -> None:
    """Before a class is graded: every row designates a student of the class (`students`: each
    one's exact names and plain name, by the same rule as `apply_overrides`), an exercise of
    the course and one of its checks (`checks`). The rest (a check a student's result lacks,
    a value above its maximum) is told when the overrides are applied; this spares the
    instructor a whole grading run to learn of a typo."""
    problems: list[Msg] = []
    for row in overrides.rows:
        index, ambiguous = designate(row.student, students)
        if index is None:
            key = "policy_override_ambiguous_student" if ambiguous else "policy_override_unknown_student"
            problems.append(GRADER(key, line=row.line, student=row.student[:80]))
        if row.exercise not in checks:
            problems.append(GRADER("policy_override_unknown_exercise", line=row.line, exercise=row.exercise[:80],
                                   valid=", ".join(checks)))
        elif row.check and row.check not in checks[row.exercise]:
            problems.append(GRADER("policy_override_unknown_check", line=row.line, check=row.check[:80],
                                   exercise=row.exercise, valid=", ".join(sorted(checks[row.exercise]))))
    if problems:
        raise OverrideError.from_problems(overrides.path, problems)
