"""What a check may require of the grading machine, and the one rule for a machine that lacks it.

A check declares what it needs in exercise.toml (`requires = "gpu"`). The rule, the same
everywhere: **a check that requires a GPU is not applicable where the grading machine has
none, and its points leave the total** — whether the file was graded, missing or
unreadable, so that every student's maximum is the same on one machine.

The grader applies it to every exercise result (`apply`); the engine's `not_graded` and a
check that tests the GPU itself (ex05's `on_gpu`) say it with the same words: `NO_GPU`
(`not_applicable(NO_GPU)` from a check). Nothing here imports TensorFlow: the device list
comes from the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from tfgrade.catalogue import GRADER
from tfgrade.i18n import Msg

if TYPE_CHECKING:
    from tfgrade.engine.results import ExerciseResult
    from tfgrade.pack.course import CheckSpec, Exercise

GPU = "gpu"

NO_GPU = GRADER("no_gpu")     # the one wording of the rule (tfgrade/messages/plugin.toml)

# The message told for each requirement the machine lacks.
MESSAGES: dict[str, Msg] = {GPU: NO_GPU}

_GPU_DEVICE = re.compile(r"(?:^|[/:])GPU:\d+$")


def has_gpu(devices: Iterable[str]) -> bool:
    """Whether a device list ('/CPU:0', '/GPU:0', '/job:…/device:GPU:0') holds a GPU."""
    return any(_GPU_DEVICE.search(str(d).strip()) for d in devices)


def machine_features(devices: Iterable[str]) -> frozenset[str]:
    """What a machine with these devices offers among the requirements checks may declare."""
    return frozenset({GPU}) if has_gpu(devices) else frozenset()


def required_by(exercise: Exercise) -> frozenset[str]:
    """Every requirement declared by the exercise's checks."""
    return frozenset(c.requires for c in exercise.checks if c.requires)


def lacking(exercise: Exercise, devices: Iterable[str]) -> frozenset[str]:
    """The requirements of the exercise's checks that a machine with these devices lacks
    (only the ones the rule knows: an unknown requirement never takes a check away)."""
    return frozenset(r for r in required_by(exercise) if r in MESSAGES) - machine_features(devices)


def applies(check: CheckSpec, missing: frozenset[str]) -> bool:
    """False for a check whose requirement this machine lacks."""
    return not (check.requires and check.requires in missing)


def message(check: CheckSpec) -> Msg:
    """Why the check does not apply here (for a check whose requirement is missing)."""
    return MESSAGES.get(check.requires or "", NO_GPU)


def apply(result: ExerciseResult, exercise: Exercise, missing: frozenset[str]) -> ExerciseResult:
    """The rule on an ExerciseResult: each check whose requirement this machine lacks is
    not applicable, scores 0 and leaves the total, with the rule's message. What the check
    recorded (its details) is kept; everything else of the result is unchanged."""
    if not missing:
        return result
    specs = {c.id: c for c in exercise.checks}
    checks = tuple(
        replace(c, status="not_applicable", points=0.0, feedback=message(specs[c.id]))
        if c.id in specs and not applies(specs[c.id], missing) else c
        for c in result.checks)
    return replace(result, checks=checks)
