"""Bundling for standalone wheels: the closure, the manylinux policy, the Linux layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from compilers import compile_shared_library
from condawheel.binaries.model import BinaryFormat, BinaryInfo
from condawheel.binaries.patcher import BinaryEdits, Edit, EditKind, apply_edits
from condawheel.binaries.read import read_binary
from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.exceptions import BadInputError
from condawheel.libraries.bundling import BundlePlan, bundle_licences, plan_bundle
from condawheel.libraries.copies import LibraryFetcher
from condawheel.libraries.linux_layout import LinuxLayout
from condawheel.libraries.manylinux import policies
from condawheel.libraries.providers import LibraryIndex
from paths import CORPUS, machine_library

EXT = "pkg/_ext.cpython-311-x86_64-linux-gnu.so"
LIBGCC = CORPUS / "real" / "linux-64" / "libgcc-14.2.0-h77fa898_1.conda"
# __divmodti4 came with GCC_7.0.0: newer than manylinux_2_17 allows (GCC_4.8.0).
DIVMOD = """
__int128 __divmodti4(__int128, __int128, __int128 *);
long chained_divmod(long a, long b) { __int128 r; return (long)__divmodti4(a, b, &r); }
"""


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libdep, and libmid that links it, as conda packages with SONAME links."""
    build = tmp_path_factory.mktemp("bundling-libs")
    dep_source = "int dep(void) { return 4; }"
    dep = compile_shared_library(build, "libdep.so.1.0", dep_source, "libdep.so.1")
    mid = compile_shared_library(
        build,
        "libmid.so.1.0",
        "int dep(void); int mid(void) { return dep() * 10 + 2; }",
        "libmid.so.1",
        ["-L", str(build), "-l:libdep.so.1.0", "-Wl,-rpath,$ORIGIN"],
    )
    out = tmp_path_factory.mktemp("bundling-channel") / "linux-64"
    for name, library, licence in (("libdep", dep, "MIT"), ("libmid", mid, "LGPL-2.1-or-later")):
        (
            CondaPackageBuilder(name=name, version="1.0", build="h0_0", license=licence)
            .add_file(f"lib/{name}.so.1.0", library.read_bytes())
            .add_symlink(f"lib/{name}.so.1", f"{name}.so.1.0")
            .add_info_file("licenses/LICENSE", f"{name} licence\n")
            .build(out)
        )
    return out


def _plan(binaries: dict[str, BinaryInfo], sources: list[Path], scratch: Path) -> BundlePlan:
    index = LibraryIndex.from_known(KnownPackages.load(sources))
    fetcher = LibraryFetcher(scratch, index)
    return plan_bundle(
        binaries, index=index, fetcher=fetcher, layout=LinuxLayout(), dist="pkg", arch="x86_64"
    )


def _elf(**fields: object) -> BinaryInfo:
    return BinaryInfo(format=BinaryFormat.ELF, arch="x86_64", **fields)  # type: ignore[arg-type]


def _read(path: Path) -> BinaryInfo:
    with path.open("rb") as stream:
        return read_binary(stream)


