"""Capture of the student's stdout/stderr: drained by a thread, bounded, never parsed."""

from __future__ import annotations

import os
import re
import threading

MAX_KEPT = 64 * 1024

# TensorFlow's own log lines (absl/C++ prefixes) are not the student's output.
_TF_NOISE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] tensorflow/|To enable the following instructions"
    r"|.*(?:oneDNN custom operations|cuda drivers on your machine|Unable to register cu\w+ factory"
    r"|computation placer already registered|TF-TRT Warning|rebuild TensorFlow with the appropriate))")


def strip_tf_noise(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not _TF_NOISE.match(line))


class OutputDrain:
    """Reads a pipe until EOF, keeping the first MAX_KEPT bytes and counting the rest."""

    def __init__(self, fd: int, limit: int = MAX_KEPT) -> None:
        self.fd = fd
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self._mark = 0
        self._dropped_mark = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                with self._lock:
                    room = self.limit - len(self.kept)
                    if room > 0:
                        self.kept += chunk[:room]
                    self.dropped += max(0, len(chunk) - max(room, 0))
        except OSError:
            pass
        finally:
            try:
                os.close(self.fd)
            except OSError:
                pass

    def join(self, timeout: float = 1.0) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        with self._lock:
            data = bytes(self.kept)
            dropped = self.dropped
        text = strip_tf_noise(data.decode("utf-8", errors="replace"))
        if dropped:
            text += f"\n[… {dropped} bytes más / more bytes not shown]"
        return text

    def since_mark(self) -> str:
        """What was kept since the last mark, and how much was dropped since then."""
        with self._lock:
            data = bytes(self.kept[self._mark:])
            self._mark = len(self.kept)
            dropped = self.dropped - self._dropped_mark
            self._dropped_mark = self.dropped
        text = strip_tf_noise(data.decode("utf-8", errors="replace"))
        if dropped:
            text += f"\n[… {dropped} bytes más / more bytes not shown]"
        return text
