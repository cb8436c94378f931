"""The `student` fixture: a proxy whose calls run in the sandbox and come back as data."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np

from tfgrade.catalogue import GRADER
from tfgrade.engine.clean_process import Verifier, VerifierRefused
from tfgrade.engine.returned import (
    GraphSpec,
    ModelHandle,
    OpSpec,
    TensorValue,
    TracedRun,
    UnverifiableModel,
    from_wire,
)
from tfgrade.errors import ProtocolError, SandboxError
from tfgrade.i18n import Msg
from tfgrade.supervisor.children import ChildDied, ChildTimeout, Sandbox, SandboxChild
from tfgrade.wire import framing as protocol
from tfgrade.wire import values
from tfgrade.wire.messages import Builtin, Call, Init, Loaded, Reply, Trace, WireError
from tfgrade.wire.probe import agree, probe_input

ErrorKind = Literal["missing", "not_implemented", "raised", "timeout", "crashed", "bad_value",
                    "syntax", "load"]
SIGNAL_NAMES = {9: "SIGKILL", 11: "SIGSEGV", 6: "SIGABRT", 24: "SIGXCPU", 25: "SIGXFSZ", 15: "SIGTERM"}


@dataclass(eq=False)
class StudentError(Exception):
    """The student's code could not give a value. One clear message, no traceback of ours."""

    kind: ErrorKind
    function: str
    exc_type: str = ""
    message: str = ""
    frames: tuple[dict[str, Any], ...] = ()
    limit_s: float = 0.0
    reason: str = ""

    def __str__(self) -> str:
        return self.msg().en

    def where(self) -> Msg:
        if not self.frames:
            return Msg("", "")
        f = self.frames[-1]
        code = f" {f.get('code')}" if f.get("code") else ""
        if code:
            return GRADER("student_where_code", line=f.get("line"), code=code)
        return GRADER("student_where_line", line=f.get("line"))

    def msg(self) -> Msg:
        fn = f"`{self.function}`"
        if self.kind == "missing":
            return GRADER("student_missing", fn=fn)
        if self.kind == "not_implemented":
            return GRADER("student_not_implemented", fn=fn)
        if self.kind == "syntax":
            return GRADER("student_syntax", message=self.message) + self.where()
        if self.kind == "load":
            if self.exc_type == "SystemExit":
                return GRADER("student_load_exit")
            return GRADER("student_load_raised", exc_type=self.exc_type, message=self.message) + self.where()
        if self.kind == "raised":
            return GRADER("student_raised", fn=fn, exc_type=self.exc_type, message=self.message) + self.where()
        limit = f"{self.limit_s:g}"       # formatted here: the same digits in both languages
        if self.kind == "timeout" and self.reason == "budget":
            return GRADER("student_budget", fn=fn, limit=limit)
        if self.kind == "timeout":
            return GRADER("student_timeout", fn=fn, limit=limit)
        if self.kind == "bad_value":
            return GRADER("student_bad_value", fn=fn, message=self.message)
        if self.reason == "memory":
            return GRADER("student_memory", fn=fn)
        if self.reason == "processes":
            return GRADER("student_processes", fn=fn)
        return GRADER("student_crashed", fn=fn, message=self.message)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function, "type": self.exc_type,
                "message": self.message, "frames": list(self.frames)}


