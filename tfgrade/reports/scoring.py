"""Class-wide maxima: what a student's total is out of, the same for everyone.

A missing exercise may come back with no checks at all, so its own `max_score` is 0 and the
student's `SubmissionResult.max_score` shrinks: a student who handed in half the work would
then look like 100 %. Every report and export therefore measures a missing exercise against
the class's reference maximum for it (the largest `max_score` any student got for that
exercise, or the instructor's own table when given). An exercise that was graded keeps its
own maximum, which already leaves out not-applicable checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tfgrade.engine.results import ExerciseResult, SubmissionResult


def exercise_ids(results: Iterable[SubmissionResult]) -> list[str]:
    """Exercise ids in the pack's order, as the engine writes it: the order of the result with
    the most exercises, then any id only other results have, in order of appearance."""
    seen: list[str] = []
    for result in sorted(results, key=lambda r: -len(r.exercises)):
        for ex in result.exercises:
            if ex.exercise not in seen:
                seen.append(ex.exercise)
    return seen


def reference_max(results: Iterable[SubmissionResult],
                  given: Mapping[str, float] | None = None) -> dict[str, float]:
    ref: dict[str, float] = dict(given or {})
    for result in results:
        for ex in result.exercises:
            if ex.exercise not in (given or {}) and ex.checks:
                ref[ex.exercise] = max(ref.get(ex.exercise, 0.0), ex.max_score)
    return ref


def exercise_max(ex: ExerciseResult | None, exercise_id: str, ref: Mapping[str, float]) -> float:
    if ex is not None and ex.checks:
        return ex.max_score
    return float(ref.get(exercise_id, 0.0))


def student_max(result: SubmissionResult, ids: Sequence[str], ref: Mapping[str, float]) -> float:
    return round(sum(exercise_max(result.exercise(i), i, ref) for i in ids), 4)


def student_score(result: SubmissionResult, ids: Sequence[str]) -> float:
    return round(sum(ex.score for i in ids if (ex := result.exercise(i)) is not None), 4)


def student_penalty(result: SubmissionResult, ids: Sequence[str]) -> float:
    """Points the late policy takes from the student's total over `ids` (0 without one)."""
    share = result.late.share if result.late is not None else 0.0
    return round(student_score(result, ids) * share, 4)


def student_final(result: SubmissionResult, ids: Sequence[str]) -> float:
    """The grade: the (adjusted) total less the late penalty. What every export carries."""
    return round(student_score(result, ids) - student_penalty(result, ids), 4)
