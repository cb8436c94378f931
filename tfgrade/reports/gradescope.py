"""Gradescope: results.json for one submission, and the autograder.zip that produces it.

`to_gradescope(result, execution_time)` follows Gradescope's autograder results format:
top-level `score`, `execution_time`, `output`, `tests[]` with `name`, `score`, `max_score`,
`status` ("passed"/"failed"), `output`, `visibility`, and with a course leaderboard the
top-level `leaderboard` (`name`, `value`, `order`: the public held-out figures only). Hidden checks are `after_published`
(students see them once the instructor publishes grades); the rest are `visible`.
The top-level `score` is the grade after the course's policies (an instructor's overrides,
the `[deadline]` late penalty, with the submission time from `submission_metadata.json`'s
`created_at`); the output says why. A not-applicable check is reported with max_score 0 (its points leave the total, as in every
tfgrade report). Grader tracebacks never go into it: students read this file.

`build_gradescope_bundle(out_zip, dist=None)` writes autograder.zip with:
- `setup.sh` — run once when Gradescope builds the image: installs Python and bubblewrap, makes
  a virtual environment in /opt/tfgrade and pip-installs tfgrade (with TensorFlow) from the
  first `tfgrade-*.whl` or `tfgrade-*.tar.gz` in the bundle's `dist/` folder.
- `run_autograder` — runs `tfgrade grade-one /autograder/submission --gradescope
  /autograder/results/results.json`.
- `course/` — with `--course`: the course file (its [deadline], [leaderboard], private data)
  and the data files it names, passed to `grade-one` by run_autograder;
- `dist/` — the wheel or sdist given as `dist` (build one with `python -m build`). Without it the
  folder holds only `dist/README.txt`, a placeholder saying where to drop the wheel before upload:
  the zip is then a template, and setup.sh stops with that message if the wheel is still missing.
"""

from __future__ import annotations

import io
import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tfgrade.catalogue import GRADER
from tfgrade.engine.results import CheckResult, SubmissionResult, write_bytes_atomic
from tfgrade.errors import TfgradeError
from tfgrade.i18n import Lang, Msg
from tfgrade.reports.formatting import MAX_MESSAGE_CHARS, trim_text
from tfgrade.reports.labels import label
from tfgrade.reports.policy_view import adjustment_msg, result_late_msgs

MAX_TEST_OUTPUT = 8000
MAX_TOP_OUTPUT = 20000

# A JSON Schema of what we emit (a subset of Gradescope's documented format, kept strict so
# tests catch a typo in a key or a wrong type before Gradescope does).
RESULTS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "execution_time", "output", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
        "stdout_visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
        # Gradescope's leaderboard quantities: `name` is the column, `order` "desc" (default:
        # higher ranks higher) or "asc"; the student's pseudonym is the one given to Gradescope.
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "value": {"type": ["number", "string"]},
                    "order": {"enum": ["asc", "desc"]},
                },
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "number": {"type": "string"},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                    "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def _test_output(check: CheckResult, lang: Lang) -> str:
    parts = [label(f"status_{check.status}", lang) + ".", check.feedback.get(lang)]
    error = check.student_error
    if error is not None:
        parts.append(trim_text(f"{error.type}: {error.message}" if error.type else error.message, MAX_MESSAGE_CHARS)[0])
    if check.tampering:
        parts.append(label("tampering", lang) + ".")
    if check.adjustment is not None:
        parts.append(adjustment_msg(check.adjustment, lang))
    return trim_text("\n".join(p for p in parts if p), MAX_TEST_OUTPUT)[0]


def _test(number: str, exercise: str, ex_title: str, check: CheckResult, lang: Lang) -> dict[str, Any]:
    applicable = check.status != "not_applicable"
    return {
        "name": f"{ex_title} · {check.title.get(lang)}",
        "number": number,
        "score": round(check.points, 4) if applicable else 0.0,
        "max_score": round(check.max_points, 4) if applicable else 0.0,
        "status": "passed" if check.status in ("passed", "not_applicable") else "failed",
        "output": _test_output(check, lang),
        "visibility": "after_published" if check.hidden else "visible",
        "tags": [exercise, check.id],
    }


