"""The verifier's request loop: frames in, data out (see tfgrade.sandboxed.verifier).

Requests (`op`): `load_model` (array 0: the archive bytes), `predict` (`handle`; array 0:
inputs), `import_graph` (array 0: GraphDef bytes), `run_graph` (`gid`, `fetch`, `feeds`),
`run_traced` (`output`, `captures` names; arrays: GraphDef bytes, M, then one per capture;
`repeats`), `devices`, `matmul_seconds`. Replies: `{"ok": true, "value": …}` or
`{"ok": false, "error": {"kind": "refused" | "internal", "message": …}}`.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import numpy as np

from tfgrade.sandboxed.export import Describer
from tfgrade.sandboxed.verifier import Verifier, VerifyError, matmul_seconds
from tfgrade.wire import framing as protocol


class VerifyService:
    def __init__(self, chan: int) -> None:
        self.chan = chan
        self.verifier = Verifier()
        self.describer = Describer()

    def send(self, header: dict[str, Any]) -> None:
        try:
            protocol.send(self.chan, header, self.describer.arrays)
        finally:
            self.describer.reset_arrays()

    def handle(self, req: dict[str, Any], arrays: tuple[np.ndarray, ...]) -> Any:
        op = req.get("op")
        v = self.verifier
        if op == "load_model":
            return v.load_model(arrays[0])
        if op == "predict":
            return v.predict(int(req["handle"]), arrays[0])
        if op == "import_graph":
            return v.import_graph(arrays[0])
        if op == "run_graph":
            feeds = {str(k): val for k, val in dict(req.get("feeds") or {}).items()}
            return v.run_graph(int(req["gid"]), str(req["fetch"]), feeds)
        if op == "run_traced":
            names = [str(n) for n in req.get("captures") or []]
            captures = dict(zip(names, arrays[2:], strict=True))
            return v.run_traced(arrays[0], str(req["output"]), captures, int(req.get("repeats", 1)), arrays[1])
        if op == "devices":
            from tfgrade.sandboxed.devices import list_devices
            return list_devices()
        if op == "matmul_seconds":
            return matmul_seconds(int(req["size"]), int(req["repeats"]), str(req.get("device", "/CPU:0")),
                                  str(req.get("dtype", "float32")))
        raise KeyError(f"unknown verifier op {op!r}")

    def serve(self) -> None:
        read = protocol.fd_reader(self.chan)
        self.send({"op": "loaded", "ok": True, "functions": [], "duration_s": 0.0})
        while True:
            try:
                frame = protocol.read_frame(read)
            except (EOFError, OSError, protocol.ProtocolError):
                return
            req = frame.header if isinstance(frame.header, dict) else {}
            start = time.perf_counter()
            try:
                value = self.handle(req, frame.arrays)
                described = self.describer.describe(value)
            except VerifyError as exc:
                self.describer.reset_arrays()
                self.send({"ok": False, "error": {"kind": "refused", "message": str(exc)[:1000]}})
                continue
            except Exception as exc:  # noqa: BLE001 - our own failure: say so, keep serving
                self.describer.reset_arrays()
                traceback.print_exc(file=sys.stderr)
                self.send({"ok": False, "error": {"kind": "internal",
                                                  "message": f"{type(exc).__name__}: {str(exc)[:500]}"}})
                continue
            self.send({"ok": True, "value": described, "duration_s": time.perf_counter() - start})


def prepare_verifier(threads: int) -> None:
    """No seeds or instrumentation matter here (no student code runs); Grappler is off so
    that a traced graph is timed as written (constant folding would precompute M^n)."""
    import os

    os.environ.update({"OMP_NUM_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": os.getcwd()})
    import tensorflow as tf

    from tfgrade.sandboxed.devices import configure_tensorflow

    configure_tensorflow(threads)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
