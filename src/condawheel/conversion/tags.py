"""Wheel tags from the package and the binaries inside it (design section 2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import Version

from condawheel.binaries import BinaryFormat, BinaryInfo
from condawheel.conda.package import CondaPackage, NoarchType
from condawheel.conversion.dependencies import Dependencies, DependencyKind
from condawheel.wheel.tags import (
    GLIBC_BASELINE,
    LINUX_ARCHS,
    MACOS_BASELINE,
    NOARCH_PLATFORM,
    OSX_ARCHS,
    PE_ARCHS,
    WINDOWS_PLATFORMS,
    encode_platform,
)

_CPYTHON_EXT = re.compile(
    r"\.(?:cpython-(\d)(\d+)(t?)[-.][^/]*|cp(\d)(\d+)(t?)-[^/.]+)\.(?:so|pyd)$"
)
_PYPY_EXT = re.compile(r"\.pypy(\d)(\d+)-pp(\d+)[-.][^/]*\.(?:so|pyd)$")
_ABI3_EXT = re.compile(r"\.abi3\.(?:so|pyd)$")
_UNTAGGED_EXT = re.compile(r"^[^.]+\.(?:so|pyd)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class TagDecision:
    python: str
    abi: str
    platform: str
    #: Why each part is what it is, for `inspect`.
    reasons: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return f"{self.python}-{self.abi}-{self.platform}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundBinary:
    """A binary at a path inside the wheel (site-packages-relative when in the root)."""

    path: str
    in_root: bool
    info: BinaryInfo


def decide_tags(
    package: CondaPackage,
    dependencies: Dependencies,
    binaries: Sequence[FoundBinary],
    root_files: Iterable[str],
    *,
    plain: bool = False,
) -> TagDecision:
    reasons: list[str] = []
    warnings: list[str] = []
    root_files = tuple(root_files)
    python, abi = _python_abi(package, dependencies, root_files, reasons, warnings)
    platform = _platform(
        package, dependencies, binaries, root_files, reasons, warnings, plain=plain
    )
    return TagDecision(
        python=python, abi=abi, platform=platform, reasons=tuple(reasons), warnings=tuple(warnings)
    )


def _python_abi(
    package: CondaPackage,
    dependencies: Dependencies,
    root_files: Iterable[str],
    reasons: list[str],
    warnings: list[str],
) -> tuple[str, str]:
    tagged: set[tuple[str, str]] = set()
    abi3: list[str] = []
    untagged: list[str] = []
    for path in root_files:
        name = path.rpartition("/")[2]
        pypy = _PYPY_EXT.search(name)
        if pypy:
            major, minor, abi = pypy.groups()
            tagged.add((f"pp{major}{minor}", f"pypy{major}{minor}_pp{abi}"))
            continue
        found = _CPYTHON_EXT.search(name)
        if found:
            major, minor, flag = _groups(found)
            tagged.add((f"cp{major}{minor}", f"cp{major}{minor}{flag}"))
        elif _ABI3_EXT.search(name):
            abi3.append(path)
        elif _UNTAGGED_EXT.match(name):
            untagged.append(path)
    abi_spec = _python_abi_dependency(dependencies)
    if tagged:
        python, abi = sorted(tagged)[-1]
        if len(tagged) > 1:
            warnings.append(
                f"extension modules for several Pythons: {sorted(tagged)}; tagged {abi}"
            )
        reasons.append(f"python/abi {python}-{abi}: from the extension modules' file names")
        if abi_spec and abi_spec != abi:
            warnings.append(f"python_abi says {abi_spec} but the extension modules are {abi}")
        return python, abi
    version = _python_version(dependencies)
    if abi3:
        python = f"cp{version.major}{version.minor}" if version else "cp3"
        reasons.append(f"python/abi {python}-abi3: only limited-API (.abi3) extension modules")
        return python, "abi3"
    if untagged and (version or abi_spec):
        abi = abi_spec or f"cp{version.major}{version.minor}"  # type: ignore[union-attr]
        python = abi.rstrip("t")
        reasons.append(
            f"python/abi {python}-{abi}: untagged extension modules, version from "
            "python_abi / the python dependency"
        )
        return python, abi
    generation = version.major if version else 3
    reasons.append(f"python/abi py{generation}-none: no extension modules")
    return f"py{generation}", "none"


def _groups(found: re.Match[str]) -> tuple[str, str, str]:
    groups = found.groups()
    if groups[0] is not None:
        return groups[0], groups[1], groups[2]
    return groups[3], groups[4], groups[5]


def _python_abi_dependency(dependencies: Dependencies) -> str | None:
    found = dependencies.of_kind(DependencyKind.PYTHON_ABI)
    if found and found[0].spec.build:
        flavour = re.search(r"cp\d+t?", found[0].spec.build)
        return flavour.group(0) if flavour else None
    return None


def _python_version(dependencies: Dependencies) -> Version | None:
    for kind in (DependencyKind.PYTHON_ABI, DependencyKind.PYTHON):
        for dependency in dependencies.of_kind(kind):
            bound = dependency.spec.lower_bound
            if bound is not None:
                return bound
    return None


def _platform(
    package: CondaPackage,
    dependencies: Dependencies,
    binaries: Sequence[FoundBinary],
    root_files: Sequence[str],
    reasons: list[str],
    warnings: list[str],
    *,
    plain: bool,
) -> str:
    # `any` would let plain pip install a package without Python content anywhere, as
    # the PyPI project its name happens to be: such a package keeps a conda tag.
    python_content = bool(root_files) or package.noarch is NoarchType.PYTHON
    if package.noarch is not NoarchType.NONE or package.subdir == "noarch":
        if python_content:
            reasons.append(f"platform any: a noarch: {package.noarch.value} package")
            return "any"
        if plain:
            warnings.append(
                "--plain-tags: tagged any although the package has no Python content, so "
                "plain pip installs it anywhere"
            )
            reasons.append("platform any: --plain-tags")
            return "any"
        reasons.append(
            f"platform {NOARCH_PLATFORM}: a noarch package without Python content, for "
            "any conda environment"
        )
        return NOARCH_PLATFORM
    if not binaries and python_content:
        reasons.append("platform any: no binary files in the package")
        return "any"
    tag, why, mismatches = platform_tag(
        package.subdir,
        binaries,
        glibc=_virtual_floor(dependencies, "__glibc"),
        osx=_virtual_floor(dependencies, "__osx"),
        plain=plain,
    )
    if not binaries:
        why = f"no binaries, but no Python content either: {why}"
    reasons.append(f"platform {tag}: {why}")
    warnings.extend(mismatches)
    return tag


def platform_tag(
    subdir: str,
    binaries: Sequence[FoundBinary],
    *,
    glibc: tuple[int, int] | None = None,
    osx: tuple[int, int] | None = None,
    plain: bool = False,
) -> tuple[str, str, list[str]]:
    """The platform tag for binaries built for a conda ``subdir``: ``(tag, why,
    warnings)``. ``glibc`` and ``osx`` are floors declared by `__glibc` / `__osx`."""
    warnings: list[str] = []
    os_name, _, arch = subdir.partition("-")
    if os_name == "linux":
        machine = LINUX_ARCHS.get(arch, arch)
        _check_arch(binaries, BinaryFormat.ELF, {machine}, subdir, warnings)
        if plain:
            return encode_platform(subdir, plain=True), "--plain-tags", warnings
        floor, why = _glibc_floor(glibc, binaries)
        return encode_platform(subdir, floor=floor), why, warnings
    if subdir in OSX_ARCHS:
        machine = OSX_ARCHS[subdir]
        _check_arch(binaries, BinaryFormat.MACHO, {machine}, subdir, warnings)
        floor, why = _macos_floor(osx, binaries, machine)
        return encode_platform(subdir, floor=floor, plain=plain), why, warnings
    if subdir in WINDOWS_PLATFORMS:
        _check_arch(binaries, BinaryFormat.PE, {PE_ARCHS[subdir]}, subdir, warnings)
    return encode_platform(subdir, plain=plain), f"subdir {subdir}", warnings


def _check_arch(
    binaries: Sequence[FoundBinary],
    fmt: BinaryFormat,
    expected: set[str],
    subdir: str,
    warnings: list[str],
) -> None:
    for binary in binaries:
        archs = set(binary.info.archs or (binary.info.arch,))
        if binary.info.format is fmt and not archs & expected:
            warnings.append(f"{binary.path}: built for {'/'.join(sorted(archs))}, not for {subdir}")


def _glibc_floor(
    declared: tuple[int, int] | None, binaries: Sequence[FoundBinary]
) -> tuple[tuple[int, int], str]:
    floor, why = GLIBC_BASELINE, "conda-forge's glibc baseline"
    if declared and declared > floor:
        floor, why = declared, "__glibc in depends"
    needed = [b for b in binaries if b.info.glibc_floor]
    if needed:
        newest = max(needed, key=lambda b: b.info.glibc_floor or (0, 0))
        version = newest.info.glibc_floor or (0, 0)
        if version > floor:
            floor, why = version, f"{newest.path} needs GLIBC_{version[0]}.{version[1]}"
    return floor, why


def _macos_floor(
    declared: tuple[int, int] | None, binaries: Sequence[FoundBinary], machine: str
) -> tuple[tuple[int, int], str]:
    if declared:
        return declared, "__osx in depends"
    needed = [b for b in binaries if b.info.macos_floor]
    if needed:
        newest = max(needed, key=lambda b: b.info.macos_floor or (0, 0))
        version = newest.info.macos_floor or (0, 0)
        return version, f"{newest.path} has minimum macOS {version[0]}.{version[1]}"
    return MACOS_BASELINE.get(machine, (11, 0)), "conda-forge's macOS baseline"


def _virtual_floor(dependencies: Dependencies, name: str) -> tuple[int, int] | None:
    dependency = dependencies.find(name)
    bound = dependency.spec.lower_bound if dependency else None
    if bound is None:
        return None
    release = (*bound.release, 0)
    return release[0], release[1]
