"""Every message of the channel, as a frozen dataclass: encoded and decoded in one place.

A frame's header (tfgrade.wire.framing) is one of these, as JSON. `to_header()` writes it;
`from_header(dict)` reads it and validates it defensively: a header of the wrong shape
(missing field, wrong type, unknown op) is a `ProtocolError`, never another exception.
Values inside messages (`args`, `kwargs`, a reply's `value`) stay in their wire form; see
tfgrade.wire.values for their tags.

trusted side -> student's child:   Init (mode "student"), then Call | Trace | Builtin
trusted side -> clean process:     Init (mode "verify"), then a VerifyRequest
either child -> trusted side:      Loaded (once, after init), then one Reply per request
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from tfgrade.errors import ProtocolError
from tfgrade.wire.plan import Level, Limits, SandboxPlan

Mode = Literal["student", "verify"]
MODES: tuple[Mode, ...] = get_args(Mode)
LEVELS: tuple[Level, ...] = get_args(Level)


# -- defensive readers ----------------------------------------------------------------------------
def _header(h: Any, what: str) -> dict[str, Any]:
    if not isinstance(h, dict):
        raise ProtocolError(f"{what}: the header is not an object")
    return h


def _op(h: dict[str, Any], op: str, what: str) -> None:
    if h.get("op") != op:
        raise ProtocolError(f"{what}: op {h.get('op')!r} is not {op!r}")


_MISSING = object()


def _get(h: Mapping[str, Any], key: str, what: str, default: Any) -> Any:
    value = h.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise ProtocolError(f"{what}: no {key!r}")
        return default
    return value


def _str(h: Mapping[str, Any], key: str, what: str, default: Any = _MISSING) -> str:
    value = _get(h, key, what, default)
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: {key!r} is not a string")
    return value


def _opt_str(h: Mapping[str, Any], key: str, what: str) -> str | None:
    value = h.get(key)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{what}: {key!r} is not a string")
    return value


def _int(h: Mapping[str, Any], key: str, what: str, default: Any = _MISSING) -> int:
    value = _get(h, key, what, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{what}: {key!r} is not an integer")
    return value


def _bool(h: Mapping[str, Any], key: str, what: str) -> bool:
    value = _get(h, key, what, _MISSING)
    if not isinstance(value, bool):
        raise ProtocolError(f"{what}: {key!r} is not a boolean")
    return value


def _opt_float(h: Mapping[str, Any], key: str, what: str) -> float | None:
    value = h.get(key)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ProtocolError(f"{what}: {key!r} is not a number")
    return float(value)


def _list(h: Mapping[str, Any], key: str, what: str, default: Any = _MISSING) -> list[Any]:
    value = _get(h, key, what, default)
    if not isinstance(value, list):
        raise ProtocolError(f"{what}: {key!r} is not a list")
    return value


def _strs(h: Mapping[str, Any], key: str, what: str, default: Any = _MISSING) -> list[str]:
    items = _list(h, key, what, default)
    if not all(isinstance(s, str) for s in items):
        raise ProtocolError(f"{what}: {key!r} is not a list of strings")
    return items


def _dicts(h: Mapping[str, Any], key: str, what: str, default: Any = _MISSING) -> list[dict[str, Any]]:
    items = _list(h, key, what, default)
    if not all(isinstance(d, dict) for d in items):
        raise ProtocolError(f"{what}: {key!r} is not a list of objects")
    return items


def _obj(h: Mapping[str, Any], key: str, what: str, default: Any = _MISSING) -> dict[str, Any]:
    value = _get(h, key, what, default)
    if not isinstance(value, dict):
        raise ProtocolError(f"{what}: {key!r} is not an object")
    return value


def _events(h: Mapping[str, Any], what: str) -> dict[str, int] | None:
    value = h.get("events")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, int) and not isinstance(v, bool)
                                              for v in value.values()):
        raise ProtocolError(f"{what}: 'events' is not an object of integers")
    return value


def _put(header: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """`header` with the optional fields that are not None."""
    header.update({k: v for k, v in optional.items() if v is not None})
    return header


# -- the sandbox plan, as the init frame carries it ------------------------------------------------
def plan_to_header(plan: SandboxPlan) -> dict[str, Any]:
    return {"level": plan.level, "masks": list(plan.masks), "limits": dict(plan.limits.__dict__)}


def plan_from_header(h: Any) -> SandboxPlan:
    what = "init plan"
    h = _header(h, what)
    level = _str(h, "level", what)
    if level not in LEVELS:
        raise ProtocolError(f"{what}: unknown level {level!r}")
    masks = tuple(_strs(h, "masks", what, []))
    raw = _obj(h, "limits", what, {})
    known = {f.name for f in fields(Limits)}
    unknown = set(raw) - known
    if unknown:
        raise ProtocolError(f"{what}: unknown limits {sorted(unknown)}")
    limits = Limits(**{k: _int(raw, k, what) for k in raw})
    return SandboxPlan(level=level, masks=masks, limits=limits)


# -- trusted side -> child ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Init:
    """The first frame a child reads. A student's child gets the student's file (`module`,
    `filename`, `source`) and `seed`; a clean process (`mode = "verify"`) gets no source.
    `threads` and `plan` are filled in by the supervisor when it starts the child."""

    OP: ClassVar[str] = "init"
    mode: Mode
    workdir: str
    module: str = ""
    filename: str = ""
    source: str = ""
    seed: int = 0
    threads: int = 1
    plan: SandboxPlan | None = None

    @classmethod
    def student(cls, module: str, filename: str, source: str, seed: int, workdir: str) -> Init:
        return cls("student", workdir, module, filename, source, seed)

    @classmethod
    def verify(cls, workdir: str) -> Init:
        return cls("verify", workdir)

    def to_header(self) -> dict[str, Any]:
        if self.plan is None:
            raise ProtocolError("init: no sandbox plan (the supervisor sets it)")
        header: dict[str, Any] = {"op": self.OP, "mode": self.mode, "workdir": self.workdir}
        if self.mode == "student":
            header.update({"module": self.module, "filename": self.filename, "source": self.source,
                           "seed": self.seed})
        header.update({"threads": self.threads, "plan": plan_to_header(self.plan)})
        return header

    @classmethod
    def from_header(cls, h: Any) -> Init:
        what = "init"
        h = _header(h, what)
        _op(h, cls.OP, what)
        mode = _str(h, "mode", what)
        if mode not in MODES:
            raise ProtocolError(f"{what}: unknown mode {mode!r}")
        plan = plan_from_header(_get(h, "plan", what, _MISSING))
        workdir, threads = _str(h, "workdir", what), _int(h, "threads", what, 1)
        if mode == "verify":
            return cls("verify", workdir, threads=threads, plan=plan)
        return cls("student", workdir, module=_str(h, "module", what), filename=_str(h, "filename", what),
                   source=_str(h, "source", what), seed=_int(h, "seed", what, 0), threads=threads, plan=plan)


@dataclass(frozen=True)
class Call:
    """Call the student's function `name` with `args` and `kwargs` in wire form
    (tfgrade.wire.values.encode_args; their arrays travel in the same frame)."""

    OP: ClassVar[str] = "call"
    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_header(self) -> dict[str, Any]:
        return {"op": self.OP, "name": self.name, "args": self.args, "kwargs": self.kwargs}

    @classmethod
    def from_header(cls, h: Any) -> Call:
        what = cls.OP
        h = _header(h, what)
        _op(h, cls.OP, what)
        return cls(_str(h, "name", what), _list(h, "args", what, []), _obj(h, "kwargs", what, {}))


@dataclass(frozen=True)
class Trace(Call):
    """As Call, but the call is traced into a GraphDef (tfgrade.sandboxed.tracing)."""

    OP: ClassVar[str] = "trace"

    @classmethod
    def from_header(cls, h: Any) -> Trace:
        what = cls.OP
        h = _header(h, what)
        _op(h, cls.OP, what)
        return cls(_str(h, "name", what), _list(h, "args", what, []), _obj(h, "kwargs", what, {}))


BuiltinName = Literal["bench"]    # devices and timings are the clean process's (VerifyRequest)
BUILTINS: tuple[BuiltinName, ...] = get_args(BuiltinName)


@dataclass(frozen=True)
class Builtin:
    """A grader helper run in the student's child (`bench` runs the student's matrix_power)."""

    OP: ClassVar[str] = "builtin"
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_header(self) -> dict[str, Any]:
        return {"op": self.OP, "name": self.name, "kwargs": self.kwargs}

    @classmethod
    def from_header(cls, h: Any) -> Builtin:
        what = cls.OP
        h = _header(h, what)
        _op(h, cls.OP, what)
        return cls(_str(h, "name", what), _obj(h, "kwargs", what, {}))


StudentRequest: TypeAlias = Call | Trace | Builtin
_STUDENT_REQUESTS: dict[str, type[Call] | type[Builtin]] = {"call": Call, "trace": Trace, "builtin": Builtin}


def student_request(h: Any) -> StudentRequest:
    """A request to a student's child, by its op (ProtocolError for an unknown op)."""
    op = _header(h, "request").get("op")
    kind = _STUDENT_REQUESTS.get(op) if isinstance(op, str) else None
    if kind is None:
        raise ProtocolError(f"unknown request op {op!r}")
    return kind.from_header(h)


