"""`SimilarityReport`: the pairs of submissions that look alike, per exercise (OUT/similarity.json).

A pair is *flagged* for its code when its score (tfgrade.similarity.code: the larger of
copydetect's two similarities, starter discounted) reaches `threshold`, and for its model
when both students hold the same unusual verified model (tfgrade.similarity.models). Pairs a
little below the threshold (`NEAR_SHARE` of it) are kept too, unflagged, so the instructor
sees what was close. It is a hint for a human reading both files, never a score change:
nothing here is read by grading or by the student reports.

The default threshold (0.8) comes from benchmarks/similarity_bench.py (benchmarks/README.md,
"Similarity"): the planted near-copies that can be found at all are found from 0.5 up to 0.8
while false alarms keep falling; above 0.8 plants start being lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfgrade import __version__
from tfgrade.engine.results import SubmissionResult, safe_file_stem, write_json_atomic
from tfgrade.i18n import Msg
from tfgrade.similarity.code import WINDOW, CodeText, K, SkippedFile, compare_exercise, read_texts
from tfgrade.similarity.models import ModelPrint, model_matches, model_prints

if TYPE_CHECKING:
    from tfgrade.pack.course import Course
    from tfgrade.runners.batch import StudentFiles

SCHEMA = 1
DEFAULT_THRESHOLD = 0.8
NEAR_SHARE = 0.85          # pairs scoring ≥ 0.85 × threshold are kept (unflagged) for context
MAX_KEPT_CODE = 60_000     # characters of each side's code kept in the JSON


@dataclass(frozen=True)
class Side:
    """One student of a pair: who, which file, the code compared and its matched regions."""

    student: str
    display: str
    label: str
    file_name: str
    code: str
    slices: tuple[tuple[int, int], ...]
    model: str = ""                # the verified model's summary, when there is one

    def to_json(self) -> dict[str, Any]:
        return {"student": self.student, "display": self.display, "label": self.label,
                "file_name": self.file_name, "code": self.code, "slices": [list(s) for s in self.slices],
                "model": self.model}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Side:
        return cls(str(d["student"]), str(d["display"]), str(d["label"]), str(d["file_name"]), str(d["code"]),
                   tuple((int(s), int(e)) for s, e in d.get("slices", [])), str(d.get("model", "")))


@dataclass(frozen=True)
class SimilarPair:
    exercise: str
    pair_id: str                   # a safe file stem: OUT/similarity/<exercise>/<pair_id>.html
    a: Side
    b: Side
    code_score: float              # 0..1 (0 when the code was not comparable)
    similarity_a: float
    similarity_b: float
    model_match: bool              # both hold the same unusual verified model
    model_holders: int             # how many students hold that model (0 without a match)
    reasons: tuple[str, ...]       # "code", "model": why it is flagged (empty: shown for context)

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "pair_id": self.pair_id, "a": self.a.to_json(), "b": self.b.to_json(),
                "code_score": self.code_score, "similarity_a": self.similarity_a,
                "similarity_b": self.similarity_b, "model_match": self.model_match,
                "model_holders": self.model_holders, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SimilarPair:
        return cls(str(d["exercise"]), safe_file_stem(str(d["pair_id"])), Side.from_json(d["a"]),
                   Side.from_json(d["b"]), float(d["code_score"]), float(d["similarity_a"]),
                   float(d["similarity_b"]), bool(d["model_match"]), int(d["model_holders"]),
                   tuple(str(r) for r in d["reasons"]))


@dataclass(frozen=True)
class ExerciseSimilarity:
    exercise: str
    compared: int                          # files compared (readable, beyond the starter or not)
    pairs: tuple[SimilarPair, ...]         # flagged first, then by score
    skipped: tuple[SkippedFile, ...] = ()

    @property
    def flagged(self) -> int:
        return sum(p.flagged for p in self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "compared": self.compared, "pairs": [p.to_json() for p in self.pairs],
                "skipped": [{"student": s.student, "exercise": s.exercise, "file_name": s.file_name,
                             "reason": s.reason.to_json()} for s in self.skipped]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExerciseSimilarity:
        skipped = tuple(SkippedFile(str(s["student"]), str(s["exercise"]), str(s["file_name"]),
                                    Msg.from_json(s["reason"])) for s in d.get("skipped", []))
        return cls(str(d["exercise"]), int(d["compared"]), tuple(SimilarPair.from_json(p) for p in d["pairs"]),
                   skipped)


@dataclass(frozen=True)
class SimilarityReport:
    threshold: float
    exercises: tuple[ExerciseSimilarity, ...]
    k: int = K
    window: int = WINDOW
    tool_version: str = __version__
    computed_at: str = ""

    @property
    def flagged(self) -> int:
        return sum(e.flagged for e in self.exercises)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "threshold": self.threshold, "k": self.k, "window": self.window,
                "tool_version": self.tool_version, "computed_at": self.computed_at,
                "exercises": [e.to_json() for e in self.exercises]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SimilarityReport:
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ValueError(f"not a similarity report of schema {SCHEMA}")
        return cls(float(d["threshold"]), tuple(ExerciseSimilarity.from_json(e) for e in d["exercises"]),
                   int(d.get("k", K)), int(d.get("window", WINDOW)), str(d.get("tool_version", "")),
                   str(d.get("computed_at", "")))

    def save(self, path: Path) -> None:
        write_json_atomic(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> SimilarityReport:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def pair_id(a: CodeText | Side, b: CodeText | Side) -> str:
    """A file stem for the pair's page, safe whatever the students' names hold."""
    return safe_file_stem(f"{a.label}~{b.label}")


def _side(text: CodeText | None, student: str, slices: tuple[tuple[int, int], ...],
          model: ModelPrint | None) -> Side:
    if text is None:
        return Side(student, student, student, "", "", (), model.summary if model else "")
    code = text.code[:MAX_KEPT_CODE]
    kept = tuple((s, min(e, len(code))) for s, e in slices if s < len(code))
    return Side(student, text.display, text.label, text.file_name, code, kept, model.summary if model else "")


def exercise_similarity(exercise: str, texts: Sequence[CodeText], skipped: Sequence[SkippedFile],
                        starter: Path | None, prints: Sequence[ModelPrint],
                        threshold: float = DEFAULT_THRESHOLD) -> ExerciseSimilarity:
    """One exercise: code pairs scored, model matches found, the pairs worth showing kept."""
    by_student = {t.student: t for t in texts}
    models = {p.student: p for p in prints if p.exercise == exercise}
    code = {(p.a, p.b): p for p in compare_exercise(texts, starter)}
    matches = {(m.a, m.b): m for m in model_matches([p for p in prints if p.exercise == exercise])}
    near = NEAR_SHARE * threshold
    pairs = []
    for a, b in sorted(set(code) | set(matches)):
        cp, mm = code.get((a, b)), matches.get((a, b))
        score = cp.score if cp else 0.0
        if mm is None and score < near:
            continue
        reasons = tuple(r for r, hit in (("code", score >= threshold), ("model", mm is not None)) if hit)
        side_a = _side(by_student.get(a), a, cp.slices_a if cp else (), models.get(a))
        side_b = _side(by_student.get(b), b, cp.slices_b if cp else (), models.get(b))
        pairs.append(SimilarPair(exercise, pair_id(side_a, side_b), side_a, side_b, score,
                                 cp.similarity_a if cp else 0.0, cp.similarity_b if cp else 0.0,
                                 mm is not None, mm.holders if mm else 0, reasons))
    pairs.sort(key=lambda p: (not p.flagged, -p.code_score, p.a.student, p.b.student))
    return ExerciseSimilarity(exercise, len(texts), tuple(pairs), tuple(skipped))


def compute_similarity(students: Sequence[StudentFiles], results: Sequence[SubmissionResult], course: Course,
                       threshold: float = DEFAULT_THRESHOLD) -> SimilarityReport:
    """Every exercise of `course` (a tfgrade.pack.course.Course) over the class's files
    (`students`: runners.batch.StudentFiles) and results (for the model fingerprints)."""
    prints = model_prints(results)
    exercises = []
    for ex in course.exercises:
        texts, skipped = read_texts(students, ex.id)
        starter = ex.starter_file if ex.starter_file.is_file() else None
        exercises.append(exercise_similarity(ex.id, texts, skipped, starter, prints, threshold))
    return SimilarityReport(threshold, tuple(exercises), computed_at=datetime.now(UTC).isoformat(timespec="seconds"))
