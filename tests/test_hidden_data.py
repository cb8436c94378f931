"""Held-out labels never reach the sandbox, held-out inputs never reach student code (only the
clean process predicts them), and an instructor's private data replaces the bundled data
(with a clear error, before grading, when the file is wrong)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from tfgrade.cli import main
from tfgrade.engine.plugin import grade_exercise
from tfgrade.intake.source import read_submission
from tfgrade.pack import datasets
from tfgrade.wire import framing as protocol

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_sandbox_never_receives_held_out_labels(grader, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ex = grader.course.get("ex06_diabetes_mlp")
    split = datasets.load(ex.id, ex.data, base_dir=ex.folder)
    sub = tmp_path / "ex06_diabetes_mlp.py"
    shutil.copyfile(ROOT / "solutions" / "ex06_diabetes_mlp.py", sub)
    result, proxy = grade_exercise(grader.course, ex, read_submission(sub), grader.sandbox,
                                   include_hidden=True, source_label=sub.name, audit=True)
    assert result.score == result.max_score
    sent = [protocol.read_frame(io.BytesIO(frame).read) for frame in proxy.sent_frames]
    arrays = [a for f in sent for a in f.arrays]
    assert any(a.shape == split.x_train.shape for a in arrays), "the training data is sent"
    # Verify, don't believe: predictions come from the clean process, so the student's own
    # process never sees a single held-out row.
    test_rows = {tuple(np.round(row, 4)) for row in split.x_test.reshape(split.n_test, -1)}
    for a in arrays:
        if a.ndim >= 1 and a.dtype.kind == "f" and a.size and a.size % split.x_test[0].size == 0:
            rows = a.reshape(-1, split.x_test[0].size)
            assert not any(tuple(np.round(r, 4)) in test_rows for r in rows), "a held-out row reached student code"
    for a in arrays:
        flat = a.reshape(-1)
        if flat.size == split.y_test.size:
            assert not np.array_equal(flat.astype(np.float64), split.y_test.astype(np.float64).reshape(-1))
    accuracy = next(c for c in result.checks if "confusion_matrix" in c.details)
    counts = np.array(accuracy.details["confusion_matrix"]["counts"])
    assert counts.sum() == split.y_test.size      # the metric was computed here, on all held-out rows


def _private_pima(path: Path, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    x_train = rng.normal(size=(120, 7)).astype(np.float32)
    x_test = rng.normal(size=(60, 7)).astype(np.float32)
    w = rng.normal(size=7)
    np.savez(path, x_train=x_train, y_train=(x_train @ w > 0).astype(np.int64),
             x_test=x_test, y_test=(x_test @ w > 0).astype(np.int64))


def test_instructor_data_override_is_used(tmp_path: Path) -> None:
    _private_pima(tmp_path / "pima_private.npz")
    (tmp_path / "course.toml").write_text('[datasets.ex06_diabetes_mlp]\nsource = "pima_private.npz"\n')
    from tfgrade.pack.course import Course

    course = Course.load(config=tmp_path / "course.toml")
    ex = course.get("ex06_diabetes_mlp")
    split = datasets.load(ex.id, ex.data, base_dir=ex.folder)
    assert split.x_train.shape == (120, 7) and split.x_test.shape == (60, 7)


@pytest.mark.parametrize("content,expect", [
    (b"not a zip at all", "bad.npz"),
    (None, "x_test"),
])
def test_bad_instructor_data_is_refused_before_grading(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       content: bytes | None, expect: str) -> None:
    bad = tmp_path / "bad.npz"
    if content is None:
        np.savez(bad, x_train=np.zeros((3, 7)), y_train=np.zeros(3))       # x_test missing
    else:
        bad.write_bytes(content)
    (tmp_path / "course.toml").write_text('[datasets.ex06_diabetes_mlp]\nsource = "bad.npz"\n')
    subs = tmp_path / "subs" / "ana"
    subs.mkdir(parents=True)
    (subs / "ex06_diabetes_mlp.py").write_text("x = 1\n")
    code = main(["grade", str(subs.parent), "--out", str(tmp_path / "out"), "--course",
                 str(tmp_path / "course.toml"), "--lang", "en", "-j", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "bad.npz" in err and expect in err
    assert not (tmp_path / "out" / "results").exists()
