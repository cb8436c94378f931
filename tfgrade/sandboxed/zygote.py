"""The zygote: imports TensorFlow once, never runs an op, forks one child per exercise.

Forking after an op has run deadlocks children (measured: 10 of 10), so this process only
imports. It talks to its worker over a SOCK_SEQPACKET control socket: a `spawn` message
carries three descriptors (channel, stdout, stderr) and is answered with the child's pid;
exits of children are reported as they are reaped. The zygote holds no secret: hidden data
and scores never reach it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
from typing import Any


def _send(ctl: socket.socket, msg: dict[str, Any]) -> None:
    ctl.send(json.dumps(msg).encode())


def _reap(ctl: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        _send(ctl, {"op": "exit", "pid": pid, "code": code, "signal": signum})


def main(ctl_fd: int) -> None:
    # Nothing but the control socket and stdio crosses into the zygote: a stray descriptor
    # to a host directory would let `openat(fd, "..")` walk out of bwrap's view.
    os.closerange(3, ctl_fd)
    os.closerange(ctl_fd + 1, 1 << 16)
    from tfgrade.sandboxed import confine

    confine.die_with_parent()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras  # noqa: F401 - the point of the zygote: pay the import once
    import tensorflow  # noqa: F401

    import tfgrade.sandboxed.child as child  # noqa: F401
    import tfgrade.sandboxed.export  # noqa: F401
    import tfgrade.sandboxed.instrument  # noqa: F401
    import tfgrade.sandboxed.verify_service  # noqa: F401

    ctl = socket.socket(fileno=ctl_fd)
    children: set[int] = set()
    # A child's exit wakes the loop at once (SIGCHLD → wakeup pipe): the worker waits for
    # that report when it closes a child, so a polling interval would be paid per child.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(ctl, {"op": "ready", "pid": os.getpid()})
    while True:
        watched: list[Any] = [ctl, wake_r]
        readable, _, _ = select.select(watched, [], [], 1.0)
        if wake_r in readable:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        _reap(ctl, children)
        if ctl not in readable:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(ctl, 65536, 3)
        except OSError:
            data, fds = b"", []
        if not data:
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os._exit(0)
        request = json.loads(data)
        if request.get("op") != "spawn" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            _send(ctl, {"op": "error", "message": "bad spawn request"})
            continue
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(wake_r)
                os.close(wake_w)
                ctl.close()
                child.attach_and_run(*fds)
            finally:
                os._exit(71)
        for fd in fds:
            os.close(fd)
        children.add(pid)
        _send(ctl, {"op": "spawned", "pid": pid})


if __name__ == "__main__":
    main(int(sys.argv[1]))
