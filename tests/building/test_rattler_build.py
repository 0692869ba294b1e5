"""rattler-build through py-rattler-build: scratch output, host environments, variants."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from channel import RECIPES_SAMPLE, build_recipes, offline
from compilers import requires_gcc
from condawheel.building.rattler_build import build_with_rattler
from condawheel.building.recipes import BuildFailedError, BuildOptions, Recipe, index_channel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="linux builds")

_SCRIPT_RECIPE = """\
package: {name: variant-echo, version: "1.0"}
build:
  script:
    env:
      FLAVOUR: ${{ flavour }}
    content:
      - mkdir -p "$PREFIX/share"
      - echo "$FLAVOUR" > "$PREFIX/share/flavour.txt"
"""


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Path]:
    with offline(tmp_path / "rattler-cache"):
        yield tmp_path / "rattler-cache"


def _recipe(tmp_path: Path, text: str = _SCRIPT_RECIPE) -> Recipe:
    folder = tmp_path / "recipe"
    folder.mkdir(exist_ok=True)
    (folder / "recipe.yaml").write_text(text)
    return Recipe.find(folder)


def test_packages_are_built_in_a_scratch_directory_removed_afterwards(
    cache: Path, tmp_path: Path
) -> None:
    lines: list[str] = []
    recipe = _recipe(tmp_path)
    options = BuildOptions(variants={"flavour": ("plain",)})
    with build_with_rattler(recipe, tmp_path / "conda", options, on_log=lines.append) as built:
        (package,) = built.packages
        assert package.is_file()
        assert package.name.startswith("variant-echo-1.0-")
        scratch = package.parents[1]
        assert not scratch.is_relative_to(tmp_path)
    assert not scratch.exists()
    assert not (tmp_path / "conda").exists()  # nothing is published by the runner
    assert any("flavour.txt" in line or "Packaging" in line for line in lines), lines


def test_variants_yaml_beside_the_recipe_is_read_and_flags_override_it(
    cache: Path, tmp_path: Path
) -> None:
    recipe = _recipe(tmp_path)
    (recipe.directory / "variants.yaml").write_text("flavour: [from-file]\n")
    with build_with_rattler(recipe, tmp_path / "c", BuildOptions(), on_log=print) as built:
        assert _flavour(built.packages[0]) == "from-file"
    override = BuildOptions(variants={"flavour": ("from-flag",)})
    with build_with_rattler(recipe, tmp_path / "c", override, on_log=print) as built:
        assert _flavour(built.packages[0]) == "from-flag"


def _flavour(package: Path) -> str:
    from conda_package_streaming.package_streaming import stream_conda_component

    for tar, member in stream_conda_component(str(package), component="pkg"):
        if member.name == "share/flavour.txt":
            extracted = tar.extractfile(member)
            assert extracted is not None
            data: bytes = extracted.read()
            return data.decode().strip()
    raise AssertionError(f"{package.name} has no share/flavour.txt")


def test_a_missing_variant_key_names_the_variable_and_the_fix(cache: Path, tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    with (
        pytest.raises(BuildFailedError) as caught,
        build_with_rattler(recipe, tmp_path / "c", BuildOptions(), on_log=print),
    ):
        pass
    line = str(caught.value)
    assert line == (
        f"{recipe.path} failed to build: line 5: ${{{{ flavour }}}} uses flavour, which is "
        "not defined; set it with --variant flavour=VALUE or in variants.yaml beside the recipe"
    )
    assert "JinjaError" not in line and "Span" not in line


_NEEDS_ZLIB = """\
package: {name: needs-zlib, version: "1.0"}
build:
  script: echo built
requirements:
  host:
    - zlib
"""


def test_an_unreachable_channel_is_named(cache: Path, tmp_path: Path) -> None:
    """Offline, the default channel cannot be read: the line says which, and how to build
    offline, where rattler-build says only "Failed to resolve dependencies"."""
    recipe = _recipe(tmp_path, _NEEDS_ZLIB)
    with (
        pytest.raises(BuildFailedError) as caught,
        build_with_rattler(recipe, tmp_path / "c", BuildOptions(), on_log=lambda _: None),
    ):
        pass
    line = str(caught.value)
    assert line.startswith(f"{recipe.path} failed to build: cannot reach channel conda-forge ("), (
        line
    )
    assert line.endswith("build offline from local channels with -c file:///path/to/channel")
    assert "PyRattlerBuildError" not in line and "\n" not in line


def test_a_requirement_no_channel_has_is_named(cache: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    index_channel(empty)
    recipe = _recipe(tmp_path, _NEEDS_ZLIB)
    options = BuildOptions(channels=(empty.as_uri(),))
    with (
        pytest.raises(BuildFailedError) as caught,
        build_with_rattler(recipe, tmp_path / "c", options, on_log=lambda _: None),
    ):
        pass
    assert str(caught.value) == (
        f"{recipe.path} failed to build: no packages satisfy zlib in {empty.as_uri()}; "
        "check the recipe's requirements, or add the channel that has them with -c"
    )


def test_the_target_platform_names_the_subdir(cache: Path, tmp_path: Path) -> None:
    options = BuildOptions(variants={"flavour": ("x",)}, target_platform="linux-aarch64")
    with build_with_rattler(_recipe(tmp_path), tmp_path / "c", options, on_log=print) as built:
        assert built.packages[0].parent.name == "linux-aarch64"


@requires_gcc
def test_host_environments_carry_the_records_of_what_the_package_links(
    cache: Path, tmp_path: Path
) -> None:
    channel = build_recipes(tmp_path / "channel", ["libanswer"])
    options = BuildOptions(
        channels=(channel.as_uri(),),
        variants={"python_exe": (sys.executable,), "python_version": ("3.11",)},
    )
    recipe = Recipe.find(RECIPES_SAMPLE / "pyanswer")
    with build_with_rattler(recipe, tmp_path / "out", options, on_log=print) as built:
        (host,) = built.host_prefixes
        records = [p.name for p in (host / "conda-meta").glob("*.json")]
        assert [r for r in records if r.startswith("libanswer-1.0.0-")], records
