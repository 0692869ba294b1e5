"""`condawheel build` from the command line: recipes-sample built and converted offline,
the output channel reused by the next build, and every failure a one-line exit 2."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from channel import RECIPES_SAMPLE, failing_recipe, offline
from clirun import one_line, run_cli
from compilers import requires_gcc
from validator import validate_wheel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="linux builds")

PY = "{}.{}".format(*sys.version_info[:2])


@pytest.fixture(autouse=True)
def no_network(tmp_path: Path) -> Iterator[None]:
    with offline(tmp_path / "rattler-cache"):
        yield


def _tmpdir(tmp_path: Path) -> dict[str, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return {"TMPDIR": str(scratch)}


@requires_gcc
def test_build_then_build_against_the_output_channel(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli(tmp_path, "build", RECIPES_SAMPLE / "libanswer", "-w", out, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["tool"] == "rattler-build"
    assert report["channel"] == str(out.resolve() / "conda")
    (package,) = report["packages"]
    assert Path(package).parent.parent == out.resolve() / "conda"
    (wheel,) = report["wheels"]
    assert wheel["tags"][0].startswith("py3-none-conda_linux_")

    second = run_cli(
        tmp_path,
        "build",
        RECIPES_SAMPLE / "pyanswer",
        "-w",
        out,
        "-c",
        f"file://{out.resolve()}/conda",
        "--variant",
        f"python_exe={sys.executable}",
        "--variant",
        f"python_version={PY}",
        env=_tmpdir(tmp_path),
    )
    assert second.returncode == 0, second.stderr
    package_line, wheel_line = second.stdout.splitlines()
    assert Path(package_line).name.startswith("pyanswer-1.0.0-py")
    checked = validate_wheel(Path(wheel_line))
    assert checked.metadata.requires_external == ["libanswer (>=1.0,<2.0a0)"]
    assert list((tmp_path / "tmp").iterdir()) == []  # the scratch build folder is gone


def test_a_failed_build_prints_its_log_tail_and_exits_2(tmp_path: Path) -> None:
    recipe = failing_recipe(tmp_path / "broken")
    result = run_cli(tmp_path, "build", recipe, "-w", tmp_path / "out", env=_tmpdir(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert any("expected a semicolon" in line for line in lines if line.startswith("  | "))
    assert lines[-1].startswith(f"condawheel: error: {recipe}/recipe.yaml failed to build: ")
    assert not (tmp_path / "out").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_missing_recipe_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "build", tmp_path / "nowhere", "-w", tmp_path / "out")
    assert result.returncode == 2
    assert one_line(result.stderr).endswith("nowhere: no such recipe directory")


def test_meta_yaml_without_conda_build_exits_2_naming_it(tmp_path: Path) -> None:
    recipe = tmp_path / "legacy"
    recipe.mkdir()
    (recipe / "meta.yaml").write_text("package: {name: legacy, version: '1.0'}\n")
    bare = tmp_path / "bin"
    bare.mkdir()
    result = run_cli(tmp_path, "build", recipe, env={"PATH": str(bare)})
    assert result.returncode == 2
    assert "conda-build, which is not on PATH; install it" in one_line(result.stderr)


def test_without_a_recipe_or_configured_one_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "build")
    assert result.returncode == 2
    assert "no recipe given" in one_line(result.stderr)


def test_a_malformed_variant_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "build", RECIPES_SAMPLE / "libanswer", "--variant", "python")
    assert result.returncode == 2
    assert "KEY=VALUE" in one_line(result.stderr)


@requires_gcc
def test_the_recipe_and_output_dir_may_come_from_pyproject(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(RECIPES_SAMPLE / "libanswer", project / "conda-recipe")
    (project / "pyproject.toml").write_text(
        '[tool.condawheel]\nrecipe = "conda-recipe"\noutput-dir = "wheels"\n'
    )
    result = run_cli(project, "build")
    assert result.returncode == 0, result.stderr
    (wheel,) = (project / "wheels").glob("*.whl")
    assert wheel.name.startswith("libanswer-1.0.0-")
    assert list((project / "wheels" / "conda").glob("*/libanswer-1.0.0-*.conda"))
