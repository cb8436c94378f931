"""What the hostile tests found, per isolation level, for docs/SECURITY.md.

Each hostile test names its attack and the levels expected to block it, runs at the levels
available (fixture `at_level`: strong, standard, basic), observes whether the attack was
blocked and calls `sec.outcome(...)`. That records a row and asserts the observation is
the expected one. Rows are merged into test-artifacts/security/outcomes.json when the
session ends; `python tests/make_security_table.py` renders them into docs/SECURITY.md.
Nothing in the table is written by hand.

The hostile modules load this file as a plugin (`pytest_plugins = ["security_table"]`), so
its fixtures exist once per session however many modules use them (one grader per level,
not one per module), and its `pytest_sessionfinish` writes the JSON. (The modules import
it before pytest registers it, hence PYTEST_DONT_REWRITE: its asserts carry messages.)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tfgrade.engine.grader import Grader
from tfgrade.engine.proxy import StudentError, StudentProxy
from tfgrade.pack.course import Course
from tfgrade.supervisor import Sandbox, default_masks, make_sandbox
from tfgrade.supervisor.isolation import detect_level

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ROOT / "test-artifacts" / "security" / "outcomes.json"
LEVELS = ("strong", "standard", "basic")
ALL = LEVELS
NAMESPACED = ("strong", "standard")

LEVEL_MEMORY_MB = 2048      # per-level graders: memory attacks hit the cap sooner

# Planted in the grader's own environment before any sandbox starts (this module is
# imported while tests are collected): no level may let it reach student code.
GRADER_SECRET_ENV = "TFGRADE_TEST_GRADER_SECRET"
GRADER_SECRET = "tfgrade-grader-secret-5b1e"
os.environ.setdefault(GRADER_SECRET_ENV, GRADER_SECRET)

_rows: dict[str, dict[str, Any]] = {}


F = TypeVar("F", bound=Callable[..., Any])


def attack(name: str, blocks: tuple[str, ...]) -> Callable[[F], F]:
    """Names a hostile test's attack (its row in the table) and the levels expected to
    block it. An attribute, not a pytest marker: the project runs with --strict-markers
    and its marker list lives in pyproject.toml."""
    def mark(fn: F) -> F:
        fn.tfgrade_attack = (name, tuple(blocks))  # type: ignore[attr-defined]
        return fn
    return mark


@dataclass
class Security:
    """Per test: record what happened to the attack at one level, and check it."""

    name: str
    blocks: tuple[str, ...]
    nodeid: str
    recorded: list[str] = field(default_factory=list)

    def outcome(self, level: str, blocked: bool, detail: str, expected: bool | None = None) -> None:
        """`expected` overrides the marker for facts that depend on the host (root or not,
        whether the internet is reachable at all)."""
        want = (level in self.blocks) if expected is None else expected
        _record(self, level, "blocked" if blocked else "allowed", detail, want)
        assert blocked == want, (f"{self.name} at level {level}: expected "
                                 f"{'blocked' if want else 'allowed'}, observed "
                                 f"{'blocked' if blocked else 'allowed'} ({detail})")

    def not_run(self, level: str, reason: str) -> None:
        _record(self, level, "not_run", reason, level in self.blocks)
        pytest.skip(f"{self.name} at {level}: {reason}")


def _record(sec: Security, level: str, outcome: str, detail: str, expected_blocked: bool) -> None:
    sec.recorded.append(level)
    row = _rows.setdefault(sec.name, {"attack": sec.name, "blocks": list(sec.blocks),
                                      "test": sec.nodeid.split("[")[0], "levels": {}})
    row["levels"][level] = {"outcome": outcome, "detail": " ".join(detail.split())[:160],
                            "expected_blocked": expected_blocked}


def _environment() -> dict[str, Any]:
    bwrap = shutil.which("bwrap")
    version = ""
    if bwrap:
        try:
            version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            version = "?"
    return {"date": time.strftime("%Y-%m-%d"), "kernel": platform.release(),
            "python": platform.python_version(), "bwrap": version or "not installed",
            "grader_uid": os.getuid(),
            "available": [lvl for lvl in LEVELS if detect_level(lvl) == lvl]}


def write_outcomes(path: Path = OUTCOMES) -> None:
    """Merge this session's rows into the JSON file (a partial run updates its rows)."""
    if not _rows:
        return
    data: dict[str, Any] = {"attacks": {}}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            data = {"attacks": {}}
    attacks = data.setdefault("attacks", {})
    for name, row in _rows.items():
        old = attacks.get(name, {})
        levels = {**old.get("levels", {}), **row["levels"]}
        attacks[name] = {**row, "levels": levels}
    data["environment"] = _environment()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- fixtures


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_outcomes()


