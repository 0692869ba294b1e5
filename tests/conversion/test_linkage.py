"""How each needed library of a converted package is accounted for."""

from __future__ import annotations

import json
from pathlib import Path

from builders import CondaPackageBuilder
from condawheel.binaries import BinaryFormat, BinaryInfo
from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.conda.package import CondaPackage
from condawheel.conda.source import PackageSource
from condawheel.conversion.linkage import check_libraries
from condawheel.conversion.plan import ConvertOptions, make_plan
from condawheel.conversion.tags import FoundBinary

LIBZLIB = KnownPackage(name="libzlib", version="1.3.1", build="h0", files=("lib/libz.so.1",))


def _plan(tmp_path: Path, depends: list[str], subdir: str = "linux-64"):  # type: ignore[no-untyped-def]
    builder = CondaPackageBuilder(name="thing", version="1.0", subdir=subdir, depends=depends)
    builder.add_file("lib/python3.12/site-packages/thing/__init__.py", "")
    path = builder.build(tmp_path)
    package = CondaPackage.from_info(path.name, PackageSource(path).read_info())
    return make_plan(package, ConvertOptions(), KnownPackages())


def _elf(*needed: str) -> BinaryInfo:
    return BinaryInfo(format=BinaryFormat.ELF, arch="x86_64", needed=needed, is_shared_library=True)


EXT = "thing/_core.cpython-312-x86_64-linux-gnu.so"


def test_declared_dependency_provides_the_library(tmp_path: Path) -> None:
    plan = _plan(tmp_path, ["libzlib >=1.3"])
    found = [FoundBinary(path=EXT, in_root=True, info=_elf("libz.so.1", "libc.so.6"))]
    check = check_libraries(plan, found, KnownPackages((LIBZLIB,)))
    assert [(u.needed, u.satisfaction.name, u.detail) for u in check.uses] == [
        ("libz.so.1", "DEPENDENCY", "libzlib"),
        ("libc.so.6", "PLATFORM", "manylinux policy (auditwheel)"),
    ]
    assert check.unsatisfied == () and check.remove == () and not check.edits


def test_unknown_library_with_sources_is_unsatisfied(tmp_path: Path) -> None:
    plan = _plan(tmp_path, [])
    found = [FoundBinary(path=EXT, in_root=True, info=_elf("libmystery.so.3"))]
    check = check_libraries(plan, found, KnownPackages((LIBZLIB,)))
    assert check.unsatisfied == (f"{EXT}: needs libmystery.so.3, which nothing provides",)


def test_without_sources_unchecked_libraries_are_one_note(tmp_path: Path) -> None:
    plan = _plan(tmp_path, ["libzlib"])
    found = [FoundBinary(path=EXT, in_root=True, info=_elf("libssl.so.3", "libcrypto.so.3"))]
    check = check_libraries(plan, found, KnownPackages())
    assert check.unsatisfied == ()
    assert len(check.notes) == 1 and "libcrypto.so.3, libssl.so.3" in check.notes[0]
    assert "--with" in check.notes[0]


def test_noarch_launchers_are_judged_by_their_format(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="tool", version="1.0", noarch="python")
    builder.add_file("site-packages/tool/__init__.py", "")
    path = builder.build(tmp_path)
    package = CondaPackage.from_info(path.name, PackageSource(path).read_info())
    plan = make_plan(package, ConvertOptions(), KnownPackages())
    exe = BinaryInfo(format=BinaryFormat.PE, arch="amd64", needed=("KERNEL32.dll",))
    check = check_libraries(
        plan, [FoundBinary(path="tool/t64.exe", in_root=True, info=exe)], KnownPackages()
    )
    assert [(u.needed, u.satisfaction.name) for u in check.uses] == [("KERNEL32.dll", "PLATFORM")]
    assert json.dumps([u.detail for u in check.uses])
