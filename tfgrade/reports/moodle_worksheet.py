"""Moodle's offline grading worksheet: read it, fill in Grade and Feedback comments, write it back.

The format, as Moodle's source writes and reads it (moodle/moodle):

* **Download** ("Download grading worksheet" / «Descargar la hoja de calificaciones»):
  `mod/assign/feedback/offline/locallib.php` `download_grades()` prints `mod/assign/gradingtable.php`
  as CSV through `dataformat/csv` (Spout's CSV writer: comma, UTF-8, and a UTF-8 BOM by default).
  Columns, in order: `Identifier`, `Full name`, the identity fields the site shows (`Email address`…),
  `Status`, [`Group`], [`Marker`], `Grade`, then `Maximum grade` for a points assignment or `Scale`
  (its items, one a line) for a scale, [`Marking workflow state`], `Grade can be changed`,
  `Last modified (submission)`, one column per online-text submission field, `Last modified (grade)`,
  then one per feedback editor field (`Feedback comments`), [`Outcomes`].
  Every header is a **language string** of the downloading user's language (`lang/en/assign.php`:
  `recordid` Identifier, `status`, `maxgrade`, `scale`, `gradecanbechanged`, `lastmodifiedsubmission`,
  `lastmodifiedgrade`; core `grade`, `fullname`, `email`; `assignfeedback_comments` `pluginname`);
  Spanish: Identificador, Nombre completo, Estado, Calificación, Calificación máxima, Escala,
  La calificación puede ser cambiada, Última modificación (entrega), Última modificación (calificación),
  Comentarios de retroalimentación.
* `Identifier` is `get_string('hiddenuser', 'assign')` + the participant's unique id in this
  assignment (`col_recordid`): "Participant 12345" (en, the string ends in a space); the Spanish pack's
  string is "Participante" (written "Participante12345" or, by other packs, "Participante 12345").
  It is the same number as in the submissions download's folder names.
* `Grade` is `format_float(grade, decimals)` (localized decimal separator, "" when ungraded) or
  the scale item's text; `Maximum grade` is `format_float(max)`, e.g. "10.00" / "10,00".
* `Grade can be changed` is core `yes`/`no`: "Yes"/"No" (es "Sí"/"No"): "No" when grading is
  disabled for that user (locked, or overridden in the gradebook).
* Dates are `userdate(t)` (`strftimedaydatetime`, in the downloading user's time zone), "-" when
  none: en "Tuesday, 1 December 2026, 10:15 PM", es "martes, 1 de diciembre de 2026, 22:15".
* **Upload** ("Upload grading worksheet" / «Subir la hojas de calificaciones», sic):
  `mod/assign/feedback/offline/importgradeslib.php` finds the columns by header text **in the
  uploading user's current language** (`get_string('grade')`, `recordid`, `lastmodifiedgrade`:
  all three are required, else "invalidgradeimport"): upload with Moodle in the language of the
  download. The id is `substr(Identifier, strlen(hiddenuser))`. The upload form lets the instructor
  choose the encoding and separator (`uploadgradesform.php`; default UTF-8, comma), so a
  worksheet re-saved by Excel with `;` is written back with `;` and uploaded choosing it.
* `locallib.php` `process_import_grades()`: a scale grade is looked up by item text; a points grade
  goes through `unformat_float` (the language's decimal separator becomes "."; "." is accepted in
  every language, "," only where it is the separator): **we write "." always**. A row is skipped when
  the grade is unchanged, empty, negative, above the maximum, grading is disabled, or when Moodle's
  grade was modified more than 60 s after `strtotime(Last modified (grade))` unless "ignore modified"
  is ticked. So `Last modified (grade)` is kept exactly as downloaded (PHP's strtotime cannot read a
  Spanish date: with a Spanish download, tick "Allow updating records that have been modified more recently in Moodle than in the
  spreadsheet" («Permitir la actualización de los registros que se han modificado recientemente…»,
  `ignoremodified` in `lang/*/assignfeedback_offline.php`) to replace
  grades that already exist in Moodle). Feedback comments are stored as HTML: text from student keys
  is escaped.

Times: `submitted_at` is the naive local time Moodle printed, placed in `tz` (a `tzinfo`, e.g.
`ZoneInfo("Europe/Madrid")`: the zone of the instructor who downloaded it), or the machine's local
zone when `tz` is None (the course has no deadline zone of its own yet).
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Literal

from tfgrade.catalogue import GRADER
from tfgrade.engine.results import SubmissionResult, write_bytes_atomic
from tfgrade.errors import TfgradeError
from tfgrade.i18n import LANGS, Lang, Msg
from tfgrade.reports.formatting import csv_safe, fmt_num
from tfgrade.reports.scoring import exercise_ids, reference_max, student_final, student_max

Role = Literal["id", "fullname", "email", "status", "grade", "maxgrade", "scale", "canchange",
               "submitted", "graded", "feedback"]
# Header texts per column, English and Spanish (Moodle's language strings, see the docstring).
HEADERS: dict[Role, tuple[str, ...]] = {
    "id": ("Identifier", "Identificador"),
    "fullname": ("Full name", "Nombre completo"),
    "email": ("Email address", "Dirección Email", "Dirección de correo", "Correo electrónico", "Email"),
    "status": ("Status", "Estado"),
    "grade": ("Grade", "Calificación"),
    "maxgrade": ("Maximum grade", "Calificación máxima"),
    "scale": ("Scale", "Escala"),
    "canchange": ("Grade can be changed", "La calificación puede ser cambiada"),
    "submitted": ("Last modified (submission)", "Última modificación (entrega)"),
    "graded": ("Last modified (grade)", "Última modificación (calificación)"),
    "feedback": ("Feedback comments", "Comentarios de retroalimentación"),
}
REQUIRED: tuple[Role, ...] = ("id", "grade", "graded")
NO = frozenset({"no"})
UNMATCHED_FILE = "moodle_worksheet_unmatched.csv"

Reason = Literal["no_result", "no_row", "no_participant_id", "grade_locked", "scale", "no_max_grade",
                 "duplicate_row", "no_report", "duplicate_folder"]
REASON_KEYS: dict[str, str] = {
    "no_result": "moodle_reason_no_result", "no_row": "moodle_reason_no_row",
    "no_participant_id": "moodle_reason_no_participant_id", "grade_locked": "moodle_reason_grade_locked",
    "scale": "moodle_reason_scale", "no_max_grade": "moodle_reason_no_max_grade",
    "duplicate_row": "moodle_reason_duplicate_row", "no_report": "moodle_reason_no_report",
    "duplicate_folder": "moodle_reason_duplicate_folder"}
GradeFor = Callable[[SubmissionResult], tuple[float, float]]
Summary = Callable[[SubmissionResult, Lang], str]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


_ROLE_OF = {_norm(h): role for role, texts in HEADERS.items() for h in texts}
_PARTICIPANT = re.compile(r"^\s*(?P<prefix>\D*?)\s*(?P<id>\d+)\s*$")
MONTHS = {name: i + 1 for names in (
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"),
    ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
     "noviembre", "diciembre"),
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")) for i, name in enumerate(names)}
MONTHS["setiembre"] = MONTHS["sept"] = MONTHS["set"] = 9
_DATE = re.compile(r"^\s*(?:[^\W\d_]+,\s*)?(?P<day>\d{1,2})\s+(?:de\s+)?(?P<month>[^\W\d_]+)\.?\s+(?:de\s+)?"
                   r"(?P<year>\d{4}),?\s+(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2})?\s*(?P<ampm>[ap]\.?\s?m\.?)?\s*$",
                   re.IGNORECASE)


def participant_id(identifier: str) -> str | None:
    """"Participant 12345" / "Participante12345" -> "12345" (Moodle strips its own prefix by length)."""
    m = _PARTICIPANT.match(identifier)
    return m.group("id") if m else None


def parse_moodle_date(text: str, tz: tzinfo | None = None) -> datetime | None:
    """A `userdate` in English or Spanish -> an aware datetime (None for "-" or what is not a date)."""
    m = _DATE.match(text)
    month = MONTHS.get(_norm(m.group("month"))) if m else None
    if m is None or month is None:
        return None
    hour, ampm = int(m.group("h")), (m.group("ampm") or "").lower().replace(".", "").replace(" ", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        naive = datetime(int(m.group("year")), month, int(m.group("day")), hour, int(m.group("m")))
    except ValueError:
        return None
    return naive.astimezone() if tz is None else naive.replace(tzinfo=tz)


def parse_moodle_number(text: str) -> float | None:
    """"10.00", "10,00", "1 000,5" -> float; "" or anything else -> None."""
    t = text.strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if "," in t and "." in t:
        t = t.replace("," if t.rfind(".") > t.rfind(",") else ".", "")
    try:
        return float(t.replace(",", "."))
    except ValueError:
        return None


def moodle_grade_text(value: float) -> str:
    """A grade as Moodle's `unformat_float` reads it in every language: "." and at most 2 decimals."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class WorksheetRow:
    cells: tuple[str, ...]              # every cell as downloaded, one per header
    participant_id: str | None
    full_name: str
    email: str
    status: str
    grade: str                          # raw text (a number in the site's format, or a scale item)
    max_grade: float | None             # None for a scale assignment (or an unreadable maximum)
    can_change: bool
    submitted_raw: str
    submitted_at: datetime | None

    @classmethod
    def from_cells(cls, cells: Sequence[str], columns: Mapping[Role, int], tz: tzinfo | None) -> WorksheetRow:
        def cell(role: Role) -> str:
            i = columns.get(role)
            return cells[i] if i is not None and i < len(cells) else ""
        submitted = cell("submitted")
        return cls(tuple(cells), participant_id(cell("id")), cell("fullname"), cell("email"), cell("status"),
                   cell("grade"), None if "scale" in columns else parse_moodle_number(cell("maxgrade")),
                   _norm(cell("canchange")) not in NO, submitted, parse_moodle_date(submitted, tz))


