"""The instructor's CSV files (overrides, submission times) as a spreadsheet saves them.

A Spanish Excel writes `;` between fields (the comma is its decimal separator) and a BOM;
Numbers and LibreOffice write commas; a reason may hold a quoted line break. Each row comes
with the line it starts on, so that an error can point at it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class CsvTable:
    header: tuple[str, ...]                               # lower-cased, stripped
    rows: tuple[tuple[int, dict[str, str]], ...]          # (first line of the row, cells by column)


def delimiter_of(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def read_table(text: str) -> CsvTable:
    """Raises csv.Error for text the csv module cannot read."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text), skipinitialspace=True)
    header: tuple[str, ...] = ()
    rows: list[tuple[int, dict[str, str]]] = []
    start = 1
    for cells in reader:
        if not header:
            header = tuple(c.strip().lower() for c in cells)
        elif any(c.strip() for c in cells):
            rows.append((start, {name: (cells[i].strip() if i < len(cells) else "")
                                 for i, name in enumerate(header) if name}))
        start = reader.line_num + 1
    return CsvTable(header, tuple(rows))
