"""One entry point that reads any binary: the format sniffed, then its reader."""

from __future__ import annotations

from typing import BinaryIO

from condawheel.binaries.detect import MIN_SNIFF_BYTES, sniff
from condawheel.binaries.elf import read_elf
from condawheel.binaries.macho import read_macho
from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError
from condawheel.binaries.pe import read_pe

_READERS = {
    BinaryFormat.ELF: read_elf,
    BinaryFormat.MACHO: read_macho,
    BinaryFormat.PE: read_pe,
}


def read_binary(fileobj: BinaryIO, fmt: BinaryFormat | None = None) -> BinaryInfo:
    """Read the facts about the binary in ``fileobj``, a seekable file starting at offset 0.

    ``fmt`` skips detection when the caller already ran :func:`sniff`.
    Raises :class:`BinaryReadError` if the file is not an ELF, Mach-O or PE
    file, or is truncated or corrupt.
    """
    if fmt is None:
        fileobj.seek(0)
        head = fileobj.read(MIN_SNIFF_BYTES)
        fmt = sniff(head)
        if fmt is None:
            raise BinaryReadError("not an ELF, Mach-O or PE file")
    fileobj.seek(0)
    return _READERS[fmt](fileobj)
