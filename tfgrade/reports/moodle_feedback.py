"""Moodle's "Upload multiple feedback files in a zip" («Subir múltiples archivos de retroalimentación
en un ZIP»): each student's HTML report in that student's folder, named as in the download.

The format, as Moodle's source writes and reads it (moodle/moodle):

* **Download** ("Download all submissions"): `mod/assign/classes/downloader.php` (Moodle ≥ 4.1;
  before, `download_submissions()` in `mod/assign/locallib.php`). The prefix is
  `clean_filename(str_replace('_', ' ', fullname) . '_' . get_uniqueid_for_user(id))` (blind marking:
  the `participant` string instead of the name; team submissions: the group's name and group id),
  and with "download as folders" (the default since 3.1) each plugin's files go in the folder
  `clean_filename(prefix . '_' . subtype . '_' . type)`: `Ana López_12345_assignsubmission_file`
  (≥ 4.1) or `Ana López_12345_assignsubmission_file_` (3.1–4.0; `assignsubmission_onlinetext`
  for online text). `clean_filename` (PARAM_FILE) drops control characters and `& < > " ` | ' : \\ /`.
* **Upload**: `mod/assign/feedback/file/importziplib.php` `is_valid_filename_for_import()` splits
  each path part of each file on `_` (at most 5 pieces): a part of at least 4 pieces whose 2nd is a
  participant id of this assignment and whose 3rd/4th name an installed plugin
  (`get_plugin_by_type`, `assignsubmission_file` is one) takes the file for that participant; the rest
  of the path becomes the feedback file's name, so `<folder>/<report>.html` is attached as
  `<report>.html`. Names starting with `.` or `~` are ignored. `is_file_modified()` skips a file
  identical (same name and content hash) to one already in that plugin's area; a changed one
  replaces the feedback file of the same name. The id is all that matches: the name in the folder
  is for people. The assignment needs the "Feedback files" feedback type enabled.

Folder names are hostile input (students choose their own full names; a folder may be renamed):
an original name is used only when, cleaned as Moodle cleans it, it is still one path component
in Moodle's pattern with the student's own id; otherwise the name is rebuilt.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from tfgrade.engine.results import SubmissionResult, write_bytes_atomic, write_text_atomic
from tfgrade.intake.classfolder import MOODLE_DIR
from tfgrade.reports.formatting import report_filename
from tfgrade.reports.moodle_worksheet import (
    UNMATCHED_FILE,
    GradeFor,
    Summary,
    Worksheet,
    WorksheetUnmatched,
    default_grade_for,
    fill_worksheet,
    read_worksheet,
    write_unmatched,
    write_worksheet,
)
from tfgrade.wire.framing import clean_text

if TYPE_CHECKING:
    from tfgrade.runners.batch import StudentFiles

MOODLE_OUT = "moodle"
FOLDERS_FILE = "folders.json"
WORKSHEET_FILE = "grading_worksheet.csv"
ZIP_FILE = "feedback_files.zip"
ZIP_UNMATCHED_FILE = "feedback_files_unmatched.csv"
PLUGIN_SUFFIX = "_assignsubmission_file"            # the folder Moodle ≥ 4.1 writes for file submissions
_CLEAN = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/*?]")


def clean_filename(name: str) -> str:
    """What Moodle's clean_filename (PARAM_FILE) leaves of a name (plus `*` and `?`, for Windows)."""
    text = _CLEAN.sub("", name).strip()
    return "" if text in (".", "..") else text


def moodle_folder(name: str, participant_id: str, original: str | None = None) -> str:
    """The student's folder as the download named it, or rebuilt as Moodle names it."""
    if original:
        cleaned = clean_filename(clean_text(original))
        m = MOODLE_DIR.match(cleaned)
        if cleaned == original and m and m.group("id") == participant_id:
            return cleaned
    stem = clean_filename(name.replace("_", " ")) or "Participant"
    return clean_filename(f"{stem}_{participant_id}") + PLUGIN_SUFFIX


def safe_entry(name: str) -> bool:
    """A zip entry name that extracts inside the target on every OS."""
    parts = PurePosixPath(name).parts
    return (bool(parts) and not name.startswith("/") and "\\" not in name and ".." not in parts
            and not any(":" in p or p.startswith((".", "~")) for p in parts))


