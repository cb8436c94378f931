"""The leaderboard (tfgrade.reports.leaderboard, tfgrade.pack.leaderboard and the figures of
tfgrade.checklib.learning): its configuration, the public/private split, the figures, the
ranking around the deadline, the pseudonyms, and what each page and Gradescope may show."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from jsonschema import Draft202012Validator

from tfgrade.checklib import learning
from tfgrade.engine.results import CheckResult, ExerciseResult, SubmissionResult
from tfgrade.errors import PackError
from tfgrade.i18n import Msg
from tfgrade.pack import metrics
from tfgrade.pack.course import Course
from tfgrade.pack.leaderboard import LeaderboardConfig, leaderboard_of
from tfgrade.reports import leaderboard as lb
from tfgrade.reports.gradescope import RESULTS_SCHEMA, to_gradescope
from tfgrade.reports.leaderboard import Board, Pseudonym
from tfgrade.reports.render import render_all
from tfgrade.reports.student_report import render_student_report
from tfgrade.runners.batch import StudentFiles

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BEFORE = NOW + timedelta(days=3)       # a deadline still to come
AFTER = NOW - timedelta(days=1)        # a deadline already past
SECRET = b"a test secret"

# --------------------------------------------------------------------------- configuration


def test_config_defaults_and_values() -> None:
    default = LeaderboardConfig.from_table({})
    assert default == LeaderboardConfig(enabled=True, exercises=None, public_share=0.5, names="chosen", salt=None)
    assert default.shows("ex07_cnn") and default.shows("ex04_regression") and not default.shows("ex02_sequential")
    full = LeaderboardConfig.from_table({"enabled": True, "exercises": ["ex06_diabetes_mlp", "ex06_diabetes_mlp"],
                                         "public_share": 0.3, "names": "generated", "salt": "long enough salt"})
    assert full.exercises == ("ex06_diabetes_mlp",) and full.public_share == 0.3 and full.names == "generated"
    assert full.shows("ex06_diabetes_mlp") and not full.shows("ex07_cnn")
    assert "salt" not in full.to_json()                  # the salt never goes to OUT
    assert leaderboard_of({}) is None
    assert leaderboard_of({"leaderboard": {"enabled": False}}) is None
    assert leaderboard_of({"leaderboard": {}}) == default


@pytest.mark.parametrize(("table", "key"), [
    ([1, 2], "leaderboard_not_a_table"),
    ({"enable": True}, "leaderboard_unknown_keys"),
    ({"enabled": "yes"}, "leaderboard_bad_enabled"),
    ({"exercises": "ex06_diabetes_mlp"}, "leaderboard_bad_exercises"),
    ({"exercises": []}, "leaderboard_bad_exercises"),
    ({"exercises": ["ex02_sequential"]}, "leaderboard_unknown_exercises"),
    ({"public_share": 1.0}, "leaderboard_bad_share"),
    ({"public_share": 0}, "leaderboard_bad_share"),
    ({"public_share": True}, "leaderboard_bad_share"),
    ({"public_share": "half"}, "leaderboard_bad_share"),
    ({"names": "real"}, "leaderboard_bad_names"),
    ({"salt": 12345678}, "leaderboard_bad_salt"),
    ({"salt": "short"}, "leaderboard_short_salt"),
])
def test_bad_config_is_a_clear_bilingual_error(table: Any, key: str) -> None:
    with pytest.raises(PackError) as info:
        LeaderboardConfig.from_table(table)
    msg = info.value.msg
    assert msg.key == key
    assert msg.es and msg.en and msg.es != msg.en and "[leaderboard]" in msg.en


def test_the_course_file_sets_the_board_and_the_checks_share(tmp_path: Path) -> None:
    config = tmp_path / "course.toml"
    config.write_text('seed = 11\n[leaderboard]\npublic_share = 0.25\nnames = "generated"\n', encoding="utf-8")
    course = Course.load(config=config)
    assert course.leaderboard == LeaderboardConfig(public_share=0.25, names="generated")
    assert course.get("ex06_diabetes_mlp").params[learning.PUBLIC_SHARE_PARAM] == 0.25
    plain = tmp_path / "plain.toml"
    plain.write_text("seed = 11\n", encoding="utf-8")
    assert Course.load(config=plain).leaderboard is None
    assert learning.PUBLIC_SHARE_PARAM not in Course.load(config=plain).get("ex06_diabetes_mlp").params
    bad = tmp_path / "bad.toml"
    bad.write_text("[leaderboard]\nnames = 3\n", encoding="utf-8")
    with pytest.raises(PackError):
        Course.load(config=bad)


def test_changing_the_share_regrades_on_a_rerun(tmp_path: Path) -> None:
    from tfgrade.runners.batch import course_digest

    digests = set()
    for share in (0.25, 0.5):
        config = tmp_path / f"c{share}.toml"
        config.write_text(f"[leaderboard]\npublic_share = {share}\n", encoding="utf-8")
        digests.add(course_digest(Course.load(config=config)))
    assert len(digests) == 2


# --------------------------------------------------------------------------- the split and the figures


def test_the_split_is_fixed_disjoint_and_covers_the_held_out_rows() -> None:
    mask = learning.public_rows(332, seed=20251127, exercise_id="ex06_diabetes_mlp", share=0.5)
    again = learning.public_rows(332, seed=20251127, exercise_id="ex06_diabetes_mlp", share=0.5)
    assert np.array_equal(mask, again)
    public, private = set(np.flatnonzero(mask)), set(np.flatnonzero(~mask))
    assert public.isdisjoint(private) and public | private == set(range(332))
    assert len(public) == 166
    assert len(np.flatnonzero(learning.public_rows(332, 20251127, "ex06_diabetes_mlp", 0.3))) == round(0.3 * 332)
    # Another course seed, another exercise: another partition.
    assert not np.array_equal(mask, learning.public_rows(332, 7, "ex06_diabetes_mlp", 0.5))
    assert not np.array_equal(mask, learning.public_rows(332, 20251127, "ex07_cnn", 0.5))
    # Never an empty side, whatever the share.
    assert learning.public_rows(10, 1, "x", 0.01).sum() == 1 and learning.public_rows(10, 1, "x", 0.99).sum() == 9
    assert not learning.public_rows(1, 1, "x", 0.5).any()


def test_accuracy_on_each_part_recomputed_by_hand() -> None:
    n = 40
    mask = learning.public_rows(n, seed=3, exercise_id="ex06_diabetes_mlp", share=0.25)
    y = np.arange(n) % 2
    # Right on every public row and on 3 of the 30 private rows: 10/10, 3/30, 13/40.
    pred = np.where(mask, y, 1 - y)
    pred[np.flatnonzero(~mask)[:3]] = y[np.flatnonzero(~mask)[:3]]
    out = learning.leaderboard_details(metrics.accuracy, y, pred, name="accuracy", higher_is_better=True,
                                       seed=3, exercise_id="ex06_diabetes_mlp",
                                       params={learning.PUBLIC_SHARE_PARAM: 0.25})
    figures = out[learning.LEADERBOARD_DETAILS]
    assert figures == {"metric": "accuracy", "higher_is_better": True, "public": 1.0, "private": 0.1,
                       "whole": 0.325, "n_public": 10, "n_private": 30}


def test_mae_on_each_part_recomputed_by_hand_and_infinite_is_none() -> None:
    n = 20
    mask = learning.public_rows(n, seed=5, exercise_id="ex04_regression")      # default share 0.5
    y = np.linspace(10.0, 30.0, n)
    pred = y + np.where(mask, 1.0, 3.0)
    figures = learning.leaderboard_details(metrics.mean_absolute_error, y, pred, name="mae",
                                           higher_is_better=False, seed=5, exercise_id="ex04_regression",
                                           params={})[learning.LEADERBOARD_DETAILS]
    assert figures["public"] == pytest.approx(1.0) and figures["private"] == pytest.approx(3.0)
    assert figures["whole"] == pytest.approx(2.0) and figures["n_public"] == 10
    pred[np.flatnonzero(~mask)[0]] = np.inf
    broken = learning.leaderboard_details(metrics.mean_absolute_error, y, pred, name="mae",
                                          higher_is_better=False, seed=5, exercise_id="ex04_regression",
                                          params={})[learning.LEADERBOARD_DETAILS]
    assert broken["private"] is None and broken["whole"] is None and broken["public"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(("source", "want"), [
    ('LEADERBOARD_NAME = "Los Tensores"\n', "Los Tensores"),
    ('LEADERBOARD_NAME: str = "Los Tensores"\n', "Los Tensores"),
    ('LEADERBOARD_NAME = "first"\nLEADERBOARD_NAME = "second"\n', "second"),
    ('try:\n    LEADERBOARD_NAME = "in a cell"\nexcept Exception:\n    pass\n', "in a cell"),
    ('LEADERBOARD_NAME = "  Los \\t  Tensores \\n"\n', "Los Tensores"),
    ('LEADERBOARD_NAME = "A\\u202eB\\u200bC\\x07"\n', "ABC"),              # bidi override, zero width, bell
    ('LEADERBOARD_NAME = "<b>Bold</b>"\n', "<b>Bold</b>"),                 # kept as text, escaped on pages
    ('LEADERBOARD_NAME = "' + "x" * 10_000 + '"\n', "x" * lb.MAX_NAME_CHARS),
    ('LEADERBOARD_NAME = f"Team {1 + 1}"\n', None),                        # an f-string is not a literal
    ('LEADERBOARD_NAME = get_name()\n', None),                             # nor a call
    ('LEADERBOARD_NAME = "a" + "b"\n', None),                              # nor an expression
    ('LEADERBOARD_NAME = 42\n', None),                                     # nor a non-string
    ('LEADERBOARD_NAME = b"bytes"\n', None),
    ('LEADERBOARD_NAME = "ok"\nLEADERBOARD_NAME = open("/etc/passwd").read()\n', None),
    ('LEADERBOARD_NAME = "ok"\nLEADERBOARD_NAME += "!"\n', None),
    ('LEADERBOARD_NAME, other = "a", "b"\n', None),
    ('def f():\n    LEADERBOARD_NAME = "inside"\n', None),                 # not at module level
    ('if True:\n    LEADERBOARD_NAME = "branch"\n', None),
    ('LEADERBOARD_NAME = "   "\n', None),
    ('LEADERBOARD_NAME = "!!!"\n', None),
    ('LEADERBOARD_NAME = "ok"\ndef broken(:\n', None),                     # does not parse
    ('leaderboard_name = "lower case"\n', None),
])
def test_chosen_names_are_string_literals_only(source: str, want: str | None) -> None:
    assert lb.chosen_name(source) == want


def test_generated_names_are_deterministic_and_reveal_nothing() -> None:
    name = lb.generated_name("ana_garcia", SECRET)
    assert name == lb.generated_name("ana_garcia", SECRET)
    assert name != lb.generated_name("ana_garcia", b"another secret")
    star, animal, number = name.split(" ")
    assert star in lb.STARS and animal in lb.ANIMALS and 10 <= int(number) <= 99
    assert "ana" not in name.casefold() and "garcia" not in name.casefold()
    keys = [f"student_{i}" for i in range(600)]
    names = lb.assign_names(dict.fromkeys(keys), SECRET)
    assert len({p.name for p in names.values()}) == 600           # unique in a large class
    assert not any(p.chosen for p in names.values())


def test_duplicate_and_reserved_names_fall_back_to_generated() -> None:
    chosen = {"ana": "Los Tensores", "bruno": "los  TENSORES", "carla": "Ana García", "dario": "Únicos",
              "elena": None}
    names = lb.assign_names(chosen, SECRET, reserved=["ana", "Ana García", "bruno", "carla", "dario", "elena"])
    assert names["dario"] == Pseudonym("Únicos", True)
    for key in ("ana", "bruno", "carla", "elena"):          # a clash, a classmate's real name, no choice
        assert not names[key].chosen and names[key].name == lb.generated_name(key, SECRET)
    generated = lb.assign_names(chosen, SECRET, mode="generated")
    assert not any(p.chosen for p in generated.values())


def test_a_generated_name_never_takes_a_chosen_one() -> None:
    taken = lb.generated_name("bruno", SECRET)
    names = lb.assign_names({"ana": taken, "bruno": None}, SECRET)
    assert names["ana"] == Pseudonym(taken, True)
    assert names["bruno"].name != taken and names["bruno"].name == lb.generated_name("bruno", SECRET, 1)


def _student(tmp_path: Path, name: str, files: dict[str, str], student_id: str | None = None) -> StudentFiles:
    folder = tmp_path / "class" / name
    folder.mkdir(parents=True)
    paths = {}
    for file_name, text in files.items():
        (folder / file_name).write_text(text, encoding="utf-8")
        paths[file_name.split(".")[0]] = folder / file_name
    return StudentFiles(name, folder, paths, student_id=student_id)


def test_names_come_from_the_files_notebooks_included(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('LEADERBOARD_NAME = "from markdown"'),
                nbformat.v4.new_code_cell('import numpy as np\nLEADERBOARD_NAME = "Cuaderno"')]
    students = [
        _student(tmp_path, "ana", {"ex06_diabetes_mlp.py": 'LEADERBOARD_NAME = "Las Neuronas"\n',
                                   "ex07_cnn.py": 'LEADERBOARD_NAME = "Other"\n'}),
        _student(tmp_path, "bruno", {"ex06_diabetes_mlp.ipynb": nbformat.writes(nb)}),
        _student(tmp_path, "carla", {"ex02_sequential.py": 'LEADERBOARD_NAME = "not a board exercise"\n'}),
    ]
    config = LeaderboardConfig(salt="a course salt")
    board = Board.for_class(students, config, seed=1, exercise_order=["ex02_sequential", "ex06_diabetes_mlp",
                                                                       "ex07_cnn"])
    assert board.names["ana"] == Pseudonym("Las Neuronas", True)          # the first board exercise decides
    assert board.names["bruno"] == Pseudonym("Cuaderno", True)
    assert not board.names["carla"].chosen
    assert board.names["carla"].name == lb.generated_name("carla", b"a course salt")
    generated = Board.for_class(students, replace(config, names="generated"), 1, ["ex06_diabetes_mlp"])
    assert not any(p.chosen for p in generated.names.values())


# --------------------------------------------------------------------------- results, ranks and pages


def _check(figures: dict[str, Any] | None, **extra: Any) -> CheckResult:
    details: dict[str, Any] = {"accuracy": 0.5, "n_test": 332, **extra}
    if figures is not None:
        details[learning.LEADERBOARD_DETAILS] = figures
    return CheckResult(id="heldout_accuracy", title=Msg("Exactitud", "Accuracy"), status="passed", points=10,
                       max_points=10, hidden=True, feedback=Msg("bien", "good"), details=details)


def _result(student: str, public: float | None, private: float | None, *, exercise: str = "ex06_diabetes_mlp",
            higher: bool = True, student_id: str | None = None, **extra: Any) -> SubmissionResult:
    figures = None if public is None and private is None else {
        "metric": "accuracy" if higher else "mae", "higher_is_better": higher, "public": public,
        "private": private, "whole": 0.5, "n_public": 166, "n_private": 166}
    ex = ExerciseResult(exercise=exercise, title=Msg("Diabetes con un MLP", "Diabetes with an MLP"),
                        status="graded", checks=(_check(figures, **extra),))
    return SubmissionResult(student=student, exercises=(ex,), isolation="strong", tool_version="t",
                            graded_at="2026-12-01T00:00:00Z", student_id=student_id)


CLASS = [
    _result("Ana García", 0.8111, 0.7012, student_id="1001"),
    _result("Bruno Díaz", 0.7556, 0.9044, student_id="1002"),
    _result("Carla López", 0.8111, 0.6033, student_id="1003"),      # ties Ana on the public figure
    _result("Darío Ausente", None, None, student_id="1004"),        # no figures: not on the board
]
NAMES = {"1001": Pseudonym("Zeta", True), "1002": Pseudonym("Vega Puma 17", False),
         "1003": Pseudonym("Alfa", True), "1004": Pseudonym("Orion Kiwi 33", False)}
REAL = ("Ana García", "Bruno Díaz", "Carla López", "1001", "1002", "1003")
PRIVATE = ("0,701", "0,904", "0,603", "0.701", "0.904", "0.603")


def _board(due: datetime | None, **config: Any) -> Board:
    return Board(LeaderboardConfig(**config), dict(NAMES), due)


def test_ranks_ties_and_the_order() -> None:
    entries = [("a", 0.9), ("b", 0.8), ("c", 0.9), ("d", None), ("e", 0.7)]
    desc = lb.ranked(entries, lambda e: e[1], True, lambda e: e[0])
    assert [(rank, e[0]) for rank, e in desc] == [(1, "a"), (1, "c"), (3, "b"), (4, "e")]
    asc = lb.ranked(entries, lambda e: e[1], False, lambda e: e[0])
    assert [(rank, e[0]) for rank, e in asc] == [(1, "e"), (2, "b"), (3, "a"), (3, "c")]


def test_before_the_deadline_the_public_figure_ranks_and_the_private_is_absent() -> None:
    for due in (BEFORE, None):
        view = _board(due).view(CLASS, "en", instructor=False, now=NOW)
        assert not view.final and not view.show_private
        rows = view.tables[0].rows
        assert [(r.rank, r.pseudonym, r.public) for r in rows] == [
            (1, "Alfa", "0.811"), (1, "Zeta", "0.811"), (3, "Vega Puma 17", "0.756")]
        assert all(r.private == "" and r.student == "" and r.whole == "" for r in rows)


def test_after_the_deadline_the_private_figure_ranks_and_both_show() -> None:
    view = _board(AFTER).view(CLASS, "es", instructor=False, now=NOW)
    assert view.final and view.show_private
    rows = view.tables[0].rows
    assert [(r.rank, r.pseudonym, r.private, r.public) for r in rows] == [
        (1, "Vega Puma 17", "0,904", "0,756"), (2, "Zeta", "0,701", "0,811"), (3, "Alfa", "0,603", "0,811")]
    assert lb.is_final(NOW, NOW) and not lb.is_final(NOW + timedelta(seconds=1), NOW)
    assert lb.is_final(datetime(2026, 11, 1), NOW)                    # a naive deadline is read as UTC


def test_the_instructors_view_has_real_names_and_both_figures_before_the_deadline() -> None:
    view = _board(BEFORE).view(CLASS, "en", instructor=True, now=NOW)
    rows = {r.pseudonym: r for r in view.tables[0].rows}
    assert rows["Zeta"].student == "Ana García (1001)" and rows["Zeta"].private == "0.701"
    assert rows["Zeta"].whole == "0.5" and rows["Zeta"].rank == 1


def test_flagged_figures_stay_off_the_public_board() -> None:
    flagged = [*CLASS[:2], _result("Carla López", 0.99, 0.99, student_id="1003",
                                  implausible={"es": "demasiado", "en": "too good"})]
    students = _board(BEFORE).view(flagged, "en", instructor=False, now=NOW).tables[0].rows
    assert "Alfa" not in {r.pseudonym for r in students}
    assert [(r.rank, r.pseudonym) for r in students] == [(1, "Zeta"), (2, "Vega Puma 17")]
    teachers = _board(BEFORE).view(flagged, "en", instructor=True, now=NOW).tables[0].rows
    assert [(r.rank, r.pseudonym, r.flagged) for r in teachers] == [
        (1, "Zeta", False), (2, "Vega Puma 17", False), (None, "Alfa", True)]     # the same ranks, flagged last
    html = lb.render_page(_board(BEFORE).view(flagged, "en", instructor=True, now=NOW), "en")
    assert "off the public board" in html


def test_only_the_configured_exercises_are_on_the_board() -> None:
    results = [*CLASS, _result("Ana García", 2.1, 2.5, exercise="ex04_regression", higher=False, student_id="1001")]
    assert [t.exercise for t in _board(BEFORE).view(results, "en", instructor=True, now=NOW).tables] == [
        "ex04_regression", "ex06_diabetes_mlp"]
    only = _board(BEFORE, exercises=("ex04_regression",)).view(results, "en", instructor=True, now=NOW)
    assert [t.exercise for t in only.tables] == ["ex04_regression"]


def test_the_students_page_has_pseudonyms_only_and_no_private_figure_before_the_deadline() -> None:
    hostile = dict(NAMES, **{"1003": Pseudonym("<script>alert(1)</script>", True)})
    board = Board(LeaderboardConfig(), hostile, BEFORE)
    for lang in ("es", "en"):
        html = lb.render_page(board.view(CLASS, lang, instructor=False, now=NOW), lang)
        assert "Zeta" in html and "Vega Puma 17" in html
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        for text in (*REAL, *PRIVATE, "Darío", "1004"):
            assert text not in html, text
    after = lb.render_page(Board(LeaderboardConfig(), dict(NAMES), AFTER).view(CLASS, "en", instructor=False,
                                                                                  now=NOW), "en")
    assert "0.904" in after and not any(text in after for text in REAL)


def test_render_all_writes_the_class_section_and_the_students_page(tmp_path: Path) -> None:
    Board(LeaderboardConfig(), dict(NAMES), BEFORE).save(tmp_path, CLASS)
    saved = json.loads((tmp_path / lb.BOARD_FILE).read_text(encoding="utf-8"))
    assert saved["names"]["1001"] == {"name": "Zeta", "chosen": True} and saved["due"] == BEFORE.isoformat()
    assert Board.read(tmp_path) == Board(LeaderboardConfig(), dict(NAMES), BEFORE)
    summary = render_all(tmp_path, lang="en", results=CLASS)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "leaderboard-table" in index and "Ana García (1001)" in index and "0.701" in index
    page = (tmp_path / lb.PAGE_FILE).read_text(encoding="utf-8")
    assert tmp_path / lb.PAGE_FILE in summary.exports
    assert "Zeta" in page and not any(text in page for text in (*REAL, *PRIVATE))


def test_without_a_board_file_there_is_no_leaderboard(tmp_path: Path) -> None:
    render_all(tmp_path, lang="en", results=CLASS)
    assert "leaderboard-table" not in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert not (tmp_path / lb.PAGE_FILE).exists()
    (tmp_path / lb.BOARD_FILE).write_text("{not json", encoding="utf-8")
    assert Board.read(tmp_path) is None


def test_write_for_class_saves_names_from_the_files(tmp_path: Path) -> None:
    students = [_student(tmp_path, "ana", {"ex06_diabetes_mlp.py": 'LEADERBOARD_NAME = "Las Neuronas"\n'}, "1001")]
    course = replace(Course.load(), leaderboard=LeaderboardConfig(salt="course salt!"))
    path = lb.write_for_class(tmp_path / "out", students, [CLASS[0]], course)
    assert path is not None
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["names"] == {"1001": {"name": "Las Neuronas", "chosen": True}}
    assert data["board"]["ex06_diabetes_mlp"][0]["private"] == pytest.approx(0.7012)
    assert "course salt!" not in path.read_text(encoding="utf-8")
    assert lb.write_for_class(tmp_path / "none", students, [CLASS[0]], Course.load()) is None


def test_the_private_figure_never_reaches_a_students_report() -> None:
    result = _result("Ana García", 0.8111, 0.98765, student_id="1001")
    for reveal in (False, True):
        for lang in ("es", "en"):
            html = render_student_report(result, lang, reveal_hidden=reveal)
            assert "98765" not in html and "0,988" not in html and "0.988" not in html
            assert "0.811" not in html and "0,811" not in html           # nor the public one, with a check
    assert "0,5" in render_student_report(result, "es", reveal_hidden=True)   # the check's own figure shows


# --------------------------------------------------------------------------- Gradescope


VALIDATOR = Draft202012Validator(RESULTS_SCHEMA)


def test_gradescope_gets_the_public_figure_only() -> None:
    result = _result("Ana García", 0.8111, 0.98765, student_id="1001")
    entries = lb.gradescope_entries(result, LeaderboardConfig(), "en")
    assert entries == [{"name": "ex06_diabetes_mlp · Accuracy (public part)", "value": 0.8111, "order": "desc"}]
    data = to_gradescope(result, 10.0, lang="en", leaderboard=entries)
    assert not list(VALIDATOR.iter_errors(data))
    assert data["leaderboard"] == entries
    text = json.dumps(data)
    assert "0.98765" not in text and "0.988" not in text
    mae = _result("Ana García", 2.25, 2.75, higher=False, exercise="ex04_regression")
    assert lb.gradescope_entries(mae, LeaderboardConfig(), "es")[0]["order"] == "asc"
    assert lb.gradescope_entries(mae, LeaderboardConfig(exercises=("ex06_diabetes_mlp",)), "es") == []
    flagged = _result("Ana García", 0.99, 0.99, implausible={"es": "x", "en": "x"})
    assert lb.gradescope_entries(flagged, LeaderboardConfig(), "es") == []
    assert "leaderboard" not in to_gradescope(result, 10.0) and "leaderboard" not in to_gradescope(result, 1, leaderboard=[])


def test_gradescope_schema_refuses_a_bad_leaderboard() -> None:
    data = to_gradescope(CLASS[0], 1.0, leaderboard=[{"name": "x", "value": 0.5, "order": "asc"}])
    assert VALIDATOR.is_valid(data)
    for bad in ({"name": "x", "value": 0.5, "order": "up"}, {"value": 0.5}, {"name": "x", "value": [1]},
                {"name": "x", "value": 1, "private": 0.9}):
        assert not VALIDATOR.is_valid({**data, "leaderboard": [bad]}), bad


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_a_graded_solution_carries_the_figures(grader: Any, tmp_path: Path) -> None:
    """The reference ex06 solution, graded for real: the held-out check records the public,
    private and whole figures, the whole one is the check's own accuracy, the points do not
    move, and Gradescope gets the public one."""
    from gradehelp import grade_case

    root = Path(__file__).resolve().parent.parent
    ex = grade_case(grader, tmp_path, "ex06_diabetes_mlp", root / "solutions" / "ex06_diabetes_mlp.py")
    check = next(c for c in ex.checks if c.id == "heldout_accuracy")
    figures = check.details[learning.LEADERBOARD_DETAILS]
    assert figures["metric"] == "accuracy" and figures["higher_is_better"] is True
    assert figures["n_public"] + figures["n_private"] == check.details["n_test"] == 332
    assert figures["whole"] == pytest.approx(check.details["accuracy"], abs=1e-4)
    n_pub, n_priv = figures["n_public"], figures["n_private"]
    assert (figures["public"] * n_pub + figures["private"] * n_priv) / 332 == pytest.approx(figures["whole"], abs=1e-5)
    assert check.points == check.max_points              # the score itself is unchanged: on all 332
    result = SubmissionResult(student="ana", exercises=(ex,), isolation="basic", tool_version="t",
                              graded_at="2026-12-01T00:00:00Z")
    entries = lb.gradescope_entries(result, LeaderboardConfig(), "en")
    assert entries and entries[0]["value"] == pytest.approx(figures["public"], abs=1e-4)


def test_a_re_render_takes_the_course_files_deadline_as_it_is_now(tmp_path: Path) -> None:
    """The board saved at grading said "due in the future"; the instructor moved the deadline
    into the past in the course file: `report` ranks by the private figure."""
    from tfgrade.policy.apply import Policy
    from tfgrade.policy.deadline import DeadlinePolicy

    Board(LeaderboardConfig(), dict(NAMES), datetime.now(UTC) + timedelta(days=30)).save(tmp_path, CLASS)
    render_all(tmp_path, lang="en", results=CLASS)
    assert "0.904" not in (tmp_path / lb.PAGE_FILE).read_text(encoding="utf-8")
    past = DeadlinePolicy.from_table({"due": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    render_all(tmp_path, lang="en", results=CLASS, policy=Policy(deadline=past))
    assert "0.904" in (tmp_path / lb.PAGE_FILE).read_text(encoding="utf-8")
