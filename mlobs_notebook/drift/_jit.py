"""``compiled``: numba's nopython JIT, cached on disk, releasing the GIL.

numba compiles a function on first use and caches the machine code beside its module (or in
the user's cache directory when that one is read-only), so later processes load it in
milliseconds. Functions release the GIL, so the engine runs columns on every core. Only the
``*_kernels`` modules import this, and only on first use: binned statistics on a LazyFrame
never load numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

__all__ = ["compiled"]


def compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    try:
        return njit(cache=True, nogil=True)(function)
    except RuntimeError:  # no writable cache directory anywhere: compile in every process
        return njit(nogil=True)(function)
