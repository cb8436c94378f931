"""A model's fingerprint, from what the results already carry, and which ones are unusual.

Where it comes from, and why it can be trusted: the model checks (tfgrade.checklib.keras_model,
tfgrade.checklib.learning, the exercises' checks) record the *verified* description of the
returned model in their details: `layers` (LayerSpec rows), `n_params`, `optimizer`,
`learning_rate`, `loss`, `metrics`. The trusted side wrote all of them from the model's `.keras`
archive, read after the allow-list and counted by the clean process (tfgrade.engine.keras_config);
the student's own process never describes its model (what it says about itself lands in
`self_reported_*` details, which are never read here). So a student cannot make two models
look alike, or their own look unlike a classmate's, by lying about attributes: only by
building another model. A check that saw tampering contributes nothing.

The fingerprint is canonical: layer names (auto-numbered by Keras, or chosen) are left out;
type, units, filters, kernel, strides, pool size, activation, output shape and parameters
per layer are kept, with the compile settings. It is *unusual* when few students of the
class hold it: at most `max(RARE_COUNT, RARE_SHARE × students with a fingerprint)`. The
slide's model that half the class builds is common and never flags anything.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tfgrade.engine.results import SubmissionResult

RARE_COUNT = 2          # held by at most this many students …
RARE_SHARE = 0.05       # … or by at most this share of those with a model: unusual
LAYER_KEYS = ("type", "units", "filters", "kernel_size", "strides", "pool_size", "activation",
              "output_shape", "params")
COMPILE_KEYS = ("n_params", "optimizer", "learning_rate", "loss", "metrics")
MAX_LAYERS = 200


@dataclass(frozen=True)
class ModelPrint:
    """One student's model for one exercise, canonically."""

    student: str
    exercise: str
    digest: str           # 16 hex characters of the canonical JSON's SHA-256
    summary: str          # "Dense(16, relu) → Dense(1, sigmoid) · adam lr=0.001 · binary_crossentropy"


@dataclass(frozen=True)
class ModelMatch:
    """Two students who share an unusual model fingerprint."""

    exercise: str
    a: str
    b: str
    digest: str
    summary: str
    holders: int          # how many students of the class hold it


def _scalar(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v if not isinstance(v, str) else v[:200]
    if isinstance(v, float):
        return round(v, 8) if math.isfinite(v) else str(v)
    if isinstance(v, (list, tuple)):
        return [_scalar(x) for x in v[:32]]
    return str(v)[:200]


def canonical(details: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The canonical description from a student's check details for one exercise, or None
    when no check recorded a model."""
    found: dict[str, Any] = {}
    for d in details:
        layers = d.get("layers")
        if isinstance(layers, list) and "layers" not in found:
            rows = [{k: _scalar(row.get(k)) for k in LAYER_KEYS} for row in layers[:MAX_LAYERS] if isinstance(row, dict)]
            found["layers"] = rows
        for key in COMPILE_KEYS:
            if key in d and key not in found:
                found[key] = _scalar(d[key])
    if "layers" not in found and "n_params" not in found:
        return None
    return found


def _layer_text(row: dict[str, Any]) -> str:
    inner = [str(row[k]) for k in ("units", "filters") if row.get(k) is not None]
    if row.get("kernel_size"):
        inner.append("×".join(map(str, row["kernel_size"])))
    if row.get("activation") not in (None, "linear"):
        inner.append(str(row["activation"]))
    return f"{row.get('type')}({', '.join(inner)})" if inner else str(row.get("type"))


def summary_text(desc: dict[str, Any]) -> str:
    parts = []
    if desc.get("layers"):
        parts.append(" → ".join(_layer_text(r) for r in desc["layers"]))
    if desc.get("optimizer"):
        lr = f" lr={desc['learning_rate']}" if desc.get("learning_rate") is not None else ""
        parts.append(f"{desc['optimizer']}{lr}")
    if desc.get("loss"):
        parts.append(str(desc["loss"]))
    if desc.get("n_params") is not None:
        parts.append(f"{desc['n_params']} params")
    return " · ".join(parts)


def model_prints(results: Sequence[SubmissionResult]) -> list[ModelPrint]:
    """Every (student, exercise) with a verified model description."""
    prints = []
    for result in results:
        for ex in result.exercises:
            if ex.status != "graded":
                continue
            details = [c.details for c in ex.checks if c.tampering is None and isinstance(c.details, dict)]
            desc = canonical(details)
            if desc is None:
                continue
            blob = json.dumps(desc, sort_keys=True, ensure_ascii=True)
            prints.append(ModelPrint(result.key, ex.exercise, hashlib.sha256(blob.encode()).hexdigest()[:16],
                                     summary_text(desc)))
    return prints


def rare_limit(n_with_model: int) -> int:
    return max(RARE_COUNT, math.floor(RARE_SHARE * n_with_model))


def model_matches(prints: Sequence[ModelPrint]) -> list[ModelMatch]:
    """Pairs of students who share a fingerprint that few students of the class hold."""
    by_exercise: dict[str, list[ModelPrint]] = defaultdict(list)
    for p in prints:
        by_exercise[p.exercise].append(p)
    matches = []
    for exercise, items in sorted(by_exercise.items()):
        holders: dict[str, list[ModelPrint]] = defaultdict(list)
        for p in items:
            holders[p.digest].append(p)
        limit = rare_limit(len(items))
        for digest, group in sorted(holders.items()):
            if not 2 <= len(group) <= limit:
                continue
            for left, right in itertools.combinations(sorted(group, key=lambda p: p.student), 2):
                matches.append(ModelMatch(exercise, left.student, right.student, digest, left.summary, len(group)))
    return matches
