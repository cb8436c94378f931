"""Results as frozen dataclasses: CheckResult -> ExerciseResult -> SubmissionResult.

They are written as versioned JSON, atomically (temp file + rename), so a reader never sees
half a result and a killed run loses at most the student being graded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from tfgrade.engine.adjustments import Adjustment, LatePenalty
from tfgrade.engine.verdicts import RESERVED_DETAILS
from tfgrade.i18n import Msg

if TYPE_CHECKING:
    from tfgrade.engine.proxy import StudentError

# 2: the verdict signals (student_error, grader_error, tampering) are fields of a check,
# no longer keys of its `details` (schema 1 files are still read: upgrade_v1).
SCHEMA_VERSION = 2

CheckStatus = Literal["passed", "failed", "error", "skipped", "not_applicable"]
ExerciseStatus = Literal["graded", "missing", "unreadable", "timeout", "crashed", "grader_error"]
Isolation = Literal["strong", "standard", "basic"]


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Frame:
    """One frame of the student's own code in a traceback (their file only)."""

    line: int | None
    function: str
    code: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "function": self.function, "code": self.code}

    @classmethod
    def from_json(cls, d: Any) -> Frame:
        if not isinstance(d, dict):          # a frame written as text (never by the engine)
            return cls(None, "", str(d))
        return cls(_opt_int(d.get("line", d.get("lineno"))), str(d.get("function") or d.get("name") or ""),
                   str(d.get("code") or d.get("text") or ""))


@dataclass(frozen=True)
class ErrorInfo:
    """What the student's code did instead of giving a value (the proxy's StudentError, as data):
    `kind` is one of missing | not_implemented | syntax | load | raised | timeout | crashed |
    bad_value; `type` and `message` are the exception's; `frames` the student's own frames."""

    kind: str
    function: str
    type: str = ""
    message: str = ""
    frames: tuple[Frame, ...] = ()

    @classmethod
    def from_student_error(cls, err: StudentError) -> ErrorInfo:
        return cls(kind=str(err.kind), function=err.function, type=err.exc_type, message=err.message,
                   frames=tuple(Frame.from_json(f) for f in err.frames))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function, "type": self.type, "message": self.message,
                "frames": [f.to_json() for f in self.frames]}

    @classmethod
    def from_json(cls, d: Any) -> ErrorInfo:
        if not isinstance(d, dict):
            return cls(kind="", function="", message=str(d))
        frames = d.get("frames") or []
        return cls(kind=str(d.get("kind") or ""), function=str(d.get("function") or ""),
                   type=str(d.get("type") or ""), message=str(d.get("message") or ""),
                   frames=tuple(Frame.from_json(f) for f in (frames if isinstance(frames, list) else [frames])))


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict. `details` is display data only (what the report shows); the
    signals the engine and the reports act on are typed fields:
    - `student_error`: what the student's code did instead of giving a value (told once);
    - `grader_error`: the grader's own traceback: instructors only (the class report);
    - `tampering`: what the sandbox stopped that is forging or harm (flagged for the instructor).
    `adjustment` is an instructor's override (tfgrade.policy.overrides): `points` are then the
    adjusted points, and the automatic ones are `adjustment.before`."""

    id: str
    title: Msg
    status: CheckStatus
    points: float
    max_points: float
    hidden: bool
    feedback: Msg
    details: dict[str, Any] = field(default_factory=dict)
    student_error: ErrorInfo | None = None
    grader_error: str | None = None
    tampering: str | None = None
    adjustment: Adjustment | None = None

    def __post_init__(self) -> None:
        reserved = RESERVED_DETAILS & set(self.details)
        if reserved:
            raise ValueError(f"reserved detail keys {sorted(reserved)}: verdict signals are fields of CheckResult")

    @property
    def counts_in_total(self) -> bool:
        """A not-applicable check's points leave the maximum."""
        return self.status != "not_applicable"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title.to_json(), "status": self.status,
            "points": self.points, "max_points": self.max_points, "hidden": self.hidden,
            "feedback": self.feedback.to_json(), "details": self.details,
            "student_error": self.student_error.to_json() if self.student_error else None,
            "grader_error": self.grader_error, "tampering": self.tampering,
            "adjustment": self.adjustment.to_json() if self.adjustment else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CheckResult:
        status = d["status"]
        if status not in get_args(CheckStatus):
            raise ValueError(f"unknown check status {status!r}")
        return cls(id=d["id"], title=Msg.from_json(d["title"]), status=status,
                   points=float(d["points"]), max_points=float(d["max_points"]),
                   hidden=bool(d["hidden"]), feedback=Msg.from_json(d["feedback"]),
                   details=dict(d.get("details") or {}),
                   student_error=ErrorInfo.from_json(d["student_error"]) if d.get("student_error") else None,
                   grader_error=_opt_text(d.get("grader_error")), tampering=_opt_text(d.get("tampering")) or None,
                   adjustment=Adjustment.from_json(d.get("adjustment")))


