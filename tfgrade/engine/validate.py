"""`tfgrade validate`: the pack is consistent, every solution scores full marks, every
starter scores 0 with the "not implemented" message, without crashing the grader."""

from __future__ import annotations

import ast

from tfgrade.catalogue import GRADER
from tfgrade.checklib.learning import PLAUSIBILITY_FILE
from tfgrade.engine.grader import Grader
from tfgrade.engine.results import ExerciseResult, write_json_atomic
from tfgrade.i18n import Lang
from tfgrade.pack.course import Course, Exercise, bundled_dir


def pack_problems(exercise: Exercise) -> list[str]:
    """Test functions without a table in exercise.toml, or tables without a test."""
    tree = ast.parse(exercise.checks_file.read_text(encoding="utf-8"))
    tests = {n.name[5:] for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    declared = {c.id for c in exercise.checks}
    problems = [f"test_{t} has no [checks.{t}] in exercise.toml" for t in sorted(tests - declared)]
    problems += [f"[checks.{t}] has no test_{t} in checks.py" for t in sorted(declared - tests)]
    catalogue = exercise.messages
    problems += catalogue.problems()
    used = {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "messages"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}
    problems += [f"messages({key!r}) is not in messages.toml" for key in sorted(used) if key not in catalogue]
    return problems


# How far beyond the reference solution a held-out metric may go before it is flagged as
# implausibly good: accuracy + 0.08 (capped at 1), an error metric at half the reference's.
ACCURACY_MARGIN = 0.08
ERROR_FACTOR = 0.5


def store_plausibility(exercise: Exercise, result: ExerciseResult) -> None:
    """Write `plausibility.json` beside exercise.toml: the reference's held-out metric and the
    ceiling the checks flag beyond (tfgrade.checklib.learning.integrity_details)."""
    for check in result.checks:
        for metric, higher in (("accuracy", True), ("mae", False)):
            value = check.details.get(metric)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            ceiling = min(1.0, value + ACCURACY_MARGIN) if higher else value * ERROR_FACTOR
            data = {"metric": metric, "reference": round(float(value), 4), "ceiling": round(ceiling, 4),
                    "check": check.id, "measured_by": "tfgrade validate"}
            try:
                write_json_atomic(exercise.folder / PLAUSIBILITY_FILE, data)
            except OSError:
                pass          # an installed, read-only pack keeps the ceiling it shipped with
            return


def validate_pack(course: Course, lang: Lang, level: str = "auto") -> int:
    grader = Grader.create(course, level=level, include_hidden=True)
    solutions = bundled_dir("solutions")
    ok = True
    for problem in GRADER.problems():          # the grader's own catalogue, both languages
        print(f"BAD  tfgrade/messages: {problem}")
        ok = False
    try:
        for ex in course.exercises:
            problems = pack_problems(ex)
            sol = solutions / f"{ex.id}.py"
            if not sol.is_file():
                problems.append("no reference solution")
            else:
                res = grader.grade_file(ex, sol, f"solutions/{ex.id}.py")
                if res.score < res.max_score:
                    bad = [c.id for c in res.checks if c.status not in ("passed", "not_applicable")]
                    problems.append(f"solution scores {res.score:g}/{res.max_score:g} (fails: {', '.join(bad)})")
                sol_line = f"{res.score:g}/{res.max_score:g}"
                store_plausibility(ex, res)
            starter = grader.grade_file(ex, ex.starter_file, "starter.py")
            if starter.score != 0:
                problems.append(f"starter scores {starter.score:g}, expected 0")
            kinds = {c.student_error.kind for c in starter.checks if c.student_error}
            if "not_implemented" not in kinds:
                problems.append("starter does not report 'not implemented'")
            status = "OK " if not problems else "BAD"
            print(f"{status} {ex.id:<20} solution {sol_line if sol.is_file() else '-':>9}  starter {starter.score:g}")
            for p in problems:
                print(f"     - {p}")
            ok &= not problems
    finally:
        grader.close()
    print(("Paquete válido" if lang == "es" else "Pack is valid") if ok else
          ("Paquete con problemas" if lang == "es" else "Pack has problems"))
    return 0 if ok else 1
