"""Read the facts condawheel needs from a Mach-O file (thin or universal), with macholib.

macholib's ``MachO.load`` also reads the contents of every section of every
slice into memory (it is built for rewriting), which for a large dylib is most
of the file. So this module decodes the headers and load commands with
macholib's structure definitions and constants, and reads nothing else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from macholib import mach_o
from macholib.ptypes import sizeof

from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError

# cputype -> the architecture names used in macosx_* wheel tags.
_ARCHES = {
    7: "i686",
    0x01000007: "x86_64",
    12: "arm",
    0x0100000C: "arm64",
    0x0200000C: "arm64_32",
    18: "ppc",
    0x01000012: "ppc64",
}

# (header class, endianness) by the magic number read big-endian.
_HEADERS: dict[int, tuple[Any, str]] = {
    mach_o.MH_MAGIC: (mach_o.mach_header, ">"),
    mach_o.MH_CIGAM: (mach_o.mach_header, "<"),
    mach_o.MH_MAGIC_64: (mach_o.mach_header_64, ">"),
    mach_o.MH_CIGAM_64: (mach_o.mach_header_64, "<"),
}

_DEPENDENCY_COMMANDS = frozenset(
    {
        mach_o.LC_LOAD_DYLIB,
        mach_o.LC_LOAD_WEAK_DYLIB,
        mach_o.LC_REEXPORT_DYLIB,
        mach_o.LC_LOAD_UPWARD_DYLIB,
    }
)
_SEGMENT_COMMANDS = {
    mach_o.LC_SEGMENT: mach_o.segment_command,
    mach_o.LC_SEGMENT_64: mach_o.segment_command_64,
}
# Python extension modules are bundles, so they count as shared libraries.
_SHARED_FILETYPES = frozenset({mach_o.MH_DYLIB, mach_o.MH_BUNDLE})


@dataclass
class _Slice:
    arch: str
    is_shared_library: bool
    install_name: str | None = None
    needed: list[str] = field(default_factory=list)
    rpaths: list[str] = field(default_factory=list)
    macos_floor: tuple[int, int] | None = None
    #: End of the furthest segment data, relative to the slice.
    segments_end: int = 0


def read_macho(fileobj: BinaryIO) -> BinaryInfo:
    """Read a thin or universal Mach-O file from ``fileobj`` (seekable, starting at offset 0).

    Only the headers and load commands are read. For a universal file the
    dependencies and rpaths of all slices are merged (first occurrence wins)
    and ``macos_floor`` is the highest of the slices'. Raises
    :class:`~condawheel.binaries.model.BinaryReadError` if the file is not a
    well-formed Mach-O file.
    """
    try:
        slices = _read_slices(fileobj)
    except BinaryReadError:
        raise
    except Exception as exc:
        # macholib structures raise struct.error on short reads; the rest is
        # ValueError, UnicodeDecodeError, IndexError from garbage fields.
        raise BinaryReadError.corrupt("Mach-O", exc) from exc

    first = slices[0]
    floors = [s.macos_floor for s in slices if s.macos_floor is not None]
    archs = tuple(dict.fromkeys(s.arch for s in slices))
    return BinaryInfo(
        format=BinaryFormat.MACHO,
        arch=archs[0],
        archs=archs,
        soname=next((s.install_name for s in slices if s.install_name), None),
        needed=tuple(dict.fromkeys(name for s in slices for name in s.needed)),
        runpath=tuple(dict.fromkeys(path for s in slices for path in s.rpaths)),
        is_shared_library=first.is_shared_library,
        macos_floor=max(floors) if floors else None,
    )


def _read_slices(fileobj: BinaryIO) -> list[_Slice]:
    file_size = fileobj.seek(0, 2)
    fileobj.seek(0)
    (magic,) = struct.unpack(">I", fileobj.read(4))
    fileobj.seek(0)
    if magic not in (mach_o.FAT_MAGIC, mach_o.FAT_MAGIC_64):
        return [_read_slice(fileobj, 0, file_size)]

    fat = mach_o.fat_header.from_fileobj(fileobj)
    arch_struct = mach_o.fat_arch if magic == mach_o.FAT_MAGIC else mach_o.fat_arch64
    if fat.nfat_arch == 0 or sizeof(fat) + fat.nfat_arch * sizeof(arch_struct) > file_size:
        raise BinaryReadError(f"corrupt Mach-O file: bad universal slice count {fat.nfat_arch}")
    entries = [arch_struct.from_fileobj(fileobj) for _ in range(fat.nfat_arch)]
    slices = []
    for entry in entries:
        if entry.offset + entry.size > file_size:
            raise BinaryReadError("corrupt Mach-O file: universal slice past the end of the file")
        slices.append(_read_slice(fileobj, entry.offset, entry.size))
    return slices


def _read_slice(fileobj: BinaryIO, offset: int, size: int) -> _Slice:
    fileobj.seek(offset)
    (magic,) = struct.unpack(">I", fileobj.read(4))
    if magic not in _HEADERS:
        raise BinaryReadError(f"corrupt Mach-O file: bad header magic {magic:#010x}")
    header_struct, endian = _HEADERS[magic]
    fileobj.seek(offset)
    header = header_struct.from_fileobj(fileobj, _endian_=endian)
    if sizeof(header_struct) + header.sizeofcmds > size:
        raise BinaryReadError("corrupt Mach-O file: load commands past the end of the file")
    # Bounded by the slice size just checked, and small in practice (KBs).
    commands = fileobj.read(header.sizeofcmds)
    if len(commands) != header.sizeofcmds:
        raise BinaryReadError("corrupt Mach-O file: truncated load commands")

    cputype = header.cputype
    found = _Slice(
        arch=_ARCHES.get(cputype) or f"macho-cpu-{cputype:#x}",
        is_shared_library=header.filetype in _SHARED_FILETYPES,
    )
    pos = 0
    lc_size = sizeof(mach_o.load_command)
    for _ in range(header.ncmds):
        lc = mach_o.load_command.from_str(commands[pos : pos + lc_size], _endian_=endian)
        if lc.cmdsize < lc_size or pos + lc.cmdsize > len(commands):
            raise BinaryReadError("corrupt Mach-O file: bad load command size")
        _apply(found, lc.cmd, commands[pos : pos + lc.cmdsize], endian)
        pos += lc.cmdsize
    # Only the load commands were read, so a cut-off file would otherwise go
    # unnoticed; __LINKEDIT runs to the end of an intact slice.
    if found.segments_end > size:
        raise BinaryReadError(
            f"corrupt Mach-O file: truncated at {size} of {found.segments_end} bytes"
        )
    return found


def _apply(found: _Slice, cmd: int, data: bytes, endian: str) -> None:
    """Record what load command ``cmd`` (``data`` is the whole command) says, if it matters."""
    if cmd in _DEPENDENCY_COMMANDS:
        found.needed.append(_lc_str(data, _body(mach_o.dylib_command, data, endian).name))
    elif cmd in _SEGMENT_COMMANDS:
        segment = _body(_SEGMENT_COMMANDS[cmd], data, endian)
        found.segments_end = max(found.segments_end, segment.fileoff + segment.filesize)
    elif cmd == mach_o.LC_ID_DYLIB:
        found.install_name = _lc_str(data, _body(mach_o.dylib_command, data, endian).name)
    elif cmd == mach_o.LC_RPATH:
        found.rpaths.append(_lc_str(data, _body(mach_o.rpath_command, data, endian).path))
    elif cmd == mach_o.LC_BUILD_VERSION:
        build = _body(mach_o.build_version_command, data, endian)
        if build.platform == mach_o.PLATFORM_MACOS and found.macos_floor is None:
            found.macos_floor = _version(build.minos)
    elif cmd == mach_o.LC_VERSION_MIN_MACOSX and found.macos_floor is None:
        found.macos_floor = _version(_body(mach_o.version_min_command, data, endian).version)


def _body(struct_class: Any, data: bytes, endian: str) -> Any:
    start = sizeof(mach_o.load_command)
    return struct_class.from_str(data[start : start + sizeof(struct_class)], _endian_=endian)


def _lc_str(data: bytes, offset: int) -> str:
    # An lc_str is an offset from the start of the load command to a
    # NUL-terminated string padded to the command's size.
    if not sizeof(mach_o.load_command) <= offset < len(data):
        raise BinaryReadError("corrupt Mach-O file: load command string out of bounds")
    return data[offset:].split(b"\0", 1)[0].decode("utf-8")


def _version(packed: int) -> tuple[int, int]:
    # X.Y.Z packed in nibbles as xxxx.yy.zz.
    return (packed >> 16, (packed >> 8) & 0xFF)
