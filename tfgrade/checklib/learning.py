"""Checks of exercises that train a model: the training call, its time and curves, and the
held-out metric with partial credit.

The held-out labels live only in the `datasets.Split` on this (trusted) side: the sandbox
gets the training data and the held-out inputs, never the held-out labels.
A metric below its full-points line fails with `score_fraction` in its details (the share
of its points it still earns, from tfgrade.pack.metrics.partial_credit); both lines come from
the exercise's `[params]` through the caller.
Their words are in tfgrade/messages/learning.toml (`GRADER`); an exercise supplies its own
nouns and measured metric (HeldOutWording) from its messages.toml.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tfgrade.catalogue import GRADER
from tfgrade.checklib.phrases import fill
from tfgrade.checklib.wording import describe
from tfgrade.engine.proxy import CallInfo, StudentProxy
from tfgrade.engine.returned import ModelHandle, ModelSpec, UnverifiableModel
from tfgrade.engine.verdicts import Recorder, fail
from tfgrade.i18n import Msg
from tfgrade.pack import datasets, metrics


@dataclass
class Called:
    """What a student call returned, with that call's time on the trusted side's clock and
    the counters the student's process reported (hints only)."""

    function: str
    value: Any
    events: dict[str, int]
    duration_s: float
    reported: bool = False          # the full "wrong kind of value" message is given once

    @classmethod
    def after(cls, function: str, value: Any, last: CallInfo) -> Called:
        """Keep the call's own events and time: `student.last` moves on with the next call."""
        return cls(function, value, dict(last.events), last.duration_s)


def train(student: StudentProxy, function: str, split: datasets.Split) -> Called:
    """`function(x_train, y_train)` in the sandbox, under the exercise's training time limit."""
    value = student.train(function, np.array(split.x_train), np.array(split.y_train))
    return Called.after(function, value, student.last)


def require_model(called: Called, describe_value: Callable[[Any], str] = describe) -> ModelSpec:
    """The trained model's spec, or a failure: explained on the first check, short after."""
    if isinstance(called.value, ModelHandle):
        return called.value.spec
    name = called.function
    if not called.reported and isinstance(called.value, UnverifiableModel):
        called.reported = True
        fail(called.value.msg, expected="built-in Keras model", found="unverifiable keras.Model")
    if not called.reported:
        called.reported = True
        found = describe_value(called.value)
        fail(GRADER("learning_not_a_model", function=name, found=found), expected="keras.Model", found=found)
    fail(GRADER("learning_no_model_not_evaluated", function=name))


def check_compiled_before_fit(spec: ModelSpec, call: str, record: Recorder) -> None:
    """The trained model was compiled; `call` is the compile call to suggest."""
    if not spec.compiled:
        fail(GRADER("learning_not_compiled", call=call), expected="compiled", found="not compiled",
             layers=spec.summary_rows())
    record(GRADER("learning_compiled", optimizer=spec.optimizer, loss=spec.loss), layers=spec.summary_rows())


# --------------------------------------------------------------------------- time and curves


def last_curves(spec: ModelSpec) -> dict[str, Any]:
    """Details for the report: the curves of the model's last fit (if it was fitted here)."""
    if not spec.histories:
        return {}
    last = spec.histories[-1]
    return {"curves": last.get("curves", {}), "epochs": last.get("epochs", 0), "fits": len(spec.histories)}


def record_training_time(trained: Called, record: Recorder) -> None:
    """The "trains in time" check. The limit is enforced by the trusted side's clock (a call
    over it raises StudentError("timeout") in the fixture), and the time shown is that
    clock's: reaching here means the training function returned in time."""
    record(GRADER("learning_training_time", function=trained.function, seconds=trained.duration_s),
           duration_s=round(trained.duration_s, 3), self_reported_fit_calls=int(trained.events.get("fit", 0)),
           # The curves are the student's own training data: shown here, on a visible check.
           **(last_curves(trained.value.spec) if isinstance(trained.value, ModelHandle) else {}))


# --------------------------------------------------------------------------- held-out metric


def convert_or_fail(convert: Callable[[npt.ArrayLike, int], metrics.Predictions], outputs: np.ndarray,
                    n_test: int, expected: Any) -> metrics.Predictions:
    """Labels or values from the model's outputs (metrics.outputs_to_labels / _to_values);
    outputs of a shape the task cannot read fail the check, saying which shape was expected."""
    try:
        return convert(outputs, n_test)
    except metrics.PredictionShapeError as exc:
        fail(exc.msg, expected=expected, found=list(np.shape(outputs)))


def classification_details(spec: ModelSpec, split: datasets.Split, predictions: metrics.Predictions,
                           labels: Sequence[str]) -> tuple[float, dict[str, Any]]:
    """Held-out accuracy and the report's details: curves, confusion matrix over `labels`."""
    accuracy = metrics.accuracy(split.y_test, predictions.values)
    counts = metrics.confusion_counts(split.y_test, predictions.values, len(labels))
    return accuracy, {**last_curves(spec), "accuracy": round(accuracy, 4), "n_test": split.n_test,
                      "confusion_matrix": {"counts": counts, "labels": list(labels)},
                      "n_invalid": predictions.n_invalid}


