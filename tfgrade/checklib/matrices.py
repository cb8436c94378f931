"""Well-conditioned test matrices and their float64 powers, for the M^n exercise.

They are pure functions of (size, seed, …) and cost seconds at 1024×1024, so they are cached
per grading worker: the same matrices serve every student (the check module itself is
reloaded for each student, so the cache lives here). Arrays are returned read-only.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict

import numpy as np


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@functools.lru_cache(maxsize=16)
def orthogonal(size: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """scale·Q with Q orthogonal: ‖(scale·Q)^n‖₂ = scale^n, so powers neither blow up nor vanish."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    q = q * np.sign(np.diag(r))       # a uniformly random orthogonal matrix
    return _frozen((scale * q).astype(np.float32))


@functools.lru_cache(maxsize=16)
def row_stochastic(size: int, seed: int) -> np.ndarray:
    """Positive rows that sum to 1: every power is stochastic too (a Markov chain's n steps)."""
    m = np.random.default_rng(seed).uniform(0.1, 1.0, (size, size))
    return _frozen((m / m.sum(axis=1, keepdims=True)).astype(np.float32))


class _PowerCache:
    """float64 powers by (matrix digest, n), least recently used out first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    def get(self, m: np.ndarray, n: int) -> np.ndarray:
        key = (hashlib.blake2b(np.ascontiguousarray(m).tobytes(), digest_size=16).hexdigest() + str(m.shape), n)
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = _frozen(np.linalg.matrix_power(m.astype(np.float64), n))
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


_POWERS = _PowerCache(32)


def reference(m: np.ndarray, n: int) -> np.ndarray:
    """M^n in float64 of the very float32 matrix the student received."""
    return _POWERS.get(m, n)
