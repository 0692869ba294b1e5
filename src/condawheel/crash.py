"""A test-only hook that kills the process at a named step, to test what a kill leaves.

``CONDAWHEEL_TEST_CRASH_AT=STEP:N[:SIGNAL]`` sends this process SIGNAL (default SIGKILL)
at the Nth step named STEP. The installer's transaction and the mirror use it; nothing
happens when the variable is unset.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "CONDAWHEEL_TEST_CRASH_AT"

_counts: dict[str, int] = {}


def crash_point(step: str) -> None:
    """Die here if the test hook asks for it: the way to test a kill at a given step."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    name, count, how = [*wanted.split(":"), "1", "SIGKILL"][:3]
    if name != step:
        return
    _counts[step] = _counts.get(step, 0) + 1
    if str(_counts[step]) == count:
        os.kill(os.getpid(), getattr(signal, how, signal.SIGKILL))
