"""Shared test base: one course, one sandbox (one zygote) for the whole session.

Student code never runs in the pytest process: the grader does not import TensorFlow, and
neither do these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tfgrade.engine.grader import Grader
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"


@pytest.fixture(scope="session")
def course() -> Course:
    return Course.load()


@pytest.fixture(scope="session")
def grader(course: Course) -> Iterator[Grader]:
    g = Grader.create(course, include_hidden=True, threads=1)
    yield g
    g.close()


@pytest.fixture(scope="session")
def fast_grader(course: Course, grader: Grader) -> Grader:
    """The same sandbox with short time limits, for submissions that never return."""
    fast = replace(course, limits_override={"call_timeout_s": 6.0, "train_timeout_s": 8.0})
    return Grader(fast, grader.sandbox, include_hidden=True, workdir=grader.workdir)