# -- trusted side -> clean process ---------------------------------------------------------------------
VerifyOp = Literal["load_model", "predict", "import_graph", "run_graph", "run_traced", "devices",
                   "matmul_seconds"]
VERIFY_OPS: tuple[VerifyOp, ...] = get_args(VerifyOp)


@dataclass(frozen=True)
class VerifyRequest:
    """One request to the clean process (tfgrade.sandboxed.verify_service). Arrays travel in
    the frame: `load_model` array 0 = archive bytes; `predict` (`handle`) array 0 = inputs;
    `import_graph` array 0 = GraphDef bytes; `run_graph` (`gid`, `fetch`, `feeds` as JSON);
    `run_traced` (`output`, `captures`, `repeats`) arrays = GraphDef bytes, M, one per
    capture; `devices`; `matmul_seconds` (`size`, `repeats`, `device`, `dtype`)."""

    op: VerifyOp
    handle: int = 0
    gid: int = 0
    fetch: str = ""
    feeds: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    captures: tuple[str, ...] = ()
    repeats: int = 1
    size: int = 0
    device: str = "/CPU:0"
    dtype: str = "float32"

    _FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "load_model": (), "predict": ("handle",), "import_graph": (),
        "run_graph": ("gid", "fetch", "feeds"), "run_traced": ("output", "captures", "repeats"),
        "devices": (), "matmul_seconds": ("size", "repeats", "device", "dtype"),
    }

    def to_header(self) -> dict[str, Any]:
        header: dict[str, Any] = {"op": self.op}
        for name in self._FIELDS[self.op]:
            value = getattr(self, name)
            header[name] = list(value) if isinstance(value, tuple) else value
        return header

    @classmethod
    def from_header(cls, h: Any) -> VerifyRequest:
        what = "verifier request"
        h = _header(h, what)
        op = h.get("op")
        if not isinstance(op, str) or op not in VERIFY_OPS:
            raise ProtocolError(f"unknown verifier op {op!r}")
        what = op
        kw: dict[str, Any] = {}
        if op == "predict":
            kw["handle"] = _int(h, "handle", what)
        elif op == "run_graph":
            kw.update(gid=_int(h, "gid", what), fetch=_str(h, "fetch", what), feeds=_obj(h, "feeds", what, {}))
        elif op == "run_traced":
            kw.update(output=_str(h, "output", what), captures=tuple(_strs(h, "captures", what, [])),
                      repeats=_int(h, "repeats", what, 1))
        elif op == "matmul_seconds":
            kw.update(size=_int(h, "size", what), repeats=_int(h, "repeats", what),
                      device=_str(h, "device", what, "/CPU:0"), dtype=_str(h, "dtype", what, "float32"))
        return cls(op, **kw)


