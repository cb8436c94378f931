"""Grade-import CSV files for Moodle and Canvas, from results and an optional roster.

Roster (optional) — a CSV with a header row; only `student` is required:

| column | meaning |
|---|---|
| `student` | the name tfgrade uses: the submission's folder or file stem |
| `name` | display name ("Last, First" for Canvas) |
| `email`, `username`, `id_number` | Moodle user fields (one is the identifier, see below) |
| `canvas_id`, `sis_user_id`, `sis_login_id`, `section` | Canvas user fields |

A result matches a roster row first by its LMS `student_id` (taken from an LMS download)
equal to the row's `canvas_id`, `id_number` or `sis_user_id`, then by `student`
(case-insensitive) equal to the result's key, its display name ("Ana López (111)") or its
name. A name two results share (two students called the same) matches no row by name: such
a result is listed as `ambiguous` instead of giving one student the other's grade.

**Moodle** ("Grades › Import › CSV file"): Moodle asks which file column identifies the
user and which user field it maps to. The file's first column is that identifier, headed
with Moodle's own field name: `Email address` (roster `email`, the default), `Username`
(roster `username`) or `ID number` (roster `id_number`). Then `Full name` (informative;
leave it unmapped), the total (column named after the grade item, `item_name`) and one
column per exercise, which can be mapped to separate grade items or ignored.
Without a roster the identifier column holds the submission's `student_id` when it has one
(Moodle's participant id from a download), else the tfgrade student name: map it to the
Moodle field it really is (usually `ID number` or `Username`).

**Canvas** ("Grades › Import"): columns `Student, ID, SIS User ID, SIS Login ID, Section`,
then the assignment column, plus the `Points Possible` row Canvas itself exports. Canvas
matches students by `ID` (the Canvas user id), then `SIS User ID`, then `SIS Login ID`.
Name the assignment column exactly as in Canvas, ideally with its id: `Práctica 1 (12345)`;
an unknown name creates a new assignment. Without a roster, `ID` is the submission's
`student_id` (the Canvas user id in a Canvas download); a result with no id cannot be matched.

Results that cannot be imported (not in the roster, or no identifier) are never dropped:
they are returned and written to `<lms>_unmatched.csv` beside the import file, with the
reason. Roster rows without a result are listed there too (`no_result`) and left blank in
the import, so the LMS keeps whatever grade it had.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tfgrade.engine.results import SubmissionResult, write_text_atomic
from tfgrade.reports.formatting import csv_safe
from tfgrade.reports.scoring import exercise_ids as ids_of
from tfgrade.reports.scoring import reference_max, student_final, student_max

MoodleIdentifier = Literal["email", "username", "id_number"]
MOODLE_HEADERS: dict[str, str] = {"email": "Email address", "username": "Username", "id_number": "ID number"}
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ROSTER_COLUMNS = ("student", "name", "email", "username", "id_number", "canvas_id", "sis_user_id",
                  "sis_login_id", "section")


@dataclass(frozen=True)
class Unmatched:
    student: str
    student_id: str
    total: str
    reason: Literal["not_in_roster", "no_identifier", "no_result", "ambiguous"]


@dataclass(frozen=True)
class LmsExport:
    path: Path
    unmatched_path: Path
    imported: list[str] = field(default_factory=list)       # tfgrade student names in the import
    unmatched: list[Unmatched] = field(default_factory=list)


def read_roster(path: Path) -> list[dict[str, str]]:
    """Roster rows with lower-cased, stripped column names (an Excel BOM is tolerated)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "student" not in [f.strip().lower() for f in reader.fieldnames]:
            raise ValueError(f"{path}: a roster needs a 'student' column (columns: {', '.join(ROSTER_COLUMNS)})")
        return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]


def _shared_names(results: Sequence[SubmissionResult]) -> set[str]:
    seen: dict[str, int] = {}
    for r in results:
        name = r.student.strip().casefold()
        seen[name] = seen.get(name, 0) + 1
    return {name for name, n in seen.items() if n > 1}


def _match(result: SubmissionResult, roster: Sequence[Mapping[str, str]],
           shared: AbstractSet[str] = frozenset()) -> Mapping[str, str] | None:
    if result.student_id:
        for row in roster:
            if result.student_id in (row.get("canvas_id"), row.get("id_number"), row.get("sis_user_id")):
                return row
    name = result.student.strip().casefold()
    wanted = {result.key.strip().casefold(), result.display_name.strip().casefold()}
    if name not in shared:
        wanted.add(name)
    for row in roster:
        if row.get("student", "").strip().casefold() in wanted:
            return row
    return None


def _why_unmatched(result: SubmissionResult, shared: AbstractSet[str]) -> Literal["not_in_roster", "ambiguous"]:
    return "ambiguous" if result.student.strip().casefold() in shared else "not_in_roster"


def _order(r: SubmissionResult) -> tuple[str, str]:
    return r.student.casefold(), r.key


def _grade(total: float, top: float, scale_to: float | None) -> str:
    value = total if scale_to is None else (total / top * scale_to if top > 0 else 0.0)
    return f"{round(value, 2):g}"


