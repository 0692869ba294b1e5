"""Which conda package provides a library, and the requirement that declares it."""

from __future__ import annotations

from typing import Any

import pytest
from packaging.requirements import Requirement

from conda_records import LIBZLIB, LIBZLIB_OSX, OPENMP_MUTEX
from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.libraries.providers import LibraryIndex, library_files, requirement_for

# File lists as conda-forge's linux-64 / osx-arm64 / win-64 builds ship them.
ZLIB = KnownPackage(
    name="zlib",
    version="1.3.1",
    build="hb9d3cd8_2",
    files=("include/zlib.h", "lib/libz.a", "lib/libz.so", "lib/pkgconfig/zlib.pc"),
)
LIBGOMP = KnownPackage(
    name="libgomp",
    version="14.2.0",
    build="h77fa898_1",
    files=("lib/libgomp.so", "lib/libgomp.so.1.0.0"),
    run_exports={"strong": ["_openmp_mutex >=4.5"]},
)
LIBGOMP_AS_MUTEX = KnownPackage(
    name="libgomp", version="14.2.0", build="x", files=OPENMP_MUTEX.files
)
PYTHON = KnownPackage(
    name="python",
    version="3.12.4",
    build="h194c7f8_0_cpython",
    files=(
        "bin/python3.12",
        "lib/libpython3.12.so.1.0",
        "lib/python3.12/lib-dynload/_ssl.cpython-312-x86_64-linux-gnu.so",
        "lib/python3.12/site-packages/README.txt",
    ),
    run_exports={"noarch": ["python"], "weak": ["python_abi 3.12.* *_cp312"]},
)
LIBZLIB_WIN = KnownPackage(
    name="libzlib",
    version="1.3.1",
    build="h2466b09_2",
    files=("Library/bin/zlib.dll", "Library/lib/zlib.lib", "Library/bin/zlib.pdb"),
    run_exports={"weak": ["libzlib >=1.3.1,<2.0a0"]},
)
VC14_RUNTIME = KnownPackage(
    name="vc14_runtime",
    version="14.42.34433",
    build="he29a5d6_23",
    files=("Library/bin/msvcp140.dll", "Library/bin/vcruntime140.dll", "vcruntime140.dll"),
    run_exports={"strong": ["vc14_runtime >=14.42.34433"]},
)
WIN_PYTHON = KnownPackage(
    name="python",
    version="3.12.8",
    build="h3f84c4b_1_cpython",
    files=("python.exe", "python312.dll", "python3.dll", "DLLs/_ssl.pyd", "DLLs/libffi-8.dll"),
)


def index(*packages: KnownPackage) -> LibraryIndex:
    return LibraryIndex.from_known(KnownPackages(packages))


def test_finds_a_dt_needed_entry() -> None:
    found = index(LIBZLIB, ZLIB).find("libz.so.1")

    assert found is not None
    assert (found.package.name, found.path) == ("libzlib", "lib/libz.so.1")


@pytest.mark.parametrize(
    "name", ["libz.1.dylib", "@rpath/libz.1.dylib", "/opt/conda/envs/build/lib/libz.1.dylib"]
)
def test_finds_a_mach_o_install_name_by_its_base_name(name: str) -> None:
    found = index(LIBZLIB_OSX).find(name)

    assert found is not None
    assert found.path == "lib/libz.1.dylib"


@pytest.mark.parametrize("name", ["zlib.dll", "ZLIB.DLL", "Zlib.dll"])
def test_finds_a_dll_whatever_its_case(name: str) -> None:
    found = index(LIBZLIB_WIN).find(name)

    assert found is not None
    assert found.path == "Library/bin/zlib.dll"


def test_indexes_dlls_where_windows_finds_them() -> None:
    libraries = list(index(VC14_RUNTIME, WIN_PYTHON))

    assert libraries == [
        "libffi-8.dll",
        "msvcp140.dll",
        "python3.dll",
        "python312.dll",
        "vcruntime140.dll",
    ]
    assert [p.path for p in index(VC14_RUNTIME).providers_of("vcruntime140.dll")] == [
        "Library/bin/vcruntime140.dll"
    ]


def test_only_libraries_directly_under_lib_are_indexed() -> None:
    files = [
        "lib/libz.so.1",
        "lib/libz.so",
        "lib/libz.1.dylib",
        "lib/libz.a",
        "lib/libstdc++.so.6.0.33-gdb.py",
        "lib/pkgconfig/zlib.pc",
        "lib/python3.12/site-packages/yaml/_yaml.cpython-312-x86_64-linux-gnu.so",
        "lib/R/lib/libR.so",
        "Library/lib/zlib.lib",
        "Library/bin/zlib.dll",
        "Library/plugins/platforms/qwindows.dll",
        "bin/libz.so.1",
    ]

    assert list(library_files(files)) == [
        "lib/libz.so.1",
        "lib/libz.so",
        "lib/libz.1.dylib",
        "Library/bin/zlib.dll",
    ]


