"""Code similarity of one exercise: copydetect's fingerprints, pair scores, matched regions.

copydetect (MOSS-style winnowing) tokenizes each file with Pygments and replaces every name
by `V`/`F`/`O` and every string by `S`, drops comments and whitespace, and fingerprints the
k-grams of what is left: renamed variables, changed comments, re-indented or reordered code
still share their fingerprints. The exercise's `starter.py` is fingerprinted too and its
fingerprints are removed from every submission (boilerplate): the `def` lines and the
docstrings every student starts from are not evidence. So are the fingerprints that a good
part of the class shares (MOSS's `-m`, `common_limit`): on an exercise whose statement
dictates the code (ex02's slide model), every right answer is that code, and two right
answers alike are not copies; what is left is what few students wrote.

Score of a pair: the **larger** of copydetect's two similarities (the share of each file's
fingerprinted code found in the other). The larger one catches a copy padded with extra
code (the copied file is almost entirely inside the padded one) that the mean would halve;
a pair in which one file holds almost no code of its own is not compared at all
(`MIN_FINGERPRINTS`), so "tiny file fully inside a big one" cannot flag by itself.

Notebooks are compared as code: the intake reads them (`read_notebook`) and rewrites each
code cell's IPython syntax (`rewrite_cell`) exactly as grading does, but without the
run-all wrapper grading adds around every cell (that wrapper is the same in every notebook
and would make all notebooks alike). A file that cannot be read is skipped and listed.
"""

from __future__ import annotations

import io
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfgrade.errors import SubmissionError
from tfgrade.i18n import Msg
from tfgrade.intake.ipython_syntax import rewrite_cell
from tfgrade.intake.notebooks import read_notebook
from tfgrade.intake.source import read_submission

if TYPE_CHECKING:
    from tfgrade.runners.batch import StudentFiles

# copydetect's own defaults (noise threshold 25 = guarantee threshold: window 1, i.e. every
# k-gram is kept; the files are small, so the full set costs nothing).
K = 25
WINDOW = 1
# A file with fewer fingerprints than this once the starter is removed holds too little
# code of its own to be called a copy (or to be copied from).
MIN_FINGERPRINTS = 8
# MOSS's "-m": a passage found in more than this many files (at least COMMON_MIN, else
# COMMON_SHARE of the files) is what the class writes anyway (the slide's model that the
# statement dictates, the usual imports): discounted like the starter.
COMMON_MIN = 4
COMMON_SHARE = 0.25
MAX_CODE_CHARS = 200_000   # longer code is cut before fingerprinting (reports stay small)


@dataclass(frozen=True)
class CodeText:
    """One student's code for one exercise, as compared."""

    student: str          # the student's key (unique in the class)
    display: str          # "Ana López (111)"
    label: str            # file label: what report file names are made from
    exercise: str
    file_name: str        # the submitted file's name (student-controlled text)
    code: str


@dataclass(frozen=True)
class SkippedFile:
    """A file that could not be compared, and why."""

    student: str
    exercise: str
    file_name: str
    reason: Msg


@dataclass(frozen=True)
class CodePair:
    """Two students' code for one exercise, compared."""

    exercise: str
    a: str                                  # student keys, a < b
    b: str
    score: float                            # max of the two similarities, 0..1
    similarity_a: float                     # share of a's fingerprinted code found in b
    similarity_b: float
    slices_a: tuple[tuple[int, int], ...]   # matched regions, character offsets in a's code
    slices_b: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Fingerprint:
    text: CodeText
    fp: Any                                 # copydetect.CodeFingerprint (untyped library)
    n_hashes: int


def notebook_code(data: bytes, filename: str) -> str:
    """A notebook's code cells as plain Python, IPython syntax rewritten as for grading."""
    nb, _ = read_notebook(data, filename)
    chunks = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or not cell.source.strip():
            continue
        rewrite = rewrite_cell(cell.source.replace("\x00", ""))
        if rewrite.skipped_by is None:
            chunks.append("\n".join(rewrite.lines))
    return "\n\n".join(chunks) + "\n"


def read_code(path: Path, root: Path | None = None) -> str:
    """The code of a submitted file, read with the intake's rules, as the grader reads it (no
    symlink out of its folder, size caps, encodings). Raises SubmissionError."""
    source = read_submission(path, root)
    if source.is_notebook:
        return notebook_code(source.raw, path.name)
    return source.text


