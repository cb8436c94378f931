"""The `student` fixture: a proxy whose calls run in the sandbox and come back as data."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np

from tfgrade.engine.artifacts import (
    MAX_TRACE_BYTES,
    NOT_KEPT,
    ArtifactResolver,
    TracedFunction,
    kept,
)
from tfgrade.engine.clean_process import Verifier
from tfgrade.engine.returned import (
    from_wire,
)
from tfgrade.engine.student_error import SIGNAL_NAMES as SIGNAL_NAMES
from tfgrade.engine.student_error import ErrorKind as ErrorKind
from tfgrade.engine.student_error import StudentError as StudentError
from tfgrade.errors import ProtocolError, SandboxError
from tfgrade.supervisor.children import ChildDied, ChildTimeout, Sandbox, SandboxChild
from tfgrade.wire import framing as protocol
from tfgrade.wire import values
from tfgrade.wire.messages import Builtin, Call, Init, Loaded, Reply, Trace, WireError


@dataclass
class CallInfo:
    """One call as the trusted side saw it. `duration_s` is this side's own clock (request
    sent → reply read); `events` and `reported_duration_s` are what the student's process
    said about itself: hints for feedback, worth no points."""

    duration_s: float = 0.0
    events: dict[str, int] = field(default_factory=dict)
    output: str = ""
    reported_duration_s: float = 0.0


@dataclass
class StudentProxy:
    sandbox: Sandbox
    module: str
    filename: str
    source: str
    seed: int
    call_timeout_s: float = 60.0
    train_timeout_s: float = 120.0
    workdir: str = "/tmp"
    last: CallInfo = field(default_factory=CallInfo)
    student_time_s: float = 0.0
    outputs: list[str] = field(default_factory=list)
    defined: tuple[str, ...] = ()
    failed_cells: tuple[dict[str, Any], ...] = ()
    _child: SandboxChild | None = None
    _generation: int = 0
    _load_error: StudentError | None = None
    _cache: dict[str, Any] = field(default_factory=dict)
    sent_frames: list[bytes] = field(default_factory=list)   # kept only when auditing (tests)
    audit: bool = False
    memory_mb: int | None = None
    budget_s: float | None = None          # wall clock for the whole exercise, respawns included
    hidden: bool = False                    # set by the engine while a hidden check runs
    hidden_outputs: list[str] = field(default_factory=list)
    wall_s: float = 0.0                     # trusted clock: time spent waiting on the student's child
    _timed_out: dict[str, StudentError] = field(default_factory=dict)
    _verifier: Verifier | None = None
    shared_verifier: Verifier | None = None   # the student's clean process, owned by the caller
    _artifact_start: float = 0.0
    _budget_error: StudentError | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def _spawn(self) -> SandboxChild:
        if self._child is not None and self._child.alive:
            return self._child
        if self._child is not None:
            self._collect_output(self._child)
            if self._load_error is not None and self._load_error.kind == "timeout":
                return self._child      # a file that hangs at import is not loaded again
        self._generation += 1
        self._load_error = None
        init = Init.student(self.module, self.filename, self.source, self.seed, self.workdir)
        if self.audit:
            self.sent_frames.append(protocol.encode(replace(init, plan=self.sandbox.plan).to_header()))
        child = self.sandbox.spawn(init, memory_mb=self.memory_mb)
        self._child = child
        start = time.monotonic()
        try:
            reply = child.receive(self._limit(self.train_timeout_s))
        except ChildTimeout:
            self.wall_s += time.monotonic() - start
            self._load_error = StudentError("timeout", "<módulo/module>", limit_s=self.train_timeout_s)
            return child
        except ChildDied as died:
            self.wall_s += time.monotonic() - start
            self._load_error = self._crash("<módulo/module>", died)
            return child
        self.wall_s += time.monotonic() - start
        try:
            loaded = Loaded.from_header(reply.header)
        except ProtocolError as exc:
            self._load_error = StudentError("load", "<módulo/module>", "ProtocolError", exc.detail[:2000])
            return child
        self.student_time_s += loaded.duration_s
        if not loaded.ok:
            err = loaded.error or WireError("")
            load_kind: ErrorKind = "syntax" if err.kind == "syntax" else "load"
            self._load_error = StudentError(load_kind, "<módulo/module>", (err.type or "")[:200],
                                            err.message[:2000], _frames(err))
        else:
            self.defined = loaded.functions or ()
            self.failed_cells = tuple(
                {"cell": c.get("cell") if isinstance(c.get("cell"), int) else None,
                 "type": str(c.get("type", ""))[:100], "message": str(c.get("message", ""))[:500]}
                for c in (loaded.failed_cells or ())[:50])
        return child

    def _crash(self, function: str, died: ChildDied) -> StudentError:
        if died.signum:
            detail = f"signal {SIGNAL_NAMES.get(died.signum, died.signum)}"
        else:
            detail = f"exit status {died.code}"
        return StudentError("crashed", function, message=detail, reason=died.reason)

    def _collect_output(self, child: SandboxChild) -> None:
        """What the child printed since the last call; output made during a hidden check's
        call may hold held-out inputs, so it is kept apart (instructor only)."""
        child.stdout.join(0.5) if not child.alive else None
        child.stderr.join(0.5) if not child.alive else None
        text = "\n".join(t for t in (child.stdout.since_mark(), child.stderr.since_mark()) if t.strip())
        if text:
            (self.hidden_outputs if self.hidden else self.outputs).append(text)

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._collect_output(self._child)
            self._child = None
        if self._verifier is not None:
            if self._verifier is not self.shared_verifier:
                self._verifier.close()
            self.student_time_s += self._verifier.artifact_time_s - self._artifact_start
            self._verifier = None

    @property
    def hidden_output(self) -> str:
        return "\n".join(self.hidden_outputs)

    def _limit(self, timeout: float) -> float:
        """A call's limit, cut to what is left of the exercise's budget."""
        if self.budget_s is None:
            return timeout
        return max(0.5, min(timeout, self.budget_s - self.wall_s))

    def _check_budget(self, function: str) -> None:
        if self._budget_error is not None:
            raise self._budget_error
        if self.budget_s is not None and self.wall_s >= self.budget_s:
            self._budget_error = StudentError("timeout", function, limit_s=self.budget_s, reason="budget")
            raise self._budget_error

    @property
    def output(self) -> str:
        return "\n".join(self.outputs)

    # -- calls -----------------------------------------------------------------------------
    def _request(self, function: str, request: Call | Builtin, arrays: list[np.ndarray],
                 timeout: float) -> Any:
        if function in self._timed_out:
            # Calling a function that hung again would pay its limit again, per check.
            raise self._timed_out[function]
        self._check_budget(function)
        child = self._spawn()
        if self._load_error is not None:
            raise self._load_error
        self._check_budget(function)
        header = request.to_header()
        if self.audit:
            self.sent_frames.append(protocol.encode(header, arrays))
        limit = self._limit(timeout)
        start = time.monotonic()
        try:
            raw = child.request(header, arrays, limit)
            reply = Reply.from_header(raw.header)
        except ChildTimeout:
            self.wall_s += time.monotonic() - start
            self.last = CallInfo(duration_s=time.monotonic() - start)
            self._collect_output(child)
            over_budget = limit < timeout
            timeout_error = StudentError("timeout", function, reason="budget" if over_budget else "",
                                         limit_s=self.budget_s if over_budget and self.budget_s else timeout)
            self._timed_out[function] = timeout_error
            raise timeout_error from None
        except ChildDied as died:
            self.wall_s += time.monotonic() - start
            self._collect_output(child)
            raise self._crash(function, died) from None
        except ProtocolError as exc:
            self.wall_s += time.monotonic() - start
            raise StudentError("bad_value", function, message=exc.detail) from None
        elapsed = time.monotonic() - start
        self.wall_s += elapsed
        events = reply.events or {}
        reported = reply.duration_s or 0.0
        before = len(self.outputs) + len(self.hidden_outputs)
        self._collect_output(child)
        fresh = (self.hidden_outputs if self.hidden else self.outputs)[-1] \
            if len(self.outputs) + len(self.hidden_outputs) > before else ""
        self.last = CallInfo(duration_s=elapsed,
                             events=dict(events),
                             output=fresh, reported_duration_s=reported)
        self.student_time_s += elapsed
        if not reply.ok:
            err = reply.error or WireError("")
            kind: ErrorKind = "raised"
            if err.kind in ("missing", "not_implemented", "bad_value"):
                kind = cast(ErrorKind, err.kind)
            raise StudentError(kind, function, (err.type or "")[:200], err.message[:2000], _frames(err))
        return from_wire(reply.value, raw.arrays, ArtifactResolver(self))

    def _cached(self, kind: Literal['call', 'builtin', 'trace'], name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                timeout: float) -> Any:
        arrays: list[np.ndarray] = []
        encoded_args, encoded_kwargs = values.encode_args(list(args), arrays), values.encode_args(kwargs, arrays)
        request: Call | Builtin = Builtin(name, encoded_kwargs) if kind == "builtin" else \
            (Trace if kind == "trace" else Call)(name, encoded_args, encoded_kwargs)
        key = hashlib.sha256(protocol.encode(request.to_header(), arrays)).hexdigest()
        if key in self._cache and self._cache[key][0] is not NOT_KEPT:
            value, info = self._cache[key]
            self.last = info
            return value
        value = self._request(name, request, arrays, timeout)
        self._cache[key] = (kept(value), self.last)
        return value

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._cached("call", name, args, kwargs, self.call_timeout_s)

    def train(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._cached("call", name, args, kwargs, self.train_timeout_s)

    def builtin(self, name: str, **kwargs: Any) -> Any:
        """A grader helper run in the student's child on the student's code (`bench`): never
        cached, since a timing is only meaningful when measured again. Helpers that run no
        student code (devices, timings) belong to the clean process."""
        arrays: list[np.ndarray] = []
        request = Builtin(name, values.encode_args(kwargs, arrays))
        return self._request(name, request, arrays, self.train_timeout_s)

    # -- the clean process --------------------------------------------------------------------
    @property
    def verifier(self) -> Verifier:
        """The clean process: the student's own (shared by their exercises, see
        `Grader.grade_student`) when given, else one for this exercise alone."""
        if self._verifier is None:
            if self.shared_verifier is not None:
                self._verifier = self.shared_verifier
            else:
                self._verifier = Verifier(self.sandbox, timeout_s=max(self.call_timeout_s, 30.0),
                                          memory_mb=self.memory_mb, workdir=self.workdir)
            self._artifact_start = self._verifier.artifact_time_s
        return self._verifier

    def trace(self, name: str, *args: Any, **kwargs: Any) -> TracedFunction:
        """`name(*args, **kwargs)` traced into a graph in the student's child (student code
        runs, under the call limit); the graph is then only run by the clean process."""
        value = self._cached("trace", name, args, kwargs, self.call_timeout_s)
        if not isinstance(value, dict) or not isinstance(value.get("graphdef"), np.ndarray):
            raise StudentError("bad_value", name, message="no graph came back from tracing")
        graphdef = value["graphdef"]
        names = value.get("captures") or []
        values = value.get("capture_values") or ()
        if graphdef.nbytes > MAX_TRACE_BYTES:
            raise StudentError("bad_value", name, message=f"the traced graph is over {MAX_TRACE_BYTES >> 20} MiB")
        if graphdef.dtype != np.uint8 or not isinstance(names, list) or not isinstance(values, tuple) \
                or len(names) != len(values) or not all(isinstance(v, np.ndarray) for v in values):
            raise StudentError("bad_value", name, message="the traced graph is malformed")
        matrix = next((a for a in args if isinstance(a, np.ndarray)), np.zeros((0, 0), np.float32))
        return TracedFunction(self, name, graphdef.tobytes(), str(value.get("output", "")),
                              {str(n): v for n, v in zip(names, values, strict=True)}, matrix)

    def ensure_loaded(self) -> StudentError | None:
        try:
            self._spawn()
        except SandboxError:
            raise
        return self._load_error


def _frames(err: WireError) -> tuple[dict[str, Any], ...]:
    out = []
    for f in (err.frames or ())[:12]:
        if isinstance(f, dict):
            out.append({"line": f.get("line") if isinstance(f.get("line"), int) else None,
                        "function": str(f.get("function", ""))[:200], "code": str(f.get("code", ""))[:300]})
    return tuple(out)
