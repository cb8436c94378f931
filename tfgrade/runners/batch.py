"""Grade a class: one folder per student, one file per exercise.

Each student's result is written atomically as soon as it is done; a rerun skips students
whose files, course and tool version are unchanged. Grading itself is the engine's
`Grader` (tfgrade.engine.grader), one per worker.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from tfgrade import __version__
from tfgrade.engine.grader import Grader
from tfgrade.engine.plugin import not_graded
from tfgrade.engine.results import (
    GRADER_ERROR_MSG,
    SubmissionResult,
    as_grader_error,
    display_name,
    file_label,
    safe_file_stem,
    student_key,
)
from tfgrade.errors import DuplicateStudentError
from tfgrade.i18n import Msg
from tfgrade.intake.matching import SUFFIXES, match_exercise
from tfgrade.pack.course import Course
from tfgrade.runners.progress import Progress


@dataclass(frozen=True)
class StudentFiles:
    """A student's folder, its files matched to exercises, and what could not be matched."""

    name: str
    folder: Path
    files: dict[str, Path]
    unmatched: tuple[str, ...] = ()
    student_id: str | None = None          # the LMS id (Moodle's "Full Name_12345_…")
    extra_folders: tuple[Path, ...] = ()

    @property
    def key(self) -> str:
        """Unique in a class: the LMS id where there is one, else the folder's name."""
        return student_key(self.name, self.student_id)

    @property
    def display(self) -> str:
        """"Ana López (111)": what the instructor reads."""
        return display_name(self.name, self.student_id)

    @property
    def file_label(self) -> str:
        return file_label(self.name, self.student_id)

    def fingerprint(self, course: Course, isolation: str | None = None, *,
                    course_hash: str | None = None) -> str:
        """What a result depends on: the tool, the whole course (course_digest) and the
        student's files. `course_hash` is course_digest(course, isolation), computed once."""
        h = hashlib.sha256(f"{__version__}|{self.key}".encode())
        h.update((course_hash or course_digest(course, isolation)).encode())
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


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        return f"<unreadable: {exc.strerror}>"
    return h.hexdigest()


def course_digest(course: Course, isolation: str | None = None) -> str:
    """Everything of the course a grade depends on: the exercise pack, the exercises graded
    (the subset, in order), the seed, each exercise's limits, its data (sources and a hash of
    their contents) and the isolation level. Changing any of them regrades on a rerun."""
    from tfgrade.pack.datasets import DataConfig

    data: dict[str, object] = {}
    for ex in course.exercises:
        entry: dict[str, object] = {"data": {k: str(v) for k, v in sorted(ex.data.items())}}
        source = ex.data.get("source")
        if source not in (None, ""):
            try:
                path = DataConfig.from_mapping({"source": source}, ex.folder).source
            except Exception:  # noqa: BLE001 - a bad [data] table is preflight's to report
                path = None
            entry["content"] = _file_digest(path) if path is not None else "<invalid>"
        entry["limits"] = course.limits_for(ex).__dict__
        if "leaderboard_public_share" in ex.params:      # [leaderboard] public_share: the figures' split
            entry["leaderboard_public_share"] = ex.params["leaderboard_public_share"]
        data[ex.id] = entry
    state = {"pack": pack_digest(course), "exercises": list(course.ids), "seed": course.seed,
             "limits_override": course.limits_override, "data": data, "isolation": isolation}
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


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


def result_path(out: Path, label: str) -> Path:
    """OUT/results/<label>.json, `label` a student's file_label; named like their report
    (results.safe_file_stem: safe everywhere, distinct labels never share a file)."""
    return out / "results" / f"{safe_file_stem(label)}.json"


def check_unique(students: list[StudentFiles]) -> None:
    """Two folders that would share a result, a report or a gradebook row are refused."""
    seen: dict[str, StudentFiles] = {}
    for s in students:
        for what in (f"key:{s.key}", f"display:{s.display}", f"file:{safe_file_stem(s.file_label)}"):
            other = seen.get(what)
            if other is not None and other is not s:
                raise DuplicateStudentError(other.folder, s.folder, s.key)
            seen[what] = s


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


