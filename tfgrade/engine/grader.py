"""The engine's `Grader`: a course and one sandbox (one worker), grading one file or one
student's files. `check` and `validate` use it directly; a class run (tfgrade.runners) keeps
one per worker.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tfgrade import __version__
from tfgrade.engine.clean_process import Verifier, VerifierRefused
from tfgrade.engine.plugin import grade_exercise, missing_result, unreadable_result
from tfgrade.engine.results import ExerciseResult, SubmissionResult
from tfgrade.errors import SubmissionError
from tfgrade.intake.source import read_submission
from tfgrade.pack import requirements
from tfgrade.pack.course import Course, Exercise
from tfgrade.supervisor import Sandbox
from tfgrade.wire.framing import clean_text


class Submission(Protocol):
    """What grading a student needs of their files (tfgrade.runners.batch.StudentFiles)."""

    @property
    def name(self) -> str: ...
    @property
    def folder(self) -> Path: ...
    @property
    def files(self) -> dict[str, Path]: ...
    @property
    def student_id(self) -> str | None: ...

    def fingerprint(self, course: Course, isolation: str | None = None) -> str: ...


@dataclass
class Grader:
    course: Course
    sandbox: Sandbox
    include_hidden: bool = True
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="tfgrade-"))
    _devices: tuple[str, ...] | None = None

    @classmethod
    def create(cls, course: Course, *, level: str = "auto", include_hidden: bool = True,
               extra_masks: tuple[Path, ...] = (), threads: int | None = None) -> Grader:
        """A Grader on a sandbox made by `runners.config.build_sandbox` (what a RunConfig's
        `grader()` does, for callers that hold a course rather than a RunConfig)."""
        from tfgrade.runners.config import build_sandbox  # the one place sandboxes are built

        return cls(course, build_sandbox(course, level, extra_masks, threads), include_hidden)

    @property
    def isolation(self) -> str:
        return self.sandbox.plan.level

    def missing_features(self, exercise: Exercise) -> frozenset[str]:
        """What this machine lacks among what the exercise's checks require (the devices are
        asked of the sandbox once per grader, only when some check requires something)."""
        if not requirements.required_by(exercise):
            return frozenset()
        if self._devices is None:
            # The same question ex05's GPU check asks, of the same clean process.
            verifier = Verifier(self.sandbox, workdir=self.workdir)
            try:
                self._devices = tuple(verifier.devices())
            except (VerifierRefused, RuntimeError):
                self._devices = ()
            finally:
                verifier.close()
        return requirements.lacking(exercise, self._devices)

    def grade_file(self, exercise: Exercise, path: Path | None, label: str | None = None,
                   verifier: Verifier | None = None) -> ExerciseResult:
        """The exercise's result, with the requirement rule (`pack.requirements`) applied
        alike to a graded, a missing and an unreadable file."""
        if path is None:
            result = missing_result(exercise, self.include_hidden)
        else:
            label = label or path.name
            try:
                source = read_submission(path)
            except SubmissionError as exc:
                result = unreadable_result(exercise, self.include_hidden, exc.msg, label)
            else:
                result, _ = grade_exercise(self.course, exercise, source, self.sandbox,
                                           include_hidden=self.include_hidden, source_label=label,
                                           workdir=self.workdir, verifier=verifier)
        return requirements.apply(result, exercise, self.missing_features(exercise))

    def grade_student(self, student: Submission, progress: Callable[[str], None] | None = None) -> SubmissionResult:
        start = time.monotonic()
        results = []
        # One clean process per student, shared by their exercises: it only ever holds this
        # student's artifacts and dies with their grading (docs/ARCHITECTURE.md).
        verifier = Verifier(self.sandbox, workdir=self.workdir)
        try:
            for exercise in self.course.exercises:
                path = student.files.get(exercise.id)
                if progress:
                    progress(exercise.id)
                label = clean_text(str(path.relative_to(student.folder))) if path else None
                results.append(self.grade_file(exercise, path, label, verifier))
        finally:
            verifier.close()
        return SubmissionResult(
            student=student.name, exercises=tuple(results), isolation=self.isolation,  # type: ignore[arg-type]
            tool_version=__version__, graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            duration_s=time.monotonic() - start, fingerprint=student.fingerprint(self.course, self.isolation),
            student_id=student.student_id)

    def close(self) -> None:
        self.sandbox.close()
