"""The verifier's request loop: frames in, data out (see tfgrade.sandboxed.verifier).

Requests (`op`): `load_model` (array 0: the archive bytes), `predict` (`handle`; array 0:
inputs), `import_graph` (array 0: GraphDef bytes), `run_graph` (`gid`, `fetch`, `feeds`),
`run_traced` (`output`, `captures` names; arrays: GraphDef bytes, M, then one per capture;
`repeats`), `devices`, `matmul_seconds` (tfgrade.wire.messages.VerifyRequest). Replies
(tfgrade.wire.messages.Reply): ok with a value, or an error of kind `refused` (the
student's artifact cannot be used) or `internal` (our own failure).
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import numpy as np

from tfgrade.sandboxed import channel
from tfgrade.sandboxed.channel import Chan
from tfgrade.sandboxed.export import Describer
from tfgrade.sandboxed.verifier import Verifier, VerifyError, matmul_seconds
from tfgrade.wire import framing as protocol
from tfgrade.wire.messages import Loaded, Reply, VerifyRequest, WireError


class VerifyService:
    def __init__(self, chan: Chan) -> None:
        self.chan = chan
        self.verifier = Verifier()
        self.describer = Describer()

    def send(self, message: Reply | Loaded) -> None:
        try:
            channel.send(self.chan, message.to_header(), self.describer.arrays)
        finally:
            self.describer.reset_arrays()

    def handle(self, req: VerifyRequest, arrays: tuple[np.ndarray, ...]) -> Any:
        op = req.op
        v = self.verifier
        if op == "load_model":
            return v.load_model(arrays[0])
        if op == "predict":
            return v.predict(req.handle, arrays[0])
        if op == "import_graph":
            return v.import_graph(arrays[0])
        if op == "run_graph":
            return v.run_graph(req.gid, req.fetch, dict(req.feeds))
        if op == "run_traced":
            captures = dict(zip(req.captures, arrays[2:], strict=True))
            return v.run_traced(arrays[0], req.output, captures, req.repeats, arrays[1])
        if op == "devices":
            from tfgrade.sandboxed.devices import list_devices
            return list_devices()
        if op == "matmul_seconds":
            return matmul_seconds(req.size, req.repeats, req.device, req.dtype)
        raise KeyError(f"unknown verifier op {op!r}")

    def serve(self) -> None:
        read = channel.reader(self.chan)
        self.send(Loaded(True, None, 0.0, functions=()))
        while True:
            try:
                frame = protocol.read_frame(read)
            except (EOFError, OSError, protocol.ProtocolError):
                return
            start = time.perf_counter()
            try:
                value = self.handle(VerifyRequest.from_header(frame.header), frame.arrays)
                described = self.describer.describe(value)
            except VerifyError as exc:
                self.describer.reset_arrays()
                self.send(Reply.failure(WireError("refused", str(exc)[:1000])))
                continue
            except protocol.ProtocolError as exc:   # a request of the wrong shape: the grader's own bug
                self.describer.reset_arrays()
                self.send(Reply.failure(WireError("internal", f"ProtocolError: {exc.detail}"[:500])))
                continue
            except Exception as exc:  # noqa: BLE001 - our own failure: say so, keep serving
                self.describer.reset_arrays()
                traceback.print_exc(file=sys.stderr)
                self.send(Reply.failure(WireError("internal", f"{type(exc).__name__}: {str(exc)[:500]}")))
                continue
            self.send(Reply.success(described, time.perf_counter() - start))


def prepare_verifier(threads: int) -> None:
    """No seeds or instrumentation matter here (no student code runs); Grappler is off so
    that a traced graph is timed as written (constant folding would precompute M^n)."""
    import os

    os.environ.update({"OMP_NUM_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": os.getcwd()})
    import tensorflow as tf

    from tfgrade.sandboxed.devices import configure_tensorflow

    configure_tensorflow(threads)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