def grader_error_result(course: Course, student: StudentFiles, isolation: str, detail: str) -> SubmissionResult:
    """A row for a student the grader itself failed on: nothing is lost, the cause is kept."""
    msg = GRADER_ERROR_MSG
    exercises = []
    for ex in course.exercises:
        r = not_graded(ex, True, "grader_error", msg)
        checks = tuple(replace(c, grader_error=detail[-4000:]) for c in r.checks)
        exercises.append(replace(r, checks=checks))
    return SubmissionResult(
        student=student.name, exercises=tuple(exercises), isolation=isolation,  # type: ignore[arg-type]
        tool_version=__version__, graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        fingerprint="", student_id=student.student_id)


Runner = Callable[[list[StudentFiles]], Iterator[SubmissionResult]]


def in_process_runner(grader: Grader) -> Runner:
    def run(students: list[StudentFiles]) -> Iterator[SubmissionResult]:
        for student in students:
            yield grader.grade_student(student)
    return run


def save_result(result: SubmissionResult, out: Path) -> SubmissionResult:
    """Write one student's result; one that cannot be written (text no encoder takes, a value
    JSON refuses) becomes that student's grader_error row instead of stopping the class.
    OSError (a full disk) is not the student's: it stops the run, which a rerun resumes."""
    path = result_path(out, result.file_label)
    try:
        result.save(path)
        return result
    except OSError:
        raise
    except Exception:  # noqa: BLE001 - this student's row, not the batch
        broken = as_grader_error(result, "the result could not be saved:\n" + traceback.format_exc())
        broken.save(path)
        return broken


def grade_class(students: list[StudentFiles], out: Path, runner: Runner, course: Course, *,
                force: bool = False, progress: Progress | None = None,
                isolation: str | None = None) -> ClassSummary:
    """Grade every student not already graded with the same files, course and tool version
    (and at the same isolation level, when `isolation` says which this run reaches); write
    each result atomically the moment it arrives."""
    check_unique(students)
    summary = ClassSummary()
    start = time.monotonic()
    progress = progress or Progress(len(students))
    digests: dict[str | None, str] = {}

    def fingerprint(student: StudentFiles, level: str | None) -> str:
        if level not in digests:
            digests[level] = course_digest(course, level)
        return student.fingerprint(course, course_hash=digests[level])

    todo = []
    for student in students:
        path = result_path(out, student.file_label)
        if not force and path.is_file():
            try:
                old = SubmissionResult.load(path)
            except (ValueError, KeyError, OSError, TypeError, AttributeError):
                old = None
            if (old is not None and old.fingerprint and old.key == student.key
                    and old.fingerprint == fingerprint(student, isolation or old.isolation)):
                summary.skipped += 1
                summary.results.append(old)
                progress.step(student.display, Msg("sin cambios", "unchanged"))
                continue
        todo.append(student)
    by_key = {s.key: s for s in todo}
    for result in runner(todo):
        sent = by_key.get(result.key)
        if sent is not None and result.status != "grader_error":
            # The dispatcher's fingerprint, from the files it sent and the course as given here
            # (a Dask worker sees copies at other paths), at the level the worker reached.
            result = replace(result, fingerprint=fingerprint(sent, result.isolation))
        result = save_result(result, out)
        summary.graded += 1
        summary.results.append(result)
        if result.status in ("crashed", "grader_error"):
            summary.failed += 1
        if result.status == "timeout":
            summary.timed_out += 1
        progress.step(result.display_name, Msg(f"{result.score:g}/{result.max_score:g} ({result.status})",
                                               f"{result.score:g}/{result.max_score:g} ({result.status})"))
    progress.finish()
    summary.wall_s = time.monotonic() - start
    order = {s.key: i for i, s in enumerate(students)}
    summary.results.sort(key=lambda r: order.get(r.key, len(order)))
    return summary