def write_folders(students: Iterable[StudentFiles], out: Path) -> Path:
    """OUT/moodle/folders.json: student key -> the Moodle folder it came from (file submissions first)."""
    folders = {}
    for s in students:
        if s.student_id:
            names = [clean_text(p.name) for p in (s.folder, *s.extra_folders)]
            names.sort(key=lambda n: PLUGIN_SUFFIX not in n)
            folders[s.key] = names[0]
    path = Path(out) / MOODLE_OUT / FOLDERS_FILE
    write_text_atomic(path, json.dumps(folders, ensure_ascii=False, indent=1, sort_keys=True))
    return path


def read_folders(out: Path) -> dict[str, str]:
    """OUT/moodle/folders.json, or {} when absent or not what write_folders writes."""
    try:
        data = json.loads((Path(out) / MOODLE_OUT / FOLDERS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


@dataclass(frozen=True)
class FeedbackZip:
    path: Path
    entries: tuple[str, ...] = ()
    unmatched: tuple[WorksheetUnmatched, ...] = ()


def write_feedback_zip(results: Sequence[SubmissionResult], reports_dir: Path, zip_path: Path, *,
                       folders: Mapping[str, str] | None = None) -> FeedbackZip:
    """`reports_dir` is OUT/reports (render_all writes `report_filename(file_label)` there)."""
    folders = folders or {}
    entries: list[tuple[str, Path]] = []
    unmatched: list[WorksheetUnmatched] = []
    used: set[str] = set()
    for r in sorted(results, key=lambda r: (r.student.casefold(), r.key)):
        if not r.student_id:
            unmatched.append(WorksheetUnmatched("", r.student, "", "no_participant_id"))
            continue
        report = Path(reports_dir) / report_filename(r.file_label)
        folder = moodle_folder(r.student, r.student_id, folders.get(r.key))
        entry = f"{folder}/{report.name}"
        if not report.is_file():
            unmatched.append(WorksheetUnmatched(r.student_id, r.student, "", "no_report"))
        elif folder.casefold() in used or not safe_entry(entry):
            unmatched.append(WorksheetUnmatched(r.student_id, r.student, "", "duplicate_folder"))
        else:
            used.add(folder.casefold())
            entries.append((entry, report))
    zip_path = Path(zip_path)
    buffer = io.BytesIO()           # the reports of a class: a few MB at most
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry, report in entries:
            zf.write(report, entry)
    write_bytes_atomic(zip_path, buffer.getvalue())
    return FeedbackZip(zip_path, tuple(e for e, _ in entries), tuple(unmatched))


@dataclass(frozen=True)
class MoodleExport:
    worksheet: Path
    zip: Path
    unmatched_paths: tuple[Path, ...]
    rows: int
    filled: int
    reports: int
    unmatched: tuple[WorksheetUnmatched, ...] = field(default=())

    @property
    def paths(self) -> list[Path]:
        return [self.worksheet, self.zip, *self.unmatched_paths]


def write_moodle_exports(results: Sequence[SubmissionResult], out_dir: Path, worksheet: Path | Worksheet, *,
                         folders: Mapping[str, str] | None = None, max_points: Mapping[str, float] | None = None,
                         ids: Sequence[str] | None = None, tz: tzinfo | None = None,
                         summary: Summary | None = None, grade_for: GradeFor | None = None) -> MoodleExport:
    """OUT/moodle/: grading_worksheet.csv, feedback_files.zip and their *_unmatched.csv; the
    worksheet as read already (the caller's), or its path."""
    out = Path(out_dir) / MOODLE_OUT
    sheet = worksheet if isinstance(worksheet, Worksheet) else read_worksheet(worksheet, tz)
    filled = fill_worksheet(sheet, results, summary=summary,
                            grade_for=grade_for or default_grade_for(results, max_points, ids))
    sheet_path = write_worksheet(filled, out / WORKSHEET_FILE, out / UNMATCHED_FILE)
    feedback = write_feedback_zip(results, Path(out_dir) / "reports", out / ZIP_FILE,
                                  folders=folders if folders is not None else read_folders(out_dir))
    zip_unmatched = write_unmatched(feedback.unmatched, out / ZIP_UNMATCHED_FILE)
    return MoodleExport(sheet_path, feedback.path, (out / UNMATCHED_FILE, zip_unmatched), len(sheet.rows),
                        len(filled.filled), len(feedback.entries), filled.unmatched + feedback.unmatched)
