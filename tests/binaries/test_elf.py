"""read_elf on binaries compiled with gcc during the session (see conftest.py)."""

from __future__ import annotations

import contextlib
import io
import platform
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from condawheel.binaries import BinaryFormat, BinaryInfo, BinaryReadError, read_binary
from condawheel.binaries.elf import read_elf

CORRUPT = r"^corrupt ELF file: "
GlibcFloor = Callable[[Path], tuple[int, int] | None]


def _read(path: Path) -> BinaryInfo:
    with path.open("rb") as f:
        return read_elf(f)


def test_shared_library(elf_files: dict[str, Path], readelf_glibc_floor: GlibcFloor) -> None:
    info = _read(elf_files["libfoo"])
    assert info.format is BinaryFormat.ELF
    assert info.arch == platform.machine()
    assert info.archs == (info.arch,)
    assert info.soname == "libfoo.so.1"
    assert info.needed == ("libc.so.6",)
    assert info.runpath == ("$ORIGIN/../lib", "/opt/foo/lib")
    assert info.rpath == ()
    assert info.is_shared_library
    # getrandom() needs GLIBC_2.25, so the floor is at least that.
    assert info.glibc_floor is not None
    assert info.glibc_floor >= (2, 25)
    assert info.glibc_floor == readelf_glibc_floor(elf_files["libfoo"])
    assert info.macos_floor is None


def test_executable_with_rpath(elf_files: dict[str, Path], readelf_glibc_floor: GlibcFloor) -> None:
    info = _read(elf_files["app"])
    assert info.arch == platform.machine()
    assert info.soname is None
    assert info.needed == ("libfoo.so.1", "libc.so.6")
    # --disable-new-dtags writes the old DT_RPATH, not DT_RUNPATH.
    assert info.rpath == ("$ORIGIN",)
    assert info.runpath == ()
    assert not info.is_shared_library
    assert info.glibc_floor is not None
    assert info.glibc_floor == readelf_glibc_floor(elf_files["app"])


def test_pie_executable_is_not_a_library(
    elf_files: dict[str, Path], readelf_glibc_floor: GlibcFloor
) -> None:
    info = _read(elf_files["pie"])
    assert info.needed == ("libc.so.6",)
    assert info.soname is None
    assert not info.is_shared_library
    assert info.glibc_floor == readelf_glibc_floor(elf_files["pie"])


def test_library_without_soname_like_an_extension(elf_files: dict[str, Path]) -> None:
    info = _read(elf_files["extension"])
    assert info.soname is None
    assert info.is_shared_library
    # Nothing from libc is called, so there is no versioned requirement.
    assert info.glibc_floor is None


def test_relocatable_object(elf_files: dict[str, Path]) -> None:
    info = _read(elf_files["obj"])
    assert info.arch == platform.machine()
    assert info.needed == ()
    assert info.soname is None
    assert not info.is_shared_library
    assert info.glibc_floor is None


def test_static_executable_has_no_glibc_floor(elf_files: dict[str, Path]) -> None:
    if "static" not in elf_files:
        pytest.skip("no static libc to link against")
    info = _read(elf_files["static"])
    assert info.needed == ()
    assert not info.is_shared_library
    assert info.glibc_floor is None


def test_read_binary_detects_elf(elf_files: dict[str, Path]) -> None:
    with elf_files["libfoo"].open("rb") as f:
        assert read_binary(f) == read_elf(io.BytesIO(elf_files["libfoo"].read_bytes()))


def test_does_not_read_whole_file(
    elf_files: dict[str, Path], counting_reader: Callable[[BinaryIO], Any]
) -> None:
    size = elf_files["big"].stat().st_size
    assert size > 20 * 1024 * 1024
    with elf_files["big"].open("rb") as f:
        reader = counting_reader(f)
        info = read_elf(cast(BinaryIO, reader))
    assert info.soname == "libbig.so"
    assert reader.bytes_read < 256 * 1024, f"read {reader.bytes_read} of {size} bytes"


def _truncation_points(size: int) -> list[int]:
    return sorted({0, 4, 16, 52, 63, 64, 65, 200, size // 2, size - 64, size - 1})


def test_truncated_elf_raises(elf_files: dict[str, Path]) -> None:
    data = elf_files["libfoo"].read_bytes()
    for length in _truncation_points(len(data)):
        with pytest.raises(BinaryReadError, match=CORRUPT):
            read_elf(io.BytesIO(data[:length]))


def test_garbage_after_magic_raises() -> None:
    garbage = random.Random(1).randbytes(4096)
    with pytest.raises(BinaryReadError, match=CORRUPT):
        read_elf(io.BytesIO(b"\x7fELF" + garbage))
    # A plausible identification (64-bit, little-endian, version 1) then garbage.
    with pytest.raises(BinaryReadError, match=CORRUPT):
        read_elf(io.BytesIO(b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + garbage))


@pytest.mark.parametrize("name", ["libfoo", "app", "pie"])
def test_damaged_elf_never_raises_anything_else(elf_files: dict[str, Path], name: str) -> None:
    """Flipped bytes in the headers and dynamic data either parse or raise BinaryReadError."""
    data = elf_files[name].read_bytes()
    rng = random.Random(name)
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            # The first pages hold the ELF and program headers, .dynsym, .dynstr,
            # .gnu.version_r; the last ones the section headers.
            region = rng.choice([(0, 4096), (len(data) - 2048, len(data))])
            damaged[rng.randrange(*region)] = rng.randrange(256)
        with contextlib.suppress(BinaryReadError):
            read_elf(io.BytesIO(bytes(damaged)))
