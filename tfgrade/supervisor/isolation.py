"""The supervisor's half of isolation: which level works on this machine (probed, never
assumed), and protecting the trusted process itself. The child's half is
tfgrade.sandboxed.confine; the plan between them is tfgrade.wire.plan."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys

from tfgrade.i18n import Msg
from tfgrade.sandboxed.confine import PR_SET_DUMPABLE, code_paths, prctl, tmpfs_options
from tfgrade.wire.plan import Level, Limits, SandboxPlan

__all__ = ["Level", "Limits", "SandboxPlan", "code_paths", "detect_level", "bwrap_available",
           "portable_path", "protect_trusted_process", "protections_off", "tmpfs_options"]


def portable_path() -> bool:
    """Whether children must take the portable path (spawned, loopback TCP, `basic`): chosen
    by capability, not by name. The fork-based paths need Linux (fork after importing
    TensorFlow is unsafe on macOS; Windows has neither fork nor descriptor passing);
    `TFGRADE_PORTABLE=1` forces the portable path anywhere (how CI runs it on Linux)."""
    if os.environ.get("TFGRADE_PORTABLE") == "1":
        return True
    return not (sys.platform.startswith("linux") and hasattr(os, "fork")
                and hasattr(socket, "send_fds"))


def protections_off(level: str) -> list[Msg]:
    """What a user is told before a run at `level`: the protections that are off here, in
    plain words (catalogue tfgrade/messages/portable.toml). Empty above `basic` with a watchdog."""
    from tfgrade.catalogue import GRADER
    from tfgrade.supervisor import procs

    said: list[Msg] = []
    if level == "basic":
        said.append(GRADER("basic_protections_off"))
        if procs.can_watch():
            said.append(GRADER("basic_limits"))
        if portable_path():
            said.append(GRADER("portable_path_used"))
        try:
            import resource  # noqa: F401
        except ImportError:
            said.append(GRADER("no_rlimits"))
    if not procs.can_watch():
        said.append(GRADER("no_memory_watchdog"))
    return said


def protect_trusted_process() -> None:
    """The grader's memory (hidden labels) must not be readable through /proc/PID/mem."""
    try:
        prctl(PR_SET_DUMPABLE, 0)
    except OSError:
        pass


@functools.cache
def _probe_namespaces() -> bool:
    """Try the real thing in a throwaway process: only what works is claimed."""
    if not sys.platform.startswith("linux"):
        return False
    # Forked first, as a sandbox child is: unshare(CLONE_NEWUSER) needs a single thread.
    code = (f"import sys, os; sys.path[:0] = {sys.path!r}\n"
            "from tfgrade.sandboxed import confine as i\n"
            "def probe():\n"
            "    i.enter_namespaces(i.SandboxPlan('standard'))\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        i.finish_namespaces(); os._exit(0 if os.getpid() == 1 else 3)\n"
            "    _, st = os.waitpid(pid, 0); os._exit(os.waitstatus_to_exitcode(st))\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    try: probe()\n"
            "    finally: os._exit(4)\n"
            "_, st = os.waitpid(pid, 0); os._exit(os.waitstatus_to_exitcode(st))\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def detect_level(requested: str = "auto") -> Level:
    """The strongest level that works here, or the requested one when it works (falling
    back one level at a time). `strong` is claimed only when a probe under bwrap, started
    exactly as the zygote is, succeeded. The portable path is always `basic`."""
    if requested == "basic" or portable_path():
        return "basic"
    if requested in ("auto", "strong"):
        from tfgrade.supervisor import bwrap

        if bwrap.probe()[0]:
            return "strong"
    if requested in ("auto", "standard", "strong") and _probe_namespaces():
        return "standard"
    return "basic"


def bwrap_available() -> bool:
    return shutil.which("bwrap") is not None
