"""read_pe on zlib.dll from the corpus (win-64 zlib 1.2.11, built with MSVC).

The expected imports, machine and characteristics were checked once with
binutils (``objdump -p zlib.dll``: "file format pei-x86-64", "Characteristics
0x2022 ... DLL" and the six "DLL Name:" lines, in this order).
"""

from __future__ import annotations

import contextlib
import io
import random
import struct
from collections.abc import Callable

import pytest

from condawheel.binaries import BinaryFormat, BinaryReadError, read_binary, sniff
from condawheel.binaries.pe import read_pe

CORRUPT = r"^corrupt PE file: "
ZLIB_DLL = ("real/win-64/zlib-1.2.11-h62dcd97_3.conda", "Library/bin/zlib.dll")
ZLIB_IMPORTS = (
    "VCRUNTIME140.dll",
    "api-ms-win-crt-stdio-l1-1-0.dll",
    "api-ms-win-crt-heap-l1-1-0.dll",
    "api-ms-win-crt-convert-l1-1-0.dll",
    "api-ms-win-crt-runtime-l1-1-0.dll",
    "KERNEL32.dll",
)
IMAGE_FILE_DLL = 0x2000


@pytest.fixture
def zlib_dll(corpus_member: Callable[[str, str], bytes]) -> bytes:
    return corpus_member(*ZLIB_DLL)


def _file_header_offset(data: bytes) -> int:
    e_lfanew: int = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[e_lfanew : e_lfanew + 4] == b"PE\0\0"
    return e_lfanew + 4


def test_dll(zlib_dll: bytes) -> None:
    info = read_pe(io.BytesIO(zlib_dll))
    assert info.format is BinaryFormat.PE
    assert info.arch == "amd64"
    assert info.archs == ("amd64",)
    assert info.needed == ZLIB_IMPORTS
    assert info.is_shared_library
    assert info.soname is None
    assert info.glibc_floor is None
    assert info.macos_floor is None


def test_read_binary_detects_pe(zlib_dll: bytes) -> None:
    assert sniff(zlib_dll[:8]) is BinaryFormat.PE
    assert read_binary(io.BytesIO(zlib_dll)).needed == ZLIB_IMPORTS


@pytest.mark.parametrize(
    ("machine", "arch"), [(0x8664, "amd64"), (0x14C, "win32"), (0xAA64, "arm64")]
)
def test_machine_to_arch(zlib_dll: bytes, machine: int, arch: str) -> None:
    data = bytearray(zlib_dll)
    struct.pack_into("<H", data, _file_header_offset(zlib_dll), machine)
    assert read_pe(io.BytesIO(bytes(data))).arch == arch


def test_executable_is_not_a_library(zlib_dll: bytes) -> None:
    data = bytearray(zlib_dll)
    characteristics_at = _file_header_offset(zlib_dll) + 18
    (characteristics,) = struct.unpack_from("<H", data, characteristics_at)
    struct.pack_into("<H", data, characteristics_at, characteristics & ~IMAGE_FILE_DLL)
    assert not read_pe(io.BytesIO(bytes(data))).is_shared_library


def _add_delay_import(dll: bytes, name: bytes) -> bytes:
    """Write a delay-import table for ``name`` into the slack at the end of .text."""
    data = bytearray(dll)
    file_header = _file_header_offset(dll)
    nsections, _, _, _, optional_size = struct.unpack_from("<HIIIH", data, file_header + 2)
    optional = file_header + 20
    assert struct.unpack_from("<H", data, optional)[0] == 0x20B  # PE32+
    section_table = optional + optional_size
    for i in range(nsections):
        header = section_table + 40 * i
        if data[header : header + 8].rstrip(b"\0") == b".text":
            vsize, vaddr, raw_size, raw_offset = struct.unpack_from("<IIII", data, header + 8)
            break
    start = (vsize + 15) & ~15
    rva, offset = vaddr + start, raw_offset + start
    # ImgDelayDescr (RVA-based) + null terminator, name, INT (ordinal 1), IAT, HMODULE.
    name_rva, int_rva, iat_rva, hmod_rva = rva + 64, rva + 96, rva + 112, rva + 128
    blob = struct.pack("<8I", 1, name_rva, hmod_rva, iat_rva, int_rva, 0, 0, 0) + bytes(32)
    blob += name.ljust(32, b"\0") + struct.pack("<QQ", 1 << 63 | 1, 0) + bytes(24)
    assert start + len(blob) <= raw_size, "not enough slack in .text"
    data[offset : offset + len(blob)] = blob
    delay_import_entry = optional + 112 + 13 * 8  # DataDirectory[13] of PE32+
    struct.pack_into("<II", data, delay_import_entry, rva, 64)
    return bytes(data)


