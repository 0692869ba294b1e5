"""An exclusive lock on an open file, taken without waiting: `flock` on POSIX,
`msvcrt.locking` of its first byte on Windows. Closing the file releases it."""

from __future__ import annotations

import errno
import os
import sys


def try_lock(fd: int) -> bool:
    """Take the lock if it is free; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True
