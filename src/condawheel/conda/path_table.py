"""paths.json's entries, kept packed: a package may list 100,000 files.

A `PathEntry` with its path, digest and size takes about 250 bytes, and a dict slot
more. Here an entry is a `condawheel.packed` record, its path and then its fields, in
a list sorted by path: about 90 bytes and the path. A lookup is a binary search and
makes the `PathEntry` asked for.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from dataclasses import dataclass

from condawheel import packed
from condawheel.conda.infojson import MALFORMED
from condawheel.exceptions import BadInputError
from condawheel.quoting import quote


class PathType(enum.Enum):
    FILE = "hardlink"
    SYMLINK = "softlink"
    DIRECTORY = "directory"


@dataclass(frozen=True, slots=True, kw_only=True)
class PathEntry:
    """One entry of `info/paths.json` (or its legacy equivalents)."""

    path: str
    path_type: PathType = PathType.FILE
    #: The digest itself, not its 64 hex digits.
    sha256: bytes | None = None
    size: int | None = None
    prefix_placeholder: str | None = None
    file_mode: str = "text"


#: Path type, file mode, flags, size, placeholder (its number plus one, or 0).
_FIELDS = struct.Struct("<BBBQI")
_TYPES = tuple(PathType)
_MODES = ("text", "binary")
_HAS_DIGEST = 1
_HAS_SIZE = 2


class PathPacker:
    """Packs entries as paths.json is parsed; each placeholder is kept once."""

    def __init__(self) -> None:
        self._placeholders: dict[str, int] = {}

    def pack(self, entry: PathEntry) -> bytes:
        placeholder = 0
        if entry.prefix_placeholder is not None:
            placeholder = self._placeholders.setdefault(
                entry.prefix_placeholder, len(self._placeholders) + 1
            )
        flags = (_HAS_DIGEST if entry.sha256 is not None else 0) | (
            _HAS_SIZE if entry.size is not None else 0
        )
        fields = _FIELDS.pack(
            _TYPES.index(entry.path_type),
            _MODES.index(entry.file_mode),
            flags,
            entry.size or 0,
            placeholder,
        )
        return packed.pack(entry.path, fields + (entry.sha256 or b""))

    def table(self, filename: str, records: list[bytes]) -> PathTable:
        """The table of ``records`` (packed by this packer), sorted in place."""
        return PathTable(filename, records, tuple(self._placeholders))


class PathTable(Mapping[str, PathEntry]):
    """Entries by path, as a read-only mapping."""

    __slots__ = ("_last", "_placeholders", "_records")

    def __init__(self, filename: str, records: list[bytes], placeholders: tuple[str, ...]) -> None:
        """Raises BadInputError when a path is listed twice."""
        records.sort()  # in place, and no key per entry
        twice = packed.first_duplicate(records)
        if twice is not None:
            raise BadInputError(
                f"{filename}: info/paths.json lists {quote(twice)} twice: {MALFORMED}"
            )
        self._records = records
        self._placeholders = placeholders
        #: The entry found last: a file is looked up several times in a row.
        self._last: PathEntry | None = None

    def __getitem__(self, path: str) -> PathEntry:
        last = self._last
        if last is not None and last.path == path:
            return last
        record = packed.find(self._records, path)
        if record is None:
            raise KeyError(path)
        self._last = last = _unpack(record, self._placeholders)
        return last

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and super().__contains__(path)

    def __iter__(self) -> Iterator[str]:
        return (packed.split(r)[0] for r in self._records)

    def __len__(self) -> int:
        return len(self._records)

    def values(self) -> ValuesView[PathEntry]:
        return _Values(self)

    def items(self) -> ItemsView[str, PathEntry]:
        return _Items(self)

    def entries(self) -> Iterator[PathEntry]:
        """Every entry, in path order."""
        return (_unpack(r, self._placeholders) for r in self._records)

    def __repr__(self) -> str:
        return f"PathTable({len(self)} paths)"


class _Values(ValuesView[PathEntry]):
    _mapping: PathTable

    def __iter__(self) -> Iterator[PathEntry]:
        return self._mapping.entries()


class _Items(ItemsView[str, PathEntry]):
    _mapping: PathTable

    def __iter__(self) -> Iterator[tuple[str, PathEntry]]:
        return ((entry.path, entry) for entry in self._mapping.entries())


def _unpack(record: bytes, placeholders: tuple[str, ...]) -> PathEntry:
    path, at = packed.split(record)
    kind, mode, flags, size, placeholder = _FIELDS.unpack_from(record, at)
    digest_at = at + _FIELDS.size
    return PathEntry(
        path=path,
        path_type=_TYPES[kind],
        sha256=record[digest_at : digest_at + 32] if flags & _HAS_DIGEST else None,
        size=size if flags & _HAS_SIZE else None,
        prefix_placeholder=placeholders[placeholder - 1] if placeholder else None,
        file_mode=_MODES[mode],
    )
