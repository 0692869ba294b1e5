"""De-vendoring decisions over wheel paths and binary facts (design section 5)."""

from __future__ import annotations

import pytest

from conda_records import LIBZLIB, LIBZLIB_OSX, OPENMP_MUTEX
from condawheel.binaries.model import BinaryFormat, BinaryInfo
from condawheel.binaries.patcher import Edit, EditKind
from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.libraries.devendor import (
    DevendorPlan,
    LibraryUse,
    Satisfaction,
    VendoredLibrary,
    find_vendored,
    plan_devendoring,
    portable_search_paths,
    search_path_to_prefix_lib,
)
from condawheel.libraries.macos_layout import MacOSLayout
from condawheel.libraries.providers import LibraryIndex

SITE = "lib/python3.12/site-packages"
EXT = "mypkg/_core.cpython-312-x86_64-linux-gnu.so"
# auditwheel names a copy after the file the SONAME resolves to, with 8 hex of its
# SHA-256 after the first dot-free stem, and sets its SONAME to that new name.
AW_LIBZ = "mypkg.libs/libz-a1b2c3d4.so.1.3.1"
AW_PNG = "mypkg.libs/libpng16-0f1e2d3c.so.16.43.0"
# delvewheel appends 32 hex of SHA-256 to the stem and keeps the case.
DV_HASH = "7c5e8a1f0b2d4c6e8f0a1b2c3d4e5f60"

LIBPNG = KnownPackage(
    name="libpng",
    version="1.6.43",
    build="h2797004_0",
    files=("lib/libpng.so", "lib/libpng16.so", "lib/libpng16.so.16", "lib/libpng16.so.16.43.0"),
    run_exports={"weak": ["libpng >=1.6.43,<1.7.0a0"]},
)
LIBGOMP = KnownPackage(
    name="libgomp", version="14.2.0", build="h77fa898_1", files=("lib/libgomp.so.1.0.0",)
)
LIBSTDCXX = KnownPackage(
    name="libstdcxx", version="14.2.0", build="hc0a3c3a_1", files=("lib/libstdc++.so.6",)
)
LIBCXX = KnownPackage(
    name="libcxx",
    version="19.1.7",
    build="ha82da77_0",
    files=("lib/libc++.1.0.dylib", "lib/libc++.1.dylib"),
)
LIBZLIB_WIN = KnownPackage(
    name="libzlib",
    version="1.3.1",
    build="h2466b09_2",
    files=("Library/bin/zlib.dll", "Library/lib/zlib.lib"),
    run_exports={"weak": ["libzlib >=1.3.1,<2.0a0"]},
)
VC14_RUNTIME = KnownPackage(
    name="vc14_runtime",
    version="14.42.34433",
    build="he29a5d6_23",
    files=("Library/bin/msvcp140.dll", "Library/bin/vcruntime140.dll"),
    run_exports={"strong": ["vc14_runtime >=14.42.34433"]},
)
PYTHON_WIN = KnownPackage(
    name="python", version="3.12.8", build="h3f84c4b_1_cpython", files=("python312.dll",)
)


def index(*packages: KnownPackage) -> LibraryIndex:
    return LibraryIndex.from_known(KnownPackages(packages))


def elf(
    *needed: str,
    soname: str | None = None,
    runpath: tuple[str, ...] = (),
    rpath: tuple[str, ...] = (),
    shared: bool = True,
) -> BinaryInfo:
    return BinaryInfo(
        format=BinaryFormat.ELF,
        arch="x86_64",
        soname=soname,
        needed=needed,
        runpath=runpath,
        rpath=rpath,
        is_shared_library=shared,
    )


def macho(*needed: str, soname: str | None = None, rpath: tuple[str, ...] = ()) -> BinaryInfo:
    return BinaryInfo(
        format=BinaryFormat.MACHO,
        arch="arm64",
        soname=soname,
        needed=needed,
        runpath=rpath,
        is_shared_library=True,
    )


def pe(*needed: str) -> BinaryInfo:
    return BinaryInfo(format=BinaryFormat.PE, arch="amd64", needed=needed, is_shared_library=True)


