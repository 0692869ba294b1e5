"""Read-only facts about ELF, Mach-O and PE binaries: architecture, dependencies, floors."""

from __future__ import annotations

from condawheel.binaries.detect import MIN_SNIFF_BYTES, sniff
from condawheel.binaries.elf import read_elf
from condawheel.binaries.macho import read_macho
from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError
from condawheel.binaries.patcher import BinaryEditError, BinaryEdits, Edit, EditKind, apply_edits
from condawheel.binaries.pe import read_pe
from condawheel.binaries.read import read_binary

__all__ = [
    "MIN_SNIFF_BYTES",
    "BinaryEditError",
    "BinaryEdits",
    "BinaryFormat",
    "BinaryInfo",
    "BinaryReadError",
    "Edit",
    "EditKind",
    "apply_edits",
    "read_binary",
    "read_elf",
    "read_macho",
    "read_pe",
    "sniff",
]
