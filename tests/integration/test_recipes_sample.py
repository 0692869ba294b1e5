"""The recipes in ``recipes-sample/``: built offline with py-rattler-build against a local
file channel, converted, validated, and the extension's wheel installed into an environment
that py-rattler made from that channel, where it imports and calls the conda library."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rattler import Subdir

from channel import RECIPES, create_environment, find_package, sample_channel
from compilers import requires_gcc
from condawheel.conversion.core import ConvertResult, convert
from condawheel.conversion.plan import ConvertOptions
from validator import WheelReport, install_into_prefix, validate_wheel

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="the sample recipes build ELF with gcc"),
    requires_gcc,
]

CP = f"cp{sys.version_info.major}{sys.version_info.minor}"
ARCH = platform.machine()
PIN = ">=1.0,<2.0a0"  # libanswer's run_exports


@pytest.fixture(scope="session")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_channel(tmp_path_factory)


@pytest.fixture(scope="session")
def converted(
    channel: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[ConvertResult, WheelReport]]:
    dist = tmp_path_factory.mktemp("dist")
    options = ConvertOptions(with_sources=(channel,))
    results = {}
    for name in RECIPES:
        result = convert(find_package(channel, name), dist, options)
        results[name] = (result, validate_wheel(result.wheel))
    return results


def _members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _index_json(package: Path) -> dict[str, object]:
    from conda_package_streaming.package_streaming import stream_conda_info

    for tar, member in stream_conda_info(str(package)):
        if member.name == "info/index.json":
            extracted = tar.extractfile(member)
            assert extracted is not None
            index = json.loads(extracted.read())
            assert isinstance(index, dict)
            return index
    raise AssertionError(f"{package} has no info/index.json")


def test_every_recipe_builds_into_the_indexed_channel(channel: Path) -> None:
    repodata = {
        subdir: json.loads((channel / subdir / "repodata.json").read_text())
        for subdir in ("noarch", str(Subdir.current()))
    }
    indexed = {
        record["name"]: (subdir, filename)
        for subdir, data in repodata.items()
        for filename, record in data["packages.conda"].items()
    }
    assert set(indexed) == set(RECIPES)
    assert indexed["hello-noarch"][0] == "noarch"
    assert indexed["libanswer"][0] == indexed["pyanswer"][0] != "noarch"
    pyanswer = _index_json(find_package(channel, "pyanswer"))
    # rattler-build applied libanswer's run_exports to the package built against it.
    assert pyanswer["depends"] == [f"libanswer {PIN}"]
    assert str(pyanswer["build"]).startswith(f"py{CP[2:]}h"), pyanswer["build"]


def test_conversions_are_clean(converted: dict[str, tuple[ConvertResult, WheelReport]]) -> None:
    for name, (result, _report) in converted.items():
        assert result.warnings == (), (name, result.warnings)


def test_libanswer_wheel(converted: dict[str, tuple[ConvertResult, WheelReport]]) -> None:
    result, report = converted["libanswer"]
    (tag,) = report.tags
    assert (tag.interpreter, tag.abi) == ("py3", "none")
    floor = re.fullmatch(rf"conda_linux_(\d+)_(\d+)_{ARCH}", tag.platform)
    assert floor, tag.platform
    assert (int(floor[1]), int(floor[2])) >= (2, 17)

    data = "libanswer-1.0.0.data/data"
    members = _members(result.wheel)
    # The SONAME chain, as regular files (the validator refuses symlinks).
    real = members[f"{data}/lib/libanswer.so.1.0.0"]
    assert real.startswith(b"\x7fELF")
    assert members[f"{data}/lib/libanswer.so.1"] == real
    assert members[f"{data}/lib/libanswer.so"] == real  # the linker's name, for -lanswer
    assert f"{data}/include/answer.h" in members
    assert "libanswer-1.0.0.dist-info/licenses/LICENSE" in members
    run_exports = json.loads(members["libanswer-1.0.0.dist-info/conda/run_exports.json"])
    assert run_exports == {"weak": [f"libanswer {PIN}"]}
    assert not report.metadata.requires_external
    assert report.metadata.license_expression == "BSD-3-Clause"


def test_pyanswer_wheel(converted: dict[str, tuple[ConvertResult, WheelReport]]) -> None:
    _result, report = converted["pyanswer"]
    (tag,) = report.tags
    assert (tag.interpreter, tag.abi) == (CP, CP)
    assert re.fullmatch(rf"conda_linux_\d+_\d+_{ARCH}", tag.platform), tag.platform
    assert report.metadata.requires_external == [f"libanswer ({PIN})"]
    assert not report.metadata.requires_dist
    assert not [name for name in report.files if "libanswer" in name], report.files
    (extension,) = (name for name in report.files if name.endswith(".so"))
    assert re.fullmatch(r"pyanswer/_answer\.cpython-3\d+-[^/]+\.so", extension), extension
    assert report.data_dir is None  # everything is in site-packages


def test_hello_noarch_wheel(
    converted: dict[str, tuple[ConvertResult, WheelReport]], tmp_path: Path
) -> None:
    result, report = converted["hello-noarch"]
    assert {str(tag) for tag in report.tags} == {"py3-none-any"}
    assert report.root_is_purelib
    assert str(report.metadata.requires_python) == ">=3.9"
    members = _members(result.wheel)
    entry_points = members[f"{report.dist_info}/entry_points.txt"].decode()
    assert re.search(
        r"^\[console_scripts\]\nhello-noarch = hello_noarch\.cli:main$", entry_points, re.M
    ), entry_points
    assert not [name for name in members if "/scripts/" in name]  # conda's wrappers dropped

    site = install_into_prefix(result.wheel, tmp_path / "prefix")
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [str(tmp_path / "prefix" / "bin" / "hello-noarch"), "conda"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "Hello, conda!\n", "")


def test_pyanswer_imports_in_an_environment_made_from_the_channel(
    channel: Path,
    converted: dict[str, tuple[ConvertResult, WheelReport]],
    tmp_path: Path,
) -> None:
    result, report = converted["pyanswer"]
    # The environment holds what the wheel declares it needs, solved from the channel.
    assert report.metadata.requires_external is not None
    specs = [
        re.sub(r"^(\S+) \((.*)\)$", r"\1 \2", line) for line in report.metadata.requires_external
    ]
    prefix = create_environment(tmp_path / "env", channel, specs)
    records = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    assert [r.rsplit("-", 2)[0] for r in records] == ["libanswer"], records
    assert (prefix / "lib" / "libanswer.so.1").exists()

    site = install_into_prefix(result.wheel, prefix)
    (extension,) = site.glob("pyanswer/_answer*.so")
    dynamic = subprocess.run(
        ["readelf", "-d", str(extension)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(
        r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[\$ORIGIN/\.\./\.\./\.\.\]", dynamic
    ), dynamic
    assert "Shared library: [libanswer.so.1]" in dynamic

    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    env["PYTHONPATH"] = str(site)
    probe = (
        "import json, pyanswer\n"
        "maps = open('/proc/self/maps').read().split()\n"
        "lib = sorted({p for p in maps if '/libanswer.so' in p})\n"
        "print(json.dumps([pyanswer.answer(), pyanswer.libanswer_version(), lib]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    answer, version, loaded = json.loads(run.stdout)
    assert (answer, version) == (42, "1.0.0")
    # The library came from the environment, where libanswer's conda package put it.
    assert loaded == [str((prefix / "lib" / "libanswer.so.1.0.0").resolve())], loaded
