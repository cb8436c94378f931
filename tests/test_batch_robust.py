"""One student's bytes cannot stop the class: text from the sandbox is always valid text, and a
result that cannot be saved or rendered becomes that student's grader_error row."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from report_fixtures import full_marks_student

from tfgrade.cli import main
from tfgrade.engine.results import SubmissionResult
from tfgrade.pack.course import Course
from tfgrade.reports.render import render_all
from tfgrade.runners.batch import StudentFiles, grade_class
from tfgrade.runners.progress import Progress
from tfgrade.wire import framing as protocol

ROOT = Path(__file__).resolve().parent.parent
ALLOWED_CONTROLS = {"\n", "\t", "\r"}


def _valid(text: str) -> bool:
    text.encode("utf-8")                                    # raises on a lone surrogate
    return not any((ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) and c not in ALLOWED_CONTROLS for c in text)


def _all_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_all_strings(k), *_all_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _all_strings(v)]
    return []


def _roundtrip(header: object, arrays: tuple[np.ndarray, ...] = ()) -> protocol.Frame:
    return protocol.read_frame(io.BytesIO(protocol.encode(header, arrays)).read)


# -- protocol level ------------------------------------------------------------------------
json_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=20)
headers = st.recursive(
    st.none() | st.booleans() | st.integers() | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(headers)
def test_every_decoded_string_is_valid_text(header: object) -> None:
    decoded = _roundtrip(header).header
    for text in _all_strings(decoded):
        assert _valid(text), repr(text)
    json.dumps(decoded, ensure_ascii=False).encode("utf-8")   # what saving a result does


@settings(max_examples=100, deadline=None)
@given(st.lists(json_text, min_size=1, max_size=5))
def test_unicode_arrays_are_valid_text_too(items: list[str]) -> None:
    arr = np.array(items)
    for decoded in (_roundtrip({}, (arr,)).arrays[0], _roundtrip({}, (arr.astype(arr.dtype.newbyteorder(">")),)).arrays[0]):
        assert decoded.shape == arr.shape
        for text in decoded.tolist():
            assert _valid(text), repr(text)


def test_lone_surrogate_nul_and_controls_are_replaced_keys_included() -> None:
    frame = _roundtrip({"error": {"message": "broken \ud800 model", "k\x00ey": "a\x1bb\n\tc\r"},
                        "ok\udfff": ["\x07", "fine é 😀"]})
    assert frame.header == {"error": {"message": "broken \ufffd model", "k\ufffdey": "a\ufffdb\n\tc\r"},
                            "ok\ufffd": ["\ufffd", "fine é 😀"]}


# -- end to end: a real student file, graded through the CLI --------------------------------
def _pack(tmp: Path, ids: tuple[str, ...] = ("ex02_sequential",)) -> Path:
    pack = tmp / "pack"
    for ex_id in ids:
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    return pack


def test_lone_surrogate_in_a_student_message_does_not_stop_the_class(tmp_path: Path,
                                                                       capsys) -> None:  # type: ignore[no-untyped-def]
    subs = tmp_path / "subs"
    for name in ("ana", "beto", "carla"):
        (subs / name).mkdir(parents=True)
    (subs / "ana" / "ex02_sequential.py").write_text(
        'def build_model():\n    raise ValueError("broken \\ud800 model")\n', encoding="utf-8")
    for name in ("beto", "carla"):
        shutil.copyfile(ROOT / "solutions" / "ex02_sequential.py", subs / name / "ex02_sequential.py")
    out = tmp_path / "out"
    args = ["grade", str(subs), "--out", str(out), "--pack", str(_pack(tmp_path)), "-j", "1", "--lang", "en"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "3 graded" in err
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert set(rows) == {"ana", "beto", "carla"}
    assert rows["beto"]["total"] == rows["carla"]["total"] and float(rows["beto"]["total"]) > 0
    assert rows["beto"]["status"] == rows["carla"]["status"] == "ok"
    ana = SubmissionResult.load(out / "results" / "ana.json")
    text = json.dumps(ana.to_json(), ensure_ascii=False)
    assert "broken \ufffd model" in text
    assert "broken \ufffd model" in (out / "reports" / "ana.html").read_text(encoding="utf-8")
    # a rerun does not crash either: everyone is unchanged
    assert main(args) == 0
    assert "3 unchanged" in capsys.readouterr().err


# -- a result that cannot be saved or rendered ----------------------------------------------
def _students(tmp: Path, names: list[str]) -> list[StudentFiles]:
    found = []
    for name in names:
        (tmp / name).mkdir(parents=True, exist_ok=True)
        found.append(StudentFiles(name, tmp / name, {}))
    return found


def test_a_result_that_cannot_be_saved_is_a_grader_error_row(tmp_path: Path) -> None:
    course = Course.load(_pack(tmp_path))
    students = _students(tmp_path / "subs", ["ana", "beto", "carla"])
    good = full_marks_student()
    ex = good.exercises[0]
    broken_ex = replace(ex, checks=(replace(ex.checks[0], details={"value": {1, 2}}),), output="x\ud800")

    def runner(todo: list[StudentFiles]):  # type: ignore[no-untyped-def]
        for s in todo:
            r = replace(good, student=s.name, student_id=None)
            yield replace(r, exercises=(broken_ex,)) if s.name == "beto" else r

    out = tmp_path / "out"
    summary = grade_class(students, out, runner, course, progress=Progress(3, "en", io.StringIO()))
    assert summary.graded == 3 and summary.failed == 1
    assert [r.student for r in summary.results] == ["ana", "beto", "carla"]
    beto = SubmissionResult.load(out / "results" / "beto.json")
    assert beto.status == "grader_error" and beto.score == 0 and beto.fingerprint == ""
    assert "could not be saved" in (beto.exercises[0].checks[0].grader_error or "")
    assert SubmissionResult.load(out / "results" / "carla.json").status == good.status


def test_a_report_that_cannot_be_rendered_is_a_grader_error_row(tmp_path: Path) -> None:
    good = full_marks_student()
    bad = replace(good, student="beto", student_id=None,
                  exercises=tuple(replace(e, output="printed \ud800 here") for e in good.exercises))
    summary = render_all(tmp_path, "en", results=[good, bad])
    assert summary.failed == ["beto"]
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "gradebook.csv").open(encoding="utf-8"))}
    assert rows["beto"]["status"] == "grader_error" and float(rows["beto"]["total"]) == 0
    assert rows[good.display_name]["status"] == "ok"
    page = (tmp_path / "reports" / "beto.html").read_text(encoding="utf-8")
    assert "Traceback" not in page
