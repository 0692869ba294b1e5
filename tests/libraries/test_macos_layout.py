"""The macOS bundle layout, applied to Mach-O files zig links in the session: an
extension that needs a dylib that needs another, thin arm64, thin x86_64 and universal.
The result is read back with LIEF (independent of condawheel's reader), every
``@loader_path`` entry resolved against the tree as dyld would, and every signature
checked page by page."""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path

import lief
import pytest

from compilers import MACOS_ARM64, MACOS_X86_64, compile_macho, universal
from condawheel.binaries import BinaryEditError, BinaryEdits, apply_edits
from condawheel.exceptions import BadInputError
from condawheel.libraries.layout import BundleLayout, layout_for
from condawheel.libraries.macos_layout import MacOSLayout
from macho_signing import LIBSYSTEM, fat_slices, verify_adhoc_signature

BAR = "int bar(int x) { return x * 2; }\n"
FOO = "int bar(int x);\nint foo(int x) { return bar(x) + 1; }\n"
EXT = "int foo(int x);\nint answer(void) { return foo(20); }\n"
LIBFOO, LIBBAR = "@rpath/libfoo.1.dylib", "@rpath/libbar.1.dylib"
EXTENSION = "pkg/sub/_ext.cpython-312-darwin.so"


@pytest.fixture(scope="module")
def macho(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """By architecture (``arm64``, ``x86_64``, ``universal``): ``libbar``, ``libfoo``
    (needs libbar) and ``ext`` (an extension needing libfoo)."""
    tmp = tmp_path_factory.mktemp("macos-layout")
    built: dict[str, dict[str, Path]] = {}
    for target, arch in ((MACOS_ARM64, "arm64"), (MACOS_X86_64, "x86_64")):
        bar = compile_macho(
            tmp / arch / "libbar.1.dylib", BAR, target, args=[f"-Wl,-install_name,{LIBBAR}"]
        )
        foo = compile_macho(
            tmp / arch / "libfoo.1.dylib",
            FOO,
            target,
            args=[f"-Wl,-install_name,{LIBFOO}", str(bar), "-Wl,-rpath,@loader_path/../lib"],
        )
        # zig links no MH_BUNDLE; a dylib loads as an extension just as well.
        ext = compile_macho(
            tmp / arch / "_ext.so", EXT, target, args=["-Wl,-install_name,_ext.so", str(foo)]
        )
        built[arch] = {"libbar": bar, "libfoo": foo, "ext": ext}
    built["universal"] = {
        name: universal(tmp / f"{name}-universal", built["arm64"][name], built["x86_64"][name])
        for name in ("libbar", "libfoo", "ext")
    }
    return built


def _bundle(layout: BundleLayout, files: dict[str, Path], root: Path) -> dict[str, str]:
    """Lay out ``files`` as the engine does: copies named and placed by ``layout``,
    every edit queued, then applied to the files written under ``root``. Returns the
    wheel path of each file by its name in ``files``."""
    folder = layout.folder("my_dist")
    paths = {"ext": EXTENSION}
    for name, linked in (("libfoo", LIBFOO), ("libbar", LIBBAR)):
        digest = hashlib.sha256(files[name].read_bytes()).hexdigest()
        paths[name] = f"{folder}/{layout.copy_name(linked, digest)}"
    edits = BinaryEdits()
    layout.wire(edits, paths["ext"], {LIBFOO: paths["libfoo"]})
    layout.wire(edits, paths["libfoo"], {LIBBAR: paths["libbar"]})
    for name in ("libfoo", "libbar"):
        layout.name_copy(edits, paths[name])
    for name, path in paths.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name].read_bytes())
        apply_edits(target, edits.for_file(path))
    return paths


def _slices(data: bytes) -> list[bytes]:
    return [thin for _, thin in fat_slices(data)] if data[:4] == b"\xca\xfe\xba\xbe" else [data]


def _load_commands(thin: bytes) -> tuple[str | None, list[str]]:
    """(LC_ID_DYLIB, the dependencies) of one slice, as LIEF reads them."""
    fat = lief.MachO.parse(list(thin))
    assert fat is not None
    binary = fat.at(0)
    assert binary is not None
    ident = lief.MachO.LoadCommand.TYPE.ID_DYLIB
    names = [(lib.command, lib.name) for lib in binary.libraries]
    install = next((name for command, name in names if command == ident), None)
    return install, [name for command, name in names if command != ident]


@pytest.mark.parametrize("arch", ["arm64", "x86_64", "universal"])
def test_bundle_loads_by_loader_path_and_is_signed(
    macho: dict[str, dict[str, Path]], tmp_path: Path, arch: str
) -> None:
    paths = _bundle(layout_for("osx", packages=["pkg"]), macho[arch], tmp_path)

    copies = {name: posixpath.basename(paths[name]) for name in ("libfoo", "libbar")}
    assert paths["libfoo"].startswith("pkg/.dylibs/libfoo-") and paths["libfoo"].endswith(
        ".1.dylib"
    )
    expected = {
        "ext": ("_ext.so", [LIBSYSTEM, f"@loader_path/../.dylibs/{copies['libfoo']}"]),
        "libfoo": (f"@rpath/{copies['libfoo']}", [f"@loader_path/{copies['libbar']}", LIBSYSTEM]),
        "libbar": (f"@rpath/{copies['libbar']}", [LIBSYSTEM]),
    }
    for name, path in paths.items():
        data = (tmp_path / path).read_bytes()
        for thin in _slices(data):
            install, needed = _load_commands(thin)
            assert (install, sorted(needed)) == (expected[name][0], sorted(expected[name][1]))
            # dyld resolves @loader_path against the folder of the file that asks.
            for entry in needed:
                if entry.startswith("@loader_path/"):
                    target = posixpath.join(posixpath.dirname(path), entry.split("/", 1)[1])
                    assert (tmp_path / posixpath.normpath(target)).is_file(), entry
            # arm64 slices were signed by the linker; each must be signed afresh.
            if thin[4:8] == b"\x0c\x00\x00\x01":
                assert verify_adhoc_signature(thin).identifier == posixpath.basename(path)