def plan(
    binaries: dict[str, BinaryInfo],
    libraries: LibraryIndex,
    *,
    platform: str = "linux",
    declared: tuple[str, ...] = (),
    **options: tuple[str, ...],
) -> DevendorPlan:
    root = "Lib/site-packages" if platform == "win" else SITE
    return plan_devendoring(
        binaries,
        index=libraries,
        declared=declared,
        platform=platform,
        installed_root=root,
        **options,
    )


def use(plan: DevendorPlan, binary: str, needed: str) -> LibraryUse:
    return next(u for u in plan.uses if (u.binary, u.needed) == (binary, needed))


# -- search paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wheel_path", "expected"),
    [
        ("_top.cpython-312-x86_64-linux-gnu.so", "$ORIGIN/../.."),
        (EXT, "$ORIGIN/../../.."),
        ("mypkg/sub/deeper/_x.so", "$ORIGIN/../../../../.."),
        ("mypkg.libs/libfoo.so", "$ORIGIN/../../.."),
        ("mypkg-1.0.data/platlib/mypkg/_x.so", "$ORIGIN/../../.."),
        ("mypkg-1.0.data/data/lib/libbar.so", "$ORIGIN"),
        ("mypkg-1.0.data/data/lib/plugins/libplugin.so", "$ORIGIN/.."),
        ("mypkg-1.0.data/data/libexec/mypkg/helper", "$ORIGIN/../../lib"),
        ("mypkg-1.0.data/scripts/mytool", "$ORIGIN/../lib"),
    ],
)
def test_search_path_reaches_the_prefix_lib(wheel_path: str, expected: str) -> None:
    assert search_path_to_prefix_lib(wheel_path, SITE, "linux") == expected


def test_search_path_on_macos_starts_at_the_loader() -> None:
    assert search_path_to_prefix_lib(EXT, SITE, "osx") == "@loader_path/../../.."
    assert search_path_to_prefix_lib("m-1.data/data/lib/libm.dylib", SITE, "osx") == "@loader_path"


def test_search_path_follows_the_installed_root() -> None:
    assert search_path_to_prefix_lib(EXT, "lib/pypy3.10/site-packages", "linux") == (
        "$ORIGIN/../../.."
    )
    assert search_path_to_prefix_lib("x.so", "site-packages", "linux") == "$ORIGIN/../lib"


def test_windows_has_no_search_path() -> None:
    with pytest.raises(ValueError, match="'win'"):
        search_path_to_prefix_lib("mypkg/_core.pyd", "Lib/site-packages", "win")


# -- recognising vendored copies ----------------------------------------------------------


def test_auditwheel_copies() -> None:
    binaries = {
        EXT: elf("libz-a1b2c3d4.so.1.3.1", "libc.so.6", runpath=("$ORIGIN/../mypkg.libs",)),
        AW_LIBZ: elf("libc.so.6", soname="libz-a1b2c3d4.so.1.3.1"),
        AW_PNG: elf("libz-a1b2c3d4.so.1.3.1", soname="libpng16-0f1e2d3c.so.16.43.0"),
        "mypkg.libs/libgomp-5e6f7a8b.so.1.0.0": elf(soname="libgomp-5e6f7a8b.so.1.0.0"),
    }

    found = find_vendored(binaries, index(LIBZLIB, LIBPNG, LIBGOMP, OPENMP_MUTEX))

    assert [(v.path, v.restores, v.provider.package.name, v.tool) for v in found] == [
        ("mypkg.libs/libgomp-5e6f7a8b.so.1.0.0", "libgomp.so.1", "_openmp_mutex", "auditwheel"),
        (AW_PNG, "libpng16.so.16", "libpng", "auditwheel"),
        (AW_LIBZ, "libz.so.1", "libzlib", "auditwheel"),
    ]


def test_an_auditwheel_copy_named_after_its_soname() -> None:
    binaries = {"pkg.libs/libz-1a2b3c4d.so.1": elf(soname="libz-1a2b3c4d.so.1")}

    [found] = find_vendored(binaries, index(LIBZLIB))

    assert found.restores == "libz.so.1"


def test_a_copy_no_conda_package_provides_stays() -> None:
    binaries = {
        "mypkg.libs/libfoo-a1b2c3d4.so.2.0": elf(soname="libfoo-a1b2c3d4.so.2.0"),
        "mypkg/libbar.so": elf(soname="libbar.so"),
    }

    assert find_vendored(binaries, index(LIBZLIB)) == []


