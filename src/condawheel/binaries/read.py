"""One entry point that reads any binary: the format sniffed, then its reader."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import BinaryIO

from condawheel.binaries.detect import MIN_SNIFF_BYTES, sniff
from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError

# Each reader is imported when a file of its format is met (pyelftools, macholib and
# pefile take tens of milliseconds each to import).
_READERS = {
    BinaryFormat.ELF: ("condawheel.binaries.elf", "read_elf"),
    BinaryFormat.MACHO: ("condawheel.binaries.macho", "read_macho"),
    BinaryFormat.PE: ("condawheel.binaries.pe", "read_pe"),
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
    return _reader(fmt)(fileobj)


def _reader(fmt: BinaryFormat) -> Callable[[BinaryIO], BinaryInfo]:
    module, name = _READERS[fmt]
    reader: Callable[[BinaryIO], BinaryInfo] = getattr(importlib.import_module(module), name)
    return reader
