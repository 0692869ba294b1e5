"""Read the facts condawheel needs from a PE (Windows DLL / EXE) file, with pefile."""

from __future__ import annotations

from typing import Any, BinaryIO

import pefile

from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError

# IMAGE_FILE_MACHINE_* -> the architecture suffix of win_* wheel tags.
_ARCHES = {
    pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_AMD64"]: "amd64",
    pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_I386"]: "win32",
    pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_ARM64"]: "arm64",
    pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_ARMNT"]: "arm",
}

#: Where the DOS header keeps the offset of the PE header.
_E_LFANEW = 0x3C
# (data directory, attribute pefile fills in, name for messages)
_IMPORT_DIRECTORIES = (
    ("IMAGE_DIRECTORY_ENTRY_IMPORT", "DIRECTORY_ENTRY_IMPORT", "import table"),
    ("IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT", "DIRECTORY_ENTRY_DELAY_IMPORT", "delay-import table"),
)


def read_pe(fileobj: BinaryIO) -> BinaryInfo:
    """Read a PE file from ``fileobj`` (the PE starting at offset 0).

    The whole file is read into memory: pefile wants bytes, and DLLs are
    moderate in size. Only the headers and the import and delay-import
    directories are parsed. Raises
    :class:`~condawheel.binaries.model.BinaryReadError` if the file is not a
    well-formed PE file (an ``MZ`` file without a ``PE\\0\\0`` header included).
    """
    fileobj.seek(0)
    data = fileobj.read()
    try:
        return _read(data)
    except BinaryReadError:
        raise
    except Exception as exc:
        # pefile raises PEFormatError for bad headers, but struct.error,
        # IndexError or AttributeError can escape it on truncated input.
        raise BinaryReadError.corrupt("PE", exc) from exc


def _read(data: bytes) -> BinaryInfo:
    _check_signature(data)
    # Not closed: made from bytes, a PE holds no file, and close() would only run a
    # full gc.collect(), a cost paid for every DLL of a package.
    pe = pefile.PE(data=data, fast_load=True)
    _check_complete(pe, len(data))
    machine = pe.FILE_HEADER.Machine
    arch = _ARCHES.get(machine, f"pe-machine-{machine:#06x}")
    needed: dict[str, str] = {}
    for directory_name, attribute, label in _IMPORT_DIRECTORIES:
        index = pefile.DIRECTORY_ENTRY[directory_name]
        if not _directory_present(pe, index):
            continue
        warnings_before = len(pe.get_warnings())
        pe.parse_data_directories(directories=[index], import_dllnames_only=True)
        # pefile logs a broken import table as a warning and carries on;
        # a silently short dependency list would be worse than an error.
        warnings = pe.get_warnings()[warnings_before:]
        if warnings:
            raise BinaryReadError(f"corrupt PE file: bad {label}: {warnings[0]}")
        for entry in getattr(pe, attribute, None) or ():
            dll = _decode(entry.dll)
            # Windows resolves DLL names case-insensitively.
            needed.setdefault(dll.lower(), dll)
    return BinaryInfo(
        format=BinaryFormat.PE,
        arch=arch,
        archs=(arch,),
        needed=tuple(needed.values()),
        is_shared_library=bool(
            pe.FILE_HEADER.Characteristics & pefile.IMAGE_CHARACTERISTICS["IMAGE_FILE_DLL"]
        ),
    )


def _check_signature(data: bytes) -> None:
    """Many files start with "MZ" and are no PE: told apart here, cheaply, since pefile
    runs a full gc.collect() on each file it refuses."""
    if len(data) < _E_LFANEW + 4:
        return  # pefile says what is wrong
    offset = int.from_bytes(data[_E_LFANEW : _E_LFANEW + 4], "little")
    if data[offset : offset + 4] != b"PE\0\0":
        raise BinaryReadError("corrupt PE file: no PE header where the DOS header says")


def _check_complete(pe: Any, size: int) -> None:
    # pefile parses what is there of a cut-off file and only warns; the raw
    # data of every section must be in the file for the import lists to be whole.
    if len(pe.sections) < pe.FILE_HEADER.NumberOfSections:
        raise BinaryReadError("corrupt PE file: section table is truncated")
    end = max((s.PointerToRawData + s.SizeOfRawData for s in pe.sections), default=0)
    if size < end:
        raise BinaryReadError(f"corrupt PE file: truncated at {size} of {end} bytes")


def _directory_present(pe: Any, index: int) -> bool:
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    return index < len(directories) and bool(directories[index].VirtualAddress)


def _decode(name: bytes | None) -> str:
    if not name:
        raise BinaryReadError("corrupt PE file: import without a DLL name")
    # Import names are ANSI; anything outside ASCII is unusual enough that a
    # replacement character is fine.
    return name.decode("ascii", errors="replace")
