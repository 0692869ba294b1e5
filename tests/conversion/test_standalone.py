"""Standalone wheels end to end: real recipes built with rattler-build, converted with
--standalone, installed by pip into a plain venv of this machine's CPython (no conda
prefix, no LD_LIBRARY_PATH), imported, and checked by auditwheel."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from chain_recipes import chain_channel
from channel import find_package
from clirun import one_line, run_cli
from compilers import compile_pe
from condawheel.binaries.model import BinaryInfo
from condawheel.binaries.read import read_binary
from condawheel.conversion.core import convert
from condawheel.conversion.plan import ConvertOptions
from condawheel.conversion.repair import RepairOptions, inspect_wheel, repair
from condawheel.libraries.manylinux import policies
from paths import CORPUS, machine_library
from validator import validate_wheel

LIBGCC = CORPUS / "real" / "linux-64" / "libgcc-14.2.0-h77fa898_1.conda"
_TAG = re.compile(r"-(manylinux_\d+_\d+_x86_64)(?:\.manylinux\w+)?\.whl$")


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chain_channel(tmp_path_factory)


@pytest.fixture(scope="module")
def wheels(channel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """pychain, pyruntime and pycxx converted --standalone, knowing the channel and
    conda-forge's libgcc."""
    dist = tmp_path_factory.mktemp("standalone-dist")
    options = ConvertOptions(with_sources=(channel, LIBGCC), standalone=True)
    return {
        name: convert(find_package(channel, name), dist, options).wheel
        for name in ("pychain", "pyruntime", "pycxx")
    }


@pytest.fixture(scope="module")
def venv(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of the machine's CPython (not conda's) with the wheels installed by pip."""
    prefix = tmp_path_factory.mktemp("plain-venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(prefix)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(prefix / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-index", "--no-deps", *map(str, wheels.values())],
        check=True,
    )
    return prefix


def _python(venv: Path, code: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "LD_"))}
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_chain_installs_into_a_plain_venv_and_calls_through(
    wheels: dict[str, Path], venv: Path
) -> None:
    wheel = wheels["pychain"]
    tag = _TAG.search(wheel.name)
    assert tag is not None, wheel.name
    validate_wheel(wheel)
    members = _members(wheel)
    copies = sorted(n for n in members if n.startswith("pychain.libs/"))
    assert [re.sub(r"-[0-9a-f]{8}\.", "-HASH.", n) for n in copies] == [
        "pychain.libs/libchain-HASH.so.1",
        "pychain.libs/libchaindep-HASH.so.1",
    ]
    info = next(n for n in members if n.endswith(".dist-info/METADATA"))
    metadata = members[info].decode()
    assert "Requires-External" not in metadata  # libchain is in the wheel now
    dist_info = info.rpartition("/")[0]
    for conda_name in ("libchain", "libchaindep"):
        licence = members[f"{dist_info}/licenses/{conda_name}/LICENSE"]
        assert licence == f"{conda_name}: the licence of the test recipe\n".encode()
        assert f"License-File: {conda_name}/LICENSE" in metadata
    # 6 * 7 in libchaindep, + 1 in libchain, through the extension.
    assert _python(venv, "import pychain; print(pychain.call(6, 7))") == "43"
    loaded = _python(
        venv,
        "import pychain; print(*sorted(l.split()[-1] for l in open('/proc/self/maps') "
        "if 'libchain' in l), sep='\\n')",
    )
    assert all(str(venv) in line and "pychain.libs" in line for line in loaded.splitlines())
    shown = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(wheel)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f'consistent with the following platform tag: "{tag.group(1)}"' in " ".join(
        shown.split()
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _RuntimeWheel:
    """A valid wheel whose extension loads one bundled runtime."""

    #: The glibc of its manylinux tag.
    glibc: tuple[int, int]
    #: The copy's wheel path.
    copy: str
    copied: BinaryInfo
    extension: BinaryInfo


def _runtime_wheel(wheel: Path, dist: str) -> _RuntimeWheel:
    tag = _TAG.search(wheel.name)
    assert tag is not None, wheel.name
    validate_wheel(wheel)
    members = _members(wheel)
    (copy,) = [n for n in members if n.startswith(f"{dist}.libs/")]
    extension = next(n for n in members if n.startswith(f"{dist}/_ext"))
    major, minor = tag.group(1).split("_")[1:3]
    return _RuntimeWheel(
        glibc=(int(major), int(minor)),
        copy=copy,
        copied=read_binary(io.BytesIO(members[copy])),
        extension=read_binary(io.BytesIO(members[extension])),
    )


def _loaded(venv: Path, module: str) -> list[str]:
    """The files mapped into a process of the venv's Python once ``module`` is imported."""
    code = f"import {module}; print(*{{l.split()[-1] for l in open('/proc/self/maps')}})"
    return _python(venv, code).split()


