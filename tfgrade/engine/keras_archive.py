"""Trusted-side reader of a Keras 3 `.keras` archive (zip of config.json, metadata.json, model.weights.h5).

This module never imports TensorFlow, Keras or h5py and never runs anything from the archive: it opens
the zip with `zipfile`, parses the JSON with `json`, and refuses every serialized object that is not a
built-in Keras class from `tfgrade.engine.keras_allowlist`. Keras' own `safe_mode` is no boundary (Lambda
bytecode, any module named in config.json, legacy HDF5): this allow-list is the gate; the clean
process that loads the archive afterwards only ever sees archives that passed it.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from tfgrade.engine import keras_allowlist as allow
from tfgrade.engine.keras_config import LayerFacts, ModelFacts, describe
from tfgrade.engine.returned import ModelSpec
from tfgrade.i18n import Msg

__all__ = ["ArchiveRefused", "KerasArchive", "LayerFacts", "ModelFacts", "describe_archive", "read_archive"]

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
CONFIG_MAX = 4 * 2**20
METADATA_MAX = 64 * 2**10
MAX_DEPTH = 64
MAX_NODES = 2_000_000
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
LAYER_SLOTS = frozenset({"layer", "backward_layer", "forward_layer", "cell", "cells", "layers"})
ACTIVATION_KEYS = frozenset({"activation", "recurrent_activation"})
BUILTIN_FUNCTIONS = allow.LOSS_FUNCTIONS | allow.METRIC_FUNCTIONS | allow.ACTIVATION_FUNCTIONS
ALL_BUILTIN_CLASSES = frozenset().union(*allow.CLASSES.values(), *allow.SRC_CLASSES.values())
OPTIMIZER_NAMES = frozenset(n.lower() for n in allow.CLASSES["keras.optimizers"])
METRICS_ANY_CASE = frozenset({"accuracy", "acc", "crossentropy", "ce"})   # compile_utils lowercases these
SAVE_HINT = Msg(" Guarda el modelo con model.save('modelo.keras').", " Save the model with model.save('model.keras').")


class ArchiveRefused(Exception):
    """The archive cannot be verified; .msg is a tfgrade.i18n.Msg(es, en) for the student, .reason a short code."""

    def __init__(self, reason: str, msg: Msg) -> None:
        super().__init__(f"{reason}: {msg.en}")
        self.reason = reason
        self.msg = msg


@dataclass(frozen=True)
class KerasArchive:
    config: dict[str, Any]        # config.json, validated
    keras_version: str | None     # from metadata.json
    size: int                     # bytes of the archive


def describe_archive(archive: KerasArchive, facts: ModelFacts | None,
                     histories: tuple[dict[str, Any], ...] = ()) -> ModelSpec:
    """The model as an instructor reads it: config (validated) + what the clean process measured."""
    return describe(archive.config, facts, histories)


def read_archive(data: bytes, *, max_bytes: int = 64 * 2**20) -> KerasArchive:
    """Open and verify a .keras archive; raises ArchiveRefused for anything not plainly built-in Keras."""
    if not isinstance(data, (bytes, bytearray)):
        raise ArchiveRefused("not_zip", Msg("El modelo no llegó como bytes de un archivo .keras.",
                                            "The model did not arrive as the bytes of a .keras archive."))
    data = bytes(data)
    if len(data) > max_bytes:
        raise ArchiveRefused("too_large", Msg(
            f"El archivo del modelo ocupa {len(data)} bytes, más que el máximo de {max_bytes}.",
            f"The model archive is {len(data)} bytes, more than the limit of {max_bytes}."))
    if data.startswith(HDF5_MAGIC):
        raise ArchiveRefused("legacy_h5", Msg(
            "El modelo está en el formato HDF5 (.h5) heredado, que no se puede verificar." + SAVE_HINT.es,
            "The model is in the legacy HDF5 (.h5) format, which cannot be verified." + SAVE_HINT.en))
    if not data.startswith(ZIP_MAGIC):
        raise ArchiveRefused("not_zip", Msg("El archivo del modelo no es un archivo .keras (zip) válido.",
                                            "The model file is not a valid .keras (zip) archive."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            entries = _check_entries(zf.infolist(), max_bytes)
            config_bytes = _read_entry(zf, entries[CONFIG], CONFIG_MAX)
            meta_bytes = _read_entry(zf, entries[METADATA], METADATA_MAX) if METADATA in entries else None
            _check_weights(zf, entries[WEIGHTS], max_bytes)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        raise ArchiveRefused("not_zip", Msg(f"El archivo .keras está dañado ({type(exc).__name__}).",
                                            f"The .keras archive is damaged ({type(exc).__name__}).")) from None
    config = _parse_json(config_bytes, CONFIG)
    _validate_model(config)
    version: str | None = None
    if meta_bytes is not None:
        meta = _parse_json(meta_bytes, METADATA)
        raw = meta.get("keras_version")
        version = raw[:40] if isinstance(raw, str) else None
    return KerasArchive(config=config, keras_version=version, size=len(data))


# -- the zip --------------------------------------------------------------------------------------------

def _bad_entry(what_es: str, what_en: str) -> ArchiveRefused:
    return ArchiveRefused("bad_entry", Msg(
        f"El archivo .keras contiene {what_es}; solo se aceptan config.json, metadata.json y model.weights.h5."
        + SAVE_HINT.es,
        f"The .keras archive contains {what_en}; only config.json, metadata.json and model.weights.h5 are "
        "accepted." + SAVE_HINT.en))


def _check_entries(infos: list[zipfile.ZipInfo], max_bytes: int) -> dict[str, zipfile.ZipInfo]:
    names = [i.filename for i in infos]
    if "saved_model.pb" in names or any(n.endswith("/saved_model.pb") for n in names):
        raise ArchiveRefused("saved_model", Msg(
            "El modelo está en formato SavedModel de TensorFlow, que no se puede verificar." + SAVE_HINT.es,
            "The model is a TensorFlow SavedModel, which cannot be verified." + SAVE_HINT.en))
    entries: dict[str, zipfile.ZipInfo] = {}
    caps = {CONFIG: CONFIG_MAX, METADATA: METADATA_MAX, WEIGHTS: max_bytes}
    total = 0
    for info in infos:
        name = info.filename
        shown = ascii(name)[:80]
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
            raise _bad_entry(f"una ruta insegura {shown}", f"an unsafe path {shown}")
        if name not in caps:
            raise _bad_entry(f"un archivo inesperado {shown}", f"an unexpected file {shown}")
        if name in entries:
            raise _bad_entry(f"el archivo {shown} repetido", f"the file {shown} twice")
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _bad_entry(f"{shown} cifrado o con compresión no admitida",
                             f"{shown} encrypted or with an unsupported compression")
        total += info.file_size
        if info.file_size > caps[name] or total > max_bytes + CONFIG_MAX + METADATA_MAX:
            raise ArchiveRefused("too_large", Msg(
                f"{shown} dentro del archivo .keras declara {info.file_size} bytes, más de lo permitido.",
                f"{shown} inside the .keras archive declares {info.file_size} bytes, more than allowed."))
        entries[name] = info
    for name in (CONFIG, WEIGHTS):
        if name not in entries:
            raise ArchiveRefused("missing_entry", Msg(
                f"Al archivo .keras le falta {name}." + SAVE_HINT.es,
                f"The .keras archive has no {name}." + SAVE_HINT.en))
    return entries


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with zf.open(info) as fh:
        raw = fh.read(cap + 1)        # zipfile stops at the declared size and checks the CRC
    if len(raw) > cap:
        raise ArchiveRefused("too_large", Msg(f"{info.filename} es demasiado grande.",
                                              f"{info.filename} is too large."))
    return raw


def _check_weights(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> None:
    read = 0
    with zf.open(info) as fh:
        head = fh.read(len(HDF5_MAGIC))
        if head != HDF5_MAGIC:
            raise _bad_entry("un model.weights.h5 que no es HDF5", "a model.weights.h5 that is not HDF5")
        read = len(head)
        while chunk := fh.read(1 << 20):   # the whole entry: sizes and CRC verified by zipfile
            read += len(chunk)
            if read > cap:
                raise ArchiveRefused("too_large", Msg("model.weights.h5 es demasiado grande.",
                                                      "model.weights.h5 is too large."))


# -- the JSON -------------------------------------------------------------------------------------------

def _bad_json(name: str, why_es: str, why_en: str) -> ArchiveRefused:
    return ArchiveRefused("bad_json", Msg(f"{name} dentro del archivo .keras no es válido: {why_es}.",
                                          f"{name} inside the .keras archive is not valid: {why_en}."))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _parse_json(raw: bytes, name: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_json(name, "no es texto UTF-8", "it is not UTF-8 text") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise _bad_json(name, "anidamiento demasiado profundo", "nesting too deep") from None
    except ValueError as exc:
        raise _bad_json(name, f"JSON incorrecto ({str(exc)[:80]})", f"bad JSON ({str(exc)[:80]})") from None
    if not isinstance(value, dict):
        raise _bad_json(name, "no es un objeto JSON", "it is not a JSON object")
    depth: list[tuple[Any, int]] = [(value, 1)]
    while depth:
        node, d = depth.pop()
        if d > MAX_DEPTH:
            raise _bad_json(name, f"más de {MAX_DEPTH} niveles de anidamiento",
                            f"more than {MAX_DEPTH} levels of nesting")
        if isinstance(node, dict):
            depth.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            depth.extend((v, d + 1) for v in node)
    return value


# -- the config: every serialized object must be built-in Keras -------------------------------------------

def _bad_config(why_es: str, why_en: str) -> ArchiveRefused:
    return ArchiveRefused("bad_config", Msg(f"La configuración del modelo (config.json) no es válida: {why_es}.",
                                            f"The model configuration (config.json) is not valid: {why_en}."))


def _not_builtin(kind_es: str, kind_en: str, name: str, where: Msg) -> ArchiveRefused:
    shown = ascii(name)[1:-1][:100]
    hint = Msg("", "")
    if name in ALL_BUILTIN_CLASSES | BUILTIN_FUNCTIONS:
        hint = Msg("; es una clase propia con el nombre de una de Keras", "; a class of your own named like a Keras one")
    elif name.endswith("_v2") and name[:-3] in allow.ACTIVATION_FUNCTIONS:
        hint = Msg(f"; usa activation='{name[:-3]}' en lugar de tf.nn.{name[:-3]}",
                   f"; use activation='{name[:-3]}' instead of tf.nn.{name[:-3]}")
    return ArchiveRefused("not_builtin", Msg(
        f"El corrector solo puede verificar capas, optimizadores, pérdidas y métricas integradas de Keras: "
        f"{kind_es} `{shown}` (en {where.es}{hint.es}) no es integrada. Las clases y funciones propias "
        "(personalizadas) no se pueden calificar; usa las de Keras.",
        f"The grader can only verify built-in Keras layers, optimizers, losses and metrics: {kind_en} "
        f"`{shown}` (found in {where.en}{hint.en}) is not built-in. Custom classes and functions cannot be "
        "graded; use the Keras ones."))


def _lambda(where: Msg) -> ArchiveRefused:
    return ArchiveRefused("lambda", Msg(
        f"Las capas Lambda no se pueden verificar (guardan código Python) — encontrada en {where.es}. "
        "Usa capas integradas de Keras (por ejemplo Rescaling, Activation o Normalization).",
        f"Lambda layers cannot be verified (they store Python code) — found in {where.en}. "
        "Use built-in Keras layers (for example Rescaling, Activation or Normalization)."))


def _where_of(node: dict[str, Any], where: Msg) -> Msg:
    """The object's own name ('dense_1') when it has one, else where it sits."""
    inner = node.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if not isinstance(name, str) or not name:
        return where
    shown = ascii(name)[1:-1][:80]
    return Msg(f"'{shown}'", f"'{shown}'")


