"""End to end: packages built in code become wheels that validate, install and work."""

from __future__ import annotations

import itertools
import json
import random
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from typing import Literal

import pytest

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder, move_to_end
from compilers import compile_python_extension, compile_shared_library, requires_gcc
from condawheel.binaries import read_binary
from condawheel.conversion.core import convert, inspect_package
from condawheel.conversion.plan import ConvertOptions
from validator import install_into_prefix, install_wheel, run_in_site, validate_wheel

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
CP = f"cp{sys.version_info.major}{sys.version_info.minor}"

LIBFOO = "int foo_answer(void) { return 42; }\n"
EXTENSION = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>
extern int foo_answer(void);
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(foo_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods};
PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&module); }
"""


def readelf_glibc_floor(binaries: list[Path]) -> tuple[int, int]:
    """The newest GLIBC_x.y any binary needs, read by binutils (an independent oracle)."""
    found = [(2, 17)]
    for binary in binaries:
        out = subprocess.run(["readelf", "-V", str(binary)], capture_output=True, text=True)
        for major, minor in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", out.stdout):
            found.append((int(major), int(minor)))
    return max(found)


@pytest.fixture(scope="session")
def native(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("native")
    lib = compile_shared_library(tmp, "libfoo.so.1.2.3", LIBFOO, soname="libfoo.so.1")
    (tmp / "libfoo.so").symlink_to(lib.name)
    ext = compile_python_extension(
        tmp, "_fast", EXTENSION, ["-L", str(tmp), "-lfoo", "-Wl,-rpath,$ORIGIN/../../.."]
    )
    return {"lib": lib, "ext": ext}


def _extension_package(native: dict[str, Path]) -> CondaPackageBuilder:
    builder = CondaPackageBuilder(
        name="fastthing",
        version="1.0",
        build=f"py{CP[2:]}h1234567_0",
        depends=[
            f"python >={PY},<{PY}.0a0".replace(f"<{PY}.0a0", f"<{sys.version_info.minor + 1}"),
            f"python_abi {PY}.* *_{CP}",
            "libzlib >=1.3.1,<2.0a0",
            "numpy >=1.26",
        ],
        python_version=PY,
        license="MIT",
        about={"summary": "A fast thing", "home": "https://example.org/fast"},
    )
    sp = builder.site_packages
    builder.add_file(f"{sp}/fastthing/__init__.py", "from fastthing._fast import answer\n")
    builder.add_file(f"{sp}/fastthing/{native['ext'].name}", native["ext"].read_bytes(), mode=0o755)
    builder.add_file("lib/libfoo.so.1.2.3", native["lib"].read_bytes(), mode=0o755)
    builder.add_symlink("lib/libfoo.so.1", "libfoo.so.1.2.3")
    builder.add_symlink("lib/libfoo.so.1.2", "libfoo.so.1.2.3")
    builder.add_symlink("lib/libfoo.so", "libfoo.so.1")
    builder.add_file("include/foo.h", "int foo_answer(void);\n")
    builder.add_file(
        "bin/fast-tool",
        f"#!{PREFIX_PLACEHOLDER}/bin/python{PY}\nimport fastthing\nprint(fastthing.answer())\n",
        mode=0o755,
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    builder.add_file(
        "etc/fast.conf",
        f"prefix={PREFIX_PLACEHOLDER}\n",
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    builder.add_file(
        "share/fast/blob.bin",
        b"\0\0" + PREFIX_PLACEHOLDER.encode() + b"\0tail",
        prefix_placeholder=PREFIX_PLACEHOLDER,
        file_mode="binary",
    )
    builder.add_info_file("licenses/LICENSE", "MIT licence text\n")
    return builder


@requires_gcc
@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
def test_extension_package(
    native: dict[str, Path], tmp_path: Path, fmt: Literal["conda", "tar.bz2"]
) -> None:
    package = _extension_package(native).build(tmp_path / "pkgs", fmt=fmt)
    result = convert(package, tmp_path / "dist")
    report = validate_wheel(result.wheel)

    floor = readelf_glibc_floor([native["lib"], native["ext"]])
    platform = f"conda_linux_{floor[0]}_{floor[1]}_x86_64"
    assert result.wheel.name == f"fastthing-1.0-0_py{CP[2:]}h1234567_0-{CP}-{CP}-{platform}.whl"
    assert {str(t) for t in report.tags} == {f"{CP}-{CP}-{platform}"}

    names = set(report.files)
    data = "fastthing-1.0.data"
    assert f"fastthing/{native['ext'].name}" in names
    assert {f"{data}/data/lib/libfoo.so.1.2.3", f"{data}/data/lib/libfoo.so.1"} <= names
    assert f"{data}/data/lib/libfoo.so" in names  # the linker's name is kept
    assert f"{data}/data/lib/libfoo.so.1.2" not in names  # a chain link nothing needs
    assert {f"{data}/scripts/fast-tool", f"{data}/data/include/foo.h"} <= names
    assert "fastthing-1.0.dist-info/licenses/LICENSE" in names

    with zipfile.ZipFile(result.wheel) as archive:
        script = archive.read(f"{data}/scripts/fast-tool")
        prefix_json = json.loads(archive.read("fastthing-1.0.dist-info/conda/prefix.json"))
        metadata = archive.read("fastthing-1.0.dist-info/METADATA").decode()
        wheel_meta = archive.read("fastthing-1.0.dist-info/WHEEL").decode()
        linked = archive.read(f"{data}/data/lib/libfoo.so.1")
    assert script.startswith(b"#!python\n")
    assert linked == native["lib"].read_bytes()
    listed = {(r["path"], r["mode"]) for r in prefix_json["files"]}
    assert listed == {
        (f"{data}/data/etc/fast.conf", "text"),
        (f"{data}/data/share/fast/blob.bin", "binary"),
    }
    assert "Requires-External: libzlib (>=1.3.1,<2.0a0)" in metadata.replace(
        "requires-external", "Requires-External"
    )
    assert report.metadata.requires_python is not None
    assert [str(r) for r in report.metadata.requires_dist or []] == ["numpy>=1.26"]
    assert str(report.metadata.license_expression) == "MIT"
    assert "Root-Is-Purelib: false" in wheel_meta
    assert f"Build: 0_py{CP[2:]}h1234567_0" in wheel_meta

    # Installed like a conda prefix, the extension finds libfoo in prefix/lib and works.
    prefix = tmp_path / "prefix"
    site = install_into_prefix(result.wheel, prefix)
    assert (prefix / "lib" / "libfoo.so.1").is_file()
    assert (prefix / "etc" / "fast.conf").is_file()
    assert run_in_site(site, "import fastthing; print(fastthing.answer())") == "42"
    tool = (prefix / "bin" / "fast-tool").read_text()
    assert tool.startswith(f"#!{sys.executable}")


@requires_gcc
def test_conversion_is_deterministic(native: dict[str, Path], tmp_path: Path) -> None:
    package = _extension_package(native).build(tmp_path / "pkgs")
    first = convert(package, tmp_path / "a").wheel.read_bytes()
    second = convert(package, tmp_path / "b").wheel.read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / convert(package, tmp_path / "c").wheel.name) as archive:
        stamps = {info.date_time for info in archive.infolist()}
    assert stamps == {(2023, 11, 14, 22, 13, 20)}  # the package's own timestamp


def test_source_date_epoch_sets_timestamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = (
        CondaPackageBuilder(name="data-only", version="1.0", noarch="generic")
        .add_file("share/data-only/file.txt", "hello\n")
        .build(tmp_path)
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    wheel = convert(package, tmp_path / "dist").wheel
    with zipfile.ZipFile(wheel) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2020, 9, 13, 12, 26, 40)}


def test_noarch_python_with_entry_points(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(
        name="tool-kit",
        version="2.1",
        build="pyhd8ed1ab_0",
        noarch="python",
        depends=["python >=3.9", "click >=8", "matplotlib-base", "libzlib"],
    )
    builder.add_dist_info("tool_kit", "2.1", metadata_extra="Requires-Dist: click>=7\n")
    builder.add_file("site-packages/tool_kit/__init__.py", "def main():\n    print('hi')\n")
    builder.add_file("python-scripts/tk-helper", "#!/bin/sh\necho helper\n", mode=0o755)
    builder.add_entry_points(["tool-kit = tool_kit:main"])
    package = builder.build(tmp_path / "pkgs")

    result = convert(package, tmp_path / "dist")
    report = validate_wheel(result.wheel)
    assert result.wheel.name == "tool_kit-2.1-0_pyhd8ed1ab_0-py3-none-any.whl"
    assert report.root_is_purelib
    with zipfile.ZipFile(result.wheel) as archive:
        entry_points = archive.read("tool_kit-2.1.dist-info/entry_points.txt").decode()
        names = archive.namelist()
    assert "tool-kit = tool_kit:main" in entry_points
    assert not any(n.endswith(("INSTALLER", "REQUESTED", "direct_url.json")) for n in names)
    assert [n for n in names if n.endswith(".dist-info/RECORD")] == [
        "tool_kit-2.1.dist-info/RECORD"
    ]
    assert report.metadata.requires_python is not None
    assert str(report.metadata.requires_python) == ">=3.9"
    assert sorted(str(r) for r in report.metadata.requires_dist or []) == [
        "click>=8",
        "matplotlib",
    ]
    assert report.metadata.requires_external == ["libzlib"]

    scheme = install_wheel(result.wheel, tmp_path / "root")
    assert (scheme["scripts"] / "tool-kit").is_file()
    assert (scheme["scripts"] / "tk-helper").read_text() == "#!/bin/sh\necho helper\n"
    assert (scheme["purelib"] / "tool_kit" / "__init__.py").is_file()


def test_entry_point_wrappers_are_left_to_the_installer(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="clitool", version="1.0", python_version=PY)
    builder.add_dist_info(
        "clitool", "1.0", entry_points="[console_scripts]\nclitool = clitool:main\n"
    )
    builder.add_file(f"{builder.site_packages}/clitool.py", "def main():\n    pass\n")
    wrapper = f"#!{PREFIX_PLACEHOLDER}/bin/python\nfrom clitool import main\nmain()\n"
    builder.add_file("bin/clitool", wrapper, mode=0o755, prefix_placeholder=PREFIX_PLACEHOLDER)
    result = convert(builder.build(tmp_path), tmp_path / "dist")
    validate_wheel(result.wheel)
    assert not any("/scripts/" in n for n in zipfile.ZipFile(result.wheel).namelist())
    assert any("entry-point wrapper" in note for note in result.payload.notes)


def test_windows_layout(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="winpkg", version="0.3", subdir="win-64")
    builder.add_file("Lib/site-packages/winpkg/__init__.py", "")
    builder.add_file("Scripts/winpkg-tool.bat", "@echo off\n")
    builder.add_file("Library/share/winpkg/data.txt", "data\n")
    result = convert(builder.build(tmp_path), tmp_path / "dist")
    names = set(validate_wheel(result.wheel).files)
    assert {
        "winpkg/__init__.py",
        "winpkg-0.3.data/scripts/winpkg-tool.bat",
        "winpkg-0.3.data/data/Library/share/winpkg/data.txt",
    } <= names


def test_dependency_names_from_with_packages(tmp_path: Path) -> None:
    dep = CondaPackageBuilder(name="py-yaml-thing", version="6.0", noarch="python")
    dep.add_dist_info("YamlThing", "6.0")
    dep_path = dep.build(tmp_path / "channel" / "noarch")
    builder = CondaPackageBuilder(
        name="consumer", version="1.0", noarch="python", depends=["py-yaml-thing >=6"]
    )
    builder.add_file("site-packages/consumer.py", "")
    package = builder.build(tmp_path / "pkgs")

    options = ConvertOptions(with_sources=(tmp_path / "channel",))
    report = validate_wheel(convert(package, tmp_path / "dist", options).wheel)
    assert [str(r) for r in report.metadata.requires_dist or []] == ["YamlThing>=6"]

    name_map = tmp_path / "names.json"
    name_map.write_text(json.dumps({"py-yaml-thing": None}))
    report = validate_wheel(
        convert(package, tmp_path / "d2", ConvertOptions(name_map=name_map)).wheel
    )
    assert report.metadata.requires_external == ["py-yaml-thing (>=6)"]
    assert dep_path.exists()


def test_version_override(tmp_path: Path) -> None:
    package = (
        CondaPackageBuilder(name="oldssl", version="1.1.1w", subdir="linux-64")
        .add_file("share/oldssl/x", "x")
        .build(tmp_path)
    )
    result = convert(package, tmp_path / "dist", ConvertOptions(version="1.1.1.23"))
    assert str(validate_wheel(result.wheel).version) == "1.1.1.23"


def test_inspect_matches_convert(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="same", version="1.0", noarch="python", depends=["python"])
    builder.add_file("site-packages/same.py", "")
    package = builder.build(tmp_path)
    inspected = inspect_package(package)
    converted = convert(package, tmp_path / "dist")
    assert inspected.wheel.name == converted.wheel.name
    assert inspected.payload.files_by_scheme == converted.payload.files_by_scheme
    assert not any((tmp_path).glob("*.whl"))


def test_site_packages_of_the_running_python_is_recognised() -> None:
    # The layout regex must match what this interpreter calls its site-packages.
    purelib = Path(sysconfig.get_paths()["purelib"])
    assert purelib.name == "site-packages"


def _noarch_with_entry_point(tmp_path: Path) -> Path:
    builder = CondaPackageBuilder(name="late", version="1.0", noarch="python")
    builder.add_file("site-packages/late.py", "def main():\n    pass\n")
    builder.add_entry_points(["late = late:main"])
    builder.add_info_file("licenses/LICENSE", "licence\n")
    # Large enough that a pass reads the archive in several steps.
    builder.add_file("share/late/noise.bin", random.Random(7).randbytes(300_000))
    return builder.build(tmp_path, fmt="tar.bz2")


def _passes(positions: list[int]) -> int:
    """How many times the archive was read: each pass starts again from the start."""
    return 1 + sum(1 for a, b in itertools.pairwise(positions) if b < a)


def test_tar_bz2_with_info_first_is_read_in_one_pass(tmp_path: Path) -> None:
    package = move_to_end(
        _noarch_with_entry_point(tmp_path), ("info/link.json", "info/licenses/LICENSE")
    )
    positions: list[int] = []
    result = convert(package, tmp_path / "dist", on_progress=positions.append)
    assert _passes(positions) == 1
    names = set(validate_wheel(result.wheel).files)
    # link.json and the licence followed the payload, and still count.
    assert "late-1.0.dist-info/entry_points.txt" in names
    assert "late-1.0.dist-info/licenses/LICENSE" in names
    # The model built again with them keeps the paths parsed before the payload.
    paths = result.plan.package.paths
    assert paths is not None and "site-packages/late.py" in paths
    assert "link.json" in result.plan.package.info_keys


def test_tar_bz2_with_paths_json_last_is_read_twice(tmp_path: Path) -> None:
    package = move_to_end(_noarch_with_entry_point(tmp_path), ("info/paths.json",))
    positions: list[int] = []
    result = convert(package, tmp_path / "dist", on_progress=positions.append)
    assert _passes(positions) == 2
    assert "late-1.0.dist-info/entry_points.txt" in validate_wheel(result.wheel).files


@pytest.mark.parametrize(
    ("fmt", "late"),
    [("conda", ()), ("tar.bz2", ()), ("tar.bz2", ("info/about.json", "info/index.json"))],
)
def test_provenance_files_are_the_package_info_files_as_they_are(
    tmp_path: Path, fmt: Literal["conda", "tar.bz2"], late: tuple[str, ...]
) -> None:
    """`.dist-info/conda/` holds index.json, about.json, paths.json and run_exports.json
    byte for byte, also those met after the payload (written first, the rest later)."""
    builder = CondaPackageBuilder(name="prov", version="1.0", noarch="python")
    builder.add_file("site-packages/prov.py", "VALUE = 1\n")
    builder.set_run_exports({"weak": ["prov >=1.0"]})
    package = builder.build(tmp_path / "pkgs", fmt=fmt)
    if late:
        move_to_end(package, late)
    with tarfile.open(builder.build(tmp_path / "plain", fmt="tar.bz2")) as tar:
        expected = {
            name: tar.extractfile(f"info/{name}").read()  # type: ignore[union-attr]
            for name in ("index.json", "about.json", "paths.json", "run_exports.json")
        }
    with zipfile.ZipFile(convert(package, tmp_path / "dist").wheel) as wheel:
        found = {
            name.rpartition("/")[2]: wheel.read(name)
            for name in wheel.namelist()
            if name.startswith("prov-1.0.dist-info/conda/")
        }
    assert found == expected


@requires_gcc
def test_vendored_library_is_replaced_by_the_conda_dependency(tmp_path: Path) -> None:
    """A package that carries auditwheel's copy of libfoo, which its dependency
    provides: the copy goes, the extension is patched to find the environment's."""
    build = tmp_path / "build"
    vendored = "libfoo-abcd1234.so.1.2.3"
    copy = compile_shared_library(build, vendored, LIBFOO, soname=vendored)
    ext = compile_python_extension(
        build,
        "_fast",
        EXTENSION,
        ["-L", str(build), f"-l:{vendored}", "-Wl,-rpath,$ORIGIN/../fastthing.libs"],
    )
    builder = CondaPackageBuilder(
        name="fastthing", version="1.0", depends=["libfoo >=1.2.3"], python_version=PY
    )
    sp = builder.site_packages
    builder.add_file(f"{sp}/fastthing/__init__.py", "from fastthing._fast import answer\n")
    builder.add_file(f"{sp}/fastthing/{ext.name}", ext.read_bytes(), mode=0o755)
    builder.add_file(f"{sp}/fastthing.libs/{vendored}", copy.read_bytes(), mode=0o755)
    package = builder.build(tmp_path / "pkgs")

    # The environment: libfoo's own package, as conda installed it.
    prefix = tmp_path / "prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "conda-meta").mkdir()
    real = compile_shared_library(build / "real", "libfoo.so.1.2.3", LIBFOO, soname="libfoo.so.1")
    (prefix / "lib" / "libfoo.so.1.2.3").write_bytes(real.read_bytes())
    (prefix / "lib" / "libfoo.so.1").symlink_to("libfoo.so.1.2.3")
    record = {
        "name": "libfoo",
        "version": "1.2.3",
        "build": "h0_0",
        "files": ["lib/libfoo.so.1", "lib/libfoo.so.1.2.3"],
    }
    (prefix / "conda-meta" / "libfoo-1.2.3-h0_0.json").write_text(json.dumps(record))

    result = convert(package, tmp_path / "dist", ConvertOptions(with_sources=(prefix,)))
    report = validate_wheel(result.wheel)
    assert not any(name.startswith("fastthing.libs/") for name in report.files)
    assert report.metadata.requires_external == ["libfoo (>=1.2.3)"]
    with zipfile.ZipFile(result.wheel) as archive:
        (tmp_path / "ext.so").write_bytes(archive.read(f"fastthing/{ext.name}"))
    with (tmp_path / "ext.so").open("rb") as stream:
        info = read_binary(stream)
    assert vendored not in info.needed and "libfoo.so.1" in info.needed
    assert "$ORIGIN/../../.." in info.runpath
    # Reported under the name the extension used, satisfied by the declared libfoo.
    uses = {(u.needed, u.satisfaction.name, u.detail) for u in result.libraries.uses}
    assert (vendored, "DEPENDENCY", "libfoo") in uses

    site = install_into_prefix(result.wheel, prefix)
    assert run_in_site(site, "import fastthing; print(fastthing.answer())") == "42"
