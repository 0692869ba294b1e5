"""What readers hand out and writers take: anything with ``read(size)``.

The conda reader yields archive members as such streams and the wheel writer copies
them, so the protocol lives here, below both, rather than in either.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Prefixed:
    """A head already read (to sniff the format), then the rest of the stream."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            chunk, self._head = self._head, b""
        else:
            chunk = self._rest.read(size)
        return chunk


def spool(stream: Readable, path: Path, chunk: int = 1024 * 1024) -> tuple[str, int]:
    """Copy ``stream`` to a new file at ``path`` in chunks; its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while data := stream.read(chunk):
            digest.update(data)
            out.write(data)
            size += len(data)
    return digest.hexdigest(), size


def file_sha256(path: Path, chunk: int = 1024 * 1024) -> tuple[str, int]:
    """The sha256 and size of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while data := stream.read(chunk):
            digest.update(data)
            size += len(data)
    return digest.hexdigest(), size