def _check_object(node: dict[str, Any], where: Msg, shared: dict[int, str]) -> None:
    cn = node.get("class_name")
    module = node.get("module")
    registered = node.get("registered_name")
    if not isinstance(cn, str):
        raise _bad_config("un objeto sin class_name de texto", "an object without a string class_name")
    here = _where_of(node, where)
    if cn in ("__lambda__", "Lambda"):
        raise _lambda(here)
    if cn in allow.DATA_CLASSES:
        if module is not None or registered is not None:
            raise _not_builtin("el objeto", "the object", cn, here)
    elif cn == "function":
        fn = node.get("config")
        if module != "builtins" or registered not in ("function", None) or not isinstance(fn, str):
            raise _not_builtin("la función", "the function", str(registered or fn), here)
        if fn not in BUILTIN_FUNCTIONS:
            raise _not_builtin("la función", "the function", fn, here)
    elif isinstance(module, str) and module in allow.CLASSES:
        if registered is not None or cn not in allow.CLASSES[module]:
            raise _not_builtin("la clase", "the class", cn, here)
    elif isinstance(module, str) and module in allow.SRC_CLASSES:
        if registered != cn or cn not in allow.SRC_CLASSES[module]:
            raise _not_builtin("la clase", "the class", cn, here)
    else:
        raise _not_builtin("la clase", "the class", cn, here)
    inner = node.get("config")
    if cn != "function" and inner is not None and not isinstance(inner, dict):
        raise _bad_config(f"la config de {ascii(cn)[:60]} no es un objeto",
                          f"the config of {ascii(cn)[:60]} is not an object")
    if "name" in node and isinstance(inner, dict) and "name" in inner and node["name"] != inner["name"]:
        raise _bad_config("una capa con dos nombres distintos", "a layer with two different names")
    if "shared_object_id" in node:
        oid = node["shared_object_id"]
        if not isinstance(oid, int) or isinstance(oid, bool):
            raise _bad_config("shared_object_id no es un entero", "shared_object_id is not an integer")
        text = json.dumps(node, sort_keys=True)
        if shared.setdefault(oid, text) != text:
            raise _bad_config("dos objetos compartidos distintos con el mismo id",
                              "two different shared objects with the same id")


