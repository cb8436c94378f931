"""One run's configuration: which course, how isolated, how parallel, in which language.

Every way of running the grader (`check`, `grade` with `-j` or on Dask, `grade-one`,
`validate`, `bench --file`) builds a `RunConfig` with `RunConfig.from_args` and gets its
course, sandbox and Grader from it, so that a course and a sandbox are made in one place:

- the course is the exercise pack (`--pack`, else `$TFGRADE_PACK`, else the bundled one),
  the course file (`--course`: seed, subset, limits, private data) and the overrides given
  here (`seed`, `limits_override`), loaded once (`config.course`);
- the sandbox masks the pack, the course's data files, the run's own folders (`masks`:
  the submissions and the output of `grade`, a `grade-one` folder, a `bench --file`
  folder) and whatever a worker adds (a Dask worker's copy of the course);
- a worker's threads are the machine's cores shared among `jobs` workers, unless given.

A `RunConfig` travels to local worker processes as is (pickled, with the course as loaded)
and to Dask workers as `portable()` plus the course's bundle (`Course.to_bundle`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfgrade.i18n import Lang, default_lang
from tfgrade.pack.course import Course

if TYPE_CHECKING:
    from tfgrade.engine.grader import Grader
    from tfgrade.supervisor import Sandbox

ISOLATION_LEVELS = ("auto", "strong", "standard", "basic")
# Commands whose runs are a student's self-check: visible checks only.
SELF_CHECK_COMMANDS = frozenset({"check"})


def threads_per_worker(jobs: int) -> int:
    """The machine's cores shared among `jobs` workers (at least one each)."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def build_sandbox(course: Course, level: str = "auto", extra_masks: tuple[Path | str, ...] = (),
                  threads: int | None = None) -> Sandbox:
    """The one place a grading sandbox is made: the course's pack and data files (and
    `extra_masks`) hidden from student code, `threads` for TensorFlow (default: all cores)."""
    from tfgrade.supervisor import default_masks, make_sandbox

    sources = [v.get("source") for v in course.datasets.values()]
    masks = default_masks(course.pack_dir, *extra_masks, *sources)
    return make_sandbox(level, masks=masks, threads=threads or max(1, os.cpu_count() or 1))


def _given(args: argparse.Namespace | Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(vars(args) if isinstance(args, argparse.Namespace) else (args or {}))


def _path(value: Any) -> Path | None:
    return Path(value) if value not in (None, "") else None


@dataclass(frozen=True)
class RunConfig:
    pack: Path | None = None                 # --pack; None: $TFGRADE_PACK or the bundled pack
    course_file: Path | None = None          # --course (seed, exercises, limits, datasets)
    seed: int | None = None                  # over the course file's seed
    limits_override: tuple[tuple[str, Any], ...] = ()    # over the course file's [limits]
    isolation: str = "auto"                  # the level requested (`reached`: the level it gets)
    jobs: int = 1                            # local workers (-j); a Dask run: the cluster's workers
    threads: int | None = None               # TensorFlow threads per worker; None: threads_per_worker(jobs)
    lang: Lang = field(default_factory=default_lang)
    include_hidden: bool = True              # False for a student's self-check
    masks: tuple[Path, ...] = ()             # this run's folders, hidden from student code
    scheduler: str | None = None             # --scheduler: grade on this Dask cluster
    dask_local: int = 0                      # --dask-local N: on a local Dask cluster of N workers

    @classmethod
    def from_args(cls, args: argparse.Namespace | Mapping[str, Any] | None = None, **overrides: Any) -> RunConfig:
        """The configuration of a command line (`tfgrade.cli`'s namespace, or a mapping with
        the same names); keywords replace fields. Names a command lacks take the defaults."""
        given = _given(args)
        command = given.get("command")
        masks: list[Path] = []
        if command == "grade":
            masks += [Path(given["submissions"]).resolve(), Path(given["out"]).resolve()]
        elif command == "grade-one":
            masks.append(Path(given["submission"]).resolve())
        if given.get("file") and command in (None, "bench"):
            masks.append(Path(given["file"]).resolve().parent)
        jobs = int(given.get("jobs") or 1)
        lang = given.get("lang")
        config = cls(pack=_path(given.get("pack")), course_file=_path(given.get("course")),
                     isolation=str(given.get("isolation") or "auto"), jobs=max(1, jobs),
                     lang=lang if lang in ("es", "en") else default_lang(),
                     include_hidden=command not in SELF_CHECK_COMMANDS, masks=tuple(masks),
                     scheduler=given.get("scheduler") or None, dask_local=int(given.get("dask_local") or 0))
        return replace(config, **overrides) if overrides else config

    # -- the course ----------------------------------------------------------------------
    @cached_property
    def course(self) -> Course:
        """The course of this run, loaded once: pack + course file + this config's overrides."""
        course = Course.load(self.pack, self.course_file)
        if self.seed is not None:
            course = replace(course, seed=int(self.seed))
        if self.limits_override:
            course = replace(course, limits_override={**course.limits_override, **dict(self.limits_override)})
        return course

    def bundle(self) -> dict[str, Any]:
        """The course as plain data and bytes, for a machine without these files (Dask)."""
        return self.course.to_bundle()

    def portable(self) -> RunConfig:
        """This configuration without what only makes sense on this machine (the course as
        loaded here, this run's folders): what a Dask worker receives beside the bundle."""
        return replace(self, pack=None, course_file=None, masks=())

    @property
    def uses_dask(self) -> bool:
        return bool(self.scheduler or self.dask_local)

    # -- isolation and threads -----------------------------------------------------------
    @cached_property
    def reached(self) -> str:
        """The isolation level this machine reaches for the requested one."""
        from tfgrade.supervisor.isolation import detect_level

        return detect_level(self.isolation)

    @property
    def worker_threads(self) -> int:
        return self.threads if self.threads else threads_per_worker(self.jobs)

    # -- what is built from it -----------------------------------------------------------
    def sandbox(self, *extra_masks: Path | str, course: Course | None = None) -> Sandbox:
        return build_sandbox(course or self.course, self.isolation, (*self.masks, *extra_masks),
                             self.worker_threads)

    def grader(self, *, course: Course | None = None, extra_masks: tuple[Path | str, ...] = ()) -> Grader:
        """A Grader (one sandbox) for this run; `course` for a worker that rebuilt it
        (`Course.from_bundle`), else this run's course."""
        from tfgrade.engine.grader import Grader

        course = course or self.course
        return Grader(course, self.sandbox(*extra_masks, course=course), self.include_hidden)
