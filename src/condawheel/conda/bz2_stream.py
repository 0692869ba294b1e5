"""The members of a `.tar.bz2`, decompressed by indexed_bzip2.

bzip2 decompression is most of the time of a `.tar.bz2` conversion. indexed_bzip2
decodes it about twice as fast as the bz2 module on one thread, and can decode blocks
on several (bzip2 blocks are independent). Its tar stream is conda-package-streaming's,
as for every other archive.
"""

from __future__ import annotations

import atexit
import io
import tarfile
import weakref
from collections.abc import Generator
from typing import Any

import indexed_bzip2
from conda_package_streaming.package_streaming import tar_generator

#: Below this size a package decodes faster on one thread than it starts several.
_PARALLEL_FROM = 8 * 1024 * 1024
_MAGIC = b"BZh"

#: Readers still open: their threads must stop before the interpreter ends (it aborts
#: otherwise), also for a stream abandoned half-read.
_open: weakref.WeakSet[Any] = weakref.WeakSet()


def bz2_members(
    fileobj: io.RawIOBase, *, size: int, threads: int
) -> Generator[tuple[tarfile.TarFile, Any]]:
    """Yield (tar, member) from the `.tar.bz2` in ``fileobj`` (``size`` bytes long),
    decoded on up to ``threads`` threads."""
    start = fileobj.tell()
    if fileobj.read(len(_MAGIC)) != _MAGIC:  # checked here: a parallel reader says nothing
        raise tarfile.ReadError("not a bzip2 stream")
    fileobj.seek(start)
    parallel = threads if size >= _PARALLEL_FROM else 1
    reader = indexed_bzip2.open(fileobj, parallelization=max(1, parallel))
    _open.add(reader)
    try:
        yield from tar_generator(reader)
    finally:
        reader.close()


@atexit.register
def _close_all() -> None:
    for reader in list(_open):
        reader.close()
