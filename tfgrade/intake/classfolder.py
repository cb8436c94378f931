"""What an instructor hands us: a folder per student, Moodle's "download all submissions"
(zip or unzipped), or a zip of student folders. Archives are extracted safely: no path
escapes, no links, a cap on total size and file count, checked while decompressing."""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from tfgrade.errors import DuplicateStudentError, SubmissionError
from tfgrade.i18n import Msg
from tfgrade.pack.course import Course
from tfgrade.runners.batch import StudentFiles, check_unique, collect_student
from tfgrade.wire.framing import clean_text

MAX_TOTAL_BYTES = 2 * 1024**3
MAX_FILES = 20_000
MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_[a-z]+_?$")


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_files: int = MAX_FILES


def _archive_error(es: str, en: str) -> SubmissionError:
    return SubmissionError(Msg(es, en))


def safe_extract(archive: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> Path:
    """Extract a zip into dest. Refuses absolute paths, `..`, links and devices; stops a
    zip bomb by counting the bytes actually written, not the sizes the archive claims."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _archive_error(f"{archive.name} no es un zip válido ({exc})", f"{archive.name} is not a valid zip ({exc})") from None
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written = files = 0
    with zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise _archive_error(f"ruta peligrosa en el zip: {name!r}", f"unsafe path in the zip: {name!r}")
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)        # 0 when the archiver stored no file type
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise _archive_error(f"el zip contiene un enlace o un dispositivo: {name!r}",
                                     f"the zip holds a link or a device: {name!r}")
            target = (dest / name).resolve()
            if root not in target.parents and target != root:
                raise _archive_error(f"ruta fuera del destino: {name!r}", f"path escapes the destination: {name!r}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            files += 1
            if files > limits.max_files:
                raise _archive_error(f"el zip tiene más de {limits.max_files} archivos",
                                     f"the zip holds more than {limits.max_files} files")
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > limits.max_total_bytes:
                        raise _archive_error(
                            f"el zip se descomprime a más de {limits.max_total_bytes // 2**20} MB (¿una bomba zip?)",
                            f"the zip expands to more than {limits.max_total_bytes // 2**20} MB (a zip bomb?)")
                    out.write(chunk)
            _keep_time(target, info)
    return dest


def _keep_time(target: Path, info: zipfile.ZipInfo) -> None:
    """The entry's own modification time (the LMS's record of the file): the late policy's
    last resort for a submission time (tfgrade.policy.submission_times). Zip times have no
    zone: they are read as this machine's local time."""
    try:
        moment = time.mktime((*info.date_time, 0, 0, -1))
        os.utime(target, (moment, moment))
    except (OverflowError, ValueError, OSError):
        pass


def _unwrap(folder: Path) -> Path:
    """A zip of one folder holding the class: look inside it."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir() and not MOODLE_DIR.match(entries[0].name):
        inner = [p for p in entries[0].iterdir() if p.is_dir()]
        if inner:
            return entries[0]
    return folder


def discover(submissions: Path, course: Course, work: Path) -> list[StudentFiles]:
    """Every student in a folder or a zip, their files matched to exercises."""
    if submissions.is_file():
        if submissions.suffix.lower() != ".zip":
            raise _archive_error(f"{submissions} no es una carpeta ni un .zip", f"{submissions} is neither a folder nor a .zip")
        target = work / submissions.stem
        if target.exists():
            shutil.rmtree(target)
        submissions = _unwrap(safe_extract(submissions, target))
    students: dict[str, StudentFiles] = {}
    for folder in sorted(p for p in submissions.iterdir()
                         if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__MACOSX"))):
        # A folder name that is not valid UTF-8 (or holds control characters) is shown with
        # U+FFFD: the name goes into results, reports and CSV files, which must stay text.
        shown = clean_text(folder.name)
        m = MOODLE_DIR.match(shown)
        name, sid = (m.group("name").strip(), m.group("id")) if m else (shown, None)
        found = collect_student(folder, course, name)
        found = replace(found, student_id=sid, unmatched=tuple(clean_text(u) for u in found.unmatched))
        key = found.key
        if key in students:
            prev = students[key]
            if not (m and prev.student_id == sid and prev.name == name):
                raise DuplicateStudentError(prev.folder, folder, key)
            # Moodle splits one participant into file + onlinetext folders: one student.
            merged = {**found.files, **prev.files}
            found = replace(prev, files=merged, unmatched=prev.unmatched + found.unmatched,
                            extra_folders=prev.extra_folders + (folder,))
        students[key] = found
    result = list(students.values())
    check_unique(result)
    return result


def write_mapping(students: list[StudentFiles], out: Path) -> Path:
    """OUT/mapping.csv: which file was graded as which exercise, and what was not matched."""
    path = out / "mapping.csv"
    out.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "student_id", "exercise", "file"])
        for s in students:
            for ex_id, file in sorted(s.files.items()):
                w.writerow([s.name, s.student_id or "", ex_id, clean_text(str(file.relative_to(s.folder.parent)))])
            for name in s.unmatched:
                w.writerow([s.name, s.student_id or "", "", f"{name} (sin ejercicio / no exercise)"])
    return path
