#!/usr/bin/env python3
"""Grade a reproducible class with `tfgrade grade` and say where the time and the memory go.

    .venv/bin/python benchmarks/grade_class.py --students 40 --jobs 2 [--seed 1] [--profile 2]

The class: N students, every one with all seven exercises, each file drawn (by seed) from
the reference solution or one of the realistic wrong submissions in tests/submissions/
(cases meant to time out are left out: they would measure the time limit, not the grader).
Each student is strong, average or weak: the share of exercises handed in right.

It runs `python -m tfgrade grade CLASS --out OUT -j J` as a subprocess and prints:
- wall time and students per minute;
- the overhead ratio: wall ÷ (Σ student_time_s ÷ cores), from OUT/results/*.json. 1.0 is the
  physical limit (every core running student code all the time);
- peak memory (PSS, so pages shared by the zygote and its forks count once) of each worker's
  process tree — the worker, its zygote, the sandbox children — sampled from /proc every
  0.5 s, and of the whole tfgrade process tree;
- where the worker-seconds went: student code, grader work per exercise (duration_s −
  student_time_s), start-up, zygote start, idle workers at the end, reports.
`--profile K` then grades K students in this process with timers around the grader's
internals (fork, load, call round trips, pytest and the checks' own code). `--format ipynb`
writes each file as a one-cell notebook; `--tree DIR` measures another checkout (e.g. a
`git archive` copy, not under /tmp: the sandbox's private /tmp would hide it).
Results and the exact runs: benchmarks/README.md, "Grading a class".
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_CASES = ("never_returns",)                 # meant to hit the time limit
PROFILES = {"strong": 0.85, "average": 0.55, "weak": 0.25}   # chance each exercise is right
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- the class
@dataclass(frozen=True)
class Pick:
    exercise: str
    case: str              # "solution" or the name of a wrong submission
    path: Path


@dataclass(frozen=True)
class Student:
    name: str
    profile: str
    picks: tuple[Pick, ...]


def exercise_ids(tree: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in (tree / "solutions").glob("ex*.py"))


def wrong_cases(exercise: str, tree: Path = ROOT) -> list[Path]:
    folder = tree / "tests" / "submissions" / exercise
    return sorted(p for p in folder.glob("*.py") if not any(s in p.stem for s in SKIP_CASES))


def build_class(n: int, seed: int, tree: Path = ROOT) -> list[Student]:
    """The same seed gives the same class on every machine (from `tree`'s solutions/ and
    tests/submissions/)."""
    rng = random.Random(seed)
    students = []
    for i in range(n):
        profile = rng.choice(sorted(PROFILES))
        picks = []
        for ex in exercise_ids(tree):
            if rng.random() < PROFILES[profile]:
                picks.append(Pick(ex, "solution", tree / "solutions" / f"{ex}.py"))
            else:
                case = rng.choice(wrong_cases(ex, tree))
                picks.append(Pick(ex, case.stem, case))
        students.append(Student(f"alumno_{i + 1:03d}", profile, tuple(picks)))
    return students


def write_class(students: list[Student], folder: Path, fmt: str = "py") -> None:
    """CLASS/<student>/<exercise>.py, or a notebook with the same code in one cell."""
    if folder.exists():
        shutil.rmtree(folder)
    for s in students:
        (folder / s.name).mkdir(parents=True)
        for p in s.picks:
            code = p.path.read_text(encoding="utf-8")
            if fmt == "py":
                (folder / s.name / f"{p.exercise}.py").write_text(code, encoding="utf-8")
            else:
                import nbformat

                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
                nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
                nbformat.write(nb, str(folder / s.name / f"{p.exercise}.ipynb"))


def describe_class(students: list[Student]) -> str:
    profiles = {k: sum(s.profile == k for s in students) for k in sorted(PROFILES)}
    right = sum(p.case == "solution" for s in students for p in s.picks)
    total = sum(len(s.picks) for s in students)
    return (f"{len(students)} students ({', '.join(f'{v} {k}' for k, v in profiles.items())}), "
            f"{total} files, {right} reference solutions, {total - right} wrong submissions")


# --------------------------------------------------------------------------- /proc sampling
def _stat(pid: str) -> tuple[int, int] | None:
    """(ppid, start time in clock ticks since boot)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def uptime_s() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