def test_the_first_package_without_a_leading_underscore_is_preferred() -> None:
    forward = index(OPENMP_MUTEX, LIBGOMP_AS_MUTEX)
    backward = index(LIBGOMP_AS_MUTEX, OPENMP_MUTEX)

    for libraries in (forward, backward):
        assert [p.package.name for p in libraries.providers_of("libgomp.so.1")] == [
            "libgomp",
            "_openmp_mutex",
        ]
        found = libraries.find("libgomp.so.1")
        assert found is not None
        assert found.package.name == "libgomp"


def test_one_package_from_two_sources_is_listed_once() -> None:
    assert len(index(LIBZLIB, LIBZLIB).providers_of("libz.so.1")) == 1


def test_an_unknown_library_has_no_provider() -> None:
    libraries = index(LIBZLIB)

    assert libraries.find("libpng16.so.16") is None
    assert libraries.providers_of("libpng16.so.16") == ()


@pytest.mark.parametrize(
    ("copy", "linked"),
    [
        ("libz.so.1.3.1", "libz.so.1"),
        ("libz.so.1", "libz.so.1"),
        # the alias comes from another package: _openmp_mutex links libgomp's file
        ("libgomp.so.1.0.0", "libgomp.so.1"),
        ("libz.1.3.1.dylib", "libz.1.dylib"),
        ("ZLIB.DLL", "zlib.dll"),
        ("libunknown.so.2.0", "libunknown.so.2.0"),
    ],
)
def test_linked_name_is_the_shortest_versioned_alias(copy: str, linked: str) -> None:
    libraries = index(LIBZLIB, LIBGOMP, OPENMP_MUTEX, LIBZLIB_OSX, LIBZLIB_WIN)

    assert libraries.linked_name(copy) == linked


def test_linked_name_keeps_a_full_version_soname() -> None:
    boost = KnownPackage(
        name="libboost",
        version="1.86.0",
        build="h6c02f8c_3",
        files=("lib/libboost_system.so", "lib/libboost_system.so.1.86.0"),
    )

    assert index(boost).linked_name("libboost_system.so.1.86.0") == "libboost_system.so.1.86.0"


@pytest.mark.parametrize(
    "run_exports",
    [
        {"weak": ["libzlib >=1.3.1,<2.0a0"]},
        {"strong": ["libzlib >=1.3.1,<2.0a0"]},
        {"weak": ["zstd >=1.5"], "strong": ["libzlib >=1.3.1,<2.0a0"]},
        ["libzlib >=1.3.1,<2.0a0"],
    ],
)
def test_requirement_is_the_run_exports_pin(run_exports: Any) -> None:
    package = KnownPackage(
        name="libzlib", version="1.3.1.5", build="0", files=(), run_exports=run_exports
    )

    assert requirement_for(package) == "libzlib (>=1.3.1,<2.0a0)"


def test_a_run_export_for_another_package_is_not_the_pin() -> None:
    # libgomp's run_exports pin _openmp_mutex, not libgomp itself.
    assert requirement_for(LIBGOMP) == "libgomp (>=14.2.0,<15.0a0)"
    assert requirement_for(OPENMP_MUTEX) == "_openmp_mutex (>=4.5)"


def test_noarch_and_constrains_are_not_pins() -> None:
    package = KnownPackage(
        name="python",
        version="3.12.4",
        build="0",
        files=(),
        run_exports={"noarch": ["python"], "weak_constrains": ["python >=3.12"]},
    )

    assert requirement_for(package) == "python (>=3.12.4,<4.0a0)"


@pytest.mark.parametrize(
    ("version", "requirement"),
    [
        ("1.3.1", "libfoo (>=1.3.1,<2.0a0)"),
        ("0.4", "libfoo (>=0.4,<1.0a0)"),
        ("2023.01.10", "libfoo (>=2023.1.10,<2024.0a0)"),
        ("1!2.0", "libfoo (>=1!2.0,<1!3.0a0)"),
        # not PEP 440: no honest range, so the bare name
        ("1.1.1w", "libfoo"),
        ("9e", "libfoo"),
    ],
)
def test_requirement_without_run_exports_is_installed_to_next_major(
    version: str, requirement: str
) -> None:
    package = KnownPackage(name="libfoo", version=version, build="0", files=())

    assert requirement_for(package) == requirement


def test_requirements_parse_as_pep_508_names_with_a_version() -> None:
    line = requirement_for(LIBZLIB)
    name, _, spec = line.partition(" ")

    assert Requirement(f"{name}{spec.strip('()')}").name == "libzlib"
