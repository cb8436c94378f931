"""The instructor's policies applied to a class's automatic results, in one place.

Order: overrides first (they change points), then the late penalty (a share of the adjusted
total). Everything downstream (student reports, gradebook, LMS exports, the Moodle worksheet,
Gradescope) reads the outcome from the results themselves: `CheckResult.adjustment`,
`ExerciseResult.adjustment`, `SubmissionResult.late`, `.penalty`, `.final_score`.

`RunSettings` remembers, in OUT/run_settings.json, which pack, course file, overrides, worksheet and
times file a class was graded with, so that `tfgrade report OUT` renders the same grades
without the instructor repeating every flag (a flag given to `report` wins).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tfgrade.catalogue import GRADER
from tfgrade.engine.results import SubmissionResult, write_json_atomic
from tfgrade.i18n import Msg
from tfgrade.policy.deadline import DeadlinePolicy
from tfgrade.policy.overrides import Applied, Overrides, apply_overrides
from tfgrade.policy.submission_times import SubmissionTimes, load_file_times, read_times_csv

SETTINGS_NAME = "run_settings.json"


def identities(result: SubmissionResult) -> tuple[str, ...]:
    """Every name a student may be known by in a times file or an extension, most exact first."""
    names = (result.key, result.student_id or "", result.display_name, result.student)
    return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class PolicyOutcome:
    results: list[SubmissionResult]
    applied: list[Applied] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)     # names that matched no student: told, not dropped


@dataclass(frozen=True)
class Policy:
    deadline: DeadlinePolicy | None = None
    overrides: Overrides | None = None
    times: SubmissionTimes = field(default_factory=SubmissionTimes)

    @property
    def empty(self) -> bool:
        return self.deadline is None and self.overrides is None

    def apply(self, results: Sequence[SubmissionResult], reference_max: Mapping[str, float]) -> PolicyOutcome:
        out = list(results)
        applied: list[Applied] = []
        if self.overrides is not None:
            out, applied = apply_overrides(out, self.overrides, reference_max)
        if self.deadline is not None:
            out = [self.late(r) for r in out]
        return PolicyOutcome(out, applied, self.unmatched(out))

    def unmatched(self, results: Sequence[SubmissionResult]) -> list[Msg]:
        """An extension or a submission time for a name no result has: a typo there would
        penalise a student silently, so each one is said."""
        known = {name for r in results for name in identities(r)}
        out = []
        if self.deadline is not None:
            lost = sorted(k for k in self.deadline.extensions if k not in known)
            if lost:
                out.append(GRADER("policy_extension_unmatched", names=", ".join(lost)))
        lost = sorted(k for k in self.times.by_source.get("csv", {}) if k not in known)
        if lost:
            out.append(GRADER("policy_times_unmatched", names=", ".join(lost)))
        return out

    def late(self, result: SubmissionResult, aliases: Sequence[str] = ()) -> SubmissionResult:
        """The result with its late penalty; `aliases`: more names an extension may be keyed by
        (Gradescope's sid, email, user id)."""
        if self.deadline is None or result.status == "not_submitted":
            return result
        keys = identities(result) + tuple(aliases)
        stamp = self.times.lookup(keys)
        penalty = self.deadline.penalty(keys, stamp.at if stamp else None, stamp.source if stamp else "unknown")
        return replace(result, late=penalty)


@dataclass(frozen=True)
class RunSettings:
    pack: Path | None = None
    course: Path | None = None
    overrides: Path | None = None
    worksheet: Path | None = None
    submission_times: Path | None = None

    FIELDS = ("pack", "course", "overrides", "worksheet", "submission_times")

    def to_json(self) -> dict[str, Any]:
        return {name: str(Path(value).resolve()) if (value := getattr(self, name)) else None for name in self.FIELDS}

    @classmethod
    def load(cls, out: Path) -> RunSettings:
        try:
            data = json.loads((Path(out) / SETTINGS_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(**{name: Path(str(data[name])) if data.get(name) else None for name in cls.FIELDS})

    def save(self, out: Path) -> None:
        write_json_atomic(Path(out) / SETTINGS_NAME, self.to_json())

    def overlay(self, **given: Path | None) -> RunSettings:
        """These settings with every value given (not None) replacing the stored one."""
        return replace(self, **{k: v for k, v in given.items() if v is not None})

    def without(self, *names: str) -> RunSettings:
        """These settings with the named files forgotten (`tfgrade report --forget overrides`)."""
        return replace(self, **{name: None for name in names if name in self.FIELDS})


def build_policy(settings: RunSettings, deadline: DeadlinePolicy | None, out: Path,
                 worksheet_times: Mapping[str, datetime] | None = None) -> Policy:
    """The policy a class is rendered with: the overrides file read (every problem of its own
    rows told now), the submission times from each source there is."""
    overrides = Overrides.read(settings.overrides) if settings.overrides is not None else None
    times = SubmissionTimes().with_source("file_time", load_file_times(out))
    if worksheet_times:
        times = times.with_source("worksheet", worksheet_times)
    if settings.submission_times is not None:
        zone = deadline.zone if deadline is not None else None
        times = times.with_source("csv", read_times_csv(settings.submission_times, zone))
    return Policy(deadline=deadline, overrides=overrides, times=times)