def _check_names(value: Any, names: frozenset[str], kind_es: str, kind_en: str, where: Msg,
                 folded: frozenset[str] = frozenset()) -> None:
    """Strings in a compile field (plain lists/dicts for multi-output models) must be known names;
    `folded` ones are matched case-insensitively, as Keras does."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, str):
            if v not in names and v.lower() not in folded:
                raise _not_builtin(kind_es, kind_en, v, where)
        elif isinstance(v, list):
            todo.extend(v)
        elif isinstance(v, dict) and not ({"class_name", "module", "registered_name"} & v.keys()):
            todo.extend(v.values())


def _validate_model(config: dict[str, Any]) -> None:
    if "class_name" not in config or not isinstance(config.get("config"), dict):
        raise _bad_config("no describe un modelo de Keras", "it does not describe a Keras model")
    shared: dict[int, str] = {}
    stack: list[tuple[Any, Msg]] = [(config, Msg("el modelo", "the model"))]
    nodes = 0
    while stack:
        node, where = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise _bad_config("demasiados elementos", "too many elements")
        if isinstance(node, list):
            stack.extend((v, where) for v in reversed(node))   # popped in document order
            continue
        if not isinstance(node, dict):
            continue
        if {"class_name", "module", "registered_name"} & node.keys():
            _check_object(node, where, shared)
            where = _where_of(node, where)
        for key, value in reversed(node.items()):
            if key in ACTIVATION_KEYS and isinstance(value, str) and value not in allow.ACTIVATION_NAMES:
                raise _not_builtin("la activación", "the activation", value, where)
            if key in LAYER_SLOTS and (isinstance(value, str) or
                                       (isinstance(value, list) and any(isinstance(v, str) for v in value))):
                raise _bad_config(f"'{key}' debe describir capas", f"'{key}' must describe layers")
            stack.append((value, where))
    if config["class_name"] not in MODEL_CLASSES:
        raise _bad_config(f"la raíz es {ascii(config['class_name'])[:60]}, no un modelo",
                          f"the root is {ascii(config['class_name'])[:60]}, not a model")
    cc = config.get("compile_config")
    if cc is None:
        return
    if not isinstance(cc, dict):
        raise _bad_config("compile_config no es un objeto", "compile_config is not an object")
    where = Msg("compile()", "compile()")
    _check_names(cc.get("loss"), allow.LOSS_NAMES, "la pérdida", "the loss", where)
    for key in ("metrics", "weighted_metrics"):
        _check_names(cc.get(key), allow.METRIC_NAMES, "la métrica", "the metric", where, METRICS_ANY_CASE)
    opt = cc.get("optimizer")
    if opt is not None and not isinstance(opt, (str, dict)):
        raise _bad_config("optimizer no es válido", "optimizer is not valid")
    _check_names(opt, frozenset(), "el optimizador", "the optimizer", where, OPTIMIZER_NAMES)