class GraderBuiltinError(RuntimeError):
    """A grader helper running in the sandbox failed: not the student's doing."""


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
        return from_wire(reply.value, raw.arrays, _ArtifactResolver(self))

    def _cached(self, kind: Literal['call', 'builtin', 'trace'], name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                timeout: float) -> Any:
        arrays: list[np.ndarray] = []
        encoded_args, encoded_kwargs = values.encode_args(list(args), arrays), values.encode_args(kwargs, arrays)
        request: Call | Builtin = Builtin(name, encoded_kwargs) if kind == "builtin" else \
            (Trace if kind == "trace" else Call)(name, encoded_args, encoded_kwargs)
        key = hashlib.sha256(protocol.encode(request.to_header(), arrays)).hexdigest()
        if key in self._cache and self._cache[key][0] is not _NOT_KEPT:
            value, info = self._cache[key]
            self.last = info
            return value
        value = self._request(name, request, arrays, timeout)
        self._cache[key] = (_kept(value), self.last)
        return value

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._cached("call", name, args, kwargs, self.call_timeout_s)

    def train(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._cached("call", name, args, kwargs, self.train_timeout_s)

    def builtin(self, name: str, *, runs_student_code: bool = False, **kwargs: Any) -> Any:
        """Grader-side helpers run in the sandbox (devices, timing): never cached, since a
        timing is only meaningful when measured again. When a helper that runs no student
        code fails, that is the grader's fault, and it is reported as such."""
        arrays: list[np.ndarray] = []
        request = Builtin(name, values.encode_args(kwargs, arrays))
        try:
            return self._request(name, request, arrays, self.train_timeout_s)
        except StudentError as exc:
            if runs_student_code or exc.kind in ("timeout", "crashed") or self._load_error is exc:
                raise
            raise GraderBuiltinError(f"sandbox helper {name!r} failed: {exc.exc_type}: {exc.message}") from None

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


MAX_CACHED_BYTES = 16 * 1024 * 1024
# This side's own caps on exported artifacts (the child's are the student's to remove).
MAX_GRAPHDEF_BYTES = 16 * 1024 * 1024
MAX_TRACE_BYTES = 48 * 1024 * 1024     # a reply bigger than this is not kept for later checks


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, TensorValue):
        return int(value.array.nbytes)
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


def _kept(value: Any) -> Any:
    """What the cache may keep: small replies. A big one (a 256 MiB matrix) is dropped, so
    the trusted worker's memory does not grow with every distinct call."""
    return value if _nbytes(value) <= MAX_CACHED_BYTES else _NOT_KEPT


_NOT_KEPT = object()


