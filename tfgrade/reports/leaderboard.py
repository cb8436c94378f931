"""The leaderboard: held-out figures ranked under pseudonyms, Kaggle-style.

Where each part comes from (docs/SECURITY.md, "verify, don't believe"):
- the figures are the `leaderboard` details of the held-out checks
  (tfgrade.checklib.learning.leaderboard_details): computed on this side from the held-out
  labels and the clean process's predictions, on a public and a private part of the held-out
  rows drawn from the course seed. Nothing the student's process says reaches a board.
- the names: a student may choose one with a module-level string literal in their file,
  `LEADERBOARD_NAME = "Los Tensores"`, read here from the source text with `ast` (never
  executed); a call, an f-string, a concatenation or a name assigned anywhere but at module
  level is ignored. Otherwise, or when two students choose the same name, or a name that is
  a classmate's real name or key, the name is generated from an HMAC of the course's salt
  (default: its seed) and the student's key: "Vega Puma 17".
- the deadline: before it (or with no deadline known) the board ranks by the public figure
  and shows only that; from it on, by the private figure, showing both.

Outputs: OUT/leaderboard.json (names, configuration, deadline, the board: instructors only),
the class report's section (real names beside pseudonyms, both figures), OUT/leaderboard.html
(pseudonyms and what students may see: safe to publish), and Gradescope's `leaderboard`
entries (the public figure only).
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jinja2 import Environment

from tfgrade.catalogue import GRADER
from tfgrade.engine.results import ExerciseResult, SubmissionResult, write_json_atomic, write_text_atomic
from tfgrade.i18n import Lang, Msg
from tfgrade.pack.course import Course
from tfgrade.pack.leaderboard import LeaderboardConfig
from tfgrade.reports.formatting import fmt_date, fmt_num
from tfgrade.reports.labels import label, labels
from tfgrade.reports.templating import page_context, template_env

if TYPE_CHECKING:
    from tfgrade.runners.batch import StudentFiles

NAME_CONSTANT = "LEADERBOARD_NAME"
MAX_NAME_CHARS = 30
BOARD_FILE = "leaderboard.json"
PAGE_FILE = "leaderboard.html"
BOARD_VERSION = 1
DETAILS_KEY = "leaderboard"        # tfgrade.checklib.learning.LEADERBOARD_DETAILS

# Generated names: words written the same in Spanish and English (stars, animals).
STARS = ("Altair", "Antares", "Aldebaran", "Betelgeuse", "Capella", "Castor", "Deneb", "Lyra", "Mira",
         "Orion", "Polaris", "Pollux", "Procyon", "Regulus", "Rigel", "Sirius", "Spica", "Vega", "Draco",
         "Andromeda")
ANIMALS = ("Puma", "Jaguar", "Panda", "Koala", "Coyote", "Llama", "Alpaca", "Tapir", "Orca", "Iguana",
           "Kiwi", "Dingo", "Yak", "Okapi", "Cobra", "Mamba", "Boa", "Anaconda", "Chinchilla", "Condor")


# --------------------------------------------------------------------------- names


def clean_name(raw: object) -> str | None:
    """A chosen name as it may be shown: a string, NFKC, no control or format characters
    (no bidi overrides, no zero-width tricks), one space between words, at most
    MAX_NAME_CHARS, with at least one letter or digit; else None. Markup stays text: every
    page escapes it."""
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw[: MAX_NAME_CHARS * 8])
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category.startswith("Z") or ch.isspace():
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(ch)
    name = " ".join("".join(kept).split())[:MAX_NAME_CHARS].strip()
    return name if any(ch.isalnum() for ch in name) else None


def chosen_name(source: str) -> str | None:
    """`LEADERBOARD_NAME = "…"` at module level, read from the source text (never run).

    The last module-level assignment (a notebook's cells included) decides, as it would at
    run time: a string literal is the name; anything else there (a call, an f-string,
    `"a" + "b"`, a tuple target) means no chosen name: what it would be is known only by
    running it."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    value: object = None
    for node in _top_level(tree.body):
        assigned: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, assigned = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign):
            targets, assigned = [node.target], node.value
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        else:
            continue
        plain = any(isinstance(t, ast.Name) and t.id == NAME_CONSTANT for t in targets)
        nested = any(isinstance(n, ast.Name) and n.id == NAME_CONSTANT
                     for t in targets if not isinstance(t, ast.Name) for n in ast.walk(t))
        if nested or (plain and isinstance(node, ast.AugAssign)):
            value = None
        elif plain:
            value = assigned.value if isinstance(assigned, ast.Constant) and isinstance(assigned.value, str) else None
    return clean_name(value)