def _copydetect() -> Any:
    """copydetect, imported late (it imports matplotlib). Only its fingerprint and compare
    functions are used: never its CopyDetector (tqdm progress bars, an HTML report that does
    not escape code, a browser opened), so nothing is printed and nothing is fetched."""
    import copydetect

    return copydetect


def _fingerprint(copydetect: Any, code: str, boilerplate: Any) -> Any:
    return copydetect.CodeFingerprint("submission.py", K, WINDOW, boilerplate=boilerplate, filter=True,
                                      language="python", fp=io.StringIO(code[:MAX_CODE_CHARS]))


def boilerplate_hashes(starter: Path | None) -> Any:
    """The starter's fingerprints (every k-gram, as copydetect does for boilerplate)."""
    import numpy as np

    copydetect = _copydetect()
    if starter is None or not starter.is_file():
        return np.array([], dtype=np.int64)
    fp = _fingerprint(copydetect, starter.read_text(encoding="utf-8", errors="replace"), None)
    return np.unique(np.array(sorted(fp.hashes), dtype=np.int64))


def _slices(raw: Any) -> tuple[tuple[int, int], ...]:
    if len(raw) != 2 or len(raw[0]) == 0:
        return ()
    return tuple((int(s), int(e)) for s, e in zip(raw[0], raw[1], strict=True) if int(e) > int(s))


def common_limit(n_files: int) -> int:
    """A fingerprint found in more distinct files than this is the class's common code.

    Identical files count once: ten students handing in one file are a ring to show, not
    the class's common code (and would otherwise hide each other).
    """
    return max(COMMON_MIN, math.floor(COMMON_SHARE * n_files))


def compare_exercise(texts: Sequence[CodeText], starter: Path | None) -> list[CodePair]:
    """Every pair of students' code for one exercise (all from the same exercise), scored.

    Boilerplate: the starter's fingerprints, and those found in more than `common_limit`
    of the class's files. Files with (almost) nothing beyond that are left out: two
    unanswered exercises, or two answers of the code the statement dictates, are not copies.
    """
    import numpy as np

    copydetect = _copydetect()
    boilerplate = boilerplate_hashes(starter)
    first = [(text, _fingerprint(copydetect, text.code, boilerplate)) for text in texts]
    distinct = {text.code.strip(): fp for text, fp in first}       # identical files count once
    held = Counter(h for fp in distinct.values() for h in fp.hashes)
    limit = common_limit(len(distinct))
    common = np.array(sorted(h for h, n in held.items() if n > limit), dtype=np.int64)
    if len(common):
        boilerplate = np.union1d(boilerplate, common)
    prints = []
    for text, fp in first:
        if len(common):
            fp = _fingerprint(copydetect, text.code, boilerplate)
        n = len(fp.hashes)
        if n >= MIN_FINGERPRINTS:
            prints.append(_Fingerprint(text, fp, n))
    prints.sort(key=lambda p: p.text.student)
    pairs = []
    for left, right in itertools.combinations(prints, 2):
        overlap, (sim_a, sim_b), (slices_a, slices_b) = copydetect.compare_files(left.fp, right.fp)
        if overlap <= 0:
            continue
        sim_a, sim_b = min(1.0, float(sim_a)), min(1.0, float(sim_b))
        pairs.append(CodePair(left.text.exercise, left.text.student, right.text.student,
                              round(max(sim_a, sim_b), 4), round(sim_a, 4), round(sim_b, 4),
                              _slices(slices_a), _slices(slices_b)))
    return pairs


def read_texts(students: Sequence[StudentFiles], exercise: str) -> tuple[list[CodeText], list[SkippedFile]]:
    """Each student's code for `exercise` (students: runners.batch.StudentFiles)."""
    texts, skipped = [], []
    for student in students:
        path = student.files.get(exercise)
        if path is None:
            continue
        try:
            code = read_code(path)
        except SubmissionError as exc:
            skipped.append(SkippedFile(student.key, exercise, path.name, exc.msg))
            continue
        except (OSError, ValueError, UnicodeError) as exc:   # defensive: never lose the class for a file
            why = f"{type(exc).__name__}: {exc}"
            skipped.append(SkippedFile(student.key, exercise, path.name,
                                       Msg(f"no se pudo leer ({why})", f"could not be read ({why})")))
            continue
        texts.append(CodeText(student.key, student.display, student.file_label, exercise, path.name, code))
    return texts, skipped
