"""The trusted side reads a student's .keras archive itself and refuses anything not built-in Keras.

Real archives are saved by Keras in one subprocess (tests/keras_archives/build.py); this process never
imports TensorFlow or Keras. Hostile archives are real custom classes saved by Keras, or real archives
whose config.json is rewritten the way a student's code in the sandbox could.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tfgrade.engine import keras_allowlist as allow
from tfgrade.engine.keras_archive import (
    ArchiveRefused,
    KerasArchive,
    ModelFacts,
    describe_archive,
    read_archive,
)
from tfgrade.engine.keras_config import canonical_loss, snake
from tfgrade.engine.returned import ModelSpec
from tfgrade.errors import ProtocolError

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "tests" / "keras_archives" / "build.py"
HAS_KERAS = importlib.util.find_spec("keras") is not None
needs_keras = pytest.mark.skipif(not HAS_KERAS, reason="needs Keras to save real archives")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_KERAS:
        pytest.skip("needs Keras to save real archives")
    out = tmp_path_factory.mktemp("keras_archives")
    proc = subprocess.run([sys.executable, str(BUILD), str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def raw(built: Path, name: str) -> bytes:
    return (built / f"{name}.keras").read_bytes()


def spec_of(built: Path, name: str, with_facts: bool = True) -> ModelSpec:
    archive = read_archive(raw(built, name))
    facts = ModelFacts.from_wire(json.loads((built / f"{name}.facts.json").read_text())) if with_facts else None
    return describe_archive(archive, facts)


def refused(data: bytes, reason: str, *, max_bytes: int = 64 * 2**20, says: tuple[str, ...] = ()) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as info:
        read_archive(data, max_bytes=max_bytes)
    exc = info.value
    assert exc.reason == reason, (exc.reason, exc.msg.en)
    assert exc.msg.es.strip() and exc.msg.en.strip() and exc.msg.es != exc.msg.en
    for word in says:
        assert word in exc.msg.en and word in exc.msg.es, (word, exc.msg)
    return exc


def entries_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def make_zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buf.getvalue()


def edit_config(data: bytes, edit: Callable[[dict[str, Any]], Any]) -> bytes:
    files = entries_of(data)
    cfg = json.loads(files["config.json"])
    edit(cfg)
    files["config.json"] = json.dumps(cfg).encode()
    return make_zip(list(files.items()))


def layers_of(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = cfg["config"]["layers"]
    return layers


# -- honest models: accepted and read as an instructor reads them -----------------------------------------

@needs_keras
def test_activation_layers_merge_into_dense_and_the_loss_weights_trap(built: Path) -> None:
    spec = spec_of(built, "seq_activation_layers")
    assert (spec.class_kind, spec.class_name) == ("sequential", "Sequential")
    assert [(la.type, la.units, la.activation) for la in spec.layers] == [("Dense", 32, "relu"),
                                                                         ("Dense", 1, "sigmoid")]
    assert [la.params for la in spec.layers] == [4 * 32 + 32, 33]
    assert spec.layers[0].output_shape == (None, 32) and spec.layers[0].input_shape == (None, 4)
    assert spec.n_params == 193 and spec.input_shape == (None, 4) and spec.output_shape == (None, 1)
    assert spec.compiled and spec.optimizer == "Adam" and spec.learning_rate == pytest.approx(0.001)
    assert spec.loss == "binary_crossentropy"
    assert spec.metrics == () and spec.loss_weights == "['accuracy']"   # compile("adam", loss, ["accuracy"])


@needs_keras
def test_tf_keras_spellings_schedule_function_loss_and_metric_objects(built: Path) -> None:
    spec = spec_of(built, "tfkeras_style")
    # Dense(activation=tf.nn.relu) is written "relu"; Dense -> ReLU and Dense -> Softmax layers merge.
    assert [(la.type, la.units, la.activation) for la in spec.layers] == [
        ("Dense", 8, "relu"), ("Dense", 4, "relu"), ("Dense", 2, "softmax")]
    assert spec.optimizer == "RMSprop" and spec.learning_rate is None      # a schedule
    assert spec.loss == "binary_crossentropy"           # keras.losses.binary_crossentropy (a function)
    assert spec.metrics == ("auc", "mae") and spec.loss_weights is None


@needs_keras
def test_functional_cnn(built: Path) -> None:
    spec = spec_of(built, "functional_cnn")
    assert (spec.class_kind, spec.class_name) == ("functional", "Functional")
    assert [la.type for la in spec.layers] == ["Conv2D", "MaxPooling2D", "BatchNormalization", "Conv2D",
                                               "Flatten", "Dropout", "Dense"]
    conv, pool, _, conv2, *_, dense = spec.layers
    assert (conv.filters, conv.kernel_size, conv.strides, conv.activation) == (8, (3, 3), (1, 1), "relu")
    assert pool.pool_size == (2, 2)
    assert (conv2.kernel_size, conv2.strides, conv2.activation) == ((5, 5), (2, 2), "relu")  # + Activation
    assert conv2.output_shape == (None, 5, 5, 4) and conv2.params == 4 * (5 * 5 * 8) + 4
    assert (dense.units, dense.activation) == (10, "softmax")
    assert spec.input_shape == (None, 28, 28, 1) and spec.n_params == sum(la.params for la in spec.layers)
    assert spec.optimizer == "SGD" and spec.learning_rate == pytest.approx(0.01)
    assert spec.loss == "sparse_categorical_crossentropy"
    assert spec.metrics == ("sparse_categorical_accuracy",) and spec.loss_weights is None


@needs_keras
def test_nested_sequential_is_flattened_and_adapted_normalization(built: Path) -> None:
    spec = spec_of(built, "nested")
    assert [(la.type, la.units, la.activation) for la in spec.layers] == [
        ("Normalization", None, None), ("Dense", 4, "leaky_relu"), ("Dense", 4, "elu"), ("Dense", 1, "sigmoid")]
    assert spec.layers[0].params == 7 and spec.n_params == 48
    assert spec.optimizer == "Adam" and spec.learning_rate is None
    assert spec.loss == "binary_crossentropy" and spec.metrics == ("prec",)


@needs_keras
def test_string_optimizer_loss_and_metrics(built: Path) -> None:
    spec = spec_of(built, "strings")
    assert spec.layers[0].activation == "softmax"      # activation=keras.activations.softmax
    assert spec.optimizer == "RMSprop" and spec.loss == "mean_squared_error"
    assert spec.metrics == ("mae", "accuracy", "binary_accuracy")
    # Keras 3.15 writes compile("rmsprop") as an object; an older writer's plain string reads the same.
    data = edit_config(raw(built, "strings"), lambda cfg: cfg["compile_config"].update(optimizer="rmsprop"))
    again = describe_archive(read_archive(data), None)
    assert (again.optimizer, again.learning_rate) == ("RMSprop", None)


@needs_keras
def test_loss_class_dict_loss_and_uncompiled(built: Path) -> None:
    huber = spec_of(built, "huber_class")
    assert huber.loss == "huber" and huber.metrics == ("root_mean_squared_error",)
    assert huber.learning_rate == pytest.approx(0.05)
    multi = spec_of(built, "loss_dict")
    assert (multi.optimizer, multi.loss, multi.metrics) == ("Nadam", "binary_crossentropy", ("acc",))
    bare = spec_of(built, "uncompiled", with_facts=False)
    assert not bare.compiled and bare.optimizer is None and bare.loss is None and bare.metrics == ()
    assert bare.n_params == 0 and bare.input_shape is None and bare.layers[0].params == 0


@needs_keras
def test_functional_ops_regularizers_and_function_loss(built: Path) -> None:
    ops = spec_of(built, "functional_ops")
    assert [la.type for la in ops.layers] == ["TrueDivide", "Dense", "GetItem", "Concatenate", "Dense"]
    reg = spec_of(built, "regularized")
    assert reg.loss == "mean_squared_error" and reg.optimizer == "SGD"
    assert [la.activation for la in reg.layers] == ["linear", "linear"]     # no Activation layer: no merge


@needs_keras
def test_archive_metadata_and_histories(built: Path) -> None:
    archive = read_archive(raw(built, "strings"))
    assert isinstance(archive, KerasArchive) and archive.size == len(raw(built, "strings"))
    assert archive.keras_version == allow.KERAS_VERSION
    history = {"epochs": 2, "curves": {"loss": [1.0, 0.5]}}
    assert describe_archive(archive, None, (history,)).histories == (history,)


# -- hostile models saved by Keras itself -----------------------------------------------------------------

@needs_keras
@pytest.mark.parametrize(("name", "reason", "says"), [
    ("fake_conv", "not_builtin", ("Conv2D", "'conv2d")),          # a Dense subclass named Conv2D
    ("fake_pool", "not_builtin", ("MaxPooling2D",)),               # an identity layer named MaxPooling2D
    ("fake_rmsprop", "not_builtin", ("RMSprop",)),                 # class RMSprop(keras.optimizers.Adam)
    ("lambda_layer", "lambda", ("Lambda",)),
    ("custom_activation", "not_builtin", ("double",)),             # a user function as activation
    ("tf_softmax", "not_builtin", ("softmax_v2", "activation='softmax'")),   # Keras itself cannot reload it
])
def test_custom_classes_and_functions_are_refused(built: Path, name: str, reason: str,
                                                  says: tuple[str, ...]) -> None:
    refused(raw(built, name), reason, says=says)


# -- hostile configs: config.json rewritten inside the zip ------------------------------------------------

def _put_layer(obj: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(cfg: dict[str, Any]) -> None:
        layers_of(cfg).insert(1, obj)
    return edit


def _set_activation(value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(cfg: dict[str, Any]) -> None:
        layers_of(cfg)[1]["config"]["activation"] = value
    return edit


def _set_compile(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(cfg: dict[str, Any]) -> None:
        cfg["compile_config"][key] = value
    return edit


SYSTEM = {"module": "os", "class_name": "system", "config": {"command": "id"}, "registered_name": None}
HOSTILE_EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], str, tuple[str, ...]]] = {
    "os_system": (_put_layer(SYSTEM), "not_builtin", ("system",)),
    "subprocess": (_put_layer({**SYSTEM, "module": "subprocess", "class_name": "Popen"}), "not_builtin",
                   ("Popen",)),
    "os_system_as_function": (_set_activation({"module": "os", "class_name": "function", "config": "system",
                                               "registered_name": "system"}), "not_builtin", ("system",)),
    "builtins_eval": (_set_activation({"module": "builtins", "class_name": "function", "config": "eval",
                                       "registered_name": "function"}), "not_builtin", ("eval",)),
    "keras_config_unsafe": (_set_activation({"module": "keras.config", "class_name": "function",
                                             "config": "enable_unsafe_deserialization",
                                             "registered_name": "enable_unsafe_deserialization"}),
                            "not_builtin", ("enable_unsafe_deserialization",)),
    "keras_utils_get_file": (_put_layer({"module": "keras.utils", "class_name": "get_file",
                                         "config": {"origin": "http://x"}, "registered_name": None}),
                             "not_builtin", ("get_file",)),
    "keras_src_path": (_put_layer({"module": "keras.src.layers.core.lambda_layer", "class_name": "Dense",
                                   "config": {"name": "d"}, "registered_name": None}), "not_builtin", ("Dense",)),
    "registered_builtin_name": (_put_layer({"module": "keras.layers", "class_name": "Dense",
                                            "config": {"name": "d", "units": 1}, "registered_name": "Dense"}),
                                "not_builtin", ("Dense",)),
    "legacy_no_module": (_put_layer({"class_name": "Dense", "config": {"name": "d", "units": 1}}),
                         "not_builtin", ("Dense",)),
    "tfsm_layer": (_put_layer({"module": "keras.layers", "class_name": "TFSMLayer",
                               "config": {"filepath": "/tmp/x"}, "registered_name": None}), "not_builtin",
                   ("TFSMLayer",)),
    "lambda_in_activation": (_set_activation({"class_name": "__lambda__", "config": {"code": "AAAA"}}),
                             "lambda", ()),
    "numpy_with_module": (_set_activation({"class_name": "__numpy__", "module": "numpy", "config": {},
                                           "registered_name": "load"}), "not_builtin", ("__numpy__",)),
    "typespec": (_set_activation({"class_name": "__typespec__", "spec_name": "X", "module": "os",
                                  "config": [], "registered_name": None}), "not_builtin", ("__typespec__",)),
    "unknown_activation": (_set_activation("os.system"), "not_builtin", ("os.system",)),
    "unknown_loss": (_set_compile("loss", "my_loss"), "not_builtin", ("my_loss",)),
    "unknown_metric_in_list": (_set_compile("metrics", ["mae", ["exec"]]), "not_builtin", ("exec",)),
    "metric_any_case_is_fine_but_not_any_name": (_set_compile("metrics", ["ACC", "Accuracy", "MSE", "Mse"]),
                                                  "not_builtin", ("Mse",)),
    "unknown_optimizer": (_set_compile("optimizer", "evil"), "not_builtin", ("evil",)),
    "loss_wrapper": (_set_compile("loss", {"module": "keras.losses", "class_name": "LossFunctionWrapper",
                                           "config": {"fn": "x"}, "registered_name": None}), "not_builtin",
                     ("LossFunctionWrapper",)),
    "layer_slot_string": (_put_layer({"module": "keras.layers", "class_name": "Bidirectional",
                                      "config": {"name": "b", "layer": "TFSMLayer"}, "registered_name": None}),
                          "bad_config", ()),
    "root_not_a_model": (lambda cfg: cfg.update(layers_of(cfg)[1]), "bad_config", ()),
    "two_names": (lambda cfg: layers_of(cfg)[1].update(name="other"), "bad_config", ()),
}


@needs_keras
@pytest.mark.parametrize("case", sorted(HOSTILE_EDITS))
def test_rewritten_configs_are_refused(built: Path, case: str) -> None:
    edit, reason, says = HOSTILE_EDITS[case]
    refused(edit_config(raw(built, "seq_activation_layers"), edit), reason, says=says)


@needs_keras
def test_shared_objects_must_agree(built: Path) -> None:
    data = raw(built, "seq_activation_layers")
    cfg = json.loads(entries_of(data)["config.json"])
    ids = [d["config"]["dtype"].get("shared_object_id") for d in layers_of(cfg)[1:]]
    assert any(ids), "Keras writes shared_object_id for the shared dtype policy"

    def edit(cfg: dict[str, Any]) -> None:
        for layer in layers_of(cfg)[1:]:
            if "shared_object_id" in layer["config"]["dtype"]:
                layer["config"]["dtype"]["config"]["name"] = "float64"
                return
    refused(edit_config(data, edit), "bad_config")
    read_archive(edit_config(data, lambda cfg: None))       # a rewrite alone changes nothing


# -- hostile files ---------------------------------------------------------------------------------------

@needs_keras
def test_not_zip_legacy_h5_and_saved_model(built: Path) -> None:
    refused(b"this is not a model", "not_zip")
    refused(b"", "not_zip")
    refused((built / "legacy.h5").read_bytes(), "legacy_h5", says=(".keras",))
    refused(make_zip([("saved_model.pb", b"x"), ("variables/variables.index", b"")]), "saved_model")
    damaged = bytearray(raw(built, "uncompiled"))
    damaged[len(damaged) // 2] ^= 0xFF                   # inside the weights: CRC mismatch
    refused(bytes(damaged), "not_zip")
    refused(raw(built, "uncompiled")[:200], "not_zip")   # truncated


@needs_keras
def test_size_limits_and_zip_bomb(built: Path) -> None:
    data = raw(built, "uncompiled")
    refused(data, "too_large", max_bytes=len(data) - 1)
    read_archive(data, max_bytes=len(data))
    files = entries_of(data)
    big = json.dumps({"pad": " " * (5 * 2**20)}).encode()          # 5 MiB, compresses to a few KiB
    bomb = make_zip([("config.json", big), ("model.weights.h5", files["model.weights.h5"])], zipfile.ZIP_DEFLATED)
    assert len(bomb) < 100_000
    refused(bomb, "too_large", says=("config.json", str(len(big))))   # the declared size, before reading
    weights = files["model.weights.h5"] + b"\0" * (3 * 2**20)
    fat = make_zip([("config.json", files["config.json"]), ("model.weights.h5", weights)], zipfile.ZIP_DEFLATED)
    refused(fat, "too_large", max_bytes=2**20, says=("model.weights.h5",))


@needs_keras
def test_entries_names_and_duplicates(built: Path) -> None:
    files = entries_of(raw(built, "uncompiled"))
    base = list(files.items())
    refused(make_zip([*base, ("evil.py", b"import os")]), "bad_entry", says=("evil.py",))
    refused(make_zip([*base, ("assets/vocab.txt", b"a")]), "bad_entry")
    refused(make_zip([*base, ("../config.json", b"{}")]), "bad_entry")
    refused(make_zip([*base, ("/etc/passwd", b"x")]), "bad_entry")
    with pytest.warns(UserWarning, match="Duplicate"):
        dup = make_zip([*base, ("config.json", b'{"class_name": "Lambda"}')])
    refused(dup, "bad_entry", says=("config.json",))
    refused(make_zip([e for e in base if e[0] != "config.json"]), "missing_entry", says=("config.json",))
    refused(make_zip([e for e in base if e[0] != "model.weights.h5"]), "missing_entry")
    refused(make_zip([e if e[0] != "model.weights.h5" else (e[0], b"PK not hdf5") for e in base]), "bad_entry")
    read_archive(make_zip([e for e in base if e[0] != "metadata.json"]))     # metadata is optional


@needs_keras
@pytest.mark.parametrize(("config", "why"), [
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"a": 1}'.encode("utf-16"), "UTF-16"),
    (b"[1, 2]", "not an object"),
    (b'{"class_name": "Sequential", "config": {"layers": []}, "config": {}}', "duplicate key"),
    (b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}", "recursion"),
    (b'{"a": ', "truncated"),
])
def test_bad_json_is_refused(built: Path, config: bytes, why: str) -> None:
    files = entries_of(raw(built, "uncompiled"))
    files["config.json"] = config
    refused(make_zip(list(files.items())), "bad_json")


@needs_keras
def test_nesting_is_capped(built: Path) -> None:
    data = raw(built, "seq_activation_layers")

    def nest(depth: int) -> Callable[[dict[str, Any]], None]:
        def edit(cfg: dict[str, Any]) -> None:
            pad: Any = 0
            for _ in range(depth):
                pad = [pad]
            layers_of(cfg)[1]["config"]["pad"] = pad
        return edit
    read_archive(edit_config(data, nest(40)))
    refused(edit_config(data, nest(70)), "bad_json", says=("64",))


# -- the allow-list and the wire -------------------------------------------------------------------------

def test_allowlist_leaves_out_code_carrying_classes() -> None:
    every = set().union(*allow.CLASSES.values(), *allow.SRC_CLASSES.values())
    for bad in ("Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "Layer", "InputSpec",
                "Wrapper", "LossFunctionWrapper", "MeanMetricWrapper", "TextVectorization", "StringLookup",
                "Loss", "Metric", "Optimizer"):
        assert bad not in every, bad
    assert {"Dense", "Conv2D", "MaxPooling2D", "Activation", "InputLayer"} <= allow.CLASSES["keras.layers"]
    assert {"Sequential", "Model", "DTypePolicy"} <= allow.CLASSES["keras"]
    assert not {"get", "serialize", "deserialize"} & (allow.LOSS_FUNCTIONS | allow.ACTIVATION_FUNCTIONS)
    for cls in allow.CLASSES["keras.losses"]:       # every loss class reads as its function name
        assert canonical_loss({"class_name": cls}) in allow.LOSS_FUNCTIONS, cls
    assert snake("KLDivergence") == "kl_divergence" and canonical_loss("MSE") == "mean_squared_error"


@needs_keras
def test_allowlist_matches_installed_keras() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "make_keras_allowlist.py")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == (ROOT / "tfgrade" / "engine" / "keras_allowlist.py").read_text(), \
        "Keras changed: regenerate tfgrade/engine/keras_allowlist.py with tests/make_keras_allowlist.py and review it"


@pytest.mark.parametrize("bad", [
    None, [], {"n_params": 1}, {"n_params": "3", "layers": []}, {"n_params": True, "layers": []},
    {"n_params": -1, "layers": []}, {"n_params": 1, "layers": [{"name": 3, "params": 1}]},
    {"n_params": 1, "layers": [{"name": "d", "params": 1.5}]}, {"n_params": 1, "layers": ["d"]},
    {"n_params": 1, "layers": [], "input_shape": "(None, 3)"},
    {"n_params": 1, "layers": [], "input_shape": [None, 3.0]},
    {"n_params": 1, "layers": [], "output_shape": [[None, 3]]},
    {"n_params": 1, "layers": [{"name": "d", "params": 1}] * 10_001},
])
def test_facts_from_wire_is_defensive(bad: Any) -> None:
    with pytest.raises(ProtocolError):
        ModelFacts.from_wire(bad)


def test_facts_from_wire() -> None:
    facts = ModelFacts.from_wire({"n_params": 5, "input_shape": [None, 3], "output_shape": None,
                                  "layers": [{"name": "d", "params": 5, "input_shape": [None, 3],
                                              "output_shape": [None, 1]}]})
    assert facts.n_params == 5 and facts.input_shape == (None, 3) and facts.output_shape is None
    assert facts.layers[0].name == "d" and facts.layers[0].output_shape == (None, 1)


def test_reader_imports_no_tensorflow_keras_or_h5py() -> None:
    code = ("import sys, tfgrade.engine.keras_archive, tfgrade.engine.keras_config, tfgrade.engine.keras_allowlist; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'h5py', 'jax', 'torch') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
