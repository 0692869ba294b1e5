"""Wheel tags from the package and the binaries inside it (design section 2)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from condawheel.binaries.model import BinaryFormat, BinaryInfo
from condawheel.conda.package import CondaPackage
from condawheel.conversion.dependencies import classify
from condawheel.conversion.names import NameResolver
from condawheel.conversion.tags import FoundBinary, TagDecision, decide_tags


def make_package(
    subdir: str = "linux-64", depends: Sequence[str] = (), noarch: str | None = None
) -> CondaPackage:
    index: dict[str, object] = {
        "name": "foo",
        "version": "1.0",
        "build": "0",
        "subdir": subdir,
        "depends": list(depends),
    }
    if noarch:
        index["noarch"] = noarch
    return CondaPackage.from_info("foo-1.0-0.conda", {"index.json": json.dumps(index).encode()})


def elf(
    path: str = "lib/libfoo.so",
    *,
    arch: str = "x86_64",
    glibc: tuple[int, int] | None = None,
    in_root: bool = False,
) -> FoundBinary:
    info = BinaryInfo(
        format=BinaryFormat.ELF,
        arch=arch,
        soname=path.rpartition("/")[2],
        is_shared_library=True,
        glibc_floor=glibc,
    )
    return FoundBinary(path=path, in_root=in_root, info=info)


def macho(
    path: str = "lib/libfoo.dylib",
    *,
    arch: str = "arm64",
    archs: tuple[str, ...] = (),
    floor: tuple[int, int] | None = None,
) -> FoundBinary:
    info = BinaryInfo(
        format=BinaryFormat.MACHO, arch=arch, archs=archs, is_shared_library=True, macos_floor=floor
    )
    return FoundBinary(path=path, in_root=False, info=info)


def pe(path: str = "Library/bin/foo.dll", *, arch: str = "amd64") -> FoundBinary:
    info = BinaryInfo(format=BinaryFormat.PE, arch=arch, is_shared_library=True)
    return FoundBinary(path=path, in_root=False, info=info)


def decide(
    subdir: str = "linux-64",
    depends: Sequence[str] = (),
    binaries: Sequence[FoundBinary] = (),
    root_files: Sequence[str] = (),
    *,
    noarch: str | None = None,
    plain: bool = False,
) -> TagDecision:
    package = make_package(subdir, depends, noarch)
    dependencies = classify(package.depends, NameResolver(), python_package=True)
    return decide_tags(package, dependencies, binaries, root_files, plain=plain)


# --- platform ---


@pytest.mark.parametrize("noarch", ["python", "generic"])
def test_noarch_is_any(noarch: str) -> None:
    decision = decide("noarch", ["python >=3.9"], root_files=["foo/__init__.py"], noarch=noarch)
    assert decision.tag == "py3-none-any"
    assert any("noarch" in reason for reason in decision.reasons)


def test_no_binaries_is_any() -> None:
    decision = decide("linux-64", ["python >=3.12"], [], ["foo/__init__.py"])
    assert decision.platform == "any"
    assert any("no binary" in reason for reason in decision.reasons)


def test_a_noarch_package_without_python_content_is_conda_noarch() -> None:
    decision = decide("noarch", [], [], [], noarch="generic")
    assert decision.tag == "py3-none-conda_noarch"
    assert any("without Python content" in reason for reason in decision.reasons)
    # noarch: generic with a Windows launcher among its data: still conda_noarch
    assert decide("noarch", [], [pe("Scripts/t.exe")], noarch="generic").tag.endswith(
        "-conda_noarch"
    )


@pytest.mark.parametrize(
    ("subdir", "platform"),
    [
        ("linux-64", "conda_linux_2_17_x86_64"),
        ("linux-aarch64", "conda_linux_2_17_aarch64"),
        ("osx-arm64", "conda_macosx_11_0_arm64"),
        ("win-64", "conda_win_amd64"),
    ],
)
def test_a_subdir_package_without_binaries_or_python_keeps_its_subdirs_tag(
    subdir: str, platform: str
) -> None:
    decision = decide(subdir, [], [], [])
    assert decision.platform == platform
    assert any("no Python content" in reason for reason in decision.reasons)


def test_plain_tags_of_a_noarch_package_without_python_content_warn() -> None:
    decision = decide("noarch", [], [], [], noarch="generic", plain=True)
    assert decision.platform == "any"
    assert any("no Python content" in warning for warning in decision.warnings)


def test_glibc_floor_from_the_binaries() -> None:
    decision = decide("linux-64", [], [elf("lib/libfoo.so", glibc=(2, 28))])
    assert decision.platform == "conda_linux_2_28_x86_64"
    platform_reason = next(r for r in decision.reasons if r.startswith("platform"))
    assert "lib/libfoo.so" in platform_reason
    assert "GLIBC_2.28" in platform_reason


def test_newest_binary_sets_the_glibc_floor() -> None:
    binaries = [elf("lib/liba.so", glibc=(2, 17)), elf("lib/libb.so", glibc=(2, 34))]
    decision = decide("linux-64", ["__glibc >=2.17,<3.0.a0"], binaries)
    assert decision.platform == "conda_linux_2_34_x86_64"
    assert any("lib/libb.so" in reason for reason in decision.reasons)


def test_glibc_in_depends_beats_the_binaries() -> None:
    decision = decide("linux-64", ["__glibc >=2.34"], [elf(glibc=(2, 28))])
    assert decision.platform == "conda_linux_2_34_x86_64"
    assert any("__glibc" in reason for reason in decision.reasons)


def test_binaries_beat_a_lower_glibc_in_depends() -> None:
    decision = decide("linux-64", ["__glibc >=2.17,<3.0.a0"], [elf(glibc=(2, 28))])
    assert decision.platform == "conda_linux_2_28_x86_64"


@pytest.mark.parametrize("glibc", [None, (2, 2), (2, 12), (2, 17)])
def test_glibc_baseline(glibc: tuple[int, int] | None) -> None:
    decision = decide("linux-64", [], [elf(glibc=glibc)])
    assert decision.platform == "conda_linux_2_17_x86_64"


def test_plain_tags() -> None:
    decision = decide("linux-64", ["__glibc >=2.34"], [elf(glibc=(2, 28))], plain=True)
    assert decision.platform == "linux_x86_64"
    assert any("--plain-tags" in reason for reason in decision.reasons)


@pytest.mark.parametrize(
    ("subdir", "arch", "expected"),
    [
        ("linux-aarch64", "aarch64", "conda_linux_2_17_aarch64"),
        ("linux-ppc64le", "ppc64le", "conda_linux_2_17_ppc64le"),
        ("linux-32", "i686", "conda_linux_2_17_i686"),
        ("linux-armv7l", "armv7l", "conda_linux_2_17_armv7l"),
        ("linux-s390x", "s390x", "conda_linux_2_17_s390x"),
        ("linux-riscv64", "riscv64", "conda_linux_2_17_riscv64"),
    ],
)
def test_other_linux_subdirs(subdir: str, arch: str, expected: str) -> None:
    decision = decide(subdir, [], [elf(arch=arch)])
    assert decision.platform == expected
    assert decision.warnings == ()


def test_osx_floor_from_depends() -> None:
    decision = decide("osx-arm64", ["__osx >=11.0"], [macho(floor=(11, 0))])
    assert decision.platform == "conda_macosx_11_0_arm64"
    assert any("__osx" in reason for reason in decision.reasons)


def test_osx_floor_from_the_binaries() -> None:
    binaries = [macho("lib/liba.dylib", floor=(11, 0)), macho("lib/libb.dylib", floor=(12, 3))]
    decision = decide("osx-arm64", [], binaries)
    assert decision.platform == "conda_macosx_12_3_arm64"
    platform_reason = next(r for r in decision.reasons if r.startswith("platform"))
    assert "lib/libb.dylib" in platform_reason


def test_osx_64() -> None:
    decision = decide("osx-64", ["__osx >=10.13"], [macho(arch="x86_64", floor=(10, 13))])
    assert decision.platform == "conda_macosx_10_13_x86_64"


@pytest.mark.parametrize(
    ("subdir", "arch", "expected"),
    [
        ("win-64", "amd64", "conda_win_amd64"),
        ("win-32", "win32", "conda_win32"),
        ("win-arm64", "arm64", "conda_win_arm64"),
    ],
)
def test_windows(subdir: str, arch: str, expected: str) -> None:
    decision = decide(subdir, [], [pe(arch=arch)])
    assert decision.platform == expected
    assert decision.warnings == ()


def test_plain_windows_tag() -> None:
    assert decide("win-64", [], [pe()], plain=True).platform == "win_amd64"


# --- architecture checks ---


def test_linux_binary_of_the_wrong_arch_warns() -> None:
    decision = decide("linux-64", [], [elf("lib/libfoo.so", arch="aarch64")])
    assert len(decision.warnings) == 1
    assert "lib/libfoo.so" in decision.warnings[0]
    assert "aarch64" in decision.warnings[0]
    assert "linux-64" in decision.warnings[0]


def test_osx_binary_of_the_wrong_arch_warns() -> None:
    decision = decide("osx-arm64", ["__osx >=11.0"], [macho(arch="x86_64")])
    assert len(decision.warnings) == 1
    assert "x86_64" in decision.warnings[0]
    assert "osx-arm64" in decision.warnings[0]


def test_fat_binary_holding_the_arch_does_not_warn() -> None:
    fat = macho(arch="x86_64", archs=("x86_64", "arm64"))
    assert decide("osx-arm64", ["__osx >=11.0"], [fat]).warnings == ()


def test_windows_binary_of_the_wrong_arch_warns() -> None:
    decision = decide("win-64", [], [pe("Library/bin/foo.dll", arch="win32")])
    assert len(decision.warnings) == 1
    assert "Library/bin/foo.dll" in decision.warnings[0]
    assert "win-64" in decision.warnings[0]


# --- python and abi ---


def _native_info(subdir: str) -> BinaryInfo:
    fmt, arch = {
        "linux-64": (BinaryFormat.ELF, "x86_64"),
        "osx-arm64": (BinaryFormat.MACHO, "arm64"),
        "win-64": (BinaryFormat.PE, "amd64"),
    }[subdir]
    return BinaryInfo(format=fmt, arch=arch, is_shared_library=True)


@pytest.mark.parametrize(
    ("subdir", "depends", "extension", "expected"),
    [
        (
            "linux-64",
            ["python >=3.12,<3.13.0a0"],
            "foo/_core.cpython-312-x86_64-linux-gnu.so",
            ("cp312", "cp312"),
        ),
        (
            "linux-64",
            ["python >=3.13,<3.14.0a0"],
            "foo/_core.cpython-313t-x86_64-linux-gnu.so",
            ("cp313", "cp313t"),
        ),
        ("osx-arm64", [], "foo/_core.cpython-311-darwin.so", ("cp311", "cp311")),
        ("win-64", [], "foo/_core.cp311-win_amd64.pyd", ("cp311", "cp311")),
        ("win-64", [], "foo/_core.cp313t-win_amd64.pyd", ("cp313", "cp313t")),
        ("linux-64", ["python >=3.9"], "foo/_core.abi3.so", ("cp39", "abi3")),
        ("win-64", ["python >=3.10"], "foo/_core.abi3.pyd", ("cp310", "abi3")),
        # Untagged extension modules: the version from python_abi.
        ("linux-64", ["python_abi 3.12.* *_cp312"], "foo/_core.so", ("cp312", "cp312")),
        ("linux-64", ["python_abi 3.13.* *_cp313t"], "foo/_core.so", ("cp313", "cp313t")),
        ("win-64", ["python_abi 3.11.* *_cp311"], "foo/_core.pyd", ("cp311", "cp311")),
    ],
)
def test_python_and_abi_from_extension_modules(
    subdir: str, depends: list[str], extension: str, expected: tuple[str, str]
) -> None:
    binary = FoundBinary(path=extension, in_root=True, info=_native_info(subdir))
    decision = decide(subdir, depends, [binary], ["foo/__init__.py", extension])
    assert (decision.python, decision.abi) == expected
    assert decision.warnings == ()


def test_pypy_extension_modules() -> None:
    # PyPy's standard tags: an extension built for PyPy must not be tagged py3-none.
    extension = "foo/_core.pypy39-pp73-x86_64-linux-gnu.so"
    decision = decide(
        "linux-64",
        ["python >=3.9,<3.10.0a0", "python_abi 3.9 *_pypy39_pp73"],
        [FoundBinary(path=extension, in_root=True, info=_native_info("linux-64"))],
        ["foo/__init__.py", extension],
    )
    assert (decision.python, decision.abi) == ("pp39", "pypy39_pp73")


def test_abi3_alongside_a_version_specific_module_is_version_specific() -> None:
    root_files = ["foo/_a.abi3.so", "foo/_b.cpython-312-x86_64-linux-gnu.so"]
    decision = decide("linux-64", ["python >=3.12"], [elf(in_root=True)], root_files)
    assert (decision.python, decision.abi) == ("cp312", "cp312")


def test_no_extension_modules_is_py3_none() -> None:
    decision = decide("linux-64", ["python >=3.12,<3.13.0a0"], [elf()], ["foo/__init__.py"])
    assert decision.tag == "py3-none-conda_linux_2_17_x86_64"
    assert any("no extension modules" in reason for reason in decision.reasons)


def test_a_native_library_without_python_is_py3_none() -> None:
    # A package with binaries gets a conda tag even without a Python extension.
    decision = decide("linux-64", [], [elf("lib/libz.so.1", glibc=(2, 14))], [])
    assert decision.tag == "py3-none-conda_linux_2_17_x86_64"


def test_python_abi_disagreeing_with_the_extensions_warns() -> None:
    extension = "foo/_core.cpython-313-x86_64-linux-gnu.so"
    decision = decide("linux-64", ["python_abi 3.12.* *_cp312"], [elf(in_root=True)], [extension])
    assert (decision.python, decision.abi) == ("cp313", "cp313")
    assert len(decision.warnings) == 1
    assert "cp312" in decision.warnings[0]
    assert "cp313" in decision.warnings[0]


def test_reasons_say_where_each_part_came_from() -> None:
    extension = "foo/_core.cpython-312-x86_64-linux-gnu.so"
    decision = decide(
        "linux-64",
        ["python >=3.12,<3.13.0a0", "__glibc >=2.28"],
        [elf(extension, in_root=True)],
        [extension],
    )
    assert decision.tag == "cp312-cp312-conda_linux_2_28_x86_64"
    python_reason, platform_reason = decision.reasons
    assert python_reason.startswith("python/abi cp312-cp312")
    assert "extension module" in python_reason
    assert platform_reason.startswith("platform conda_linux_2_28_x86_64")
    assert "__glibc" in platform_reason
