"""Turn a check's display `details` (and its typed signals) into plain view objects the
templates can show.

Keys the exercises and tfgrade.checklib record in `CheckResult.details`, and how they are shown:
- `expected`, `found`: any JSON; two dicts are compared key by key, anything else side by side
- `layers`: the model summary, `LayerSpec` rows {name, type, units, filters, kernel_size, strides,
  pool_size, activation, output_shape, params}; `expected_layers` (same shape, keys may be
  omitted) is shown beside it with the differences marked
- `curves`: {"loss": [...], "accuracy": [...], "val_loss": [...], ...} per epoch -> plots
- `confusion_matrix`: {"labels": [...], "counts": [[...], ...]} -> a heat-map table
- the measured facts of FACTS (ex05's `device`, `products`, `limit`, `counted_by`, `seconds`,
  `matmul_seconds`, `products_needed`, `fraction`, `max_rel_error`; `duration_s`, `n_params`, the
  compile settings, held-out `accuracy`/`mae`/`n_test`/`n_invalid`, ex04's `w`/`b`…) -> labelled rows
- `self_reported_<what>`: what the student's own process said about itself (counters): shown
  apart, labelled as self-reported, because they are worth no points
Anything else is shown as "other data" (keys starting with "_" are not shown, nor `leaderboard`:
the board's figures, whose private part no student may see before the deadline). Values may
carry text from student code, so nothing here trusts a type: a malformed value degrades to its
JSON text, never to an exception.

The signals are fields of the CheckResult, not details: `student_error` and `tampering` are
passed in and shown; `grader_error` (a traceback of the grader itself) is deliberately never
put in a view: it is for instructors and only the class report reads it
(see class_report.grader_errors).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfgrade.engine.results import ErrorInfo, Frame
from tfgrade.i18n import Lang, Msg
from tfgrade.reports.formatting import (
    MAX_FRAMES,
    MAX_MESSAGE_CHARS,
    fmt_int,
    fmt_num,
    fmt_value,
    is_scalar,
    to_pretty_json,
    trim_text,
)
from tfgrade.reports.labels import labels
from tfgrade.reports.plots import curves_plots

SELF_REPORTED = "self_reported_"
LAYER_COLUMNS = ("name", "type", "units", "filters", "kernel_size", "strides", "pool_size", "activation",
                 "output_shape", "params")
NUMERIC_COLUMNS = frozenset({"#", "units", "filters", "params"})
MAX_LAYERS = 200
MAX_CLASSES = 50


@dataclass(frozen=True)
class ValueView:
    text: str
    block: bool          # True: show in <pre>; False: inline <code>


@dataclass(frozen=True)
class CompareRow:
    key: str
    expected: str
    found: str
    differs: bool


@dataclass(frozen=True)
class Cell:
    text: str
    diff: bool = False   # differs from the other side of a comparison


@dataclass(frozen=True)
class LayerTable:
    columns: list[tuple[str, str]]       # (key, label)
    rows: list[list[Cell]]
    total_params: str | None


@dataclass(frozen=True)
class Fact:
    """One measured value, labelled: `<dt>label</dt><dd>text</dd>`."""

    key: str
    label: str
    text: str
    code: bool = False   # shown as <code> (a device name, a loss name)


@dataclass(frozen=True)
class ConfusionView:
    labels: list[str]
    rows: list[list[tuple[str, str]]]    # (count, inline style with the heat colour)
    accuracy: str | None


@dataclass(frozen=True)
class StudentErrorView:
    type: str
    message: str
    frames: list[str]


@dataclass
class DetailsView:
    expected: ValueView | None = None
    found: ValueView | None = None
    comparison: list[CompareRow] = field(default_factory=list)   # expected/found dicts, key by key
    layers: LayerTable | None = None
    expected_layers: LayerTable | None = None
    curves_imgs: list[str] = field(default_factory=list)
    curves_failed: bool = False
    confusion: ConfusionView | None = None
    facts: list[Fact] = field(default_factory=list)
    self_reported: list[Fact] = field(default_factory=list)
    student_error: StudentErrorView | None = None
    tampering: str | None = None
    extras: list[tuple[str, ValueView]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((
            self.expected, self.found, self.comparison, self.layers, self.expected_layers, self.curves_imgs,
            self.curves_failed, self.confusion, self.facts, self.self_reported,
            self.student_error, self.tampering, self.extras,
        ))


def value_view(value: Any, lang: Lang) -> ValueView:
    if isinstance(value, str):
        text, _ = trim_text(value, MAX_MESSAGE_CHARS)
        return ValueView(text, "\n" in text or len(text) > 80)
    if is_scalar(value):
        return ValueView(fmt_value(value, lang), False)
    return ValueView(to_pretty_json(value), True)


def _compact(value: Any, lang: Lang) -> str:
    if is_scalar(value):
        return fmt_value(value, lang)
    return trim_text(json.dumps(value, ensure_ascii=False, default=repr), 300)[0]


def comparison_rows(expected: Any, found: Any, lang: Lang) -> list[CompareRow]:
    """Expected and found dicts side by side, key by key (compile settings, fitted w and b…)."""
    if not (isinstance(expected, Mapping) and isinstance(found, Mapping)) or len(expected) + len(found) > 80:
        return []
    keys = [str(k) for k in expected] + [str(k) for k in found if str(k) not in map(str, expected)]
    exp = {str(k): v for k, v in expected.items()}
    got = {str(k): v for k, v in found.items()}
    return [CompareRow(k, _compact(exp[k], lang) if k in exp else "—", _compact(got[k], lang) if k in got else "—",
                       k in exp and (k not in got or not _same(exp[k], got[k])))
            for k in keys]


def _layer_rows(value: Any) -> list[Mapping[str, Any]] | None:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return None
    rows = [row for row in value[:MAX_LAYERS] if isinstance(row, Mapping)]
    return rows or None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return bool(a == b)


def layer_tables(found: Any, expected: Any, lang: Lang) -> tuple[LayerTable | None, LayerTable | None]:
    """The student's layers and the expected ones, with differing cells marked on both sides.

    A cell is compared only where the expected layer says something (expected layers often
    give type/units/activation and no name); a missing or extra layer is marked whole.
    """
    t = labels(lang)
    mine, theirs = _layer_rows(found), _layer_rows(expected)

    def differs(i: int, key: str) -> bool:
        if mine is None or theirs is None:
            return False
        if i >= len(mine) or i >= len(theirs):
            return True
        want = theirs[i].get(key)
        return want is not None and (mine[i].get(key) is None or not _same(mine[i].get(key), want))

    tables: list[LayerTable | None] = []
    for rows in (mine, theirs):
        if rows is None:
            tables.append(None)
            continue
        keys = [k for k in LAYER_COLUMNS if any(r.get(k) is not None for r in rows)]
        columns = [("#", "#")] + [(k, t[f"col_{k}"]) for k in keys]
        body = [[Cell(str(i + 1), differs(i, "#"))] + [Cell(fmt_value(row.get(k), lang), differs(i, k)) for k in keys]
                for i, row in enumerate(rows)]
        params = [p for r in rows if isinstance(p := r.get("params"), int) and not isinstance(p, bool)]
        total = fmt_int(sum(params), lang) if params and len(params) == len(rows) else None
        tables.append(LayerTable(columns, body, total))
    return tables[0], tables[1]


def _heat_style(fraction: float, diagonal: bool) -> str:
    """Green for correct predictions, red for confusions; stronger for larger shares of the row."""
    if fraction <= 0:
        return "background-color: #ffffff; color: #cbd5e1"
    alpha = round(0.12 + 0.78 * min(1.0, fraction), 3)
    rgb = "22,163,74" if diagonal else "220,38,38"
    ink = "#ffffff" if alpha >= 0.55 else "#1f2937"
    return f"background-color: rgba({rgb},{alpha}); color: {ink}"


def confusion_view(value: Any, lang: Lang) -> ConfusionView | None:
    if not isinstance(value, Mapping):
        return None
    counts = value.get("counts")
    if not isinstance(counts, Sequence) or not counts or len(counts) > MAX_CLASSES:
        return None
    try:
        matrix = [[int(c) for c in row] for row in counts]
    except (TypeError, ValueError):
        return None
    n = len(matrix)
    if any(len(row) != n for row in matrix):
        return None
    raw_labels = value.get("labels")
    names = ([str(x) for x in raw_labels] if isinstance(raw_labels, Sequence)
             and not isinstance(raw_labels, str) and len(raw_labels) == n else [str(i) for i in range(n)])
    rows = []
    for i, row in enumerate(matrix):
        total = sum(row)
        rows.append([(str(c), _heat_style(c / total if total else 0.0, i == j)) for j, c in enumerate(row)])
    grand = sum(map(sum, matrix))
    accuracy = fmt_num(100.0 * sum(matrix[i][i] for i in range(n)) / grand, lang, 1) + " %" if grand else None
    return ConfusionView(names, rows, accuracy)


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(value)
    return float(value)


def _count(value: Any, lang: Lang) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return fmt_int(value, lang)


def _seconds(value: Any, lang: Lang) -> str:
    v = _num(value)
    return fmt_num(v * 1e3, lang, 1) + " ms" if abs(v) < 1 else fmt_num(v, lang, 2) + " s"


def _percent(value: Any, lang: Lang) -> str:
    return fmt_num(100.0 * _num(value), lang, 0) + " %"


def _sci(value: Any, lang: Lang) -> str:
    text = f"{_num(value):.1e}"
    return text.replace(".", ",") if lang == "es" else text


def _decimal(value: Any, lang: Lang) -> str:
    return fmt_num(_num(value), lang, 3)


def _text(value: Any, lang: Lang) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_compact(v, lang) for v in value)
    return _compact(value, lang)


def _counted_by(value: Any, lang: Lang) -> str:
    return labels(lang)[f"counted_by_{value}"] if value in ("graph", "timing") else _compact(value, lang)


def _message(value: Any, lang: Lang) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(value)
    return trim_text(Msg.from_json(value).get(lang), MAX_MESSAGE_CHARS)[0]


# The facts checks record, in no particular order: key -> (label key, formatter, as code).
FACTS: dict[str, tuple[str, Callable[[Any, Lang], str], bool]] = {
    "device": ("device", _text, True),
    "products": ("d_products", _count, False),
    "limit": ("d_limit", _count, False),
    "counted_by": ("d_counted_by", _counted_by, False),
    "products_needed": ("d_products_needed", _count, False),
    "seconds": ("d_seconds", _seconds, False),
    "matmul_seconds": ("d_matmul_seconds", _seconds, False),
    "fraction": ("d_fraction", _percent, False),
    "max_rel_error": ("d_max_rel_error", _sci, False),
    "duration_s": ("d_duration_s", _seconds, False),
    "w": ("d_w", _decimal, False),
    "w_true": ("d_w_true", _decimal, False),
    "b": ("d_b", _decimal, False),
    "b_true": ("d_b_true", _decimal, False),
    "n_params": ("d_n_params", _count, False),
    "optimizer": ("d_optimizer", _text, True),
    "learning_rate": ("d_learning_rate", _decimal, False),
    "loss": ("d_loss", _text, True),
    "metrics": ("d_metrics", _text, True),
    "accuracy": ("d_accuracy", _decimal, False),
    "mae": ("d_mae", _decimal, False),
    "n_test": ("d_n_test", _count, False),
    "n_invalid": ("d_n_invalid", _count, False),
    "epochs": ("d_epochs", _count, False),
    "fits": ("d_fits", _count, False),
    "public_held_out": ("d_public_held_out", _message, False),
}
# Self-reported counters with a label; any other `self_reported_<what>` shows `<what>`.
SELF_REPORTED_LABELS = frozenset({"session_runs", "fit_calls", "tape_gradients"})
SHOWN_APART = frozenset({"expected", "found", "layers", "expected_layers", "curves", "confusion_matrix"})
# Never shown with a check: the leaderboard's figures (its private part stays unseen until the
# deadline; the board has its own pages, reports.leaderboard).
NOT_SHOWN = frozenset({"leaderboard"})


def fact(key: str, value: Any, lang: Lang) -> Fact | None:
    """A known key's row; None for a key FACTS does not know or a value its formatter refuses."""
    spec = FACTS.get(key)
    if spec is None:
        return None
    label_key, formatter, code = spec
    try:
        text = "—" if value is None else formatter(value, lang)
    except (TypeError, ValueError, OverflowError):
        return None
    return Fact(key, labels(lang)[label_key], trim_text(text, 300)[0], code)


