"""DLL renames of any length in PE files that zig links in the session, read back with
pefile and, independently, with LIEF."""

from __future__ import annotations

import shutil
from pathlib import Path

import lief
import pefile
import pytest

from compilers import compile_pe
from condawheel.binaries import BinaryEditError, Edit, EditKind, apply_edits
from condawheel.binaries.pe_names import SECTION_NAME, PENameError, rename_dlls

BAR = "__declspec(dllexport) int bar(int x) { return x * 2; }\n"
BAZ = "__declspec(dllexport) int baz(int x) { return x * 3; }\n"
FOO = (
    "__declspec(dllimport) int bar(int x);\n"
    "__declspec(dllimport) int baz(int x);\n"
    "__declspec(dllexport) int foo(int x) { return bar(x) + baz(x); }\n"
    # With no C runtime there is no delayimp.lib; the helper is only referenced.
    "void *__delayLoadHelper2(const void *d, void **f) { return 0; }\n"
)
# Eleven more sections leave room in lld-link's headers for exactly two more.
SECTIONS = "".join(
    f'__attribute__((section(".d{i}"))) __declspec(dllexport) int v{i} = {i};\n' for i in range(11)
)
# WIN_CERT_REVISION_2_0, WIN_CERT_TYPE_PKCS_SIGNED_DATA, and stand-in PKCS#7 bytes
CERTIFICATE = (8 + 56).to_bytes(4, "little") + b"\x00\x02\x02\x00" + b"PKCS7!" * 9 + b"\0\0"
LONG_BAR = "bar-" + "0123456789abcdef" * 2 + ".dll"
LONG_BAZ = "baz-" + "fedcba9876543210" * 2 + ".dll"


