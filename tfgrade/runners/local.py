"""Run students on N trusted workers, each with its own sandbox (and zygote).

A small dispatcher instead of a process pool: when a worker dies (a native crash, an OOM
kill) only its current student is affected — retried once on a fresh worker, then recorded
as a grader error — and the batch goes on. Each worker gets its share of the cores for
TensorFlow's thread pools, so N workers do not oversubscribe the CPU.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from tfgrade.engine.results import SubmissionResult
from tfgrade.pack.course import Course
from tfgrade.runners.batch import StudentFiles, grader_error_result
from tfgrade.runners.config import RunConfig, threads_per_worker

__all__ = ["MAX_RETRIES", "LocalPool", "threads_per_worker"]

MAX_RETRIES = 1


def _worker_main(conn: Connection, config: RunConfig) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the dispatcher's to handle
    from tfgrade.sandboxed.confine import die_with_parent

    die_with_parent()
    try:
        # The trusted side's numpy work (metrics, reference matrices) gets this worker's share
        # of the cores too, so N workers do not oversubscribe the machine.
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=config.worker_threads)
    except ImportError:
        pass
    # The config arrives with the course the dispatcher loaded (RunConfig.course, pickled).
    grader = config.grader()
    conn.send(("ready", grader.isolation))
    try:
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if task is None:
                return
            student: StudentFiles = task
            try:
                result = grader.grade_student(student)
                conn.send(("done", student.key, result.to_json()))
            except Exception:  # noqa: BLE001 - a grader bug costs this student, not the batch
                conn.send(("error", student.key, traceback.format_exc()[-4000:]))
    finally:
        grader.close()


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: StudentFiles | None = None
    ready: bool = False


@dataclass
class LocalPool:
    """`config.jobs` workers, each a Grader built from `config` (RunConfig.grader)."""

    config: RunConfig
    isolation: str = "unknown"
    _workers: list[_Worker] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return self.config.jobs

    def _start(self) -> _Worker:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child, self.config), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def run(self, students: list[StudentFiles], course: Course) -> Iterator[SubmissionResult]:
        """Yield each student's result as soon as it is done (completion order)."""
        if not students:
            return
        pending = list(reversed(students))
        retries: dict[str, int] = {}
        self._workers = [self._start() for _ in range(min(self.jobs, max(1, len(students))))]
        try:
            while pending or any(w.task for w in self._workers):
                for w in self._workers:
                    if w.ready and w.task is None and pending:
                        w.task = pending.pop()
                        w.conn.send(w.task)
                ready = wait([w.conn for w in self._workers])
                for w in list(self._workers):
                    if w.conn not in ready:
                        continue
                    try:
                        msg = w.conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is None:                       # the worker died
                        lost = w.task
                        self._replace(w)
                        if lost is not None:
                            retries[lost.key] = retries.get(lost.key, 0) + 1
                            if retries[lost.key] <= MAX_RETRIES:
                                pending.append(lost)
                            else:
                                yield grader_error_result(course, lost, self.isolation,
                                                          "the grading worker died twice on this student")
                        continue
                    if msg[0] == "ready":
                        w.ready = True
                        self.isolation = msg[1]
                    elif msg[0] == "done":
                        w.task = None
                        yield SubmissionResult.from_json(msg[2])
                    elif msg[0] == "error":
                        lost, w.task = w.task, None
                        if lost is not None:
                            yield grader_error_result(course, lost, self.isolation, msg[2])
        finally:
            self.close()

    def _replace(self, worker: _Worker) -> None:
        try:
            worker.conn.close()
        except OSError:
            pass
        worker.process.join(1)
        self._workers[self._workers.index(worker)] = self._start()

    def close(self) -> None:
        for w in self._workers:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        for w in self._workers:
            w.process.join(5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
        self._workers = []

