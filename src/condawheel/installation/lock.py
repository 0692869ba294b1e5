"""One installation at a time per prefix: an exclusive `flock` (`msvcrt.locking` on
Windows) on `PREFIX/.condawheel/lock`, which names its holder's pid.

The lock file (and the folder, when empty) is removed on release, so that a refused
or finished installation leaves the prefix as it found it. Removing a lock file is safe
with a check after locking: a waiter that got the lock on a file since unlinked sees
that the path no longer names it, and tries again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from condawheel.exceptions import BadInputError
from condawheel.installation.transaction import STATE_DIR
from condawheel.locks import try_lock

LOCK = "lock"

#: Prefixes (real paths) this process holds the lock of: taking it again is a no-op.
_held: set[str] = set()


class LockedError(BadInputError):
    """Another installation holds the prefix and the caller would not wait."""


@contextmanager
def prefix_lock(
    prefix: Path, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``prefix`` for the block. With ``wait``, block until the holder is done
    (``on_wait`` is told who holds it, once); without, raise LockedError."""
    key = os.path.realpath(prefix)
    if key in _held:
        yield
        return
    fd = _acquire(prefix, wait=wait, on_wait=on_wait)
    _held.add(key)
    try:
        yield
    finally:
        _held.discard(key)
        _release(prefix, fd)


def _acquire(prefix: Path, *, wait: bool, on_wait: Callable[[str], None] | None) -> int:
    state = prefix / STATE_DIR
    path = state / LOCK
    told = False
    while True:
        try:
            state.mkdir(exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # the holder removed the folder just now
        except OSError as exc:
            raise BadInputError(f"cannot lock {prefix} for installing ({exc.strerror})") from None
        try:
            locked = try_lock(fd)
        except OSError as exc:
            os.close(fd)
            raise BadInputError(f"cannot lock {prefix} ({exc.strerror})") from None
        if not locked:
            holder = _holder(fd)
            if not wait:
                os.close(fd)
                raise LockedError(
                    f"{prefix} is being installed into by another condawheel ({holder}); "
                    "wait for it, or run again without --no-wait"
                )
            if not told and on_wait is not None:
                on_wait(f"waiting for another condawheel installing into {prefix} ({holder})")
                told = True
            _lock(fd)
        if _same_file(fd, path):
            break
        os.close(fd)  # got the lock of a file the last holder removed
    # the holder's pid, past the byte Windows locks (its locks keep others from reading)
    os.lseek(fd, _PID_AT, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode().ljust(_PID_SIZE))
    return fd


_PID_AT, _PID_SIZE = 16, 24


def _lock(fd: int) -> None:
    """Wait for the lock."""
    if sys.platform == "win32":
        while not try_lock(fd):
            time.sleep(0.2)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, _PID_AT, os.SEEK_SET)
        text = os.read(fd, _PID_SIZE).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"


def _release(prefix: Path, fd: int) -> None:
    state = prefix / STATE_DIR
    # unlink while still holding it: a waiter then finds its file gone and retries
    try:
        (state / LOCK).unlink(missing_ok=True)
        state.rmdir()
    except OSError:
        pass  # not empty: a journal kept for recovery, or the next holder's lock
    finally:
        os.close(fd)