def test_delocate_copies() -> None:
    # delocate copies the resolved file and names it by path from its dependents.
    binaries = {
        "mypkg/.dylibs/libz.1.3.1.dylib": macho(soname="/DLC/mypkg/.dylibs/libz.1.3.1.dylib"),
        "mypkg.dylibs/libc++.1.0.dylib": macho(soname="/DLC/mypkg.dylibs/libc++.1.0.dylib"),
    }

    found = find_vendored(binaries, index(LIBZLIB_OSX, LIBCXX))

    assert [(v.path, v.restores, v.provider.package.name, v.tool) for v in found] == [
        ("mypkg.dylibs/libc++.1.0.dylib", "@rpath/libc++.1.dylib", "libcxx", "delocate"),
        ("mypkg/.dylibs/libz.1.3.1.dylib", "@rpath/libz.1.dylib", "libzlib", "delocate"),
    ]


def test_standalone_macos_copies() -> None:
    # condawheel --standalone names its .dylibs copies with a content hash.
    copy = MacOSLayout().copy_name("@rpath/libz.1.dylib", "1a2b3c4d" * 8)
    binaries = {
        f"mypkg/.dylibs/{copy}": macho(soname=f"@rpath/{copy}"),
        # a library whose own name looks hashed, and that no package provides
        "mypkg/.dylibs/libq-00000000.dylib": macho(soname="@rpath/libq-00000000.dylib"),
    }

    found = find_vendored(binaries, index(LIBZLIB_OSX))

    assert [(v.path, v.restores, v.provider.package.name, v.tool) for v in found] == [
        (f"mypkg/.dylibs/{copy}", "@rpath/libz.1.dylib", "libzlib", "delocate"),
    ]


def test_delvewheel_copies() -> None:
    binaries = {
        f"mypkg.libs/zlib-{DV_HASH}.dll": pe("KERNEL32.dll"),
        # delvewheel does not mangle the Visual C++ runtime
        "mypkg.libs/msvcp140.dll": pe("KERNEL32.dll"),
        f"mypkg.libs/libfoo-{DV_HASH}.dll": pe(),
    }

    found = find_vendored(binaries, index(LIBZLIB_WIN, VC14_RUNTIME))

    assert [(v.path, v.restores, v.provider.package.name, v.tool) for v in found] == [
        ("mypkg.libs/msvcp140.dll", "msvcp140.dll", "vc14_runtime", "copy"),
        (f"mypkg.libs/zlib-{DV_HASH}.dll", "zlib.dll", "libzlib", "delvewheel"),
    ]


def test_plain_copies_under_site_packages() -> None:
    binaries = {
        "mypkg/lib/libz.so.1": elf(soname="libz.so.1"),
        "mypkg/libz.so.1.3.1": elf(),  # no SONAME: its file name, shortened
        "mypkg/bin/libz.so.1": elf(soname="libz.so.1", shared=False),  # not a library
        "mypkg/libz.cpython-312-x86_64-linux-gnu.so": elf(soname="libz.so.1"),  # a module
    }

    found = find_vendored(binaries, index(LIBZLIB))

    assert [(v.path, v.restores, v.tool) for v in found] == [
        ("mypkg/lib/libz.so.1", "libz.so.1", "copy"),
        ("mypkg/libz.so.1.3.1", "libz.so.1", "copy"),
    ]


def test_the_packages_own_prefix_libraries_are_not_copies() -> None:
    # A converted libzlib-like package installs these into the prefix itself.
    binaries = {"libzlib-1.3.1.data/data/lib/libz.so.1.3.1": elf(soname="libz.so.1")}

    assert find_vendored(binaries, index(LIBZLIB)) == []


def test_libpython_is_never_a_vendored_copy() -> None:
    binaries = {"mypkg.libs/python312.dll": pe()}

    assert find_vendored(binaries, index(PYTHON_WIN)) == []


# -- plans ------------------------------------------------------------------------------


