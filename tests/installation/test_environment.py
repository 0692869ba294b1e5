"""Reading a conda environment: records, its interpreter, its system, PEP 668."""

from __future__ import annotations

import json
import os
import platform
import sys
import sysconfig
from pathlib import Path

import pytest
import rattler
from packaging.markers import default_environment
from packaging.tags import Tag

from condaenv import PY, add_record, make_env, site_packages
from condawheel.exceptions import BadInputError
from condawheel.installation.environment import CondaEnvironment

LIBZLIB = {
    "name": "libzlib",
    "version": "1.3.1",
    "build": "hb9d3cd8_2",
    "build_number": 2,
    "subdir": "linux-64",
    "files": ["lib/libz.so.1", "lib/libz.so.1.3.1"],
}


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = make_env(tmp_path_factory.mktemp("envs"), records=[LIBZLIB])
    dist_info = site_packages(prefix) / "demo_dist-1.5.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-dist\nVersion: 1.5\n")
    (dist_info / "INSTALLER").write_text("pip\n")
    (dist_info / "RECORD").write_text("")
    return prefix


@pytest.fixture(scope="module")
def environment(prefix: Path) -> CondaEnvironment:
    return CondaEnvironment.open(prefix, environ={})


def test_records(environment: CondaEnvironment) -> None:
    names = {r.name: r for r in environment.records}
    assert set(names) == {"python", "libzlib"}
    zlib = names["libzlib"]
    assert (zlib.version, zlib.build, zlib.build_number, zlib.subdir) == (
        "1.3.1",
        "hb9d3cd8_2",
        2,
        "linux-64",
    )
    assert zlib.files == ("lib/libz.so.1", "lib/libz.so.1.3.1")
    assert environment.owner(Path("lib/libz.so.1")) == zlib
    assert environment.owner(environment.prefix / "lib" / "libz.so.1.3.1") == zlib
    assert environment.owner(environment.prefix / "lib" / "other.so") is None
    assert environment.owner(Path("/elsewhere/lib/libz.so.1")) is None


def test_interpreter_is_asked_about_itself(environment: CondaEnvironment, prefix: Path) -> None:
    interpreter = environment.interpreter
    assert interpreter.executable == prefix / "bin" / "python"
    assert interpreter.version == tuple(sys.version_info[:3])
    assert interpreter.implementation == sys.implementation.name
    assert interpreter.abiflags == getattr(sys, "abiflags", "")
    assert interpreter.free_threading == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert interpreter.in_venv
    assert interpreter.paths["purelib"] == site_packages(prefix)
    assert interpreter.paths["scripts"] == prefix / "bin"
    assert interpreter.paths["data"] == prefix
    assert set(interpreter.paths) == {"purelib", "platlib", "scripts", "data", "include", "stdlib"}


def test_marker_environment_matches_packaging(environment: CondaEnvironment) -> None:
    # the environment's interpreter is the machine's CPython: packaging, run here,
    # is an independent oracle for what the probe wrote out by hand
    expected = default_environment()
    for key, value in environment.interpreter.markers.items():
        assert expected[key] == value, key  # type: ignore[literal-required]
    assert set(environment.interpreter.markers) >= {
        "python_version",
        "python_full_version",
        "sys_platform",
        "platform_machine",
        "implementation_name",
        "os_name",
    }


def test_installed_distributions(environment: CondaEnvironment, prefix: Path) -> None:
    (found,) = environment.installed("demo-dist")
    assert (found.name, found.version, found.installer) == ("demo-dist", "1.5", "pip")
    assert found.path == site_packages(prefix) / "demo_dist-1.5.dist-info"
    assert environment.installed("absent") == []


@pytest.mark.skipif(sys.platform != "linux", reason="glibc")
def test_system(environment: CondaEnvironment) -> None:
    assert environment.subdir == str(rattler.Subdir.current())
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    major, minor = libc.split()[1].split(".")[:2]
    assert environment.glibc == (int(major), int(minor))
    virtual = {r.name: r for r in environment.virtual_packages()}
    assert virtual["__glibc"].version == f"{major}.{minor}"
    assert "__unix" in virtual
    assert "__linux" in virtual
    assert virtual["__archspec"].build == platform.machine()
    assert environment.externally_managed is None


