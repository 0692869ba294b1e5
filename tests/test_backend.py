"""condawheel.backend's hooks, called as a frontend calls them, from the project folder."""

from __future__ import annotations

import shutil
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from channel import RECIPES_SAMPLE, build_recipes, offline
from compilers import requires_gcc
from condawheel import backend
from validator import validate_wheel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="linux builds")

PROJECT = RECIPES_SAMPLE / "deepthought"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "deepthought"
    shutil.copytree(PROJECT, copy)
    monkeypatch.chdir(copy)
    with offline(tmp_path / "rattler-cache"):
        yield copy


def test_no_build_requirements_beyond_condawheel() -> None:
    assert backend.get_requires_for_build_wheel() == []
    assert backend.get_requires_for_build_sdist() == []


@requires_gcc
def test_build_wheel_returns_the_projects_conda_tagged_wheel(project: Path, tmp_path: Path) -> None:
    channel = build_recipes(tmp_path / "channel", ["libanswer"])
    out = tmp_path / "wheels"
    out.mkdir()
    name = backend.build_wheel(str(out), {"channel": channel.as_uri()})
    assert [p.name for p in out.iterdir()] == [name]
    report = validate_wheel(out / name)
    assert report.name == "deepthought"
    cp = f"cp{sys.version_info.major}{sys.version_info.minor}"
    (tag,) = report.tags
    assert (tag.interpreter, tag.abi) == (cp, cp)
    assert tag.platform.startswith("conda_linux_")
    assert report.metadata.requires_external == ["libanswer (>=1.0,<2.0a0)"]


def test_build_sdist_includes_the_recipe(project: Path, tmp_path: Path) -> None:
    name = backend.build_sdist(str(tmp_path))
    assert name == "deepthought-1.0.0.tar.gz"
    with tarfile.open(tmp_path / name) as tar:
        names = set(tar.getnames())
    assert {"deepthought-1.0.0/recipe/recipe.yaml", "deepthought-1.0.0/PKG-INFO"} <= names


def test_a_build_that_fails_exits_with_one_line_and_the_log_tail(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-channel"
    build_recipes(empty, [])  # indexed, and without libanswer
    with pytest.raises(SystemExit) as exited:
        backend.build_wheel(str(tmp_path), {"channel": [empty.as_uri()]})
    assert exited.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("condawheel: error: ")
    assert "failed to build" in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_a_project_without_a_recipe_setting_exits_2(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "pyproject.toml").read_text().replace('recipe = "recipe"', "")
    (project / "pyproject.toml").write_text(text)
    with pytest.raises(SystemExit) as exited:
        backend.build_wheel(str(tmp_path))
    assert exited.value.code == 2
    assert "set recipe in [tool.condawheel]" in capsys.readouterr().err


@requires_gcc
def test_a_project_named_unlike_the_recipes_package_exits_2(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace('"deepthought"', '"other-name"'))
    channel = build_recipes(tmp_path / "channel", ["libanswer"])
    with pytest.raises(SystemExit):
        backend.build_wheel(str(tmp_path), {"channel": channel.as_uri()})
    message = capsys.readouterr().err.splitlines()[-1]
    assert "no single wheel named other-name (built: deepthought-1.0.0-" in message
