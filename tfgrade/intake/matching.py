"""Match submitted file names to exercise ids, tolerant of LMS and Colab renames."""

from __future__ import annotations

import re
import unicodedata

SUFFIXES = (".py", ".ipynb")
_NOISE = [
    re.compile(r"^(copia de|copy of)\s+", re.I),
    re.compile(r"\s*\(\d+\)$"),           # "ex06 (1)"
    re.compile(r"\s*-\s*copia$", re.I),
    re.compile(r"[_-]?v\d+$", re.I),
]


def _normalise(stem: str) -> str:
    stem = unicodedata.normalize("NFKC", stem).strip()
    changed = True
    while changed:
        changed = False
        for pattern in _NOISE:
            new = pattern.sub("", stem).strip()
            if new != stem:
                stem, changed = new, True
    return re.sub(r"[\s-]+", "_", stem).lower()


def match_exercise(filename: str, ids: tuple[str, ...]) -> str | None:
    """`ex06_diabetes_mlp.py`, `Copia de ex06_diabetes_mlp.ipynb`, `ex06_diabetes_mlp (1).py`
    all answer ex06_diabetes_mlp; a bare `ex06.py` does too when unambiguous."""
    lower = filename.lower()
    suffix = next((s for s in SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        return None
    stem = _normalise(filename[: -len(suffix)])
    if stem in ids:
        return stem
    prefixed = [i for i in ids if stem.startswith(i) or i.startswith(stem + "_") or i.split("_")[0] == stem]
    return prefixed[0] if len(prefixed) == 1 else None
