"""The trusted side of the sandbox: start children, talk to them, time them out, kill them.

One `Sandbox` per worker. On Linux it owns a zygote (TensorFlow imported once, started in
the background as soon as the worker starts so its import overlaps other work) and forks a
fresh child per (student, exercise). With the zygote disabled (`TFGRADE_NO_ZYGOTE=1`) each
child is a fresh `python -m tfgrade.sandboxed.child FD` process. Where there is no usable
fork or descriptor passing (Windows, macOS; `TFGRADE_PORTABLE=1`) the portable path
(tfgrade.supervisor.portable) spawns each child and talks to it over loopback TCP, at the
`basic` level.

POSIX-only calls (`socket.send_fds`, `pass_fds`, AF_UNIX pairs) happen only on the Linux
paths; importing this module needs none of them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tfgrade.errors import SandboxError
from tfgrade.i18n import Msg
from tfgrade.supervisor import bwrap, procs
from tfgrade.supervisor.isolation import SandboxPlan, portable_path, protect_trusted_process
from tfgrade.supervisor.output import OutputDrain
from tfgrade.supervisor.portable import PortableLauncher
from tfgrade.wire import framing as protocol
from tfgrade.wire.messages import Init

ZYGOTE_READY_TIMEOUT_S = 180.0
WATCH_INTERVAL_S = 0.2
MAX_PROCESSES = 64      # a student process tree needs a handful; a fork bomb many


class ChildTimeout(Exception):
    pass


class ChildDied(Exception):
    def __init__(self, reason: str, code: int | None, signum: int) -> None:
        super().__init__(reason)
        self.reason, self.code, self.signum = reason, code, signum


def child_env() -> dict[str, str]:
    """A clean environment: nothing of the grader's (tokens, paths to data) leaks in."""
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONHASHSEED", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
            "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env.update({"PYTHONPATH": root, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "TF_ENABLE_ONEDNN_OPTS": "0"})
    # A user site (`pip install --user`) is found by `site` in its usual place, after the
    # interpreter's own site-packages: a sandbox's clean environment has no HOME to find it
    # by, so its base is named (prepending it to PYTHONPATH would change precedence).
    user_base = bwrap.user_base()
    if user_base:
        env["PYTHONUSERBASE"] = user_base
    return env


def fork_is_safe() -> bool:
    return not portable_path() and os.environ.get("TFGRADE_NO_ZYGOTE") != "1"



