"""One entry order for a wheel, whatever order the package's archive had, and the
central directory that ends it.

A `.conda` and a `.tar.bz2` of one build hold the same files in different orders, and
the wheel is written in the order they stream past. For the same build to give the
same bytes, entries are put in name order at the end (the `.dist-info` last, RECORD
last of all), by copying their compressed bytes: nothing is compressed twice.
"""

from __future__ import annotations

import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from condawheel.wheel.zip_entries import data_offset
from condawheel.wheel.zip_index import IndexEntry

_LOCAL_HEADER = 30


def reorder(source: BinaryIO, target: BinaryIO, order: Iterable[IndexEntry]) -> array[int]:
    """Copy the entries of ``source`` (each local header and its data) to ``target``,
    from its position on, in ``order``; return their new offsets, in that order."""
    offsets = array("Q")
    for entry in order:
        source.seek(entry.header_offset)
        header = source.read(_LOCAL_HEADER)
        offsets.append(target.tell())
        target.write(header)
        _copy_exactly(source, target, data_offset(header) - _LOCAL_HEADER + entry.compress_size)
    return offsets


def write_central_directory(
    fp: BinaryIO, infos: Callable[[], Iterator[zipfile.ZipInfo]], count: int
) -> None:
    """zipfile's own central directory and end records, written at ``fp``'s position
    for the ``count`` entries that ``infos()`` makes one at a time."""
    archive = zipfile.ZipFile(fp, "w")  # its central directory starts where fp is
    archive.filelist = _Entries(infos, count)
    archive.close()


class _Entries(list[zipfile.ZipInfo]):
    """What zipfile writes the central directory from: it iterates it and takes its
    length. Each `ZipInfo` is made as it is read and let go of, not all kept."""

    def __init__(self, infos: Callable[[], Iterator[zipfile.ZipInfo]], count: int) -> None:
        super().__init__()
        self._infos = infos
        self._count = count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        return self._infos()

    def __len__(self) -> int:
        return self._count


def _copy_exactly(source: BinaryIO, target: BinaryIO, length: int) -> None:
    remaining = length
    while remaining:
        chunk = source.read(min(remaining, 1024 * 1024))
        if not chunk:
            raise OSError("the wheel being written was truncated")
        target.write(chunk)
        remaining -= len(chunk)
