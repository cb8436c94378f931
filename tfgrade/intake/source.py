"""Read a submitted file as source text, or explain clearly why it cannot be graded."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tfgrade.errors import SubmissionError
from tfgrade.i18n import Msg

MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 40 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str                   # Python source that the sandbox runs
    warnings: tuple[Msg, ...] = ()
    raw: bytes = b""            # the file as submitted (notebooks are rendered for instructors)

    @property
    def is_notebook(self) -> bool:
        return self.path.suffix.lower() == ".ipynb"


def decode_python(data: bytes, name: str) -> tuple[str, tuple[Msg, ...]]:
    if b"\x00" in data:
        raise SubmissionError(Msg(
            f"{name} no es un archivo de texto (contiene bytes nulos): entrega el código fuente .py",
            f"{name} is not a text file (it contains NUL bytes): hand in the .py source"))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if "\ufffd" in text:
        text = data.decode("latin-1")
    return text, (Msg(
        f"{name} no está en UTF-8 (parece Latin-1/Windows-1252); se calificó igualmente. Guárdalo como UTF-8.",
        f"{name} is not UTF-8 (looks like Latin-1/Windows-1252); it was graded anyway. Save it as UTF-8."),)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_regular_file(path: Path, root: Path | None, cap: int) -> bytes:
    """The bytes of a regular file inside the student's folder, at most `cap`.

    The trusted side reads submissions; a submission folder is student-controlled. A
    symlink `ex02_sequential.py -> /etc/shadow` (or -> the hidden test data) would make the
    grader read a secret as "source" and show it back in the report; a FIFO or
    /dev/zero would hang it or fill its memory. So: the real path must stay inside the
    student's folder, the file must be a regular file, and no more than `cap` bytes are read.
    """
    name = path.name
    base = os.path.realpath(root if root is not None else path.parent)
    real = os.path.realpath(path)
    if not _within(real, base):
        raise SubmissionError(Msg(
            f"{name} es un enlace simbólico que apunta fuera de tu carpeta de entrega; entrega el archivo en sí",
            f"{name} is a symbolic link pointing outside your submission folder; hand in the file itself"))
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SubmissionError(Msg(f"no se puede leer {name}: {exc.strerror}",
                                  f"cannot read {name}: {exc.strerror}")) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SubmissionError(Msg(f"{name} es una carpeta, no un archivo", f"{name} is a folder, not a file"))
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(Msg(f"{name} no es un archivo normal (es un dispositivo, una tubería o un socket)",
                                      f"{name} is not a regular file (it is a device, a pipe or a socket)"))
        if info.st_size > cap:
            raise SubmissionError(Msg(
                f"{name} es demasiado grande ({info.st_size // 1024} KB; máximo {cap // 1024} KB)",
                f"{name} is too large ({info.st_size // 1024} KB; at most {cap // 1024} KB)"))
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:       # grew while being read
            raise SubmissionError(Msg(f"{name} es demasiado grande (máximo {cap // 1024} KB)",
                                      f"{name} is too large (at most {cap // 1024} KB)"))
        return b"".join(chunks)
    except OSError as exc:
        raise SubmissionError(Msg(f"no se puede leer {name}: {exc.strerror}",
                                  f"cannot read {name}: {exc.strerror}")) from None
    finally:
        os.close(fd)


def read_submission(path: Path, root: Path | None = None) -> SourceFile:
    """Read one submitted file. `root` is the student's folder (default: the file's own
    folder); the file may be a symlink only to somewhere inside it."""
    name = path.name
    if path.is_dir() and not path.is_symlink():
        raise SubmissionError(Msg(f"{name} es una carpeta, no un archivo", f"{name} is a folder, not a file"))
    is_notebook = path.suffix.lower() == ".ipynb"
    cap = MAX_NOTEBOOK_BYTES if is_notebook else MAX_SOURCE_BYTES
    data = _read_regular_file(path, root, cap)
    if not data.strip():
        raise SubmissionError(Msg(f"{name} está vacío", f"{name} is empty"))
    if is_notebook:
        from tfgrade.intake.notebooks import notebook_to_source

        nb = notebook_to_source(data, name)
        return SourceFile(path, nb.source, tuple(nb.warnings), data)
    text, warnings = decode_python(data, name)
    return SourceFile(path, text, warnings, data)