def test_delay_imports_are_needed(zlib_dll: bytes) -> None:
    # No corpus DLL delay-loads anything, so graft a delay-import table on.
    info = read_pe(io.BytesIO(_add_delay_import(zlib_dll, b"delayed.dll")))
    assert info.needed == (*ZLIB_IMPORTS, "delayed.dll")


def test_duplicate_dll_names_are_merged(zlib_dll: bytes) -> None:
    # DLL names are case-insensitive on Windows: the first spelling is kept.
    info = read_pe(io.BytesIO(_add_delay_import(zlib_dll, b"kernel32.DLL")))
    assert info.needed == ZLIB_IMPORTS


def test_unreadable_import_table_raises(zlib_dll: bytes) -> None:
    data = bytearray(zlib_dll)
    import_entry = _file_header_offset(zlib_dll) + 20 + 112 + 1 * 8  # DataDirectory[1]
    struct.pack_into("<I", data, import_entry, 0x99999)  # an RVA outside every section
    with pytest.raises(BinaryReadError, match=r"^corrupt PE file: bad import table: "):
        read_pe(io.BytesIO(bytes(data)))


@pytest.mark.parametrize(
    "data",
    [
        b"MZ",
        b"MZ" + bytes(200),  # e_lfanew 0: no PE header where it points
        b"MZ" + bytes(58) + struct.pack("<I", 64) + b"NE\0\0" + bytes(200),  # 16-bit NE
        b"MZ" + random.Random(4).randbytes(4096),
    ],
    ids=["magic-only", "no-pe-header", "ne-executable", "garbage"],
)
def test_mz_without_valid_pe_raises(data: bytes) -> None:
    assert sniff(data[:8]) is BinaryFormat.PE  # optimistic
    with pytest.raises(BinaryReadError, match=CORRUPT):
        read_pe(io.BytesIO(data))


def test_truncated_raises(zlib_dll: bytes) -> None:
    for length in [0, 2, 64, 0x3C, 300, 600, 1024, len(zlib_dll) // 2, len(zlib_dll) - 1]:
        with pytest.raises(BinaryReadError, match=CORRUPT):
            read_pe(io.BytesIO(zlib_dll[:length]))


def test_damaged_headers_never_raise_anything_else(zlib_dll: bytes) -> None:
    rng = random.Random(5)
    # The import directory: RVA 0x14A68 in .rdata (RVA 0xF000, file offset 0xD800).
    import_table = 0xD800 + (0x14A68 - 0xF000)
    for _ in range(300):
        damaged = bytearray(zlib_dll)
        for _ in range(rng.randint(1, 8)):
            region = rng.choice([(0, 1024), (import_table, import_table + 1024)])
            damaged[rng.randrange(*region)] = rng.randrange(256)
        with contextlib.suppress(BinaryReadError):
            read_pe(io.BytesIO(bytes(damaged)))


def test_reading_runs_no_full_garbage_collection(
    zlib_dll: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pefile's close() runs gc.collect(), a cost paid per DLL: nothing here calls it."""
    collections: list[int] = []

    def collect(*args: object) -> int:
        collections.append(1)
        return 0

    monkeypatch.setattr("gc.collect", collect)
    assert read_pe(io.BytesIO(zlib_dll)).needed == ZLIB_IMPORTS
    not_pe = b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0x40) + b"NE\0\0" + b"\0" * 64
    with pytest.raises(BinaryReadError, match=CORRUPT):
        read_pe(io.BytesIO(not_pe))
    assert collections == []
