"""Ad-hoc Mach-O signatures, checked against ld64.lld's and re-verified from scratch.

Mach-O (and PE) files are built in the session with clang and LLVM's linkers
(Debian packages ``clang``, ``lld`` and, for universal files, ``llvm``). The
oracle is independent of condawheel.binaries.codesign: LIEF locates the
signature, the SuperBlob and CodeDirectory are decoded here with ``struct``,
and every page hash is recomputed with hashlib. ld64.lld signs arm64 output
itself, so signing its unsigned bytes again must reproduce its signature.

The clang helpers live here and are imported by test_patcher.py.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lief
import pytest

from condawheel.binaries import read_binary
from condawheel.binaries.codesign import CodeSignError, needs_signature, resign, sign_thin

ARM64 = "arm64-apple-macos11"
X86_64 = "x86_64-apple-macos10.13"
CS_ADHOC = 0x2
CS_LINKER_SIGNED = 0x20000
CS_EXECSEG_MAIN_BINARY = 0x1

BAR_SOURCE = "int bar(int x) { return x * 2; }\n"
FOO_SOURCE = "int bar(int x);\nint foo(int x) { return bar(x) + 1; }\n"
MAIN_SOURCE = "int foo(int x);\nint main(void) { return foo(1); }\n"


def _tool(name: str) -> str | None:
    """``name`` on PATH, or where clang looks for it (Debian keeps LLVM tools in its own bin)."""
    found = shutil.which(name)
    if found is not None or shutil.which("clang") is None:
        return found
    result = subprocess.run(
        ["clang", f"-print-prog-name={name}"], capture_output=True, text=True, check=False
    )
    candidate = Path(result.stdout.strip())
    return str(candidate) if candidate.is_absolute() and candidate.is_file() else None


requires_macho_toolchain = pytest.mark.skipif(
    shutil.which("clang") is None or _tool("ld64.lld") is None,
    reason="clang and ld64.lld are not installed (Debian packages clang, lld)",
)
requires_pe_toolchain = pytest.mark.skipif(
    shutil.which("clang") is None or _tool("lld-link") is None,
    reason="clang and lld-link are not installed (Debian packages clang, lld)",
)
requires_lipo = pytest.mark.skipif(
    _tool("llvm-lipo") is None, reason="llvm-lipo is not installed (Debian package llvm)"
)


def _clang(out: Path, source: str, args: Sequence[str]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.name + ".c")
    src.write_text(source)
    command = ["clang", "-O1", "-o", str(out), str(src), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"clang failed: {' '.join(command)}\n{result.stderr}")
    return out


def compile_macho(
    out: Path, source: str, target: str, *, shared: bool = True, args: Sequence[str] = ()
) -> Path:
    """Link ``source`` for ``target`` with ld64.lld, without a libSystem to link against.

    ``dyld_stub_binder`` normally comes from libSystem; ``-U`` leaves it to dyld.
    """
    kind = ["-shared"] if shared else []
    base = [f"--target={target}", "-fuse-ld=lld", "-nostdlib", *kind]
    return _clang(out, source, [*base, *args, "-Wl,-U,dyld_stub_binder"])


def compile_pe(out: Path, source: str, args: Sequence[str] = ()) -> Path:
    """Link a DLL (no CRT, no entry point) with lld-link; its import library is ``out.lib``."""
    base = ["--target=x86_64-pc-windows-msvc", "-fuse-ld=lld", "-nostdlib", "-shared"]
    return _clang(out, source, [*base, "-Wl,/noentry", *args])


def lipo(out: Path, *slices: Path) -> Path:
    """Make a universal file of ``slices`` with llvm-lipo."""
    lipo_tool = _tool("llvm-lipo")
    assert lipo_tool is not None
    subprocess.run(
        [lipo_tool, "-create", *map(str, slices), "-output", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session", name="macho_files")
def build_macho_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Mach-O files by name, ``<name>-arm64`` and ``<name>-x86_64``.

    - ``libbar``: dylib, install name @rpath/libbar.1.dylib
    - ``libfoo``: dylib, install name @rpath/libfoo.1.dylib, needs libbar,
      LC_RPATH @loader_path/../lib and /opt/old/lib
    - ``app``: executable needing libfoo, LC_RPATH @executable_path/../lib
    - ``unsigned-arm64``: arm64 dylib linked without a signature, with header room
    - ``no-room-arm64``: the same without room for another load command
    """
    if shutil.which("clang") is None or _tool("ld64.lld") is None:
        pytest.skip("clang and ld64.lld are not installed (Debian packages clang, lld)")
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
    built["unsigned-arm64"] = compile_macho(
        tmp / "unsigned" / "libbar.dylib",
        BAR_SOURCE,
        ARM64,
        args=["-Wl,-no_adhoc_codesign", "-Wl,-headerpad,0x100"],
    )
    built["no-room-arm64"] = compile_macho(
        tmp / "no-room" / "libbar.dylib",
        BAR_SOURCE,
        ARM64,
        args=["-Wl,-no_adhoc_codesign", "-Wl,-headerpad,0"],
    )
    return built


