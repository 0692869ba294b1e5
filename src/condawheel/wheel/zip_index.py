"""What the writer remembers of each entry it wrote: one bytes object per entry.

zipfile keeps a `ZipInfo` per entry (about 200 bytes, with its name and integers
more than 400) and a dict of them by name, until the archive is closed: a wheel of
100,000 files would hold 45 MB of them. Here an entry is a `condawheel.packed`
record, its name and then its sizes, offset, CRC, mode and sha256 digest: about 100
bytes and its name. A list of them sorts in name order, the order the wheel's entries
end in.

`ZipInfo`s are made again, one at a time, when the central directory is written.
"""

from __future__ import annotations

import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from condawheel import packed

#: Offset, compressed size, size, CRC-32, compression method, flags, sha256 digest.
_FIELDS = struct.Struct("<QQQIBB32s")
_EXECUTABLE = 1
_ZIP64 = 2
#: Entries added since the last sort that are found through a dict; past this many,
#: the list is sorted again when an entry is next looked up.
_TAIL = 1024

#: Permission bits of an entry (one int for all, not one per entry).
_REGULAR_MODE = (stat.S_IFREG | 0o644) << 16
_EXECUTABLE_MODE = (stat.S_IFREG | 0o755) << 16
_UNIX = 3


def new_zip_info(
    name: str,
    date_time: tuple[int, int, int, int, int, int],
    *,
    executable: bool,
    compress_type: int,
    size: int,
) -> zipfile.ZipInfo:
    """An entry with a fixed timestamp and normalised permissions, for its header."""
    info = zipfile.ZipInfo(name, date_time)
    info.create_system = _UNIX  # so that the permission bits below are honoured
    info.external_attr = _EXECUTABLE_MODE if executable else _REGULAR_MODE
    info.compress_type = compress_type
    info.file_size = size
    return info


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexEntry:
    """One entry as written: where it is, how large, its checksums and its mode."""

    name: str
    header_offset: int
    compress_size: int
    file_size: int
    crc: int
    compress_type: int
    executable: bool
    #: Its local header has the zip64 extra field (decided before its size was known).
    zip64: bool
    digest: bytes

    def pack(self) -> bytes:
        flags = (_EXECUTABLE if self.executable else 0) | (_ZIP64 if self.zip64 else 0)
        fields = _FIELDS.pack(
            self.header_offset,
            self.compress_size,
            self.file_size,
            self.crc,
            self.compress_type,
            flags,
            self.digest,
        )
        return packed.pack(self.name, fields)

    @classmethod
    def unpack(cls, record: bytes) -> IndexEntry:
        name, at = packed.split(record)
        offset, compressed, size, crc, method, flags, digest = _FIELDS.unpack_from(record, at)
        return cls(
            name=name,
            header_offset=offset,
            compress_size=compressed,
            file_size=size,
            crc=crc,
            compress_type=method,
            executable=bool(flags & _EXECUTABLE),
            zip64=bool(flags & _ZIP64),
            digest=digest,
        )

    def zip_info(
        self, date_time: tuple[int, int, int, int, int, int], *, header_offset: int | None = None
    ) -> zipfile.ZipInfo:
        """The `ZipInfo` zipfile would have kept for this entry, at ``header_offset``
        (where it is now, by default)."""
        info = new_zip_info(
            self.name,
            date_time,
            executable=self.executable,
            compress_type=self.compress_type,
            size=self.file_size,
        )
        info.CRC = self.crc
        info.compress_size = self.compress_size
        info.header_offset = self.header_offset if header_offset is None else header_offset
        if self.zip64:  # as writing its local header left it
            info.create_version = info.extract_version = zipfile.ZIP64_VERSION
        return info


class EntryIndex:
    """The entries written so far; found by name with a binary search, or through a
    small dict for those added since the list was last sorted."""

    def __init__(self) -> None:
        self._records: list[bytes] = []
        #: How many records, from the first, are sorted (and have no duplicate name).
        self._sorted = 0
        #: Position of each record past those, while they are few (else it is empty).
        self._tail: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, entry: IndexEntry) -> None:
        in_tail = not self._stale and len(self._tail) < _TAIL
        self._records.append(entry.pack())
        if in_tail:
            self._tail[entry.name] = len(self._records) - 1
        else:
            self._tail.clear()

    @property
    def _stale(self) -> bool:
        """Records past the sorted ones are in no dict: sort before a lookup."""
        return len(self._records) - self._sorted != len(self._tail)

    def find(self, name: str) -> IndexEntry | None:
        if self._stale:
            self._sort()
        at = self._tail.get(name)
        if at is not None:
            return IndexEntry.unpack(self._records[at])
        record = packed.find(self._records, name, self._sorted)
        return IndexEntry.unpack(record) if record is not None else None

    def names(self) -> Iterator[str]:
        """Every entry's name, in name order."""
        self._sort()
        return (IndexEntry.unpack(r).name for r in self._records)

    def in_order(self, dist_info: str) -> Iterator[IndexEntry]:
        """Entries in the order of a finished wheel: by name, with the `.dist-info`
        last and its RECORD last of all. Nothing may be added while this runs."""
        self._sort()
        inside = f"{dist_info}/".encode()
        record = f"{dist_info}/RECORD\0".encode()
        records = self._records
        yield from (IndexEntry.unpack(r) for r in records if not r.startswith(inside))
        yield from (
            IndexEntry.unpack(r)
            for r in records
            if r.startswith(inside) and not r.startswith(record)
        )
        yield from (IndexEntry.unpack(r) for r in records if r.startswith(record))

    def _sort(self) -> None:
        if self._sorted == len(self._records):  # sorted and checked already
            return
        # In place, and no key per entry: most of the list is sorted already.
        self._records.sort()
        twice = packed.first_duplicate(self._records)
        if twice is not None:
            raise ValueError(f"{twice} was written twice")
        self._sorted = len(self._records)
        self._tail.clear()
