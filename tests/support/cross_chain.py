"""A library chain for macOS and Windows, linked with zig in the session: ``dep``,
``mid`` that links it, and an extension that links ``mid``; the two libraries as conda
packages in a local channel, as conda-forge would ship them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builders import CondaPackageBuilder
from compilers import MACOS_ARM64, compile_macho, compile_pe

__all__ = ["CrossChain", "macos_chain", "windows_chain"]

_DEP = "int dep(void) { return 4; }\n"
_MID = "int dep(void);\nint mid(void) { return dep() * 10 + 2; }\n"
_EXT = "int mid(void);\nint PyInit__ext(void) { return mid(); }\n"
_WIN_DEP = "__declspec(dllexport) int dep(void) { return 4; }\n"
_WIN_MID = (
    "__declspec(dllimport) int dep(void);\n"
    "__declspec(dllexport) int mid(void) { return dep() * 10 + 2; }\n"
)
_WIN_EXT = (
    "__declspec(dllimport) int mid(void);\n"
    "__declspec(dllexport) int PyInit__ext(void) { return mid(); }\n"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossChain:
    #: The channel's root (``--with`` it); its one subdir holds the two packages.
    channel: Path
    dep: Path
    mid: Path
    ext: Path


def _library(channel: Path, name: str, path: str, binary: Path, licence: str) -> None:
    (
        CondaPackageBuilder(
            name=name, version="1.0", build="h0_0", subdir=channel.name, license=licence
        )
        .add_file(path, binary.read_bytes())
        .add_info_file("licenses/LICENSE", f"{name} licence\n")
        .build(channel)
    )


def macos_chain(build: Path) -> CrossChain:
    """osx-arm64 packages ``libdep`` (MIT) and ``libmid`` (BSD-3-Clause), whose dylibs
    are linked by ``@rpath`` install names, and the extension (with an rpath into a
    conda environment's ``lib/``)."""
    dep = compile_macho(
        build / "libdep.1.dylib",
        _DEP,
        MACOS_ARM64,
        args=["-Wl,-install_name,@rpath/libdep.1.dylib"],
    )
    mid = compile_macho(
        build / "libmid.1.dylib",
        _MID,
        MACOS_ARM64,
        args=["-Wl,-install_name,@rpath/libmid.1.dylib", str(dep), "-Wl,-rpath,@loader_path"],
    )
    ext = compile_macho(
        build / "_ext.so",
        _EXT,
        MACOS_ARM64,
        args=["-Wl,-install_name,_ext.so", str(mid), "-Wl,-rpath,@loader_path/../../.."],
    )
    channel = build / "channel" / "osx-arm64"
    _library(channel, "libdep", "lib/libdep.1.dylib", dep, "MIT")
    _library(channel, "libmid", "lib/libmid.1.dylib", mid, "BSD-3-Clause")
    return CrossChain(channel=channel.parent, dep=dep, mid=mid, ext=ext)


def windows_chain(build: Path) -> CrossChain:
    """win-64 packages ``dep`` (MIT) and ``mid`` (BSD-3-Clause) with their DLLs in
    ``Library/bin``, and the extension."""
    dep = compile_pe(build / "dep.dll", _WIN_DEP)
    mid = compile_pe(build / "mid.dll", _WIN_MID, [str(build / "dep.lib")])
    ext = compile_pe(build / "_ext.pyd", _WIN_EXT, [str(build / "mid.lib")])
    channel = build / "channel" / "win-64"
    _library(channel, "dep", "Library/bin/dep.dll", dep, "MIT")
    _library(channel, "mid", "Library/bin/mid.dll", mid, "BSD-3-Clause")
    return CrossChain(channel=channel.parent, dep=dep, mid=mid, ext=ext)
