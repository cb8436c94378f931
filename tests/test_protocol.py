"""The data-only channel: round trips, caps, and fuzzed bytes that must fail cleanly."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfgrade.engine.returned import GraphSpec, OpaqueValue, TensorValue, UnverifiableModel, from_wire
from tfgrade.errors import ProtocolError
from tfgrade.i18n import Msg
from tfgrade.wire import framing as protocol
from tfgrade.wire import values


def roundtrip(header, arrays=()):  # type: ignore[no-untyped-def]
    data = protocol.encode(header, arrays)
    return protocol.read_frame(io.BytesIO(data).read)


def test_roundtrip_json_and_arrays() -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    frame = roundtrip({"x": [1, 2.5, "é", None, True]}, [a])
    assert frame.header == {"x": [1, 2.5, "é", None, True]}
    np.testing.assert_array_equal(frame.arrays[0], a)
    assert frame.arrays[0].dtype == np.float32


def test_object_arrays_never_cross() -> None:
    with pytest.raises(ProtocolError):
        protocol.encode({}, [np.array([object()], dtype=object)])


def test_pickled_npy_is_refused() -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    npy = buf.getvalue()
    head = b"{}"
    body = struct.pack(">I", len(head)) + head + struct.pack(">I", 1) + struct.pack(">Q", len(npy)) + npy
    with pytest.raises(ProtocolError):
        protocol.decode_body(body)


def test_frame_size_cap() -> None:
    data = struct.pack(">Q", protocol.MAX_FRAME_BYTES + 1) + b"x" * 16
    with pytest.raises(ProtocolError):
        protocol.read_frame(io.BytesIO(data).read)


def test_deep_nesting_is_refused() -> None:
    deep: object = 1
    for _ in range(protocol.MAX_DEPTH + 5):
        deep = [deep]
    body = protocol.encode(deep)[8:]
    with pytest.raises(ProtocolError):
        protocol.decode_body(body)


def test_truncated_frame() -> None:
    data = protocol.encode({"a": 1}, [np.zeros(10)])
    for cut in (3, 9, 20, len(data) - 1):
        with pytest.raises((ProtocolError, EOFError)):
            protocol.read_frame(io.BytesIO(data[:cut]).read)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bodies_fail_cleanly(body: bytes) -> None:
    try:
        protocol.decode_body(body)
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=200))
def test_random_streams_fail_cleanly(noise: bytes, cut: int) -> None:
    good = protocol.encode({"ok": True, "value": [1, 2]}, [np.ones(3)])
    data = (good[:cut] + noise) if cut < len(good) else noise
    try:
        protocol.read_frame(io.BytesIO(data).read)
    except (ProtocolError, EOFError):
        pass


class _Resolver:
    """Records what the wire hands over for verification; builds no verified value itself."""

    def __init__(self) -> None:
        self.models: list[tuple[bytes | None, str | None, object]] = []

    def model(self, archive, histories, save_error, probe):  # type: ignore[no-untyped-def]
        self.models.append((archive, save_error, probe))
        return UnverifiableModel("test", Msg("es", "en"), histories)

    def graph(self, graphdef, error):  # type: ignore[no-untyped-def]
        return GraphSpec(True, (), Msg(str(error), str(error)))


_predict = _Resolver()


def test_from_wire_builds_typed_values_and_hands_artifacts_to_the_resolver() -> None:
    archive = np.frombuffer(b"PK-archive-bytes", dtype=np.uint8)
    arrays = (np.ones((2, 2)), archive, np.zeros((8, 1)))
    resolver = _Resolver()
    value = from_wire({"__t__": "tuple", "items": [
        {"__t__": "tensor", "i": 0, "dtype": "float32", "device": "/device:CPU:0"},
        {"__t__": "opaque", "type_name": "Liar", "text": "1.0"},
        # a self-description ("spec") travels no more: only the archive counts
        {"__t__": "model", "archive": {"__t__": "ndarray", "i": 1}, "histories": [], "save_error": None,
         "probe": {"__t__": "ndarray", "i": 2},
         "spec": {"class_kind": "sequential", "layers": [{"type": "Dense", "units": 32}]}}]}, arrays, resolver)
    tensor, opaque, model = value
    assert isinstance(tensor, TensorValue) and tensor.device.endswith("CPU:0")
    assert isinstance(opaque, OpaqueValue) and opaque.type_name == "Liar"
    assert isinstance(model, UnverifiableModel)
    assert resolver.models[0][0] == b"PK-archive-bytes" and resolver.models[0][2] is not None


def test_from_wire_refuses_artifact_bytes_that_are_not_bytes() -> None:
    with pytest.raises(ProtocolError):
        from_wire({"__t__": "model", "archive": {"__t__": "ndarray", "i": 0}}, (np.ones(3),), _Resolver())


@pytest.mark.parametrize("bad", [
    {"__t__": "ndarray", "i": 5}, {"__t__": "nope"}, {"__t__": "model", "archive": {"__t__": "ndarray", "i": 9}},
    {"__t__": "tensor"}, {"__t__": "tuple"},
])
def test_from_wire_rejects_malformed(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ProtocolError):
        from_wire(bad, (), _predict)


# -- the value tags (tfgrade.wire.values): one encoder, one decoder ----------------------------
_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=6)   # framing cleans the others
_plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False) | _text
    | st.builds(lambda n: np.arange(n, dtype=np.float32), st.integers(0, 4)),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(_text.filter(lambda k: k != values.TAG), inner, max_size=3),
    max_leaves=10)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


@settings(max_examples=200, deadline=None)
@given(_plain_values)
def test_arguments_round_trip_through_a_frame(value: object) -> None:
    arrays: list[np.ndarray] = []
    header = values.encode_args(value, arrays)
    frame = roundtrip(header, arrays)
    assert _same(values.decode_args(frame.header, frame.arrays), value)


def test_arguments_refuse_what_is_not_data() -> None:
    with pytest.raises(TypeError):
        values.encode_args({"f": print}, [])
    assert values.encode_args(np.float32(2.5), []) == 2.5


@settings(max_examples=200, deadline=None)
@given(_plain_values)
def test_what_the_describer_writes_decode_reply_reads(value: object) -> None:
    from tfgrade.sandboxed.export import Describer

    describer = Describer()
    frame = roundtrip(describer.describe(value), describer.arrays)
    assert _same(values.decode_reply(frame.header, frame.arrays, _no_refs), value)


def _no_refs(ref: values.Reference) -> object:
    raise AssertionError(ref)


def test_reference_builders_and_the_trusted_decoder_agree() -> None:
    arrays = (np.frombuffer(b"PK", dtype=np.uint8), np.ones((8, 1)), np.frombuffer(b"GD", dtype=np.uint8),
              np.arange(3.0))
    header = [values.model_ref(values.ndarray_ref(0), [{"epochs": 1}], None, values.ndarray_ref(1)),
              values.model_ref(None, [], "TypeError: cannot save"),
              values.graph_ref(values.ndarray_ref(2), None), values.graph_ref(None, "too large"),
              values.tensor_ref(3, "float64", "/device:CPU:0"),
              values.graph_tensor_ref("a:0", "a", "Placeholder", None),
              values.opaque("Liar", "1.0"), values.dict_value([["1", 2]])]
    frame = roundtrip(header, arrays)
    out = values.decode_reply(frame.header, frame.arrays, lambda ref: ref)
    assert out[0] == values.ModelRef(b"PK", ({"epochs": 1},), None, out[0].probe) and out[0].probe.shape == (8, 1)
    assert out[1] == values.ModelRef(None, (), "TypeError: cannot save", None)
    assert out[2] == values.GraphRef(b"GD", None) and out[3] == values.GraphRef(None, "too large")
    assert isinstance(out[4], values.TensorRef) and out[4].device == "/device:CPU:0"
    assert out[5] == values.GraphTensorRef("a:0", "a", "Placeholder", None)
    assert out[6] == values.OpaqueRef("Liar", "1.0") and out[7] == {"1": 2}
    assert {values.NDARRAY, values.TUPLE, values.DICT} | values.REFERENCE_TAGS == values.VALUE_TAGS


@pytest.mark.parametrize("bad", [
    {"__t__": "ndarray"}, {"__t__": "ndarray", "i": "x"}, {"__t__": "tuple", "items": 3},
    {"__t__": "dict", "items": [[1, 2, 3]]}, {"__t__": ["ndarray"]}, {"__t__": "graph", "graphdef": {"__t__": "ndarray", "i": 0}},
    b"bytes", [1] * (values.MAX_ITEMS + 1),
])
def test_decode_reply_refuses_malformed_values(bad: object) -> None:
    with pytest.raises(ProtocolError):
        values.decode_reply(bad, (np.ones(3),), lambda ref: ref)
