"""recipes-sample/deepthought through real frontends: ``pip wheel`` and ``python -m build``
call condawheel.backend, which builds the conda recipe and hands back the conda-tagged
wheel; the sdist that build makes first carries the recipe and builds the same wheel.

Build isolation would install condawheel from an index, which does not serve it here, so
both run without isolation in this interpreter, where condawheel is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from channel import RECIPES_SAMPLE, build_recipes, offline
from compilers import requires_gcc
from validator import validate_wheel

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="linux builds"),
    requires_gcc,
]

PROJECT = RECIPES_SAMPLE / "deepthought"


def _frontend(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_NO_INDEX": "1"},
        timeout=300,
        check=False,
    )


def test_pip_wheel_builds_the_recipe_through_the_backend(tmp_path: Path) -> None:
    with offline(tmp_path / "cache"):
        channel = build_recipes(tmp_path / "channel", ["libanswer"])
        result = _frontend(
            "pip", "wheel", PROJECT, "--no-build-isolation", "--no-deps", "-w", tmp_path / "dist",
            "-C", f"channel={channel.as_uri()}",
            cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    report = validate_wheel(wheel)
    assert report.name == "deepthought"
    assert any(t.platform.startswith("conda_linux_") for t in report.tags)
    assert report.metadata.requires_external == ["libanswer (>=1.0,<2.0a0)"]


def test_build_makes_an_sdist_with_the_recipe_and_a_wheel_from_it(tmp_path: Path) -> None:
    with offline(tmp_path / "cache"):
        channel = build_recipes(tmp_path / "channel", ["libanswer"])
        result = _frontend(
            "build", "--no-isolation", "-o", tmp_path / "dist",
            "-C", f"channel={channel.as_uri()}", PROJECT,
            cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert sdist.name == "deepthought-1.0.0.tar.gz"
    with tarfile.open(sdist) as tar:
        assert "deepthought-1.0.0/recipe/recipe.yaml" in tar.getnames()
    assert validate_wheel(wheel).metadata.requires_external == ["libanswer (>=1.0,<2.0a0)"]
    assert not list(PROJECT.glob("dist")), "the frontend wrote into the sample project"