@pytest.fixture(scope="module")
def dlls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``foo``: imports bar.dll, delay-imports baz.dll; ``crowded``: the same with 14
    sections and a debug directory; ``signed``: foo with a checksum and bytes appended
    after its sections, as a signature is."""
    tmp = tmp_path_factory.mktemp("pe-names")
    compile_pe(tmp / "bar.dll", BAR)
    compile_pe(tmp / "baz.dll", BAZ)
    libs = [str(tmp / "bar.lib"), str(tmp / "baz.lib"), "/delayload:baz.dll"]
    built = {
        "foo": compile_pe(tmp / "foo.dll", FOO, libs),
        "crowded": compile_pe(tmp / "crowded.dll", FOO + SECTIONS, [*libs, "/debug"]),
    }
    pe = pefile.PE(str(built["foo"]))
    pe.OPTIONAL_HEADER.CheckSum = pe.generate_checksum()
    built["signed"] = tmp / "signed.dll"
    built["signed"].write_bytes(pe.write() + b"OVERLAY!" * 64)
    pe.close()
    # A certificate table where signtool puts one: after the sections, its directory
    # entry holding a file offset.
    pe = pefile.PE(str(built["crowded"]))
    data = pe.write()
    security = pe.OPTIONAL_HEADER.DATA_DIRECTORY[4]
    security.VirtualAddress, security.Size = len(data), len(CERTIFICATE)
    built["crowded-signed"] = tmp / "crowded-signed.dll"
    built["crowded-signed"].write_bytes(bytes(pe.write()[: len(data)]) + CERTIFICATE)
    pe.close()
    return built


def _imports(data: bytes) -> tuple[list[str], list[str]]:
    """(imported DLLs, delay-imported DLLs) according to pefile, which must not warn."""
    pe = pefile.PE(data=data)
    try:
        assert not [w for w in pe.get_warnings() if "import" in w.lower()]
        return (
            [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])],
            [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])],
        )
    finally:
        pe.close()


def _lief_imports(data: bytes) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    binary = lief.PE.parse(list(data))
    assert binary is not None
    return (
        [(str(i.name), [str(e.name) for e in i.entries]) for i in binary.imports],
        [(str(i.name), [str(e.name) for e in i.entries]) for i in binary.delay_imports],
    )


def _sections(data: bytes) -> dict[bytes, bytes]:
    pe = pefile.PE(data=data, fast_load=True)
    try:
        return {s.Name: s.get_data() for s in pe.sections}
    finally:
        pe.close()


def test_longer_names_go_to_a_new_section(dlls: dict[str, Path]) -> None:
    before = dlls["foo"].read_bytes()
    after = rename_dlls(before, {"bar.dll": LONG_BAR, "baz.dll": LONG_BAZ})

    assert _imports(after) == ([LONG_BAR], [LONG_BAZ])
    # The functions imported from each are untouched (LIEF reads them independently).
    assert _lief_imports(after) == ([(LONG_BAR, ["bar"])], [(LONG_BAZ, ["baz"])])
    old, new = _sections(before), _sections(after)
    assert list(new) == [*old, SECTION_NAME]
    assert new[SECTION_NAME].rstrip(b"\0") == f"{LONG_BAR}\0{LONG_BAZ}".encode()
    pe = pefile.PE(data=after, fast_load=True)
    last = pe.sections[-1]
    assert last.Characteristics == 0x40000040  # initialised data, read-only
    assert pe.OPTIONAL_HEADER.SizeOfImage == last.VirtualAddress + 0x1000
    assert pe.OPTIONAL_HEADER.CheckSum == 0  # none before, none after
    pe.close()


def test_shorter_and_longer_names_together(dlls: dict[str, Path]) -> None:
    # Case-insensitive, as Windows matches DLL names.
    after = rename_dlls(dlls["foo"].read_bytes(), {"bar.dll": "b.dll", "baz.dll": LONG_BAZ})
    assert _imports(after) == (["b.dll"], [LONG_BAZ])
    assert _sections(after)[SECTION_NAME].rstrip(b"\0") == LONG_BAZ.encode()


def test_checksum_renewed_and_appended_data_kept(dlls: dict[str, Path]) -> None:
    before = dlls["signed"].read_bytes()
    after = rename_dlls(before, {"bar.dll": LONG_BAR})
    assert _imports(after) == ([LONG_BAR], ["baz.dll"])
    pe = pefile.PE(data=after)
    assert pe.OPTIONAL_HEADER.CheckSum != 0 and pe.verify_checksum()
    # The new section's data goes after what was appended, which stays where it was.
    assert pe.sections[-1].PointerToRawData >= len(before)
    overlay = before.index(b"OVERLAY!")
    assert after[overlay : len(before)] == before[overlay:]
    pe.close()


@pytest.mark.parametrize("name", ["crowded", "crowded-signed"])
def test_headers_grow_when_full(dlls: dict[str, Path], name: str) -> None:
    data = dlls[name].read_bytes()
    original = _sections(data)
    pe = pefile.PE(data=data, fast_load=True)
    headers, table_end = pe.OPTIONAL_HEADER.SizeOfHeaders, pe.sections[-1].get_file_offset() + 40
    pe.close()
    assert headers - table_end < 3 * 40  # lld-link left room for two more at most
    # Each round adds a section; one of them must make room.
    names = [f"bar{'x' * n}.dll" for n in (40, 50, 60)]
    old = "bar.dll"
    for new in names:
        data = rename_dlls(data, {old: new})
        old = new
    pe = pefile.PE(data=data)
    assert pe.OPTIONAL_HEADER.SizeOfHeaders == headers + pe.OPTIONAL_HEADER.FileAlignment
    assert [s.Name for s in pe.sections] == [*original, SECTION_NAME, SECTION_NAME, SECTION_NAME]
    sections = {s.Name: s.get_data() for s in pe.sections[: len(original)]}
    # Only the section holding the import descriptors changed (their name addresses).
    changed = [name for name, content in original.items() if sections[name] != content]
    imports_rva = pe.OPTIONAL_HEADER.DATA_DIRECTORY[1].VirtualAddress
    assert changed == [pe.get_section_by_rva(imports_rva).Name]
    # The debug directory's file offset moved with the data it points at.
    (debug,) = pe.DIRECTORY_ENTRY_DEBUG
    assert debug.entry.CvSignature == b"RSDS"
    assert data[debug.struct.PointerToRawData : debug.struct.PointerToRawData + 4] == b"RSDS"
    pe.close()
    assert _imports(data) == ([names[-1]], ["baz.dll"])
    assert _lief_imports(data)[0] == [(names[-1], ["bar"])]
    if name == "crowded-signed":  # the certificate table moved with the file's data
        pe = pefile.PE(data=data, fast_load=True)
        security = pe.OPTIONAL_HEADER.DATA_DIRECTORY[4]
        at, size = security.VirtualAddress, security.Size
        pe.close()
        assert data[at : at + size] == CERTIFICATE


def test_apply_edits_renames_to_longer_names(dlls: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "foo.dll"
    shutil.copy2(dlls["foo"], path)
    apply_edits(
        path,
        [
            Edit(kind=EditKind.REPLACE_NEEDED, old="BAR.DLL", new=LONG_BAR),
            Edit(kind=EditKind.REPLACE_NEEDED, old="baz.dll", new=LONG_BAZ),
        ],
    )
    assert _imports(path.read_bytes()) == ([LONG_BAR], [LONG_BAZ])


@pytest.mark.parametrize("new", ["bär-0123.dll", "bar\0.dll"])
def test_non_ascii_name_is_refused(dlls: dict[str, Path], tmp_path: Path, new: str) -> None:
    path = tmp_path / "foo.dll"
    shutil.copy2(dlls["foo"], path)
    before = path.read_bytes()
    with pytest.raises(BinaryEditError, match=r"is not an ASCII DLL name$") as raised:
        apply_edits(path, [Edit(kind=EditKind.REPLACE_NEEDED, old="bar.dll", new=new)])
    assert "\n" not in str(raised.value)
    assert path.read_bytes() == before
    with pytest.raises(PENameError):
        rename_dlls(before, {"bar.dll": new})
