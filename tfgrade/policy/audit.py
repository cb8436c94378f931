"""The append-only log of instructor adjustments: OUT/overrides_log.jsonl.

One JSON object per line, never rewritten: each time reports are rendered with an overrides
file, every adjustment that differs from what the log last recorded for its target (student,
exercise, check) is appended as `applied`, and every target the log shows adjusted that no
longer is, as `removed`. Rendering twice with the same file appends nothing; the log is the
history of what students were told, with the overrides file's hash and line behind each.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tfgrade.policy.overrides import Applied, Overrides

LOG_NAME = "overrides_log.jsonl"

Target = tuple[str, str, str]


def read_log(path: Path) -> list[dict[str, Any]]:
    entries = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue          # a torn last line from a crash: the rest still counts
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _state(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry.get("action"), entry.get("before"), entry.get("after"), entry.get("reason"),
            entry.get("by"), entry.get("when"))


def _target(entry: dict[str, Any]) -> Target:
    return str(entry.get("student", "")), str(entry.get("exercise", "")), str(entry.get("check", ""))


def record(out_dir: Path, overrides: Overrides | None, applied: Sequence[Applied],
           now: datetime | None = None) -> list[dict[str, Any]]:
    """Append what changed since the log's last word on each target; return the new entries."""
    path = Path(out_dir) / LOG_NAME
    last: dict[Target, dict[str, Any]] = {}
    for entry in read_log(path):
        last[_target(entry)] = entry
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    source = {"file": str(overrides.path), "sha256": overrides.sha256} if overrides is not None else {}
    new: list[dict[str, Any]] = []
    current: set[Target] = set()
    for item in applied:
        target = (item.student, item.exercise, item.check)
        current.add(target)
        adj = item.adjustment
        entry = {"logged_at": stamp, "action": "applied", "student": item.student, "exercise": item.exercise,
                 "check": item.check, "before": adj.before, "after": adj.after, "reason": adj.reason,
                 "by": adj.by, "when": adj.when, "clamped": adj.clamped, "lines": list(item.lines), **source}
        previous = last.get(target)
        if previous is None or _state(previous) != _state(entry):
            new.append(entry)
    for target, previous in last.items():
        if previous.get("action") == "applied" and target not in current:
            new.append({"logged_at": stamp, "action": "removed", "student": target[0], "exercise": target[1],
                        "check": target[2], "before": previous.get("after"), "after": previous.get("before"),
                        "reason": "", "by": "", "when": "", **source})
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            for entry in new:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return new
