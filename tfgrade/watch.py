"""`tfgrade check --watch FILE…`: re-check each file as soon as it is saved.

One Grader (one sandbox, its zygote warm: TensorFlow imported once) lives for the whole
session, so a re-check costs a fork and the checks, not an interpreter start. The files'
stamps (mtime, size, inode) are polled every `POLL_S` seconds: no extra dependency, and it
works alike on every filesystem (an editor that saves by renaming a new file over the old
one changes the inode). A save seen mid-write is graded again as soon as its stamp changes.
After each re-check the screen is cleared and every file's table is drawn again, as `check`
prints it. Ctrl-C stops it; the Grader and its sandbox are closed in a `finally`, so nothing
is left running.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from tfgrade.catalogue import GRADER
from tfgrade.i18n import Lang
from tfgrade.pack.course import Exercise
from tfgrade.runners.config import RunConfig

if TYPE_CHECKING:
    import argparse

    from tfgrade.engine.grader import Grader
    from tfgrade.engine.results import ExerciseResult

POLL_S = 0.2
SETTLE_S = 0.05          # a save is read once its stamp has stayed the same this long
MAX_SETTLE_S = 1.0
CLEAR = "\033[2J\033[H"
# Ctrl-C, `kill`, a closed terminal: each stops the watch the same way, sandbox closed.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

Stamp = tuple[int, int, int] | None


def stamp(path: Path) -> Stamp:
    """What changes when a file is saved; None while it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def settled(path: Path, sleep: Callable[[float], None] = time.sleep) -> Stamp:
    """The file's stamp once it stops changing (an editor writing it in several steps)."""
    current, waited = stamp(path), 0.0
    while waited < MAX_SETTLE_S:
        sleep(SETTLE_S)
        waited += SETTLE_S
        again = stamp(path)
        if again == current:
            return current
        current = again
    return current


@dataclass
class Watched:
    exercise: Exercise
    path: Path
    seen: Stamp = (-1, -1, -1)      # never a real stamp: the first pass checks every file
    table: str = ""


def _render(config: RunConfig, item: Watched, isolation: str,
            graded: Callable[[Watched], ExerciseResult]) -> None:
    from tfgrade.reports.terminal import render_exercise

    start = time.monotonic()
    if not item.path.exists():
        item.table = GRADER("watch_file_missing", path=str(item.path)).get(config.lang)
        return
    result = graded(item)
    item.table = f"{render_exercise(result, config.lang, isolation)}\n({time.monotonic() - start:.1f} s)\n"


def _footer(lang: Lang, paths: Sequence[Path]) -> str:
    return GRADER("watch_footer", files=", ".join(p.name for p in paths)).get(lang)


def watch(config: RunConfig, files: Sequence[str | Path], out: TextIO | None = None,
          poll_s: float = POLL_S, clear: bool | None = None) -> int:
    """Check `files` now and again after each save, until Ctrl-C (or SIGTERM, SIGHUP); 0 then:
    stopping is the normal way out of a watch."""
    out = out or sys.stdout
    clear = out.isatty() if clear is None else clear
    course = config.course
    items = [Watched(course.exercise_for_file(Path(f)), Path(f)) for f in files]
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # pytest (inside a re-check) catches KeyboardInterrupt itself: remember the wish to
        # stop, so the loop ends even when the interrupt was swallowed there.
        nonlocal stopping
        if stopping:
            return        # already on the way out: let the sandbox close
        stopping = True
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    grader: Grader | None = None
    try:
        grader = live = config.grader()

        def graded(item: Watched) -> ExerciseResult:
            return live.grade_file(item.exercise, item.path)

        while not stopping:
            changed = [item for item in items if stamp(item.path) != item.seen]
            if changed:
                for item in changed:
                    item.seen = settled(item.path)
                    _render(config, item, live.isolation, graded)
                    if stopping:
                        break
                if stopping:
                    break
                screen = (CLEAR if clear else "") + "\n".join(item.table for item in items)
                print(screen, file=out)
                print(_footer(config.lang, [item.path for item in items]), file=out, flush=True)
            time.sleep(poll_s)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            if grader is not None:
                grader.close()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    print(GRADER("watch_stopped").get(config.lang), file=out, flush=True)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """`tfgrade check --watch FILE…`: the CLI's entry point (a RunConfig from its arguments)."""
    return watch(RunConfig.from_args(args), args.files)