@dataclass(frozen=True)
class Worksheet:
    path: Path
    header: tuple[str, ...]             # the exact header texts, in order
    rows: tuple[WorksheetRow, ...]
    columns: Mapping[Role, int]         # which column holds what
    delimiter: str = ","
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"

    @property
    def scale(self) -> bool:
        return "scale" in self.columns

    @classmethod
    def from_text(cls, text: str, path: Path, *, tz: tzinfo | None = None, encoding: str = "utf-8") -> Worksheet:
        bom = text.startswith("\ufeff")
        text = text.removeprefix("\ufeff")
        delimiter, table = _best_table(text)
        header = tuple(table[0]) if table else ()
        columns: dict[Role, int] = {}
        for i, name in enumerate(header):
            role = _ROLE_OF.get(_norm(name))
            if role is not None and role not in columns:
                columns[role] = i
        missing = [HEADERS[r][0] + " / " + HEADERS[r][1] for r in REQUIRED if r not in columns]
        if missing:
            raise WorksheetError(GRADER("moodle_not_worksheet", path=path, missing=", ".join(missing)))
        width = len(header)
        rows = tuple(WorksheetRow.from_cells((list(r) + [""] * width)[:max(width, len(r))], columns, tz)
                     for r in table[1:] if any(c.strip() for c in r))
        newline = "\r\n" if "\r\n" in text else "\n"
        return cls(Path(path), header, rows, columns, delimiter, encoding, bom, newline)


