"""The course's `[deadline]` table and what it costs to hand in late.

```toml
[deadline]
due = 2026-11-30T23:59:00+01:00
late_until = 2026-12-07T23:59:00+01:00   # after it: 0
penalty_per_day = 0.10                   # share of the total lost per started day late
timezone = "Europe/Madrid"               # optional: for times written without an offset
grace_minutes = 0                        # optional: minutes after `due` still on time
[deadline.extensions]                    # student key (the LMS id where there is one) = new due
"12345" = 2026-12-03T23:59:00+01:00
```

Rules (README, "Deadlines and late work"):
- a submission at or before `due` (+ grace) is on time; each *started* day after it costs
  `penalty_per_day` of the student's total (after any instructor override), up to all of it;
- after `late_until` the whole total is lost; without `late_until` the penalty just grows;
- an extension replaces the student's `due`, and moves their `late_until` by as much;
- times without an offset (TOML local date-times, Moodle's worksheet) are read in `timezone`,
  else in the offset of `due`; a bare date means the end of that day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tfgrade.catalogue import GRADER
from tfgrade.engine.adjustments import LatePenalty, TimeSource
from tfgrade.errors import PackError

DAY_S = 86400.0


class DeadlineError(PackError):
    """A `[deadline]` table that cannot be read (the instructor's file)."""


def _bad(what: str, value: object) -> DeadlineError:
    return DeadlineError(GRADER("policy_deadline_bad", field=what, value=repr(value)[:80]))


def _zone(name: object) -> tzinfo | None:
    if name in (None, ""):
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("timezone", name) from None


def as_moment(value: object, zone: tzinfo | None, what: str) -> datetime:
    """A TOML (or ISO text) date-time as an aware datetime."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                raise _bad(what, text) from None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(23, 59, 59))
    else:
        raise _bad(what, value)
    if moment.tzinfo is None:
        if zone is None:
            raise DeadlineError(GRADER("policy_deadline_no_offset", field=what))
        moment = moment.replace(tzinfo=zone)
    return moment


@dataclass(frozen=True)
class DeadlinePolicy:
    due: datetime
    late_until: datetime | None = None
    penalty_per_day: float = 0.0
    grace: timedelta = timedelta(0)
    zone: tzinfo | None = None
    extensions: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> DeadlinePolicy:
        if not isinstance(table, Mapping):
            raise _bad("deadline", table)
        known = {"due", "late_until", "penalty_per_day", "timezone", "grace_minutes", "extensions"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise DeadlineError(GRADER("policy_deadline_unknown_key", keys=", ".join(unknown),
                                       known=", ".join(sorted(known))))
        if "due" not in table:
            raise DeadlineError(GRADER("policy_deadline_no_due"))
        zone = _zone(table.get("timezone"))
        due = as_moment(table["due"], zone, "due")
        zone = zone or due.tzinfo
        late_until = as_moment(table["late_until"], zone, "late_until") if "late_until" in table else None
        if late_until is not None and late_until < due:
            raise DeadlineError(GRADER("policy_deadline_order"))
        rate = table.get("penalty_per_day", 0.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= float(rate) <= 1.0:
            raise _bad("penalty_per_day", rate)
        grace = table.get("grace_minutes", 0)
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
            raise _bad("grace_minutes", grace)
        raw_ext = table.get("extensions", {})
        if not isinstance(raw_ext, Mapping):
            raise _bad("extensions", raw_ext)
        extensions = {str(k).strip(): as_moment(v, zone, f"extensions.{k}") for k, v in raw_ext.items()}
        return cls(due=due, late_until=late_until, penalty_per_day=float(rate),
                   grace=timedelta(minutes=float(grace)), zone=zone, extensions=extensions)

    def due_for(self, keys: tuple[str, ...]) -> tuple[datetime, datetime | None, bool]:
        """(due, late_until, extended) for a student known by any of `keys` (their key, LMS id…)."""
        for key in keys:
            new_due = self.extensions.get(key.strip()) if key else None
            if new_due is not None:
                shift = new_due - self.due
                late_until = self.late_until + shift if self.late_until is not None and shift > timedelta(0) \
                    else self.late_until
                return new_due, max(late_until, new_due) if late_until is not None else None, True
        return self.due, self.late_until, False

    def penalty(self, keys: tuple[str, ...], submitted_at: datetime | None, source: TimeSource) -> LatePenalty:
        """The late penalty of a submission handed in at `submitted_at` (None: no time known,
        no penalty, and the report says so)."""
        due, late_until, extended = self.due_for(keys)
        base = LatePenalty(due=due.isoformat(), submitted_at=None, time_source="unknown", late_by_s=0.0,
                           days_late=0, share=0.0, extended=extended, rate=self.penalty_per_day,
                           late_until=late_until.isoformat() if late_until is not None else None)
        if submitted_at is None:
            return base
        if submitted_at.tzinfo is None:
            submitted_at = submitted_at.replace(tzinfo=self.zone or due.tzinfo)
        base = replace(base, submitted_at=submitted_at.isoformat(), time_source=source)
        late_by = (submitted_at - (due + self.grace)).total_seconds()
        if late_by <= 0:
            return base
        days = math.ceil(late_by / DAY_S)
        after_cutoff = late_until is not None and submitted_at > late_until + self.grace
        share = 1.0 if after_cutoff else min(1.0, round(days * self.penalty_per_day, 6))
        return replace(base, late_by_s=round(late_by, 1), days_late=days, share=share, after_cutoff=after_cutoff)


def late_by_text(seconds: float) -> str:
    """'2d 03:15' (days, hours:minutes): the gradebook's `late_by`; '' when on time."""
    if seconds <= 0:
        return ""
    minutes = math.ceil(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    return f"{days}d {rest // 60:02d}:{rest % 60:02d}"