def test_plan_for_an_extension_with_a_vendored_libz_and_the_system_libc() -> None:
    binaries = {
        EXT: elf("libz-a1b2c3d4.so.1.3.1", "libc.so.6", runpath=("$ORIGIN/../mypkg.libs",)),
        AW_LIBZ: elf("libc.so.6", soname="libz-a1b2c3d4.so.1.3.1"),
    }

    result = plan(binaries, index(LIBZLIB))

    assert result.remove == (AW_LIBZ,)
    assert result.edits.files() == [EXT]
    assert result.edits.for_file(EXT) == (
        Edit(kind=EditKind.REPLACE_NEEDED, old="libz-a1b2c3d4.so.1.3.1", new="libz.so.1"),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/../../..",)),
    )
    assert result.requirements == ("libzlib (>=1.3.1,<2.0a0)",)
    assert result.uses == (
        LibraryUse(
            binary=EXT,
            needed="libz-a1b2c3d4.so.1.3.1",
            satisfaction=Satisfaction.PROVIDER,
            detail="libzlib",
        ),
        LibraryUse(
            binary=EXT,
            needed="libc.so.6",
            satisfaction=Satisfaction.PLATFORM,
            detail="manylinux policy (auditwheel)",
        ),
    )
    assert result.warnings == ()
    assert [v.path for v in result.vendored] == [AW_LIBZ]


def test_a_declared_provider_is_not_declared_again() -> None:
    binaries = {EXT: elf("libz-a1b2c3d4.so.1.3.1"), AW_LIBZ: elf(soname="libz-a1b2c3d4.so.1.3.1")}

    result = plan(binaries, index(LIBZLIB), declared=("libzlib", "python"))

    assert result.requirements == ()
    assert use(result, EXT, "libz-a1b2c3d4.so.1.3.1").satisfaction is Satisfaction.DEPENDENCY


def test_the_declared_one_of_several_providers_is_chosen() -> None:
    gomp = "mypkg.libs/libgomp-5e6f7a8b.so.1.0.0"
    binaries = {EXT: elf("libgomp-5e6f7a8b.so.1.0.0"), gomp: elf(soname=gomp.split("/")[1])}
    libraries = index(LIBGOMP, OPENMP_MUTEX)

    declared = plan(binaries, libraries, declared=("_openmp_mutex",))
    undeclared = plan(binaries, libraries)

    assert use(declared, EXT, "libgomp-5e6f7a8b.so.1.0.0").detail == "_openmp_mutex"
    assert declared.requirements == ()
    assert undeclared.requirements == ("_openmp_mutex (>=4.5)",)
    assert declared.edits.for_file(EXT)[0].new == "libgomp.so.1"


def test_search_path_keeps_other_entries_once() -> None:
    binaries = {
        EXT: elf(
            "libz-a1b2c3d4.so.1.3.1",
            "libfoo-99aa88bb.so.1",
            rpath=("/opt/vendor/lib",),
            runpath=("$ORIGIN", "$ORIGIN/../mypkg.libs"),
        ),
        AW_LIBZ: elf(soname="libz-a1b2c3d4.so.1.3.1"),
        "mypkg/other.so": elf("libz-a1b2c3d4.so.1.3.1", runpath=("$ORIGIN/../../..",)),
    }
    result = plan(binaries, index(LIBZLIB))

    # mypkg.libs is emptied: its entry goes, and the build machine's; the rest stay in order.
    [*_, search] = result.edits.for_file(EXT)
    assert search.paths == ("$ORIGIN", "$ORIGIN/../../..")
    assert result.notes == (
        f"{EXT}: search path entry /opt/vendor/lib is the build machine's; removed",
    )
    # other.so reaches lib/ already: only the rename.
    assert [e.kind for e in result.edits.for_file("mypkg/other.so")] == [EditKind.REPLACE_NEEDED]


def test_a_folder_with_copies_left_in_it_stays_on_the_search_path() -> None:
    binaries = {
        EXT: elf(
            "libz-a1b2c3d4.so.1.3.1", "libfoo-99aa88bb.so.1", runpath=("$ORIGIN/../mypkg.libs",)
        ),
        AW_LIBZ: elf(soname="libz-a1b2c3d4.so.1.3.1"),
        "mypkg.libs/libfoo-99aa88bb.so.1": elf(soname="libfoo-99aa88bb.so.1"),
    }
    result = plan(binaries, index(LIBZLIB))

    [_, search] = result.edits.for_file(EXT)
    assert search.paths == ("$ORIGIN/../mypkg.libs", "$ORIGIN/../../..")
    assert use(result, EXT, "libfoo-99aa88bb.so.1") == LibraryUse(
        binary=EXT,
        needed="libfoo-99aa88bb.so.1",
        satisfaction=Satisfaction.PACKAGE,
        detail="mypkg.libs/libfoo-99aa88bb.so.1",
    )