def test_the_closure_is_transitive_and_wired_with_hashed_sonames(
    channel: Path, tmp_path: Path
) -> None:
    ext = _elf(
        needed=("libmid.so.1", "libm.so.6", "libc.so.6", "libpython3.11.so.1.0"),
        runpath=("$ORIGIN/../../..", "/home/builder/env/lib"),
        version_needs=(("libc.so.6", "GLIBC_2.2.5"),),
    )
    plan = _plan({EXT: ext}, [channel], tmp_path)
    assert [(lib.name, lib.package) for lib in plan.libraries] == [
        ("libdep.so.1", "libdep"),
        ("libmid.so.1", "libmid"),
    ]
    mid = next(lib for lib in plan.libraries if lib.name == "libmid.so.1")
    dep = next(lib for lib in plan.libraries if lib.name == "libdep.so.1")
    assert mid.wheel_path == f"pkg.libs/libmid-{mid.copy.sha256[:8]}.so.1"
    assert dep.reason == f"needed by {mid.wheel_path}"
    # GLIBC_2.2.5 is all the binaries need from the system: the oldest policy fits.
    assert plan.policy is not None and plan.policy.name == "manylinux_2_5_x86_64"
    mid_name, dep_name = (Path(lib.wheel_path).name for lib in (mid, dep))
    assert plan.edits.for_file(EXT) == (
        # the environment's lib/ and the build machine's folder are gone
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN/../pkg.libs",)),
        Edit(kind=EditKind.REPLACE_NEEDED, old="libmid.so.1", new=mid_name),
    )
    assert plan.edits.for_file(mid.wheel_path) == (
        Edit(kind=EditKind.SET_SONAME, new=mid_name),
        Edit(kind=EditKind.SET_SEARCH_PATH, paths=("$ORIGIN",)),
        Edit(kind=EditKind.REPLACE_NEEDED, old="libdep.so.1", new=dep_name),
    )
    # The edits apply to the real copy (followed through its SONAME symlink).
    apply_edits(mid.copy.path, plan.edits.for_file(mid.wheel_path))
    edited = _read(mid.copy.path)
    assert (edited.soname, edited.needed, edited.runpath) == (mid_name, (dep_name,), ("$ORIGIN",))
    licences, warnings = bundle_licences(plan)
    assert [(lic.name, lic.expression, lic.files) for lic in licences] == [
        ("libdep", "MIT", {"LICENSE": b"libdep licence\n"}),
        ("libmid", "LGPL-2.1-or-later", {"LICENSE": b"libmid licence\n"}),
    ]
    assert len(warnings) == 1 and "libmid, licensed LGPL-2.1-or-later" in warnings[0]


def test_a_runtime_newer_than_the_policy_is_bundled_from_conda_forge(tmp_path: Path) -> None:
    """conda-forge's libgcc_s needs glibc 2.3.2 only: bundled, the tag stays as old as
    the extension's glibc allows."""
    build = tmp_path / "build"
    ext_path = compile_shared_library(build, "ext.so", DIVMOD, extra_args=["-lgcc_s"])
    ext = _read(ext_path)
    assert ("libgcc_s.so.1", "GCC_7.0.0") in ext.version_needs
    plan = _plan({EXT: ext}, [LIBGCC], tmp_path / "scratch")
    assert plan.policy is not None and plan.policy.glibc <= (2, 17)
    assert plan.policy.glibc >= (ext.glibc_floor or (0, 0))
    (runtime,) = plan.libraries
    assert (runtime.name, runtime.package) == ("libgcc_s.so.1", "libgcc")
    assert runtime.wheel_path == f"pkg.libs/libgcc_s-{runtime.copy.sha256[:8]}.so.1"
    assert runtime.reason == f"{plan.policy.name} lacks GCC_7.0.0"
    _, warnings = bundle_licences(plan)
    assert "with an exception for linking" in warnings[0]


def test_without_a_provider_of_the_runtime_the_tag_is_the_policy_that_has_it(
    tmp_path: Path,
) -> None:
    ext = _elf(needed=("libgcc_s.so.1",), version_needs=(("libgcc_s.so.1", "GCC_7.0.0"),))
    plan = _plan({EXT: ext}, [], tmp_path)
    assert plan.libraries == ()
    assert plan.policy is not None and plan.policy.name == "manylinux_2_27_x86_64"
    assert "manylinux_2_26_x86_64 lacks GCC_7.0.0 of libgcc_s.so.1" in plan.why


