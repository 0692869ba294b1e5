"""Deflate in fixed blocks, on several threads, with the same bytes on any number.

Deflate is most of the time of a conversion. A member is cut into blocks of
`BLOCK` bytes (whatever sizes its stream hands out), and each block is deflated on
its own with zlib-ng, primed with the 32 KiB before it so that it compresses nearly
as well as one stream would; a block that is not the last ends with a sync flush, so
the blocks put end to end are one valid deflate stream (as pigz does). A block's bytes
depend on the block and the one before it only: the output is the same on one
thread or eight. zlib-ng releases the GIL while it compresses, so threads run at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from zlib_ng import zlib_ng

from condawheel.streams import Readable

#: zlib-ng's level 3 is within 1% of the size of zlib's default level 6 (what `wheel
#: pack` writes) at about 2.3 times its speed (level 6 of zlib-ng: 1.6 times, 0.1%
#: smaller). Changing it changes bytes.
LEVEL = 3
#: The unit of work of one thread, and of the output's shape: changing it changes bytes.
BLOCK = 1024 * 1024
#: What deflate can refer back to: the history a block is primed with.
_WINDOW = 32 * 1024
_READ = 1024 * 1024


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def deflate_block(block: bytes, history: bytes, *, last: bool) -> bytes:
    """``block`` as raw deflate, able to refer to ``history`` (the block before)."""
    if history:
        compressor = zlib_ng.compressobj(
            LEVEL, zlib_ng.DEFLATED, -15, 8, zlib_ng.Z_DEFAULT_STRATEGY, history[-_WINDOW:]
        )
    else:
        compressor = zlib_ng.compressobj(LEVEL, zlib_ng.DEFLATED, -15)
    return compressor.compress(block) + compressor.flush(
        zlib_ng.Z_FINISH if last else zlib_ng.Z_SYNC_FLUSH
    )


def deflate(data: bytes) -> bytes:
    """``data`` deflated as `Deflater` does it, block by block, on this thread."""
    blocks = [data[i : i + BLOCK] for i in range(0, len(data), BLOCK)] or [b""]
    return b"".join(
        deflate_block(block, blocks[i - 1] if i else b"", last=i == len(blocks) - 1)
        for i, block in enumerate(blocks)
    )


def blocks(first: bytes, stream: Readable) -> Iterator[tuple[bytes, bool]]:
    """``first`` and then the rest of ``stream`` in blocks of exactly `BLOCK` bytes
    (the last one shorter, maybe empty), each with whether it is the last."""
    buffer = bytearray(first)
    ended = False
    while True:
        while not ended and len(buffer) <= BLOCK:  # one byte more tells it is not the last
            more = stream.read(_READ)
            ended = not more
            buffer += more
        if len(buffer) <= BLOCK:
            yield bytes(buffer), True
            return
        yield bytes(buffer[:BLOCK]), False
        del buffer[:BLOCK]


def ready(data: bytes) -> Future[bytes]:
    """Bytes that need no compressing, as a finished job."""
    done: Future[bytes] = Future()
    done.set_result(data)
    return done


class Deflater:
    """Deflates blocks on ``threads`` threads (on the caller's with one)."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def submit(self, block: bytes, history: bytes, *, last: bool) -> Future[bytes]:
        if self._pool is not None:
            return self._pool.submit(deflate_block, block, history, last=last)
        return ready(deflate_block(block, history, last=last))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Deflater:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