@dataclass(frozen=True, slots=True, kw_only=True)
class AdhocSignature:
    """What a verified CodeDirectory says."""

    identifier: str
    flags: int
    code_limit: int
    exec_seg: tuple[int, int, int]  # base, limit, flags
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
    assert (magic, length, count) == (0xFADE0CC0, size, 1)
    slot, cd = struct.unpack_from(">II", blob, 12)
    assert slot == 0  # CSSLOT_CODEDIRECTORY
    (cd_magic, cd_length, version, flags, hash_offset, ident_offset, special, n_code, limit) = (
        struct.unpack_from(">9I", blob, cd)
    )
    hash_size, hash_type, _platform, page_shift = struct.unpack_from(">4B", blob, cd + 36)
    exec_seg = struct.unpack_from(">3Q", blob, cd + 64)
    assert cd_magic == 0xFADE0C02
    assert cd + cd_length == size
    assert version >= 0x20400  # has the exec segment fields
    assert (hash_size, hash_type, page_shift, special) == (32, 2, 12, 0)  # SHA-256, 4 KiB pages
    assert limit == offset  # everything before the signature is covered
    assert n_code == -(-limit // 4096)
    identifier = blob[cd + ident_offset :].split(b"\0", 1)[0].decode()
    hashes = tuple(
        blob[cd + hash_offset + 32 * i : cd + hash_offset + 32 * (i + 1)] for i in range(n_code)
    )
    for page, digest in enumerate(hashes):
        expected = hashlib.sha256(thin[page * 4096 : min((page + 1) * 4096, limit)]).digest()
        assert digest == expected, f"page {page} hash does not match"
    return AdhocSignature(
        identifier=identifier, flags=flags, code_limit=limit, exec_seg=exec_seg, hashes=hashes
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


@requires_macho_toolchain
@pytest.mark.parametrize("name", ["libfoo-arm64", "app-arm64"])
def test_resigning_reproduces_lld_signature(macho_files: dict[str, Path], name: str) -> None:
    original = macho_files[name].read_bytes()
    linker = verify_adhoc_signature(original)
    assert linker.flags == CS_ADHOC | CS_LINKER_SIGNED

    signed = sign_thin(original, macho_files[name].name)

    ours = verify_adhoc_signature(signed)
    assert ours.flags == CS_ADHOC  # not claiming to be the linker
    assert ours.identifier == linker.identifier == macho_files[name].name
    assert (ours.code_limit, ours.exec_seg, ours.hashes) == (
        linker.code_limit,
        linker.exec_seg,
        linker.hashes,
    )
    # Byte for byte what lld wrote, apart from the flags word of the CodeDirectory.
    differing = [i for i, (a, b) in enumerate(zip(original, signed, strict=True)) if a != b]
    assert len(differing) <= 4
    assert all(linker.code_limit < i < linker.code_limit + 64 for i in differing)


@requires_macho_toolchain
def test_executable_is_flagged_main_binary(macho_files: dict[str, Path]) -> None:
    app = verify_adhoc_signature(sign_thin(macho_files["app-arm64"].read_bytes(), "app"))
    lib = verify_adhoc_signature(sign_thin(macho_files["libfoo-arm64"].read_bytes(), "libfoo"))
    assert app.identifier == "app"
    assert app.exec_seg[2] == CS_EXECSEG_MAIN_BINARY
    assert lib.exec_seg[2] == 0
    # __TEXT starts the file and spans the header and code.
    assert app.exec_seg[0] == 0
    assert app.exec_seg[1] > 0


@requires_macho_toolchain
def test_changed_bytes_get_new_hashes(macho_files: dict[str, Path]) -> None:
    original = macho_files["libfoo-arm64"].read_bytes()
    before = verify_adhoc_signature(original)
    changed = bytearray(original)
    changed[5000] ^= 0xFF  # inside page 1
    with pytest.raises(AssertionError, match="page 1 hash"):
        verify_adhoc_signature(bytes(changed))  # the oracle notices a stale signature

    after = verify_adhoc_signature(sign_thin(bytes(changed), "libfoo.1.dylib"))
    assert after.hashes[1] != before.hashes[1]
    assert after.hashes[0] == before.hashes[0]
    assert after.hashes[2:] == before.hashes[2:]


@requires_macho_toolchain
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


@requires_macho_toolchain
def test_no_room_for_the_command_raises(macho_files: dict[str, Path]) -> None:
    with pytest.raises(CodeSignError, match=r"^no room in the header"):
        sign_thin(macho_files["no-room-arm64"].read_bytes(), "libbar.dylib")


@requires_macho_toolchain
def test_unsigned_x86_64_is_left_alone(macho_files: dict[str, Path]) -> None:
    data = macho_files["libfoo-x86_64"].read_bytes()
    assert not needs_signature(data)  # lld signs arm64 only; x86_64 may stay unsigned
    assert resign(data, "libfoo.1.dylib") == data
    # Signing it anyway is possible and valid.
    assert verify_adhoc_signature(sign_thin(data, "libfoo.1.dylib")).flags == CS_ADHOC


@requires_macho_toolchain
def test_signed_x86_64_is_resigned(macho_files: dict[str, Path]) -> None:
    signed = sign_thin(macho_files["libfoo-x86_64"].read_bytes(), "old")
    assert needs_signature(signed)
    assert verify_adhoc_signature(resign(signed, "new")).identifier == "new"


@requires_macho_toolchain
@requires_lipo
def test_universal_file(macho_files: dict[str, Path], tmp_path: Path) -> None:
    arm64 = bytearray(macho_files["libfoo-arm64"].read_bytes())
    arm64[5000] ^= 0xFF  # as an edit would, leaving lld's signature stale
    changed = tmp_path / "arm64.dylib"
    changed.write_bytes(arm64)
    universal = lipo(tmp_path / "libfoo.dylib", changed, macho_files["libfoo-x86_64"])

    signed = resign(universal.read_bytes(), "libfoo.dylib")

    slices = dict(fat_slices(signed))
    assert set(slices) == {14, 12}  # llvm-lipo's alignments, kept: 16 KiB arm64, 4 KiB x86_64
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


@requires_macho_toolchain
def test_data_after_linkedit_raises(macho_files: dict[str, Path]) -> None:
    # Truncating at the signature would lose it, and the signature must come last.
    with pytest.raises(CodeSignError, match=r"^data after __LINKEDIT$"):
        sign_thin(macho_files["libfoo-arm64"].read_bytes() + b"trailer", "libfoo.1.dylib")
