"""The investigation's clock: times each step and reports progress (``progress(step, fraction)``)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "Progress"]

Progress = Callable[[str, float], None]


class Clock:
    """Times each step and reports progress."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def step(self, name: str, fraction: float) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 3)
        self._last = now
        if self.progress is not None:
            self.progress(name, fraction)

    def drift(self, done: int, total: int, windows: int) -> None:
        """The drift engine's progress, as a sub-step of "drift" (between 40% and 55%):
        ``"drift: 12/50 columns, 90 windows"``."""
        if self.progress is not None:
            self.progress(f"drift: {done}/{total} columns, {windows} windows", min(0.55, 0.4 + 0.15 * done / max(total, 1)))
