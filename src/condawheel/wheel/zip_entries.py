"""Zip entries written from bytes already compressed, into a `zipfile.ZipFile`.

zipfile compresses what it is given, on the thread that writes. A wheel's entries are
compressed elsewhere (on other threads, or once for a file and its link copies), then
written here as zipfile itself would: the local header first, the data, then the header
again with the CRC and sizes, and the entry added to the central directory that
`ZipFile.close()` writes. The bytes are the ones zipfile writes for the same entry.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator

_LOCAL_HEADER = 30
_READ_CHUNK = 1024 * 1024


def needs_zip64(size_hint: int) -> bool:
    """zipfile's own rule: compressed data can outgrow the input a little."""
    return size_hint * 1.05 > zipfile.ZIP64_LIMIT


class EntryAppender:
    """Appends entries to ``archive`` (opened with mode "w" on a seekable file)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        assert archive.fp is not None
        self._archive = archive
        self._fp = archive.fp
        self._open: tuple[zipfile.ZipInfo, bool] | None = None
        self._written = 0

    def begin(self, info: zipfile.ZipInfo, *, zip64: bool) -> None:
        """Start ``info``'s entry; its ``file_size`` is the size expected (for zip64)."""
        assert self._open is None, "an entry is already open"
        info.flag_bits = 0
        info.CRC = 0
        info.compress_size = 0
        self._fp.seek(self._archive.start_dir)
        info.header_offset = self._fp.tell()
        self._fp.write(info.FileHeader(zip64))
        self._open = (info, zip64)
        self._written = 0

    def write(self, data: bytes) -> None:
        self._fp.write(data)
        self._written += len(data)

    def end(self, *, crc: int, size: int) -> None:
        """Finish the open entry: its header gets the CRC and sizes, as zipfile's does."""
        assert self._open is not None
        info, zip64 = self._open
        self._open = None
        if not zip64 and max(size, self._written) > zipfile.ZIP64_LIMIT:
            raise OverflowError(f"{info.filename} is larger than its size hint said")
        info.CRC = crc
        info.file_size = size
        info.compress_size = self._written
        end = self._fp.tell()
        self._fp.seek(info.header_offset)
        self._fp.write(info.FileHeader(zip64))
        self._fp.seek(end)
        self._archive.start_dir = end
        self._archive.filelist.append(info)
        self._archive.NameToInfo[info.filename] = info

    def compressed(self, name: str) -> Iterator[bytes]:
        """The compressed bytes of entry ``name``, already written, chunk by chunk; the
        position stays free for the entry being written between chunks."""
        info = self._archive.getinfo(name)
        header = self._read_at(info.header_offset, _LOCAL_HEADER)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        offset = info.header_offset + _LOCAL_HEADER + name_length + extra_length
        remaining = info.compress_size
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
