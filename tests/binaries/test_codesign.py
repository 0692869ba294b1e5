"""Ad-hoc Mach-O signatures, checked against the linker's and re-verified from scratch.

Mach-O files are built in the session with zig (tests/compilers.py), whose Mach-O
linker signs arm64 output ad hoc as Apple's ld64 does. The oracle is independent of
condawheel.binaries.codesign: LIEF locates the signature, the SuperBlob and
CodeDirectory are decoded here with ``struct``, and every page hash is recomputed with
hashlib. Signing the linker's unsigned bytes again must reproduce its signature.

The fixture and the signature oracle live here and are imported by test_patcher.py.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from pathlib import Path

import lief
import pytest

from compilers import MACOS_ARM64, MACOS_X86_64, compile_macho, universal
from condawheel.binaries import read_binary
from condawheel.binaries.codesign import CodeSignError, needs_signature, resign, sign_thin

ARM64 = MACOS_ARM64
X86_64 = MACOS_X86_64
CS_ADHOC = 0x2
CS_LINKER_SIGNED = 0x20000
CS_EXECSEG_MAIN_BINARY = 0x1
LC_CODE_SIGNATURE = 0x1D
#: What every binary the linker makes for macOS needs, as Apple's linker does.
LIBSYSTEM = "/usr/lib/libSystem.B.dylib"

BAR_SOURCE = "int bar(int x) { return x * 2; }\n"
FOO_SOURCE = "int bar(int x);\nint foo(int x) { return bar(x) + 1; }\n"
MAIN_SOURCE = "int foo(int x);\nint main(void) { return foo(1); }\n"


def strip_signature(path: Path, out: Path) -> Path:
    """``path`` without its code signature, as ``codesign --remove-signature`` leaves a
    file: the load command dropped (its header room freed), the blob cut off the end of
    ``__LINKEDIT``."""
    data = bytearray(path.read_bytes())
    ncmds, sizeofcmds = struct.unpack_from("<II", data, 16)
    at, linkedit, cut = 32, None, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, at)
        if cmd == 0x19 and data[at + 8 : at + 24].rstrip(b"\0") == b"__LINKEDIT":
            linkedit = at
        if cmd == LC_CODE_SIGNATURE:
            cut = struct.unpack_from("<I", data, at + 8)[0]
            data[at : 32 + sizeofcmds] = data[at + size : 32 + sizeofcmds] + bytes(size)
            struct.pack_into("<II", data, 16, ncmds - 1, sizeofcmds - size)
            break
        at += size
    assert linkedit is not None and cut is not None, f"{path} is not signed"
    fileoff = struct.unpack_from("<Q", data, linkedit + 40)[0]
    struct.pack_into("<Q", data, linkedit + 48, cut - fileoff)  # filesize
    out.write_bytes(bytes(data[:cut]))
    return out


@pytest.fixture(scope="session", name="macho_files")
def build_macho_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Mach-O files by name, ``<name>-arm64`` and ``<name>-x86_64``.

    - ``libbar``: dylib, install name @rpath/libbar.1.dylib
    - ``libfoo``: dylib, install name @rpath/libfoo.1.dylib, needs libbar,
      LC_RPATH @loader_path/../lib and /opt/old/lib
    - ``app``: executable needing libfoo, LC_RPATH @executable_path/../lib
    - ``unsigned-arm64``: arm64 dylib with its signature removed, and header room
    - ``no-room-x86_64``: an unsigned dylib without room for another load command
    """
    tmp = tmp_path_factory.mktemp("macho")
    built: dict[str, Path] = {}
    for target, arch in ((ARM64, "arm64"), (X86_64, "x86_64")):
        libbar = compile_macho(
            tmp / arch / "libbar.1.dylib",
            BAR_SOURCE,
            target,
            args=["-Wl,-install_name,@rpath/libbar.1.dylib"],
        )
        libfoo = compile_macho(
            tmp / arch / "libfoo.1.dylib",
            FOO_SOURCE,
            target,
            args=[
                "-Wl,-install_name,@rpath/libfoo.1.dylib",
                str(libbar),
                "-Wl,-rpath,@loader_path/../lib",
                "-Wl,-rpath,/opt/old/lib",
            ],
        )
        app = compile_macho(
            tmp / arch / "app",
            MAIN_SOURCE,
            target,
            shared=False,
            args=[str(libfoo), "-Wl,-rpath,@executable_path/../lib"],
        )
        built.update({f"libbar-{arch}": libbar, f"libfoo-{arch}": libfoo, f"app-{arch}": app})
    signed = compile_macho(
        tmp / "unsigned" / "signed.dylib",
        BAR_SOURCE,
        ARM64,
        args=["-Wl,-install_name,libbar.dylib", "-Wl,-headerpad,0x100"],
    )
    built["unsigned-arm64"] = strip_signature(signed, tmp / "unsigned" / "libbar.dylib")
    built["no-room-x86_64"] = compile_macho(
        tmp / "no-room" / "libbar.dylib", BAR_SOURCE, X86_64, args=["-Wl,-headerpad,0"]
    )
    return built


