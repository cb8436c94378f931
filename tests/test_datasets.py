"""tfgrade.pack.datasets: the bundled splits, their determinism, and instructors' own files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfgrade.errors import DatasetError
from tfgrade.pack import datasets
from tfgrade.pack.datasets import DataConfig, Split

AUTO_FEATURES = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "year", "origin"]
PIMA_FEATURES = ["npreg", "glu", "bp", "skin", "bmi", "ped", "age"]


# --------------------------------------------------------------------------- bundled data


def test_auto_mpg_shapes_and_dtypes() -> None:
    s = datasets.auto_mpg()
    assert (s.n_train, s.n_test) == (314, 78)
    assert s.x_train.shape == (314, 7) and s.x_test.shape == (78, 7)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.float32
    assert list(s.feature_names) == AUTO_FEATURES
    assert s.y_train.min() >= 9.0 and s.y_train.max() <= 47.0   # mpg, not a scaled target


def test_auto_mpg_features_are_raw_and_in_order() -> None:
    s = datasets.auto_mpg()
    x = np.concatenate([s.x_train, s.x_test])
    assert set(np.unique(x[:, 0])) <= {3.0, 4.0, 5.0, 6.0, 8.0}       # cylinders
    assert x[:, 3].min() > 1500                                      # weight in pounds
    assert set(np.unique(x[:, 6])) == {1.0, 2.0, 3.0}                # origin
    assert x[:, 5].min() >= 70 and x[:, 5].max() <= 82               # model year


def test_auto_mpg_split_is_a_partition_of_the_392_cars() -> None:
    s = datasets.auto_mpg()
    rows = np.concatenate([s.x_train, s.x_test])
    assert len({tuple(r) for r in rows.tolist()}) >= 390   # two rows may coincide, not 78


def test_auto_mpg_seed_changes_the_split_and_is_deterministic() -> None:
    a, b, c = datasets.auto_mpg(seed=1), datasets.auto_mpg(seed=1), datasets.auto_mpg(seed=2)
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_test, c.x_test)
    assert (c.n_train, c.n_test) == (314, 78)


def test_pima_is_the_standard_train_and_test_sets() -> None:
    s = datasets.pima()
    assert (s.n_train, s.n_test) == (200, 332)
    assert s.x_train.shape == (200, 7) and s.x_train.dtype == np.float32
    assert list(s.feature_names) == PIMA_FEATURES
    assert s.y_train.dtype == np.int64 and set(np.unique(s.y_train)) == {0, 1}
    assert int(s.y_train.sum()) == 68 and int(s.y_test.sum()) == 109   # "Yes" in Pima.tr / Pima.te


def test_pima_first_row_is_mass_pima_tr() -> None:
    s = datasets.pima()
    assert s.x_train[0].tolist() == pytest.approx([5, 86, 68, 28, 30.2, 0.364, 24])
    assert s.y_train[0] == 0 and s.y_train[1] == 1


def test_digits_shapes_range_and_stratification() -> None:
    s = datasets.digits()
    assert s.x_train.shape[1:] == (8, 8, 1) and s.x_test.shape[1:] == (8, 8, 1)
    assert s.n_train + s.n_test == 1797
    assert 445 <= s.n_test <= 455
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64
    assert s.x_train.min() == 0.0 and s.x_train.max() == 1.0
    per_class = np.bincount(s.y_test, minlength=10) / np.bincount(np.concatenate([s.y_train, s.y_test]))
    assert np.all(np.abs(per_class - 0.25) < 0.01)   # every class keeps its quarter


def test_digits_deterministic_per_seed() -> None:
    a, b = datasets.digits(seed=3), datasets.digits(seed=3)
    assert np.array_equal(a.y_test, b.y_test) and np.array_equal(a.x_test, b.x_test)
    assert not np.array_equal(datasets.digits(seed=4).y_test, a.y_test)


def test_splits_are_read_only_so_checks_cannot_alter_the_cache() -> None:
    s = datasets.pima()
    with pytest.raises(ValueError):
        s.x_test[0, 0] = 1.0
    assert datasets.pima() is s   # cached


def test_load_by_exercise_uses_default_seeds_and_configs() -> None:
    assert np.array_equal(datasets.load("ex04_regression").x_test, datasets.auto_mpg().x_test)
    cfg = datasets.load("ex04_regression", {"seed": 2})
    assert np.array_equal(cfg.x_test, datasets.auto_mpg(seed=2).x_test)
    assert isinstance(datasets.load("ex07_cnn", DataConfig(seed=5)), Split)


def test_description_is_bilingual() -> None:
    d = datasets.auto_mpg().description
    assert "314 training examples, 78 held out" in d.en
    assert "314 ejemplos de entrenamiento, 78 reservados" in d.es


def test_the_trusted_side_never_imports_tensorflow() -> None:
    code = ("import sys; from tfgrade import datasets, metrics; "
            "datasets.auto_mpg(); datasets.pima(); datasets.digits(); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- errors


def _bilingual(err: DatasetError) -> tuple[str, str]:
    assert err.msg.es and err.msg.en and err.msg.es != err.msg.en
    return err.msg.es, err.msg.en


def test_unknown_exercise() -> None:
    with pytest.raises(DatasetError) as info:
        datasets.load("ex02_sequential")
    es, en = _bilingual(info.value)
    assert "has no dataset" in en and "no tiene datos" in es


@pytest.mark.parametrize(("data", "needle"), [({"sed": 1}, "unknown keys: sed"),
                                               ({"seed": -1}, "non-negative"),
                                               ({"seed": "7"}, "non-negative"),
                                               ({"seed": True}, "non-negative")])
def test_bad_data_tables(data: dict[str, object], needle: str) -> None:
    with pytest.raises(DatasetError) as info:
        datasets.load("ex04_regression", data)
    assert needle in _bilingual(info.value)[1]


def test_missing_file() -> None:
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source="/nonexistent/auto.csv")
    es, en = _bilingual(info.value)
    assert "cannot read the data file" in en and "no se puede leer" in es


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "auto.xlsx"
    path.write_text("x")
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    assert "unsupported format" in _bilingual(info.value)[1]


# --------------------------------------------------------------------------- CSV overrides


def _auto_frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.uniform(1, 100, n) for name in AUTO_FEATURES})
    frame["mpg"] = rng.uniform(10, 40, n)
    frame["name"] = "car"            # extra columns are ignored
    return frame


def test_csv_override_is_split_80_20_with_the_seed(tmp_path: Path) -> None:
    path = tmp_path / "auto.csv"
    frame = _auto_frame()[["mpg", *reversed(AUTO_FEATURES), "name"]]   # any column order
    frame.to_csv(path, index=False)
    s = datasets.load("ex04_regression", {"source": str(path), "seed": 3})
    assert (s.n_train, s.n_test) == (40, 10)
    assert s.x_train.dtype == np.float32
    rows = {tuple(np.float32(v) for v in r) for r in frame[AUTO_FEATURES].to_numpy()}
    assert {tuple(r) for r in s.x_test.tolist()} <= {tuple(float(v) for v in r) for r in rows}


def test_csv_override_relative_to_the_exercise_folder(tmp_path: Path) -> None:
    _auto_frame().to_csv(tmp_path / "mine.csv", index=False)
    s = datasets.load("ex04_regression", {"source": "mine.csv"}, base_dir=tmp_path)
    assert s.n_train + s.n_test == 50


def test_csv_with_split_column_keeps_the_instructors_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({name: rng.uniform(0, 10, 30) for name in PIMA_FEATURES})
    frame["type"] = ["Yes", "No", "No"] * 10
    frame["split"] = ["train"] * 20 + ["test"] * 10
    path = tmp_path / "pima.csv"
    frame.to_csv(path, index=False)
    s = datasets.pima(source=path)
    assert (s.n_train, s.n_test) == (20, 10)
    assert s.y_train.tolist()[:3] == [1, 0, 0]


def test_pima_csv_accepts_numeric_labels_and_stratifies_without_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({name: rng.uniform(0, 10, 40) for name in PIMA_FEATURES})
    frame["type"] = [1] * 12 + [0] * 28
    path = tmp_path / "pima.csv"
    frame.to_csv(path, index=False)
    s = datasets.pima(source=path)
    assert (s.n_train, s.n_test) == (30, 10)
    assert int(s.y_test.sum()) == 3      # 25 % of the 12 positives


def test_csv_missing_columns_is_a_bilingual_error(tmp_path: Path) -> None:
    path = tmp_path / "auto.csv"
    _auto_frame().drop(columns=["horsepower", "mpg"]).to_csv(path, index=False)
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    es, en = _bilingual(info.value)
    assert "missing columns horsepower, mpg" in en
    assert "faltan las columnas horsepower, mpg" in es


def test_csv_with_empty_cells_or_text_features(tmp_path: Path) -> None:
    frame = _auto_frame()
    frame.loc[3, "weight"] = np.nan
    path = tmp_path / "auto.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    assert "empty, NaN or infinite" in _bilingual(info.value)[1]
    frame = _auto_frame()
    frame["weight"] = "heavy"
    frame.to_csv(path, index=False)
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    assert "not numeric" in _bilingual(info.value)[1]


def test_csv_with_bad_labels(tmp_path: Path) -> None:
    frame = pd.DataFrame({name: [1.0] * 8 for name in PIMA_FEATURES})
    frame["type"] = ["Yes", "No", "Maybe", "No"] * 2
    path = tmp_path / "pima.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DatasetError) as info:
        datasets.pima(source=path)
    assert "empty or invalid" in _bilingual(info.value)[1]


def test_unreadable_csv(tmp_path: Path) -> None:
    path = tmp_path / "auto.csv"
    path.write_bytes(b"")
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    assert "cannot read auto.csv as CSV" in _bilingual(info.value)[1]


def test_digits_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "digits.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError) as info:
        datasets.digits(source=path)
    assert "must come as an .npz" in _bilingual(info.value)[1]


def test_edited_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "auto.csv"
    _auto_frame(50).to_csv(path, index=False)
    assert datasets.auto_mpg(source=path).n_test == 10
    _auto_frame(100, seed=1).to_csv(path, index=False)
    assert datasets.auto_mpg(source=path).n_test == 20


# --------------------------------------------------------------------------- .npz overrides


def _digits_npz(path: Path, **changes: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.uniform(0, 1, (30, 8, 8, 1)).astype(np.float32),
              "y_train": np.arange(30) % 10,
              "x_test": rng.uniform(0, 1, (10, 8, 8)).astype(np.float32),   # no channel axis: fine
              "y_test": np.arange(10)}
    arrays.update(changes)
    np.savez(path, **arrays)


def test_npz_override(tmp_path: Path) -> None:
    path = tmp_path / "digits.npz"
    _digits_npz(path)
    s = datasets.load("ex07_cnn", {"source": str(path)})
    assert s.x_train.shape == (30, 8, 8, 1) and s.x_test.shape == (10, 8, 8, 1)
    assert s.y_test.tolist() == list(range(10)) and s.y_test.dtype == np.int64


def test_npz_flat_images_are_reshaped(tmp_path: Path) -> None:
    path = tmp_path / "digits.npz"
    _digits_npz(path, x_test=np.full((10, 64), 0.5, dtype=np.float32))
    assert datasets.digits(source=path).x_test.shape == (10, 8, 8, 1)


@pytest.mark.parametrize(("changes", "needle"), [
    ({"x_train": np.zeros((30, 7, 7, 1))}, "shape (30, 7, 7, 1), expected (N, 8, 8, 1)"),
    ({"x_train": np.full((30, 8, 8, 1), 16.0)}, "pixels must lie in [0, 1]"),
    ({"y_test": np.arange(10) + 5}, "labels outside 0..9"),
    ({"y_test": np.arange(9)}, "x_test has 10 rows and y_test 9"),
])
def test_npz_bad_contents(tmp_path: Path, changes: dict[str, np.ndarray], needle: str) -> None:
    path = tmp_path / "digits.npz"
    _digits_npz(path, **changes)
    with pytest.raises(DatasetError) as info:
        datasets.digits(source=path)
    assert needle in _bilingual(info.value)[1]


def test_npz_missing_arrays(tmp_path: Path) -> None:
    path = tmp_path / "auto.npz"
    np.savez(path, x_train=np.zeros((5, 7)), y_train=np.zeros(5))
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    es, en = _bilingual(info.value)
    assert "missing arrays x_test, y_test" in en and "faltan los arrays x_test, y_test" in es


def test_npz_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "auto.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1),
             x_test=np.zeros((1, 7)), y_test=np.zeros(1))
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    assert "cannot read auto.npz as .npz" in _bilingual(info.value)[1]


def test_garbage_npz(tmp_path: Path) -> None:
    path = tmp_path / "auto.npz"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(DatasetError) as info:
        datasets.auto_mpg(source=path)
    assert "cannot read auto.npz" in _bilingual(info.value)[1]


def test_regression_npz(tmp_path: Path) -> None:
    path = tmp_path / "auto.npz"
    np.savez(path, x_train=np.ones((8, 7)), y_train=np.linspace(10, 30, 8),
             x_test=np.ones((2, 7)), y_test=np.array([[12.0], [20.0]]))
    s = datasets.auto_mpg(source=path)
    assert s.y_test.tolist() == [12.0, 20.0] and s.y_test.dtype == np.float32