@dataclass
class WorkerTree:
    pid: int
    peak_kb: dict[str, int] = field(default_factory=lambda: defaultdict(int))   # per role and "total"
    started_s: float = 0.0                     # seconds after launch
    zygote_start_s: float | None = None        # seconds after launch
    first_child_s: float | None = None


class TreeSampler(threading.Thread):
    """Every `interval` s: the PSS of each worker's tree, split into worker / zygote / children."""

    def __init__(self, root: int, launch_uptime: float, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.launch, self.interval = root, launch_uptime, interval
        self.workers: dict[int, WorkerTree] = {}
        self.peak_all_kb = 0
        self.peak_root_kb = 0
        self.samples = 0
        self._halt = threading.Event()
        self._cmd: dict[tuple[int, int], str] = {}

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def cmd(self, pid: int, start: int) -> str:
        key = (pid, start)
        if key not in self._cmd:
            self._cmd[key] = _cmdline(pid)
        return self._cmd[key]

    def sample(self) -> None:
        stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(p))}
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _) in stats.items():
            children[ppid].append(pid)
        root_kb = _pss_kb(self.root)
        total = root_kb
        for wpid in children.get(self.root, []):
            if "spawn_main" not in self.cmd(wpid, stats[wpid][1]):
                total += sum(_pss_kb(p) for p in self._tree(wpid, children))   # e.g. resource tracker
                continue
            tree = self.workers.setdefault(wpid, WorkerTree(wpid, started_s=stats[wpid][1] / CLK_TCK - self.launch))
            sums: dict[str, int] = defaultdict(int)
            stack = [(wpid, "worker", False)]
            while stack:
                pid, role, pid_is_zygote = stack.pop()
                sums[role] += _pss_kb(pid)
                for c in children.get(pid, []):
                    c_cmd = self.cmd(c, stats[c][1])
                    # bwrap's own command line names the zygote too: only the interpreter counts
                    c_is_zygote = "tfgrade.sandboxed.zygote" in c_cmd and not c_cmd.split(" ")[0].endswith("bwrap")
                    started = stats[c][1] / CLK_TCK - self.launch
                    if role == "child" or (pid_is_zygote and c_is_zygote):
                        c_role = "child"          # a fork of the zygote: one (student, exercise)
                        if role != "child":
                            tree.first_child_s = min(started, tree.first_child_s or started)
                    else:
                        c_role = "zygote"         # the zygote, or bwrap around it
                        if c_is_zygote:
                            tree.zygote_start_s = min(started, tree.zygote_start_s or started)
                    stack.append((c, c_role, c_is_zygote))
            sums["total"] = sum(sums.values())
            for role, kb in sums.items():
                tree.peak_kb[role] = max(tree.peak_kb[role], kb)
            total += sums["total"]
        self.peak_root_kb = max(self.peak_root_kb, root_kb)
        self.peak_all_kb = max(self.peak_all_kb, total)
        self.samples += 1

    @staticmethod
    def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
        out, stack = [], [pid]
        while stack:
            p = stack.pop()
            out.append(p)
            stack.extend(children.get(p, []))
        return out


# --------------------------------------------------------------------------- one run
@dataclass
class Run:
    wall_s: float
    returncode: int
    lines: list[tuple[float, str]]           # stderr lines, seconds after launch
    sampler: TreeSampler


def run_command(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
                interval: float = 0.5) -> Run:
    """Run `cmd`, sampling its process tree, with its stderr lines timestamped and echoed."""
    print("$", " ".join(cmd), flush=True)
    lines: list[tuple[float, str]] = []
    launch = uptime_s()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid, launch, interval)
    sampler.start()
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append((time.monotonic() - t0, line.rstrip()))
        print("   ", line.rstrip(), flush=True)
    proc.wait()
    wall = time.monotonic() - t0
    sampler.stop()
    return Run(wall, proc.returncode, lines, sampler)


def run_tfgrade(class_dir: Path, out: Path, jobs: int, interval: float = 0.5, tree: Path = ROOT) -> Run:
    """`python -m tfgrade grade` of the checkout at `tree` (its own tfgrade/ and exercises/)."""
    if out.exists():
        shutil.rmtree(out)
    return run_command([sys.executable, "-m", "tfgrade", "grade", str(class_dir), "--out", str(out),
                        "-j", str(jobs), "--force", "--lang", "en"], cwd=tree, interval=interval)


def load_results(out: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "results").glob("*.json"))]


def analyse(run: Run, results: list[dict], jobs: int, cores: int) -> dict:
    """Numbers of one run (JSON-able)."""
    student = sum(e["student_time_s"] for r in results for e in r["exercises"])
    per_ex: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in results:
        for e in r["exercises"]:
            d = per_ex[e["exercise"]]
            d["n"] += 1
            d["duration_s"] += e["duration_s"]
            d["student_s"] += e["student_time_s"]
            d["overhead_s"] += e["duration_s"] - e["student_time_s"]
    in_students = sum(r["duration_s"] for r in results)
    in_exercises = sum(e["duration_s"] for r in results for e in r["exercises"])
    first = next((t for t, line in run.lines if "students," in line and "workers" in line), 0.0)
    done = next((t for t, line in run.lines if " graded, " in line), run.wall_s)
    statuses: dict[str, int] = defaultdict(int)
    for r in results:
        statuses[r["status"]] += 1
    zygote = [(w.started_s, w.zygote_start_s, w.first_child_s) for w in run.sampler.workers.values()
              if w.first_child_s is not None and w.zygote_start_s is not None]
    mib = 1 / 1024
    return {
        "students": len(results), "jobs": jobs, "cores": cores, "wall_s": run.wall_s,
        "students_per_min": 60 * len(results) / run.wall_s if run.wall_s else 0.0,
        "student_time_s": student, "overhead_ratio": run.wall_s / (student / cores) if student else None,
        "grading_phase_s": done - first,
        "grading_phase_ratio": (done - first) / (student / cores) if student else None,
        "startup_s": first, "reports_s": run.wall_s - done,
        "worker_s_available": jobs * (done - first), "worker_s_in_students": in_students,
        "per_student_outside_exercises_s": in_students - in_exercises,
        "per_exercise": {k: dict(v) for k, v in sorted(per_ex.items())},
        "zygote_start_s": zygote, "statuses": dict(statuses),
        "memory_mib": {
            "samples": run.sampler.samples,
            "peak_tfgrade_tree": run.sampler.peak_all_kb * mib,
            "peak_dispatcher": run.sampler.peak_root_kb * mib,
            "workers": {str(w.pid): {k: v * mib for k, v in w.peak_kb.items()} for w in run.sampler.workers.values()},
        },
    }