def _top_level(body: Sequence[ast.stmt]) -> Iterable[ast.stmt]:
    """Module-level statements, a top-level `try:` body included: the intake wraps each
    notebook cell in one (tfgrade.intake.notebooks), and the cell's code still runs at module level."""
    for node in body:
        if isinstance(node, ast.Try):
            yield from _top_level(node.body)
        else:
            yield node


def generated_name(key: str, secret: bytes, attempt: int = 0) -> str:
    """"Vega Puma 17": from an HMAC of the student's key, so it says nothing of the key to
    whoever lacks the secret, and is the same on every run."""
    digest = hmac.new(secret, f"{attempt}\x00{key}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    star = STARS[int.from_bytes(digest[0:4], "big") % len(STARS)]
    animal = ANIMALS[int.from_bytes(digest[4:8], "big") % len(ANIMALS)]
    return f"{star} {animal} {10 + int.from_bytes(digest[8:12], 'big') % 90}"


def name_secret(config: LeaderboardConfig, seed: int) -> bytes:
    """The key of the generated names: the course's salt, else its seed (see docs/SECURITY.md)."""
    return (config.salt if config.salt else f"tfgrade-leaderboard:{seed}").encode("utf-8")


@dataclass(frozen=True)
class Pseudonym:
    name: str
    chosen: bool


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def assign_names(chosen: Mapping[str, str | None], secret: bytes, *, mode: str = "chosen",
                 reserved: Iterable[str] = ()) -> dict[str, Pseudonym]:
    """A unique pseudonym for every student key.

    A chosen name is kept when no other student chose it (case and spacing aside) and it is
    no classmate's real name or key (`reserved`); two students who choose the same name both
    get generated ones, so nobody can take a name from someone else by choosing it first.
    Generated names avoid every name already given, trying the next HMAC on a clash."""
    wanted = {key: (clean_name(name) if mode == "chosen" else None) for key, name in chosen.items()}
    counts: dict[str, int] = {}
    for name in wanted.values():
        if name is not None:
            counts[_fold(name)] = counts.get(_fold(name), 0) + 1
    forbidden = {_fold(r) for r in reserved if r}
    out: dict[str, Pseudonym] = {}
    taken: set[str] = set()
    for key in sorted(wanted):
        name = wanted[key]
        if name is not None and counts[_fold(name)] == 1 and _fold(name) not in forbidden:
            out[key] = Pseudonym(name, True)
            taken.add(_fold(name))
    for key in sorted(wanted):
        if key in out:
            continue
        attempt = 0
        generated = generated_name(key, secret, attempt)
        while _fold(generated) in taken or _fold(generated) in forbidden:
            attempt += 1
            generated = generated_name(key, secret, attempt)
        out[key] = Pseudonym(generated, False)
        taken.add(_fold(generated))
    return out


def student_chosen_name(files: Mapping[str, Path], folder: Path, exercise_order: Sequence[str]) -> str | None:
    """The first chosen name found in a student's files, in the course's exercise order;
    a notebook is read through the intake (its extracted code)."""
    from tfgrade.errors import SubmissionError
    from tfgrade.intake.source import read_submission

    for ex_id in exercise_order:
        path = files.get(ex_id)
        if path is None:
            continue
        try:
            text = read_submission(path, folder).text
        except (SubmissionError, OSError, ValueError):
            continue
        name = chosen_name(text)
        if name is not None:
            return name
    return None


# --------------------------------------------------------------------------- figures and ranks


@dataclass(frozen=True)
class Figures:
    """One student's figures on one exercise, as the held-out check recorded them."""

    metric: str
    higher_is_better: bool
    public: float | None
    private: float | None
    whole: float | None
    flagged: bool = False        # implausibly good, or tampering blocked: not on the public board


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def figures_of(ex: ExerciseResult) -> Figures | None:
    """The exercise's leaderboard details, read defensively (a result file is data)."""
    for check in ex.checks:
        raw = check.details.get(DETAILS_KEY)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("higher_is_better"), bool):
            continue
        flagged = any(c.tampering for c in ex.checks) or any(c.details.get("implausible") for c in ex.checks)
        return Figures(str(raw.get("metric", "")), bool(raw["higher_is_better"]), _number(raw.get("public")),
                       _number(raw.get("private")), _number(raw.get("whole")), flagged)
    return None


T = TypeVar("T")


