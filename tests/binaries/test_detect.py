"""Format sniffing, and read_binary's dispatch on it."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from condawheel.binaries import (
    MIN_SNIFF_BYTES,
    BinaryFormat,
    BinaryReadError,
    read_binary,
    sniff,
)
from condawheel.exceptions import BadInputError

LIBZ_ARM64 = ("real/osx-arm64/libzlib-1.3.1-h8359307_2.conda", "lib/libz.1.3.1.dylib")
ZLIB_DLL = ("real/win-64/zlib-1.2.11-h62dcd97_3.conda", "Library/bin/zlib.dll")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x7fELF\x02\x01\x01\x00", BinaryFormat.ELF),
        (b"\xfe\xed\xfa\xce\x00\x00\x00\x12", BinaryFormat.MACHO),  # 32-bit big-endian (ppc)
        (b"\xce\xfa\xed\xfe\x07\x00\x00\x00", BinaryFormat.MACHO),  # 32-bit little-endian
        (b"\xfe\xed\xfa\xcf\x01\x00\x00\x12", BinaryFormat.MACHO),  # 64-bit big-endian
        (b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01", BinaryFormat.MACHO),  # 64-bit little-endian
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", BinaryFormat.MACHO),  # universal, 2 slices
        (b"\xca\xfe\xba\xbf\x00\x00\x00\x01", BinaryFormat.MACHO),  # universal 64-bit
        (b"MZ\x90\x00\x03\x00\x00\x00", BinaryFormat.PE),
        # Java class files: same magic, then minor 0 / major 52 (Java 8), 65 (Java 21).
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", None),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x41", None),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x00", None),  # no slices: not a usable binary
        (b"#!/bin/sh\n", None),
        (b"\x00" * 8, None),
        (b"!<arch>\n", None),  # static archive
    ],
)
def test_sniff(head: bytes, expected: BinaryFormat | None) -> None:
    assert sniff(head) is expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", None),
        (b"\x7f", None),
        (b"\x7fEL", None),
        (b"\x7fELF", BinaryFormat.ELF),
        (b"MZ", BinaryFormat.PE),
        (b"\xcf\xfa\xed\xfe", BinaryFormat.MACHO),
        # Cannot tell a universal binary from a Java class without the count.
        (b"\xca\xfe\xba\xbe", None),
        (b"\xca\xfe\xba\xbe\x00\x00\x00", None),
    ],
)
def test_sniff_short_heads(head: bytes, expected: BinaryFormat | None) -> None:
    assert len(head) < MIN_SNIFF_BYTES
    assert sniff(head) is expected


def test_binary_read_error_is_bad_input() -> None:
    assert issubclass(BinaryReadError, BadInputError)
    assert BinaryReadError("corrupt ELF file: x").exit_code == BadInputError.exit_code


def test_read_binary_dispatches(corpus_member: Callable[[str, str], bytes]) -> None:
    macho = io.BytesIO(corpus_member(*LIBZ_ARM64))
    assert read_binary(macho).format is BinaryFormat.MACHO
    pe = io.BytesIO(corpus_member(*ZLIB_DLL))
    pe.seek(100)  # read_binary reads from the start whatever the position
    assert read_binary(pe).format is BinaryFormat.PE


def test_read_binary_with_known_format(corpus_member: Callable[[str, str], bytes]) -> None:
    info = read_binary(io.BytesIO(corpus_member(*LIBZ_ARM64)), BinaryFormat.MACHO)
    assert info.soname == "@rpath/libz.1.dylib"


def test_read_binary_forced_wrong_format_raises(corpus_member: Callable[[str, str], bytes]) -> None:
    with pytest.raises(BinaryReadError, match=r"^corrupt ELF file: "):
        read_binary(io.BytesIO(corpus_member(*ZLIB_DLL)), BinaryFormat.ELF)


@pytest.mark.parametrize(
    "data", [b"", b"plain text, not a binary", b"\xca\xfe\xba\xbe\x00\x03\x00\x34"]
)
def test_read_binary_rejects_non_binaries(data: bytes) -> None:
    with pytest.raises(BinaryReadError, match=r"^not an ELF, Mach-O or PE file$"):
        read_binary(io.BytesIO(data))
