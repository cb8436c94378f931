"""Turn a check's free-form `details` dict into plain view objects the templates can show.

Conventional keys a check may put in `CheckResult.details`, and how they are shown:
- `expected`, `found`: any JSON; two dicts are compared key by key, anything else side by side
- `layers`: the model summary, a list of {name, type, units, activation, output_shape, params}
- `expected_layers`: the same shape (keys may be omitted); shown beside `layers`, differences marked
- `curves`: {"loss": [...], "accuracy": [...], "val_loss": [...], ...} per epoch -> plots
- `confusion_matrix`: {"labels": [...], "counts": [[...], ...]} -> a heat-map table
- `device` (str), `matmul_count` (int): M^n's result device and number of matrix products
- `benchmark`: a list of row dicts (or of lists) -> a table
- `student_error`: {"type", "message", "frames": [str | {file, line, function, code}]}
- `tampering`: what the sandbox blocked (truthy = the class report flags "tampering blocked")
- `grader_error`: traceback text of the grader itself: instructors only (class report)
Anything else is shown as "other data" (keys starting with "_" are not shown). Every value
may come from student code, so nothing here trusts a type: a malformed value degrades to its
JSON text, never to an exception.

`grader_error` (a traceback of the grader itself) is deliberately never put in a view: it is
for instructors and only the class report reads it (see class_report.grader_errors).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfgrade.i18n import Lang
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

KNOWN_KEYS = frozenset({
    "expected", "found", "layers", "expected_layers", "curves", "confusion_matrix", "device",
    "matmul_count", "benchmark", "student_error", "tampering", "grader_error",
})
LAYER_COLUMNS = ("name", "type", "units", "activation", "output_shape", "params")
MAX_LAYERS = 200
MAX_TABLE_ROWS = 200
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
class TableView:
    columns: list[str]
    rows: list[list[str]]


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
    device: str | None = None
    matmul_count: str | None = None
    benchmark: TableView | None = None
    student_error: StudentErrorView | None = None
    tampering: str | None = None
    extras: list[tuple[str, ValueView]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((
            self.expected, self.found, self.comparison, self.layers, self.expected_layers, self.curves_imgs,
            self.curves_failed, self.confusion, self.device, self.matmul_count, self.benchmark,
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


def table_view(value: Any, lang: Lang) -> TableView | None:
    """A list of row dicts (columns = union of keys, first-seen order) or a list of lists."""
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
        return None
    rows = list(value[:MAX_TABLE_ROWS])
    if all(isinstance(r, Mapping) for r in rows):
        columns: list[str] = []
        for r in rows:
            columns += [str(k) for k in r if str(k) not in columns]
        return TableView(columns, [[fmt_value(r.get(c), lang) if is_scalar(r.get(c)) else to_pretty_json(r.get(c), 300)
                                    for c in columns] for r in rows])
    if all(isinstance(r, Sequence) and not isinstance(r, str) for r in rows):
        return TableView([], [[fmt_value(c, lang) if is_scalar(c) else to_pretty_json(c, 300) for c in r] for r in rows])
    return None


def _frame_text(frame: Any) -> str:
    if isinstance(frame, Mapping):
        file = frame.get("file") or frame.get("filename") or "?"
        line = frame.get("line") or frame.get("lineno") or "?"
        func = frame.get("function") or frame.get("name") or "?"
        code = frame.get("code") or frame.get("text") or ""
        text = f'File "{file}", line {line}, in {func}'
        return f"{text}\n    {str(code).strip()}" if code else text
    return str(frame)


def student_error_view(value: Any) -> StudentErrorView | None:
    if isinstance(value, str):
        return StudentErrorView("", trim_text(value, MAX_MESSAGE_CHARS)[0], [])
    if not isinstance(value, Mapping):
        return None
    frames_raw = value.get("frames") or []
    if isinstance(frames_raw, str):
        frames = [frames_raw]
    elif isinstance(frames_raw, Sequence):
        frames = [_frame_text(f) for f in list(frames_raw)[-MAX_FRAMES:]]
    else:
        frames = []
    frames = [trim_text(f, 600)[0] for f in frames]
    return StudentErrorView(str(value.get("type") or ""), trim_text(str(value.get("message") or ""),
                                                                    MAX_MESSAGE_CHARS)[0], frames)


def details_view(details: Mapping[str, Any], lang: Lang) -> DetailsView:
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
    if details.get("device") is not None:
        view.device = trim_text(str(details["device"]), 200)[0]
    if details.get("matmul_count") is not None:
        view.matmul_count = fmt_value(details["matmul_count"], lang)
    view.benchmark = table_view(details.get("benchmark"), lang)
    if details.get("student_error") is not None:
        view.student_error = student_error_view(details["student_error"])
    tampering = details.get("tampering")
    if tampering:
        view.tampering = trim_text(tampering if isinstance(tampering, str) else to_pretty_json(tampering),
                                   MAX_MESSAGE_CHARS)[0]
    for key, value in details.items():
        if key not in KNOWN_KEYS and not str(key).startswith("_"):
            view.extras.append((str(key), value_view(value, lang)))
    # A key that was present but unusable still deserves to be seen, as data.
    for key, shown in (("layers", view.layers), ("expected_layers", view.expected_layers),
                       ("confusion_matrix", view.confusion), ("benchmark", view.benchmark)):
        if details.get(key) is not None and shown is None:
            view.extras.append((key, value_view(details[key], lang)))
    return view


def has_tampering(details: Mapping[str, Any]) -> bool:
    return bool(details.get("tampering"))
