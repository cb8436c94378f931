"""The trusted side's handle on the clean process (tfgrade.sandboxed.verifier).

One verifier per student in a class run (`Grader.grade_student` owns it), one per exercise
in a single-file run (the exercise's StudentProxy owns it). It is a child of the same
zygote as the student's child and isolated the same way, but its init frame carries no
source: it never runs a line of student code. Why that lifetime cannot be abused: a hostile
archive that somehow broke Keras's loader would reach only a process that holds that same
student's artifacts, is killed when that student's grading ends, and never sees another
student (docs/ARCHITECTURE.md, "The clean process").

What it answers is trusted; what fails in it because of the student's artifact (a model
that cannot be loaded, a graph that does not run) is a `VerifierRefused`, told to the
student; anything else is the grader's own error.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfgrade.errors import ProtocolError
from tfgrade.supervisor.children import ChildDied, ChildTimeout, Sandbox, SandboxChild
from tfgrade.wire import values
from tfgrade.wire.messages import Init, Loaded, Reply, VerifyRequest

VERIFY_TIMEOUT_S = 120.0
STUDENT_COMPUTATION = frozenset({"predict", "run_graph", "run_traced"})


class VerifierRefused(Exception):
    """The clean process could not use the student's artifact; `detail` says why (English)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Verifier:
    sandbox: Sandbox
    timeout_s: float = VERIFY_TIMEOUT_S
    memory_mb: int | None = None
    workdir: str = "/tmp"          # used at the `basic` level only; namespaced levels get a private /tmp
    _child: SandboxChild | None = None
    _models: dict[str, int] = field(default_factory=dict)     # archive sha256 -> handle
    spawns: int = 0
    # Time this process spent executing the student's own computation (predicting with the
    # student's model, running the student's graphs), on the trusted clock: it used to run in
    # the student's child, and it is the student's time, not the grader's.
    artifact_time_s: float = 0.0

    def _ensure(self) -> SandboxChild:
        if self._child is not None and self._child.alive:
            return self._child
        self._models.clear()
        self.spawns += 1
        init = Init.verify(os.path.join(self.workdir, "tfgrade-verify"))
        child = self.sandbox.spawn(init, memory_mb=self.memory_mb)
        try:
            Loaded.from_header(child.receive(self.timeout_s).header)
        except (ChildTimeout, ChildDied, ProtocolError) as exc:
            child.close()
            raise RuntimeError(f"the verifier did not start ({type(exc).__name__})") from None
        self._child = child
        return child

    def request(self, req: VerifyRequest, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = (),
                timeout: float | None = None) -> Any:
        child = self._ensure()
        start = time.monotonic()
        try:
            raw = child.request(req.to_header(), arrays, timeout or self.timeout_s)
            reply = Reply.from_header(raw.header)
        except ChildTimeout:
            raise VerifierRefused(f"the clean process took longer than {timeout or self.timeout_s:g} s") from None
        except ChildDied as died:
            raise VerifierRefused(f"the clean process stopped ({died.reason})") from None
        except ProtocolError as exc:
            raise VerifierRefused(f"the clean process sent an unreadable reply ({exc.detail})") from None
        finally:
            if req.op in STUDENT_COMPUTATION:
                self.artifact_time_s += time.monotonic() - start
        if not reply.ok:
            message = reply.error.message[:1000] if reply.error is not None else ""
            if reply.error is not None and reply.error.kind == "refused":
                raise VerifierRefused(message)
            raise RuntimeError(f"verifier error: {message}")
        try:
            return _plain(reply.value, raw.arrays)
        except ProtocolError as exc:
            raise RuntimeError(f"verifier: unreadable value ({exc.detail})") from None

    # -- what the checks need -----------------------------------------------------------------
    def load_model(self, archive: bytes) -> tuple[int, dict[str, Any]]:
        key = hashlib.sha256(archive).hexdigest()
        value = self.request(VerifyRequest("load_model"), [np.frombuffer(archive, dtype=np.uint8)])
        if not isinstance(value, dict) or not isinstance(value.get("handle"), int):
            raise RuntimeError("verifier: bad load_model reply")
        self._models[key] = int(value["handle"])
        facts = value.get("facts")
        return int(value["handle"]), facts if isinstance(facts, dict) else {}

    def predict(self, archive: bytes, x: np.ndarray, timeout: float | None = None) -> np.ndarray:
        key = hashlib.sha256(archive).hexdigest()
        handle = self._models.get(key)
        if handle is None or self._child is None or not self._child.alive:
            handle, _ = self.load_model(archive)
        out = self.request(VerifyRequest("predict", handle=handle), [np.ascontiguousarray(x)], timeout)
        if not isinstance(out, np.ndarray):
            raise RuntimeError("verifier: predictions are not an array")
        return out

    def import_graph(self, graphdef: bytes) -> tuple[int, list[dict[str, Any]]]:
        value = self.request(VerifyRequest("import_graph"), [np.frombuffer(graphdef, dtype=np.uint8)])
        if not isinstance(value, dict) or not isinstance(value.get("gid"), int):
            raise RuntimeError("verifier: bad import_graph reply")
        ops = value.get("ops")
        return int(value["gid"]), ops if isinstance(ops, list) else []

    def run_graph(self, gid: int, fetch: str, feeds: dict[str, Any]) -> np.ndarray:
        out = self.request(VerifyRequest("run_graph", gid=gid, fetch=fetch, feeds=feeds))
        if not isinstance(out, np.ndarray):
            raise RuntimeError("verifier: run_graph gave no array")
        return out

    def run_traced(self, graphdef: bytes, output: str, captures: dict[str, np.ndarray], repeats: int,
                   matrix: np.ndarray, timeout: float | None = None) -> dict[str, Any]:
        names = list(captures)
        arrays = [np.frombuffer(graphdef, dtype=np.uint8), np.ascontiguousarray(matrix),
                  *(np.ascontiguousarray(captures[n]) for n in names)]
        value = self.request(VerifyRequest("run_traced", output=output, captures=tuple(names), repeats=repeats),
                             arrays, timeout)
        if not isinstance(value, dict) or not isinstance(value.get("array"), np.ndarray):
            raise RuntimeError("verifier: bad run_traced reply")
        return value

    def devices(self) -> list[str]:
        value = self.request(VerifyRequest("devices"))
        return [str(d) for d in value] if isinstance(value, list) else []

    def matmul_seconds(self, size: int, repeats: int, device: str = "/CPU:0", dtype: str = "float32") -> float:
        value = self.request(VerifyRequest("matmul_seconds", size=size, repeats=repeats, device=device,
                                           dtype=dtype))
        return float(value)

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None


def _plain(value: Any, arrays: tuple[np.ndarray, ...]) -> Any:
    """The verifier's reply as plain Python: dicts, lists, numbers, arrays (it is trusted,
    but the decoder stays strict: no artifact reference is expected from it)."""
    return values.decode_reply(value, arrays, _no_reference)


def _no_reference(ref: values.Reference) -> Any:
    if isinstance(ref, values.OpaqueRef):
        raise RuntimeError(f"verifier: could not send {ref.text}")
    raise RuntimeError(f"verifier: unexpected {type(ref).__name__} in a reply")