def test_keep_search_path_survives_removal() -> None:
    binaries = {
        EXT: elf("libz-a1b2c3d4.so.1.3.1", runpath=("$ORIGIN/../mypkg.libs",)),
        AW_LIBZ: elf(soname="libz-a1b2c3d4.so.1.3.1"),
    }
    result = plan(binaries, index(LIBZLIB), keep_search_path=("$ORIGIN/../mypkg.libs",))

    [_, search] = result.edits.for_file(EXT)
    assert search.paths == ("$ORIGIN/../mypkg.libs", "$ORIGIN/../../..")


def test_a_plain_copy_keeps_its_name_and_gains_a_search_path() -> None:
    binaries = {
        EXT: elf("libz.so.1", runpath=("$ORIGIN",)),
        "mypkg/libz.so.1": elf(soname="libz.so.1"),
    }
    result = plan(binaries, index(LIBZLIB))

    assert result.remove == ("mypkg/libz.so.1",)
    assert result.edits.for_file(EXT) == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN", "$ORIGIN/../../..")),
    )


def test_libraries_inside_the_package_and_unknown_ones() -> None:
    binaries = {
        EXT: elf("libmypkg.so.2", "libstdc++.so.6", "libmystery.so.1", "libc.so.6"),
        "mypkg-2.0.data/data/lib/libmypkg.so.2.0.1": elf("libc.so.6", soname="libmypkg.so.2"),
    }
    result = plan(binaries, index(LIBSTDCXX))

    assert [(u.needed, u.satisfaction, u.detail) for u in result.uses if u.binary == EXT] == [
        ("libmypkg.so.2", Satisfaction.PACKAGE, "mypkg-2.0.data/data/lib/libmypkg.so.2.0.1"),
        # conda's own runtime is preferred to the system's when one is at hand
        ("libstdc++.so.6", Satisfaction.PROVIDER, "libstdcxx"),
        ("libmystery.so.1", Satisfaction.UNSATISFIED, ""),
        ("libc.so.6", Satisfaction.PLATFORM, "manylinux policy (auditwheel)"),
    ]
    assert result.requirements == ("libstdcxx (>=14.2.0,<15.0a0)",)
    assert result.warnings == (f"{EXT}: needs libmystery.so.1, which nothing provides",)
    # libstdc++ now comes from the environment, so the extension must reach its lib/.
    assert result.edits.files() == [EXT]
    assert result.edits.for_file(EXT) == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/../../..",)),
    )
    assert result.remove == ()


def test_plan_for_a_delocated_macos_wheel() -> None:
    ext = "mypkg/_core.cpython-312-darwin.so"
    copy = "mypkg/.dylibs/libz.1.3.1.dylib"
    binaries = {
        ext: macho(
            "@loader_path/.dylibs/libz.1.3.1.dylib",
            "/usr/lib/libc++.1.dylib",
            "/usr/lib/libSystem.B.dylib",
        ),
        "mypkg/sub/_other.cpython-312-darwin.so": macho(
            "@rpath/libz.1.3.1.dylib", rpath=("@loader_path/../.dylibs",)
        ),
        copy: macho("/usr/lib/libSystem.B.dylib", soname=f"/DLC/{copy}"),
    }
    result = plan(binaries, index(LIBZLIB_OSX, LIBCXX), platform="osx")

    assert result.remove == (copy,)
    assert result.edits.for_file(ext) == (
        Edit(
            kind=EditKind.REPLACE_NEEDED,
            old="@loader_path/.dylibs/libz.1.3.1.dylib",
            new="@rpath/libz.1.dylib",
        ),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("@loader_path/../../..",)),
    )
    assert result.edits.for_file("mypkg/sub/_other.cpython-312-darwin.so") == (
        Edit(
            kind=EditKind.REPLACE_NEEDED, old="@rpath/libz.1.3.1.dylib", new="@rpath/libz.1.dylib"
        ),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("@loader_path/../../../..",)),
    )
    # An absolute install name loads the system's copy, whatever conda ships.
    assert use(result, ext, "/usr/lib/libc++.1.dylib").satisfaction is Satisfaction.PLATFORM
    assert result.requirements == ("libzlib (>=1.3.1,<2.0a0)",)


