"""Ad-hoc code signatures for Mach-O files, written on any host.

Editing a load command invalidates a Mach-O file's code signature, and macOS
on Apple silicon refuses to map arm64 code whose signature is missing or
wrong. Apple's ``codesign`` runs only on macOS, LIEF can remove a signature
but not write one, and no maintained PyPI or Debian package signs on Linux, so
this module writes the same minimal signature that LLVM's ld64.lld emits for
arm64: an ``LC_CODE_SIGNATURE`` command pointing at an embedded-signature
SuperBlob at the end of ``__LINKEDIT`` that holds one CodeDirectory of SHA-256
hashes of every 4096-byte page before it, flagged ad hoc (no certificate, no
requirements, no entitlements).

Only little-endian (x86_64, arm64, i386) slices can be signed; others are
left alone by :func:`resign`.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from condawheel.exceptions import BadInputError

__all__ = ["CodeSignError", "needs_signature", "resign", "sign_thin"]

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSSLOT_CODEDIRECTORY = 0
CS_ADHOC = 0x2
CS_EXECSEG_MAIN_BINARY = 0x1
CS_HASHTYPE_SHA256 = 2
#: CodeDirectory version with the executable-segment fields (macOS 10.14+).
CD_VERSION = 0x20400
PAGE_SIZE = 4096
HASH_SIZE = 32

_LC_SEGMENT, _LC_SEGMENT_64, _LC_CODE_SIGNATURE = 0x1, 0x19, 0x1D
_MH_EXECUTE = 2
_CPU_ARM64 = 0x0100000C
_THIN_MAGICS = {0xFEEDFACE: False, 0xFEEDFACF: True}  # little-endian on disk: is 64-bit
_FAT_MAGICS = {0xCAFEBABE: False, 0xCAFEBABF: True}  # big-endian on disk: 64-bit entries
# SuperBlob header + one BlobIndex, aligned to 8 as ld64.lld does; CodeDirectory header.
_BLOB_HEADERS_SIZE = 24
_CD_HEADER = struct.Struct(">9I4B4I4Q")


class CodeSignError(BadInputError):
    """A Mach-O slice could not be signed; the message is short and lower-case."""


@dataclass(frozen=True, slots=True)
class _Layout:
    is_64: bool
    cputype: int
    filetype: int
    ncmds: int
    sizeofcmds: int
    header_size: int
    signature_command: int | None  # offset of LC_CODE_SIGNATURE
    linkedit_command: int | None  # offset of the __LINKEDIT segment command
    text_segment: tuple[int, int]  # __TEXT (fileoff, filesize)
    first_section: int  # lowest file offset of section data: the end of the header room


def needs_signature(thin: bytes) -> bool:
    """Whether a thin slice must be signed after an edit: it is arm64, or it was signed."""
    if len(thin) < 28 or int.from_bytes(thin[:4], "little") not in _THIN_MAGICS:
        return False
    layout = _parse(thin)
    if layout.linkedit_command is None:  # an object file, say: nothing to sign
        return False
    return layout.cputype == _CPU_ARM64 or layout.signature_command is not None


def resign(data: bytes, identifier: str) -> bytes:
    """Sign ad hoc every slice of a thin or universal Mach-O file that :func:`needs_signature`.

    A universal file is laid out again, since slices change size; each keeps
    its alignment. Raises :class:`CodeSignError` if a slice cannot be signed.
    """
    magic = int.from_bytes(data[:4], "big")
    if magic not in _FAT_MAGICS:
        return sign_thin(data, identifier) if needs_signature(data) else data
    entry = struct.Struct(">iiQQII" if _FAT_MAGICS[magic] else ">iiIII")
    count = int.from_bytes(data[4:8], "big")
    entries = [entry.unpack_from(data, 8 + i * entry.size) for i in range(count)]
    out = bytearray(8 + count * entry.size)
    out[:8] = data[:8]
    for i, (cputype, subtype, offset, size, align, *rest) in enumerate(entries):
        thin = data[offset : offset + size]
        if needs_signature(thin):
            thin = sign_thin(thin, identifier)
        start = _align(len(out), 1 << align)
        out += bytes(start - len(out)) + thin
        entry.pack_into(out, 8 + i * entry.size, cputype, subtype, start, len(thin), align, *rest)
    return bytes(out)


def sign_thin(thin: bytes, identifier: str) -> bytes:
    """Return ``thin`` (one little-endian Mach-O image) with a fresh ad-hoc signature.

    An existing signature is replaced in place; otherwise an
    ``LC_CODE_SIGNATURE`` command is added in the room after the load commands.
    """
    layout = _parse(thin)
    if layout.linkedit_command is None:
        raise CodeSignError("no __LINKEDIT segment")
    data = bytearray(thin)
    seg = _segment_struct(layout.is_64)
    link = list(seg.unpack_from(data, layout.linkedit_command))
    linkedit_end = link[5] + link[6]  # fileoff + filesize
    if linkedit_end != len(data):
        raise CodeSignError("data after __LINKEDIT")
    if layout.signature_command is not None:
        dataoff, datasize = struct.unpack_from("<II", data, layout.signature_command + 8)
        if dataoff + datasize != linkedit_end or dataoff < link[5]:
            raise CodeSignError("code signature is not at the end of __LINKEDIT")
        command = layout.signature_command
    else:
        command = layout.header_size + layout.sizeofcmds
        if command + 16 > layout.first_section or any(data[command : command + 16]):
            raise CodeSignError("no room in the header for a code signature command")
        dataoff = _align(linkedit_end, 16)
        struct.pack_into("<II", data, 16, layout.ncmds + 1, layout.sizeofcmds + 16)
    ident = identifier.encode("utf-8") + b"\0"
    pages = -(-dataoff // PAGE_SIZE)
    hashes_at = _align(_BLOB_HEADERS_SIZE + _CD_HEADER.size + len(ident), 16)
    size = hashes_at + pages * HASH_SIZE
    struct.pack_into("<IIII", data, command, _LC_CODE_SIGNATURE, 16, dataoff, size)
    link[6] = dataoff + size - link[5]
    if link[4] < link[6]:  # vmsize must cover the file data; dyld pages it in
        link[4] = _align(link[6], 0x4000 if layout.cputype == _CPU_ARM64 else 0x1000)
    seg.pack_into(data, layout.linkedit_command, *link)

    del data[dataoff:]
    data += bytes(dataoff - len(data))
    code = bytes(data)
    return code + _signature(code, layout, ident, hashes_at=hashes_at, size=size)


def _signature(code: bytes, layout: _Layout, ident: bytes, *, hashes_at: int, size: int) -> bytes:
    """The embedded signature of ``code``: a CodeDirectory and one hash per page."""
    pages = -(-len(code) // PAGE_SIZE)
    exec_flags = CS_EXECSEG_MAIN_BINARY if layout.filetype == _MH_EXECUTE else 0
    cd_header = _CD_HEADER.pack(
        CSMAGIC_CODEDIRECTORY,
        size - _BLOB_HEADERS_SIZE,  # length of the CodeDirectory
        CD_VERSION,
        CS_ADHOC,
        hashes_at - _BLOB_HEADERS_SIZE,  # hashOffset
        _CD_HEADER.size,  # identOffset
        0,  # nSpecialSlots
        pages,  # nCodeSlots
        len(code),  # codeLimit
        HASH_SIZE,
        CS_HASHTYPE_SHA256,
        0,  # platform
        PAGE_SIZE.bit_length() - 1,
        0,  # spare2
        0,  # scatterOffset
        0,  # teamOffset
        0,  # spare3
        0,  # codeLimit64
        *layout.text_segment,  # execSegBase, execSegLimit
        exec_flags,
    )
    signature = bytearray(size)
    struct.pack_into(">III", signature, 0, CSMAGIC_EMBEDDED_SIGNATURE, size, 1)
    struct.pack_into(">II", signature, 12, CSSLOT_CODEDIRECTORY, _BLOB_HEADERS_SIZE)
    cd = _BLOB_HEADERS_SIZE
    signature[cd : cd + _CD_HEADER.size] = cd_header
    signature[cd + _CD_HEADER.size : cd + _CD_HEADER.size + len(ident)] = ident
    for page in range(pages):
        chunk = code[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        at = hashes_at + page * HASH_SIZE
        signature[at : at + HASH_SIZE] = hashlib.sha256(chunk).digest()
    return bytes(signature)


def _parse(thin: bytes) -> _Layout:
    try:
        return _parse_commands(thin)
    except struct.error as exc:
        raise CodeSignError(f"truncated Mach-O header: {exc}") from exc


def _parse_commands(thin: bytes) -> _Layout:
    magic = int.from_bytes(thin[:4], "little")
    if magic not in _THIN_MAGICS:
        raise CodeSignError(f"not a little-endian Mach-O image (magic {magic:#010x})")
    is_64 = _THIN_MAGICS[magic]
    cputype, _, filetype, ncmds, sizeofcmds = struct.unpack_from("<iiIII", thin, 4)
    header_size = 32 if is_64 else 28
    seg = _segment_struct(is_64)
    section_size = 80 if is_64 else 68
    signature = linkedit = None
    text = (0, 0)
    first_section = len(thin)
    pos = header_size
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<II", thin, pos)
        if cmdsize < 8 or pos + cmdsize > header_size + sizeofcmds:
            raise CodeSignError("bad load command size")
        if cmd == _LC_CODE_SIGNATURE:
            signature = pos
        elif cmd in (_LC_SEGMENT, _LC_SEGMENT_64):
            fields = seg.unpack_from(thin, pos)
            name = fields[2].rstrip(b"\0")
            if name == b"__LINKEDIT":
                linkedit = pos
            elif name == b"__TEXT":
                text = (fields[5], fields[6])
            for i in range(fields[9]):  # nsects
                at = pos + seg.size + i * section_size + (48 if is_64 else 40)
                (offset,) = struct.unpack_from("<I", thin, at)
                if offset:
                    first_section = min(first_section, offset)
        pos += cmdsize
    return _Layout(
        is_64=is_64,
        cputype=cputype,
        filetype=filetype,
        ncmds=ncmds,
        sizeofcmds=sizeofcmds,
        header_size=header_size,
        signature_command=signature,
        linkedit_command=linkedit,
        text_segment=text,
        first_section=first_section,
    )


def _segment_struct(is_64: bool) -> struct.Struct:
    # cmd, cmdsize, segname, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, nsects, flags
    return struct.Struct("<II16sQQQQiiII" if is_64 else "<II16sIIIIiiII")


def _align(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment
