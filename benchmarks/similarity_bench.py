#!/usr/bin/env python3
"""How well the class report's similarity finds planted copies, and how often it cries wolf.

    .venv/bin/python benchmarks/similarity_bench.py [--students 40] [--seed 1] [--plants 30]
                                                    [--threshold 0.8] [--out OUT]

The class is grade_class.py's (`build_class`/`write_class`): every file drawn by seed from
the reference solution or one of tests/submissions' wrong submissions. Those draws repeat:
two students may hold byte-identical files because the generator gave both the same file,
not because one copied. So a pair of students counts as **honest** only when their files
come from *distinct* source files; pairs from the same source file are generator artifacts
and are counted in neither figure (reported apart as "same material").

Then `--plants` near-copies are planted (seeded): a new student whose file for one exercise
is a classmate's file transformed the way students disguise a copy, with `ast`/`tokenize`:
variables and functions renamed, top-level functions reordered, comments rewritten (each
plant gets one, two or all three). A plant is *found* when its pair with the original is
flagged. Pairs between a plant and students other than its original are left out as well
when they share the original's source file (same material).

Only the similarity code runs (no grading, no sandbox, no TensorFlow). Model fingerprints
need results: with `--out OUT` (a graded OUT folder of this same class, e.g. from
grade_class.py with the same --students/--seed) they are computed from OUT/results/*.json;
without it that part is skipped and the output says so.
Results and the exact runs: benchmarks/README.md, "Similarity".
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import itertools
import keyword
import random
import sys
import tempfile
import time
import tokenize
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from grade_class import build_class, write_class  # noqa: E402

from tfgrade.pack.course import Course  # noqa: E402
from tfgrade.runners.batch import StudentFiles  # noqa: E402
from tfgrade.similarity.code import read_texts  # noqa: E402
from tfgrade.similarity.report import DEFAULT_THRESHOLD, exercise_similarity  # noqa: E402

KEEP = set(dir(__builtins__)) | {"tf", "np", "keras", "layers", "self", "cls"}
COMMENTS = ("# paso siguiente", "# aquí calculo el resultado", "# TODO revisar", "# modelo",
            "# ver apuntes del tema 3", "# entrenamiento")


# --------------------------------------------------------------------------- disguises
def _defined_names(tree: ast.AST) -> set[str]:
    """Names the file itself binds (functions, arguments, assigned variables): safe to rename."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
            names.update(a.arg for a in node.args.args + node.args.kwonlyargs)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n not in KEEP and not keyword.iskeyword(n) and not n.startswith("__")}


def rename(code: str, rng: random.Random) -> str:
    """Every name the file binds gets another one (tokens rewritten, so strings stay)."""
    names = sorted(_defined_names(ast.parse(code)))
    fresh = {n: f"{rng.choice(['mi', 'el', 'var', 'x', 'res', 'tmp'])}_{n[:3]}{i}" for i, n in enumerate(names)}
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.NAME and tok.string in fresh:
            tok = tok._replace(string=fresh[tok.string])
        out.append(tok)
    return tokenize.untokenize(out)


def reorder(code: str, rng: random.Random) -> str:
    """The top-level functions in another order (imports and the rest stay on top)."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if len(funcs) < 2:
        return code
    chunks = ["".join(lines[f.lineno - 1 - len(f.decorator_list):f.end_lineno]) for f in funcs]
    head = "".join(lines[:funcs[0].lineno - 1])
    tail = "".join(lines[funcs[-1].end_lineno:])
    order = chunks[:]
    while order == chunks:
        rng.shuffle(order)
    return head + "\n\n".join(c.rstrip("\n") + "\n" for c in order) + tail


def recomment(code: str, rng: random.Random) -> str:
    """Comments replaced, dropped or added; docstrings rewritten."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            tok = tok._replace(string=rng.choice(COMMENTS))
        elif tok.type == tokenize.STRING and tok.string.startswith(('"""', "'''")):
            tok = tok._replace(string='"""Mi solución."""')
        out.append(tok)
    text = tokenize.untokenize(out)
    lines = text.splitlines(keepends=True)
    for _ in range(3):
        at = rng.randrange(len(lines) + 1)
        indent = lines[at - 1][: len(lines[at - 1]) - len(lines[at - 1].lstrip())] if at else ""
        lines.insert(at, f"{indent}{rng.choice(COMMENTS)}\n")
    new = "".join(lines)
    try:
        ast.parse(new)
        return new
    except SyntaxError:
        return text


DISGUISES = {"rename": rename, "reorder": reorder, "comments": recomment}