def test_a_newer_glibc_gives_the_higher_tag_and_past_every_policy_an_error(
    tmp_path: Path,
) -> None:
    ext = _elf(needed=("libc.so.6",), version_needs=(("libc.so.6", "GLIBC_2.34"),))
    plan = _plan({EXT: ext}, [], tmp_path)
    assert plan.policy is not None and plan.policy.tag == "manylinux_2_34_x86_64"
    newest = policies("x86_64")[-1].glibc
    too_new = f"GLIBC_{newest[0]}.{newest[1] + 1}"
    ext = _elf(needed=("libc.so.6",), version_needs=(("libc.so.6", too_new),))
    with pytest.raises(BadInputError, match=f"no manylinux policy fits: .* lacks {too_new} of"):
        _plan({EXT: ext}, [], tmp_path)


def test_legacy_aliases_are_part_of_the_tag(tmp_path: Path) -> None:
    needs = (("libc.so.6", "GLIBC_2.17"),)
    plan = _plan({EXT: _elf(needed=("libc.so.6",), version_needs=needs)}, [], tmp_path)
    assert plan.policy is not None
    assert plan.policy.tag == "manylinux_2_17_x86_64.manylinux2014_x86_64"


def test_glibc_and_libpython_are_never_bundled(tmp_path: Path) -> None:
    """Even when a known package ships them (conda's python, a sysroot in lib/)."""
    python = KnownPackage(
        name="python",
        version="3.11.9",
        build="h0_0",
        files=("lib/libpython3.11.so.1.0", "lib/libc.so.6"),
        origin=str(tmp_path / "python.conda"),
    )
    index = LibraryIndex.from_packages([python])
    ext = _elf(needed=("libpython3.11.so.1.0", "libc.so.6"))
    plan = plan_bundle(
        {EXT: ext},
        index=index,
        fetcher=LibraryFetcher(tmp_path, index),
        layout=LinuxLayout(),
        dist="pkg",
        arch="x86_64",
    )
    assert plan.libraries == ()


def test_a_library_nothing_provides_is_one_clear_error(tmp_path: Path) -> None:
    ext = _elf(needed=("libnowhere.so.3",))
    with pytest.raises(BadInputError, match=r"^pkg/_ext.* needs libnowhere.so.3, which no pack"):
        _plan({EXT: ext}, [], tmp_path)


def test_a_symlink_out_of_the_package_is_refused(tmp_path: Path) -> None:
    package = (
        CondaPackageBuilder(name="libevil", version="1.0", build="h0_0")
        .add_file("lib/libok.so.0", b"\x7fELF")
        .add_symlink("lib/libevil.so.1", "libok.so.0")
        .build(tmp_path / "channel")
    )
    known = KnownPackages.load([package])
    evil = KnownPackage(
        name="libevil",
        version="1.0",
        build="h0_0",
        files=("lib/libevil.so.1", "lib/libnothere.so.1"),
        origin=str(package),
    )
    index = LibraryIndex.from_packages([evil, *known.packages])
    fetcher = LibraryFetcher(tmp_path, index)
    with pytest.raises(BadInputError, match=r"lists lib/libnothere\.so\.1 but does not hold it"):
        fetcher.fetch(index.providers_of("libnothere.so.1")[0])
    with pytest.raises(BadInputError, match="corrupt ELF file"):
        fetcher.fetch(index.providers_of("libevil.so.1")[0])


def test_a_prefix_symlink_leaving_the_prefix_is_refused(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "lib").mkdir()
    (prefix / "lib" / "libz.so.1").symlink_to("/etc/passwd")
    record = prefix / "conda-meta" / "libz-1.0-0.json"
    record.write_text(
        '{"name": "libz", "version": "1.0", "build": "0", "files": ["lib/libz.so.1"]}'
    )
    index = LibraryIndex.from_known(KnownPackages.load([prefix]))
    with pytest.raises(BadInputError, match=r"links to /etc/passwd, out of the prefix"):
        LibraryFetcher(tmp_path, index).fetch(index.providers_of("libz.so.1")[0])