def test_copy_names_are_unique_and_deterministic() -> None:
    layout = MacOSLayout()
    digest = hashlib.sha256(b"one build").hexdigest()
    other = hashlib.sha256(b"another build").hexdigest()
    name = layout.copy_name("@rpath/libz.1.dylib", digest)
    assert name == f"libz-{digest[:8]}.1.dylib"
    assert name == layout.copy_name("/opt/conda/lib/libz.1.dylib", digest.upper())
    assert name != layout.copy_name("@rpath/libz.1.dylib", other)
    assert layout.copy_name("libgfortran.5.dylib", digest).startswith("libgfortran-")


def test_folder_inside_the_only_package_else_at_the_root() -> None:
    assert layout_for("osx", packages=["pkg"]).folder("my_dist") == "pkg/.dylibs"
    assert layout_for("osx", packages=["a", "b"]).folder("my_dist") == "my_dist.dylibs"
    assert layout_for("osx").folder("my_dist") == "my_dist.dylibs"
    assert layout_for("osx").platform == "osx"


def test_siblings_and_root_binaries(macho: dict[str, dict[str, Path]]) -> None:
    edits = BinaryEdits()
    layout = layout_for("osx", packages=["a", "b"])
    layout.wire(edits, "_top.so", {LIBFOO: "my_dist.dylibs/libfoo-1.dylib"})
    (edit,) = edits.for_file("_top.so")
    assert edit.new == "@loader_path/my_dist.dylibs/libfoo-1.dylib"
    assert layout.rewrite("a/__init__.py", b"", "my_dist.dylibs") is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lay, e: lay.copy_name("@rpath/..", "0" * 64), "has no file name"),
        (lambda lay, e: lay.copy_name("libé.dylib", "0" * 64), "not a plain ASCII file name"),
        (lambda lay, e: lay.copy_name("lib\\x.dylib", "0" * 64), "not a plain ASCII file name"),
        (lambda lay, e: lay.copy_name("libz.1.dylib", "beef"), "not a sha256 hex digest"),
        (lambda lay, e: lay.copy_name("README", "0" * 64), "not a .dylib or .so name"),
        (lambda lay, e: lay.wire(e, "pkg/x.so", {LIBFOO: "../evil.dylib"}), "not a path inside"),
        (lambda lay, e: lay.wire(e, "/abs/x.so", {LIBFOO: "pkg/.dylibs/a.dylib"}), "not a path"),
        (lambda lay, e: lay.name_copy(e, "pkg/./a.dylib"), "not a path inside a wheel"),
    ],
)
def test_hostile_names_are_refused(call: object, message: str) -> None:
    edits = BinaryEdits()
    with pytest.raises(BadInputError, match=message) as raised:
        call(MacOSLayout(packages=("pkg",)), edits)  # type: ignore[operator]
    assert "\n" not in str(raised.value)
    assert not edits


def test_wiring_a_library_the_binary_does_not_need_fails(
    macho: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    edits = BinaryEdits()
    MacOSLayout().wire(edits, "ext.so", {"@rpath/libmissing.dylib": "d.dylibs/libm-1.dylib"})
    target = tmp_path / "ext.so"
    target.write_bytes(macho["arm64"]["ext"].read_bytes())
    with pytest.raises(BinaryEditError, match=r"does not need @rpath/libmissing\.dylib$"):
        apply_edits(target, edits.for_file("ext.so"))


@pytest.mark.parametrize("target", [MACOS_ARM64, MACOS_X86_64])
def test_long_install_names_without_header_room(tmp_path: Path, target: str) -> None:
    """A binary linked without -headerpad_max_install_names: LIEF makes the room."""
    bar = compile_macho(
        tmp_path / "libbar.1.dylib", BAR, target, args=[f"-Wl,-install_name,{LIBBAR}"]
    )
    ext = compile_macho(tmp_path / "_ext.so", FOO, target, args=["-Wl,-headerpad,0", str(bar)])
    copy = "pkg/sub/deeper/still/.dylibs/" + MacOSLayout().copy_name(LIBBAR, "0" * 64)
    edits = BinaryEdits()
    MacOSLayout().wire(edits, "pkg/_ext.so", {LIBBAR: copy})
    apply_edits(ext, edits.for_file("pkg/_ext.so"))

    data = ext.read_bytes()
    _, needed = _load_commands(data)
    assert f"@loader_path/sub/deeper/still/.dylibs/{posixpath.basename(copy)}" in needed
    if target == MACOS_ARM64:
        verify_adhoc_signature(data)
