"""Conda records of real conda-forge packages (names, versions, file lists), shared
by the tests of the library index and the de-vendoring plan."""

from __future__ import annotations

from condawheel.conda.known import KnownPackage

LIBZLIB = KnownPackage(
    name="libzlib",
    version="1.3.1",
    build="hb9d3cd8_2",
    files=("lib/libz.so.1", "lib/libz.so.1.3.1"),
    run_exports={"weak": ["libzlib >=1.3.1,<2.0a0"]},
)

OPENMP_MUTEX = KnownPackage(
    name="_openmp_mutex",
    version="4.5",
    build="2_gnu",
    files=("lib/libgomp.so.1",),
    run_exports={"strong": ["_openmp_mutex >=4.5"]},
)

LIBZLIB_OSX = KnownPackage(
    name="libzlib",
    version="1.3.1",
    build="h8359307_2",
    files=("lib/libz.1.3.1.dylib", "lib/libz.1.dylib"),
    run_exports={"weak": ["libzlib >=1.3.1,<2.0a0"]},
)
