"""tfgrade.pack.metrics: accuracy, MAE, confusion counts, the partial-credit line, outputs → labels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfgrade.pack import metrics
from tfgrade.pack.metrics import INVALID_LABEL, PredictionShapeError

# --------------------------------------------------------------------------- accuracy / MAE


def test_accuracy_counts_equal_labels() -> None:
    assert metrics.accuracy([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    assert metrics.accuracy([], []) == 0.0


def test_accuracy_rejects_different_lengths() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        metrics.accuracy([0, 1, 1], [0, 1])


def test_invalid_label_is_always_wrong() -> None:
    assert metrics.accuracy([0, 1], [INVALID_LABEL, 1]) == 0.5


def test_mae() -> None:
    assert metrics.mean_absolute_error([1.0, 2.0, 3.0], [2.0, 2.0, 1.0]) == pytest.approx(1.0)


def test_mae_of_non_finite_predictions_is_infinite() -> None:
    assert metrics.mean_absolute_error([1.0, 2.0], [1.0, float("nan")]) == math.inf
    assert metrics.mean_absolute_error([1.0, 2.0], [np.inf, 2.0]) == math.inf


def test_confusion_counts() -> None:
    counts = metrics.confusion_counts([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3)
    assert counts == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert all(isinstance(c, int) for row in counts for c in row)   # JSON-ready


def test_confusion_counts_leave_invalid_predictions_out() -> None:
    counts = metrics.confusion_counts([0, 1, 1], [0, INVALID_LABEL, 1], 2)
    assert counts == [[1, 0], [0, 1]]   # the second row sums to 1 of its 2 examples


# --------------------------------------------------------------------------- partial credit


@pytest.mark.parametrize(("value", "expected"), [
    (0.80, 1.0), (0.75, 1.0), (0.70, 0.5), (0.65, 0.0), (0.10, 0.0), (0.725, 0.75)])
def test_partial_credit_higher_is_better(value: float, expected: float) -> None:
    assert metrics.partial_credit(value, full_at=0.75, zero_at=0.65) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "expected"), [
    (1.5, 1.0), (2.2, 1.0), (2.85, 0.5), (3.5, 0.0), (40.0, 0.0), (math.inf, 0.0)])
def test_partial_credit_lower_is_better(value: float, expected: float) -> None:
    assert metrics.partial_credit(value, full_at=2.2, zero_at=3.5) == pytest.approx(expected)


def test_partial_credit_nan_earns_nothing() -> None:
    assert metrics.partial_credit(float("nan"), 0.75, 0.65) == 0.0
    assert metrics.partial_credit(float("nan"), 2.2, 3.5) == 0.0


def test_partial_credit_step_needs_a_direction() -> None:
    with pytest.raises(ValueError, match="higher_is_better"):
        metrics.partial_credit(0.9, 0.9, 0.9)
    assert metrics.partial_credit(0.9, 0.9, 0.9, higher_is_better=True) == 1.0
    assert metrics.partial_credit(0.89, 0.9, 0.9, higher_is_better=True) == 0.0
    assert metrics.partial_credit(0.89, 0.9, 0.9, higher_is_better=False) == 1.0


def test_partial_credit_rejects_a_contradicting_direction() -> None:
    with pytest.raises(ValueError, match="contradict"):
        metrics.partial_credit(0.7, 0.75, 0.65, higher_is_better=False)


@given(st.floats(min_value=-10, max_value=10, allow_nan=False),
       st.floats(min_value=-5, max_value=5), st.floats(min_value=0.01, max_value=5),
       st.booleans())
def test_partial_credit_is_a_monotone_fraction(value: float, base: float, width: float, higher: bool) -> None:
    full_at, zero_at = (base + width, base) if higher else (base, base + width)
    credit = metrics.partial_credit(value, full_at, zero_at)
    assert 0.0 <= credit <= 1.0
    better = value + 0.01 if higher else value - 0.01
    assert metrics.partial_credit(better, full_at, zero_at) >= credit


# --------------------------------------------------------------------------- outputs → labels


def test_one_sigmoid_unit_thresholds_at_half() -> None:
    out = np.array([[0.1], [0.5], [0.9], [0.49]])
    pred = metrics.outputs_to_labels(out, 4)
    assert pred.values.tolist() == [0, 1, 1, 0]
    assert pred.values.dtype == np.int64
    assert pred.n_invalid == 0 and pred.note is None


def test_flat_vector_is_one_unit() -> None:
    assert metrics.outputs_to_labels(np.array([0.2, 0.7]), 2).values.tolist() == [0, 1]


def test_softmax_units_take_the_argmax() -> None:
    out = np.array([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]])   # a tie goes to the first class
    assert metrics.outputs_to_labels(out, 3).values.tolist() == [0, 1, 0]
    ten = np.eye(10)[[3, 9, 0]] * 0.9 + 0.01
    assert metrics.outputs_to_labels(ten, 3).values.tolist() == [3, 9, 0]


def test_nan_and_inf_predictions_count_as_wrong_with_a_bilingual_note() -> None:
    out = np.array([[0.9], [np.nan], [np.inf], [0.1]])
    pred = metrics.outputs_to_labels(out, 4)
    assert pred.values.tolist() == [1, INVALID_LABEL, INVALID_LABEL, 0]
    assert pred.n_invalid == 2
    assert pred.note is not None
    assert "2 of 4 predictions are NaN or infinite" in pred.note.en
    assert "2 de 4 predicciones son NaN o infinitas" in pred.note.es
    assert metrics.accuracy([1, 1, 1, 0], pred.values) == 0.5


def test_a_nan_in_a_softmax_row_makes_that_row_wrong() -> None:
    out = np.array([[0.1, np.nan, 0.2], [0.1, 0.8, 0.1]])
    pred = metrics.outputs_to_labels(out, 2)
    assert pred.values.tolist() == [INVALID_LABEL, 1]
    assert pred.n_invalid == 1


@pytest.mark.parametrize("out", [np.zeros((3, 1)), np.zeros((5, 2)), np.zeros(()), np.zeros((4, 2, 2))])
def test_wrong_shapes_raise_a_bilingual_error(out: np.ndarray) -> None:
    with pytest.raises(PredictionShapeError) as info:
        metrics.outputs_to_labels(out, 4)
    assert info.value.msg.es and info.value.msg.en
    assert info.value.msg.es != info.value.msg.en


def test_non_numeric_outputs_are_rejected() -> None:
    with pytest.raises(PredictionShapeError, match="numbers"):
        metrics.outputs_to_labels(np.array(["a", "b"]), 2)


def test_regression_values() -> None:
    pred = metrics.outputs_to_values(np.array([[1.5], [2.5]]), 2)
    assert pred.values.tolist() == [1.5, 2.5]
    assert pred.n_invalid == 0


def test_regression_counts_non_finite_values() -> None:
    pred = metrics.outputs_to_values(np.array([[1.0], [np.nan]]), 2)
    assert pred.n_invalid == 1
    assert pred.note is not None and "1 of 2" in pred.note.en
    assert metrics.mean_absolute_error([1.0, 2.0], pred.values) == math.inf


def test_regression_rejects_several_outputs() -> None:
    with pytest.raises(PredictionShapeError) as info:
        metrics.outputs_to_values(np.zeros((3, 2)), 3)
    assert "one value per example" in info.value.msg.en
    assert "un valor por ejemplo" in info.value.msg.es
