"""The platform tag codec: conda subdirs and the wheel platform tags that stand for them.

`conda_`-prefixed tags are condawheel's own (plain pip on a non-conda Python takes none
of them); ``conda_noarch`` is a noarch package without Python content. This module is the
one place that spells a tag from a subdir and reads a subdir back from a tag.
"""

from __future__ import annotations

import re

LINUX_ARCHS = {
    "64": "x86_64",
    "32": "i686",
    "aarch64": "aarch64",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "armv7l": "armv7l",
    "armv6l": "armv6l",
    "riscv64": "riscv64",
    "riscv32": "riscv32",
    "loongarch64": "loongarch64",
    "ppc": "ppc",
}
WINDOWS_PLATFORMS = {"win-64": "win_amd64", "win-32": "win32", "win-arm64": "win_arm64"}
OSX_ARCHS = {"osx-64": "x86_64", "osx-arm64": "arm64"}
PE_ARCHS = {"win-64": "amd64", "win-32": "win32", "win-arm64": "arm64"}
#: conda-forge's oldest supported targets, used when nothing says otherwise.
GLIBC_BASELINE = (2, 17)
MACOS_BASELINE = {"x86_64": (10, 13), "arm64": (11, 0)}
#: The platform tag of a noarch package without Python content: every conda
#: environment takes it, plain pip none.
NOARCH_PLATFORM = "conda_noarch"


def encode_platform(
    subdir: str, *, floor: tuple[int, int] | None = None, plain: bool = False
) -> str:
    """The platform tag for a conda ``subdir``: ``floor`` is the glibc (Linux) or
    macOS version the binaries need (the baseline when None); ``plain`` leaves out the
    ``conda_`` prefix (and, on Linux, the glibc floor: `linux_<machine>`)."""
    prefix = "" if plain else "conda_"
    os_name, _, arch = subdir.partition("-")
    if os_name == "linux":
        machine = LINUX_ARCHS.get(arch, arch)
        if plain:
            return f"linux_{machine}"
        major, minor = floor or GLIBC_BASELINE
        return f"{prefix}linux_{major}_{minor}_{machine}"
    if subdir in OSX_ARCHS:
        machine = OSX_ARCHS[subdir]
        major, minor = floor or MACOS_BASELINE.get(machine, (11, 0))
        return f"{prefix}macosx_{major}_{minor}_{machine}"
    if subdir in WINDOWS_PLATFORMS:
        return f"{prefix}{WINDOWS_PLATFORMS[subdir]}"
    return f"{prefix}{os_name}_{arch}"


def subdir_for_platform_tag(platform: str) -> str | None:
    """The conda subdir a standard platform tag stands for (`manylinux_2_17_x86_64`,
    `linux_x86_64`, `macosx_11_0_arm64`, `win_amd64`) or condawheel's own
    (`conda_linux_2_17_x86_64`), or None: musl is not conda's libc."""
    platform = platform.removeprefix("conda_")
    for subdir, tag in WINDOWS_PLATFORMS.items():
        if platform == tag:
            return subdir
    found = re.match(r"^(?:many)?linux(?:\d+|_\d+_\d+)?_(\w+)$", platform)
    if found:
        machine = found.group(1)
        return next((f"linux-{a}" for a, m in LINUX_ARCHS.items() if m == machine), None)
    found = re.match(r"^macosx_\d+_\d+_(x86_64|arm64|universal2)$", platform)
    if found:
        return "osx-arm64" if found.group(1) == "arm64" else "osx-64"
    return None