def ranked(entries: Sequence[T], value: Callable[[T], float | None], higher_is_better: bool,
           name: Callable[[T], str]) -> list[tuple[int | None, T]]:
    """Entries with a value, best first, with competition ranks (1, 2, 2, 4): equal values
    (to 6 decimals) share a rank and are listed by name."""
    valued = [(round(v, 6), e) for e in entries if (v := value(e)) is not None]
    valued.sort(key=lambda pair: (-pair[0] if higher_is_better else pair[0], name(pair[1]).casefold()))
    out: list[tuple[int | None, T]] = []
    for i, (v, entry) in enumerate(valued):
        rank = i + 1 if i == 0 or v != valued[i - 1][0] else out[-1][0]
        out.append((rank, entry))
    return out


def is_final(due: datetime | None, now: datetime) -> bool:
    """After the deadline the private figure ranks; with no deadline known it never does."""
    if due is None:
        return False
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now >= due


@dataclass(frozen=True)
class Entry:
    key: str
    student: str          # the real name: instructors only
    pseudonym: str
    chosen: bool
    figures: Figures


@dataclass(frozen=True)
class Row:
    rank: int | None      # None: a flagged figure, listed unranked (instructors only)
    pseudonym: str
    student: str          # "" on the students' page
    public: str
    private: str          # "" where students may not see it yet
    whole: str            # "" on the students' page
    flagged: bool = False


@dataclass(frozen=True)
class BoardTable:
    exercise: str
    title: str
    metric: str
    rows: list[Row]


@dataclass(frozen=True)
class LeaderboardView:
    instructor: bool
    final: bool
    show_private: bool
    due: str
    note: str
    tables: list[BoardTable] = field(default_factory=list)


def metric_label(metric: str, lang: Lang) -> str:
    return label(f"lb_metric_{metric}", lang) if metric in ("accuracy", "mae") else metric


# --------------------------------------------------------------------------- the board


