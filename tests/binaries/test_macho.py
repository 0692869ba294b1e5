"""read_macho on real dylibs and executables from the corpus, and universal files made of them.

The expected facts were checked once by walking the load commands with plain
``struct.unpack`` (independently of macholib: magic, cputype, filetype, then
each command's cmd/cmdsize and lc_str offset), since otool is not available.
"""

from __future__ import annotations

import contextlib
import io
import random
import struct
from collections.abc import Callable
from typing import Any, BinaryIO, cast

import pytest

from condawheel.binaries import BinaryFormat, BinaryReadError, read_binary
from condawheel.binaries.macho import read_macho

CORRUPT = r"^corrupt Mach-O file: "
LIBZ_ARM64 = ("real/osx-arm64/libzlib-1.3.1-h8359307_2.conda", "lib/libz.1.3.1.dylib")
LIBZ_X86_64 = ("real/osx-64/zlib-1.2.11-h1de35cc_3.conda", "lib/libz.1.2.11.dylib")
NCURSES = "real/osx-arm64/ncurses-6.5-h5e97a16_3.conda"
# The osx-64 zlib was built with a placeholder prefix left in its LC_RPATH.
PLACEHOLDER_RPATH_START = "/opt/concourse/worker/volumes/live/"
PLACEHOLDER_RPATH_END = "_placehold_placehold_/lib"

Member = Callable[[str, str], bytes]

MH_EXECUTE, MH_DYLIB, MH_BUNDLE = 2, 6, 8


def test_arm64_dylib(corpus_member: Member) -> None:
    info = read_macho(io.BytesIO(corpus_member(*LIBZ_ARM64)))
    assert info.format is BinaryFormat.MACHO
    assert info.arch == "arm64"
    assert info.archs == ("arm64",)
    assert info.soname == "@rpath/libz.1.dylib"
    assert info.needed == ("/usr/lib/libSystem.B.dylib",)
    assert info.runpath == ("@loader_path/",)
    assert info.rpath == ()
    assert info.is_shared_library
    assert info.macos_floor == (11, 0)  # LC_BUILD_VERSION, platform macOS
    assert info.glibc_floor is None


def test_x86_64_dylib_with_version_min(corpus_member: Member) -> None:
    info = read_macho(io.BytesIO(corpus_member(*LIBZ_X86_64)))
    assert info.arch == "x86_64"
    assert info.soname == "@rpath/libz.1.dylib"
    assert info.needed == ("/usr/lib/libSystem.B.dylib",)
    assert len(info.runpath) == 2
    assert info.runpath[0].startswith(PLACEHOLDER_RPATH_START)
    assert info.runpath[0].endswith(PLACEHOLDER_RPATH_END)
    assert info.runpath[1] == "@loader_path/"
    assert info.macos_floor == (10, 9)  # LC_VERSION_MIN_MACOSX


def test_executable(corpus_member: Member) -> None:
    info = read_macho(io.BytesIO(corpus_member(NCURSES, "bin/tic")))
    assert info.arch == "arm64"
    assert info.soname is None
    assert info.needed == ("@rpath/libncursesw.6.dylib", "/usr/lib/libSystem.B.dylib")
    assert info.runpath == ("@loader_path/../lib/",)
    assert not info.is_shared_library
    assert info.macos_floor == (11, 0)


def test_reexported_dylib_is_needed(corpus_member: Member) -> None:
    info = read_macho(io.BytesIO(corpus_member(NCURSES, "lib/libncursesw.6.dylib")))
    assert info.soname == "@rpath/libncursesw.6.dylib"
    # LC_REEXPORT_DYLIB of libtinfow (by its build-prefix path), then LC_LOAD_DYLIB.
    assert len(info.needed) == 2
    assert info.needed[0].startswith("/Users/runner/miniforge3/conda-bld/ncurses_")
    assert info.needed[0].endswith("/lib/libtinfow.6.dylib")
    assert info.needed[1] == "/usr/lib/libSystem.B.dylib"


@pytest.mark.parametrize(
    ("filetype", "shared"), [(MH_DYLIB, True), (MH_BUNDLE, True), (MH_EXECUTE, False)]
)
def test_filetype_decides_shared_library(
    corpus_member: Member, filetype: int, shared: bool
) -> None:
    # Python extensions are MH_BUNDLE; the corpus has none, so retype a dylib.
    data = bytearray(corpus_member(*LIBZ_ARM64))
    struct.pack_into("<I", data, 12, filetype)
    assert read_macho(io.BytesIO(bytes(data))).is_shared_library is shared


def _universal(slices: list[bytes], *, wide: bool = False) -> bytes:
    """A universal binary of little-endian thin ``slices``, aligned like lipo does."""
    align = 14
    entry_format = ">iiQQII" if wide else ">iiIII"
    out = bytearray(struct.pack(">II", 0xCAFEBABF if wide else 0xCAFEBABE, len(slices)))
    offsets = []
    offset = 1 << align
    for data in slices:
        offsets.append(offset)
        offset += (len(data) + (1 << align) - 1) >> align << align
    for data, offset in zip(slices, offsets, strict=True):
        cputype, cpusubtype = struct.unpack_from("<ii", data, 4)
        fields = [cputype, cpusubtype, offset, len(data), align] + ([0] if wide else [])
        out += struct.pack(entry_format, *fields)
    for data, offset in zip(slices, offsets, strict=True):
        out += b"\0" * (offset - len(out)) + data
    return bytes(out)