@pytest.mark.skipif(platform.machine() != "x86_64" or sys.platform != "linux", reason="x86_64")
def test_supported_tags(environment: CondaEnvironment) -> None:
    glibc = environment.glibc
    assert glibc is not None
    platforms = environment.platform_tags()
    assert platforms[0] == f"conda_linux_{glibc[0]}_{glibc[1]}_x86_64"
    assert "conda_linux_2_17_x86_64" in platforms
    tags = set(environment.supported_tags())
    cp = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert Tag(cp, cp, "conda_linux_2_17_x86_64") in tags
    assert Tag("cp38", "abi3", "conda_linux_2_17_x86_64") in tags
    assert Tag("py3", "none", "any") in tags
    assert platforms[-1] == "conda_noarch"  # a noarch package without Python content
    assert Tag("py3", "none", "conda_noarch") in tags
    assert Tag(cp, cp, f"conda_linux_2_{glibc[1] + 1}_x86_64") not in tags
    assert Tag(cp, cp, "conda_linux_2_17_aarch64") not in tags
    assert Tag(cp, cp, "manylinux_2_17_x86_64") not in tags
    assert Tag("cp39", "cp39", "conda_linux_2_17_x86_64") not in tags


def test_glibc_override(prefix: Path) -> None:
    environment = CondaEnvironment.open(prefix, environ={"CONDA_OVERRIDE_GLIBC": "2.28"})
    assert environment.glibc == (2, 28)
    assert environment.platform_tags()[0].startswith("conda_linux_2_28_")


@pytest.mark.parametrize(
    ("name", "spec", "matches"),
    [
        ("libzlib", ">=1.3.1,<2.0a0", True),
        ("libzlib", "==1.3.*", True),
        ("libzlib", "1.3.1 hb9d3cd8_2", True),
        ("libzlib", ">=1.4", False),
        ("libzlib", "", True),
        ("libpng", "", False),
        ("__unix", "", True),
        ("__glibc", ">=2.17", True),
        ("__glibc", ">=99", False),
        ("__cuda", "", False),
    ],
)
def test_matching_records(
    environment: CondaEnvironment, name: str, spec: str, matches: bool
) -> None:
    if name == "__glibc" and environment.glibc is None:
        pytest.skip("not a glibc system")
    matched, _ = environment.matching_records(name, spec)
    assert bool(matched) is matches


def test_subdir_without_records_is_the_machine(tmp_path: Path) -> None:
    prefix = make_env(tmp_path, python_record=False)
    environment = CondaEnvironment.open(prefix, environ={})
    assert environment.records == ()
    assert environment.subdir == str(rattler.Subdir.current())


def test_subdir_from_python_record(tmp_path: Path) -> None:
    prefix = make_env(tmp_path, python_record=False)
    add_record(
        prefix, {"name": "python", "version": "3.11.7", "build": "h_0", "subdir": "linux-aarch64"}
    )
    add_record(prefix, {"name": "tzdata", "version": "2025b", "build": "h_0", "subdir": "noarch"})
    assert CondaEnvironment.open(prefix, environ={}).subdir == "linux-aarch64"


def test_externally_managed(tmp_path: Path) -> None:
    prefix = make_env(tmp_path)
    marker = prefix / "lib" / f"python{PY}" / "EXTERNALLY-MANAGED"
    marker.write_text("[externally-managed]\nError=use conda\n")
    assert CondaEnvironment.open(prefix, environ={}).externally_managed == marker


def test_default_prefix_is_conda_prefix(prefix: Path) -> None:
    environment = CondaEnvironment.open(environ={"CONDA_PREFIX": str(prefix)})
    assert environment.prefix == prefix


def test_no_prefix_at_all() -> None:
    with pytest.raises(BadInputError, match=r"CONDA_PREFIX is not set.*--prefix"):
        CondaEnvironment.open(environ={})


def test_not_a_conda_environment(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"not a conda environment .*no conda-meta/"):
        CondaEnvironment.open(tmp_path, environ={})


def test_no_interpreter(tmp_path: Path) -> None:
    (tmp_path / "conda-meta").mkdir()
    with pytest.raises(BadInputError, match="has no Python interpreter"):
        CondaEnvironment.open(tmp_path, environ={})


def test_broken_record(tmp_path: Path) -> None:
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "bad-1-0.json").write_text("{")
    with pytest.raises(BadInputError, match=r"bad-1-0\.json: not a readable conda record"):
        CondaEnvironment.open(tmp_path, environ={})
    (tmp_path / "conda-meta" / "bad-1-0.json").write_text(json.dumps({"name": "bad"}))
    with pytest.raises(BadInputError, match="needs string name, version and build"):
        CondaEnvironment.open(tmp_path, environ={})
