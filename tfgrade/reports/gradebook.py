"""The gradebook: one row per student, one column per exercise, as CSV (and XLSX if possible).

Columns: `student` (the display name: "Ana López (111)" with an LMS id), `id` (the unique
student key: the LMS id, else the folder's name), one per exercise id (points, after any
instructor override), `total` (their sum), `max_total`, then the late policy's columns
(`submitted_at` ISO 8601, `time_source`: worksheet | gradescope | csv | file_time | unknown,
`late_by` "2d 03:15", `penalty` in points; empty without a `[deadline]`), `final` (the grade:
`total` − `penalty`), `percent` (of `final`), `adjusted` (an override changed this row), `status`.
Every result gets a row, including a student whose files all failed or who handed in
nothing: a missing row in a gradebook is how students get forgotten.
`gradebook.xlsx` is written only when openpyxl is importable (it is not a dependency).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from tfgrade.engine.results import SubmissionResult, write_text_atomic
from tfgrade.policy.deadline import late_by_text
from tfgrade.reports.formatting import csv_safe
from tfgrade.reports.scoring import reference_max, student_max, student_penalty, student_score

CSV_NAME = "gradebook.csv"
XLSX_NAME = "gradebook.xlsx"
LATE_COLUMNS = ("submitted_at", "time_source", "late_by", "penalty")


def gradebook_frame(results: Sequence[SubmissionResult], exercise_ids: Sequence[str],
                    max_points: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The gradebook as a DataFrame, sorted by student (case-insensitive)."""
    ref = reference_max(results, max_points)
    rows = []
    for r in sorted(results, key=lambda r: (r.student.casefold(), r.key)):
        row: dict[str, object] = {"student": csv_safe(r.display_name), "id": csv_safe(r.key)}
        for ex_id in exercise_ids:
            ex = r.exercise(ex_id)
            row[ex_id] = ex.score if ex is not None else 0.0
        total, top = student_score(r, exercise_ids), student_max(r, exercise_ids, ref)
        late = r.late
        penalty = student_penalty(r, exercise_ids) if late is not None else None
        final = round(total - (penalty or 0.0), 4)
        row.update(total=total, max_total=top,
                   submitted_at=late.submitted_at or "" if late else "",
                   time_source=late.time_source if late else "",
                   late_by=late_by_text(late.late_by_s) if late else "", penalty=penalty, final=final,
                   percent=round(100.0 * final / top, 2) if top > 0 else None,
                   adjusted=r.adjusted, status=r.status)
        rows.append(row)
    columns = ["student", "id", *exercise_ids, "total", "max_total", *LATE_COLUMNS, "final", "percent",
               "adjusted", "status"]
    return pd.DataFrame(rows, columns=columns)


def xlsx_available() -> bool:
    return importlib.util.find_spec("openpyxl") is not None


def write_gradebook(results: Sequence[SubmissionResult], exercises_ids: Sequence[str], out_dir: Path, *,
                    max_points: Mapping[str, float] | None = None) -> list[Path]:
    """Write OUT/gradebook.csv (and gradebook.xlsx when openpyxl is importable); return the paths.

    `max_points` optionally gives each exercise's maximum (the pack's table); otherwise the
    class's own maxima are used for exercises a student did not hand in (see scoring.py).
    """
    out_dir = Path(out_dir)
    frame = gradebook_frame(results, exercises_ids, max_points)
    csv_path = out_dir / CSV_NAME
    write_text_atomic(csv_path, frame.to_csv(index=False, lineterminator="\n"))
    written = [csv_path]
    if xlsx_available():
        xlsx_path = out_dir / XLSX_NAME
        fd, tmp = tempfile.mkstemp(prefix=".gradebook.", suffix=".xlsx", dir=out_dir)
        os.close(fd)
        try:
            frame.to_excel(tmp, index=False, sheet_name="gradebook")
            os.replace(tmp, xlsx_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(xlsx_path)
    return written
