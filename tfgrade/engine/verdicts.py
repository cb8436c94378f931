"""What checks.py files use: `fail`, `not_applicable`, and the `record` fixture's recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from tfgrade.i18n import Msg


class CheckFailed(BaseException):
    """A check's verdict: the message is the student's feedback (expected vs found).
    A BaseException, as pytest's own outcomes are: a check's `except Exception` around a
    helper cannot swallow the verdict."""

    def __init__(self, msg: Msg, details: dict[str, Any], score_fraction: float | None = None) -> None:
        super().__init__(msg.en)
        self.msg = msg
        self.details = details
        self.score_fraction = score_fraction


class NotApplicable(BaseException):
    """The check cannot apply on this machine (e.g. no GPU): its points leave the total."""

    def __init__(self, msg: Msg) -> None:
        super().__init__(msg.en)
        self.msg = msg


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)[:500]


# Keys of `details` that carry verdict signals: a check may not set them through fail/record.
RESERVED_DETAILS = frozenset({"student_error", "grader_error", "tampering", "score_fraction"})


def _message(es: str | Msg | None, en: str | None) -> Msg:
    if isinstance(es, Msg):
        return es
    return Msg(es or en or "", en or es or "")


def _details(details: dict[str, Any]) -> dict[str, Any]:
    reserved = RESERVED_DETAILS & set(details)
    if reserved:
        raise ValueError(f"reserved detail keys {sorted(reserved)}: verdict signals are not set by checks")
    return {k: _jsonable(v) for k, v in details.items()}


def fail(es: str | Msg, en: str | None = None, *, expected: Any = None, found: Any = None,
         score_fraction: float | None = None, **details: Any) -> NoReturn:
    """The check fails with this feedback: a catalogue `Msg` (`messages("key", …)`) or the two
    texts. `score_fraction` (0–1) is partial credit; the engine turns it into points."""
    extra = _details(details)
    if expected is not None:
        extra["expected"] = _jsonable(expected)
    if found is not None:
        extra["found"] = _jsonable(found)
    raise CheckFailed(_message(es, en), extra, score_fraction)


def not_applicable(es: str | Msg, en: str | None = None) -> NoReturn:
    raise NotApplicable(_message(es, en))


@dataclass
class Recorder:
    """Given to a check as the `record` fixture: success feedback and report details."""

    feedback: Msg | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __call__(self, es: str | Msg | None = None, en: str | None = None, **details: Any) -> None:
        if es is not None or en is not None:
            self.feedback = _message(es, en)
        self.details.update(_details(details))