class _ArtifactResolver:
    """Verifies what the student's child exported: archive checked here, then loaded and
    measured by the clean process; a GraphDef imported there."""

    def __init__(self, proxy: StudentProxy) -> None:
        self.proxy = proxy

    def model(self, archive: bytes | None, histories: tuple[dict[str, Any], ...],
              save_error: str | None, probe: np.ndarray | None) -> ModelHandle | UnverifiableModel:
        from tfgrade.checklib.source import SourceView, tampering
        from tfgrade.engine.keras_archive import ArchiveRefused, ModelFacts, describe_archive, read_archive

        patched = tampering(SourceView.parse(self.proxy.source))
        if patched:
            listed = ", ".join(patched)
            return UnverifiableModel("patched", Msg(
                f"tu archivo cambia lo que Keras dice de sus objetos ({listed}): el calificador no puede "
                "verificar un modelo así. Construye el modelo con capas de Keras sin reasignar sus "
                "atributos ni métodos",
                f"your file changes what Keras says about its objects ({listed}): the grader cannot "
                "verify such a model. Build the model from Keras layers without re-assigning their "
                "attributes or methods"), histories)
        if archive is None:
            detail = save_error or "no archive"
            return UnverifiableModel("save_failed", Msg(
                f"el calificador no pudo guardar tu modelo como archivo .keras ({detail}); solo puede "
                "verificar modelos hechos de capas de Keras incorporadas",
                f"the grader could not save your model as a .keras archive ({detail}); it can only "
                "verify models made of built-in Keras layers"), histories)
        try:
            parsed = read_archive(archive)
        except ArchiveRefused as exc:
            return UnverifiableModel(exc.reason, exc.msg, histories)
        try:
            _, facts = self.proxy.verifier.load_model(archive)
        except VerifierRefused as exc:
            return UnverifiableModel("load_failed", Msg(
                f"tu modelo no se pudo cargar desde su archivo .keras: {exc.detail}",
                f"your model could not be loaded from its .keras archive: {exc.detail}"), histories)
        model_facts = ModelFacts.from_wire(facts)
        x = probe_input(model_facts.input_shape, self.proxy.seed)
        if x is not None:
            # The archive must behave as the model that was returned (see tfgrade.wire.probe).
            try:
                expected = self.proxy.verifier.predict(archive, x, self.proxy.call_timeout_s) \
                    if probe is not None else None
            except VerifierRefused:
                expected = None
            if probe is None or expected is None or not agree(probe, expected):
                return UnverifiableModel("behaviour_mismatch", Msg(
                    "el modelo guardado no se comporta como el modelo que devolviste (sus capas o "
                    "activaciones no son las de Keras que dicen ser): el calificador solo puede "
                    "verificar capas y activaciones incorporadas de Keras",
                    "the saved model does not behave as the model you returned (its layers or "
                    "activations are not the Keras ones they claim to be): the grader can only "
                    "verify built-in Keras layers and activations"), histories)
        spec = describe_archive(parsed, model_facts, histories)
        return ModelHandle(spec, archive, self._predict)

    def _predict(self, archive: bytes, x: np.ndarray) -> np.ndarray:
        try:
            return self.proxy.verifier.predict(archive, x, self.proxy.call_timeout_s)
        except VerifierRefused as exc:
            raise StudentError("bad_value", "predict", message=exc.detail) from None

    def graph(self, graphdef: bytes | None, error: str | None) -> GraphSpec:
        if graphdef is not None and len(graphdef) > MAX_GRAPHDEF_BYTES:
            error = f"{len(graphdef) >> 20} MiB; at most {MAX_GRAPHDEF_BYTES >> 20} MiB are accepted"
            graphdef = None
        if graphdef is None:
            return GraphSpec(True, (), Msg(f"el grafo no se pudo exportar ({error})",
                                           f"the graph could not be exported ({error})"))
        try:
            gid, ops = self.proxy.verifier.import_graph(graphdef)
        except VerifierRefused as exc:
            return GraphSpec(True, (), Msg(f"el grafo no se pudo importar: {exc.detail}",
                                           f"the graph could not be imported: {exc.detail}"))
        specs = tuple(OpSpec(str(o.get("name", ""))[:500], str(o.get("type", ""))[:100],
                             str(o["dtype"])[:40] if o.get("dtype") else None,
                             tuple(str(i)[:500] for i in (o.get("inputs") or [])[:64]))
                      for o in ops if isinstance(o, dict))
        verifier = self.proxy.verifier

        def run(fetch: str, feeds: dict[str, Any]) -> np.ndarray:
            try:
                return verifier.run_graph(gid, fetch, feeds)
            except VerifierRefused as exc:
                raise StudentError("bad_value", "build_graph", message=exc.detail) from None

        return GraphSpec(True, specs, None, run)


@dataclass
class TracedFunction:
    """A student's function call traced into a graph; `run` executes it in the clean process."""

    proxy: StudentProxy
    function: str
    graphdef: bytes = field(repr=False)
    output: str
    captures: dict[str, np.ndarray] = field(repr=False)
    matrix: np.ndarray = field(repr=False)      # the array argument, fed to the graph as an input

    def run(self, repeats: int = 1) -> TracedRun:
        try:
            value = self.proxy.verifier.run_traced(self.graphdef, self.output, self.captures, repeats,
                                                   self.matrix, timeout=self.proxy.call_timeout_s)
        except VerifierRefused as exc:
            raise StudentError("bad_value", self.function, message=f"the traced graph did not run: {exc.detail}") from None
        products = value.get("products")
        return TracedRun(array=value["array"], device=str(value.get("device", "")),
                         products=int(products) if isinstance(products, int) and not value.get("loops") else None,
                         loops=bool(value.get("loops")), seconds=float(value.get("seconds", 0.0)),
                         uses_input=bool(value.get("uses_input", False)))
