"""The `student` fixture: a proxy whose calls run in the sandbox and come back as data."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import protocol
from .errors import ProtocolError, SandboxError
from .i18n import Msg
from .sandbox.supervisor import ChildDied, ChildTimeout, Sandbox, SandboxChild
from .specs import from_wire

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
        return Msg(f" (línea {f.get('line')}:{code})" if code else f" (línea {f.get('line')})",
                   f" (line {f.get('line')}:{code})" if code else f" (line {f.get('line')})")

    def msg(self) -> Msg:
        fn = f"`{self.function}`"
        if self.kind == "missing":
            return Msg(f"no se encontró la función {fn} en tu archivo (revisa el nombre)",
                       f"function {fn} was not found in your file (check its name)")
        if self.kind == "not_implemented":
            return Msg(f"{fn} aún no está implementada (lanza NotImplementedError)",
                       f"{fn} is not implemented yet (it raises NotImplementedError)")
        if self.kind == "syntax":
            return Msg(f"tu archivo tiene un error de sintaxis: {self.message}", f"your file has a syntax error: {self.message}") + self.where()
        if self.kind == "load":
            if self.exc_type == "SystemExit":
                return Msg("tu archivo llamó a sys.exit()/exit() al cargarse: quítalo, el calificador necesita llamar a tus funciones",
                           "your file called sys.exit()/exit() while loading: remove it, the grader needs to call your functions")
            return Msg(f"tu archivo lanzó {self.exc_type} al cargarse: {self.message}",
                       f"your file raised {self.exc_type} while loading: {self.message}") + self.where()
        if self.kind == "raised":
            return Msg(f"{fn} lanzó {self.exc_type}: {self.message}",
                       f"{fn} raised {self.exc_type}: {self.message}") + self.where()
        if self.kind == "timeout":
            return Msg(f"{fn} superó el límite de tiempo de {self.limit_s:g} s (¿un bucle infinito o un entrenamiento demasiado largo?)",
                       f"{fn} took too long: it exceeded the {self.limit_s:g} s limit (an endless loop, or training that is too long?)")
        if self.kind == "bad_value":
            return Msg(f"{fn} devolvió un valor que no se puede leer: {self.message}",
                       f"{fn} returned a value that cannot be read: {self.message}")
        if self.reason == "memory":
            return Msg(f"{fn} usó más memoria de la permitida y se detuvo", f"{fn} used more memory than allowed and was stopped")
        if self.reason == "processes":
            return Msg(f"{fn} creó demasiados procesos y se detuvo", f"{fn} created too many processes and was stopped")
        return Msg(f"el proceso que ejecutaba {fn} terminó de forma inesperada ({self.message})",
                   f"the process running {fn} ended unexpectedly ({self.message})")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function, "type": self.exc_type,
                "message": self.message, "frames": list(self.frames)}


class GraderBuiltinError(RuntimeError):
    """A grader helper running in the sandbox failed: not the student's doing."""


@dataclass
class CallInfo:
    duration_s: float = 0.0
    events: dict[str, int] = field(default_factory=dict)
    output: str = ""


