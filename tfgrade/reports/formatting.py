"""Small pure helpers the reports share: numbers, dates, trimming, file names.

Nothing here produces HTML: escaping is Jinja's job (autoescape is on), so every helper
returns plain text and the template decides where it goes.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from tfgrade.engine.results import safe_file_stem
from tfgrade.i18n import Lang
from tfgrade.reports.labels import MONTHS

# Caps on how much student-controlled text a report carries: a report must stay readable
# and small even when a student prints a megabyte or raises a 10,000-line message.
MAX_OUTPUT_CHARS = 6000
MAX_MESSAGE_CHARS = 2000
MAX_JSON_CHARS = 4000
MAX_FRAMES = 15


def fmt_num(value: float | int | None, lang: Lang, digits: int = 2) -> str:
    """12.5 -> '12,5' in Spanish, '12.5' in English; whole numbers without decimals."""
    if value is None:
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return str(x)
    text = f"{round(x, digits):.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.replace(".", ",") if lang == "es" else text


def fmt_int(value: int, lang: Lang) -> str:
    """3265 -> '3265' / '3,265'; Spanish (RAE) groups only from five digits, with a thin space."""
    text = f"{int(value):,}"
    if lang == "es":
        return text.replace(",", "\u202f") if abs(int(value)) >= 10000 else text.replace(",", "")
    return text


def fmt_percent(part: float, whole: float, lang: Lang) -> str:
    if whole <= 0:
        return "—"
    return fmt_num(100.0 * part / whole, lang, 1) + " %"


def parse_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fmt_date(text: str, lang: Lang, with_time: bool = True) -> str:
    """'2025-03-14T10:32:00Z' -> '14 mar 2025, 10:32 UTC' (or the text as given if unparsable)."""
    moment = parse_iso(text)
    if moment is None:
        return text
    moment = moment.astimezone(UTC)
    day = f"{moment.day} {MONTHS[lang][moment.month - 1]} {moment.year}"
    return f"{day}, {moment:%H:%M} UTC" if with_time else day


def fmt_seconds(seconds: float, lang: Lang) -> str:
    if seconds < 60:
        return fmt_num(seconds, lang, 1) + " s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def trim_text(text: str, limit: int = MAX_OUTPUT_CHARS) -> tuple[str, bool]:
    """Keep the head and the tail (where the error usually is); say whether anything was cut."""
    text = str(text)
    if len(text) <= limit:
        return text, False
    head = limit // 2
    tail = limit - head
    omitted = len(text) - limit
    return f"{text[:head]}\n… [{omitted} chars] …\n{text[-tail:]}", True


def to_pretty_json(value: Any, limit: int = MAX_JSON_CHARS) -> str:
    """Any JSON value as indented text, trimmed; non-JSON values fall back to repr()."""
    try:
        text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return trim_text(text, limit)[0]


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def fmt_value(value: Any, lang: Lang) -> str:
    """One cell of a table: shapes as tuples, floats localised, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return fmt_int(value, lang) if abs(value) >= 1000 else str(value)
    if isinstance(value, float):
        return fmt_num(value, lang, 4)
    if isinstance(value, (list, tuple)):
        inner = ", ".join("None" if v is None else str(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return str(value)


def report_filename(student: str) -> str:
    """A file name for `reports/<student>.html` that is safe on every OS.

    Ordinary names (folder names of submissions) stay as they are; anything with path
    separators, markup or control characters is replaced and made unique with a short hash,
    so two different students can never overwrite each other's report.
    """
    return safe_file_stem(student) + ".html"


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in free text (CSV injection): '=cmd' -> \"'=cmd\"."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