def test_max_size_warns(channel: Path, tmp_path: Path) -> None:
    index = LibraryIndex.from_known(KnownPackages.load([channel]))
    plan = plan_bundle(
        {EXT: _elf(needed=("libdep.so.1",))},
        index=index,
        fetcher=LibraryFetcher(tmp_path, index),
        layout=LinuxLayout(),
        dist="pkg",
        arch="x86_64",
        max_size=10,
    )
    assert plan.warnings == (
        f"the bundled libraries add {plan.size} bytes to the wheel, more than --max-size 10",
    )


def test_linux_layout_names_like_auditwheel() -> None:
    layout = LinuxLayout()
    digest = "1a2b3c4d" + "0" * 56
    assert layout.folder("my_pkg") == "my_pkg.libs"
    assert layout.copy_name("libz.so.1.3.1", digest) == "libz-1a2b3c4d.so.1.3.1"
    assert layout.copy_name("libstdc++.so.6", digest) == "libstdc++-1a2b3c4d.so.6"
    edits = BinaryEdits()
    layout.wire(edits, "a/b/_ext.so", {"libz.so.1": "my_pkg.libs/libz-1a2b3c4d.so.1"})
    assert edits.for_file("a/b/_ext.so")[0] == Edit(
        kind=EditKind.REPLACE_NEEDED, old="libz.so.1", new="libz-1a2b3c4d.so.1"
    )
    assert edits.for_file("a/b/_ext.so")[1].paths == ("$ORIGIN/../../my_pkg.libs",)
    assert layout.rewrite("pkg/__init__.py", b"", "my_pkg.libs") is None


def test_an_architecture_without_policy_is_an_error() -> None:
    with pytest.raises(BadInputError, match="no manylinux policy covers the architecture sparc"):
        policies("sparc")


def test_the_packages_own_libraries_stay_reachable(channel: Path, tmp_path: Path) -> None:
    """A library of the package itself installs into the environment's lib/: the
    extension keeps the entry that reaches it there, beside the way to the copies. The
    library cannot be pointed at the copies from there, which is a warning."""
    own = "pkg-1.0.data/data/lib/libown.so.1"
    ext = _elf(needed=("libown.so.1", "libdep.so.1"), runpath=("$ORIGIN/../../..", "$ORIGIN"))
    library = _elf(soname="libown.so.1", needed=("libdep.so.1",), is_shared_library=True)
    plan = _plan({EXT: ext, own: library}, [channel], tmp_path)
    assert [lib.name for lib in plan.libraries] == ["libdep.so.1"]
    assert plan.edits.for_file(EXT)[0] == Edit(
        kind=EditKind.SET_SEARCH_PATH,
        paths=("$ORIGIN/../../..", "$ORIGIN", "$ORIGIN/../pkg.libs"),
    )
    assert plan.edits.for_file(own) == ()
    assert plan.unwired == (own,)
    assert plan.warnings[0].startswith(f"{own} installs outside site-packages")


def test_search_paths_out_of_the_wheel_go_even_without_copies(tmp_path: Path) -> None:
    ext = _elf(needed=("libc.so.6",), rpath=("/home/builder/env/lib", "$ORIGIN/../../.."))
    plan = _plan({EXT: ext}, [], tmp_path)
    assert plan.edits.for_file(EXT) == (Edit(kind=EditKind.SET_SEARCH_PATH, paths=()),)


CXX_EXT = _elf(
    needed=("libstdc++.so.6", "libc.so.6"),
    version_needs=(("libc.so.6", "GLIBC_2.17"), ("libstdc++.so.6", "GLIBCXX_3.4.30")),
)


def _libstdcxx(out: Path, library: Path) -> Path:
    (
        CondaPackageBuilder(name="libstdcxx", version="14.2.0", build="h0_0", license="GPL-3.0")
        .add_file("lib/libstdc++.so.6.0.33", library.read_bytes())
        .add_symlink("lib/libstdc++.so.6", "libstdc++.so.6.0.33")
        .build(out)
    )
    return out


