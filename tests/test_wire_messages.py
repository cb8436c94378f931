"""Every message of the channel round-trips through its header (and a real frame), and a
header of the wrong shape (wrong types, missing fields, unknown op) is a ProtocolError."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfgrade.errors import ProtocolError
from tfgrade.wire import framing
from tfgrade.wire.messages import (
    VERIFY_OPS,
    Builtin,
    Call,
    Init,
    Loaded,
    Reply,
    Trace,
    VerifyRequest,
    WireError,
    student_request,
)
from tfgrade.wire.plan import Limits, SandboxPlan

PLAN = SandboxPlan("standard", ("/secret", "/grader"), Limits(memory_mb=1024, tmp_mb=64))
FRAMES = ({"line": 3, "function": "f", "code": "raise ValueError()"}, {"line": None, "function": "<module>", "code": ""})

MESSAGES: list[Any] = [
    Init("student", "/tmp/w", "ex02", "ex02.py", "def f():\n    return 1\n", 7, 2, PLAN),
    Init("verify", "/tmp/w/tfgrade-verify", threads=1, plan=SandboxPlan("basic")),
    Call("f", [1, 2.5, {"__t__": "ndarray", "i": 0}], {"x": "é"}),
    Call("g"),
    Trace("matrix_power", [{"__t__": "ndarray", "i": 0}, 3], {}),
    Builtin("bench", {"sizes": [64], "power": 8}),
    VerifyRequest("load_model"),
    VerifyRequest("predict", handle=2),
    VerifyRequest("import_graph"),
    VerifyRequest("run_graph", gid=1, fetch="add:0", feeds={"a:0": 2, "b:0": [1, 2]}),
    VerifyRequest("run_traced", output="out:0", captures=("c1:0", "c2:0"), repeats=5),
    VerifyRequest("devices"),
    VerifyRequest("matmul_seconds", size=512, repeats=3, device="/GPU:0", dtype="float16"),
    Loaded(True, None, 0.25, {"fit": 1}, ({"cell": 2, "type": "ValueError", "message": "m"},), ("f", "g")),
    Loaded(False, WireError("syntax", "invalid syntax", "SyntaxError", FRAMES[:1]), 0.01, {}),
    Loaded(True, None, 0.0, functions=()),
    Reply.success({"__t__": "tuple", "items": [1, None]}, 0.5, {"predict": 2}),
    Reply.success(3.25, 0.1),
    Reply.failure(WireError("raised", "boom", "ValueError", FRAMES), 1.5, {}),
    Reply.failure(WireError("missing", "f", "AttributeError", ())),
    Reply.failure(WireError("refused", "not a GraphDef")),
]


def _parse(message: Any, header: Any) -> Any:
    if isinstance(message, (Call, Builtin)):
        return student_request(header)
    return type(message).from_header(header)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{type(m).__name__}")
def test_each_message_round_trips(message: Any) -> None:
    header = message.to_header()
    assert _parse(message, header) == message
    frame = framing.read_frame(io.BytesIO(framing.encode(header)).read)    # through real bytes too
    assert _parse(message, frame.header) == message


def test_headers_keep_their_wire_shape() -> None:
    assert Call("f", [1], {}).to_header() == {"op": "call", "name": "f", "args": [1], "kwargs": {}}
    assert Builtin("bench").to_header() == {"op": "builtin", "name": "bench", "kwargs": {}}
    assert VerifyRequest("predict", handle=3).to_header() == {"op": "predict", "handle": 3}
    assert Reply.failure(WireError("refused", "no")).to_header() == \
        {"ok": False, "error": {"kind": "refused", "message": "no"}}
    init = Init.student("m", "m.py", "", 0, "/w")
    with pytest.raises(ProtocolError):     # the supervisor sets the plan: never sent without one
        init.to_header()
    header = Init("student", "/w", "m", "m.py", "", 0, 1, PLAN).to_header()
    assert header["plan"] == {"level": "standard", "masks": ["/secret", "/grader"],
                              "limits": Limits(memory_mb=1024, tmp_mb=64).__dict__}


def test_the_request_kind_comes_from_the_op() -> None:
    assert type(student_request(Trace("f").to_header())) is Trace
    assert type(student_request(Call("f").to_header())) is Call
    assert type(student_request(Builtin("bench").to_header())) is Builtin


def _with(header: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(header)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


_DROP = object()
_INIT = MESSAGES[0].to_header()
_LOADED = MESSAGES[14].to_header()
_REPLY = MESSAGES[19].to_header()

MALFORMED: list[tuple[Any, Any]] = [
    # not an object
    (Init, None), (Init, []), (Reply, "ok"), (Loaded, 3), (VerifyRequest, [1]),
    # unknown op / mode / level
    (Init, _with(_INIT, op="call")), (Init, _with(_INIT, mode="teacher")),
    (Init, _with(_INIT, plan={"level": "none"})), (Loaded, _with(_LOADED, op="reply")),
    (student_request, {"op": "exec", "name": "f"}), (student_request, {"name": "f"}),
    (VerifyRequest, {"op": "rm_rf"}), (VerifyRequest, {}), (VerifyRequest, {"op": ["predict"]}),
    # missing fields
    (Init, _with(_INIT, plan=_DROP)), (Init, _with(_INIT, source=_DROP)), (Init, _with(_INIT, workdir=_DROP)),
    (Call, {"op": "call"}), (Builtin, {"op": "builtin"}), (VerifyRequest, {"op": "predict"}),
    (VerifyRequest, {"op": "run_graph", "gid": 1}), (VerifyRequest, {"op": "matmul_seconds", "size": 2}),
    (Reply, {}), (Reply, {"ok": False}), (Loaded, {"op": "loaded"}), (WireError, {"message": "x"}),
    # wrong types
    (Init, _with(_INIT, seed="7")), (Init, _with(_INIT, threads=1.5)), (Init, _with(_INIT, source=3)),
    (Init, _with(_INIT, plan={"level": "basic", "masks": "/secret"})),
    (Init, _with(_INIT, plan={"level": "basic", "limits": {"memory_mb": "big"}})),
    (Init, _with(_INIT, plan={"level": "basic", "limits": {"rm": 1}})),
    (Call, {"op": "call", "name": 3}), (Call, {"op": "call", "name": "f", "args": {}}),
    (Call, {"op": "call", "name": "f", "kwargs": []}), (Builtin, {"op": "builtin", "name": "x", "kwargs": 1}),
    (VerifyRequest, {"op": "predict", "handle": "1"}), (VerifyRequest, {"op": "predict", "handle": True}),
    (VerifyRequest, {"op": "run_traced", "output": "o", "captures": [1]}),
    (VerifyRequest, {"op": "run_graph", "gid": 1, "fetch": "a", "feeds": [1]}),
    (Reply, {"ok": 1}), (Reply, {"ok": "true"}), (Reply, {"ok": True, "duration_s": "1"}),
    (Reply, {"ok": True, "duration_s": True}), (Reply, {"ok": True, "events": [1]}),
    (Reply, {"ok": True, "events": {"fit": "1"}}), (Reply, {"ok": False, "error": "boom"}),
    (Reply, _with(_REPLY, error={"kind": "raised", "frames": "f"})),
    (Reply, _with(_REPLY, error={"kind": "raised", "frames": [1]})),
    (Reply, _with(_REPLY, error={"kind": 1})), (Reply, _with(_REPLY, error={"kind": "raised", "type": 1})),
    (Loaded, _with(_LOADED, functions="f")), (Loaded, _with(_LOADED, functions=[1])),
    (Loaded, _with(_LOADED, failed_cells=[1])), (Loaded, _with(_LOADED, duration_s=[0])),
]


def _reader(kind: Any) -> Any:
    return kind if callable(kind) and not isinstance(kind, type) else kind.from_header


@pytest.mark.parametrize(("kind", "header"), MALFORMED)
def test_malformed_headers_are_protocol_errors(kind: Any, header: Any) -> None:
    with pytest.raises(ProtocolError):
        _reader(kind)(header)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
_ops = st.sampled_from(["init", "call", "trace", "builtin", "loaded", *VERIFY_OPS, "other"])
_keys = st.sampled_from(["op", "ok", "name", "args", "kwargs", "mode", "workdir", "plan", "module", "filename",
                         "source", "seed", "threads", "error", "value", "events", "duration_s", "functions",
                         "failed_cells", "handle", "gid", "fetch", "feeds", "output", "captures", "repeats",
                         "size", "device", "dtype"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(_json, st.dictionaries(_keys, _json, max_size=8).flatmap(
    lambda d: _ops.map(lambda op: {**d, "op": op}))))
def test_random_headers_parse_or_are_protocol_errors(header: Any) -> None:
    for reader in (Init.from_header, student_request, VerifyRequest.from_header, Loaded.from_header,
                   Reply.from_header, WireError.from_header):
        try:
            reader(header)
        except ProtocolError:
            pass