def self_reported_fact(key: str, value: Any, lang: Lang) -> Fact:
    what = key[len(SELF_REPORTED):]
    label = labels(lang)[f"sr_{what}"] if what in SELF_REPORTED_LABELS else what
    return Fact(key, label, _compact(value, lang))


def _frame_text(frame: Frame, lang: Lang) -> str:
    where = labels(lang)["frame_at"].format(line=frame.line if frame.line is not None else "?",
                                            function=frame.function or "?")
    return f"{where}\n    {frame.code.strip()}" if frame.code.strip() else where


def student_error_view(error: ErrorInfo, lang: Lang) -> StudentErrorView:
    frames = [trim_text(_frame_text(f, lang), 600)[0] for f in error.frames[-MAX_FRAMES:]]
    return StudentErrorView(trim_text(error.type, 200)[0], trim_text(error.message, MAX_MESSAGE_CHARS)[0], frames)


def details_view(details: Mapping[str, Any], lang: Lang, *, student_error: ErrorInfo | None = None,
                 tampering: str | None = None) -> DetailsView:
    """`details` as rows, tables and plots; `student_error` and `tampering` are the check's
    signals (CheckResult fields), shown when given."""
    t = labels(lang)
    view = DetailsView()
    view.comparison = comparison_rows(details.get("expected"), details.get("found"), lang)
    if not view.comparison:
        if "expected" in details:
            view.expected = value_view(details["expected"], lang)
        if "found" in details:
            view.found = value_view(details["found"], lang)
    view.layers, view.expected_layers = layer_tables(details.get("layers"), details.get("expected_layers"), lang)
    if details.get("curves") is not None:
        view.curves_imgs = curves_plots(details["curves"], t["epoch"], decimal_comma=lang == "es")
        view.curves_failed = not view.curves_imgs
    view.confusion = confusion_view(details.get("confusion_matrix"), lang)
    if student_error is not None and (student_error.type or student_error.message or student_error.frames):
        view.student_error = student_error_view(student_error, lang)   # a timeout's feedback says it all
    if tampering:
        view.tampering = trim_text(tampering, MAX_MESSAGE_CHARS)[0]
    for key, value in details.items():
        key = str(key)
        if key in SHOWN_APART or key in NOT_SHOWN or key.startswith("_"):
            continue
        if key.startswith(SELF_REPORTED):
            view.self_reported.append(self_reported_fact(key, value, lang))
        elif (row := fact(key, value, lang)) is not None:
            view.facts.append(row)
        else:
            view.extras.append((key, value_view(value, lang)))
    # A key that was present but unusable still deserves to be seen, as data.
    for key, shown in (("layers", view.layers), ("expected_layers", view.expected_layers),
                       ("confusion_matrix", view.confusion)):
        if details.get(key) is not None and shown is None:
            view.extras.append((key, value_view(details[key], lang)))
    return view