# -- child -> trusted side -------------------------------------------------------------------------------
@dataclass(frozen=True)
class WireError:
    """Why a child could not answer. Student's child: `kind` is missing | not_implemented |
    syntax | raised | bad_value, with the exception's type, message and the student's own
    frames (`line`, `function`, `code`). Clean process: refused | internal, with a message."""

    kind: str
    message: str = ""
    type: str | None = None
    frames: tuple[dict[str, Any], ...] | None = None

    def to_header(self) -> dict[str, Any]:
        header: dict[str, Any] = {"kind": self.kind}
        if self.type is not None:
            header["type"] = self.type
        header["message"] = self.message
        if self.frames is not None:
            header["frames"] = list(self.frames)
        return header

    @classmethod
    def from_header(cls, h: Any) -> WireError:
        what = "error"
        h = _header(h, what)
        frames = _dicts(h, "frames", what, []) if h.get("frames") is not None else None
        return cls(_str(h, "kind", what), _str(h, "message", what, ""), _opt_str(h, "type", what),
                   tuple(frames) if frames is not None else None)


def _error(h: dict[str, Any], what: str, ok: bool) -> WireError | None:
    raw = h.get("error")
    if ok:
        return None
    if raw is None:
        raise ProtocolError(f"{what}: a failure without an error")
    return WireError.from_header(raw)


