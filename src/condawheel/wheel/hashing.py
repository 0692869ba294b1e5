"""An entry's sha256 and CRC-32, computed on a thread of their own past its first block.

A large stored (incompressible) member has nothing for the deflate threads to do: its
decompression and its hashing would take turns on one core. Hashed here, they overlap
(hashlib and zlib let go of the GIL on large buffers). Blocks are hashed in the order
given, so the result is the same as hashing in line.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

#: Blocks that may wait for hashing: memory stays a few MiB.
_WAITING = 4


class Hasher:
    """One thread that hashes the blocks of every entry, in the order submitted; none
    (hashing in line) when ``threaded`` is false."""

    def __init__(self, *, threaded: bool) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="hash") if threaded else None

    def start(self) -> Digest:
        return Digest(self._pool)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class Digest:
    """The sha256, CRC-32 and size of one entry's blocks."""

    def __init__(self, pool: ThreadPoolExecutor | None) -> None:
        self._sha256 = hashlib.sha256()
        self._crc = 0
        self.size = 0
        self._pool = pool
        self._waiting: deque[Future[None]] = deque()

    def update(self, block: bytes) -> None:
        first = self.size == 0
        self.size += len(block)
        if self._pool is None or first:  # most entries are one block: no hand-over
            self._hash(block)
            return
        self._waiting.append(self._pool.submit(self._hash, block))
        while len(self._waiting) > _WAITING:
            self._waiting.popleft().result()

    def _hash(self, block: bytes) -> None:
        self._sha256.update(block)
        self._crc = zlib.crc32(block, self._crc)

    def result(self) -> tuple[bytes, int]:
        """The sha256 digest and the CRC-32, once every block is hashed."""
        while self._waiting:
            self._waiting.popleft().result()
        return self._sha256.digest(), self._crc
