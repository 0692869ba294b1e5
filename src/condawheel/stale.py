"""Temporary files a killed run left behind, found by the process id in their name.

A run that is killed (SIGKILL, a power cut) cannot remove its partial wheel or its
held binaries. Each name carries the id of the process that made it, so the next
run removes those whose process is gone, and names in a warning those it cannot
tell or cannot remove.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

#: A partial wheel: `.condawheel-<pid>-<random>.whl.part`, beside the wheel.
PART_PREFIX = ".condawheel-"
PART_SUFFIX = ".whl.part"
#: Held binaries: `condawheel-held-<pid>-<random>/`, in the temporary folder.
HELD_PREFIX = "condawheel-held-"
_PART = re.compile(rf"{re.escape(PART_PREFIX)}(?:(\d+)-)?.*{re.escape(PART_SUFFIX)}\Z")
_HELD = re.compile(rf"{re.escape(HELD_PREFIX)}(\d+)-.*\Z")


def part_prefix() -> str:
    return f"{PART_PREFIX}{os.getpid()}-"


def held_prefix() -> str:
    return f"{HELD_PREFIX}{os.getpid()}-"


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # someone else's process, or a number no process has
    return True


def sweep(out_dir: Path | None) -> None:
    """Remove what dead runs left in ``out_dir`` and the temporary folder; warn about
    what may be stale but cannot be told or removed."""
    warnings: list[str] = []
    places = [(Path(tempfile.gettempdir()), _HELD, "folder of held binaries")]
    if out_dir is not None:
        places.append((out_dir, _PART, "partial wheel"))
    for folder, pattern, what in places:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            found = pattern.match(entry.name)
            if not found:
                continue
            if found.group(1) is None:
                warnings.append(
                    f"{entry}: a {what} of an older condawheel run; remove it if no "
                    "conversion is running"
                )
            elif not process_alive(int(found.group(1))):
                warnings += _remove(entry, what)
    for warning in warnings:
        log.warning("warning: %s", warning)


def _remove(entry: Path, what: str) -> list[str]:
    try:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except OSError as exc:
        return [f"{entry}: a {what} left by an interrupted run; cannot remove it ({exc.strerror})"]
    log.info("removed %s, a %s left by an interrupted run", entry, what)
    return []