def print_report(a: dict) -> None:
    print(f"\n== tfgrade: {a['students']} students, -j {a['jobs']}, {a['cores']} cores")
    print(f"wall time            {a['wall_s']:8.1f} s   ({a['students_per_min']:.1f} students/min)")
    print(f"Σ student_time_s     {a['student_time_s']:8.1f} s   (÷ {a['cores']} cores = {a['student_time_s'] / a['cores']:.1f} s)")
    print(f"overhead ratio       {a['overhead_ratio']:8.2f}     (wall ÷ (Σ student ÷ cores); 1.0 = physical limit)")
    print(f"  grading phase only {a['grading_phase_ratio']:8.2f}     ({a['grading_phase_s']:.1f} s: first worker line → summary line)")
    print(f"statuses             {a['statuses']}")
    print("\nWhere the worker-seconds went (jobs × grading phase):")
    avail = a["worker_s_available"]
    rows = [("student code (Σ student_time_s)", a["student_time_s"])]
    for ex, d in a["per_exercise"].items():
        rows.append((f"grader, {ex} (Σ duration − student, n={int(d['n'])})", d["overhead_s"]))
    rows.append(("grader, per student outside exercises", a["per_student_outside_exercises_s"]))
    rows.append(("idle worker: zygote start before 1st task, dispatch, tail", avail - a["worker_s_in_students"]))
    for label, v in rows:
        print(f"  {label:<58} {v:8.1f}  {100 * v / avail:5.1f} %")
    print(f"  {'total':<58} {avail:8.1f}")
    print(f"outside the grading phase: start-up {a['startup_s']:.1f} s (imports, data preflight, intake), "
          f"reports {a['reports_s']:.1f} s")
    for started, zygote, child in a["zygote_start_s"]:
        print(f"worker start-up: process at {started:.1f} s, its zygote at {zygote:.1f} s (+{zygote - started:.1f}), "
              f"first sandbox child at {child:.1f} s (+{child - zygote:.1f}: TensorFlow's import; the wait is in "
              "the first exercise's overhead)")
    m = a["memory_mib"]
    print(f"\nPeak PSS ({m['samples']} samples): whole tfgrade tree {m['peak_tfgrade_tree']:.0f} MiB, "
          f"dispatcher {m['peak_dispatcher']:.0f} MiB")
    for pid, w in m["workers"].items():
        parts = ", ".join(f"{k} {w.get(k, 0):.0f}" for k in ("worker", "zygote", "child"))
        print(f"  worker {pid}: peak tree {w.get('total', 0):.0f} MiB (peaks by part: {parts} MiB)")