def _encode_args(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"__t__": "ndarray", "i": len(arrays) - 1}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__t__": "tuple", "items": [_encode_args(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode_args(v, arrays) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode_args(v, arrays) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the sandbox")


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

    # -- lifecycle -------------------------------------------------------------------------
    def _spawn(self) -> SandboxChild:
        if self._child is not None and self._child.alive:
            return self._child
        if self._child is not None:
            self._collect_output(self._child)
        self._generation += 1
        self._load_error = None
        init = {"module": self.module, "filename": self.filename, "source": self.source,
                "seed": self.seed, "workdir": self.workdir}
        if self.audit:
            self.sent_frames.append(protocol.encode(init))
        child = self.sandbox.spawn(init)
        self._child = child
        try:
            reply = child.receive(self.train_timeout_s)
        except ChildTimeout:
            self._load_error = StudentError("timeout", "<módulo/module>", limit_s=self.train_timeout_s)
            return child
        except ChildDied as died:
            self._load_error = self._crash("<módulo/module>", died)
            return child
        header = reply.header
        self.student_time_s += float(header.get("duration_s") or 0.0)
        if not header.get("ok"):
            err = _dict(header.get("error"))
            load_kind: ErrorKind = "syntax" if err.get("kind") == "syntax" else "load"
            self._load_error = StudentError(load_kind, "<módulo/module>", str(err.get("type", ""))[:200],
                                            str(err.get("message", ""))[:2000], _frames(err))
        else:
            self.defined = tuple(str(f) for f in header.get("functions", []) if isinstance(f, str))
            cells = header.get("failed_cells")
            self.failed_cells = tuple(
                {"cell": c.get("cell") if isinstance(c.get("cell"), int) else None,
                 "type": str(c.get("type", ""))[:100], "message": str(c.get("message", ""))[:500]}
                for c in (cells if isinstance(cells, list) else [])[:50] if isinstance(c, dict))
        return child

    def _crash(self, function: str, died: ChildDied) -> StudentError:
        if died.signum:
            detail = f"signal {SIGNAL_NAMES.get(died.signum, died.signum)}"
        else:
            detail = f"exit status {died.code}"
        return StudentError("crashed", function, message=detail, reason=died.reason)

    def _collect_output(self, child: SandboxChild) -> None:
        text = child.output()
        if text:
            self.outputs.append(text)

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._collect_output(self._child)
            self._child = None

    @property
    def output(self) -> str:
        return "\n".join(self.outputs)

    # -- calls -----------------------------------------------------------------------------
    def _request(self, function: str, header: dict[str, Any], arrays: list[np.ndarray],
                 timeout: float) -> Any:
        child = self._spawn()
        if self._load_error is not None:
            raise self._load_error
        if self.audit:
            self.sent_frames.append(protocol.encode(header, arrays))
        start = time.monotonic()
        try:
            reply = child.request(header, arrays, timeout)
        except ChildTimeout:
            self.last = CallInfo(duration_s=time.monotonic() - start)
            raise StudentError("timeout", function, limit_s=timeout) from None
        except ChildDied as died:
            raise self._crash(function, died) from None
        except ProtocolError as exc:
            raise StudentError("bad_value", function, message=exc.detail) from None
        h = reply.header
        events = _dict(h.get("events"))
        duration = float(h.get("duration_s") or 0.0) if isinstance(h.get("duration_s"), (int, float)) else 0.0
        self.last = CallInfo(duration_s=duration,
                             events={str(k): int(v) for k, v in events.items() if isinstance(v, int)},
                             output=child.stdout.since_mark())
        self.student_time_s += duration
        if not h.get("ok"):
            err = _dict(h.get("error"))
            kind: ErrorKind = "raised"
            if err.get("kind") in ("missing", "not_implemented", "bad_value"):
                kind = err["kind"]
            raise StudentError(kind, function, str(err.get("type", ""))[:200],
                               str(err.get("message", ""))[:2000], _frames(err))
        generation = self._generation
        return from_wire(h.get("value"), reply.arrays,
                         lambda handle, x: self._predict(generation, handle, x))

    def _cached(self, kind: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                timeout: float) -> Any:
        arrays: list[np.ndarray] = []
        header = {"op": kind, "name": name, "args": _encode_args(list(args), arrays),
                  "kwargs": _encode_args(kwargs, arrays)}
        if kind == "builtin":
            header.pop("args")
        key = hashlib.sha256(protocol.encode(header, arrays)).hexdigest()
        if key in self._cache:
            value, info = self._cache[key]
            self.last = info
            return value
        value = self._request(name, header, arrays, timeout)
        self._cache[key] = (value, self.last)
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
        header = {"op": "builtin", "name": name, "kwargs": _encode_args(kwargs, arrays)}
        try:
            return self._request(name, header, arrays, self.train_timeout_s)
        except StudentError as exc:
            if runs_student_code or exc.kind in ("timeout", "crashed") or self._load_error is exc:
                raise
            raise GraderBuiltinError(f"sandbox helper {name!r} failed: {exc.exc_type}: {exc.message}") from None

    def _predict(self, generation: int, handle: int, x: np.ndarray) -> np.ndarray:
        if generation != self._generation or self._child is None or not self._child.alive:
            raise StudentError("crashed", "predict", message="the model is gone (sandbox restarted)")
        x = np.ascontiguousarray(x)
        value = self._request("predict", {"op": "predict", "handle": handle}, [x], self.call_timeout_s)
        if not isinstance(value, np.ndarray):
            raise StudentError("bad_value", "predict", message="predictions are not an array")
        return value

    def ensure_loaded(self) -> StudentError | None:
        try:
            self._spawn()
        except SandboxError:
            raise
        return self._load_error


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _frames(err: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    raw = err.get("frames")
    frames: list[Any] = raw if isinstance(raw, list) else []
    out = []
    for f in frames[:12]:
        if isinstance(f, dict):
            out.append({"line": f.get("line") if isinstance(f.get("line"), int) else None,
                        "function": str(f.get("function", ""))[:200], "code": str(f.get("code", ""))[:300]})
    return tuple(out)
