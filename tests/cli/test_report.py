"""The report behind `inspect` and `--json`: plain, JSON-serialisable data."""

from __future__ import annotations

import json
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder
from compilers import compile_shared_library, requires_gcc
from condawheel.cli.report import report
from condawheel.conversion.core import convert, inspect_package

GREET = """
#include <stdio.h>
#include <string.h>
int greet(char *out, const char *name) {
    memcpy(out, name, strlen(name) + 1);
    return printf("hello %s\\n", out);
}
"""
MACHINE = platform.machine()
#: The conda subdir of this host, so that the compiled library matches the package.
SUBDIR = {"x86_64": "linux-64", "aarch64": "linux-aarch64", "ppc64le": "linux-ppc64le"}


def readelf_glibc_floor(binary: Path) -> str | None:
    """The newest GLIBC_x.y the binary needs, read by binutils (an independent oracle)."""
    out = subprocess.run(["readelf", "-V", str(binary)], capture_output=True, text=True)
    found = {(int(a), int(b)) for a, b in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", out.stdout)}
    return "{}.{}".format(*max(found)) if found else None


@pytest.fixture(scope="module")
def libgreet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("native")
    return compile_shared_library(tmp, "libgreet.so.1.0.0", GREET, soname="libgreet.so.1")


def greet_package(tmp_path: Path, library: bytes) -> Path:
    builder = CondaPackageBuilder(
        name="greet",
        version="1.0",
        build="py312h1234567_0",
        build_number=2,
        subdir=SUBDIR[MACHINE],
        depends=[
            "python >=3.12,<3.13.0a0",
            "libzlib >=1.3.1,<2.0a0",
            "numpy >=1.26",
            "__glibc >=2.17",
        ],
        license="MIT",
    )
    builder.add_file("lib/python3.12/site-packages/greet/__init__.py", "")
    builder.add_file("lib/libgreet.so.1.0.0", library, mode=0o755)
    builder.add_symlink("lib/libgreet.so.1", "libgreet.so.1.0.0")
    builder.add_symlink("lib/libgreet.so", "libgreet.so.1")
    builder.add_file(
        "etc/greet.conf", f"prefix={PREFIX_PLACEHOLDER}\n", prefix_placeholder=PREFIX_PLACEHOLDER
    )
    return builder.build(tmp_path / "pkgs")


@requires_gcc
@pytest.mark.skipif(MACHINE not in SUBDIR, reason=f"no conda subdir for {MACHINE}")
def test_report_of_a_package_with_a_shared_library(tmp_path: Path, libgreet: Path) -> None:
    package = greet_package(tmp_path, libgreet.read_bytes())
    result = inspect_package(package)
    data = report(result)
    assert json.loads(json.dumps(data)) == data  # plain data, all the way down

    floor = readelf_glibc_floor(libgreet)
    assert floor is not None
    major, minor = map(int, floor.split("."))
    tag_floor = max((major, minor), (2, 17))
    platform_tag = f"conda_linux_{tag_floor[0]}_{tag_floor[1]}_{MACHINE}"
    data_dir = "greet-1.0.data/data"

    assert data["input"] == str(package)
    assert data["package"] == {
        "name": "greet",
        "version": "1.0",
        "build": "py312h1234567_0",
        "subdir": SUBDIR[MACHINE],
        "noarch": "none",
    }
    assert data["wheel"] == f"greet-1.0-2_py312h1234567_0-py3-none-{platform_tag}.whl"
    assert data["distribution"] == {"name": "greet", "version": "1.0"}
    assert data["build_tag"] == "2_py312h1234567_0"
    assert data["tags"]["tag"] == f"py3-none-{platform_tag}"
    assert (data["tags"]["python"], data["tags"]["abi"]) == ("py3", "none")
    assert data["tags"]["platform"] == platform_tag
    assert data["tags"]["reasons"] == list(result.tags.reasons)
    assert data["tags"]["reasons"][0] == "python/abi py3-none: no extension modules"
    assert data["tags"]["reasons"][1].startswith(f"platform {platform_tag}: ")

    assert data["files"] == {
        # libgreet.so.1 (the SONAME) and libgreet.so (the linker's name) are copies.
        "total": 5,
        "by_scheme": {"data": 4, "root": 1},
        "metadata_basis": None,
        "prefix_placeholders": [
            {
                "path": f"{data_dir}/etc/greet.conf",
                "placeholder": PREFIX_PLACEHOLDER,
                "mode": "text",
            }
        ],
        "notes": [],
    }
    assert data["binaries"] == [
        {
            "path": f"{data_dir}/lib/libgreet.so.1.0.0",
            "format": "elf",
            "arch": MACHINE,
            "soname": "libgreet.so.1",
            "needed": ["libc.so.6"],
            "glibc_floor": floor,
            "macos_floor": None,
            # Its own need, or conda-forge's glibc baseline when that is higher.
            "floor": "glibc "
            + max(floor or "2.17", "2.17", key=lambda v: tuple(map(int, v.split(".")))),
        }
    ]
    assert [(d["conda"], d["kind"], d["requirement"]) for d in data["dependencies"]] == [
        ("python >=3.12,<3.13.0a0", "python", ">=3.12,<3.13.0a0"),
        ("libzlib >=1.3.1,<2.0a0", "external", "libzlib (>=1.3.1,<2.0a0)"),
        ("numpy >=1.26", "dist", "numpy>=1.26"),
        ("__glibc >=2.17", "virtual", "__glibc (>=2.17)"),
    ]
    reasons = [d["reason"] for d in data["dependencies"]]
    assert reasons == [d.reason for d in result.dependencies.items]
    assert "numpy" in reasons[2] and "assumed" in reasons[2]
    assert data["notes"] == []
    assert data["warnings"] == [
        "numpy: PyPI name assumed equal to the conda name; confirm it with --with or --name-map",
        "1 file(s) hold the conda build prefix; `condawheel install` rewrites it, "
        "plain pip leaves it unreplaced",
    ]


def test_report_of_a_pure_package(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(
        name="_pure_thing", version="0.3", build="pyhd8ed1ab_0", noarch="python"
    )
    builder.add_dist_info("pure_thing", "0.3")
    builder.add_file("site-packages/pure_thing.py", "")
    builder.add_file("site-packages/__pycache__/pure_thing.cpython-312.pyc", b"\0")
    package = builder.build(tmp_path / "pkgs")
    data: dict[str, Any] = report(convert(package, tmp_path / "dist"))
    assert json.loads(json.dumps(data)) == data
    assert data["wheel"] == "pure_thing-0.3-0_pyhd8ed1ab_0-py3-none-any.whl"
    assert data["package"]["noarch"] == "python"
    assert data["tags"]["tag"] == "py3-none-any"
    assert data["files"]["total"] == 1
    assert data["files"]["by_scheme"] == {"root": 1}
    assert data["files"]["metadata_basis"] == "pure_thing-0.3.dist-info"
    assert data["files"]["prefix_placeholders"] == []
    assert data["files"]["notes"] == [
        "site-packages/__pycache__/pure_thing.cpython-312.pyc: bytecode or another "
        "distribution's metadata; left out"
    ]
    assert data["binaries"] == []
    assert data["dependencies"] == []
    assert data["notes"] == ["name and version from the package's pure_thing-0.3.dist-info"]
    assert data["warnings"] == []
