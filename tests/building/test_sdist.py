"""The sdist of a recipe-built project: PKG-INFO from [project], the recipe included,
outputs and VCS data left out, the same bytes for the same tree."""

from __future__ import annotations

import tarfile
import tomllib
from pathlib import Path

import pytest
from packaging.metadata import Metadata

from condawheel.building.sdist import write_sdist
from condawheel.exceptions import ConfigurationError

PYPROJECT = """\
[build-system]
requires = ["condawheel"]
build-backend = "condawheel.backend"

[project]
name = "Deep.Thought"
version = "1.0.0"
description = "Asks the question"
license = "BSD-3-Clause"
requires-python = ">=3.9"
dependencies = ["numpy>=2"]

[tool.condawheel]
recipe = "recipe"
"""


def _project(root: Path, pyproject: str = PYPROJECT) -> tuple[Path, dict[str, object]]:
    files = {
        "pyproject.toml": pyproject,
        "recipe/recipe.yaml": "package: {name: deepthought, version: 1.0.0}\n",
        "src/deepthought/__init__.py": "",
        "src/deepthought/_core.c": "int x;\n",
        "build.sh": "#!/bin/sh\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        "dist/old-1.0.tar.gz": "old",
        "output/linux-64/deepthought-1.0.0-0.conda": "pkg",
        "src/deepthought/__pycache__/x.cpython-311.pyc": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "build.sh").chmod(0o755)
    return root, tomllib.loads(pyproject)


def _members(sdist: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(sdist) as tar:
        return {info.name: info for info in tar.getmembers()}


def test_the_sdist_holds_the_project_and_its_recipe(tmp_path: Path) -> None:
    project, data = _project(tmp_path / "project")
    sdist = write_sdist(project, data, tmp_path / "out")
    assert sdist.name == "deep_thought-1.0.0.tar.gz"  # PEP 625
    members = _members(sdist)
    assert sorted(members) == [
        "deep_thought-1.0.0/PKG-INFO",
        "deep_thought-1.0.0/build.sh",
        "deep_thought-1.0.0/pyproject.toml",
        "deep_thought-1.0.0/recipe/recipe.yaml",
        "deep_thought-1.0.0/src/deepthought/__init__.py",
        "deep_thought-1.0.0/src/deepthought/_core.c",
    ]
    assert members["deep_thought-1.0.0/build.sh"].mode == 0o755
    assert members["deep_thought-1.0.0/pyproject.toml"].mode == 0o644
    assert {(m.uid, m.gid, m.uname) for m in members.values()} == {(0, 0, "")}


def test_pkg_info_is_valid_core_metadata_from_the_project_table(tmp_path: Path) -> None:
    project, data = _project(tmp_path / "project")
    sdist = write_sdist(project, data, tmp_path / "out")
    with tarfile.open(sdist) as tar:
        extracted = tar.extractfile("deep_thought-1.0.0/PKG-INFO")
        assert extracted is not None
        metadata = Metadata.from_email(extracted.read(), validate=True)
    assert (metadata.name, str(metadata.version)) == ("Deep.Thought", "1.0.0")
    assert metadata.metadata_version == "2.4"
    assert metadata.license_expression == "BSD-3-Clause"
    assert [str(r) for r in metadata.requires_dist or []] == ["numpy>=2"]


def test_the_same_tree_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project, data = _project(tmp_path / "project")
    first = write_sdist(project, data, tmp_path / "a").read_bytes()
    (project / "pyproject.toml").touch()
    second = write_sdist(project, data, tmp_path / "b").read_bytes()
    assert first == second
    with tarfile.open(tmp_path / "a" / "deep_thought-1.0.0.tar.gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1700000000}


def test_a_project_without_a_static_version_is_refused(tmp_path: Path) -> None:
    text = PYPROJECT.replace('version = "1.0.0"', 'dynamic = ["version"]')
    project, data = _project(tmp_path / "project", text)
    with pytest.raises(ConfigurationError, match="static version"):
        write_sdist(project, data, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_an_invalid_project_table_is_a_configuration_error(tmp_path: Path) -> None:
    text = PYPROJECT.replace('requires-python = ">=3.9"', "requires-python = 3")
    project, data = _project(tmp_path / "project", text)
    with pytest.raises(ConfigurationError, match="requires-python"):
        write_sdist(project, data, tmp_path / "out")
