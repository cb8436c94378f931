"""When each student handed in, and where that time came from.

In order of trust, the first that knows a student wins:
1. a CSV the instructor gives (`--submission-times FILE`: columns `student,submitted_at`,
   `student` being the student's key, LMS id or name, the time ISO 8601);
2. Moodle's grading worksheet (`Last modified (submission)`, read by reports.moodle_worksheet);
3. Gradescope's `submission_metadata.json` (`created_at`), in `grade-one`;
4. the newest modification time of the student's graded files, recorded when the class was
   read (OUT/submission_times.json): the report then says the time came from the files.

The student's code never supplies any of these: they are the LMS's records, the instructor's
file, or the trusted side's own `stat` of the files it was handed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from tfgrade.catalogue import GRADER
from tfgrade.engine.adjustments import TimeSource
from tfgrade.engine.results import write_json_atomic
from tfgrade.errors import TfgradeError
from tfgrade.policy.csvfile import read_table
from tfgrade.policy.deadline import DeadlineError, as_moment

FILE_TIMES = "submission_times.json"


class SubmissionTimesError(TfgradeError):
    """A submission-times file that cannot be read."""


@dataclass(frozen=True)
class Stamp:
    at: datetime
    source: TimeSource


@dataclass(frozen=True)
class SubmissionTimes:
    """Times by student key (or LMS id, or name), one table per source."""

    by_source: Mapping[TimeSource, Mapping[str, datetime]] = field(default_factory=dict)

    ORDER: ClassVar[tuple[TimeSource, ...]] = ("csv", "worksheet", "gradescope", "file_time")

    def with_source(self, source: TimeSource, times: Mapping[str, datetime]) -> SubmissionTimes:
        return SubmissionTimes({**self.by_source, source: dict(times)})

    def lookup(self, keys: Sequence[str]) -> Stamp | None:
        for source in self.ORDER:
            table = self.by_source.get(source, {})
            for key in keys:
                if key and key in table:
                    return Stamp(table[key], source)
        return None


def read_times_csv(path: Path, zone: tzinfo | None) -> dict[str, datetime]:
    """The instructor's CSV of submission times (`student,submitted_at`)."""
    try:
        table = read_table(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SubmissionTimesError(GRADER("policy_times_unreadable", path=str(path), why=str(exc))) from None
    if "student" not in table.header or "submitted_at" not in table.header:
        raise SubmissionTimesError(GRADER("policy_times_columns", path=str(path)))
    out: dict[str, datetime] = {}
    for line, row in table.rows:
        if not row["student"]:
            continue
        try:
            out[row["student"]] = as_moment(row["submitted_at"], zone or UTC, "submitted_at")
        except DeadlineError:
            raise SubmissionTimesError(GRADER("policy_times_bad_time", path=str(path), line=line,
                                              value=row["submitted_at"][:60])) from None
    return out


def gradescope_created_at(metadata_path: Path) -> tuple[datetime | None, list[str]]:
    """`created_at` of Gradescope's submission_metadata.json, and the ids of its users (sid,
    email, id) that an extension may be keyed by. (None, []) when absent or unreadable."""
    try:
        data: Any = json.loads(Path(metadata_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(data, dict):
        return None, []
    moment = None
    raw = data.get("created_at")
    if isinstance(raw, str):
        try:
            moment = as_moment(raw, UTC, "created_at")
        except DeadlineError:
            moment = None
    ids: list[str] = []
    for user in data.get("users") or []:
        if isinstance(user, dict):
            ids += [str(user[k]) for k in ("sid", "email", "id") if user.get(k) not in (None, "")]
    return moment, ids


def newest_file_time(paths: Iterable[Path]) -> datetime | None:
    times = []
    for path in paths:
        try:
            times.append(Path(path).stat().st_mtime)
        except OSError:
            continue
    return datetime.fromtimestamp(max(times), UTC) if times else None


def save_file_times(out: Path, times: Mapping[str, datetime]) -> Path:
    path = Path(out) / FILE_TIMES
    write_json_atomic(path, {key: moment.isoformat() for key, moment in sorted(times.items())})
    return path


def load_file_times(out: Path) -> dict[str, datetime]:
    path = Path(out) / FILE_TIMES
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out_times = {}
    for key, text in (data.items() if isinstance(data, dict) else []):
        try:
            out_times[str(key)] = as_moment(str(text), UTC, "file_time")
        except DeadlineError:
            continue
    return out_times