@dataclass(frozen=True)
class HeldOutWording:
    """How one held-out result reads; the check supplies its metric and its nouns (from its
    messages.toml), the templates around them are learning.toml's."""

    measured: Msg       # "exactitud 0,812" / "accuracy 0.812"
    unseen: Msg         # "332 pacientes que el modelo no había visto" / "332 patients the model had not seen"
    held_out: Msg       # "los 332 pacientes reservados" / "the 332 held-out patients"
    metric: str         # the metric in `expected`: "accuracy", "MAE"
    higher_is_better: bool  # accuracy: True ("≥", "desde"); an error: False ("≤", "hasta")


PUBLIC_DATA = GRADER("learning_public_held_out")


def plausibility_ceiling(exercise: Any) -> float | None:
    """The best metric the data allows, measured by `tfgrade validate` on the reference
    solution (plus a margin) and stored with the pack as `plausibility.json`."""
    path = Path(exercise.folder) / PLAUSIBILITY_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("ceiling")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


PLAUSIBILITY_FILE = "plausibility.json"


def integrity_details(value: float, split: datasets.Split, ceiling: float | None,
                      higher_is_better: bool, metric: str) -> dict[str, Any]:
    """Flags for the instructor (they change no score): graded on public data, and a metric
    beyond what the data allows (memorised labels?). Each is a message (Msg.to_json())."""
    out: dict[str, Any] = {}
    if split.public:
        out["public_held_out"] = PUBLIC_DATA.to_json()
    if ceiling is not None and math.isfinite(value) and (value > ceiling if higher_is_better else value < ceiling):
        out["implausible"] = GRADER("learning_implausible", metric=metric, value=value, ceiling=ceiling,
                                    sign="≤" if higher_is_better else "≥").to_json()
    return out


def grade_held_out(value: float, full_at: float, zero_at: float, wording: HeldOutWording,
                   details: dict[str, Any], record: Recorder, hints: Callable[[], Msg]) -> None:
    """Full points at or beyond `full_at`, none at or beyond `zero_at`, linear between
    (metrics.partial_credit takes the direction from the two lines; the wording says it).

    Below full points the check fails with `score_fraction`, and the `hints` (computed only
    then) follow the numbers.
    """
    fraction = metrics.partial_credit(value, full_at, zero_at)
    higher = wording.higher_is_better
    if fraction >= 1.0:
        record(fill(GRADER, "learning_held_out_full_from" if higher else "learning_held_out_full_up_to",
                    measured=wording.measured, unseen=wording.unseen, full_at=full_at), **details)
        return
    full_sign, zero_sign = ("≥", "≤") if higher else ("≤", "≥")
    said = fill(GRADER, "learning_held_out_partial", measured=wording.measured, held_out=wording.held_out,
                full_sign=full_sign, full_at=full_at, zero_sign=zero_sign, zero_at=zero_at, fraction=fraction)
    fail(said + hints(),
         expected=f"{wording.metric} {full_sign} {full_at:g}",
         found=round(value, 4) if math.isfinite(value) else "inf", score_fraction=round(fraction, 4),
         **details)


# --------------------------------------------------------------------------- leaderboard figures

# The course's [leaderboard] table sets the share (tfgrade.pack.leaderboard, through the
# exercise's params); a pack graded without one records the figures at this share.
PUBLIC_SHARE_PARAM = "leaderboard_public_share"
DEFAULT_PUBLIC_SHARE = 0.5
LEADERBOARD_DETAILS = "leaderboard"


def public_rows(n_test: int, seed: int, exercise_id: str, share: float = DEFAULT_PUBLIC_SHARE) -> np.ndarray:
    """Which held-out rows are public (a boolean mask): round(share·n) rows drawn from the
    course seed and the exercise, never from anything the student sends; at least one row
    on each side. The rest are private."""
    mask = np.zeros(n_test, dtype=bool)
    if n_test < 2:
        return mask
    k = min(n_test - 1, max(1, int(round(share * n_test))))
    rng = np.random.default_rng([int(seed), 0x1EAD, zlib.crc32(exercise_id.encode("utf-8"))])
    mask[rng.permutation(n_test)[:k]] = True
    return mask


def _figure(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def leaderboard_details(metric: Callable[[np.ndarray, np.ndarray], float], y_true: np.ndarray,
                        y_pred: np.ndarray, *, name: str, higher_is_better: bool, seed: int,
                        exercise_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard's figures, computed here from the held-out labels and the clean
    process's predictions: `metric` on the public rows, on the private rows and on all of
    them (the score stays on all of them). One details key, LEADERBOARD_DETAILS; a
    non-finite figure (an infinite MAE) is None, and None is never on a board."""
    share = float(params.get(PUBLIC_SHARE_PARAM, DEFAULT_PUBLIC_SHARE))
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    public = public_rows(int(y_true.shape[0]), seed, exercise_id, share)
    if not public.any():
        return {}
    return {LEADERBOARD_DETAILS: {
        "metric": name, "higher_is_better": higher_is_better,
        "public": _figure(metric(y_true[public], y_pred[public])),
        "private": _figure(metric(y_true[~public], y_pred[~public])),
        "whole": _figure(metric(y_true, y_pred)),
        "n_public": int(public.sum()), "n_private": int((~public).sum())}}
