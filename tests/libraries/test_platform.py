"""Libraries the operating system provides."""

from __future__ import annotations

import pytest

from condawheel.libraries.platform import (
    manylinux_whitelist,
    platform_provides,
    standalone_provides,
)


@pytest.mark.parametrize(
    "name",
    [
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libgcc_s.so.1",
        "libstdc++.so.6",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
        "ld64.so.2",
        "ld-linux.so.2",
    ],
)
def test_linux_system_libraries(name: str) -> None:
    assert platform_provides(name, "linux") == "manylinux policy (auditwheel)"


@pytest.mark.parametrize(
    "name",
    [
        "libssl.so.3",
        "libpng16.so.16",
        # only the newer policies allow it; the oldest does not
        "libexpat.so.1",
        "libc.so",
        "/lib64/libc.so.6",
    ],
)
def test_linux_libraries_a_system_may_lack(name: str) -> None:
    assert platform_provides(name, "linux") is None


def test_the_whitelist_is_auditwheels_oldest_manylinux_policy() -> None:
    whitelist = manylinux_whitelist()

    assert {"libc.so.6", "libz.so.1", "libGL.so.1"} <= whitelist
    assert "libmvec.so.1" not in whitelist  # manylinux_2_24 added it


@pytest.mark.parametrize(
    "name",
    [
        "/usr/lib/libSystem.B.dylib",
        "/usr/lib/libc++.1.dylib",
        "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
    ],
)
def test_macos_system_libraries(name: str) -> None:
    assert platform_provides(name, "osx") == "macOS system library"


@pytest.mark.parametrize(
    "name", ["@rpath/libz.1.dylib", "/usr/local/lib/libz.1.dylib", "libSystem.B.dylib"]
)
def test_macos_libraries_outside_the_system(name: str) -> None:
    assert platform_provides(name, "osx") is None


@pytest.mark.parametrize(
    "name",
    [
        "KERNEL32.dll",
        "kernel32.dll",
        "ADVAPI32.dll",
        "WS2_32.dll",
        "ntdll.dll",
        "bcrypt.dll",
        "api-ms-win-crt-runtime-l1-1-0.dll",
        "API-MS-WIN-CRT-HEAP-L1-1-0.DLL",
        "api-ms-win-core-synch-l1-2-0.dll",
        "ext-ms-win-ntuser-window-l1-1-0.dll",
    ],
)
def test_windows_system_dlls(name: str) -> None:
    assert platform_provides(name, "win") == "Windows system DLL"


@pytest.mark.parametrize(
    "name", ["vcruntime140.dll", "VCRUNTIME140_1.dll", "msvcp140.dll", "ucrtbase.dll", "zlib.dll"]
)
def test_windows_runtimes_are_left_to_conda_packages(name: str) -> None:
    assert platform_provides(name, "win") is None


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("libpython3.12.so.1.0", "linux"),
        ("libpython3.13t.so.1.0", "linux"),
        ("@rpath/libpython3.12.dylib", "osx"),
        ("python312.dll", "win"),
        ("python3.dll", "win"),
        ("PYTHON313T.DLL", "win"),
    ],
)
def test_the_interpreter_provides_libpython(name: str, platform: str) -> None:
    assert platform_provides(name, platform) == "the Python interpreter"


def test_each_platform_has_its_own_libraries() -> None:
    assert platform_provides("libc.so.6", "osx") is None
    assert platform_provides("/usr/lib/libSystem.B.dylib", "linux") is None
    assert platform_provides("kernel32.dll", "linux") is None


def test_an_unknown_platform_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown platform 'freebsd'"):
        platform_provides("libc.so.7", "freebsd")


@pytest.mark.parametrize(
    ("name", "platform", "reason"),
    [
        ("VCRUNTIME140.dll", "win", "the Universal CRT, or the Visual C++ runtime CPython ships"),
        ("vcruntime140_1.dll", "win", "the Universal CRT, or the Visual C++ runtime CPython ships"),
        ("ucrtbase.dll", "win", "the Universal CRT, or the Visual C++ runtime CPython ships"),
        ("msvcp140.dll", "win", None),
        ("KERNEL32.dll", "win", "Windows system DLL"),
        ("/usr/lib/libSystem.B.dylib", "osx", "macOS system library"),
        ("libc.so.6", "linux", "manylinux policy (auditwheel)"),
    ],
)
def test_what_a_standalone_wheel_leaves_to_the_target(
    name: str, platform: str, reason: str | None
) -> None:
    assert standalone_provides(name, platform) == reason
