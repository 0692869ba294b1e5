"""Recipes found and named, variant flags read, packages published to a local channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from condawheel.building.recipes import (
    Recipe,
    index_channel,
    parse_variants,
    publish_to_channel,
)
from condawheel.exceptions import BadInputError, ConfigurationError


def test_a_directory_with_recipe_yaml_is_built_by_rattler_build(tmp_path: Path) -> None:
    (tmp_path / "recipe.yaml").write_text("package: {name: a, version: '1'}\n")
    recipe = Recipe.find(tmp_path)
    assert (recipe.path, recipe.tool, recipe.directory) == (
        tmp_path / "recipe.yaml",
        "rattler-build",
        tmp_path,
    )


def test_a_directory_with_meta_yaml_is_built_by_conda_build(tmp_path: Path) -> None:
    (tmp_path / "meta.yaml").write_text("package: {name: a, version: '1'}\n")
    assert Recipe.find(tmp_path).tool == "conda-build"


def test_rattler_build_is_preferred_when_both_recipes_exist(tmp_path: Path) -> None:
    for name in ("meta.yaml", "recipe.yaml"):
        (tmp_path / name).write_text("{}\n")
    assert Recipe.find(tmp_path).path.name == "recipe.yaml"


def test_a_recipe_file_may_be_named_directly(tmp_path: Path) -> None:
    (tmp_path / "meta.yaml").write_text("{}\n")
    assert Recipe.find(tmp_path / "meta.yaml").tool == "conda-build"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nowhere", "no such recipe directory"),
        ("empty", r"no recipe\.yaml \(rattler-build\) or meta\.yaml \(conda-build\) in it"),
        ("build.sh", "not a recipe; name recipe.yaml or meta.yaml"),
    ],
)
def test_a_missing_recipe_is_bad_input(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "build.sh").write_text("make\n")
    with pytest.raises(BadInputError, match=message):
        Recipe.find(tmp_path / name)


def test_variants_are_key_value_pairs_and_a_repeated_key_lists_its_values() -> None:
    assert parse_variants(["python=3.11", "python=3.12", "numpy = 2"]) == {
        "python": ("3.11", "3.12"),
        "numpy": ("2",),
    }


@pytest.mark.parametrize("item", ["python", "=3.12"])
def test_a_variant_without_key_and_value_is_a_configuration_error(item: str) -> None:
    with pytest.raises(ConfigurationError, match="KEY=VALUE"):
        parse_variants([item])


def test_publishing_copies_packages_by_subdir_and_indexes_the_channel(tmp_path: Path) -> None:
    built = tmp_path / "scratch"
    lib = CondaPackageBuilder(name="libfoo", version="1.0", build="h1_0").build(built / "linux-64")
    app = CondaPackageBuilder(name="app", version="2.0", noarch="python").build(
        built / "noarch", "tar.bz2"
    )
    channel = tmp_path / "out" / "conda"

    published = publish_to_channel([lib, app], channel)

    assert published == (channel / "linux-64" / lib.name, channel / "noarch" / app.name)
    assert all(p.read_bytes() == s.read_bytes() for p, s in zip(published, [lib, app], strict=True))
    linux = json.loads((channel / "linux-64" / "repodata.json").read_text())
    noarch = json.loads((channel / "noarch" / "repodata.json").read_text())
    assert set(linux["packages.conda"]) == {lib.name}
    assert set(noarch["packages"]) == {app.name}
    leftovers = [p.name for p in channel.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_publishing_again_replaces_the_package(tmp_path: Path) -> None:
    channel = tmp_path / "conda"
    first = CondaPackageBuilder(name="libfoo", version="1.0", license="MIT").build(
        tmp_path / "a" / "linux-64"
    )
    second = CondaPackageBuilder(name="libfoo", version="1.0", license="BSD").build(
        tmp_path / "b" / "linux-64"
    )
    publish_to_channel([first], channel)
    (published,) = publish_to_channel([second], channel)
    assert published.read_bytes() == second.read_bytes()
    repodata = json.loads((channel / "linux-64" / "repodata.json").read_text())
    assert repodata["packages.conda"][second.name]["license"] == "BSD"


def test_an_empty_channel_is_indexed_with_its_noarch_subdir(tmp_path: Path) -> None:
    index_channel(tmp_path)
    assert json.loads((tmp_path / "noarch" / "repodata.json").read_text())["packages"] == {}
