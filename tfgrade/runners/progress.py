"""Progress for long runs: a bar with ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tfgrade.i18n import Lang, Msg, default_lang


class Progress:
    def __init__(self, total: int, lang: Lang | None = None, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.lang = lang or default_lang()
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()

    def _eta(self) -> str:
        if not self.done:
            return "?"
        left = (time.monotonic() - self.start) / self.done * (self.total - self.done)
        return f"{int(left // 60)}m{int(left % 60):02d}s"

    def step(self, student: str, what: Msg) -> None:
        self.done += 1
        label = f"[{self.done}/{self.total}] {student}: {what.get(self.lang)} · ETA {self._eta()}"
        if self.tty:
            width = 24
            filled = int(width * self.done / max(1, self.total))
            bar = "█" * filled + "·" * (width - filled)
            self.stream.write(f"\r\033[K{bar} {label[:100]}")
        else:
            self.stream.write(label + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
