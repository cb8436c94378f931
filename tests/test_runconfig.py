"""One run configuration (tfgrade.runners.config), one set of bench options, one GPU rule.

No sandbox is started here: `make_sandbox` is replaced by a recorder, so these tests see what
each route would build (course, level, masks, threads) without a zygote or TensorFlow.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from tfgrade import bench
from tfgrade.cli import build_parser
from tfgrade.engine import plugin
from tfgrade.engine.grader import Grader
from tfgrade.engine.results import CheckResult, ExerciseResult
from tfgrade.i18n import Msg
from tfgrade.pack import requirements
from tfgrade.pack.course import Course
from tfgrade.runners.batch import course_digest, pack_digest
from tfgrade.runners.config import RunConfig, threads_per_worker
from tfgrade.runners.dask_cluster import worker_config, worker_grader

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeSandbox:
    level: str
    masks: tuple[str, ...]
    threads: int

    @property
    def plan(self) -> FakeSandbox:
        return self

    def close(self) -> None:
        pass


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    import tfgrade.supervisor

    monkeypatch.setattr(tfgrade.supervisor, "make_sandbox",
                        lambda level="auto", masks=(), threads=1, **_: FakeSandbox(level, masks, threads))


def _instructor(tmp: Path) -> tuple[Path, Path]:
    pack = tmp / "pack"
    for ex_id in ("ex01_tf1_add", "ex02_sequential", "ex05_matrix_power"):
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    config = tmp / "course.toml"
    config.write_text('seed = 7\nexercises = ["ex01_tf1_add", "ex05_matrix_power"]\n'
                      "[limits]\ncall_timeout_s = 33\n", encoding="utf-8")
    return pack, config


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


# ------------------------------------------------------------------ RunConfig
def test_from_args_reads_each_command(tmp_path: Path) -> None:
    pack, course = _instructor(tmp_path)
    common = ["--pack", str(pack), "--course", str(course), "--lang", "en"]
    check = RunConfig.from_args(_args("check", "ex01_tf1_add.py", "--isolation", "basic", *common))
    assert not check.include_hidden and check.isolation == "basic" and check.jobs == 1
    assert check.lang == "en" and check.masks == () and not check.uses_dask
    assert check.worker_threads == threads_per_worker(1)
    grade = RunConfig.from_args(_args("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "-j", "3",
                                      *common))
    assert grade.include_hidden and grade.jobs == 3 and grade.worker_threads == threads_per_worker(3)
    assert grade.masks == ((tmp_path / "subs").resolve(), (tmp_path / "out").resolve())
    assert RunConfig.from_args(_args("grade", "s", "--out", "o", "--dask-local", "2")).uses_dask
    assert RunConfig.from_args(_args("grade", "s", "--out", "o", "--scheduler", "tcp://h:1")).scheduler == "tcp://h:1"
    one = RunConfig.from_args(_args("grade-one", str(tmp_path)))
    assert one.include_hidden and one.masks == (tmp_path.resolve(),)
    assert RunConfig.from_args(_args("validate", *common)).course.ids == ("ex01_tf1_add", "ex05_matrix_power")
    student = tmp_path / "mine" / "ex05_matrix_power.py"
    assert RunConfig.from_args(_args("bench", "--file", str(student))).masks == (student.resolve().parent,)


def test_the_course_is_the_pack_the_course_file_and_the_overrides(tmp_path: Path) -> None:
    pack, course_file = _instructor(tmp_path)
    config = RunConfig(pack=pack, course_file=course_file)
    loaded = Course.load(pack, course_file)
    assert course_digest(config.course, "basic") == course_digest(loaded, "basic")
    assert config.course is config.course                        # loaded once
    over = replace(config, seed=11, limits_override=(("train_timeout_s", 5.0),))
    assert over.course.seed == 11
    assert over.course.limits_override == {"call_timeout_s": 33, "train_timeout_s": 5.0}


def test_the_same_config_builds_the_same_grader_for_local_workers_and_dask(tmp_path: Path, no_sandbox: None) -> None:
    """`-j N` and `--dask-local N` from one RunConfig: the same course (digest), the same
    hidden checks, level and threads; the Dask worker also hides its copy of the course."""
    pack, course_file = _instructor(tmp_path / "instructor")
    args = _args("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--pack", str(pack),
                 "--course", str(course_file), "--isolation", "standard", "-j", "2")
    config = RunConfig.from_args(args)
    expected = course_digest(config.course, "standard")
    local = pickle.loads(pickle.dumps(config)).grader()         # what a spawned local worker builds
    local_digests = course_digest(local.course, "standard"), pack_digest(local.course)
    bundle = config.bundle()
    shutil.rmtree(tmp_path / "instructor")                       # a Dask worker has none of these files
    dask_config = pickle.loads(pickle.dumps(worker_config(config, 2)))
    remote = worker_grader(dask_config, bundle, tmp_path / "worker")
    assert local_digests == (course_digest(remote.course, "standard"), pack_digest(remote.course))
    assert local_digests[0] == expected
    assert remote.course.seed == local.course.seed == 7 and remote.course.ids == local.course.ids
    assert remote.include_hidden is local.include_hidden is True
    assert remote.sandbox.plan.level == local.sandbox.plan.level == "standard"
    assert remote.sandbox.threads == local.sandbox.threads == threads_per_worker(2)
    assert str((tmp_path / "subs").resolve()) in local.sandbox.masks
    assert str(tmp_path / "worker") in remote.sandbox.masks
    assert str((tmp_path / "subs").resolve()) not in remote.sandbox.masks   # not the dispatcher's paths


def test_a_remote_cluster_worker_gets_one_thread() -> None:
    config = RunConfig(scheduler="tcp://host:8786")
    assert worker_config(config, 4).worker_threads == 1
    assert worker_config(replace(config, threads=3), 4).worker_threads == 3
    assert worker_config(RunConfig(dask_local=2), 2).worker_threads == threads_per_worker(2)


# ------------------------------------------------------------------ bench options
def test_bench_options_are_defined_once() -> None:
    """`tfgrade bench` with no options gives exactly BenchOptions' defaults."""
    args = _args("bench")
    assert bench.options_from(args) == bench.BenchOptions() == bench.DEFAULTS
    assert bench.options_from({}) == bench.BenchOptions()
    parent = bench.bench_parser().parse_args([])
    assert {k: getattr(args, k) for k in vars(parent)} == vars(parent)
    assert args.out == str(bench.DEFAULTS.out) and args.repeats == bench.DEFAULTS.repeats
    assert args.timeout == bench.DEFAULTS.timeout_s


