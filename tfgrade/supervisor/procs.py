"""Process-tree helpers for the trusted side: find every descendant, measure, kill.

`killpg` misses a double-forked `setsid()` escapee; walking /proc by parent pid does not
(and at the namespace levels, killing pid 1 of the sandbox's pid namespace kills the rest).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return parents
    for entry in proc.iterdir():
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
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
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
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_bytes(pids: list[int]) -> int:
    """Memory of a process tree. PSS splits pages shared after fork among the sharers, so
    forking a TensorFlow process does not count its libraries once per copy."""
    total = 0
    for pid in pids:
        pss = _pss(pid)
        if pss is not None:
            total += pss
            continue
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def kill_tree(root: int) -> None:
    for pid in reversed(descendants(root)):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