def test_a_runtime_newer_than_the_policy_is_bundled_mangled_and_imports(
    wheels: dict[str, Path], venv: Path
) -> None:
    """The extension needs GCC_7.0.0 of libgcc_s, which policies before manylinux_2_27
    lack: conda-forge's libgcc_s (glibc 2.3.2 is all it needs) goes in under a mangled
    name, and the wheel keeps the older tag its glibc use allows."""
    found = _runtime_wheel(wheels["pyruntime"], "pyruntime")
    assert found.glibc < (2, 27)
    assert re.fullmatch(r"pyruntime\.libs/libgcc_s-[0-9a-f]{8}\.so\.1", found.copy)
    name = Path(found.copy).name
    assert name in found.extension.needed and "libgcc_s.so.1" not in found.extension.needed
    assert (*found.extension.rpath, *found.extension.runpath) == ("$ORIGIN/../pyruntime.libs",)
    assert _python(venv, "import pyruntime; print(pyruntime.call(6, 7))") == "6"
    loaded = _loaded(venv, "pyruntime")
    assert any(p.startswith(str(venv)) and p.endswith(f"/pyruntime.libs/{name}") for p in loaded)


def _version_nodes(library: bytes) -> set[str]:
    """The symbol versions an ELF library defines (``GLIBCXX_3.4.30``...)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerDefSection

    elf = ELFFile(io.BytesIO(library))
    sections = [s for s in elf.iter_sections() if isinstance(s, GNUVerDefSection)]
    return {str(aux.name) for s in sections for _, auxes in s.iter_versions() for aux in auxes}


def test_a_libstdcxx_newer_than_the_policy_and_the_machine_is_bundled_mangled_and_imports(
    wheels: dict[str, Path], venv: Path
) -> None:
    """The extension calls a libstdc++ function of version GLIBCXX_3.4.33 (gcc 14's),
    which no policy before manylinux_2_39 allows and this machine's libstdc++ lacks: the
    channel's libstdcxx goes in under a mangled name, and the wheel keeps the old tag its
    glibc use allows, older than the one the machine's runtime would force. That runtime
    is a stand-in built by the test recipe, with the real one's file names, SONAME and
    version node, and no glibc newer than 2.2.5 (conda-forge's libstdcxx, built against
    glibc 2.17, cannot be had offline)."""
    machine = machine_library("libstdc++.so.6")
    assert "GLIBCXX_3.4.33" not in _version_nodes(machine.read_bytes())
    with machine.open("rb") as stream:
        machine_floor = read_binary(stream).glibc_floor
    found = _runtime_wheel(wheels["pycxx"], "pycxx")
    assert machine_floor is not None and found.glibc < machine_floor
    (policy,) = [p for p in policies("x86_64") if p.glibc == found.glibc]
    assert policy.too_new(["GLIBCXX_3.4.33"]) == ["GLIBCXX_3.4.33"]
    assert re.fullmatch(r"pycxx\.libs/libstdc\+\+-[0-9a-f]{8}\.so\.6", found.copy)
    name = Path(found.copy).name
    assert found.copied.soname == name
    assert found.copied.glibc_floor is not None and found.copied.glibc_floor <= found.glibc
    assert name in found.extension.needed and "libstdc++.so.6" not in found.extension.needed
    assert [v for lib, v in found.extension.version_needs if lib == name] == ["GLIBCXX_3.4.33"]
    assert (*found.extension.rpath, *found.extension.runpath) == ("$ORIGIN/../pycxx.libs",)
    members = _members(wheels["pycxx"])
    metadata = next(v for k, v in members.items() if k.endswith(".dist-info/METADATA"))
    # The conda package depends on libstdcxx (run-exported): the copy stands for it now.
    assert b"Requires-External" not in metadata
    assert b"License-File: libstdcxx/LICENSE" in metadata
    # labs(-6) * 10 + 7, in the bundled runtime: the machine's has no such function.
    assert _python(venv, "import pycxx; print(pycxx.call(-6, 7))") == "67"
    loaded = _loaded(venv, "pycxx")
    assert any(p.startswith(str(venv)) and p.endswith(f"/pycxx.libs/{name}") for p in loaded)


def test_the_same_conversion_gives_the_same_bytes(
    channel: Path, wheels: dict[str, Path], tmp_path: Path
) -> None:
    options = ConvertOptions(with_sources=(channel, LIBGCC), standalone=True)
    again = convert(find_package(channel, "pychain"), tmp_path, options).wheel
    assert again.read_bytes() == wheels["pychain"].read_bytes()


def test_repair_standalone_bundles_from_the_channel(channel: Path, tmp_path: Path) -> None:
    """A conda wheel of the extension (built against the channel) repaired --standalone."""
    package = find_package(channel, "pychain")
    known = ConvertOptions(with_sources=(channel,))
    conda_wheel = convert(package, tmp_path / "conda", known).wheel
    result = repair(
        conda_wheel, tmp_path / "out", RepairOptions(with_sources=(channel,), standalone=True)
    )
    assert result.standalone is not None
    assert result.tag.startswith("manylinux_") and result.wheel.name.endswith(f"{result.tag}.whl")
    assert result.standalone.packages == ("libchain", "libchaindep")
    validate_wheel(result.wheel)
    inspected = inspect_wheel(conda_wheel, RepairOptions(with_sources=(channel,), standalone=True))
    assert inspected.tag == result.tag and inspected.wheel.name == result.wheel.name
    names = _members(result.wheel)
    assert sum(n.startswith("pychain.libs/libchain") for n in names) == 2
    before = next(v for k, v in _members(conda_wheel).items() if k.endswith("METADATA"))
    assert b"Requires-External: libchain (" in before  # the conda wheel declares it
    after = next(v for k, v in names.items() if k.endswith("METADATA"))
    assert b"Requires-External" not in after
    assert b"License-File: libchaindep/LICENSE" in after
    assert any(n.endswith("licenses/libchaindep/LICENSE") for n in names)


def test_inspect_standalone_shows_the_closure_in_json(channel: Path, tmp_path: Path) -> None:
    package = find_package(channel, "pychain")
    flags = ("--standalone", "--with", channel, "--max-size", "1K", "--json")
    result = run_cli(tmp_path, "inspect", package, *flags)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    standalone = data["standalone"]
    assert standalone["tag"] == data["tags"]["platform"]
    assert [(b["library"], b["provider"], b["licence"]) for b in standalone["bundled"]] == [
        ("libchain.so.1", "libchain", "LGPL-2.1-or-later"),
        ("libchaindep.so.1", "libchaindep", "MIT"),
    ]
    assert all(b["size"] > 0 for b in standalone["bundled"])
    assert any("more than --max-size 1024" in w for w in data["warnings"])
    assert any("licensed LGPL-2.1-or-later" in w for w in data["warnings"])
    text = run_cli(tmp_path, "inspect", package, "--standalone", "--with", channel)
    assert re.search(r"libchaindep\.so\.1\s+libchaindep 1\.0\.0\s+\d+\s+MIT", text.stdout)


def test_convert_spec_standalone(channel: Path, tmp_path: Path) -> None:
    result = run_cli(
        tmp_path, "convert", "--spec", "pychain", "-c", channel, "--standalone", "-w", "dist"
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert _TAG.search(wheel.name), wheel.name


def test_a_library_no_source_provides_is_one_line_and_no_wheel(
    channel: Path, tmp_path: Path
) -> None:
    package = find_package(channel, "pychain")
    result = run_cli(tmp_path, "convert", package, "--standalone", "-w", "dist")
    assert result.returncode == 2
    assert one_line(result.stderr).endswith(
        "needs libchain.so.1, which no package given with --with provides and the linux "
        "target does not guarantee; pass --with the environment or channel that has it"
    )
    out = tmp_path / "dist"
    assert not out.exists() or not any(out.iterdir())


def _windows_package(root: Path) -> tuple[Path, Path]:
    """(a win-64 extension package that imports dep.dll, a channel holding dep.dll)."""
    dep_source = "__declspec(dllexport) int dep(void) { return 4; }"
    dep = compile_pe(root / "build" / "dep.dll", dep_source)
    ext = compile_pe(
        root / "build" / "_ext.pyd",
        "__declspec(dllimport) int dep(void);\n"
        "__declspec(dllexport) int PyInit__ext(void) { return dep(); }\n",
        [str(root / "build" / "dep.lib")],
    )
    channel = root / "channel" / "win-64"
    (
        CondaPackageBuilder(name="dep", version="1.0", build="h0_0", subdir="win-64", license="MIT")
        .add_file("Library/bin/dep.dll", dep.read_bytes())
        .build(channel)
    )
    package = (
        CondaPackageBuilder(
            name="winpkg", version="1.0", build="py312h0_0", subdir="win-64", depends=["dep >=1.0"]
        )
        .add_file("Lib/site-packages/winpkg/__init__.py", '"""Doc."""\nfrom ._ext import *\n')
        .add_file("Lib/site-packages/winpkg/_ext.cp312-win_amd64.pyd", ext.read_bytes())
        .build(root / "pkgs")
    )
    return package, channel


def test_a_windows_package_gets_its_dlls_and_the_loader_patch(tmp_path: Path) -> None:
    package, channel = _windows_package(tmp_path)
    options = ConvertOptions(with_sources=(channel,), standalone=True)
    result = convert(package, tmp_path / "dist", options)
    assert result.wheel.name.endswith("-cp312-cp312-win_amd64.whl")
    members = _members(result.wheel)
    (copy,) = [n for n in members if n.startswith("winpkg.libs/")]
    assert re.fullmatch(r"winpkg\.libs/dep-[0-9a-f]{32}\.dll", copy)
    init = members["winpkg/__init__.py"].decode()
    assert init.startswith('"""Doc."""\n') and "winpkg.libs" in init
    assert init.rstrip().endswith("from ._ext import *")
    metadata = next(v for k, v in members.items() if k.endswith("METADATA")).decode()
    assert "Requires-External: dep" not in metadata
    # The same conversion, the same bytes.
    again = convert(package, tmp_path / "again", options)
    assert again.wheel.read_bytes() == result.wheel.read_bytes()