def test_bench_help_states_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    d = bench.DEFAULTS
    for option, value in (("--out", d.out), ("--repeats", d.repeats), ("--timeout", d.timeout_s),
                          ("--power", d.power)):
        assert option in text and f"(default: {value})" in text


# ------------------------------------------------------------------ the GPU rule
def test_the_rule_recognises_gpu_devices() -> None:
    assert requirements.has_gpu(["/CPU:0", "/GPU:0"])
    assert requirements.has_gpu(["/job:localhost/replica:0/task:0/device:GPU:1"])
    assert not requirements.has_gpu(["/CPU:0"]) and not requirements.has_gpu([])
    ex05 = Course.load().get("ex05_matrix_power")
    assert requirements.lacking(ex05, ["/CPU:0"]) == {"gpu"}
    assert requirements.lacking(ex05, ["/CPU:0", "/GPU:0"]) == frozenset()
    assert requirements.lacking(Course.load().get("ex01_tf1_add"), ["/CPU:0"]) == frozenset()


def test_the_engine_says_the_rule_in_its_words() -> None:
    assert plugin.NO_GPU == requirements.NO_GPU == requirements.MESSAGES["gpu"]


def _graded(exercise: Any, feedback: Msg) -> ExerciseResult:
    """An ex05 result as grading returns it: the GPU check said not applicable its own way."""
    checks = tuple(CheckResult(id=c.id, title=c.title, status="not_applicable" if c.requires else "passed",
                               points=0.0 if c.requires else c.points, max_points=c.points, hidden=c.hidden,
                               feedback=feedback if c.requires else Msg("", ""),
                               details={"devices": ["/CPU:0"]} if c.requires else {})
                   for c in exercise.checks)
    return ExerciseResult(exercise=exercise.id, title=exercise.title, status="graded", checks=checks,
                          source=f"{exercise.id}.py")


@pytest.mark.parametrize("devices", [("/CPU:0",), ("/CPU:0", "/GPU:0")])
def test_the_gpu_rule_is_the_same_for_a_missing_file_and_a_graded_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, devices: tuple[str, ...]) -> None:
    import tfgrade.engine.grader as batch  # where Grader looks grade_exercise up

    course = Course.load()
    ex = course.get("ex05_matrix_power")
    gpu_ids = {c.id for c in ex.checks if c.requires == "gpu"}
    assert gpu_ids == {"on_gpu"}
    other_words = Msg("la máquina de corrección no tiene GPU (dispositivos: /CPU:0)",
                      "the grading machine has no GPU (devices: /CPU:0)")
    monkeypatch.setattr(batch, "grade_exercise", lambda *a, **k: (_graded(ex, other_words), None))
    grader = Grader(course, FakeSandbox("basic", (), 1), include_hidden=True, _devices=devices)  # type: ignore[arg-type]
    student = tmp_path / "ex05_matrix_power.py"
    student.write_text("def matrix_power(m, n, device='/CPU:0'):\n    return m\n", encoding="utf-8")
    unreadable = tmp_path / "bad" / "ex05_matrix_power.ipynb"
    unreadable.parent.mkdir()
    unreadable.write_text("{not json", encoding="utf-8")
    results = {"missing": grader.grade_file(ex, None), "graded": grader.grade_file(ex, student),
               "unreadable": grader.grade_file(ex, unreadable)}
    assert results["unreadable"].status == "unreadable" and results["missing"].status == "missing"
    if requirements.has_gpu(devices):
        # a GPU here: the rule takes nothing away; the graded check keeps what it said
        assert next(c for c in results["missing"].checks if c.id == "on_gpu").status == "skipped"
        assert next(c for c in results["graded"].checks if c.id == "on_gpu").feedback == other_words
        return
    gpu = {k: next(c for c in r.checks if c.id == "on_gpu") for k, r in results.items()}
    for check in gpu.values():
        assert (check.status, check.points, check.feedback) == ("not_applicable", 0.0, requirements.NO_GPU)
    assert {(c.status, c.points, c.max_points, c.feedback, c.hidden) for c in gpu.values()} == {
        ("not_applicable", 0.0, gpu["missing"].max_points, requirements.NO_GPU, gpu["missing"].hidden)}
    assert gpu["graded"].details == {"devices": ["/CPU:0"]}                 # what the check recorded stays
    assert len({r.max_score for r in results.values()}) == 1                # the same maximum for all
    assert results["missing"].max_score == ex.max_points - gpu["missing"].max_points
