"""The portable path: a sandbox child on a machine without a usable fork or descriptor
passing (Windows, macOS; on Linux with `TFGRADE_PORTABLE=1`, which is how CI runs it).

Each child is a *spawned* interpreter (`python -m tfgrade.sandboxed.child --connect
127.0.0.1:PORT`). The channel is a loopback TCP socket: this side listens on 127.0.0.1 only,
on a port the system picks, for exactly one authenticated connection, with a deadline; the
child proves a random one-time token that it read on its stdin (not its command line, which
other users can see) and then both ends speak the wire (tfgrade.wire.framing) over the
socket, byte for byte what the other paths send. stdout and stderr are pipes, drained and
capped as everywhere. The level is always `basic`: no namespaces, no file or network
isolation (`tfgrade.supervisor.isolation.protections_off` says so to the user).

Speed: a fresh interpreter pays TensorFlow's import (seconds). One child is kept started
ahead ("the spare"): the first is started with the Sandbox, before the trusted side's own
imports, and each time one is taken the next starts importing while this one works (an
exercise needs two: the student's child and the clean process).

Nothing here imports a POSIX-only module.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from tfgrade.errors import SandboxError
from tfgrade.i18n import Msg
from tfgrade.supervisor import procs

CONNECT_TIMEOUT_S = 180.0        # TensorFlow's import on a slow laptop comes first
TOKEN_TIMEOUT_S = 10.0           # a connection that does not prove the token in time is dropped
MAX_ATTEMPTS = 8                 # connections refused before giving up on a child
TOKEN_BYTES = 32


@dataclass
class Pending:
    """A started child that has not connected yet."""
    proc: subprocess.Popen[bytes]
    listener: socket.socket
    token: str
    out_r: int
    err_r: int

    def discard(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.listener.close()
        for fd in (self.out_r, self.err_r):
            try:
                os.close(fd)
            except OSError:
                pass


def child_command(address: str) -> list[str]:
    return [sys.executable, "-m", "tfgrade.sandboxed.child", "--connect", address]


def listen() -> tuple[socket.socket, str, str]:
    """A listener on 127.0.0.1 (never another interface) for one connection, its address,
    and a fresh token."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
    except OSError:
        listener.close()
        raise
    host, port = listener.getsockname()[:2]
    return listener, f"{host}:{port}", secrets.token_hex(TOKEN_BYTES)


def _read_token(conn: socket.socket, length: int, deadline: float) -> bytes:
    data = b""
    while len(data) < length + 1 and not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn.settimeout(remaining)
        chunk = conn.recv(length + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return data.rstrip(b"\n")


def accept(listener: socket.socket, token: str, timeout: float = CONNECT_TIMEOUT_S,
           alive: subprocess.Popen[bytes] | None = None) -> socket.socket:
    """The one connection that proves `token`, before `timeout`; the listener is closed
    either way. A connection with a wrong token (another local process) is dropped and
    the wait goes on, up to MAX_ATTEMPTS. `alive`: the child, whose exit ends the wait."""
    deadline = time.monotonic() + timeout
    expected = token.encode("ascii")
    try:
        for _ in range(MAX_ATTEMPTS):
            while True:
                if alive is not None and alive.poll() is not None:
                    raise SandboxError(Msg(f"el proceso del entorno aislado terminó al arrancar (código {alive.returncode})",
                                           f"the sandbox process exited while starting (code {alive.returncode})"))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxError(Msg("el proceso del entorno aislado no se conectó a tiempo",
                                           "the sandbox process did not connect in time"))
                listener.settimeout(min(0.5, remaining))
                try:
                    conn, _ = listener.accept()
                    break
                except TimeoutError:
                    continue
            try:
                got = _read_token(conn, len(expected), min(deadline, time.monotonic() + TOKEN_TIMEOUT_S))
            except OSError:
                got = b""
            if hmac.compare_digest(got, expected):
                conn.settimeout(None)
                return conn
            conn.close()
        raise SandboxError(Msg("conexiones no autenticadas al entorno aislado: se rechazan",
                               "unauthenticated connections to the sandbox: refused"))
    finally:
        listener.close()


class PortableLauncher:
    """Spawned children over loopback TCP, one kept started ahead (see the module)."""

    def __init__(self, env: dict[str, str], prestart: bool = True) -> None:
        self.env = env
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._spare: Pending | None = None
        self._closed = False
        if prestart:
            self._spare = self.launch()

    def launch(self) -> Pending:
        """Start one child now; it imports TensorFlow, then connects."""
        listener, address, token = listen()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        kwargs: dict[str, object] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True           # its own group, as a forked child
        else:
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        try:
            proc = subprocess.Popen(child_command(address), env=self.env, stdin=subprocess.PIPE,
                                    stdout=out_w, stderr=err_w, cwd=os.path.abspath(os.sep),
                                    **kwargs)  # type: ignore[call-overload]
        except BaseException:
            listener.close()
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        try:
            assert proc.stdin is not None
            proc.stdin.write(token.encode("ascii") + b"\n")
            proc.stdin.close()
        except OSError:
            pass          # it died already: accept() tells
        return Pending(proc, listener, token, out_r, err_r)

    def wait_ready(self, timeout: float = 0) -> None:
        return None

    def start(self) -> tuple[int, socket.socket, int, int]:
        """A connected child: (pid, channel, stdout pipe, stderr pipe)."""
        with self._lock:
            if self._closed:
                raise SandboxError(Msg("el entorno aislado está cerrado", "the sandbox is closed"))
            pending, self._spare = self._spare, None
            if pending is None or pending.proc.poll() is not None:
                if pending is not None:
                    pending.discard()
                pending = self.launch()
            self._spare = self.launch()          # the next one imports while this one works
            self._procs[pending.proc.pid] = pending.proc
        try:
            sock = accept(pending.listener, pending.token, alive=pending.proc)
        except BaseException:
            self._procs.pop(pending.proc.pid, None)
            pending.discard()
            raise
        return pending.proc.pid, sock, pending.out_r, pending.err_r

    def exit_status(self, pid: int, timeout: float) -> tuple[int | None, int] | None:
        return procs.popen_status(self._procs.pop(pid, None), timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
            running = list(self._procs.values())
        if spare is not None:
            spare.discard()
        for proc in running:
            procs.kill_tree(proc.pid)
            try:
                proc.kill()
            except OSError:
                pass
