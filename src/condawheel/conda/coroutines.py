"""Running py-rattler's coroutines from synchronous code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: How long py-rattler's runtime needs to finish up after a call (measured: under 10 ms).
SETTLE_SECONDS = 0.05


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, then a moment for py-rattler's own threads.

    py-rattler (0.28) still drops Python objects on its runtime's threads just after a
    call returns. If the interpreter exits in that window, as a command does right after
    a failed solve, it aborts (``PyGILState_Release`` while finalizing) instead of
    exiting with the error. The wait closes the window; it is small beside any solve.
    """
    try:
        return asyncio.run(coroutine)
    finally:
        time.sleep(SETTLE_SECONDS)