@dataclass(frozen=True)
class Loaded:
    """A child's first frame: the student's file ran (`functions` it defines, notebook
    cells that raised) or it did not (`error`). A clean process sends ok and no functions.
    `duration_s` and `events` are the child's own words: hints, never points."""

    OP: ClassVar[str] = "loaded"
    ok: bool
    error: WireError | None = None
    duration_s: float = 0.0
    events: dict[str, int] | None = None
    failed_cells: tuple[dict[str, Any], ...] | None = None
    functions: tuple[str, ...] | None = None

    def to_header(self) -> dict[str, Any]:
        header: dict[str, Any] = {"op": self.OP, "ok": self.ok}
        if self.error is not None:
            header["error"] = self.error.to_header()
        header["duration_s"] = self.duration_s
        return _put(header, events=self.events,
                    failed_cells=list(self.failed_cells) if self.failed_cells is not None else None,
                    functions=list(self.functions) if self.functions is not None else None)

    @classmethod
    def from_header(cls, h: Any) -> Loaded:
        what = cls.OP
        h = _header(h, what)
        _op(h, cls.OP, what)
        ok = _bool(h, "ok", what)
        cells = _dicts(h, "failed_cells", what) if h.get("failed_cells") is not None else None
        functions = _strs(h, "functions", what) if h.get("functions") is not None else None
        return cls(ok, _error(h, what, ok), _opt_float(h, "duration_s", what) or 0.0, _events(h, what),
                   tuple(cells) if cells is not None else None,
                   tuple(functions) if functions is not None else None)


@dataclass(frozen=True)
class Reply:
    """The answer to one request: `value` (wire form, tfgrade.wire.values) when `ok`, else
    `error`. `duration_s` and `events` are what the child says about itself (hints)."""

    ok: bool
    value: Any = None
    error: WireError | None = None
    duration_s: float | None = None
    events: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if self.duration_s is not None and not isinstance(self.duration_s, float):
            object.__setattr__(self, "duration_s", float(self.duration_s))

    @classmethod
    def success(cls, value: Any, duration_s: float | None = None, events: dict[str, int] | None = None) -> Reply:
        return cls(True, value, None, duration_s, events)

    @classmethod
    def failure(cls, error: WireError, duration_s: float | None = None,
                events: dict[str, int] | None = None) -> Reply:
        return cls(False, None, error, duration_s, events)

    def to_header(self) -> dict[str, Any]:
        header: dict[str, Any] = {"ok": self.ok}
        if self.ok:
            header["value"] = self.value
        else:
            header["error"] = self.error.to_header() if self.error is not None else None
        return _put(header, duration_s=self.duration_s, events=self.events)

    @classmethod
    def from_header(cls, h: Any) -> Reply:
        what = "reply"
        h = _header(h, what)
        ok = _bool(h, "ok", what)
        return cls(ok, h.get("value") if ok else None, _error(h, what, ok), _opt_float(h, "duration_s", what),
                   _events(h, what))
