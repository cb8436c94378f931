"""Metrics computed on the trusted side from a model's raw outputs (pure numpy).

The sandbox only ever sends back what the student's model predicted; the held-out labels
stay here.  Everything a student could get wrong in those outputs (a wrong shape, NaN,
infinities) is turned into a clear bilingual note or error instead of a crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tfgrade.i18n import Msg

# A label no real class has: a prediction that is NaN/inf becomes this and is always wrong.
INVALID_LABEL = -1


class PredictionShapeError(ValueError):
    """The model's outputs do not have a shape the task can read (a student mistake)."""

    def __init__(self, msg: Msg) -> None:
        super().__init__(msg.en)
        self.msg = msg


@dataclass(frozen=True)
class Predictions:
    """Model outputs turned into comparable values, plus what had to be discarded."""

    values: np.ndarray          # class labels (int64) or regression values (float64)
    n_invalid: int              # outputs that were NaN or infinite
    note: Msg | None            # bilingual note when n_invalid > 0


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Fraction of equal labels; 0.0 for empty input."""
    t, p = _same_length(y_true, y_pred)
    if t.size == 0:
        return 0.0
    return float(np.mean(t == p))


def mean_absolute_error(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """MAE; a non-finite prediction makes it infinite (it is a wrong prediction, not a skip)."""
    t, p = _same_length(y_true, y_pred)
    if t.size == 0:
        return math.inf
    p = p.astype(np.float64)
    if not np.all(np.isfinite(p)):
        return math.inf
    return float(np.mean(np.abs(t.astype(np.float64) - p)))


def confusion_counts(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, n_classes: int) -> list[list[int]]:
    """counts[i][j] = examples of true class i predicted as j.

    Predictions outside 0..n_classes-1 (for example INVALID_LABEL) are not in any column:
    a row's sum can then be smaller than that class's support, which is what happened.
    """
    t, p = _same_length(y_true, y_pred)
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    ok = (p >= 0) & (p < n_classes) & (t >= 0) & (t < n_classes)
    np.add.at(counts, (t[ok], p[ok]), 1)
    return [[int(c) for c in row] for row in counts]


def partial_credit(value: float, full_at: float, zero_at: float,
                   higher_is_better: bool | None = None) -> float:
    """Fraction of the points in [0, 1]: 1 at or beyond `full_at`, 0 at or beyond `zero_at`.

    The direction comes from the two ends: accuracy has full_at > zero_at (higher is
    better), MAE has full_at < zero_at (lower is better).  Between them the credit falls
    linearly.  When both ends are equal the line is a step and `higher_is_better` must say
    which side passes.  NaN earns nothing.
    """
    if full_at == zero_at:
        if higher_is_better is None:
            raise ValueError("full_at == zero_at: say higher_is_better")
        higher = higher_is_better
    else:
        higher = full_at > zero_at
        if higher_is_better is not None and higher_is_better != higher:
            raise ValueError(f"full_at={full_at}, zero_at={zero_at} contradict higher_is_better={higher_is_better}")
    if math.isnan(value):
        return 0.0
    if (value >= full_at) if higher else (value <= full_at):
        return 1.0
    if (value <= zero_at) if higher else (value >= zero_at):
        return 0.0
    return float((value - zero_at) / (full_at - zero_at))


def outputs_to_labels(outputs: npt.ArrayLike, n_examples: int) -> Predictions:
    """Class labels from a classifier's outputs.

    Shape (N,) or (N, 1): one sigmoid unit, label 1 when the output is >= 0.5.
    Shape (N, k), k >= 2: k softmax units (or logits), label = argmax.
    Any other shape raises PredictionShapeError; a row with NaN/inf becomes INVALID_LABEL.
    """
    out = _numeric_rows(outputs, n_examples)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        column = out.reshape(-1)
        bad = ~np.isfinite(column)
        labels = (column >= 0.5).astype(np.int64)
    elif out.ndim == 2:
        bad = ~np.all(np.isfinite(out), axis=1)
        labels = np.argmax(np.where(np.isfinite(out), out, -np.inf), axis=1).astype(np.int64)
    else:
        raise PredictionShapeError(Msg(
            f"las predicciones tienen forma {out.shape}; se esperaba (N,), (N, 1) o (N, clases)",
            f"predictions have shape {out.shape}; expected (N,), (N, 1) or (N, classes)"))
    labels[bad] = INVALID_LABEL
    return Predictions(labels, int(bad.sum()), _invalid_note(int(bad.sum()), n_examples))


def outputs_to_values(outputs: npt.ArrayLike, n_examples: int) -> Predictions:
    """Regression values from outputs of shape (N,) or (N, 1); NaN/inf are counted."""
    out = _numeric_rows(outputs, n_examples)
    if not (out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1)):
        raise PredictionShapeError(Msg(
            f"una regresión debe dar un valor por ejemplo: forma (N, 1); hay {out.shape}",
            f"a regression must give one value per example: shape (N, 1); found {out.shape}"))
    values = out.reshape(-1)
    n_bad = int((~np.isfinite(values)).sum())
    return Predictions(values, n_bad, _invalid_note(n_bad, n_examples))


def _numeric_rows(outputs: npt.ArrayLike, n_examples: int) -> np.ndarray:
    """The outputs as float64, one row per example; anything else is a PredictionShapeError."""
    out = np.asarray(outputs)
    if out.dtype.kind not in "fiub":
        raise PredictionShapeError(Msg(
            f"las predicciones deberían ser números, son de tipo {out.dtype}",
            f"predictions should be numbers, they are of type {out.dtype}"))
    out = out.astype(np.float64)
    _check_rows(out, n_examples)
    return out


def _check_rows(out: np.ndarray, n_examples: int) -> None:
    if out.ndim == 0 or out.shape[0] != n_examples:
        found = "un escalar" if out.ndim == 0 else f"{out.shape[0]}"
        found_en = "a scalar" if out.ndim == 0 else f"{out.shape[0]}"
        raise PredictionShapeError(Msg(
            f"se esperaba una predicción por ejemplo ({n_examples}), hay {found} (forma {out.shape})",
            f"expected one prediction per example ({n_examples}), found {found_en} (shape {out.shape})"))


def _invalid_note(n_bad: int, n_examples: int) -> Msg | None:
    if n_bad == 0:
        return None
    return Msg(
        f"{n_bad} de {n_examples} predicciones son NaN o infinitas y cuentan como erróneas "
        "(¿diverge el entrenamiento? prueba una tasa de aprendizaje menor o normaliza las entradas)",
        f"{n_bad} of {n_examples} predictions are NaN or infinite and count as wrong "
        "(is training diverging? try a smaller learning rate or normalise the inputs)")


def _same_length(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"{t.size} labels but {p.size} predictions")
    return t, p