# --------------------------------------------------------------------------- in-process profile
def profile_students(class_dir: Path, k: int, jobs: int, top: int = 0, tree: Path = ROOT) -> dict[str, dict[str, float]]:
    """Grade k students in this process, one worker, with timers around the grader's internals;
    `top` > 0 adds cProfile's `top` functions by own time (it slows pure-Python code down)."""
    sys.path.insert(0, str(tree))
    from tfgrade.engine import plugin as engine
    from tfgrade.engine.grader import Grader
    from tfgrade.engine.proxy import StudentProxy
    from tfgrade.pack.course import Course
    from tfgrade.runners.batch import collect_student
    from tfgrade.supervisor.children import Sandbox

    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    state = {"ex": "?", "depth": 0}

    def timed(owner: object, name: str, key: str, track_student: bool = False) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            proxy = args[0] if track_student else None
            s0 = proxy.student_time_s if proxy is not None else 0.0
            nested = key == "spawn" and state["depth"] > 0
            if key == "request":
                state["depth"] += 1
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                row = acc[state["ex"]]
                row[key] += time.perf_counter() - t
                if proxy is not None:
                    row[key + "_student"] += proxy.student_time_s - s0
                if nested:
                    row["spawn_in_request"] += time.perf_counter() - t
                    row["spawn_in_request_student"] += proxy.student_time_s - s0 if proxy else 0.0
                if key == "request":
                    state["depth"] -= 1
        setattr(owner, name, wrapper)

    original_grade = engine.grade_exercise

    def grade_exercise(course, exercise, *args, **kwargs):  # type: ignore[no-untyped-def]
        state["ex"] = exercise.id
        t = time.perf_counter()
        result = original_grade(course, exercise, *args, **kwargs)
        acc[exercise.id]["exercise"] += time.perf_counter() - t
        acc[exercise.id]["student"] += result[0].student_time_s
        acc[exercise.id]["n"] += 1
        return result

    import tfgrade.runners.batch as batch
    batch.grade_exercise = grade_exercise
    timed(Sandbox, "spawn", "fork")
    timed(StudentProxy, "_spawn", "spawn", track_student=True)
    timed(StudentProxy, "_request", "request", track_student=True)
    timed(StudentProxy, "close", "close")
    timed(engine, "run_checks", "pytest")

    course = Course.load(None, None)
    t = time.perf_counter()
    grader = Grader.create(course, threads=max(1, (os.cpu_count() or 1) // jobs))
    grader.sandbox.launcher.wait_ready()
    acc["(start)"]["zygote_start"] = time.perf_counter() - t
    profiler = cProfile.Profile() if top else None
    try:
        if profiler:
            profiler.enable()
        for folder in sorted(p for p in class_dir.iterdir() if p.is_dir())[:k]:
            grader.grade_student(collect_student(folder, course))
    finally:
        if profiler:
            profiler.disable()
        grader.close()
    result: dict = {ex: dict(v) for ex, v in acc.items()}
    if profiler:
        rows = pstats.Stats(profiler).stats.items()     # type: ignore[attr-defined]
        ranked = sorted(rows, key=lambda kv: kv[1][2], reverse=True)[:top]
        result["(cprofile)"] = {f"{Path(f).name}:{line}({fn})": round(tt, 3) for (f, line, fn), (_, _, tt, _, _) in ranked}
    return result


def print_profile(prof: dict[str, dict[str, float]]) -> None:
    print("\n== in-process profile (one worker), seconds summed over the profiled students")
    for where, own in prof.get("(cprofile)", {}).items():
        print(f"   cProfile own time {own:8.2f} s  {where}")
    print(f"zygote start (TensorFlow import, until ready): {prof.get('(start)', {}).get('zygote_start', 0):.1f} s")
    cols = ("n", "student", "fork", "load", "calls", "pytest+checks", "close", "rest", "exercise")
    print(" ".join(f"{c:>13}" for c in ("exercise", *cols)))
    totals: dict[str, float] = defaultdict(float)
    for ex, r in sorted(prof.items()):
        if ex.startswith("("):
            continue
        spawn_student = r.get("spawn_student", 0.0)
        req_excl = r.get("request", 0) - r.get("spawn_in_request", 0)
        req_student = r.get("request_student", 0) - r.get("spawn_in_request_student", 0)
        row = {
            "n": r.get("n", 0), "student": r.get("student", 0),
            "fork": r.get("fork", 0),
            "load": r.get("spawn", 0) - r.get("fork", 0) - spawn_student,      # child set-up, not the student's import
            "calls": req_excl - req_student,                                  # encode, transfer, describe, decode
            "pytest+checks": r.get("pytest", 0) - r.get("request", 0) - (r.get("spawn", 0) - r.get("spawn_in_request", 0)),
            "close": r.get("close", 0),
            "rest": r.get("exercise", 0) - r.get("pytest", 0) - r.get("close", 0),
            "exercise": r.get("exercise", 0),
        }
        for c, v in row.items():
            totals[c] += v
        print(" ".join([f"{ex:>13}"] + [f"{row[c]:13.2f}" for c in cols]))
    print(" ".join([f"{'total':>13}"] + [f"{totals[c]:13.2f}" for c in cols]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--format", choices=["py", "ipynb"], default="py", help="the students' files")
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "grade_class")
    ap.add_argument("--tree", type=Path, default=ROOT,
                    help="the tfgrade checkout to measure, e.g. a `git archive HEAD` copy (default: this one)")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between /proc samples")
    ap.add_argument("--profile", type=int, default=0, metavar="K", help="then profile K students in-process")
    ap.add_argument("--cprofile", type=int, default=0, metavar="N", help="with --profile: cProfile's top N functions")
    ap.add_argument("--no-grade", action="store_true", help="only the in-process profile")
    ap.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = ap.parse_args()
    args.work = args.work.resolve()

    args.tree = args.tree.resolve()
    students = build_class(args.students, args.seed, args.tree)
    class_dir = args.work / "class"
    write_class(students, class_dir, args.format)
    print(f"class: {describe_class(students)} → {class_dir}")
    numbers: dict = {}
    if not args.no_grade:
        run = run_tfgrade(class_dir, args.work / "out", args.jobs, args.interval, args.tree)
        if run.returncode != 0:
            print(f"tfgrade exited {run.returncode}", file=sys.stderr)
            return 1
        numbers = analyse(run, load_results(args.work / "out"), args.jobs, os.cpu_count() or 1)
        print_report(numbers)
    if args.profile:
        numbers["profile"] = profile_students(class_dir, args.profile, args.jobs, args.cprofile, args.tree)
        print_profile(numbers["profile"])
    numbers["load_average"] = os.getloadavg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(numbers, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