def _to_csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _write_unmatched(path: Path, unmatched: Sequence[Unmatched]) -> None:
    rows = [["student", "student_id", "total", "reason"]]
    rows += [[csv_safe(u.student), csv_safe(u.student_id), u.total, u.reason] for u in unmatched]
    write_text_atomic(path, _to_csv(rows))


def _write_export(path: Path, rows: Sequence[Sequence[str]], imported: list[str],
                  unmatched: list[Unmatched]) -> LmsExport:
    """The import file and, beside it, `<name>_unmatched.csv`: what could not be imported, and why."""
    write_text_atomic(path, _to_csv(rows))
    unmatched_path = path.with_name(path.name.replace(".csv", "_unmatched.csv"))
    _write_unmatched(unmatched_path, unmatched)
    return LmsExport(path, unmatched_path, imported, unmatched)


def _no_result(results: Sequence[SubmissionResult], roster: Sequence[Mapping[str, str]] | None) -> list[Unmatched]:
    if not roster:
        return []
    shared = _shared_names(results)
    used = {id(row) for r in results if (row := _match(r, roster, shared)) is not None}
    return [Unmatched(row.get("student", ""), row.get("canvas_id") or row.get("id_number", ""), "", "no_result")
            for row in roster if id(row) not in used]


def write_moodle_csv(results: Sequence[SubmissionResult], out_dir: Path, *,
                     roster: Sequence[Mapping[str, str]] | None = None, identifier: MoodleIdentifier = "email",
                     item_name: str = "tfgrade", scale_to: float | None = None,
                     max_points: Mapping[str, float] | None = None, file_name: str = "moodle.csv") -> LmsExport:
    """Moodle grade-import CSV; `scale_to=10` writes grades out of 10 instead of points."""
    ids = ids_of(results)
    ref = reference_max(results, max_points)
    header = [MOODLE_HEADERS[identifier], "Full name", item_name, *[f"{item_name}: {i}" for i in ids]]
    rows: list[list[str]] = [header]
    imported, unmatched = [], []
    shared = _shared_names(results)
    for r in sorted(results, key=_order):
        total, top = student_final(r, ids), student_max(r, ids, ref)
        if roster is None:
            key, name = r.key, r.student
        else:
            row = _match(r, roster, shared)
            if row is None:
                unmatched.append(Unmatched(r.student, r.student_id or "", _grade(total, top, None),
                                           _why_unmatched(r, shared)))
                continue
            key, name = row.get(identifier, ""), row.get("name") or r.student
            if not key:
                unmatched.append(Unmatched(r.student, r.student_id or "", _grade(total, top, None), "no_identifier"))
                continue
        per_exercise = [f"{round(ex.score, 2):g}" if (ex := r.exercise(i)) is not None else "0" for i in ids]
        rows.append([csv_safe(key), csv_safe(name), _grade(total, top, scale_to), *per_exercise])
        imported.append(r.student)
    return _write_export(Path(out_dir) / file_name, rows, imported, unmatched + _no_result(results, roster))


def write_canvas_csv(results: Sequence[SubmissionResult], out_dir: Path, *,
                     roster: Sequence[Mapping[str, str]] | None = None, assignment: str = "tfgrade",
                     scale_to: float | None = None, max_points: Mapping[str, float] | None = None,
                     file_name: str = "canvas.csv") -> LmsExport:
    """Canvas gradebook-import CSV with one assignment column (the total)."""
    ids = ids_of(results)
    ref = reference_max(results, max_points)
    class_max = round(sum(ref.get(i, 0.0) for i in ids), 4)
    possible = _grade(class_max, class_max, scale_to)
    rows: list[list[str]] = [[*CANVAS_COLUMNS, assignment], ["Points Possible", "", "", "", "", possible]]
    imported, unmatched = [], []
    shared = _shared_names(results)
    for r in sorted(results, key=_order):
        total, top = student_final(r, ids), student_max(r, ids, ref)
        if roster is None:
            canvas_id, sis_user, sis_login, section, name = r.student_id or "", "", "", "", r.student
        else:
            row = _match(r, roster, shared)
            if row is None:
                unmatched.append(Unmatched(r.student, r.student_id or "", _grade(total, top, None),
                                           _why_unmatched(r, shared)))
                continue
            canvas_id = row.get("canvas_id") or r.student_id or ""
            sis_user, sis_login = row.get("sis_user_id", ""), row.get("sis_login_id", "")
            section, name = row.get("section", ""), row.get("name") or r.student
        if not (canvas_id or sis_user or sis_login):
            unmatched.append(Unmatched(r.student, r.student_id or "", _grade(total, top, None), "no_identifier"))
            continue
        rows.append([csv_safe(name), canvas_id, sis_user, sis_login, csv_safe(section), _grade(total, top, scale_to)])
        imported.append(r.student)
    return _write_export(Path(out_dir) / file_name, rows, imported, unmatched + _no_result(results, roster))
