"""`condawheel cibuildwheel-config`: TOML that cibuildwheel itself accepts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from clirun import one_line, run_cli
from condawheel.building.cibuildwheel import PYTHONS, REPAIR_COMMAND, cibuildwheel_config
from condawheel.exceptions import ConfigurationError
from paths import REPO

PROJECT = '[project]\nname = "demo"\nversion = "1.0"\n\n'


def _cibuildwheel() -> str:
    found = shutil.which("cibuildwheel", path=str(Path(sys.executable).parent))
    assert found, "cibuildwheel is missing: pip install -e '.[test]' (or pip install cibuildwheel)"
    return found


def _identifiers(tmp_path: Path, block: str) -> list[str]:
    (tmp_path / "pyproject.toml").write_text(PROJECT + block)
    done = subprocess.run(
        [_cibuildwheel(), "--print-build-identifiers", "--platform", "linux"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize(("subdir", "arch"), [("linux-64", "x86_64"), ("linux-aarch64", "aarch64")])
def test_block_parses_and_names_the_image(subdir: str, arch: str) -> None:
    linux = tomllib.loads(cibuildwheel_config(subdir))["tool"]["cibuildwheel"]["linux"]
    assert linux[f"manylinux-{arch}-image"] == f"<registry>/condawheel-{subdir}:latest"
    assert linux["repair-wheel-command"] == REPAIR_COMMAND
    assert linux["repair-wheel-command"] == "condawheel repair -w {dest_dir} {wheel}"
    assert linux["test-skip"] == "*"
    assert linux["archs"] == [arch]
    assert all(pattern.startswith("cp3") for pattern in linux["build"].split())


def test_image_option_and_test_skip_reason() -> None:
    text = cibuildwheel_config("linux-64", image='ghcr.io/me/cw:1 "x"')
    linux = tomllib.loads(text)["tool"]["cibuildwheel"]["linux"]
    assert linux["manylinux-x86_64-image"] == 'ghcr.io/me/cw:1 "x"'
    assert "pip" in text and "cannot install" in text


@pytest.mark.parametrize("subdir", ["osx-arm64", "win-64", "linux-ppc64le", "noarch"])
def test_other_subdirs_fail_in_one_line(tmp_path: Path, subdir: str) -> None:
    with pytest.raises(ConfigurationError):
        cibuildwheel_config(subdir)
    done = run_cli(tmp_path, "cibuildwheel-config", "--subdir", subdir)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "macOS" in line and "Windows" in line and "linux-64, linux-aarch64" in line
    assert done.stdout == ""


def test_cli_prints_the_block(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "cibuildwheel-config", "--subdir", "linux-64", "--image", "r/i:1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == cibuildwheel_config("linux-64", image="r/i:1")


def test_cibuildwheel_selects_the_image_pythons(tmp_path: Path) -> None:
    identifiers = _identifiers(tmp_path, cibuildwheel_config("linux-64"))
    assert identifiers == [f"cp3{v.split('.')[1]}-manylinux_x86_64" for v in PYTHONS]
    assert not [i for i in identifiers if i.startswith("pp") or "musllinux" in i]


def test_cibuildwheel_aarch64(tmp_path: Path) -> None:
    identifiers = _identifiers(tmp_path, cibuildwheel_config("linux-aarch64"))
    assert identifiers == [f"cp3{v.split('.')[1]}-manylinux_aarch64" for v in PYTHONS]


def test_abi3_builds_one_python(tmp_path: Path) -> None:
    assert _identifiers(tmp_path, cibuildwheel_config("linux-64", abi3="3.11")) == [
        "cp311-manylinux_x86_64"
    ]
    done = run_cli(tmp_path, "cibuildwheel-config", "--subdir", "linux-64", "--abi3", "2.7")
    assert done.returncode == 2
    assert "3.10" in one_line(done.stderr)


def test_cibuildwheel_accepts_the_backend_sample_project() -> None:
    """recipes-sample/deepthought builds through condawheel.backend under cibuildwheel:
    its [tool.cibuildwheel] table selects one build per CPython in the image."""
    project = REPO / "recipes-sample" / "deepthought"
    done = subprocess.run(
        [_cibuildwheel(), "--print-build-identifiers", "--platform", "linux"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    identifiers = done.stdout.split()
    assert {i.split("-")[0] for i in identifiers} == {f"cp3{minor}" for minor in range(10, 15)}
    assert all("manylinux" in i for i in identifiers)