def sandboxed_command(plan: SandboxPlan, command: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start `command` on the sandbox side: as is,
    or at the `strong` level inside bubblewrap (clean environment set by bwrap itself)."""
    if plan.level != "strong":
        return command, child_env()
    spec = bwrap.make_spec(command, child_env(), masks=plan.masks, tmp_mb=plan.limits.tmp_mb)
    return bwrap.launch_command(spec), bwrap.launch_env()


class ZygoteLauncher:
    def __init__(self, plan: SandboxPlan | None = None) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ctl = parent
        self.namespaced = plan is not None and plan.level == "strong"
        command, env = sandboxed_command(
            plan or SandboxPlan("standard"),
            [sys.executable, "-m", "tfgrade.sandboxed.zygote", str(child.fileno())])
        self.proc = subprocess.Popen(
            command, pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
        child.close()
        self._cond = threading.Condition()
        self._ready = False
        self._spawned: list[int] = []
        self._exits: dict[int, tuple[int | None, int]] = {}
        self._inner: dict[int, int] = {}      # our pid -> the zygote's pid (strong level)
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.ctl.recv(65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._closed = True
                    self._cond.notify_all()
                    return
                try:
                    msg = json.loads(data)
                except ValueError:
                    continue
                op = msg.get("op")
                if op == "ready":
                    self._ready = True
                elif op == "spawned":
                    self._spawned.append(int(msg["pid"]))
                elif op == "exit":
                    self._exits[int(msg["pid"])] = (msg.get("code"), int(msg.get("signal") or 0))
                self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed or self.proc.poll() is not None

    def wait_ready(self, timeout: float = ZYGOTE_READY_TIMEOUT_S) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready or self._closed, timeout):
                raise SandboxError(Msg("el zigoto de TensorFlow no arrancó a tiempo",
                                       "the TensorFlow zygote did not start in time"))
            if not self._ready:
                raise SandboxError(Msg(
                    "el zigoto de TensorFlow terminó al arrancar (¿TensorFlow instalado?)",
                    "the TensorFlow zygote exited while starting (is TensorFlow installed?)"))

    def wait_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def spawn(self, chan: int, out_w: int, err_w: int) -> int:
        self.wait_ready()
        with self._cond:
            try:
                socket.send_fds(self.ctl, [b'{"op":"spawn"}'], [chan, out_w, err_w])
            except OSError:
                raise SandboxError(Msg("el zigoto terminó", "the zygote exited")) from None
            if not self._cond.wait_for(lambda: self._spawned or self._closed, 30):
                raise SandboxError(Msg("el zigoto no respondió", "the zygote did not answer"))
            if not self._spawned:
                raise SandboxError(Msg("el zigoto terminó", "the zygote exited"))
            inner = self._spawned.pop(0)
        if not self.namespaced:
            return inner
        # Under bwrap the zygote sees its own pid namespace: translate to our pid, which
        # the watchdog measures and the kill switch kills.
        for _ in range(100):
            pid = procs.host_pid(inner, self.proc.pid)
            if pid is not None:
                self._inner[pid] = inner
                return pid
            time.sleep(0.01)
        raise SandboxError(Msg("no se encontró el proceso del entorno aislado",
                               "the sandbox process could not be found"))

    def exit_status(self, pid: int, timeout: float) -> tuple[int | None, int] | None:
        inner = self._inner.pop(pid, pid)
        with self._cond:
            self._cond.wait_for(lambda: inner in self._exits or self._closed, timeout)
            return self._exits.pop(inner, None)

    def close(self) -> None:
        # shutdown first: the reader thread is blocked in recv on this socket, and close()
        # alone does not release it, so the zygote would never see EOF (and we would wait
        # the full 5 s below for every sandbox closed).
        try:
            self.ctl.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.ctl.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ProcessLauncher:
    """A fresh interpreter per child: slower (TensorFlow imported each time), always safe.
    At the `strong` level each child gets its own bwrap."""

    def __init__(self, plan: SandboxPlan | None = None) -> None:
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self.plan = plan or SandboxPlan("standard")

    def wait_ready(self, timeout: float = 0) -> None:
        return None

    def spawn(self, chan: int, out_w: int, err_w: int) -> int:
        command, env = sandboxed_command(self.plan, [sys.executable, "-m", "tfgrade.sandboxed.child", str(chan)])
        proc = subprocess.Popen(
            command, pass_fds=[chan], env=env, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
            cwd="/")
        self._procs[proc.pid] = proc
        return proc.pid

    def exit_status(self, pid: int, timeout: float) -> tuple[int | None, int] | None:
        return procs.popen_status(self._procs.pop(pid, None), timeout)

    def close(self) -> None:
        for proc in self._procs.values():
            proc.kill()


Launcher = ZygoteLauncher | ProcessLauncher | PortableLauncher


@dataclass
class Reply:
    header: dict[str, Any]
    arrays: tuple[np.ndarray, ...]


class SandboxChild:
    """One running child: requests with deadlines, a memory/process watchdog, a kill switch."""

    def __init__(self, launcher: Launcher, init: dict[str, Any], memory_mb: int) -> None:
        self.launcher = launcher
        if isinstance(launcher, PortableLauncher):
            self.pid, mine, out_r, err_r = launcher.start()
        else:
            mine, out_r, err_r = self._start_posix(launcher)
        self.sock = mine
        self.stdout = OutputDrain(out_r)
        self.stderr = OutputDrain(err_r)
        self.memory_limit = memory_mb * 1024 * 1024
        self.kill_reason: str | None = None
        self.peak_rss = 0
        self.alive = True
        self._stop = threading.Event()
        if procs.can_watch():          # else: no /proc, no psutil; said once (protections_off)
            threading.Thread(target=self._watch, daemon=True).start()
        self._send(init)

    def _start_posix(self, launcher: ZygoteLauncher | ProcessLauncher) -> tuple[socket.socket, int, int]:
        """A socketpair and two pipes, the child's ends passed as descriptors."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.pid = launcher.spawn(theirs.fileno(), out_w, err_w)
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            mine.close()
            raise
        finally:
            theirs.close()
            os.close(out_w)
            os.close(err_w)
        return mine, out_r, err_r

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL_S):
            tree = procs.descendants(self.pid)
            if len(tree) > MAX_PROCESSES:      # cheap test first: a fork bomb makes PSS slow
                self.kill("processes")
                return
            rss = procs.rss_bytes(tree)
            self.peak_rss = max(self.peak_rss, rss)
            if rss > self.memory_limit:
                self.kill("memory")
                return

    def _send(self, header: dict[str, Any], arrays: tuple[np.ndarray, ...] | list[np.ndarray] = ()) -> None:
        try:
            self.sock.sendall(protocol.encode(header, arrays))
        except OSError:
            raise self._died() from None

    def receive(self, timeout: float) -> Reply:
        deadline = time.monotonic() + timeout

        def read(n: int) -> bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildTimeout()
            self.sock.settimeout(remaining)
            try:
                return self.sock.recv(n)
            except TimeoutError:
                raise ChildTimeout() from None
            except OSError:
                return b""

        try:
            frame = protocol.read_frame(read)
        except ChildTimeout:
            self.kill("timeout")
            raise
        except EOFError:
            raise self._died() from None
        except protocol.ProtocolError:
            self.kill("protocol")
            raise
        if not isinstance(frame.header, dict):
            self.kill("protocol")
            raise protocol.ProtocolError("reply is not an object")
        return Reply(frame.header, frame.arrays)

    def request(self, header: dict[str, Any], arrays: tuple[np.ndarray, ...] | list[np.ndarray],
                timeout: float) -> Reply:
        if not self.alive:
            raise self._died()
        self._send(header, arrays)
        return self.receive(timeout)

    def _died(self) -> ChildDied:
        status = self.launcher.exit_status(self.pid, 3.0)
        self.kill(self.kill_reason or "exited")
        code, signum = status if status else (None, 0)
        return ChildDied(self.kill_reason or "exited", code, signum)

    def kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
        self.alive = False
        self._stop.set()
        procs.kill_tree(self.pid)
        try:
            self.sock.close()
        except OSError:
            pass

    def output(self) -> str:
        self.stdout.join(0.5)
        self.stderr.join(0.5)
        out, err = self.stdout.text(), self.stderr.text()
        return (out + ("\n" if out and err else "") + err).strip()

    def close(self) -> None:
        self.kill(self.kill_reason or "closed")
        self.launcher.exit_status(self.pid, 2.0)


