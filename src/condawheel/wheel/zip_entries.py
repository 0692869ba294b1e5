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
    one to ``index`` once its data is written. Only this writes to ``fp`` meanwhile:
    it knows the position and seeks only when it must (a seek flushes the buffer)."""

    def __init__(self, fp: BinaryIO, index: EntryIndex) -> None:
        self._fp = fp
        self._index = index
        self._position = fp.tell()
        #: Where the next entry starts.
        self.end_offset = self._position
        self._open: tuple[zipfile.ZipInfo, bool, int] | None = None
        self._written = 0

    def begin(self, info: zipfile.ZipInfo, *, zip64: bool) -> None:
        """Start ``info``'s entry; its ``file_size`` is the size expected (for zip64)."""
        assert self._open is None, "an entry is already open"
        info.flag_bits = 0
        info.CRC = 0
        info.compress_size = 0
        self._seek(self.end_offset)
        self._put(info.FileHeader(zip64))
        self._open = (info, zip64, self.end_offset)
        self._written = 0

    def write(self, data: bytes) -> None:
        self._put(data)
        self._written += len(data)

    def end(self, *, crc: int, size: int, digest: bytes) -> None:
        """Finish the open entry: its header gets the CRC and sizes, as zipfile's does."""
        assert self._open is not None
        info, zip64, offset = self._open
        self._open = None
        self._finished(info, zip64, crc=crc, size=size, compressed=self._written)
        end = self._position
        self._seek(offset)
        self._put(info.FileHeader(zip64))
        self._seek(end)
        self._indexed(info, zip64, offset, digest)

    def whole(
        self, info: zipfile.ZipInfo, *, zip64: bool, data: bytes, crc: int, size: int, digest: bytes
    ) -> None:
        """An entry whose data is all here (most are): its header is written once, as
        `begin`, `write` and `end` leave it, with no seeking back."""
        assert self._open is None, "an entry is already open"
        info.flag_bits = 0
        self._finished(info, zip64, crc=crc, size=size, compressed=len(data))
        offset = self.end_offset
        self._seek(offset)
        self._put(info.FileHeader(zip64))
        self._put(data)
        self._indexed(info, zip64, offset, digest)

    def _finished(
        self, info: zipfile.ZipInfo, zip64: bool, *, crc: int, size: int, compressed: int
    ) -> None:
        if not zip64 and max(size, compressed) > zipfile.ZIP64_LIMIT:
            raise OverflowError(f"{info.filename} is larger than its size hint said")
        info.CRC = crc
        info.file_size = size
        info.compress_size = compressed

    def _indexed(self, info: zipfile.ZipInfo, zip64: bool, offset: int, digest: bytes) -> None:
        self.end_offset = self._position
        self._index.add(
            IndexEntry(
                name=info.filename,
                header_offset=offset,
                compress_size=info.compress_size,
                file_size=info.file_size,
                crc=info.CRC,
                compress_type=info.compress_type,
                executable=bool(info.external_attr & _ANY_EXECUTE),
                zip64=zip64,
                digest=digest,
            )
        )

    def compressed(self, entry: IndexEntry) -> Iterator[bytes]:
        """The compressed bytes of ``entry``, already written, chunk by chunk; the
        position stays free for the entry being written between chunks."""
        header = self._read_at(entry.header_offset, _LOCAL_HEADER)
        offset = entry.header_offset + data_offset(header)
        remaining = entry.compress_size
        while remaining:
            chunk = self._read_at(offset, min(remaining, _READ_CHUNK))
            offset += len(chunk)
            remaining -= len(chunk)
            yield chunk

    def _seek(self, offset: int) -> None:
        if offset != self._position:
            self._fp.seek(offset)
            self._position = offset

    def _put(self, data: bytes) -> None:
        self._fp.write(data)
        self._position += len(data)

    def _read_at(self, offset: int, size: int) -> bytes:
        back = self._position
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
        steps = self._steps
        step = steps.popleft()
        if isinstance(step, _Begin) and len(steps) >= 2 and isinstance(steps[1], _End):
            data, end = steps.popleft(), steps.popleft()
            assert isinstance(data, Future) and isinstance(end, _End)
            self._waiting -= 1
            self._appender.whole(
                step.info,
                zip64=step.zip64,
                data=data.result(),
                crc=end.crc,
                size=end.size,
                digest=end.digest,
            )
        elif isinstance(step, _Begin):
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
