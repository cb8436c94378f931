"""Grade on a Dask distributed cluster: one task per student.

The task carries the student's files as bytes and returns the result as JSON, so no shared
file system is needed; each Dask worker process keeps one Grader (one sandbox, one zygote)
in a worker plugin. The plugin carries the instructor's whole course (`Course.to_bundle`:
the exercise pack as given with `--pack`, the settings of `--course`, private datasets as
bytes), written to a private folder on each worker: workers need tfgrade installed, not the
instructor's files. Beside it the plugin carries the run's RunConfig (`portable()`: the
isolation level, threads, hidden checks; not the dispatcher's paths), and the worker builds
its Grader from both exactly as a local worker does (`RunConfig.grader`). A task whose
worker holds another pack (another run registered its own course on the same cluster) is
refused instead of graded with other checks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from tfgrade.engine.grader import Grader
from tfgrade.engine.results import SubmissionResult
from tfgrade.pack.course import Course
from tfgrade.runners.batch import StudentFiles, grader_error_result, pack_digest
from tfgrade.runners.config import RunConfig

PLUGIN_NAME = "tfgrade-grader"


class GraderPlugin(WorkerPlugin):
    """A Dask WorkerPlugin: the worker's Grader, started on first use, closed at teardown."""

    name = PLUGIN_NAME

    def __init__(self, config: RunConfig, course: dict[str, Any]) -> None:
        self.config, self.course = config, course
        self.grader: Grader | None = None
        self.folder: str | None = None

    def setup(self, worker: Any) -> None:
        return None

    def teardown(self, worker: Any) -> None:
        try:
            if self.grader is not None:
                self.grader.close()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)

    def get(self) -> Grader:
        if self.grader is None:
            self.folder = tempfile.mkdtemp(prefix="tfgrade-course-")
            self.grader = worker_grader(self.config, self.course, Path(self.folder))
        return self.grader


def worker_course(bundle: dict[str, Any], folder: Path) -> Course:
    """The instructor's course as a Dask worker rebuilds it in its private folder."""
    return Course.from_bundle(bundle, folder)


def worker_grader(config: RunConfig, bundle: dict[str, Any], folder: Path) -> Grader:
    """A Dask worker's Grader: the bundled course, built from the run's RunConfig; the
    course folder (checks, private test sets) is hidden from student code."""
    return config.grader(course=worker_course(bundle, folder), extra_masks=(folder,))


def grade_remote(name: str, student_id: str | None, files: dict[str, tuple[str, bytes]],
                 expected_pack: str) -> dict[str, Any]:
    """Runs on a Dask worker."""
    from distributed import get_worker

    plugin = get_worker().plugins[PLUGIN_NAME]
    assert isinstance(plugin, GraderPlugin)
    grader = plugin.get()
    if pack_digest(grader.course) != expected_pack:
        raise RuntimeError("this worker's exercise pack differs from the instructor's")
    with tempfile.TemporaryDirectory(prefix="tfgrade-task-") as tmp:
        folder = Path(tmp) / "student"
        folder.mkdir()
        paths = {}
        for ex_id, (filename, data) in files.items():
            safe = os.path.basename(filename) or f"{ex_id}.py"
            path = folder / safe
            path.write_bytes(data)
            paths[ex_id] = path
        student = StudentFiles(name, folder, paths, student_id=student_id)
        return grader.grade_student(student).to_json()


class DaskRunner:
    """`config.scheduler` (a running cluster) or a local cluster of `config.dask_local` workers."""

    def __init__(self, config: RunConfig) -> None:
        from distributed import Client, LocalCluster

        self.course = config.course
        self.isolation = "unknown"
        self.cluster = None
        if config.scheduler:
            self.client = Client(config.scheduler)
            workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        else:
            workers = max(1, config.dask_local)
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        self.client.register_plugin(GraderPlugin(worker_config(config, workers), config.bundle()),
                                    name=PLUGIN_NAME)

    def run(self, students: list[StudentFiles], course: Course) -> Iterator[SubmissionResult]:
        from distributed import as_completed

        digest = pack_digest(course)
        run = uuid.uuid4().hex[:8]
        futures = {}
        for s in students:
            files = {ex_id: (p.name, p.read_bytes()) for ex_id, p in s.files.items()}
            fut = self.client.submit(grade_remote, s.name, s.student_id, files, digest,
                                     key=f"tfgrade-{run}-{s.key}", retries=1, pure=False)
            futures[fut] = s
        try:
            for fut in as_completed(futures):
                student = futures[fut]
                try:
                    result = SubmissionResult.from_json(fut.result())
                    self.isolation = result.isolation
                except Exception as exc:  # noqa: BLE001 - a lost worker costs a row, not the batch
                    result = grader_error_result(course, student, self.isolation, repr(exc))
                yield result
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def worker_config(config: RunConfig, workers: int) -> RunConfig:
    """What each of `workers` Dask workers receives: the portable config, the cores of this
    machine shared among the workers of a local cluster, one thread on a remote cluster
    (its machines' cores are not known here) unless the config gives threads."""
    threads = config.threads or (1 if config.scheduler else None)
    return replace(config.portable(), jobs=workers, threads=threads)
