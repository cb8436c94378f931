"""The sandbox child: isolates itself, loads the student's file, answers calls as data.

Started as a fork of the zygote (Linux), as a fresh process (`python -m
tfgrade.sandboxed.child FD`, Linux without the zygote), or on the portable path as a spawned
process that connects back over loopback TCP (`python -m tfgrade.sandboxed.child --connect
127.0.0.1:PORT`, token on stdin: Windows, macOS, `TFGRADE_PORTABLE=1`). Its first frame on the channel is `init`; everything before the
student's code runs (isolation, limits, seeds, thread counts, instrumentation) happens here.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
import types
from typing import Any

import numpy as np

from tfgrade.sandboxed import channel, confine
from tfgrade.sandboxed.channel import Chan
from tfgrade.wire import framing as protocol
from tfgrade.wire import values
from tfgrade.wire.messages import Builtin, Call, Init, Loaded, Reply, Trace, WireError, student_request
from tfgrade.wire.plan import SandboxPlan

CHAN_FD = 3


def describe_exception(exc: BaseException, filename: str) -> WireError:
    frames: list[dict[str, Any]] = [{"line": f.lineno, "function": f.name, "code": (f.line or "")[:300]}
                                    for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    try:
        message = str(exc)[:2000]
    except Exception:  # noqa: BLE001 - a student exception whose __str__ fails
        message = "<message unavailable>"
    if isinstance(exc, NotImplementedError):
        kind = "not_implemented"
    elif isinstance(exc, SyntaxError):
        kind = "syntax"
        frames = [{"line": exc.lineno, "function": "<module>", "code": (exc.text or "").rstrip()[:300]}]
    else:
        kind = "raised"
    return WireError(kind, message, type(exc).__name__[:200], tuple(frames[-12:]))


def _bad_value(exc_type: str, message: str) -> Reply:
    return Reply.failure(WireError("bad_value", message, exc_type, ()))


class Service:
    def __init__(self, init: Init, chan: Chan) -> None:
        from tfgrade.sandboxed.export import Describer

        self.init = init
        self.chan = chan
        self.filename = os.path.join(os.getcwd(), init.filename)
        self.module: types.ModuleType | None = None
        self.describer = Describer(init.seed)

    def send(self, message: Reply | Loaded) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        arrays = self.describer.arrays
        try:
            channel.send(self.chan, message.to_header(), arrays)
        except protocol.ProtocolError as exc:
            channel.send(self.chan, _bad_value("ProtocolError", exc.detail).to_header())
        self.describer.reset_arrays()

    def load(self) -> None:
        from tfgrade.sandboxed import instrument

        module = types.ModuleType(self.init.module)
        module.__file__ = self.filename
        sys.modules[module.__name__] = module
        start = time.perf_counter()
        try:
            code = compile(self.init.source, self.filename, "exec")
            exec(code, module.__dict__)  # noqa: S102 - this is the sandbox: running it is the point
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a student error too
            self.send(Loaded(False, describe_exception(exc, self.filename), time.perf_counter() - start,
                             instrument.snapshot()))
            return
        self.module = module
        failed = module.__dict__.get("_tfgrade_failed_cells")      # notebooks: cells that raised
        cells = [c for c in failed if isinstance(c, dict)][:50] if isinstance(failed, list) else []
        self.send(Loaded(True, None, time.perf_counter() - start, instrument.snapshot(), tuple(cells),
                         tuple(sorted(k for k, v in module.__dict__.items() if callable(v))[:500])))

    def call(self, req: Call, arrays: tuple[np.ndarray, ...]) -> None:
        """Call the student's function with the decoded arguments and send what it returned.
        With `tracing`, the call is traced into a GraphDef instead (ex05: the clean process
        counts its products and runs it); tracing runs student code too."""
        from tfgrade.sandboxed import instrument
        from tfgrade.sandboxed.tracing import trace_call

        tracing = isinstance(req, Trace)
        name = req.name
        fn = getattr(self.module, name, None) if self.module is not None else None
        if not callable(fn):
            self.send(Reply.failure(WireError("missing", name, "AttributeError", ())))
            return
        args = values.decode_args(req.args, arrays)
        kwargs = values.decode_args(req.kwargs, arrays)
        instrument.reset()
        start = time.perf_counter()
        try:
            value = trace_call(fn, args, kwargs) if tracing else fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            self.send(Reply.failure(describe_exception(exc, self.filename), time.perf_counter() - start,
                                    instrument.snapshot()))
            return
        duration = time.perf_counter() - start
        events = instrument.snapshot()
        try:
            described = self.describer.describe(value)
        except BaseException as exc:  # noqa: BLE001 - a hostile value that breaks describing
            self.describer.reset_arrays()
            self.send(_bad_value(type(exc).__name__, str(exc)[:500]))
            return
        self.send(Reply.success(described, duration, events))

    def builtin(self, req: Builtin) -> None:
        name = req.name
        kwargs = values.decode_args(req.kwargs, ())
        start = time.perf_counter()
        try:
            if name == "bench":
                from tfgrade.sandboxed.bench_kernel import bench_rows
                fn = getattr(self.module, "matrix_power", None)
                if not callable(fn):
                    raise AttributeError("matrix_power")
                value: Any = bench_rows(fn, **kwargs)
            else:
                raise KeyError(name)
        except BaseException as exc:  # noqa: BLE001
            self.send(Reply.failure(describe_exception(exc, self.filename)))
            return
        self.send(Reply.success(self.describer.describe(value), time.perf_counter() - start, {}))

    def serve(self) -> None:
        self.load()
        read = channel.reader(self.chan)
        while True:
            try:
                frame = protocol.read_frame(read)
            except (EOFError, OSError, protocol.ProtocolError):
                return
            try:
                req = student_request(frame.header)
            except protocol.ProtocolError:
                return
            if isinstance(req, Builtin):
                self.builtin(req)
            else:
                self.call(req, frame.arrays)


def _prepare_process(init: Init) -> None:
    """Seeds, threads, instrumentation and notebook shims, before any student code."""
    import random

    threads = max(1, init.threads)
    os.environ.update({"OMP_NUM_THREADS": str(threads), "MPLBACKEND": "Agg",
                       "HOME": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "3"})
    import keras

    from tfgrade.sandboxed.devices import configure_tensorflow

    seed = init.seed
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    configure_tensorflow(threads)
    from tfgrade.sandboxed import instrument

    instrument.install()
    try:
        from tfgrade.sandboxed.ipython_shims import install_shims
    except ImportError:
        return
    install_shims()


def _workdir(plan: SandboxPlan, init: Init) -> None:
    path = "/tmp/work" if plan.level != "basic" else init.workdir
    os.makedirs(path, exist_ok=True)
    os.chdir(path)


def run(chan: Chan) -> None:
    """Everything the child does after it owns the channel. Never returns."""
    code = 0
    try:
        frame = protocol.read_frame(channel.reader(chan))
        init = Init.from_header(frame.header)
        plan = init.plan
        assert plan is not None        # from_header requires it
        if plan.level != "basic":
            assert isinstance(chan, int)    # the namespace levels are forked children
            confine.enter_namespaces(plan)
            pid = os.fork()
            if pid:
                # The outer child just waits: when pid 1 of the namespace dies, all of it dies.
                os.close(chan)
                for fd in (0, 1, 2):
                    os.close(fd)
                _, status = os.waitpid(pid, 0)
                if os.WIFSIGNALED(status):
                    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
                    os.kill(os.getpid(), os.WTERMSIG(status))
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
            confine.die_with_parent()
            confine.finish_namespaces()
        _workdir(plan, init)
        confine.apply_limits(plan.limits, in_userns=plan.level != "basic")
        if init.mode == "verify":
            # The clean process: it never receives, compiles or imports student source.
            from tfgrade.sandboxed.verify_service import VerifyService, prepare_verifier

            prepare_verifier(max(1, init.threads))
            VerifyService(chan).serve()
        else:
            _prepare_process(init)
            Service(init, chan).serve()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - report our own failure on stderr, then die
        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


def attach_and_run(chan: int, out_fd: int, err_fd: int) -> None:
    """In a freshly forked/started child: own stdio, own session, then run."""
    os.setsid()
    confine.die_with_parent()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    os.dup2(chan, CHAN_FD)
    keep = {0, 1, 2, CHAN_FD}
    for fd in (devnull, out_fd, err_fd, chan):
        if fd not in keep:
            os.close(fd)
    os.closerange(CHAN_FD + 1, 65536)
    run(CHAN_FD)


def _wait_and_mirror(pid: int) -> None:
    """Wait for `pid` and end the same way it did (its exit code, or its signal)."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _quiet_import() -> None:
    """What the zygote imports once, imported before the channel is offered, so that the
    supervisor's deadlines start when this child is ready. TensorFlow's own import noise
    is not the student's output: stdout and stderr point at the null device meanwhile (a
    failure is still told: they are restored before the exception travels on)."""
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        import tfgrade.sandboxed.export  # noqa: F401
        import tfgrade.sandboxed.instrument  # noqa: F401
        import tfgrade.sandboxed.verify_service  # noqa: F401
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def portable_main(address: str) -> None:
    """The portable path (Windows, macOS, `TFGRADE_PORTABLE=1`): a spawned process, no fork,
    no descriptor passing. The supervisor listens on a loopback port for one connection and
    wrote a one-time token on our stdin; we import TensorFlow, connect, prove the token,
    and then speak the wire over that socket. Uses nothing POSIX-only: the level is `basic`
    (no namespaces) and the limits that need `resource` are skipped where it is missing."""
    import socket

    token = sys.stdin.readline().strip()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    confine.die_with_parent()
    code = 72
    try:
        _quiet_import()
        host, _, port = address.rpartition(":")
        sock = socket.create_connection((host, int(port)), timeout=60)
        sock.settimeout(None)
        sock.sendall(token.encode("ascii") + b"\n")
    except BaseException:  # noqa: BLE001 - say why on stderr (the supervisor keeps it), then die
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(code)
    run(sock)


def _fresh_process_main(chan_fd: int) -> None:
    """Fresh-process mode on Linux: channel on argv[1], stdout/stderr already the capture
    pipes. Importing numpy may already have started BLAS threads, and
    unshare(CLONE_NEWUSER) refuses a multi-threaded process (EINVAL): do the rest in a
    fork, which has one thread, exactly as a child of the zygote does."""
    child_pid = os.fork()
    if child_pid == 0:
        try:
            attach_and_run(chan_fd, 1, 2)
        finally:
            os._exit(71)
    os.close(chan_fd)
    for fd in (0, 1, 2):
        os.close(fd)
    _wait_and_mirror(child_pid)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if len(sys.argv) == 3 and sys.argv[1] == "--connect":
        portable_main(sys.argv[2])
    else:
        _fresh_process_main(int(sys.argv[1]))
