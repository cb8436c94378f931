"""The behaviour probe: a fixed input on which a returned model and its archive must agree.

Keras writes a user's function named `relu` into the archive as the built-in "relu", and a
layer whose `units` was re-assigned saves the false number. So the archive is checked
against the model it came from: the student's child runs the model it returned on this
probe, the clean process runs the archive on the same probe (rebuilt here from the
archive's verified input shape), and the two must agree. Numpy only: both sides import it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PROBE_ROWS = 8
RTOL = 1e-3


def probe_input(input_shape: Sequence[int | None] | None, seed: int) -> np.ndarray | None:
    """PROBE_ROWS rows of the model's input shape, or None when the shape is not fully known."""
    if not input_shape or len(input_shape) < 2:
        return None
    dims: list[int] = []
    for d in input_shape[1:]:
        if not isinstance(d, int) or d <= 0:
            return None
        dims.append(d)
    if int(np.prod(dims)) > 1_000_000:
        return None
    rng = np.random.default_rng([int(seed), 7919])
    return rng.uniform(0.0, 1.0, (PROBE_ROWS, *dims)).astype(np.float32)


def agree(found: np.ndarray, expected: np.ndarray) -> bool:
    """Same shape, same values up to float32 round-off (relative to the largest output)."""
    if found.shape != expected.shape or not np.all(np.isfinite(expected)):
        return found.shape == expected.shape and bool(np.array_equal(found, expected, equal_nan=True))
    scale = max(1.0, float(np.max(np.abs(expected))))
    return bool(np.max(np.abs(found.astype(np.float64) - expected.astype(np.float64))) <= RTOL * scale)
