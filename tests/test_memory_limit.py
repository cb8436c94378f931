"""`[limits] memory_mb` of exercise.toml reaches the sandbox: the watchdog's cap and the
child's RLIMIT_DATA both come from it, not from the sandbox's default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gradehelp import first_error, grade_text

from tfgrade.engine.grader import Grader
from tfgrade.engine.proxy import StudentProxy
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 600


@pytest.fixture(scope="module")
def small_limit_course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    pack = tmp_path_factory.mktemp("pack")
    shutil.copytree(ROOT / "exercises" / "ex02_sequential", pack / "ex02_sequential")
    toml = pack / "ex02_sequential" / "exercise.toml"
    text = toml.read_text(encoding="utf-8")
    if "memory_mb" in text:
        lines = [f"memory_mb = {LIMIT_MB}" if ln.startswith("memory_mb") else ln for ln in text.splitlines()]
        text = "\n".join(lines) + "\n"
    else:
        text = text.replace("[limits]\n", f"[limits]\nmemory_mb = {LIMIT_MB}\n", 1)
    toml.write_text(text, encoding="utf-8")
    course = Course.load(pack)
    assert course.limits_for(course.get("ex02_sequential")).memory_mb == LIMIT_MB
    return course


@pytest.fixture
def small_grader(small_limit_course: Course, grader: Grader, monkeypatch: pytest.MonkeyPatch) -> Grader:
    """The session's sandbox (default limit 4096 MB) grading the pack with a 600 MB exercise."""
    if "memory_mb" not in StudentProxy.__dataclass_fields__:      # until the proxy passes it itself
        original = grader.sandbox.spawn

        def spawn(init, on_spawn=None, memory_mb=None):  # type: ignore[no-untyped-def]
            return original(init, on_spawn, memory_mb=memory_mb or LIMIT_MB)

        monkeypatch.setattr(grader.sandbox, "spawn", spawn)
    return Grader(small_limit_course, grader.sandbox, include_hidden=True, workdir=grader.workdir)


def test_sandbox_spawn_takes_the_memory_limit(grader: Grader) -> None:
    sent: list[dict] = []  # type: ignore[type-arg]
    from tfgrade.supervisor import children as supervisor

    original = supervisor.SandboxChild._send

    def spy(self, header, arrays=()):  # type: ignore[no-untyped-def]
        sent.append(header)
        return original(self, header, arrays)

    supervisor.SandboxChild._send = spy  # type: ignore[method-assign]
    try:
        child = grader.sandbox.spawn({"module": "m", "filename": "m.py", "source": "", "seed": 0,
                                      "workdir": grader.workdir}, memory_mb=LIMIT_MB)
    finally:
        supervisor.SandboxChild._send = original  # type: ignore[method-assign]
    try:
        assert child.memory_limit == LIMIT_MB * 1024 * 1024
        assert sent[0]["plan"]["limits"]["memory_mb"] == LIMIT_MB
        assert grader.sandbox.plan.limits.memory_mb != LIMIT_MB        # the sandbox's own default is kept
    finally:
        child.close()


def test_the_exercise_limit_is_the_childs_rlimit(small_grader: Grader, tmp_path: Path) -> None:
    code = ("import resource\n"
            "def build_model():\n"
            "    print('RLIMIT_DATA', resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
            "    raise ValueError('only looking')\n")
    r = grade_text(small_grader, tmp_path, "ex02_sequential", code)
    assert f"RLIMIT_DATA {LIMIT_MB * 1024 * 1024}" in r.output, r.output


def test_allocating_over_the_exercise_limit_is_stopped(small_grader: Grader, tmp_path: Path) -> None:
    """1.5 GB is under the sandbox's default 4 GB, over this exercise's 600 MB. A shared
    mapping, which RLIMIT_DATA does not see: the watchdog must stop it at the exercise's cap."""
    code = ("import mmap\n"
            "def build_model():\n"
            "    m = mmap.mmap(-1, 1500 * 1024**2, flags=mmap.MAP_SHARED)\n"
            "    for i in range(0, len(m), 4096):\n"
            "        m[i] = 1\n"
            "    return None\n")
    r = grade_text(small_grader, tmp_path, "ex02_sequential", code)
    assert r.score == 0
    err = first_error(r)
    assert err.kind == "crashed", err
    feedback = " ".join(c.feedback.en for c in r.checks)
    assert "used more memory than allowed" in feedback, feedback