def to_gradescope(result: SubmissionResult, execution_time: float, *, lang: Lang = "es",
                  leaderboard: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The Gradescope results dict for one graded submission; `leaderboard`: its entries
    (reports.leaderboard.gradescope_entries: public figures only), emitted when not empty."""
    tests: list[dict[str, Any]] = []
    lines = [f"{result.student}: {result.final_score:g} / {result.max_score:g}"]
    lines += result_late_msgs(result, lang)
    for i, ex in enumerate(result.exercises, start=1):
        title = ex.title.get(lang)
        status = label(f"ex_{ex.status}", lang)
        lines.append(f"- {title} ({ex.exercise}): {ex.score:g} / {ex.max_score:g} — {status}")
        if ex.message:
            lines.append(f"  {ex.message.get(lang)}")
        if ex.adjustment is not None:
            lines.append(f"  {adjustment_msg(ex.adjustment, lang)}")
        for w in ex.warnings:
            lines.append(f"  {w.get(lang)}")
        if ex.hidden_points:
            lines.append(f"  {ex.hidden_points:g} {label('hidden_points_pending', lang)}")
        if not ex.checks:
            # An exercise with nothing graded (not handed in) still shows up as one failed line.
            tests.append({"name": f"{title} · {status}", "number": f"{i}", "score": 0.0, "max_score": 0.0,
                          "status": "failed", "output": ex.message.get(lang) if ex.message else status,
                          "visibility": "visible", "tags": [ex.exercise]})
        for j, check in enumerate(ex.checks, start=1):
            tests.append(_test(f"{i}.{j}", ex.exercise, title, check, lang))
    iso = Msg(f"aislamiento: {result.isolation} · tfgrade {result.tool_version}",
              f"isolation: {result.isolation} · tfgrade {result.tool_version}")
    lines.append(iso.get(lang))
    out: dict[str, Any] = {
        # The grade after overrides and the late penalty: Gradescope takes this over the tests' sum.
        "score": max(0.0, round(result.final_score, 4)),
        "execution_time": max(0, int(round(execution_time))),
        "output": trim_text("\n".join(lines), MAX_TOP_OUTPUT)[0],
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if leaderboard:
        out["leaderboard"] = [dict(entry) for entry in leaderboard]
    return out


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (Ubuntu).
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
    python3 python3-venv python3-pip bubblewrap
PKG=$(ls /autograder/source/dist/tfgrade-*.whl /autograder/source/dist/tfgrade-*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -z "$PKG" ]; then
    echo "tfgrade: put a tfgrade wheel or sdist in the bundle's dist/ folder (see dist/README.txt)" >&2
    exit 1
fi
python3 -m venv /opt/tfgrade
/opt/tfgrade/bin/pip install --upgrade pip
/opt/tfgrade/bin/pip install "${PKG}[tf]"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; tfgrade writes the results file itself.
set -uo pipefail
mkdir -p /autograder/results
export PATH="/opt/tfgrade/bin:$PATH"
exec tfgrade grade-one /autograder/submission --gradescope /autograder/results/results.json{course}
"""
BUNDLED_COURSE = "course/course.toml"     # under /autograder/source/ in Gradescope's image

DIST_README = """Put the tfgrade wheel (tfgrade-<version>-py3-none-any.whl) or sdist (tfgrade-<version>.tar.gz)
in this folder before uploading autograder.zip to Gradescope; build it from a checkout with
    python -m build
or rebuild the bundle with build_gradescope_bundle(out_zip, dist=Path("dist/tfgrade-....whl")).
setup.sh installs the first tfgrade-*.whl / tfgrade-*.tar.gz it finds here.
"""


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16  # regular file + mode
    zf.writestr(info, data)


def course_files(course: Path) -> list[tuple[str, bytes]]:
    """The course file and every data file it names ([datasets.*] source), as bundle entries
    under course/: the data at the same path relative to the course file, so that the course
    file needs no edit. A data file outside the course file's folder cannot travel that way."""
    from tfgrade.pack.course import Course

    course = Path(course)
    Course.load(config=course)                       # a broken course file is told now, not on Gradescope
    cfg = tomllib.loads(course.read_text(encoding="utf-8"))
    entries = [(BUNDLED_COURSE, course.read_bytes())]
    base = course.parent.resolve()
    for table in (cfg.get("datasets") or {}).values():
        source = table.get("source") if isinstance(table, dict) else None
        if not source:
            continue
        path = (base / str(source)).resolve()
        if base not in path.parents:
            raise TfgradeError(GRADER("gradescope_data_outside", source=str(source), folder=str(base)))
        entries.append((f"course/{path.relative_to(base).as_posix()}", path.read_bytes()))
    return entries


def build_gradescope_bundle(out_zip: Path, dist: Path | None = None, course: Path | None = None) -> Path:
    """Write autograder.zip (setup.sh, run_autograder, dist/, and with `course` the course file
    and its data under course/, which run_autograder passes to grade-one) and return its path."""
    out_zip = Path(out_zip)
    extra = course_files(course) if course is not None else []
    run = RUN_AUTOGRADER.format(course=f" --course /autograder/source/{BUNDLED_COURSE}" if extra else "")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(zf, "run_autograder", run.encode(), executable=True)
        if dist is not None:
            dist = Path(dist)
            if not dist.is_file() or not dist.name.startswith("tfgrade-"):
                raise FileNotFoundError(f"not a tfgrade wheel or sdist: {dist}")
            _add(zf, f"dist/{dist.name}", dist.read_bytes())
        else:
            _add(zf, "dist/README.txt", DIST_README.encode())
        for name, data in extra:
            _add(zf, name, data)
    write_bytes_atomic(out_zip, buffer.getvalue())
    return out_zip
