"""`build()` end to end: the sample recipes built offline with rattler-build, published to
``OUTDIR/conda`` and converted, one build using what the one before it published."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rattler import Subdir

from channel import RECIPES_SAMPLE, failing_recipe, offline
from compilers import requires_gcc
from condawheel.building.core import BuildResult, build
from condawheel.building.recipes import BuildFailedError, BuildOptions, index_channel
from condawheel.conversion.plan import ConvertOptions
from condawheel.exceptions import BadInputError
from validator import validate_wheel

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="the sample recipes build ELF with gcc"),
    requires_gcc,
]

PIN = ">=1.0,<2.0a0"  # libanswer's run_exports
PYTHON = {
    "python_exe": (sys.executable,),
    "python_version": ("{}.{}".format(*sys.version_info[:2]),),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("rattler-cache")
    with offline(path):
        yield path


@pytest.fixture(scope="module")
def built(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuildResult]:
    out = tmp_path_factory.mktemp("out")
    own = BuildOptions(channels=((out / "conda").as_uri(),), variants=PYTHON)
    return {
        # libanswer needs nothing: the default channel (conda-forge) is never asked.
        "libanswer": build(RECIPES_SAMPLE / "libanswer", out),
        "pyanswer": build(RECIPES_SAMPLE / "pyanswer", out, own),
        "hello-noarch": build(RECIPES_SAMPLE / "hello-noarch", out, own),
    }


def test_packages_go_to_an_indexed_channel_under_outdir(built: dict[str, BuildResult]) -> None:
    channel = built["libanswer"].channel
    subdir = str(Subdir.current())
    assert channel.name == "conda"
    assert built["libanswer"].packages[0].parent == channel / subdir
    assert built["hello-noarch"].packages[0].parent == channel / "noarch"
    indexed = {
        record["name"]
        for sub in (subdir, "noarch")
        for record in json.loads((channel / sub / "repodata.json").read_text())[
            "packages.conda"
        ].values()
    }
    assert indexed == set(built)
    # Only packages and their index: rattler-build's work folders stay out of the channel.
    assert sorted(p.name for p in channel.iterdir()) == sorted(["noarch", subdir])


def test_every_package_becomes_a_valid_wheel_in_outdir(built: dict[str, BuildResult]) -> None:
    for name, result in built.items():
        (wheel,) = result.wheels
        assert wheel.parent == result.channel.parent
        report = validate_wheel(wheel)
        assert report.name == name
        assert result.conversions[0].warnings == (), result.conversions[0].warnings


def test_the_extension_declares_the_library_with_its_run_exports_pin(
    built: dict[str, BuildResult],
) -> None:
    report = validate_wheel(built["pyanswer"].wheels[0])
    assert report.metadata.requires_external == [f"libanswer ({PIN})"]
    assert any(t.platform.startswith("conda_linux_") for t in report.tags)
    libanswer = validate_wheel(built["libanswer"].wheels[0])
    assert any(t.platform.startswith("conda_linux_") for t in libanswer.tags)


def test_the_noarch_package_becomes_a_pure_wheel_with_its_script(
    built: dict[str, BuildResult],
) -> None:
    report = validate_wheel(built["hello-noarch"].wheels[0])
    assert {str(t) for t in report.tags} == {"py3-none-any"}


def test_building_again_replaces_the_package_and_the_wheel(
    built: dict[str, BuildResult],
) -> None:
    out = built["libanswer"].channel.parent
    again = build(RECIPES_SAMPLE / "libanswer", out)
    assert again.packages == built["libanswer"].packages
    assert again.wheels == built["libanswer"].wheels
    assert again.wheels[0].read_bytes() == built["libanswer"].wheels[0].read_bytes()


def test_a_recipe_that_fails_raises_with_the_tail_of_its_log(cache: Path, tmp_path: Path) -> None:
    recipe = failing_recipe(tmp_path / "broken")
    with pytest.raises(BuildFailedError, match=r"broken/recipe\.yaml failed to build") as caught:
        build(recipe, tmp_path / "out")
    assert any("expected a semicolon" in line for line in caught.value.log_tail)
    assert not (tmp_path / "out").exists()


def test_a_missing_recipe_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such recipe directory"):
        build(tmp_path / "nowhere", tmp_path / "out")


def test_an_empty_channel_is_a_channel(cache: Path, tmp_path: Path) -> None:
    """A valid channel with no packages yet (repodata.json and nothing else): the build
    solves from it, and the conversion reads it as a channel that provides nothing."""
    empty = tmp_path / "empty-channel"
    index_channel(empty)
    out = tmp_path / "out"
    result = build(RECIPES_SAMPLE / "libanswer", out, BuildOptions(channels=(empty.as_uri(),)))
    (wheel,) = result.wheels
    assert validate_wheel(wheel).name == "libanswer"
    assert sorted(p.name for p in out.iterdir()) == sorted(["conda", wheel.name])


@pytest.mark.parametrize("existing", [False, True])
def test_a_failed_conversion_leaves_no_half_result(
    cache: Path, tmp_path: Path, existing: bool
) -> None:
    """The recipe builds, then its package cannot convert: neither the channel nor a
    wheel nor a scratch folder is left in OUTDIR, which keeps what it held before."""
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "other-1.0-py3-none-any.whl").write_bytes(b"not ours")
    before = sorted(p.name for p in out.iterdir()) if existing else None
    with pytest.raises(BadInputError, match="not a valid"):
        build(RECIPES_SAMPLE / "libanswer", out, convert_options=ConvertOptions(version="1.0 !"))
    if existing:
        assert sorted(p.name for p in out.iterdir()) == before
    else:
        assert not out.exists()
