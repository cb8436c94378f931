"""Read a submitted file as source text, or explain clearly why it cannot be graded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import SubmissionError
from .i18n import Msg

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


def read_submission(path: Path) -> SourceFile:
    name = path.name
    if path.is_dir():
        raise SubmissionError(Msg(f"{name} es una carpeta, no un archivo", f"{name} is a folder, not a file"))
    is_notebook = path.suffix.lower() == ".ipynb"
    cap = MAX_NOTEBOOK_BYTES if is_notebook else MAX_SOURCE_BYTES
    try:
        size = path.stat().st_size
        if size > cap:
            raise SubmissionError(Msg(
                f"{name} es demasiado grande ({size // 1024} KB; máximo {cap // 1024} KB)",
                f"{name} is too large ({size // 1024} KB; at most {cap // 1024} KB)"))
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(Msg(f"no se puede leer {name}: {exc.strerror}", f"cannot read {name}: {exc.strerror}")) from None
    if not data.strip():
        raise SubmissionError(Msg(f"{name} está vacío", f"{name} is empty"))
    if is_notebook:
        from .notebooks import notebook_to_source

        nb = notebook_to_source(data, name)
        return SourceFile(path, nb.source, tuple(nb.warnings), data)
    text, warnings = decode_python(data, name)
    return SourceFile(path, text, warnings, data)
