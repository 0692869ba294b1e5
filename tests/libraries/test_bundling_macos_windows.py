"""The bundling engine with the macOS and Windows layouts: conda packages of a library
and the library it links, built in the session with zig for osx-arm64 and win-64, and
an extension that needs the first. The plan's edits are applied to the fetched copies
and the extension laid out as the wheel holds them, then checked structurally."""

from __future__ import annotations

import dataclasses
import posixpath
import shutil
from pathlib import Path

import lief
import pefile
import pytest

from condawheel.binaries.patcher import apply_edits
from condawheel.binaries.read import read_binary
from condawheel.conda.known import KnownPackages
from condawheel.libraries.bundling import BundlePlan, plan_bundle
from condawheel.libraries.copies import LibraryFetcher
from condawheel.libraries.layout import layout_for
from condawheel.libraries.providers import LibraryIndex
from cross_chain import CrossChain, macos_chain, windows_chain
from macho_signing import LIBSYSTEM, verify_adhoc_signature

MAC_EXT = "pkg/_ext.cpython-312-darwin.so"
WIN_EXT = "pkg/_ext.cp312-win_amd64.pyd"


@pytest.fixture(scope="module")
def macos(tmp_path_factory: pytest.TempPathFactory) -> CrossChain:
    return macos_chain(tmp_path_factory.mktemp("bundle-macos"))


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> CrossChain:
    return windows_chain(tmp_path_factory.mktemp("bundle-windows"))


def _bundle(
    platform: str, chain: CrossChain, wheel_ext: str, root: Path
) -> tuple[BundlePlan, dict[str, Path]]:
    """Plan with the platform's layout, apply every edit, lay the files out under root."""
    ext = chain.ext
    index = LibraryIndex.from_known(KnownPackages.load([chain.channel]))
    fetcher = LibraryFetcher(root / "scratch", index)
    with ext.open("rb") as stream:
        binaries = {wheel_ext: read_binary(stream)}
    layout = layout_for(platform, packages=["pkg"])
    plan = plan_bundle(binaries, index=index, fetcher=fetcher, layout=layout, dist="my_dist")
    files = {wheel_ext: ext, **{lib.wheel_path: lib.copy.path for lib in plan.libraries}}
    laid_out = {}
    for path, source in files.items():
        target = root / "wheel" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        apply_edits(target, plan.edits.for_file(path))
        laid_out[path] = target
    return plan, laid_out


def test_macos_bundle(macos: CrossChain, tmp_path: Path) -> None:
    plan, files = _bundle("osx", macos, MAC_EXT, tmp_path)

    assert [(lib.name, lib.package) for lib in plan.libraries] == [
        ("@rpath/libdep.1.dylib", "libdep"),
        ("@rpath/libmid.1.dylib", "libmid"),
    ]
    dep, mid = (lib.wheel_path for lib in plan.libraries)
    assert posixpath.dirname(dep) == posixpath.dirname(mid) == "pkg/.dylibs"
    expected = {
        MAC_EXT: [LIBSYSTEM, f"@loader_path/.dylibs/{posixpath.basename(mid)}"],
        mid: [LIBSYSTEM, f"@loader_path/{posixpath.basename(dep)}"],
        dep: [LIBSYSTEM],
    }
    for path, target in files.items():
        data = target.read_bytes()
        fat = lief.MachO.parse(list(data))
        assert fat is not None
        binary = fat.at(0)
        assert binary is not None
        ident = lief.MachO.LoadCommand.TYPE.ID_DYLIB
        needed = [lib.name for lib in binary.libraries if lib.command != ident]
        # The rpaths into the conda environment (the extension's @loader_path/../../..,
        # libmid's @loader_path) are gone: every copy is loaded by @loader_path.
        rpath = lief.MachO.LoadCommand.TYPE.RPATH
        assert [c for c in binary.commands if c.command == rpath] == []
        install = [lib.name for lib in binary.libraries if lib.command == ident]
        assert sorted(needed) == sorted(expected[path])
        for entry in needed:
            if entry.startswith("@loader_path/"):
                resolved = posixpath.join(posixpath.dirname(path), entry.split("/", 1)[1])
                assert posixpath.normpath(resolved) in files
        if path != MAC_EXT:
            assert install == [f"@rpath/{posixpath.basename(path)}"]
        assert verify_adhoc_signature(data).identifier == posixpath.basename(path)


def test_windows_bundle(windows: CrossChain, tmp_path: Path) -> None:
    plan, files = _bundle("win", windows, WIN_EXT, tmp_path)

    dep, mid = (lib.wheel_path for lib in plan.libraries)
    assert [lib.name for lib in plan.libraries] == ["dep.dll", "mid.dll"]
    assert dep == f"my_dist.libs/dep-{plan.libraries[0].copy.sha256[:32]}.dll"
    assert mid == f"my_dist.libs/mid-{plan.libraries[1].copy.sha256[:32]}.dll"
    expected = {WIN_EXT: [posixpath.basename(mid)], mid: [posixpath.basename(dep)], dep: []}
    for path, target in files.items():
        pe = pefile.PE(str(target))
        imports = [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])]
        pe.close()
        assert imports == expected[path]
        # Every imported DLL is in the folder the loader patch adds.
        assert all(f"my_dist.libs/{name}" in files for name in imports)


def test_windows_runtimes_cpython_ships_are_not_bundled(
    windows: CrossChain, tmp_path: Path
) -> None:
    with windows.ext.open("rb") as stream:
        info = read_binary(stream)
    needs = ("VCRUNTIME140.dll", "vcruntime140_1.dll", "ucrtbase.dll", "KERNEL32.dll")
    info = dataclasses.replace(info, needed=(*info.needed, *needs))
    index = LibraryIndex.from_known(KnownPackages.load([windows.channel]))
    plan = plan_bundle(
        {WIN_EXT: info},
        index=index,
        fetcher=LibraryFetcher(tmp_path, index),
        layout=layout_for("win", packages=["pkg"]),
        dist="my_dist",
    )
    assert [lib.name for lib in plan.libraries] == ["dep.dll", "mid.dll"]


def test_one_copy_of_a_dll_whatever_case_it_is_named_in(
    windows: CrossChain, tmp_path: Path
) -> None:
    with windows.ext.open("rb") as stream:
        info = read_binary(stream)
    other = dataclasses.replace(info, needed=("MID.DLL",))
    index = LibraryIndex.from_known(KnownPackages.load([windows.channel]))
    plan = plan_bundle(
        {WIN_EXT: info, "pkg/_other.pyd": other},
        index=index,
        fetcher=LibraryFetcher(tmp_path, index),
        layout=layout_for("win", packages=["pkg"]),
        dist="my_dist",
    )
    _, mid = (lib.wheel_path for lib in plan.libraries)
    assert [lib.name.lower() for lib in plan.libraries] == ["dep.dll", "mid.dll"]
    (ext_edit,) = plan.edits.for_file(WIN_EXT)
    (other_edit,) = plan.edits.for_file("pkg/_other.pyd")
    assert (ext_edit.old, other_edit.old) == ("mid.dll", "MID.DLL")
    assert ext_edit.new == other_edit.new == posixpath.basename(mid)