@pytest.fixture
def sec(request: pytest.FixtureRequest) -> Iterator[Security]:
    info = getattr(request.function, "tfgrade_attack", None)
    if info is None:
        raise RuntimeError(f"{request.node.nodeid} uses `sec` without @attack(...)")
    s = Security(info[0], info[1], request.node.nodeid)
    yield s


@dataclass
class Levelled:
    """A grader (and a short-limits twin) at one isolation level, plus its work folders."""

    level: str
    grader: Grader
    fast: Grader
    area: Path                  # outside /tmp and masked like the CLI's class and out folders

    @property
    def sandbox(self) -> Sandbox:
        return self.grader.sandbox


ARTIFACTS = ROOT / "test-artifacts" / "hostile"


@pytest.fixture(scope="session", params=LEVELS)
def at_level(request: pytest.FixtureRequest, course: Course) -> Iterator[Levelled]:
    """One level at a time (pytest groups the tests by level, so one extra zygote lives at
    a time). The work area sits under the project root, not /tmp, so that at the
    `standard` level it is hidden by its mask, as the CLI masks the class and out folders,
    and not merely by the private /tmp."""
    level = request.param
    if detect_level(level) != level:
        pytest.skip(f"level {level} is not available on this machine")
    area = ARTIFACTS / f"{level}-{os.getpid()}"
    shutil.rmtree(area, ignore_errors=True)
    area.mkdir(parents=True)
    sources = [v.get("source") for v in course.datasets.values()]
    sandbox = make_sandbox(level, masks=default_masks(course.pack_dir, area, *sources), threads=1,
                           memory_mb=LEVEL_MEMORY_MB)
    grader = Grader(course, sandbox, include_hidden=True)
    assert grader.isolation == level
    fast_course = replace(course, limits_override={"call_timeout_s": 6.0, "train_timeout_s": 8.0})
    fast = Grader(fast_course, grader.sandbox, include_hidden=True, workdir=grader.workdir)
    try:
        yield Levelled(level, grader, fast, area)
    finally:
        grader.close()
        shutil.rmtree(area, ignore_errors=True)
        shutil.rmtree(grader.workdir, ignore_errors=True)


# --------------------------------------------------------------------------- running code


@dataclass
class Ran:
    value: Any
    error: StudentError | None
    output: str


def run_student(sandbox: Sandbox, code: str, fn: str = "attack", *args: Any, timeout: float = 20.0,
                workdir: str = "/tmp", keep: list[StudentProxy] | None = None) -> Ran:
    """Load `code` in a fresh sandbox child and call `fn(*args)`: what it returns comes
    back as data, as for any student. `keep` receives the proxy instead of closing it."""
    proxy = StudentProxy(sandbox=sandbox, module="attack", filename="attack.py", source=code, seed=0,
                         call_timeout_s=timeout, train_timeout_s=timeout, workdir=workdir)
    value, error = None, None
    try:
        value = proxy.call(fn, *args)
    except StudentError as exc:
        error = exc
    if keep is not None:
        keep.append(proxy)
        return Ran(value, error, "")
    proxy.close()
    return Ran(value, error, proxy.output)
