"""Zip entries written from bytes already compressed, into the file of a wheel.

zipfile compresses what it is given, on the thread that writes. A wheel's entries are
compressed elsewhere (on other threads, or once for a file and its link copies), then
written here as zipfile itself would: the local header first, the data, then the header
again with the CRC and sizes. Each entry is remembered in an `EntryIndex`, from which
the central directory is written at the end. The bytes are the ones zipfile writes
for the same entry.
"""

from __future__ import annotations

import struct
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import BinaryIO

from condawheel.wheel.zip_index import EntryIndex, IndexEntry

_LOCAL_HEADER = 30
#: Any of the execute bits, in a `ZipInfo.external_attr`.
_ANY_EXECUTE = 0o111 << 16
_READ_CHUNK = 1024 * 1024
#: The name's and the extra field's lengths, at offset 26 of a local header.
_LENGTHS = struct.Struct("<HH")


def needs_zip64(size_hint: int) -> bool:
    """zipfile's own rule: compressed data can outgrow the input a little."""
    return size_hint * 1.05 > zipfile.ZIP64_LIMIT


class EntryAppender:
    """Appends entries to the seekable file ``fp``, from its position on, and adds each
    one to ``index`` once its data is written."""

    def __init__(self, fp: BinaryIO, index: EntryIndex) -> None:
        self._fp = fp
        self._index = index
        #: Where the next entry starts.
        self.end_offset = fp.tell()
        self._open: tuple[zipfile.ZipInfo, bool, int] | None = None
        self._written = 0

    def begin(self, info: zipfile.ZipInfo, *, zip64: bool) -> None:
        """Start ``info``'s entry; its ``file_size`` is the size expected (for zip64)."""
        assert self._open is None, "an entry is already open"
        info.flag_bits = 0
        info.CRC = 0
        info.compress_size = 0
        self._fp.seek(self.end_offset)
        self._fp.write(info.FileHeader(zip64))
        self._open = (info, zip64, self.end_offset)
        self._written = 0

    def write(self, data: bytes) -> None:
        self._fp.write(data)
        self._written += len(data)

    def end(self, *, crc: int, size: int, digest: bytes) -> None:
        """Finish the open entry: its header gets the CRC and sizes, as zipfile's does."""
        assert self._open is not None
        info, zip64, offset = self._open
        self._open = None
        if not zip64 and max(size, self._written) > zipfile.ZIP64_LIMIT:
            raise OverflowError(f"{info.filename} is larger than its size hint said")
        info.CRC = crc
        info.file_size = size
        info.compress_size = self._written
        end = self._fp.tell()
        self._fp.seek(offset)
        self._fp.write(info.FileHeader(zip64))
        self._fp.seek(end)
        self.end_offset = end
        self._index.add(
            IndexEntry(
                name=info.filename,
                header_offset=offset,
                compress_size=self._written,
                file_size=size,
                crc=crc,
                compress_type=info.compress_type,
                executable=bool(info.external_attr & _ANY_EXECUTE),
                zip64=zip64,
                digest=digest,
            )
        )

    def compressed(self, entry: IndexEntry) -> Iterator[bytes]:
        """The compressed bytes of ``entry``, already written, chunk by chunk; the
        position stays free for the entry being written between chunks."""
        offset = entry.header_offset + data_offset(
            self._read_at(entry.header_offset, _LOCAL_HEADER)
        )
        remaining = entry.compress_size
        while remaining:
            chunk = self._read_at(offset, min(remaining, _READ_CHUNK))
            offset += len(chunk)
            remaining -= len(chunk)
            yield chunk

    def _read_at(self, offset: int, size: int) -> bytes:
        back = self._fp.tell()
        self._fp.seek(offset)
        data = self._fp.read(size)
        self._fp.seek(back)
        if not data:
            raise OSError("the wheel being written was truncated")
        return data


def data_offset(local_header: bytes) -> int:
    """Where an entry's data starts, from the start of its local header."""
    name_length, extra_length = _LENGTHS.unpack_from(local_header, 26)
    return _LOCAL_HEADER + int(name_length) + int(extra_length)


class EntryQueue:
    """Entries handed over before their data is compressed, written in the order
    given as their blocks come out of compression: at most ``limit`` blocks wait, so
    memory stays bounded however large a member or many the members."""

    def __init__(self, appender: EntryAppender, *, limit: int) -> None:
        self._appender = appender
        self._limit = max(1, limit)
        self._steps: deque[_Step] = deque()
        self._waiting = 0

    def begin(self, info: zipfile.ZipInfo, *, zip64: bool) -> None:
        self._steps.append(_Begin(info, zip64))

    def data(self, block: Future[bytes]) -> None:
        self._steps.append(block)
        self._waiting += 1
        while self._waiting > self._limit:
            self._step()

    def end(self, *, crc: int, size: int, digest: bytes) -> None:
        self._steps.append(_End(crc, size, digest))

    def flush(self) -> None:
        """Write everything handed over."""
        while self._steps:
            self._step()

    def _step(self) -> None:
        step = self._steps.popleft()
        if isinstance(step, _Begin):
            self._appender.begin(step.info, zip64=step.zip64)
        elif isinstance(step, _End):
            self._appender.end(crc=step.crc, size=step.size, digest=step.digest)
        else:
            self._waiting -= 1
            self._appender.write(step.result())


@dataclass(frozen=True, slots=True)
class _Begin:
    info: zipfile.ZipInfo
    zip64: bool


@dataclass(frozen=True, slots=True)
class _End:
    crc: int
    size: int
    digest: bytes


_Step = _Begin | _End | Future[bytes]
