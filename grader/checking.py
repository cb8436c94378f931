"""What checks.py files use: `fail`, `not_applicable`, and the `record` fixture's recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from .i18n import Msg


class CheckFailed(Exception):
    """A check's verdict: the message is the student's feedback (expected vs found)."""

    def __init__(self, msg: Msg, details: dict[str, Any]) -> None:
        super().__init__(msg.en)
        self.msg = msg
        self.details = details


class NotApplicable(Exception):
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


def fail(es: str, en: str, *, expected: Any = None, found: Any = None, **details: Any) -> NoReturn:
    extra = {k: _jsonable(v) for k, v in details.items()}
    if expected is not None:
        extra["expected"] = _jsonable(expected)
    if found is not None:
        extra["found"] = _jsonable(found)
    raise CheckFailed(Msg(es, en), extra)


def not_applicable(es: str, en: str) -> NoReturn:
    raise NotApplicable(Msg(es, en))


@dataclass
class Recorder:
    """Given to a check as the `record` fixture: success feedback and report details."""

    feedback: Msg | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __call__(self, es: str | None = None, en: str | None = None, **details: Any) -> None:
        if es is not None or en is not None:
            self.feedback = Msg(es or en or "", en or es or "")
        self.details.update({k: _jsonable(v) for k, v in details.items()})