def test_a_mach_o_rpath_name_that_is_already_right_is_not_renamed() -> None:
    ext = "mypkg/_core.cpython-312-darwin.so"
    binaries = {
        ext: macho("@rpath/libz.1.dylib", rpath=("@loader_path",)),
        "mypkg/libz.1.dylib": macho(soname="@rpath/libz.1.dylib"),
    }
    result = plan(binaries, index(LIBZLIB_OSX), platform="osx")

    assert result.remove == ("mypkg/libz.1.dylib",)
    assert result.edits.for_file(ext) == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("@loader_path", "@loader_path/../../..")),
    )


def test_plan_for_a_delvewheel_windows_wheel() -> None:
    ext = "mypkg/_core.cp312-win_amd64.pyd"
    copy = f"mypkg.libs/zlib-{DV_HASH}.dll"
    binaries = {
        ext: pe(
            f"zlib-{DV_HASH}.dll",
            "python312.dll",
            "VCRUNTIME140.dll",
            "KERNEL32.dll",
            "api-ms-win-crt-runtime-l1-1-0.dll",
        ),
        copy: pe("KERNEL32.dll", "VCRUNTIME140.dll"),
    }
    libraries = index(LIBZLIB_WIN, VC14_RUNTIME, PYTHON_WIN)

    result = plan(binaries, libraries, platform="win")

    assert result.remove == (copy,)
    assert result.edits.for_file(ext) == (
        Edit(kind=EditKind.REPLACE_NEEDED, old=f"zlib-{DV_HASH}.dll", new="zlib.dll"),
    )
    assert [(u.needed, u.satisfaction, u.detail) for u in result.uses] == [
        (f"zlib-{DV_HASH}.dll", Satisfaction.PROVIDER, "libzlib"),
        ("python312.dll", Satisfaction.PLATFORM, "the Python interpreter"),
        ("VCRUNTIME140.dll", Satisfaction.PROVIDER, "vc14_runtime"),
        ("KERNEL32.dll", Satisfaction.PLATFORM, "Windows system DLL"),
        ("api-ms-win-crt-runtime-l1-1-0.dll", Satisfaction.PLATFORM, "Windows system DLL"),
    ]
    assert result.requirements == (
        "libzlib (>=1.3.1,<2.0a0)",
        "vc14_runtime (>=14.42.34433)",
    )


def test_nothing_vendored_nothing_to_edit() -> None:
    binaries = {EXT: elf("libz.so.1", "libc.so.6", runpath=("$ORIGIN/../../..",))}

    result = plan(binaries, index(LIBZLIB), declared=("libzlib",))

    assert result.remove == ()
    assert not result.edits
    assert [u.satisfaction for u in result.uses] == [
        Satisfaction.DEPENDENCY,
        Satisfaction.PLATFORM,
    ]


def test_vendored_library_fields() -> None:
    binaries = {AW_LIBZ: elf(soname="libz-a1b2c3d4.so.1.3.1")}
    [found] = find_vendored(binaries, index(LIBZLIB))

    assert isinstance(found, VendoredLibrary)
    assert found.provider.path == "lib/libz.so.1"


def test_a_build_machines_absolute_install_name_is_relinked() -> None:
    ext = "mypkg/_core.cpython-312-darwin.so"
    binaries = {ext: macho("/Users/runner/miniforge3/envs/build/lib/libz.1.dylib")}

    result = plan(binaries, index(LIBZLIB_OSX), platform="osx")

    assert result.edits.for_file(ext) == (
        Edit(
            kind=EditKind.REPLACE_NEEDED,
            old="/Users/runner/miniforge3/envs/build/lib/libz.1.dylib",
            new="@rpath/libz.1.dylib",
        ),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("@loader_path/../../..",)),
    )
    assert result.requirements == ("libzlib (>=1.3.1,<2.0a0)",)
    assert result.warnings == ()