@dataclass(frozen=True)
class Board:
    """OUT/leaderboard.json: the configuration, the deadline and everyone's pseudonym."""

    config: LeaderboardConfig
    names: dict[str, Pseudonym]
    due: datetime | None = None

    @classmethod
    def for_class(cls, students: Sequence[StudentFiles], config: LeaderboardConfig, seed: int,
                  exercise_order: Sequence[str], due: datetime | None = None) -> Board:
        """Names for a class (runners.batch.StudentFiles: key, name, student_id, files, folder)."""
        order = [e for e in exercise_order if config.shows(e)]
        chosen = {s.key: (student_chosen_name(s.files, s.folder, order) if config.names == "chosen" else None)
                  for s in students}
        reserved = [text for s in students for text in (s.key, s.name, s.student_id or "", s.display)]
        names = assign_names(chosen, name_secret(config, seed), mode=config.names, reserved=reserved)
        return cls(config, names, due)

    def entries(self, results: Sequence[SubmissionResult]) -> dict[str, tuple[Msg, list[Entry]]]:
        """Exercise id -> (its title in results, the entries of students with figures)."""
        out: dict[str, tuple[Msg, list[Entry]]] = {}
        for r in results:
            pseudonym = self.names.get(r.key)
            if pseudonym is None:
                continue          # a student the board was not built for
            for ex in r.exercises:
                figures = figures_of(ex) if self.config.shows(ex.exercise) else None
                if figures is None:
                    continue
                title, entries = out.setdefault(ex.exercise, (ex.title, []))
                entries.append(Entry(r.key, r.display_name, pseudonym.name, pseudonym.chosen, figures))
        return dict(sorted(out.items()))

    def view(self, results: Sequence[SubmissionResult], lang: Lang, *, instructor: bool,
             now: datetime | None = None) -> LeaderboardView:
        """The board for the class report (`instructor`) or for the students' page.

        The students' view is built without real names, keys or the whole-set figure, and
        without the private figure before the deadline: what it does not hold, no page shows."""
        final = is_final(self.due, now or datetime.now(UTC))
        show_private = instructor or final
        tables = []
        for ex_id, (title, entries) in self.entries(results).items():
            higher = entries[0].figures.higher_is_better if entries else True
            by: Callable[[Entry], float | None] = ((lambda e: e.figures.private) if final
                                                  else (lambda e: e.figures.public))
            # Flagged figures are not ranked; instructors see them after the board, unranked.
            board = ranked([e for e in entries if not e.figures.flagged], by, higher, lambda e: e.pseudonym)
            if instructor:
                board += [(None, e) for _, e in ranked([e for e in entries if e.figures.flagged], by, higher,
                                                        lambda e: e.pseudonym)]
            rows = [Row(rank, e.pseudonym, e.student if instructor else "",
                        fmt_num(e.figures.public, lang, 3),
                        fmt_num(e.figures.private, lang, 3) if show_private else "",
                        fmt_num(e.figures.whole, lang, 3) if instructor else "",
                        e.figures.flagged)
                    for rank, e in board]
            metric = metric_label(entries[0].figures.metric, lang) if entries else ""
            tables.append(BoardTable(ex_id, title.get(lang), metric, rows))
        share = fmt_num(100.0 * self.config.public_share, lang, 0)
        note = GRADER("lb_note_final" if final else "lb_note_provisional", share=share).get(lang)
        return LeaderboardView(instructor, final, show_private,
                               fmt_date(self.due.isoformat(), lang) if self.due is not None else "", note, tables)

    # -- the file ----------------------------------------------------------------------
    def to_json(self, results: Sequence[SubmissionResult] = ()) -> dict[str, Any]:
        board = {ex_id: [{"key": e.key, "name": e.pseudonym, "public": e.figures.public,
                          "private": e.figures.private, "whole": e.figures.whole, "flagged": e.figures.flagged}
                         for e in entries]
                 for ex_id, (_, entries) in self.entries(results).items()}
        return {"version": BOARD_VERSION, "config": self.config.to_json(),
                "due": self.due.isoformat() if self.due is not None else None,
                "names": {k: {"name": p.name, "chosen": p.chosen} for k, p in sorted(self.names.items())},
                "board": board}

    def save(self, out_dir: Path, results: Sequence[SubmissionResult] = ()) -> Path:
        path = Path(out_dir) / BOARD_FILE
        write_json_atomic(path, self.to_json(results))
        return path

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Board:
        if data.get("version") != BOARD_VERSION:
            raise ValueError(f"leaderboard version {data.get('version')!r}")
        names = {str(k): Pseudonym(str(v["name"]), bool(v.get("chosen"))) for k, v in dict(data["names"]).items()}
        due = datetime.fromisoformat(str(data["due"])) if data.get("due") else None
        return cls(LeaderboardConfig.from_json(dict(data.get("config") or {})), names, due)

    @classmethod
    def read(cls, out_dir: Path) -> Board | None:
        """OUT/leaderboard.json if there is one (and it reads); else None: no board."""
        path = Path(out_dir) / BOARD_FILE
        if not path.is_file():
            return None
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def write_page(self, results: Sequence[SubmissionResult], out_dir: Path, lang: Lang,
                   env: Environment | None = None, now: datetime | None = None) -> Path:
        """OUT/leaderboard.html: pseudonyms and the figures students may see."""
        path = Path(out_dir) / PAGE_FILE
        write_text_atomic(path, render_page(self.view(results, lang, instructor=False, now=now), lang, env))
        return path


def render_page(view: LeaderboardView, lang: Lang, env: Environment | None = None) -> str:
    env = env or template_env()
    context = page_context(lang, title=f"{labels(lang)['lb_title']} · {labels(lang)['tool']}")
    return env.get_template("leaderboard.html.j2").render(**context, lb=view)


# --------------------------------------------------------------------------- Gradescope


def gradescope_entries(result: SubmissionResult, config: LeaderboardConfig, lang: Lang) -> list[dict[str, Any]]:
    """Gradescope's `leaderboard` entries for one submission: the public figure of each
    exercise on the board (Gradescope shows them under the pseudonym the student gives it)."""
    out: list[dict[str, Any]] = []
    for ex in result.exercises:
        figures = figures_of(ex) if config.shows(ex.exercise) else None
        if figures is None or figures.public is None or figures.flagged:
            continue
        out.append({"name": f"{ex.exercise} · {metric_label(figures.metric, lang)} ({label('lb_public', lang)})",
                    "value": round(figures.public, 4), "order": "desc" if figures.higher_is_better else "asc"})
    return out


def deadline_of(course: Course) -> datetime | None:
    """The course's deadline (`Course.deadline.due`, timezone-aware) where the course has one."""
    return course.deadline.due if course.deadline is not None else None


def write_for_class(out_dir: Path, students: Sequence[StudentFiles], results: Sequence[SubmissionResult],
                    course: Course) -> Path | None:
    """`tfgrade grade`: the class's names (from their files) and board, to OUT/leaderboard.json;
    None when the course has no leaderboard."""
    if course.leaderboard is None:
        return None
    board = Board.for_class(students, course.leaderboard, course.seed, list(course.ids), deadline_of(course))
    return board.save(out_dir, results)
