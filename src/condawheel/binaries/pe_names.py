"""Rename the DLLs a PE file imports, including to names longer than the old ones.

A name that fits where the old one was is written over it, padded with NULs. The
longer ones cannot be, since the strings sit packed among the other import data, so
they go into a new read-only section at the end of the image and the import (or
delay-import) descriptors point there instead, which is how delvewheel makes room
for its mangled names. A section needs a 40-byte entry in the section table; where the
headers have no room left for one, they grow by one file-alignment unit and the raw
data of every section, the debug data, the COFF symbols and the certificate table
move down by as much (their addresses in memory do not change).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pefile

from condawheel.exceptions import BadInputError

__all__ = ["PENameError", "rename_dlls"]

# (data directory, attribute pefile fills in, field that holds the name's address)
_IMPORT_DIRECTORIES = (
    ("IMAGE_DIRECTORY_ENTRY_IMPORT", "DIRECTORY_ENTRY_IMPORT", "Name"),
    ("IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT", "DIRECTORY_ENTRY_DELAY_IMPORT", "szName"),
)
SECTION_NAME = b".dllname"
_SECTION_HEADER = struct.Struct("<8sIIIIIIHHI")
# IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ
_SECTION_FLAGS = 0x40000040


class PENameError(BadInputError):
    """A DLL name could not be changed; the message is short and lower-case."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Moved:
    """A descriptor whose name moves to the new section."""

    descriptor: Any  # the pefile structure holding the address
    field: str  # "Name" or "szName"
    virtual: bool
    new: str


def rename_dlls(data: bytes, renames: Mapping[str, str]) -> bytes:
    """``data`` (a PE file) with each imported or delay-imported DLL whose lower-cased
    name is a key of ``renames`` renamed to its value, and the checksum renewed if the
    file had one. Raises :class:`PENameError` for a name that is not ASCII, or a file
    that has no room for the new names."""
    pe = pefile.PE(data=data, fast_load=True)
    try:
        pe.parse_data_directories(
            directories=[pefile.DIRECTORY_ENTRY[d] for d, _, _ in _IMPORT_DIRECTORIES],
            import_dllnames_only=True,
        )
        moved = _rename_in_place(pe, renames)
        section = _make_room(pe, moved) if moved else None
        out = bytearray(pe.write())
        had_checksum = bool(pe.OPTIONAL_HEADER.CheckSum)
    finally:
        pe.close()
    if section is not None:
        section.add_to(out)
    return _with_checksum(bytes(out)) if had_checksum else bytes(out)


def _rename_in_place(pe: pefile.PE, renames: Mapping[str, str]) -> list[_Moved]:
    """Write the names that fit; the others, to be moved, are returned."""
    moved = []
    for _, attribute, field in _IMPORT_DIRECTORIES:
        for entry in getattr(pe, attribute, None) or ():
            old: bytes = entry.dll
            new = renames.get(old.decode("ascii", errors="replace").lower())
            if new is None:
                continue
            if not new.isascii() or "\0" in new:
                raise PENameError(f"{new!r} is not an ASCII DLL name")
            # An old (Visual C++ 6) delay-import descriptor holds a VA, not an RVA.
            virtual = field == "szName" and not entry.struct.grAttrs & 1
            if len(new) > len(old):
                moved.append(_Moved(descriptor=entry.struct, field=field, virtual=virtual, new=new))
                continue
            rva = int(getattr(entry.struct, field))
            rva -= int(pe.OPTIONAL_HEADER.ImageBase) if virtual else 0
            if not pe.set_bytes_at_rva(rva, new.encode("ascii").ljust(len(old) + 1, b"\0")):
                raise PENameError(f"the name of {new} is out of bounds")
    return moved


@dataclass(frozen=True, slots=True, kw_only=True)
class _Section:
    """The new section: its header goes at ``header_at``; its data at ``data_at``, once
    ``grow`` bytes were inserted at the old end of the headers ``headers_end``."""

    header_at: int
    header: bytes
    data_at: int
    data: bytes
    headers_end: int
    grow: int

    def add_to(self, out: bytearray) -> None:
        out[self.headers_end : self.headers_end] = bytes(self.grow)
        out[self.header_at : self.header_at + len(self.header)] = self.header
        out += bytes(self.data_at - len(out))
        out += self.data