def test_a_newer_libstdcxx_is_bundled_mangled_when_its_glibc_allows(tmp_path: Path) -> None:
    """conda-forge builds its libstdc++ against an old glibc: bundled under a mangled
    name, it lets a GLIBCXX_3.4.30 extension keep the tag its glibc use allows (here a
    runtime built in the test, with the version node and an old glibc floor)."""
    script = tmp_path / "version.map"
    script.write_text("GLIBCXX_3.4.30 { global: *; };\n")
    runtime = compile_shared_library(
        tmp_path / "build",
        "libstdc++.so.6.0.33",
        "int standin_runtime(void) { return 1; }\n",
        "libstdc++.so.6",
        [f"-Wl,--version-script={script}"],
    )
    channel = _libstdcxx(tmp_path / "channel", runtime)
    plan = _plan({EXT: CXX_EXT}, [channel], tmp_path / "scratch")
    assert plan.policy is not None and plan.policy.name == "manylinux_2_17_x86_64"
    (bundled,) = plan.libraries
    assert bundled.wheel_path == f"pkg.libs/libstdc++-{bundled.copy.sha256[:8]}.so.6"
    assert bundled.reason == "manylinux_2_17_x86_64 lacks GLIBCXX_3.4.30"
    assert plan.edits.for_file(EXT)[1] == Edit(
        kind=EditKind.REPLACE_NEEDED, old="libstdc++.so.6", new=Path(bundled.wheel_path).name
    )


def test_a_runtime_that_needs_a_newer_glibc_is_left_to_the_policy_that_has_it(
    tmp_path: Path,
) -> None:
    """This machine's libstdc++ needs the glibc it was built on: bundling it would not
    lower the tag, so the wheel takes the policy whose libstdc++ has GLIBCXX_3.4.30."""
    runtime = machine_library("libstdc++.so.6")
    with runtime.open("rb") as stream:
        floor = read_binary(stream).glibc_floor or (2, 17)
    channel = _libstdcxx(tmp_path / "channel", runtime)
    plan = _plan({EXT: CXX_EXT}, [channel], tmp_path / "scratch")
    lowest = next(p for p in policies("x86_64") if "3.4.30" in p.symbol_versions["GLIBCXX"])
    assert plan.policy is not None
    if floor > lowest.glibc:
        assert plan.policy == lowest and plan.libraries == ()
        assert f"lacks GLIBC_{floor[0]}.{floor[1]} of libc.so.6" in plan.why
    else:  # a runtime built against an older glibc is bundled, as conda-forge's is
        assert [lib.package for lib in plan.libraries] == ["libstdcxx"]


def test_a_link_in_one_package_to_a_file_in_another_stands_for_both(tmp_path: Path) -> None:
    """conda-forge's libgomp.so.1 is _openmp_mutex's link to libgomp's file: the copy is
    libgomp's, and both packages' Requires-External and licences follow it."""
    real = CORPUS / "real" / "linux-64"
    sources = [real / "_openmp_mutex-4.5-2_gnu.tar.bz2", real / "libgomp-14.2.0-h77fa898_1.conda"]
    ext = _elf(needed=("libgomp.so.1", "libc.so.6"), version_needs=(("libgomp.so.1", "GOMP_4.0"),))
    plan = _plan({EXT: ext}, sources, tmp_path)
    (gomp,) = plan.libraries
    assert (gomp.name, gomp.package, gomp.copy.provider.path) == (
        "libgomp.so.1",
        "libgomp",
        "lib/libgomp.so.1.0.0",
    )
    assert gomp.wheel_path == f"pkg.libs/libgomp-{gomp.copy.sha256[:8]}.so.1"
    assert plan.packages == ("_openmp_mutex", "libgomp")
    licences, _ = bundle_licences(plan)
    assert [licence.name for licence in licences] == ["_openmp_mutex", "libgomp"]