@dataclass(frozen=True)
class ExerciseResult:
    exercise: str
    title: Msg
    status: ExerciseStatus
    checks: tuple[CheckResult, ...]
    source: str | None = None          # file graded, relative to the student's folder
    message: Msg | None = None         # one exercise-level message (missing file, unreadable…)
    warnings: tuple[Msg, ...] = ()
    output: str = ""                   # the student's own stdout/stderr, trimmed
    duration_s: float = 0.0            # wall time of the whole exercise
    student_time_s: float = 0.0        # time the student's functions ran, measured in the sandbox
    hidden_points: float = 0.0         # points of hidden checks not run (student self-check)
    hidden_output: str = ""            # printed during hidden checks' calls: instructors only
    adjustment: Adjustment | None = None   # an override of the whole exercise (on top of its checks)

    @property
    def checks_score(self) -> float:
        return round(sum(c.points for c in self.checks if c.counts_in_total), 4)

    @property
    def score(self) -> float:
        if self.adjustment is not None:
            return round(self.checks_score + self.adjustment.delta, 4)
        return self.checks_score

    @property
    def max_score(self) -> float:
        return round(sum(c.max_points for c in self.checks if c.counts_in_total), 4)

    def to_json(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise, "title": self.title.to_json(), "status": self.status,
            "score": self.score, "max_score": self.max_score,
            "checks": [c.to_json() for c in self.checks], "source": self.source,
            "message": self.message.to_json() if self.message else None,
            "warnings": [w.to_json() for w in self.warnings], "output": self.output,
            "duration_s": round(self.duration_s, 3), "student_time_s": round(self.student_time_s, 3),
            "hidden_points": self.hidden_points, "hidden_output": self.hidden_output,
            "adjustment": self.adjustment.to_json() if self.adjustment else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExerciseResult:
        return cls(
            exercise=d["exercise"], title=Msg.from_json(d["title"]), status=d["status"],
            checks=tuple(CheckResult.from_json(c) for c in d["checks"]), source=d.get("source"),
            message=Msg.from_json(d["message"]) if d.get("message") else None,
            warnings=tuple(Msg.from_json(w) for w in d.get("warnings", [])),
            output=d.get("output", ""), duration_s=float(d.get("duration_s", 0.0)),
            student_time_s=float(d.get("student_time_s", 0.0)),
            hidden_points=float(d.get("hidden_points", 0.0)),
            hidden_output=str(d.get("hidden_output") or ""),
            adjustment=Adjustment.from_json(d.get("adjustment")),
        )


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    exercises: tuple[ExerciseResult, ...]
    isolation: Isolation
    tool_version: str
    graded_at: str                      # ISO 8601, UTC
    duration_s: float = 0.0
    fingerprint: str = ""               # hash of the files, pack and tool version (resume)
    student_id: str | None = None       # LMS id when the submission came from an LMS download
    late: LatePenalty | None = None     # the course's [deadline] applied (tfgrade.policy.deadline)

    @property
    def key(self) -> str:
        """The unique student key: the LMS id where there is one, else the folder's name."""
        return student_key(self.student, self.student_id)

    @property
    def display_name(self) -> str:
        """"Ana López (111)" with an LMS id, else the name: unique like the key, and readable."""
        return display_name(self.student, self.student_id)

    @property
    def file_label(self) -> str:
        """What OUT/results/<…>.json, OUT/reports/<…>.html are named after (see file_label)."""
        return file_label(self.student, self.student_id)

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)

    @property
    def penalty(self) -> float:
        """Points the late policy takes: `late.share` of the (adjusted) total."""
        return round(self.score * self.late.share, 4) if self.late is not None else 0.0

    @property
    def final_score(self) -> float:
        return round(self.score - self.penalty, 4)

    @property
    def adjusted(self) -> bool:
        """An instructor's override changed something in this result."""
        return any(e.adjustment is not None or any(c.adjustment is not None for c in e.checks)
                   for e in self.exercises)

    @property
    def status(self) -> str:
        """One word for the gradebook: ok, or the worst thing that happened."""
        statuses = {e.status for e in self.exercises}
        for worst in ("grader_error", "crashed", "timeout", "unreadable"):
            if worst in statuses:
                return worst
        if statuses and statuses <= {"missing"}:
            return "not_submitted"
        return "incomplete" if "missing" in statuses else "ok"

    def exercise(self, exercise_id: str) -> ExerciseResult | None:
        return next((e for e in self.exercises if e.exercise == exercise_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION, "student": self.student,
            "student_id": self.student_id, "score": self.score, "max_score": self.max_score,
            "status": self.status, "isolation": self.isolation,
            "tool_version": self.tool_version, "graded_at": self.graded_at,
            "duration_s": round(self.duration_s, 3), "fingerprint": self.fingerprint,
            "exercises": [e.to_json() for e in self.exercises],
            "late": self.late.to_json() if self.late else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SubmissionResult:
        version = d.get("schema_version")
        if version == 1:
            d = upgrade_v1(d)
        elif version != SCHEMA_VERSION:
            raise ValueError(f"result schema_version {version!r}, this tfgrade reads 1 and {SCHEMA_VERSION}")
        return cls(
            student=d["student"], exercises=tuple(ExerciseResult.from_json(e) for e in d["exercises"]),
            isolation=d["isolation"], tool_version=d["tool_version"], graded_at=d["graded_at"],
            duration_s=float(d.get("duration_s", 0.0)), fingerprint=d.get("fingerprint", ""),
            student_id=d.get("student_id"), late=LatePenalty.from_json(d.get("late")),
        )

    @classmethod
    def load(cls, path: Path) -> SubmissionResult:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        write_json_atomic(path, self.to_json())


def _opt_text(value: Any) -> str | None:
    """A signal's text; a schema 1 file may hold any JSON there (a falsy one meant "no")."""
    if isinstance(value, str):
        return value
    if value is None or not value:
        return None
    return json.dumps(value, ensure_ascii=False, default=repr)


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema 1 result as schema 2: the signals move out of each check's `details` into
    its fields (`score_fraction`, already turned into points then, is dropped)."""
    out = dict(data, schema_version=SCHEMA_VERSION, exercises=[])
    for ex in data.get("exercises", []):
        checks = []
        for check in ex.get("checks", []):
            details = dict(check.get("details") or {})
            moved = {key: details.pop(key, None) for key in ("student_error", "grader_error", "tampering")}
            details.pop("score_fraction", None)
            checks.append({**check, "details": details, **moved})
        out["exercises"].append({**ex, "checks": checks})
    return out


def student_key(name: str, student_id: str | None) -> str:
    return student_id or name


def display_name(name: str, student_id: str | None) -> str:
    return f"{name} ({student_id})" if student_id else name


_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_file_stem(label: str) -> str:
    """A file name stem safe on every OS: ordinary names stay as they are; anything else is
    replaced and made unique with a short hash of the whole label."""
    normal = unicodedata.normalize("NFC", label)
    safe = _UNSAFE.sub("_", normal).strip("._ ") or "student"
    safe = safe[:80]
    if safe != label:
        digest = hashlib.sha256(label.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        safe = f"{safe}-{digest}"
    return safe


def file_label(name: str, student_id: str | None) -> str:
    """"Ana López_111" with an LMS id (Moodle's own folder style: safe in a file name and
    readable), else the name."""
    return f"{name}_{student_id}" if student_id else name


GRADER_ERROR_MSG = Msg("error del calificador al calificar a este estudiante; el profesor debe revisarlo",
                       "grader error while grading this student; the instructor must look at it")


def _encodable(text: str | None) -> str | None:
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


def as_grader_error(result: SubmissionResult, detail: str) -> SubmissionResult:
    """The same student's row when their result could not be saved or rendered: every check
    at 0 with the cause kept for the instructor, and nothing of what the student's code
    produced (that is what failed). No fingerprint: a rerun grades the student again."""
    exercises = []
    for ex in result.exercises:
        checks = tuple(CheckResult(id=c.id, title=c.title, status="skipped", points=0.0,
                                   max_points=c.max_points, hidden=c.hidden, feedback=GRADER_ERROR_MSG,
                                   grader_error=detail[-4000:])
                       for c in ex.checks)
        exercises.append(ExerciseResult(exercise=ex.exercise, title=ex.title, status="grader_error",
                                        checks=checks, source=_encodable(ex.source), message=GRADER_ERROR_MSG,
                                        hidden_points=ex.hidden_points))
    return SubmissionResult(student=_encodable(result.student) or "", exercises=tuple(exercises),
                            isolation=result.isolation,
                            tool_version=result.tool_version, graded_at=result.graded_at,
                            duration_s=result.duration_s, fingerprint="", student_id=result.student_id)


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to a temp file in the same folder, fsync, then rename over `path`."""
    write_text_atomic(Path(path), json.dumps(data, ensure_ascii=False, indent=1))


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over `path`: a reader sees
    the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)      # mkstemp makes 0600; reports are meant to be served and shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
