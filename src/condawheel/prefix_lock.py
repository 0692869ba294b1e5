"""One installation at a time per prefix: an exclusive `flock` on
`PREFIX/.condawheel/lock`, which names its holder's pid.

The lock file (and the folder, when empty) is removed on release, so that a refused
or finished installation leaves the prefix as it found it. Removing a lock file is safe
with a check after locking: a waiter that got the lock on a file since unlinked sees
that the path no longer names it, and tries again.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from condawheel.exceptions import BadInputError
from condawheel.transaction import STATE_DIR

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
    import fcntl  # POSIX only

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
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise BadInputError(f"cannot lock {prefix} ({exc.strerror})") from None
            holder = _holder(fd)
            if not wait:
                os.close(fd)
                raise LockedError(
                    f"{prefix} is being installed into by another condawheel ({holder}); "
                    "wait for it, or run again without --no-wait"
                ) from None
            if not told and on_wait is not None:
                on_wait(f"waiting for another condawheel installing into {prefix} ({holder})")
                told = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, path):
            break
        os.close(fd)  # got the lock of a file the last holder removed
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
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