# --------------------------------------------------------------------------- the run
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plants", type=int, default=30)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--sweep", action="store_true", help="also print the figures for thresholds 0.5..0.95")
    ap.add_argument("--out", type=Path, help="a graded OUT folder of this class: model fingerprints too")
    args = ap.parse_args(argv)

    rng = random.Random(args.seed + 1000)
    course = Course.load(ROOT / "exercises")
    students = build_class(args.students, args.seed)
    material: dict[tuple[str, str], str] = {}          # (student, exercise) -> source file
    for s in students:
        for p in s.picks:
            material[(s.name, p.exercise)] = str(p.path.relative_to(ROOT))
    with tempfile.TemporaryDirectory(prefix="simbench-") as tmp:
        folder = Path(tmp) / "class"
        write_class(students, folder)
        planted: list[tuple[str, str, str, tuple[str, ...]]] = []   # (plant, original, exercise, disguises)
        for i in range(args.plants):
            original = rng.choice(students)
            pick = rng.choice(original.picks)
            kinds = tuple(sorted(rng.sample(sorted(DISGUISES), rng.randint(1, 3))))
            code = pick.path.read_text(encoding="utf-8")
            for kind in kinds:
                code = DISGUISES[kind](code, rng)
            name = f"copia_{i + 1:03d}"
            (folder / name).mkdir()
            (folder / name / f"{pick.exercise}.py").write_text(code, encoding="utf-8")
            material[(name, pick.exercise)] = material[(original.name, pick.exercise)]
            planted.append((name, original.name, pick.exercise, kinds))
        files = []
        for d in sorted(folder.iterdir()):
            files.append(StudentFiles(d.name, d, {p.stem: p for p in d.glob("*.py")}))

        prints = []
        if args.out:
            from tfgrade.reports.render import load_results
            from tfgrade.similarity.models import model_prints

            results, _ = load_results(args.out / "results")
            prints = model_prints(results)

        start = time.perf_counter()
        per_ex = {}
        for ex in course.exercises:
            texts, skipped = read_texts(files, ex.id)
            per_ex[ex.id] = (exercise_similarity(ex.id, texts, skipped, ex.starter_file, prints, threshold=0.0),
                             len(texts))
        seconds = time.perf_counter() - start

    plants_of = {(min(p, o), max(p, o), ex): kinds for p, o, ex, kinds in planted}
    plant_names = {p for p, *_ in planted}

    def figures(threshold: float) -> dict[str, list[int]]:
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # found, planted, alarms, honest, same
        for ex_id, (sim, _n) in per_ex.items():
            scores = {(p.a.student, p.b.student): p.code_score for p in sim.pairs}
            names = sorted({k[0] for k in material if k[1] == ex_id})
            for a, b in itertools.combinations(names, 2):
                score = scores.get((a, b), 0.0)
                row = tally[ex_id]
                if (a, b, ex_id) in plants_of:
                    row[0] += score >= threshold
                    row[1] += 1
                elif material[(a, ex_id)] == material[(b, ex_id)]:
                    row[4] += 1
                elif a in plant_names or b in plant_names:
                    continue        # a plant against a classmate: neither a copy nor an honest pair
                else:
                    row[2] += score >= threshold
                    row[3] += 1
        return tally

    print(f"class: {args.students} students (seed {args.seed}) + {len(planted)} planted copies; "
          f"similarity of all {len(course.exercises)} exercises in {seconds:.2f} s")
    tally = figures(args.threshold)
    print(f"threshold {args.threshold:.2f}")
    print(f"{'exercise':22} {'plants found':>14} {'false alarms':>16} {'same material':>14}")
    total = [0, 0, 0, 0, 0]
    for ex_id in sorted(tally):
        row = tally[ex_id]
        total = [x + y for x, y in zip(total, row, strict=True)]
        print(f"{ex_id:22} {row[0]:>6} / {row[1]:<6} {row[2]:>6} / {row[3]:<8} {row[4]:>8}")
    print(f"{'overall':22} {total[0]:>6} / {total[1]:<6} {total[2]:>6} / {total[3]:<8} {total[4]:>8}")
    missed = [(p, o, ex, kinds) for p, o, ex, kinds in planted
              if next((s.code_score for s in per_ex[ex][0].pairs
                       if {s.a.student, s.b.student} == {p, o}), 0.0) < args.threshold]
    for p, o, ex, kinds in missed:
        print(f"  missed: {p} copies {o} in {ex} ({'+'.join(kinds)}, source {material[(o, ex)]})")
    alarms: dict[tuple[str, str], int] = defaultdict(int)
    for ex_id, (sim, _) in per_ex.items():
        for p in sim.pairs:
            a, b = p.a.student, p.b.student
            ma, mb = material[(a, ex_id)], material[(b, ex_id)]
            if p.code_score >= args.threshold and ma != mb and (min(a, b), max(a, b), ex_id) not in plants_of \
                    and a not in plant_names and b not in plant_names:
                alarms[tuple(sorted((ma, mb)))] += 1       # type: ignore[index]
    if alarms:
        print("false alarms by pair of source files (lines that differ between the two sources):")
        for (ma, mb), n in sorted(alarms.items(), key=lambda kv: -kv[1]):
            la = (ROOT / ma).read_text(encoding="utf-8").splitlines()
            lb = (ROOT / mb).read_text(encoding="utf-8").splitlines()
            changed = sum(1 for d in difflib.ndiff(la, lb) if d[:1] in "+-")
            print(f"  {n:>4} pairs  {ma} ~ {mb} ({changed} lines differ)")
    if args.sweep:
        print("threshold  plants found  false alarms")
        for th in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
            t = [sum(r[i] for r in figures(th).values()) for i in range(4)]
            print(f"  {th:.2f}     {t[0]:>3} / {t[1]:<4}   {t[2]:>4} / {t[3]}")
    if args.out:
        n = sum(p.model_match for sim, _ in per_ex.values() for p in sim.pairs)
        print(f"model fingerprints: {len(prints)} from {args.out}; pairs sharing an unusual model: {n}")
    else:
        print("model fingerprints: skipped (no --out: they come from graded results)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
