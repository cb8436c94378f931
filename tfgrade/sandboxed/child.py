"""The sandbox child: isolates itself, loads the student's file, answers calls as data.

Started either as a fork of the zygote (Linux) or as a fresh process (`python -m
tfgrade.sandboxed.child FD`). Its first frame on the channel is `init`; everything before the
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

from tfgrade.sandboxed import confine
from tfgrade.wire import framing as protocol
from tfgrade.wire.plan import Limits, SandboxPlan

CHAN_FD = 3


def _decode(value: Any, arrays: tuple[np.ndarray, ...]) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        tag = value.get("__t__")
        if tag == "ndarray":
            return arrays[int(value["i"])]
        if tag == "tuple":
            return tuple(_decode(v, arrays) for v in value["items"])
        return {k: _decode(v, arrays) for k, v in value.items()}
    return value


def describe_exception(exc: BaseException, filename: str) -> dict[str, Any]:
    frames = [{"line": f.lineno, "function": f.name, "code": (f.line or "")[:300]}
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
    return {"kind": kind, "type": type(exc).__name__[:200], "message": message, "frames": frames[-12:]}


class Service:
    def __init__(self, init: dict[str, Any], chan: int) -> None:
        from tfgrade.sandboxed.export import Describer

        self.init = init
        self.chan = chan
        self.filename = os.path.join(os.getcwd(), str(init["filename"]))
        self.module: types.ModuleType | None = None
        self.describer = Describer(int(init.get("seed", 0)))

    def send(self, header: dict[str, Any]) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        arrays = self.describer.arrays
        try:
            protocol.send(self.chan, header, arrays)
        except protocol.ProtocolError as exc:
            protocol.send(self.chan, {"ok": False, "error": {
                "kind": "bad_value", "type": "ProtocolError", "message": exc.detail, "frames": []}})
        self.describer.reset_arrays()

    def load(self) -> None:
        from tfgrade.sandboxed import instrument

        module = types.ModuleType(str(self.init["module"]))
        module.__file__ = self.filename
        sys.modules[module.__name__] = module
        start = time.perf_counter()
        try:
            code = compile(str(self.init["source"]), self.filename, "exec")
            exec(code, module.__dict__)  # noqa: S102 - this is the sandbox: running it is the point
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a student error too
            self.send({"op": "loaded", "ok": False, "error": describe_exception(exc, self.filename),
                       "duration_s": time.perf_counter() - start, "events": instrument.snapshot()})
            return
        self.module = module
        failed = module.__dict__.get("_tfgrade_failed_cells")      # notebooks: cells that raised
        self.send({"op": "loaded", "ok": True, "duration_s": time.perf_counter() - start,
                   "events": instrument.snapshot(),
                   "failed_cells": [c for c in failed if isinstance(c, dict)][:50] if isinstance(failed, list) else [],
                   "functions": sorted(k for k, v in module.__dict__.items() if callable(v))[:500]})

    def call(self, req: dict[str, Any], arrays: tuple[np.ndarray, ...], tracing: bool = False) -> None:
        """Call the student's function with the decoded arguments and send what it returned.
        With `tracing`, the call is traced into a GraphDef instead (ex05: the clean process
        counts its products and runs it); tracing runs student code too."""
        from tfgrade.sandboxed import instrument
        from tfgrade.sandboxed.tracing import trace_call

        name = str(req.get("name"))
        fn = getattr(self.module, name, None) if self.module is not None else None
        if not callable(fn):
            self.send({"ok": False, "error": {"kind": "missing", "type": "AttributeError",
                                              "message": name, "frames": []}})
            return
        args = _decode(req.get("args", []), arrays)
        kwargs = _decode(req.get("kwargs", {}), arrays)
        instrument.reset()
        start = time.perf_counter()
        try:
            value = trace_call(fn, args, kwargs) if tracing else fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            self.send({"ok": False, "error": describe_exception(exc, self.filename),
                       "duration_s": time.perf_counter() - start, "events": instrument.snapshot()})
            return
        duration = time.perf_counter() - start
        events = instrument.snapshot()
        try:
            described = self.describer.describe(value)
        except BaseException as exc:  # noqa: BLE001 - a hostile value that breaks describing
            self.describer.reset_arrays()
            self.send({"ok": False, "error": {"kind": "bad_value", "type": type(exc).__name__,
                                              "message": str(exc)[:500], "frames": []}})
            return
        self.send({"ok": True, "value": described, "duration_s": duration, "events": events})

    def builtin(self, req: dict[str, Any]) -> None:
        name = str(req.get("name"))
        kwargs = _decode(req.get("kwargs", {}), ())
        start = time.perf_counter()
        try:
            if name == "devices":
                from tfgrade.sandboxed.devices import list_devices
                value: Any = list_devices()
            elif name == "matmul_seconds":
                from tfgrade.sandboxed.bench_kernel import matmul_seconds
                value = matmul_seconds(**kwargs)
            elif name == "bench":
                from tfgrade.sandboxed.bench_kernel import bench_rows
                fn = getattr(self.module, "matrix_power", None)
                if not callable(fn):
                    raise AttributeError("matrix_power")
                value = bench_rows(fn, **kwargs)
            else:
                raise KeyError(name)
        except BaseException as exc:  # noqa: BLE001
            self.send({"ok": False, "error": describe_exception(exc, self.filename)})
            return
        self.send({"ok": True, "value": self.describer.describe(value),
                   "duration_s": time.perf_counter() - start, "events": {}})

    def serve(self) -> None:
        self.load()
        read = protocol.fd_reader(self.chan)
        while True:
            try:
                frame = protocol.read_frame(read)
            except (EOFError, OSError, protocol.ProtocolError):
                return
            req = frame.header if isinstance(frame.header, dict) else {}
            op = req.get("op")
            if op == "call":
                self.call(req, frame.arrays)
            elif op == "builtin":
                self.builtin(req)
            elif op == "trace":
                self.call(req, frame.arrays, tracing=True)
            else:
                return


def _prepare_process(init: dict[str, Any]) -> None:
    """Seeds, threads, instrumentation and notebook shims, before any student code."""
    import random

    threads = max(1, int(init.get("threads", 1)))
    os.environ.update({"OMP_NUM_THREADS": str(threads), "MPLBACKEND": "Agg",
                       "HOME": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "3"})
    import keras

    from tfgrade.sandboxed.devices import configure_tensorflow

    seed = int(init.get("seed", 0))
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


def _workdir(plan: SandboxPlan, init: dict[str, Any]) -> None:
    path = "/tmp/work" if plan.level != "basic" else str(init["workdir"])
    os.makedirs(path, exist_ok=True)
    os.chdir(path)


def run(chan: int) -> None:
    """Everything the child does after it owns the channel. Never returns."""
    code = 0
    try:
        frame = protocol.read_frame(protocol.fd_reader(chan))
        init = frame.header
        plan = SandboxPlan(
            level=init["plan"]["level"], masks=tuple(init["plan"].get("masks", [])),
            limits=Limits(**init["plan"].get("limits", {})))
        if plan.level != "basic":
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
        if init.get("mode") == "verify":
            # The clean process: it never receives, compiles or imports student source.
            from tfgrade.sandboxed.verify_service import VerifyService, prepare_verifier

            prepare_verifier(max(1, int(init.get("threads", 1))))
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


if __name__ == "__main__":
    # Fresh-process mode: channel on argv[1], stdout/stderr already the capture pipes.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Importing numpy may already have started BLAS threads, and unshare(CLONE_NEWUSER)
    # refuses a multi-threaded process (EINVAL): do the rest in a fork, which has one
    # thread, exactly as a child of the zygote does.
    chan_fd = int(sys.argv[1])
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
