"""Every error the grader reports to a user, each with a clear bilingual __str__."""

from __future__ import annotations

from tfgrade.i18n import Lang, Msg, default_lang


class TfgradeError(Exception):
    """Base class: an error we explain to the user instead of showing a traceback."""

    def __init__(self, msg: Msg) -> None:
        super().__init__(msg.en)
        self.msg = msg

    def text(self, lang: Lang | None = None) -> str:
        return self.msg.get(lang or default_lang())

    def __str__(self) -> str:
        return self.text()


class PackError(TfgradeError):
    """The exercise pack or course configuration is broken (an instructor problem)."""


class UnknownExercise(TfgradeError):
    """A file name that matches no exercise."""


class DatasetError(TfgradeError):
    """A dataset (bundled or the instructor's own) cannot be loaded or has the wrong shape."""


class ProtocolError(TfgradeError):
    """The sandbox sent bytes that are not a valid frame (never trusted, never a crash)."""

    def __init__(self, detail: str) -> None:
        super().__init__(Msg(f"error de protocolo con el sandbox: {detail}",
                             f"sandbox protocol error: {detail}"))
        self.detail = detail


class SandboxError(TfgradeError):
    """The sandbox could not be started or stopped responding."""


class SubmissionError(TfgradeError):
    """A submission file cannot be read as source (binary, directory, too large…)."""


class DuplicateStudentError(TfgradeError):
    """Two submission folders map to the same student key: their results would merge."""

    def __init__(self, first: object, second: object, key: str) -> None:
        super().__init__(Msg(
            f"dos carpetas corresponden al mismo estudiante ({key!r}): {first} y {second}. "
            "Sus resultados, informes y filas se mezclarían: renombra o retira una de ellas "
            "(con una descarga de Moodle, cada carpeta lleva el id del participante).",
            f"two folders map to the same student ({key!r}): {first} and {second}. "
            "Their results, reports and gradebook rows would merge: rename or remove one of them "
            "(in a Moodle download each folder carries the participant's id)."))
        self.first, self.second, self.key = first, second, key