class WorksheetError(TfgradeError):
    """A file given as the Moodle worksheet that cannot be one."""


def _best_table(text: str) -> tuple[str, list[list[str]]]:
    """Moodle writes commas; Excel may re-save with ';' (or a tab): the delimiter whose header
    holds the most known Moodle columns wins."""
    best: tuple[int, str, list[list[str]]] = (-1, ",", [])
    for delimiter in (",", ";", "\t"):
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        known = sum(_norm(h) in _ROLE_OF for h in table[0]) if table else 0
        if known > best[0]:
            best = (known, delimiter, table)
    return best[1], best[2]


def read_worksheet(path: Path, tz: tzinfo | None = None) -> Worksheet:
    """The worksheet as downloaded: every column and row kept in order, exact header text kept."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WorksheetError(GRADER("moodle_unreadable_worksheet", path=path, why=exc.strerror or str(exc))) from None
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252", errors="replace"), "cp1252"   # Excel's "ANSI" on Windows
    return Worksheet.from_text(text, path, tz=tz, encoding=encoding)


def worksheet_submission_times(worksheet: Worksheet) -> dict[str, datetime]:
    """Participant id -> when Moodle says the submission was last modified (rows with a date)."""
    return {r.participant_id: r.submitted_at for r in worksheet.rows
            if r.participant_id is not None and r.submitted_at is not None}


@dataclass(frozen=True)
class WorksheetUnmatched:
    participant_id: str
    name: str
    grade: str            # what tfgrade would have written (empty for a row with no result)
    reason: Reason

    @property
    def why(self) -> Msg:
        return GRADER(REASON_KEYS.get(self.reason, "moodle_reason_no_result"))


@dataclass(frozen=True)
class FilledWorksheet:
    worksheet: Worksheet
    rows: tuple[tuple[str, ...], ...]
    filled: tuple[str, ...] = ()                                   # participant ids written
    unmatched: tuple[WorksheetUnmatched, ...] = field(default=())


def default_grade_for(results: Sequence[SubmissionResult], max_points: Mapping[str, float] | None = None,
                      ids: Sequence[str] | None = None) -> GradeFor:
    """(the grade, class maximum) from tfgrade.reports.scoring, as every other report counts them:
    the total after the instructor's overrides, less the late penalty."""
    ids = list(ids) if ids is not None else exercise_ids(results)
    ref = reference_max(results, max_points)
    return lambda r: (student_final(r, ids), student_max(r, ids, ref))


def default_summary(grade_for: GradeFor) -> Summary:
    """Points, then what the policies changed (late penalty, instructor adjustments) in a few words:
    the report in the feedback files says the rest."""
    def summary(result: SubmissionResult, lang: Lang) -> str:
        total, top = grade_for(result)
        parts = [GRADER("moodle_summary_details", score=fmt_num(total, lang), points=fmt_num(top, lang)).get(lang)]
        if result.late is not None and result.penalty > 0:
            parts.append(GRADER("moodle_summary_late", penalty=fmt_num(result.penalty, lang),
                                days=result.late.days_late).get(lang))
        if result.adjusted:
            parts.append(GRADER("moodle_summary_adjusted").get(lang))
        return " ".join(parts)
    return summary


