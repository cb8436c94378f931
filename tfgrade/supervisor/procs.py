"""Process-tree helpers for the trusted side: find every descendant, measure, kill.

`killpg` misses a double-forked `setsid()` escapee; walking /proc by parent pid does not
(and at the namespace levels, killing pid 1 of the sandbox's pid namespace kills the rest).

Where there is no /proc (macOS, Windows) the same questions are asked of psutil when it is
installed; without either, a tree is just its root, its memory cannot be measured
(`can_watch()` is False: the supervisor then runs no watchdog and says so) and killing it
kills the root. Nothing here imports a POSIX-only module.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PROC = Path("/proc")
# The strongest signal there is: SIGKILL on POSIX; on Windows os.kill(pid, SIGTERM) is
# TerminateProcess, which cannot be caught either.
KILL_SIGNAL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _have_proc() -> bool:
    return (PROC / "self" / "stat").exists()


def _psutil() -> Any:
    try:
        import psutil
    except ImportError:
        return None
    return psutil


def can_watch() -> bool:
    """Whether process trees and their memory can be measured here (/proc or psutil)."""
    return _have_proc() or _psutil() is not None


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    if not PROC.is_dir():
        return parents
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2:
            parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int) -> list[int]:
    """root and every process below it."""
    if not _have_proc():
        psutil = _psutil()
        if psutil is None:
            return [root]
        try:
            return [root, *(p.pid for p in psutil.Process(root).children(recursive=True))]
        except psutil.Error:
            return [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def ns_pids(pid: int) -> list[int]:
    """The pid of `pid` in each pid namespace from ours down to its own (NSpid)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    except (OSError, ValueError):
        return []
    return [pid]


def host_pid(inner: int, ancestor: int) -> int | None:
    """Our pid of the process below `ancestor` that is `inner` one pid namespace down: the
    zygote under bwrap reports its children's pids as it sees them, and the watchdog and
    the kill switch need ours."""
    for pid in descendants(ancestor):
        chain = ns_pids(pid)
        if len(chain) >= 2 and chain[1] == inner and chain[0] == pid:
            return pid
    return None


def _pss(pid: int) -> int | None:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _psutil_memory(pids: list[int]) -> int:
    """RSS of each process (no fork on the portable path, so nothing is shared to split)."""
    psutil = _psutil()
    if psutil is None:
        return 0
    total = 0
    for pid in pids:
        try:
            total += int(psutil.Process(pid).memory_info().rss)
        except (psutil.Error, OSError):
            continue
    return total


def rss_bytes(pids: list[int]) -> int:
    """Memory of a process tree. PSS splits pages shared after fork among the sharers, so
    forking a TensorFlow process does not count its libraries once per copy."""
    if not _have_proc():
        return _psutil_memory(pids)
    total = 0
    for pid in pids:
        pss = _pss(pid)
        if pss is not None:
            total += pss
            continue
        try:
            total += int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def kill_tree(root: int) -> None:
    for pid in reversed(descendants(root)):
        try:
            os.kill(pid, KILL_SIGNAL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    killpg = getattr(os, "killpg", None)
    if killpg is None:
        return
    try:
        killpg(root, KILL_SIGNAL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def popen_status(proc: subprocess.Popen[bytes] | None, timeout: float) -> tuple[int | None, int] | None:
    """(exit code, 0) or (None, signal) of a launched process, None if unknown or still running."""
    if proc is None:
        return None
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None
    return (None, -rc) if rc < 0 else (rc, 0)
