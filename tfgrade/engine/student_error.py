"""`StudentError`: the student's code could not give a value (one clear message, no traceback of ours)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tfgrade.catalogue import GRADER
from tfgrade.i18n import Msg

ErrorKind = Literal["missing", "not_implemented", "raised", "timeout", "crashed", "bad_value",
                    "syntax", "load"]
SIGNAL_NAMES = {9: "SIGKILL", 11: "SIGSEGV", 6: "SIGABRT", 24: "SIGXCPU", 25: "SIGXFSZ", 15: "SIGTERM"}


@dataclass(eq=False)
class StudentError(Exception):
    """The student's code could not give a value. One clear message, no traceback of ours."""

    kind: ErrorKind
    function: str
    exc_type: str = ""
    message: str = ""
    frames: tuple[dict[str, Any], ...] = ()
    limit_s: float = 0.0
    reason: str = ""

    def __str__(self) -> str:
        return self.msg().en

    def where(self) -> Msg:
        if not self.frames:
            return Msg("", "")
        f = self.frames[-1]
        code = f" {f.get('code')}" if f.get("code") else ""
        if code:
            return GRADER("student_where_code", line=f.get("line"), code=code)
        return GRADER("student_where_line", line=f.get("line"))

    def msg(self) -> Msg:
        fn = f"`{self.function}`"
        if self.kind == "missing":
            return GRADER("student_missing", fn=fn)
        if self.kind == "not_implemented":
            return GRADER("student_not_implemented", fn=fn)
        if self.kind == "syntax":
            return GRADER("student_syntax", message=self.message) + self.where()
        if self.kind == "load":
            if self.exc_type == "SystemExit":
                return GRADER("student_load_exit")
            return GRADER("student_load_raised", exc_type=self.exc_type, message=self.message) + self.where()
        if self.kind == "raised":
            return GRADER("student_raised", fn=fn, exc_type=self.exc_type, message=self.message) + self.where()
        limit = f"{self.limit_s:g}"       # formatted here: the same digits in both languages
        if self.kind == "timeout" and self.reason == "budget":
            return GRADER("student_budget", fn=fn, limit=limit)
        if self.kind == "timeout":
            return GRADER("student_timeout", fn=fn, limit=limit)
        if self.kind == "bad_value":
            return GRADER("student_bad_value", fn=fn, message=self.message)
        if self.reason == "memory":
            return GRADER("student_memory", fn=fn)
        if self.reason == "processes":
            return GRADER("student_processes", fn=fn)
        return GRADER("student_crashed", fn=fn, message=self.message)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function, "type": self.exc_type,
                "message": self.message, "frames": list(self.frames)}
