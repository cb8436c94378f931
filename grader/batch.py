"""Grade students: one folder per student, one file per exercise.

`Grader` owns a course and one sandbox (one worker). Each student's result is written
atomically as soon as it is done; a rerun skips students whose files, exercise pack and
tool version are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .course import Course, Exercise, bundled_dir
from .engine import grade_exercise, missing_result, unreadable_result
from .errors import PackError, SubmissionError
from .i18n import Msg
from .matching import SUFFIXES, match_exercise
from .results import ExerciseResult, SubmissionResult
from .sandbox import Sandbox, default_masks, make_sandbox
from .source import read_submission


@dataclass(frozen=True)
class StudentFiles:
    """A student's folder, its files matched to exercises, and what could not be matched."""

    name: str
    folder: Path
    files: dict[str, Path]
    unmatched: tuple[str, ...] = ()

    def fingerprint(self, course: Course) -> str:
        h = hashlib.sha256(f"{__version__}|{course.seed}".encode())
        h.update(pack_digest(course).encode())
        for ex_id in sorted(self.files):
            h.update(ex_id.encode())
            try:
                h.update(self.files[ex_id].read_bytes())
            except OSError:
                h.update(b"<unreadable>")
        return h.hexdigest()


def pack_digest(course: Course) -> str:
    h = hashlib.sha256()
    for ex in course.exercises:
        for name in ("exercise.toml", "checks.py"):
            path = ex.folder / name
            h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()


def collect_student(folder: Path, course: Course, name: str | None = None) -> StudentFiles:
    files: dict[str, Path] = {}
    unmatched: list[str] = []
    candidates = sorted(p for p in folder.rglob("*") if p.name.lower().endswith(SUFFIXES)
                        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts))
    for path in candidates:
        ex_id = match_exercise(path.name, course.ids)
        if ex_id is None:
            unmatched.append(str(path.relative_to(folder)))
            continue
        current = files.get(ex_id)
        # The exact name wins over a renamed copy; a .py over a notebook of the same name.
        if current is None or (path.stem == ex_id and (current.stem != ex_id or path.suffix == ".py")):
            files[ex_id] = path
    return StudentFiles(name or folder.name, folder, files, tuple(unmatched))


def iter_students(root: Path, course: Course) -> Iterator[StudentFiles]:
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        yield collect_student(folder, course)


@dataclass
class Grader:
    course: Course
    sandbox: Sandbox
    include_hidden: bool = True
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="tfgrade-"))

    @classmethod
    def create(cls, course: Course, *, level: str = "auto", include_hidden: bool = True,
               extra_masks: tuple[Path, ...] = (), threads: int | None = None) -> Grader:
        sources = [v.get("source") for v in course.datasets.values()]
        masks = default_masks(course.pack_dir, *extra_masks, *sources)
        sandbox = make_sandbox(level, masks=masks, threads=threads or max(1, os.cpu_count() or 1))
        return cls(course, sandbox, include_hidden)

    @property
    def isolation(self) -> str:
        return self.sandbox.plan.level

    def grade_file(self, exercise: Exercise, path: Path | None, label: str | None = None) -> ExerciseResult:
        if path is None:
            return missing_result(exercise, self.include_hidden)
        label = label or path.name
        try:
            source = read_submission(path)
        except SubmissionError as exc:
            return unreadable_result(exercise, self.include_hidden, exc.msg, label)
        result, _ = grade_exercise(self.course, exercise, source, self.sandbox,
                                   include_hidden=self.include_hidden, source_label=label,
                                   workdir=self.workdir)
        return result

    def grade_student(self, student: StudentFiles, progress: Callable[[str], None] | None = None) -> SubmissionResult:
        start = time.monotonic()
        results = []
        for exercise in self.course.exercises:
            path = student.files.get(exercise.id)
            if progress:
                progress(exercise.id)
            label = str(path.relative_to(student.folder)) if path else None
            results.append(self.grade_file(exercise, path, label))
        return SubmissionResult(
            student=student.name, exercises=tuple(results), isolation=self.isolation,  # type: ignore[arg-type]
            tool_version=__version__, graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            duration_s=time.monotonic() - start, fingerprint=student.fingerprint(self.course))

    def close(self) -> None:
        self.sandbox.close()


def result_path(out: Path, student: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_. " else "_" for c in student).strip(". ") or "student"
    return out / "results" / f"{safe}.json"


@dataclass
class ClassSummary:
    graded: int = 0
    skipped: int = 0
    failed: int = 0
    timed_out: int = 0
    wall_s: float = 0.0
    results: list[SubmissionResult] = field(default_factory=list)

    def line(self) -> Msg:
        return Msg(
            f"{self.graded} calificados, {self.skipped} sin cambios (omitidos), {self.failed} con errores, "
            f"{self.timed_out} con tiempo agotado, en {self.wall_s:.1f} s",
            f"{self.graded} graded, {self.skipped} unchanged (skipped), {self.failed} with errors, "
            f"{self.timed_out} timed out, in {self.wall_s:.1f} s")


def grade_class(grader: Grader, root: Path, out: Path, *, force: bool = False,
                log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> ClassSummary:
    summary = ClassSummary()
    start = time.monotonic()
    students = list(iter_students(root, grader.course))
    for n, student in enumerate(students, 1):
        path = result_path(out, student.name)
        fingerprint = student.fingerprint(grader.course)
        if not force and path.is_file():
            try:
                old = SubmissionResult.load(path)
            except (ValueError, KeyError, OSError):
                old = None
            if old is not None and old.fingerprint == fingerprint:
                summary.skipped += 1
                summary.results.append(old)
                log(f"[{n}/{len(students)}] {student.name}: sin cambios / unchanged")
                continue
        result = grader.grade_student(student)
        result.save(path)
        summary.graded += 1
        summary.results.append(result)
        if result.status in ("crashed", "grader_error"):
            summary.failed += 1
        if result.status == "timeout":
            summary.timed_out += 1
        elapsed = time.monotonic() - start
        eta = elapsed / n * (len(students) - n)
        log(f"[{n}/{len(students)}] {student.name}: {result.score:g}/{result.max_score:g} "
            f"({result.status}) · ETA {eta:.0f} s")
    summary.wall_s = time.monotonic() - start
    return summary


def solutions_dir() -> Path:
    try:
        return bundled_dir("solutions")
    except PackError:
        raise