def test_without_a_provider_an_absolute_name_is_left_and_reported() -> None:
    ext = "mypkg/_core.cpython-312-darwin.so"
    binaries = {ext: macho("/opt/homebrew/lib/libfoo.1.dylib")}

    result = plan(binaries, index(LIBZLIB_OSX), platform="osx")

    assert not result.edits
    assert result.warnings == (
        f"{ext}: needs /opt/homebrew/lib/libfoo.1.dylib, which nothing provides",
    )


def test_a_copy_that_stays_is_relinked_to_a_removed_one() -> None:
    foo = "mypkg.libs/libfoo-99aa88bb.so.1"
    binaries = {
        EXT: elf("libfoo-99aa88bb.so.1", runpath=("$ORIGIN/../mypkg.libs",)),
        foo: elf("libz-a1b2c3d4.so.1.3.1", soname="libfoo-99aa88bb.so.1", runpath=("$ORIGIN",)),
        AW_LIBZ: elf(soname="libz-a1b2c3d4.so.1.3.1"),
    }

    result = plan(binaries, index(LIBZLIB))

    assert result.remove == (AW_LIBZ,)
    assert result.edits.files() == [foo]
    assert result.edits.for_file(foo) == (
        Edit(kind=EditKind.REPLACE_NEEDED, old="libz-a1b2c3d4.so.1.3.1", new="libz.so.1"),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN", "$ORIGIN/../../..")),
    )
    assert use(result, EXT, "libfoo-99aa88bb.so.1").satisfaction is Satisfaction.PACKAGE


# -- the build machine's search path entries ------------------------------------------------


def test_absolute_entries_go_and_those_in_the_environment_become_relative() -> None:
    """pip builds against a conda prefix with `-Wl,-rpath`: the RUNPATH names the build
    machine's folders, which a published wheel must not search."""
    build = "/tmp/build/prefix"
    runpath = ("/root/.pyenv/versions/3.11.7/lib", f"{build}/lib", "$ORIGIN/../..")
    binaries = {EXT: elf("libc.so.6", runpath=runpath)}

    result = plan(binaries, index(LIBZLIB), prefixes=(build,))

    assert result.edits.for_file(EXT) == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/../../..", "$ORIGIN/../..")),
    )
    assert result.notes == (
        f"{EXT}: search path entry /root/.pyenv/versions/3.11.7/lib is the build machine's; "
        "removed",
        f"{EXT}: search path entry {build}/lib is the build machine's; now $ORIGIN/../../..",
    )


def test_portable_search_paths_change_nothing_else() -> None:
    placeholder = "/opt/anaconda1anaconda2anaconda3"
    binaries = {
        "pkg-1.0.data/data/lib/libfoo.so.1": elf(
            "libz.so.1", rpath=(f"{placeholder}/lib", "/usr/local/lib")
        ),
        "pkg-1.0.data/scripts/foo": elf("libfoo.so.1", runpath=(f"{placeholder}/lib",)),
        "pkg-1.0.data/data/lib/libbar.so": elf("libz.so.1", runpath=("$ORIGIN",)),
    }

    edits, notes = portable_search_paths(binaries, installed_root=SITE, prefixes=(placeholder,))

    assert edits.files() == ["pkg-1.0.data/data/lib/libfoo.so.1", "pkg-1.0.data/scripts/foo"]
    assert edits.for_file("pkg-1.0.data/data/lib/libfoo.so.1") == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN",)),
    )
    assert edits.for_file("pkg-1.0.data/scripts/foo") == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/../lib",)),
    )
    assert len(notes) == 3
    dll = {"Library/bin/foo.dll": pe("zlib.dll")}  # Windows has no search path
    nothing, none = portable_search_paths(dll, installed_root=SITE, prefixes=(placeholder,))
    assert (nothing.files(), none) == ([], ())


def test_a_mach_o_build_prefix_rpath_becomes_loader_relative() -> None:
    ext = "mypkg/_core.cpython-312-darwin.so"
    build = "/Users/runner/miniforge3/envs/build"
    binaries = {ext: macho("@rpath/libz.1.dylib", rpath=(f"{build}/lib", "/usr/lib/swift"))}

    result = plan(binaries, index(LIBZLIB_OSX), platform="osx", prefixes=(build,))

    assert result.edits.for_file(ext) == (
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("@loader_path/../../..", "/usr/lib/swift")),
    )
