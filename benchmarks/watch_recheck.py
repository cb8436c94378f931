#!/usr/bin/env python3
"""How soon after a save `tfgrade check --watch` shows the new table (target: ≤ 1 s for ex02).

    .venv/bin/python benchmarks/watch_recheck.py [--saves 10] [--exercise ex02_sequential]

It starts `python -m tfgrade check --watch EXERCISE.py --lang en` on a copy of the starter in
a temporary folder, waits for the first table (the zygote's TensorFlow import is not counted),
then saves the file `--saves` times, alternating the reference solution and the starter, and
times each save → the redrawn table showing the new score on the watch's stdout (what a
student sees: polling, settling, the re-check in the warm sandbox and the redraw). The
grading part alone is the "(x.x s)" the table prints under itself. Results: benchmarks/README.md,
"Instant re-check".
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOOTER = "Ctrl-C to stop"
POINTS = re.compile(r"Points: ([\d.]+)/([\d.]+)\n\((\d+\.\d) s\)")


class Reader:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.text = ""
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self.cond:
                self.text += line
                self.cond.notify_all()

    def next_screen(self, after: int, timeout: float) -> tuple[int, str]:
        """The next complete redraw past `after`: (its end, its text)."""
        with self.cond:
            ok = self.cond.wait_for(lambda: FOOTER in self.text[after:], timeout)
            if not ok:
                raise SystemExit(f"no table within {timeout} s; output:\n{self.text[-3000:]}")
            end = self.text.index(FOOTER, after) + len(FOOTER)
            return end, self.text[after:end]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="ex02_sequential")
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--target", type=float, default=1.0, help="seconds; exit 1 if the median is above")
    args = parser.parse_args()
    starter = (ROOT / "exercises" / args.exercise / "starter.py").read_text(encoding="utf-8")
    solution = (ROOT / "solutions" / f"{args.exercise}.py").read_text(encoding="utf-8")
    folder = Path(tempfile.mkdtemp(prefix="tfgrade-watch-bench-"))
    target = folder / f"{args.exercise}.py"
    target.write_text(starter, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "tfgrade", "check", "--watch", target.name, "--lang", "en"],
                            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    reader = Reader(proc)
    seen: list[float] = []
    graded: list[float] = []
    try:
        at, _ = reader.next_screen(0, 180)
        print(f"first table after {time.monotonic() - start:.1f} s (sandbox start, TensorFlow import)")
        for i in range(args.saves):
            text, want = (solution, None) if i % 2 == 0 else (starter, "0")
            time.sleep(0.3)                   # not in the same mtime tick as the previous save
            target.write_text(text, encoding="utf-8")
            saved = time.monotonic()
            while True:
                at, screen = reader.next_screen(at, 30)
                match = POINTS.search(screen)
                if match and (match.group(1) == want if want else match.group(1) == match.group(2)):
                    break
            seen.append(time.monotonic() - saved)
            graded.append(float(match.group(3)))
            print(f"save {i + 1}: {match.group(1)}/{match.group(2)} on screen {seen[-1]:.2f} s after the save "
                  f"(re-check itself {graded[-1]:.1f} s)")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
    median = statistics.median(seen)
    print(f"save → table: median {median:.2f} s, min {min(seen):.2f} s, max {max(seen):.2f} s "
          f"over {len(seen)} saves (target ≤ {args.target:g} s); load average {os.getloadavg()[0]:.1f}")
    return 0 if median <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
