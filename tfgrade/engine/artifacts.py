"""What the student's child exported, verified: a model's archive checked here and run by the
clean process, a GraphDef imported there, a traced call executed there; and what the reply
cache may keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tfgrade.engine.clean_process import VerifierRefused
from tfgrade.engine.returned import GraphSpec, ModelHandle, OpSpec, TensorValue, TracedRun, UnverifiableModel
from tfgrade.engine.student_error import StudentError
from tfgrade.i18n import Msg
from tfgrade.wire.probe import agree, probe_input

if TYPE_CHECKING:
    from tfgrade.engine.proxy import StudentProxy

MAX_CACHED_BYTES = 16 * 1024 * 1024
# This side's own caps on exported artifacts (the child's are the student's to remove).
MAX_GRAPHDEF_BYTES = 16 * 1024 * 1024
MAX_TRACE_BYTES = 48 * 1024 * 1024     # a reply bigger than this is not kept for later checks


def nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, TensorValue):
        return int(value.array.nbytes)
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    return 0


def kept(value: Any) -> Any:
    """What the cache may keep: small replies. A big one (a 256 MiB matrix) is dropped, so
    the trusted worker's memory does not grow with every distinct call."""
    return value if nbytes(value) <= MAX_CACHED_BYTES else NOT_KEPT


NOT_KEPT = object()


class ArtifactResolver:
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
