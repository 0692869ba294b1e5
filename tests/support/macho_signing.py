"""Mach-O files built with zig for the signing tests, and an ad-hoc signature oracle
independent of condawheel.binaries.codesign: LIEF locates the signature, the SuperBlob
and CodeDirectory are decoded with ``struct``, page hashes recomputed with hashlib."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import lief
import pytest

from compilers import MACOS_ARM64, MACOS_X86_64, compile_macho

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