def feedback_text(grade: float, max_grade: float, result: SubmissionResult, summary: Summary) -> str:
    """Spanish first, then English; escaped, because Moodle stores feedback comments as HTML."""
    parts = [GRADER("moodle_feedback_text", grade=fmt_num(grade, lang), max=fmt_num(max_grade, lang),
                    details=summary(result, lang)).get(lang) for lang in LANGS]
    return csv_safe(html.escape(" · ".join(parts), quote=False))


def fill_worksheet(worksheet: Worksheet, results: Sequence[SubmissionResult], *,
                   summary: Summary | None = None, grade_for: GradeFor | None = None) -> FilledWorksheet:
    """Grade (total ÷ max_total × the row's Maximum grade, ≤ 2 decimals) and Feedback comments for
    every row whose participant has a result; every other row is left exactly as downloaded."""
    grade_for = grade_for or default_grade_for(results)
    summary = summary or default_summary(grade_for)
    by_id: dict[str, SubmissionResult] = {}
    unmatched: list[WorksheetUnmatched] = []
    for r in results:
        if r.student_id:
            by_id.setdefault(r.student_id, r)
        else:
            unmatched.append(WorksheetUnmatched("", r.student, _points(grade_for(r)), "no_participant_id"))
    cols = worksheet.columns
    rows, filled, seen = [], [], set()
    for row in worksheet.rows:
        cells = list(row.cells)
        pid, result = row.participant_id, by_id.get(row.participant_id or "")
        rows.append(cells)
        if result is None or pid is None:
            unmatched.append(WorksheetUnmatched(pid or "", row.full_name, "", "no_result"))
            continue
        total, top = grade_for(result)
        reason: Reason | None = ("duplicate_row" if pid in seen else "scale" if worksheet.scale
                                 else "grade_locked" if not row.can_change
                                 else "no_max_grade" if row.max_grade is None or row.max_grade <= 0 else None)
        seen.add(pid)
        if reason is not None or row.max_grade is None:
            unmatched.append(WorksheetUnmatched(pid, row.full_name, _points((total, top)), reason or "no_max_grade"))
            continue
        grade = min(max(total / top * row.max_grade if top > 0 else 0.0, 0.0), row.max_grade)
        cells[cols["grade"]] = moodle_grade_text(grade)
        if "feedback" in cols:
            cells[cols["feedback"]] = feedback_text(round(grade, 2), row.max_grade, result, summary)
        filled.append(pid)
    listed = {r.participant_id for r in worksheet.rows}
    unmatched += [WorksheetUnmatched(pid, r.student, _points(grade_for(r)), "no_row")
                  for pid, r in by_id.items() if pid not in listed]
    return FilledWorksheet(worksheet, tuple(tuple(c) for c in rows), tuple(filled), tuple(unmatched))


def _points(score: tuple[float, float]) -> str:
    return f"{moodle_grade_text(score[0])} / {moodle_grade_text(score[1])}"


def worksheet_text(filled: FilledWorksheet) -> str:
    ws = filled.worksheet
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=ws.delimiter, lineterminator=ws.newline)
    writer.writerow(ws.header)
    writer.writerows(filled.rows)
    return ("\ufeff" if ws.bom else "") + buffer.getvalue()


def write_worksheet(filled: FilledWorksheet, path: Path, unmatched_path: Path | None = None) -> Path:
    """The filled worksheet, atomically, in the delimiter, encoding and BOM it was read with; the
    unmatched rows and results beside it (`moodle_worksheet_unmatched.csv`), never dropped."""
    path = Path(path)
    # A character the file's encoding lacks (only with a cp1252 re-save) becomes an HTML
    # reference: the feedback comments are HTML, and names are Moodle's own text.
    write_bytes_atomic(path, worksheet_text(filled).encode(filled.worksheet.encoding, errors="xmlcharrefreplace"))
    write_unmatched(filled.unmatched, unmatched_path or path.with_name(UNMATCHED_FILE))
    return path


def write_unmatched(unmatched: Sequence[WorksheetUnmatched], path: Path) -> Path:
    """For people, in a spreadsheet: formulas neutralised (csv_safe), reasons in both languages."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["participant_id", "name", "tfgrade_points", "reason", "motivo", "why"])
    for u in unmatched:
        writer.writerow([csv_safe(u.participant_id), csv_safe(u.name), u.grade, u.reason, u.why.es, u.why.en])
    write_bytes_atomic(Path(path), buffer.getvalue().encode("utf-8"))
    return Path(path)