@dataclass(frozen=True, slots=True, kw_only=True)
class AdhocSignature:
    """What a verified CodeDirectory says."""

    identifier: str
    flags: int
    code_limit: int
    exec_seg: tuple[int, int, int]  # base, limit, flags
    page_size: int
    hashes: tuple[bytes, ...]


def verify_adhoc_signature(thin: bytes) -> AdhocSignature:
    """Decode the signature of one Mach-O image and check every page hash; fail the test if bad."""
    fat = lief.MachO.parse(list(thin))
    assert fat is not None
    binary = fat.at(0)
    assert binary is not None
    assert binary.has_code_signature, "no LC_CODE_SIGNATURE"
    signature = binary.code_signature
    assert signature is not None
    offset, size = signature.data_offset, signature.data_size
    # The signature is the last thing in the file and in __LINKEDIT.
    linkedit = binary.get_segment("__LINKEDIT")
    assert linkedit is not None
    assert offset + size == len(thin) == linkedit.file_offset + linkedit.file_size
    assert linkedit.virtual_size >= linkedit.file_size
    blob = thin[offset : offset + size]

    magic, length, count = struct.unpack_from(">III", blob)
    assert (magic, count) == (0xFADE0CC0, 1)
    # The load command's size may round the SuperBlob up (ld64 and zig pad to 16 bytes).
    assert length <= size < length + 16 and not any(blob[length:])
    slot, cd = struct.unpack_from(">II", blob, 12)
    assert slot == 0  # CSSLOT_CODEDIRECTORY
    (cd_magic, cd_length, version, flags, hash_offset, ident_offset, special, n_code, limit) = (
        struct.unpack_from(">9I", blob, cd)
    )
    hash_size, hash_type, _platform, page_shift = struct.unpack_from(">4B", blob, cd + 36)
    exec_seg = struct.unpack_from(">3Q", blob, cd + 64)
    assert cd_magic == 0xFADE0C02
    assert cd + cd_length == length
    assert version >= 0x20400  # has the exec segment fields
    assert (hash_size, hash_type, special) == (32, 2, 0)  # SHA-256
    assert page_shift in (12, 14)  # 4 KiB pages (ld64, condawheel), or 16 KiB (zig)
    page_size = 1 << page_shift
    assert limit == offset  # everything before the signature is covered
    assert n_code == -(-limit // page_size)
    identifier = blob[cd + ident_offset :].split(b"\0", 1)[0].decode()
    hashes = tuple(
        blob[cd + hash_offset + 32 * i : cd + hash_offset + 32 * (i + 1)] for i in range(n_code)
    )
    for page, digest in enumerate(hashes):
        expected = hashlib.sha256(thin[page * page_size : min((page + 1) * page_size, limit)])
        assert digest == expected.digest(), f"page {page} hash does not match"
    return AdhocSignature(
        identifier=identifier,
        flags=flags,
        code_limit=limit,
        exec_seg=exec_seg,
        page_size=page_size,
        hashes=hashes,
    )


def fat_slices(data: bytes) -> list[tuple[int, bytes]]:
    """(alignment, bytes) of each slice of a universal file with 32-bit entries."""
    magic, count = struct.unpack_from(">II", data)
    assert magic == 0xCAFEBABE
    slices = []
    for i in range(count):
        _, _, offset, size, align = struct.unpack_from(">iiIII", data, 8 + 20 * i)
        assert offset % (1 << align) == 0
        slices.append((align, data[offset : offset + size]))
    return slices


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
