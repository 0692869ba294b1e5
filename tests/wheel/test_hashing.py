"""Hashing an entry's blocks on a thread gives what hashing them in line gives."""

from __future__ import annotations

import hashlib
import random
import zlib

import pytest

from condawheel.wheel.hashing import Hasher

BLOCKS = [b"", *(random.Random(3).randbytes(n) for n in (1, 70_000, 1 << 20, 5, 300_000))]


@pytest.mark.parametrize("threaded", [False, True])
def test_the_digest_crc_and_size_of_the_blocks_in_order(threaded: bool) -> None:
    hasher = Hasher(threaded=threaded)
    try:
        digests = [hasher.start() for _ in range(3)]
        for i, block in enumerate(BLOCKS * 3):  # three entries' blocks interleaved
            digests[i % 3].update(block)
        results = [(*d.result(), d.size) for d in digests]
    finally:
        hasher.close()
    for i, (digest, crc, size) in enumerate(results):
        mine = [b for j, b in enumerate(BLOCKS * 3) if j % 3 == i]
        data = b"".join(mine)
        assert (digest, crc, size) == (hashlib.sha256(data).digest(), zlib.crc32(data), len(data))
