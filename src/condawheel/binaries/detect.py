"""Recognise ELF, Mach-O and PE files from their first bytes."""

from __future__ import annotations

from condawheel.binaries.model import BinaryFormat

#: How many leading bytes :func:`sniff` needs to decide reliably.
MIN_SNIFF_BYTES = 8

_ELF_MAGIC = b"\x7fELF"
_MACHO_THIN_MAGICS = frozenset(
    {
        b"\xfe\xed\xfa\xce",  # MH_MAGIC, 32-bit big-endian
        b"\xce\xfa\xed\xfe",  # MH_CIGAM, 32-bit little-endian
        b"\xfe\xed\xfa\xcf",  # MH_MAGIC_64, 64-bit big-endian
        b"\xcf\xfa\xed\xfe",  # MH_CIGAM_64, 64-bit little-endian
    }
)
# Universal headers are always big-endian on disk, whatever the slices are.
_MACHO_FAT_MAGICS = frozenset({b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"})
# Java class files share 0xCAFEBABE; bytes 4-8 are then minor/major version, and
# major versions start at 45, so `file` treats any count above this as Java.
# Real universal binaries hold a handful of slices.
_MAX_FAT_ARCHS = 30
_PE_MAGIC = b"MZ"


def sniff(head: bytes) -> BinaryFormat | None:
    """Return the binary format that ``head`` (a file's first bytes) starts, or ``None``.

    Give at least :data:`MIN_SNIFF_BYTES` bytes; fewer are handled, but a
    universal Mach-O cannot then be told apart from a Java class file and is
    reported as ``None``. An ``MZ`` header is reported as PE without checking
    for the ``PE\\0\\0`` signature further in: :func:`~condawheel.binaries.pe.read_pe`
    confirms it.
    """
    magic = head[:4]
    if magic == _ELF_MAGIC:
        return BinaryFormat.ELF
    if magic in _MACHO_THIN_MAGICS:
        return BinaryFormat.MACHO
    if magic in _MACHO_FAT_MAGICS and len(head) >= MIN_SNIFF_BYTES:
        nfat_arch = int.from_bytes(head[4:8], "big")
        if 0 < nfat_arch <= _MAX_FAT_ARCHS:
            return BinaryFormat.MACHO
        return None
    if head[:2] == _PE_MAGIC:
        return BinaryFormat.PE
    return None
