"""`tfgrade check --watch`: a save is re-checked in the warm sandbox; Ctrl-C leaves nothing running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tfgrade.watch import settled, stamp

ROOT = Path(__file__).resolve().parent.parent
FIRST_CHECK_TIMEOUT_S = 120     # the zygote imports TensorFlow first
RECHECK_TIMEOUT_S = 30

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree in /proc")


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, from /proc; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every live process under `root`: pid -> start time (so a reused pid is not mistaken)."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                table[int(entry)] = info
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _state, start) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = start
                frontier.append(pid)
    return found


def still_running(processes: dict[int, int]) -> list[int]:
    alive = []
    for pid, start in processes.items():
        info = _stat(pid)
        if info is not None and info[2] == start and info[1] not in ("Z", "X"):
            alive.append(pid)
    return alive


class Output:
    """The watch process's output, read in the background."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.text = ""
        self._cond = threading.Condition()
        self._proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._cond:
                self.text += line
                self._cond.notify_all()

    def wait_for(self, needle: str, timeout: float, after: int = 0) -> int:
        """The position where `needle` appears past `after`."""
        with self._cond:
            ok = self._cond.wait_for(lambda: needle in self.text[after:], timeout)
            assert ok, f"{needle!r} not seen in {timeout} s; output:\n{self.text[-4000:]}"
            return self.text.index(needle, after)


def test_stamps_and_settling(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    assert stamp(path) is None
    path.write_text("x = 1\n")
    first = stamp(path)
    assert first is not None and settled(path) == first
    path.write_text("x = 22\n")
    assert stamp(path) != first


@pytest.mark.parametrize("interrupt", ["ctrl-c", "sigint-to-pid"])
def test_watch_rechecks_on_save_and_stops_clean(tmp_path: Path, interrupt: str) -> None:
    target = tmp_path / "ex02_sequential.py"
    shutil.copyfile(ROOT / "exercises" / "ex02_sequential" / "starter.py", target)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfgrade", "check", "--watch", target.name, "--lang", "en"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)      # its own process group, as a terminal's foreground job
    out = Output(proc)
    try:
        first = out.wait_for("Points: 0/10", FIRST_CHECK_TIMEOUT_S)
        out.wait_for("Ctrl-C to stop", 10, first)
        target.write_text((ROOT / "solutions" / "ex02_sequential.py").read_text())
        saved = time.monotonic()
        out.wait_for("Points: 10/10", RECHECK_TIMEOUT_S, first)
        print(f"re-check seen {time.monotonic() - saved:.2f} s after the save")
        out.wait_for("Ctrl-C to stop", 10, first + 1)
        tree = descendants(proc.pid)
        assert tree, "the warm sandbox (its zygote) should be running under the watch process"
        if interrupt == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)   # what the terminal sends: the whole job
        else:
            os.kill(proc.pid, signal.SIGINT)
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert rc == 0, out.text[-3000:]
    out.wait_for("Stopped watching.", 5)
    assert "Traceback" not in out.text, out.text[-3000:]
    deadline = time.monotonic() + 10      # a process being reaped by init may linger a moment
    while still_running(tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert still_running(tree) == [], f"left running after the interrupt: {still_running(tree)}"


def test_a_file_that_is_no_exercise_is_refused_before_any_sandbox(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tfgrade.cli import main

    (tmp_path / "notes.py").write_text("x = 1\n")
    assert main(["check", "--watch", str(tmp_path / "notes.py"), "--lang", "en"]) == 2
    assert "matches no exercise" in capsys.readouterr().err
