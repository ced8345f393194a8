"""One live status line per second on a terminal; plain lines in CI.

On a TTY the line is rewritten in place; with CI=true or no TTY a plain line
is printed every few seconds so logs stay readable. Events (phase starts,
faults) are always printed as their own lines.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False, plain_every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty() and os.environ.get("CI", "").lower() not in ("1", "true", "yes")
        self.plain_every = plain_every
        self._last_plain = 0.0
        self._line_open = False

    def event(self, text: str) -> None:
        if self.quiet:
            return
        self._clear()
        print(text, file=self.stream, flush=True)

    def status(self, text: str) -> None:
        if self.quiet:
            return
        if self.live:
            width = 200
            try:
                width = os.get_terminal_size(self.stream.fileno()).columns
            except OSError:
                pass
            self.stream.write("\r\x1b[2K" + text[: max(20, width - 1)])
            self.stream.flush()
            self._line_open = True
        else:
            now = time.monotonic()
            if now - self._last_plain >= self.plain_every:
                self._last_plain = now
                print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self._line_open:
            self.stream.write("\r\x1b[2K")
            self._line_open = False

    def close(self) -> None:
        self._clear()
        self.stream.flush()
