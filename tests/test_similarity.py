"""Similarity in the class report (tfgrade.similarity): fast, no TensorFlow, no sandbox.

Fixtures are student folders written to tmp_path from the real material: the exercises'
starters, solutions/ and tests/submissions/.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from report_fixtures import class_results, exercise, ok, submission

from tfgrade.pack.course import Course
from tfgrade.reports.labels import labels
from tfgrade.reports.render import render_all
from tfgrade.runners.batch import StudentFiles
from tfgrade.similarity.code import CodeText, compare_exercise, read_texts
from tfgrade.similarity.models import model_matches, model_prints
from tfgrade.similarity.pages import pair_path, render_pair_page
from tfgrade.similarity.report import DEFAULT_THRESHOLD, SimilarityReport, compute_similarity

ROOT = Path(__file__).resolve().parent.parent
SOL = ROOT / "solutions"
SUB = ROOT / "tests" / "submissions"
HOSTILE = "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def course() -> Course:
    return Course.load(ROOT / "exercises")


def student(tmp_path: Path, name: str, files: dict[str, str | bytes], *, display: str | None = None) -> StudentFiles:
    """A student folder with `files` ({file name: text}) matched to their exercises."""
    folder = tmp_path / "class" / name
    folder.mkdir(parents=True)
    matched = {}
    for file_name, content in files.items():
        path = folder / file_name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        matched[Path(file_name).stem] = path
    return StudentFiles(display or name, folder, matched)


def sub(name: str, exercise_id: str) -> str:
    return (SUB / exercise_id / name).read_text(encoding="utf-8")


def sol(exercise_id: str) -> str:
    return (SOL / f"{exercise_id}.py").read_text(encoding="utf-8")


def renamed(code: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        code = re.sub(rf"\b{old}\b", new, code)
    return code


def flagged_pairs(report: SimilarityReport, exercise_id: str) -> set[frozenset[str]]:
    ex = next(e for e in report.exercises if e.exercise == exercise_id)
    return {frozenset((p.a.student, p.b.student)) for p in ex.pairs if p.flagged}


def score(report: SimilarityReport, exercise_id: str, a: str, b: str) -> float:
    ex = next(e for e in report.exercises if e.exercise == exercise_id)
    return next((p.code_score for p in ex.pairs if {p.a.student, p.b.student} == {a, b}), 0.0)


EX04 = "ex04_regression"
EX05 = "ex05_matrix_power"


def ex04_class(tmp_path: Path, copy: str) -> list[StudentFiles]:
    """Ana: the reference; Bruno: `copy`; Carla: an honest different answer (np.polyfit);
    Diego: another honest answer (no normalisation layer, its own fit loop)."""
    return [student(tmp_path, "ana", {f"{EX04}.py": sol(EX04)}),
            student(tmp_path, "bruno", {f"{EX04}.py": copy}),
            student(tmp_path, "carla", {f"{EX04}.py": sub("polyfit.py", EX04)}),
            student(tmp_path, "diego", {f"{EX04}.py": sub("numpy_scalars.py", EX04)})]


def test_a_renamed_variables_copy_is_found(tmp_path: Path, course: Course) -> None:
    copy = renamed(sol(EX04), {"x": "entradas", "y": "salidas", "w": "peso", "b": "sesgo", "loss": "perdida",
                               "grad_w": "gw", "grad_b": "gb", "normalizer": "capa_norm", "model": "red",
                               "tape": "cinta", "epochs": "n_epocas"})
    assert copy != sol(EX04)
    report = compute_similarity(ex04_class(tmp_path, copy), [], course)
    assert frozenset(("ana", "bruno")) in flagged_pairs(report, EX04)
    assert score(report, EX04, "ana", "bruno") >= 0.95


def test_a_reordered_functions_copy_is_found(tmp_path: Path, course: Course) -> None:
    code = sol(EX04)
    head, rest = code.split("def fit_line", 1)
    first, second = rest.split("def train_regressor", 1)
    copy = head + "def train_regressor" + second.rstrip() + "\n\n\ndef fit_line" + first.rstrip() + "\n"
    assert copy.index("def train_regressor") < copy.index("def fit_line")
    report = compute_similarity(ex04_class(tmp_path, copy), [], course)
    assert frozenset(("ana", "bruno")) in flagged_pairs(report, EX04)


def test_a_comments_changed_copy_is_found(tmp_path: Path, course: Course) -> None:
    code = sol(EX05)
    copy = re.sub(r"#[^\n]*", "# mi comentario", code)
    copy = re.sub(r'"""[\s\S]*?"""', '"""Potencia de una matriz (mi versión)."""', copy)
    assert copy != code
    students = [student(tmp_path, "ana", {f"{EX05}.py": code}), student(tmp_path, "bruno", {f"{EX05}.py": copy}),
                student(tmp_path, "carla", {f"{EX05}.py": sub("naive_loop.py", EX05)})]
    report = compute_similarity(students, [], course)
    assert flagged_pairs(report, EX05) == {frozenset(("ana", "bruno"))}


def test_two_honest_different_solutions_are_not_flagged(tmp_path: Path, course: Course) -> None:
    students = [student(tmp_path, "ana", {f"{EX05}.py": sol(EX05), f"{EX04}.py": sol(EX04)}),
                student(tmp_path, "carla", {f"{EX05}.py": sub("naive_loop.py", EX05),
                                            f"{EX04}.py": sub("polyfit.py", EX04)})]
    report = compute_similarity(students, [], course)
    assert report.flagged == 0
    assert score(report, EX05, "ana", "carla") < DEFAULT_THRESHOLD
    assert score(report, EX04, "ana", "carla") < DEFAULT_THRESHOLD


def test_starter_only_files_are_not_flagged(tmp_path: Path, course: Course) -> None:
    starter = course.get(EX05).starter_file.read_text(encoding="utf-8")
    bare = re.sub(r'"""[\s\S]*?"""', '""""""', starter)          # the starter with its docstrings emptied
    students = [student(tmp_path, "ana", {f"{EX05}.py": starter}), student(tmp_path, "bruno", {f"{EX05}.py": starter}),
                student(tmp_path, "carla", {f"{EX05}.py": bare})]
    report = compute_similarity(students, [], course)
    ex = next(e for e in report.exercises if e.exercise == EX05)
    assert ex.compared == 3 and ex.pairs == ()
    # and without the starter discounted, the same files do look alike: the discount is what works
    texts = [CodeText(s.key, s.key, s.key, EX05, "f.py", s.files[EX05].read_text()) for s in students]
    assert any(p.score >= DEFAULT_THRESHOLD for p in compare_exercise(texts, None))


def test_a_notebook_copy_of_a_py_is_found(tmp_path: Path, course: Course) -> None:
    code = sol(EX04)
    head, rest = code.split("def train_regressor", 1)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Mi práctica"),
        nbformat.v4.new_code_cell("%matplotlib inline\n" + head),
        nbformat.v4.new_code_cell("def train_regressor" + rest),
        nbformat.v4.new_code_cell("!pip install numpy"),
    ])
    copy = nbformat.writes(nb).encode("utf-8")
    students = [student(tmp_path, "ana", {f"{EX04}.py": code}), student(tmp_path, "bruno", {f"{EX04}.ipynb": copy}),
                student(tmp_path, "carla", {f"{EX04}.py": sub("polyfit.py", EX04)})]
    texts, skipped = read_texts(students, EX04)
    notebook = next(t for t in texts if t.student == "bruno")
    assert skipped == [] and "_tfgrade" not in notebook.code and "def fit_line" in notebook.code
    report = compute_similarity(students, [], course)
    assert flagged_pairs(report, EX04) == {frozenset(("ana", "bruno"))}


def test_unreadable_files_are_skipped_and_listed(tmp_path: Path, course: Course) -> None:
    students = [student(tmp_path, "ana", {f"{EX05}.py": sol(EX05)}),
                student(tmp_path, "bruno", {f"{EX05}.py": b"\x00\x01binary"}),
                student(tmp_path, "carla", {f"{EX05}.ipynb": b"{not json"})]
    secret = tmp_path / "secret.py"                       # outside the student's folder
    secret.write_text(sol(EX05), encoding="utf-8")
    link_folder = tmp_path / "class" / "diego"
    link_folder.mkdir()
    (link_folder / f"{EX05}.py").symlink_to(secret)
    students.append(StudentFiles("diego", link_folder, {EX05: link_folder / f"{EX05}.py"}))
    report = compute_similarity(students, [], course)
    ex = next(e for e in report.exercises if e.exercise == EX05)
    assert {s.student for s in ex.skipped} == {"bruno", "carla", "diego"} and ex.compared == 1
    assert all(s.reason.en and s.reason.es for s in ex.skipped)


def _hostile_report(tmp_path: Path, course: Course) -> SimilarityReport:
    code = f"# {HOSTILE}\n" + sol(EX05) + f'\nNOTE = "{HOSTILE}"\n'
    students = [student(tmp_path, "ana", {f"{EX05}.py": code}, display=HOSTILE),
                student(tmp_path, "bruno", {f"{EX05}.py": code.replace("base", "b0")}, display="bruno" + HOSTILE)]
    report = compute_similarity(students, [], course)
    assert report.flagged == 1
    return report


def test_hostile_text_is_escaped_on_the_pair_page_and_the_table(tmp_path: Path, course: Course) -> None:
    report = _hostile_report(tmp_path, course)
    pair = report.exercises[[e.exercise for e in report.exercises].index(EX05)].pairs[0]
    assert HOSTILE in pair.a.code and HOSTILE in pair.a.display
    page = render_pair_page(pair, "en")
    assert "<script>alert(1)" not in page and page.count("<script>") == 1
    assert html.escape(HOSTILE, quote=False) in page or "&lt;/script&gt;&lt;script&gt;" in page
    assert "<mark>" in page
    path = pair_path(tmp_path / "out", pair)
    assert path.resolve().is_relative_to((tmp_path / "out" / "similarity").resolve())
    assert "<" not in path.name and "/" not in path.stem
    out = tmp_path / "out"
    for r in class_results():
        r.save(out / "results" / f"{r.key}.json")
    report.save(out / "similarity.json")
    render_all(out, "en")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert labels("en")["sim_title"] in index
    assert "<script>alert(1)" not in index and index.count("<script>") == 1


def test_model_fingerprint_flags_an_unusual_shared_stack_not_the_common_one() -> None:
    def mlp(units: int, activation: str, lr: float) -> object:
        layers = [{"name": "normalization", "type": "Normalization", "output_shape": [None, 7], "params": 15},
                  {"name": "dense", "type": "Dense", "units": units, "activation": activation,
                   "output_shape": [None, units], "params": 8 * units},
                  {"name": "dense_1", "type": "Dense", "units": 1, "activation": "sigmoid",
                   "output_shape": [None, 1], "params": units + 1}]
        return exercise("ex06_diabetes_mlp", [
            ok("compiled", "c", "c", 1, optimizer="Adam", learning_rate=lr, loss="binary_crossentropy",
               metrics=["accuracy"]),
            ok("hidden_dense", "h", "h", 2, layers=layers)])

    common = [submission(f"s{i:02d}", [mlp(16, "relu", 0.001)]) for i in range(8)]
    rare = [submission("rare_a", [mlp(37, "tanh", 0.0123)]),
            submission("rare_b", [mlp(37, "tanh", 0.0123)] )]
    own = [submission("own", [mlp(12, "elu", 0.002)])]
    # the same rare stack, but the check saw tampering: it proves nothing
    tampered = exercise("ex06_diabetes_mlp", [ok("hidden_dense", "h", "h", 2, tampering="units re-assigned",
                                                 layers=[{"type": "Dense", "units": 37}])])
    prints = model_prints(common + rare + own + [submission("tamper", [tampered])])
    assert "tamper" not in {p.student for p in prints}
    matches = model_matches(prints)
    assert [(m.a, m.b) for m in matches] == [("rare_a", "rare_b")]
    assert matches[0].holders == 2 and "Dense(37, tanh)" in matches[0].summary
    # names do not matter: the same stack with other layer names is the same fingerprint
    renamed_layers = submission("rare_c", [mlp(37, "tanh", 0.0123)])
    layers = renamed_layers.exercises[0].checks[1].details["layers"]
    for row in layers:
        row["name"] = "mi_" + row["name"]
    assert len({p.digest for p in model_prints(rare + [renamed_layers])}) == 1


def test_a_model_match_alone_flags_the_pair(tmp_path: Path, course: Course) -> None:
    stack = [{"name": "d", "type": "Dense", "units": 37, "activation": "tanh", "output_shape": [None, 37], "params": 296}]
    results = [submission(n, [exercise("ex06_diabetes_mlp", [ok("hidden_dense", "h", "h", 2, layers=stack)])])
               for n in ("ana", "bruno")]
    results += [submission(n, [exercise("ex06_diabetes_mlp", [ok("hidden_dense", "h", "h", 2, layers=[])])])
                for n in ("carla", "diego", "elena")]
    students = [student(tmp_path, "ana", {"ex06_diabetes_mlp.py": sol("ex06_diabetes_mlp")}),
                student(tmp_path, "bruno", {"ex06_diabetes_mlp.py": sub("no_hidden_layer.py", "ex06_diabetes_mlp")})]
    report = compute_similarity(students, results, course, threshold=0.99)
    ex = next(e for e in report.exercises if e.exercise == "ex06_diabetes_mlp")
    pair = next(p for p in ex.pairs if p.flagged)
    assert pair.reasons == ("model",) and pair.model_match and "Dense(37, tanh)" in pair.a.model


def test_json_round_trip(tmp_path: Path, course: Course) -> None:
    report = _hostile_report(tmp_path, course)
    path = tmp_path / "out" / "similarity.json"
    report.save(path)
    assert SimilarityReport.load(path) == report
    assert json.loads(path.read_text(encoding="utf-8"))["schema"] == 1
    assert not list(path.parent.glob(".similarity.json.*"))      # written atomically: no temp left
    with pytest.raises(ValueError):
        SimilarityReport.from_json({"schema": 99})


def test_render_all_with_and_without_similarity(tmp_path: Path, course: Course) -> None:
    out = tmp_path / "out"
    results = class_results()
    for r in results:
        r.save(out / "results" / f"{r.key}.json")
    t = labels("es")
    render_all(out, "es")
    assert t["sim_title"] not in (out / "index.html").read_text(encoding="utf-8")
    assert not (out / "similarity").exists()

    code = sol(EX04)
    students = ex04_class(tmp_path, renamed(code, {"w": "peso", "b": "sesgo"}))
    report = compute_similarity(students, [], course)
    report.save(out / "similarity.json")
    render_all(out, "es")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert t["sim_title"] in index and 'class="sortable' in index
    pair = next(p for e in report.exercises for p in e.pairs if p.flagged)
    page = pair_path(out, pair)
    assert page.is_file() and f'href="similarity/{EX04}/{pair.pair_id}.html"' in index
    for student_report in (out / "reports").glob("*.html"):     # never in a student's report
        assert t["sim_title"] not in student_report.read_text(encoding="utf-8")

    (out / "similarity.json").write_text("{broken", encoding="utf-8")   # unreadable: the section goes, nothing fails
    render_all(out, "es")
    assert t["sim_title"] not in (out / "index.html").read_text(encoding="utf-8")


def test_a_similarity_failure_in_grade_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tfgrade import cli

    stale = tmp_path / "similarity.json"
    stale.write_text("{}", encoding="utf-8")
    cli._save_similarity([], [], object(), tmp_path, "en")        # not a course: compute_similarity raises
    assert "similarity" in capsys.readouterr().err and not stale.exists()


def test_every_similarity_label_is_bilingual() -> None:
    es, en = labels("es"), labels("en")
    keys = [k for k in es if k.startswith("sim_")]
    assert len(keys) > 15 and all(es[k] and en[k] and es[k] != en[k] for k in keys if k not in ())
