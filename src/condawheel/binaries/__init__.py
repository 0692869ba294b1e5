"""Read-only facts about ELF, Mach-O and PE binaries: architecture, dependencies, floors.

Each format's reader and the patcher are imported on first use: a package of ELF files
never loads the PE and Mach-O libraries, and one without binaries loads none.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from condawheel.binaries.detect import MIN_SNIFF_BYTES, sniff
from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError
from condawheel.binaries.read import read_binary

if TYPE_CHECKING:
    from condawheel.binaries.elf import read_elf
    from condawheel.binaries.macho import read_macho
    from condawheel.binaries.patcher import (
        BinaryEditError,
        BinaryEdits,
        Edit,
        EditKind,
        apply_edits,
    )
    from condawheel.binaries.pe import read_pe

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

_LAZY = {
    "read_elf": "elf",
    "read_macho": "macho",
    "read_pe": "pe",
    **dict.fromkeys(
        ("BinaryEditError", "BinaryEdits", "Edit", "EditKind", "apply_edits"), "patcher"
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