def _make_room(pe: pefile.PE, moved: list[_Moved]) -> _Section:
    """Point the moved names at a new last section and count it in the headers."""
    optional = pe.OPTIONAL_HEADER
    file_align, section_align = int(optional.FileAlignment), int(optional.SectionAlignment)
    table = pe.DOS_HEADER.e_lfanew + 4 + 20 + pe.FILE_HEADER.SizeOfOptionalHeader
    header_at = table + _SECTION_HEADER.size * pe.FILE_HEADER.NumberOfSections
    headers_end = int(optional.SizeOfHeaders)
    data = bytes(pe.__data__)
    if any(data[header_at : min(headers_end, header_at + _SECTION_HEADER.size)]):
        raise PENameError("no room for a new section: the headers hold data after the sections")
    grow = 0
    if header_at + _SECTION_HEADER.size > headers_end:
        grow = _align(header_at + _SECTION_HEADER.size - headers_end, file_align)
        _grow_headers(pe, grow)

    names = bytearray()
    offsets: dict[str, int] = {}
    for item in moved:
        if item.new not in offsets:
            offsets[item.new] = len(names)
            names += item.new.encode("ascii") + b"\0"
    ends = [s.VirtualAddress + max(s.Misc_VirtualSize, s.SizeOfRawData) for s in pe.sections]
    rva = _align(max(ends, default=headers_end), section_align)
    for item in moved:
        address = rva + offsets[item.new] + (int(optional.ImageBase) if item.virtual else 0)
        if address >= 1 << 32:
            raise PENameError("a delay-import name's address does not fit in 32 bits")
        setattr(item.descriptor, item.field, address)
    raw = bytes(names).ljust(_align(len(names), file_align), b"\0")
    raw_end = max((s.PointerToRawData + s.SizeOfRawData for s in pe.sections), default=0)
    # After the sections and anything appended to them (such as a signature).
    data_at = _align(max(raw_end, len(data) + grow), file_align)
    header = _SECTION_HEADER.pack(
        SECTION_NAME, len(names), rva, len(raw), data_at, 0, 0, 0, 0, _SECTION_FLAGS
    )
    pe.FILE_HEADER.NumberOfSections += 1
    optional.SizeOfImage = _align(rva + len(names), section_align)
    optional.SizeOfInitializedData += len(raw)
    return _Section(
        header_at=header_at,
        header=header,
        data_at=data_at,
        data=raw,
        headers_end=headers_end,
        grow=grow,
    )


def _grow_headers(pe: pefile.PE, grow: int) -> None:
    """Move every file offset past the headers down by ``grow`` bytes."""
    optional = pe.OPTIONAL_HEADER
    first = min((s.VirtualAddress for s in pe.sections), default=optional.SizeOfImage)
    if optional.SizeOfHeaders + grow > first:
        raise PENameError("no room for a new section header before the first section")
    optional.SizeOfHeaders += grow
    for section in pe.sections:
        if section.PointerToRawData:
            section.PointerToRawData += grow
    if pe.FILE_HEADER.PointerToSymbolTable:
        pe.FILE_HEADER.PointerToSymbolTable += grow
    # The certificate table's "address" is a file offset.
    security = optional.DATA_DIRECTORY[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"]]
    if security.VirtualAddress:
        security.VirtualAddress += grow
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DEBUG"]])
    for entry in getattr(pe, "DIRECTORY_ENTRY_DEBUG", None) or ():
        if entry.struct.PointerToRawData:
            entry.struct.PointerToRawData += grow


def _with_checksum(data: bytes) -> bytes:
    pe = pefile.PE(data=data, fast_load=True)
    try:
        pe.OPTIONAL_HEADER.CheckSum = pe.generate_checksum()
        return bytes(pe.write())
    finally:
        pe.close()


def _align(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment
