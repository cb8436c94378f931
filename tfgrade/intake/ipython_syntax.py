"""IPython-only syntax in one notebook cell, rewritten line by line into plain Python.

The rewrite keeps one output line per input line, so a line number in the produced module
still points at the student's own line. A line is only looked at when it starts a logical
Python line (not inside a string, brackets or after a backslash), exactly where IPython
itself recognises `%magic`, `!shell` and `obj?`.

What happens to each form:
- `%time stmt`, `%timeit stmt`, `%prun stmt` (and `x = %time expr`): the statement runs once;
- harmless display/setup magics (`%matplotlib inline`, `%load_ext`, …): dropped silently;
- every other line magic, shell escapes (`!pip install`, `x = !ls`) and `?` help: replaced by
  `pass` (or an empty list / None for the assigned forms) and reported in `notes`;
- cell magics on the first line: `%%time`, `%%timeit`, `%%capture`, `%%prun` run their body,
  any other (`%%bash`, `%%writefile`, `%%html`…) skips the whole cell.
"""

from __future__ import annotations
import __future__

import re
from dataclasses import dataclass, field
from typing import Literal

# Magics whose statement is run once instead of being timed or profiled.
RUN_LINE_MAGICS = frozenset({"time", "timeit", "prun"})
# Magics that only change the display or the interactive session: nothing to warn about.
SILENT_LINE_MAGICS = frozenset({
    "matplotlib", "load_ext", "reload_ext", "unload_ext", "autoreload", "aimport", "config",
    "tensorflow_version", "precision", "tensorboard", "who", "whos", "who_ls", "pwd", "history",
    "lsmagic", "magic", "pdb", "xmode", "colors", "pprint", "autosave", "notebook",
})
# Cell magics whose body is ordinary Python that should run.
RUN_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
# Options of %timeit / %prun that take a separate value ("-n 10").
_OPTIONS_WITH_VALUE = frozenset({"-n", "-r", "-p", "-s", "-l", "-T", "-D"})

NoteKind = Literal["shell", "magic", "help"]

_MAGIC_NAME = re.compile(r"%{1,2}(\w*)")
_ASSIGNED_ESCAPE = re.compile(r"^(?P<lhs>[\w.\[\], ()*]+?)\s*=\s*(?P<esc>[!%])(?P<rest>.*)$")
_FUTURE_IMPORT = re.compile(r"^from\s+__future__\s+import\s+(?P<names>[\w\s,]+?)\s*(#.*)?$")


@dataclass(frozen=True)
class LineNote:
    """One line whose IPython meaning is lost while grading (1-based line inside the cell)."""

    line: int
    kind: NoteKind
    text: str
    magic: str = ""


@dataclass
class CellRewrite:
    """The cell as plain Python (same number of lines) and what was lost on the way."""

    lines: list[str]
    notes: list[LineNote] = field(default_factory=list)
    skipped_by: str | None = None  # the cell magic ("%%bash") that made us skip the whole cell
    future_features: list[str] = field(default_factory=list)


class _LogicalLineTracker:
    """Knows whether the next physical line starts a new logical Python line.

    A small scanner instead of `tokenize`, because the cell is not valid Python yet (the magics
    are still in it) and tokenize stops at the first oddity.
    """

    def __init__(self) -> None:
        self.quote: str | None = None  # the open string's delimiter
        self.depth = 0  # open brackets
        self.backslash = False  # previous line ended with a continuation backslash

    @property
    def at_line_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.backslash

    def feed(self, line: str) -> str:
        """Advance over one line; return its code with strings blanked and the comment dropped."""
        code: list[str] = []
        self.backslash = False
        i, n = 0, len(line)
        escaped_newline = False
        while i < n:
            char = line[i]
            if self.quote is not None:
                if char == "\\":
                    escaped_newline = i == n - 1
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                    code.append("S")
                    continue
                i += 1
                continue
            if char == "#":
                break
            if char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, i) else char
                i += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and i == n - 1:
                self.backslash = True
            code.append(char)
            i += 1
        if self.quote is not None and len(self.quote) == 1 and not escaped_newline:
            self.quote = None  # an unterminated one-line string: a syntax error compile() will report
        return "".join(code)


def _statement_after_options(args: str) -> str:
    """`-n 10 -r 3 f(x)` → `f(x)`: the statement a %timeit / %prun line would run."""
    words = args.strip().split(" ")
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in _OPTIONS_WITH_VALUE else 1
    return " ".join(words[i:]).strip()


def _dedent_like_ipython(lines: list[str]) -> list[str]:
    """IPython drops the first line's indentation from every line that starts with it."""
    first = next((line for line in lines if line.strip()), "")
    indent = first[: len(first) - len(first.lstrip())]
    if not indent:
        return lines
    return [line[len(indent):] if line.startswith(indent) else line for line in lines]


def _cell_magic(lines: list[str]) -> tuple[int, str] | None:
    """(line index, magic name) when the first non-blank line is a cell magic."""
    for index, line in enumerate(lines):
        if line.strip():
            if line.startswith("%%"):
                match = _MAGIC_NAME.match(line)
                return index, match.group(1) if match else ""
            return None
    return None


def _neutral(indent: str, original: str) -> str:
    return f"{indent}pass  # [tfgrade] {original}"


def _rewrite_line(line: str, code: str, number: int, rewrite: CellRewrite) -> str:
    """Rewrite one line that starts a logical line; record a note when its meaning is lost."""
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    visible = code.strip()
    if stripped.startswith("!"):
        rewrite.notes.append(LineNote(number, "shell", stripped))
        return _neutral(indent, stripped)
    if stripped.startswith("%"):
        match = _MAGIC_NAME.match(stripped)
        name = match.group(1) if match else ""
        if stripped.startswith("%%"):
            rewrite.notes.append(LineNote(number, "magic", stripped, "%%" + name))
            return _neutral(indent, stripped)
        if name in RUN_LINE_MAGICS:
            statement = _statement_after_options(stripped[1 + len(name):])
            return f"{indent}{statement}" if statement else _neutral(indent, stripped)
        if name not in SILENT_LINE_MAGICS:
            rewrite.notes.append(LineNote(number, "magic", stripped, "%" + name))
        return _neutral(indent, stripped)
    assigned = _ASSIGNED_ESCAPE.match(stripped)
    if assigned:
        lhs, rest = assigned.group("lhs").strip(), assigned.group("rest")
        if assigned.group("esc") == "!":
            rewrite.notes.append(LineNote(number, "shell", stripped))
            return f"{indent}{lhs} = []  # [tfgrade] {stripped}"
        match = _MAGIC_NAME.match("%" + rest)
        name = match.group(1) if match else ""
        if name in RUN_LINE_MAGICS:
            statement = _statement_after_options(rest[len(name):])
            if statement:
                return f"{indent}{lhs} = {statement}"
        rewrite.notes.append(LineNote(number, "magic", stripped, "%" + name))
        return f"{indent}{lhs} = None  # [tfgrade] {stripped}"
    if visible.startswith("?") or visible.endswith("?"):
        rewrite.notes.append(LineNote(number, "help", stripped))
        return _neutral(indent, stripped)
    future = _FUTURE_IMPORT.match(line)
    if future:
        names = [name.strip() for name in future.group("names").split(",") if name.strip()]
        if names and all(name in __future__.all_feature_names for name in names):
            rewrite.future_features.extend(names)
            return f"pass  # [tfgrade] {stripped}"
    return line


def rewrite_cell(source: str) -> CellRewrite:
    """The cell's source as plain Python, one output line per input line."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    text = text[:-1] if text.endswith("\n") else text  # Jupyter's final newline is not a line of its own
    lines = _dedent_like_ipython(text.split("\n"))
    magic = _cell_magic(lines)
    rewrite = CellRewrite(lines=list(lines))
    first_body_line = 0
    if magic is not None:
        index, name = magic
        if name not in RUN_CELL_MAGICS:
            rewrite.skipped_by = "%%" + name
            rewrite.lines = ["# " + line if line else line for line in lines]
            return rewrite
        rewrite.lines[index] = _neutral("", lines[index])
        first_body_line = index + 1
    tracker = _LogicalLineTracker()
    for index in range(first_body_line, len(lines)):
        line = lines[index]
        if tracker.at_line_start and line.strip():
            probe = _LogicalLineTracker()
            code = probe.feed(line)
            line = _rewrite_line(line, code, index + 1, rewrite)
            rewrite.lines[index] = line
        tracker.feed(line)
    return rewrite
