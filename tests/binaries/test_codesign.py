"""Ad-hoc Mach-O signatures, checked against the linker's and re-verified from scratch.

Mach-O files are built in the session with zig (tests/support/compilers.py), whose Mach-O
linker signs arm64 output ad hoc as Apple's ld64 does. The oracle is independent of
condawheel.binaries.codesign: LIEF locates the signature, the SuperBlob and
CodeDirectory are decoded here with ``struct``, and every page hash is recomputed with
hashlib. Signing the linker's unsigned bytes again must reproduce its signature.

The fixture and the oracle are in tests/support/macho_signing.py.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import lief
import pytest

from compilers import universal
from condawheel.binaries import read_binary
from condawheel.binaries.codesign import CodeSignError, needs_signature, resign, sign_thin
from macho_signing import (
    CS_ADHOC,
    CS_EXECSEG_MAIN_BINARY,
    CS_LINKER_SIGNED,
    fat_slices,
    verify_adhoc_signature,
)


@pytest.mark.parametrize("name", ["libfoo-arm64", "app-arm64"])
def test_resigning_covers_what_the_linker_signed(macho_files: dict[str, Path], name: str) -> None:
    original = macho_files[name].read_bytes()
    linker = verify_adhoc_signature(original)
    assert linker.flags == CS_ADHOC | CS_LINKER_SIGNED

    signed = sign_thin(original, macho_files[name].name)

    ours = verify_adhoc_signature(signed)
    assert ours.flags == CS_ADHOC  # not claiming to be the linker
    assert ours.identifier == linker.identifier == macho_files[name].name
    assert (ours.code_limit, ours.exec_seg) == (linker.code_limit, linker.exec_seg)
    if ours.page_size == linker.page_size:
        assert ours.hashes == linker.hashes
    # The code is the linker's: before the signature, only the header changed (the
    # signature's size in LC_CODE_SIGNATURE, and __LINKEDIT's sizes that cover it).
    sizeofcmds = struct.unpack_from("<I", original, 20)[0]
    differing = [i for i in range(linker.code_limit) if original[i] != signed[i]]
    assert all(i < 32 + sizeofcmds for i in differing), differing


def test_executable_is_flagged_main_binary(macho_files: dict[str, Path]) -> None:
    app = verify_adhoc_signature(sign_thin(macho_files["app-arm64"].read_bytes(), "app"))
    lib = verify_adhoc_signature(sign_thin(macho_files["libfoo-arm64"].read_bytes(), "libfoo"))
    assert app.identifier == "app"
    assert app.exec_seg[2] == CS_EXECSEG_MAIN_BINARY
    assert lib.exec_seg[2] == 0
    # __TEXT starts the file and spans the header and code.
    assert app.exec_seg[0] == 0
    assert app.exec_seg[1] > 0


def test_changed_bytes_get_new_hashes(macho_files: dict[str, Path]) -> None:
    original = sign_thin(macho_files["libfoo-arm64"].read_bytes(), "libfoo.1.dylib")
    before = verify_adhoc_signature(original)
    assert before.page_size == 4096
    changed = bytearray(original)
    changed[5000] ^= 0xFF  # inside page 1
    with pytest.raises(AssertionError, match="page 1 hash"):
        verify_adhoc_signature(bytes(changed))  # the oracle notices a stale signature

    after = verify_adhoc_signature(sign_thin(bytes(changed), "libfoo.1.dylib"))
    assert after.hashes[1] != before.hashes[1]
    assert after.hashes[0] == before.hashes[0]
    assert after.hashes[2:] == before.hashes[2:]


def test_adds_a_signature_where_there_is_none(macho_files: dict[str, Path]) -> None:
    unsigned = macho_files["unsigned-arm64"].read_bytes()
    assert not lief.MachO.parse(list(unsigned)).at(0).has_code_signature  # type: ignore[union-attr]
    assert needs_signature(unsigned)  # arm64 must be signed

    signed = sign_thin(unsigned, "libbar.dylib")

    assert verify_adhoc_signature(signed).identifier == "libbar.dylib"
    before = read_binary(io.BytesIO(unsigned))
    assert read_binary(io.BytesIO(signed)) == before
    # The sections' bytes did not move.
    assert signed[0x1000 : len(unsigned)] == unsigned[0x1000:]


def test_no_room_for_the_command_raises(macho_files: dict[str, Path]) -> None:
    with pytest.raises(CodeSignError, match=r"^no room in the header"):
        sign_thin(macho_files["no-room-x86_64"].read_bytes(), "libbar.dylib")


def test_unsigned_x86_64_is_left_alone(macho_files: dict[str, Path]) -> None:
    data = macho_files["libfoo-x86_64"].read_bytes()
    assert not needs_signature(data)  # the linker signs arm64 only; x86_64 may stay unsigned
    assert resign(data, "libfoo.1.dylib") == data
    # Signing it anyway is possible and valid.
    assert verify_adhoc_signature(sign_thin(data, "libfoo.1.dylib")).flags == CS_ADHOC


def test_signed_x86_64_is_resigned(macho_files: dict[str, Path]) -> None:
    signed = sign_thin(macho_files["libfoo-x86_64"].read_bytes(), "old")
    assert needs_signature(signed)
    assert verify_adhoc_signature(resign(signed, "new")).identifier == "new"


def test_universal_file(macho_files: dict[str, Path], tmp_path: Path) -> None:
    arm64 = bytearray(macho_files["libfoo-arm64"].read_bytes())
    arm64[5000] ^= 0xFF  # as an edit would, leaving the linker's signature stale
    changed = tmp_path / "arm64.dylib"
    changed.write_bytes(arm64)
    fat = universal(tmp_path / "libfoo.dylib", changed, macho_files["libfoo-x86_64"])

    signed = resign(fat.read_bytes(), "libfoo.dylib")

    slices = dict(fat_slices(signed))
    assert set(slices) == {14, 12}  # lipo's alignments, kept: 16 KiB arm64, 4 KiB x86_64
    assert verify_adhoc_signature(slices[14]).identifier == "libfoo.dylib"
    assert slices[12] == macho_files["libfoo-x86_64"].read_bytes()
    assert read_binary(io.BytesIO(signed)).archs == ("x86_64", "arm64")


@pytest.mark.parametrize(
    "data",
    [b"", b"\xcf\xfa\xed\xfe", b"\xcf\xfa\xed\xfe" + bytes(28), b"\x7fELF" + bytes(60)],
    ids=["empty", "magic-only", "no-commands", "elf"],
)
def test_not_a_signable_image_raises(data: bytes) -> None:
    with pytest.raises(CodeSignError):
        sign_thin(data, "x")


def test_data_after_linkedit_raises(macho_files: dict[str, Path]) -> None:
    # Truncating at the signature would lose it, and the signature must come last.
    with pytest.raises(CodeSignError, match=r"^data after __LINKEDIT$"):
        sign_thin(macho_files["libfoo-arm64"].read_bytes() + b"trailer", "libfoo.1.dylib")
