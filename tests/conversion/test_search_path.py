"""Converted binaries search only the environment: conda's placeholder prefix in a search
path becomes relative to the binary, the build machine's other folders go."""

from __future__ import annotations

import io
import json
import platform
import subprocess
import zipfile
from pathlib import Path

import pytest

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder
from compilers import (
    MACOS_ARM64,
    compile_executable,
    compile_macho,
    compile_shared_library,
    requires_gcc,
)
from condaenv import make_env
from condawheel.binaries import BinaryInfo, read_binary
from condawheel.conversion.core import convert, inspect_package
from condawheel.installation.core import InstallOptions, install, plan_install
from condawheel.installation.environment import CondaEnvironment
from macho_signing import verify_adhoc_signature
from validator import validate_wheel

SUBDIR = {"x86_64": "linux-64", "aarch64": "linux-aarch64"}.get(platform.machine(), "linux-64")
BUILD_ENV = "/home/conda/feedstock_root/build_artifacts/thing_1700000000000/_build_env"
LIBFOO = "int foo_answer(void) { return 42; }\n"
LIBBAR = "extern int foo_answer(void);\nint bar_answer(void) { return foo_answer(); }\n"
# The placeholder is in the program's data as well as in its search path.
TOOL = f"""
#include <stdio.h>
extern int bar_answer(void);
static const char share[] = "{PREFIX_PLACEHOLDER}/share/thing";
int main(void) {{ printf("%d %s\\n", bar_answer(), share); return 0; }}
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As conda-build leaves a package when its build linked with `-Wl,-rpath`."""
    tmp = tmp_path_factory.mktemp("search-path")
    foo = compile_shared_library(tmp, "libfoo.so.1", LIBFOO, soname="libfoo.so.1")
    bar = compile_shared_library(
        tmp, "libbar.so.1", LIBBAR, soname="libbar.so.1",
        extra_args=[str(foo), f"-Wl,-rpath,{PREFIX_PLACEHOLDER}/lib:{BUILD_ENV}/lib",
                    "-Wl,--enable-new-dtags"],
    )  # fmt: skip
    tool = compile_executable(
        tmp, "tool", TOOL,
        [str(bar), str(foo), f"-Wl,-rpath,{PREFIX_PLACEHOLDER}/lib", "-Wl,--disable-new-dtags"],
    )  # fmt: skip
    assert _info(bar).runpath == (f"{PREFIX_PLACEHOLDER}/lib", f"{BUILD_ENV}/lib")
    assert _info(tool).rpath == (f"{PREFIX_PLACEHOLDER}/lib",)
    builder = CondaPackageBuilder(name="thing", version="1.0", build="h0_0", subdir=SUBDIR)
    builder.add_file("lib/libfoo.so.1", foo.read_bytes(), mode=0o755)
    for path, data in (("lib/libbar.so.1", bar), ("bin/tool", tool)):
        builder.add_file(
            path, data.read_bytes(), mode=0o755,
            prefix_placeholder=PREFIX_PLACEHOLDER, file_mode="binary",
        )  # fmt: skip
    # a link's copy gets the same edits
    return builder.add_symlink("lib/libbar.so", "libbar.so.1").build(tmp / "pkgs", "conda")


def _info(path: Path) -> BinaryInfo:
    with path.open("rb") as stream:
        return read_binary(stream)


def _member_info(wheel: Path, member: str, tmp_path: Path) -> BinaryInfo:
    target = tmp_path / member.rpartition("/")[2]
    with zipfile.ZipFile(wheel) as archive:
        target.write_bytes(archive.read(member))
    return _info(target)


@requires_gcc
def test_search_paths_name_only_the_environment(package: Path, tmp_path: Path) -> None:
    wheel = convert(package, tmp_path / "out").wheel
    validate_wheel(wheel)
    data = "thing-1.0.data"
    for member in (f"{data}/data/lib/libbar.so.1", f"{data}/data/lib/libbar.so"):
        bar = _member_info(wheel, member, tmp_path)
        assert (bar.rpath, bar.runpath) == ((), ("$ORIGIN",))  # still DT_RUNPATH
    tool = _member_info(wheel, f"{data}/scripts/tool", tmp_path)
    assert (tool.rpath, tool.runpath) == (("$ORIGIN/../lib",), ())  # still DT_RPATH
    with zipfile.ZipFile(wheel) as archive:
        assert not any(BUILD_ENV.encode() in archive.read(n) for n in archive.namelist())
        manifest = json.loads(archive.read("thing-1.0.dist-info/conda/prefix.json"))
    # libbar held the placeholder in its search path only; the tool holds it still
    assert [entry["path"] for entry in manifest["files"]] == [f"{data}/scripts/tool"]


@requires_gcc
def test_inspect_says_which_entries_changed(package: Path) -> None:
    notes = inspect_package(package).libraries.notes
    bar = "thing-1.0.data/data/lib/libbar.so.1"
    assert f"{bar}: search path entry {BUILD_ENV}/lib is the build machine's; removed" in notes
    assert (
        f"{bar}: search path entry {PREFIX_PLACEHOLDER}/lib is the build machine's; now $ORIGIN"
    ) in notes


@requires_gcc
def test_the_installed_program_finds_its_libraries_and_its_prefix(
    package: Path, tmp_path: Path
) -> None:
    wheel = convert(package, tmp_path / "out").wheel
    prefix = make_env(tmp_path)
    install(plan_install([wheel], CondaEnvironment.open(prefix, environ={}), InstallOptions()))
    ran = subprocess.run(
        [str(prefix / "bin" / "tool")], capture_output=True, text=True, check=False, env={}
    )
    assert (ran.returncode, ran.stdout) == (0, f"42 {prefix}/share/thing\n"), ran.stderr


def test_a_mach_o_placeholder_rpath_becomes_loader_relative(tmp_path: Path) -> None:
    lib = compile_macho(
        tmp_path / "cc" / "libbar.1.dylib", LIBFOO, MACOS_ARM64,
        args=["-Wl,-install_name,@rpath/libbar.1.dylib",
              f"-Wl,-rpath,{PREFIX_PLACEHOLDER}/lib", f"-Wl,-rpath,{BUILD_ENV}/lib"],
    )  # fmt: skip
    package = (
        CondaPackageBuilder(name="bar", version="1.0", build="h0_0", subdir="osx-arm64")
        .add_file(
            "lib/libbar.1.dylib",
            lib.read_bytes(),
            mode=0o755,
            prefix_placeholder=PREFIX_PLACEHOLDER,
            file_mode="binary",
        )
        .build(tmp_path / "pkgs", "conda")
    )
    wheel = convert(package, tmp_path / "out").wheel
    validate_wheel(wheel)
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read("bar-1.0.data/data/lib/libbar.1.dylib")
        assert "bar-1.0.dist-info/conda/prefix.json" not in archive.namelist()
    assert read_binary(io.BytesIO(data)).runpath == ("@loader_path",)
    verify_adhoc_signature(data)  # re-signed after the edit, as arm64 needs
