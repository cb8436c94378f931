"""The student's self-check table in a terminal (plain text; colour only on a tty)."""

from __future__ import annotations

import sys
import textwrap

from tfgrade.engine.results import ExerciseResult
from tfgrade.i18n import Lang

SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–", "not_applicable": "∅"}
COLOURS = {"passed": "32", "failed": "31", "error": "31", "skipped": "33", "not_applicable": "36"}
STATUS_WORDS = {
    "passed": ("superada", "passed"), "failed": ("fallida", "failed"), "error": ("error", "error"),
    "skipped": ("no evaluada", "not evaluated"), "not_applicable": ("no aplica", "not applicable"),
}


def _symbol(status: str, colour: bool) -> str:
    sym = SYMBOLS.get(status, "?")
    return f"\033[{COLOURS.get(status, '0')}m{sym}\033[0m" if colour else sym


def _fmt(points: float) -> str:
    return f"{points:g}"


def render_exercise(result: ExerciseResult, lang: Lang, isolation: str, colour: bool | None = None) -> str:
    colour = sys.stdout.isatty() if colour is None else colour
    es = lang == "es"
    lines = [f"{result.exercise} — {result.title.get(lang)}   "
             f"({'archivo' if es else 'file'}: {result.source or '-'}; "
             f"{'aislamiento' if es else 'isolation'}: {isolation})"]
    if result.message:
        lines.append("  " + result.message.get(lang))
    for w in result.warnings:
        lines.append(("  aviso: " if es else "  warning: ") + w.get(lang))
    for check in result.checks:
        pts = f"{_fmt(check.points)}/{_fmt(check.max_points)}"
        if check.status == "not_applicable":
            pts = f"–/{_fmt(check.max_points)}"
        lines.append(f" {_symbol(check.status, colour)} {pts:>7}  {check.title.get(lang)}")
        text = check.feedback.get(lang)
        if text and check.status != "passed":
            for line in textwrap.wrap(text, 88):
                lines.append(" " * 12 + line)
    score, max_score = result.score, result.max_score
    lines.append(("Puntos: " if es else "Points: ") + f"{_fmt(score)}/{_fmt(max_score)}")
    if result.hidden_points:
        lines.append(f"  + {_fmt(result.hidden_points)} " + (
            "puntos en comprobaciones ocultas, que se califican al entregar" if es
            else "points in hidden checks, graded when you hand in"))
    if result.output:
        head = "Tu salida (stdout/stderr):" if es else "Your output (stdout/stderr):"
        out = result.output if len(result.output) < 1500 else result.output[:1500] + "\n[…]"
        lines += [head] + ["  | " + line for line in out.splitlines()[:30]]
    return "\n".join(lines)