@pytest.mark.parametrize("wide", [False, True], ids=["fat", "fat64"])
def test_universal_binary(corpus_member: Member, wide: bool) -> None:
    data = _universal([corpus_member(*LIBZ_X86_64), corpus_member(*LIBZ_ARM64)], wide=wide)
    info = read_binary(io.BytesIO(data))
    assert info.format is BinaryFormat.MACHO
    assert info.archs == ("x86_64", "arm64")
    assert info.arch == "x86_64"
    assert info.soname == "@rpath/libz.1.dylib"
    assert info.needed == ("/usr/lib/libSystem.B.dylib",)  # once, though in both slices
    assert info.runpath[0].startswith(PLACEHOLDER_RPATH_START)
    assert info.runpath[0].endswith(PLACEHOLDER_RPATH_END)
    assert info.runpath[1:] == ("@loader_path/",)
    assert info.is_shared_library
    assert info.macos_floor == (11, 0)  # the higher of 10.9 and 11.0


def _lc_str_command(cmd: int, fixed: bytes, text: str) -> bytes:
    """A load command whose first field is an lc_str pointing just past ``fixed``."""
    offset = 8 + 4 + len(fixed)
    raw = text.encode() + b"\0"
    size = (offset + len(raw) + 3) // 4 * 4
    return struct.pack(">III", cmd, size, offset) + fixed + raw.ljust(size - offset, b"\0")


def test_big_endian_32_bit() -> None:
    """A hand-assembled ppc dylib: big-endian headers, weak and upward dependencies."""
    dylib_fields = struct.pack(">III", 2, 0x10000, 0x10000)  # timestamp, versions
    commands = [
        _lc_str_command(0xD, dylib_fields, "/usr/local/lib/libppc.dylib"),  # LC_ID_DYLIB
        _lc_str_command(0xC, dylib_fields, "/usr/lib/libSystem.B.dylib"),  # LC_LOAD_DYLIB
        _lc_str_command(0x80000018, dylib_fields, "/usr/lib/libweak.dylib"),  # weak
        _lc_str_command(0x80000023, dylib_fields, "/usr/lib/libup.dylib"),  # upward
        _lc_str_command(0xC, dylib_fields, "/usr/lib/libSystem.B.dylib"),  # duplicate
        _lc_str_command(0x8000001C, b"", "@loader_path/../lib"),  # LC_RPATH
        struct.pack(">IIII", 0x24, 16, 0x000A0500, 0x000A0500),  # LC_VERSION_MIN_MACOSX 10.5
    ]
    body = b"".join(commands)
    header = struct.pack(">7I", 0xFEEDFACE, 18, 0, MH_DYLIB, len(commands), len(body), 0)
    info = read_macho(io.BytesIO(header + body))
    assert info.arch == "ppc"
    assert info.soname == "/usr/local/lib/libppc.dylib"
    assert info.needed == (
        "/usr/lib/libSystem.B.dylib",
        "/usr/lib/libweak.dylib",
        "/usr/lib/libup.dylib",
    )
    assert info.runpath == ("@loader_path/../lib",)
    assert info.macos_floor == (10, 5)


def test_reads_only_the_load_commands(
    corpus_member: Member, counting_reader: Callable[[BinaryIO], Any]
) -> None:
    data = corpus_member(*LIBZ_ARM64)
    sizeofcmds = struct.unpack_from("<I", data, 20)[0]
    reader = counting_reader(io.BytesIO(data))
    read_macho(cast(BinaryIO, reader))
    # The magic (twice), the 32-byte header and the load commands; no segment data.
    assert reader.bytes_read <= 4 + 4 + 32 + sizeofcmds


def test_truncated_raises(corpus_member: Member) -> None:
    data = corpus_member(*LIBZ_ARM64)
    for length in [0, 3, 4, 20, 31, 32, 500, 1600, len(data) // 2, len(data) - 1]:
        with pytest.raises(BinaryReadError, match=CORRUPT):
            read_macho(io.BytesIO(data[:length]))


def test_truncated_universal_raises(corpus_member: Member) -> None:
    data = _universal([corpus_member(*LIBZ_X86_64), corpus_member(*LIBZ_ARM64)])
    for length in [8, 20, 47, 1 << 14, len(data) - 100]:
        with pytest.raises(BinaryReadError, match=CORRUPT):
            read_macho(io.BytesIO(data[:length]))


@pytest.mark.parametrize(
    "magic", [b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe\x00\x00\x00\x02"]
)
def test_garbage_after_magic_raises(magic: bytes) -> None:
    garbage = random.Random(2).randbytes(4096)
    with pytest.raises(BinaryReadError, match=CORRUPT):
        read_macho(io.BytesIO(magic + garbage))


def test_damaged_load_commands_never_raise_anything_else(corpus_member: Member) -> None:
    data = corpus_member(*LIBZ_ARM64)
    rng = random.Random(3)
    for _ in range(500):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(2048)] = rng.randrange(256)
        with contextlib.suppress(BinaryReadError):
            read_macho(io.BytesIO(bytes(damaged)))
