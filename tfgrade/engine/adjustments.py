"""What the instructor's policies change on top of the automatic verdicts, as data.

Two kinds, both applied when reports are rendered (tfgrade.policy), never stored in
OUT/results/ (those stay the automatic results, so that a rerun or a re-render applies an
override once, not once per run):

- `Adjustment`: an override of a check's points, or of a whole exercise's (regrades);
- `LatePenalty`: how late the submission was under the course's `[deadline]`, and the share
  of the student's total it costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

TimeSource = Literal["worksheet", "gradescope", "csv", "file_time", "unknown"]


def _float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class Adjustment:
    """One override applied: the points `before` and `after` it, and who said why.
    On an exercise, `before`/`after` are the exercise's score (its checks' sum)."""

    before: float
    after: float
    reason: str
    by: str = ""
    when: str = ""
    clamped: bool = False          # a delta that would have left [0, max] was stopped there

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 4)

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "reason": self.reason, "by": self.by,
                "when": self.when, "clamped": self.clamped}

    @classmethod
    def from_json(cls, d: Any) -> Adjustment | None:
        if not isinstance(d, dict):
            return None
        return cls(before=_float(d.get("before")), after=_float(d.get("after")), reason=str(d.get("reason") or ""),
                   by=str(d.get("by") or ""), when=str(d.get("when") or ""), clamped=bool(d.get("clamped")))


@dataclass(frozen=True)
class LatePenalty:
    """A submission measured against the deadline. `share` (0..1) of the student's total is
    lost; `after_cutoff` means it came after `late_until` (the whole total is lost)."""

    due: str                        # ISO 8601 with offset: the student's due (an extension's, if any)
    submitted_at: str | None        # ISO 8601 with offset; None when no time could be found
    time_source: TimeSource
    late_by_s: float                # 0 when on time
    days_late: int                  # started days late (a minute late is one day)
    share: float
    extended: bool = False          # the student has an extension
    after_cutoff: bool = False
    rate: float = 0.0               # penalty_per_day
    late_until: str | None = None   # ISO 8601: after it, the whole total is lost

    def __post_init__(self) -> None:
        if self.time_source not in get_args(TimeSource):
            raise ValueError(f"unknown submission time source {self.time_source!r}")

    @property
    def is_late(self) -> bool:
        return self.late_by_s > 0

    def to_json(self) -> dict[str, Any]:
        return {"due": self.due, "submitted_at": self.submitted_at, "time_source": self.time_source,
                "late_by_s": self.late_by_s, "days_late": self.days_late, "share": self.share,
                "extended": self.extended, "after_cutoff": self.after_cutoff, "rate": self.rate,
                "late_until": self.late_until}

    @classmethod
    def from_json(cls, d: Any) -> LatePenalty | None:
        if not isinstance(d, dict):
            return None
        raw = str(d.get("time_source"))
        source = cast(TimeSource, raw) if raw in get_args(TimeSource) else "unknown"
        return cls(due=str(d.get("due") or ""),
                   submitted_at=str(d["submitted_at"]) if d.get("submitted_at") else None,
                   time_source=source,
                   late_by_s=_float(d.get("late_by_s")), days_late=int(_float(d.get("days_late"))),
                   share=min(1.0, max(0.0, _float(d.get("share")))), extended=bool(d.get("extended")),
                   after_cutoff=bool(d.get("after_cutoff")), rate=min(1.0, max(0.0, _float(d.get("rate")))),
                   late_until=str(d["late_until"]) if d.get("late_until") else None)