class Sandbox:
    """Per worker: the launcher (zygote or fresh processes) and the isolation plan."""

    def __init__(self, plan: SandboxPlan, threads: int = 1, use_zygote: bool | None = None) -> None:
        protect_trusted_process()
        self.plan = plan
        self.threads = threads
        self.launcher: Launcher
        if portable_path():
            # Started now, before the trusted side's own imports: its TensorFlow import overlaps them.
            self.plan = replace(plan, level="basic")
            self.launcher = PortableLauncher(child_env())
            return
        zygote = fork_is_safe() if use_zygote is None else use_zygote
        self.launcher = ZygoteLauncher(plan) if zygote else ProcessLauncher(plan)

    def spawn(self, init: Init | Mapping[str, Any], on_spawn: Callable[[SandboxChild], None] | None = None,
              memory_mb: int | None = None) -> SandboxChild:
        """A new child; `memory_mb` (an exercise's own `[limits] memory_mb`) lowers the
        plan's memory limit for both the child's RLIMIT and the watchdog. `init` is the
        request's part of the init frame (a mapping: the fields of a student's Init); the
        thread count and the plan are set here."""
        # The exercise's limit applies, but never above the sandbox's own cap (a grader made
        # with a lower cap, say for a small machine, keeps it).
        limits = self.plan.limits if memory_mb is None else \
            replace(self.plan.limits, memory_mb=min(int(memory_mb), self.plan.limits.memory_mb))
        if not isinstance(init, Init):
            fields = dict(init)
            init = Init.verify(str(fields["workdir"])) if fields.get("mode") == "verify" else Init.student(
                str(fields["module"]), str(fields["filename"]), str(fields["source"]), int(fields.get("seed", 0)),
                str(fields["workdir"]))
        payload = replace(init, threads=self.threads, plan=replace(self.plan, limits=limits)).to_header()
        for attempt in range(2):
            if isinstance(self.launcher, ZygoteLauncher) and self.launcher.closed:
                # A student at the basic level can kill its parent, the zygote (and something
                # outside can kill it at any level): start a new one.
                self.launcher.close()
                self.launcher = ZygoteLauncher(self.plan)
            try:
                child = SandboxChild(self.launcher, payload, limits.memory_mb)
                break
            except SandboxError:
                # The zygote died just now, before we noticed: once, wait for it to be
                # seen closed and start over with a new one.
                if attempt or not isinstance(self.launcher, ZygoteLauncher) or not self.launcher.wait_closed(5.0):
                    raise
        if on_spawn:
            on_spawn(child)
        return child

    def close(self) -> None:
        self.launcher.close()
