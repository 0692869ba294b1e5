"""`build()`: a conda recipe in, its conda packages and their wheels out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from condawheel.archive_cache import local_path
from condawheel.condabuild_runner import build_with_conda_build
from condawheel.convert import ConvertResult, convert
from condawheel.defaults import CHANNEL_DIR
from condawheel.known import KnownPackages
from condawheel.plan import ConvertOptions
from condawheel.rattler_runner import build_with_rattler
from condawheel.recipes import BuildOptions, Recipe, publish_to_channel

LogCallback = Callable[[str], None]

#: Where, under the output directory, the built conda packages go.


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """The recipe built, its packages in the output channel, and their conversions."""

    recipe: Recipe
    channel: Path
    packages: tuple[Path, ...]
    conversions: tuple[ConvertResult, ...]

    @property
    def wheels(self) -> tuple[Path, ...]:
        return tuple(result.wheel for result in self.conversions)


def build(
    recipe_path: Path,
    out_dir: Path,
    options: BuildOptions | None = None,
    convert_options: ConvertOptions | None = None,
    *,
    on_log: LogCallback | None = None,
    run_tests: bool = True,
) -> BuildResult:
    """Build the recipe at ``recipe_path``, publish its packages to ``out_dir/conda``
    and convert each of them into a wheel in ``out_dir``.

    ``recipe.yaml`` is built with rattler-build, ``meta.yaml`` with the conda-build on
    PATH. The conversions know the packages of the output channel, of the build's host
    environment and of the local channels among ``options.channels``, so that linked
    libraries are declared and vendored copies removed. Wheels of a previous build of the
    same recipe are replaced. Raises BuildFailedError (with the log's tail) or the
    errors of ``convert``.
    """
    options = options or BuildOptions()
    convert_options = convert_options or ConvertOptions()
    recipe = Recipe.find(recipe_path)
    channel = out_dir / CHANNEL_DIR
    runner = build_with_rattler if recipe.tool == "rattler-build" else build_with_conda_build
    with runner(
        recipe, channel, options, on_log=on_log or (lambda _line: None), run_tests=run_tests
    ) as built:
        packages = publish_to_channel(built.packages, channel)
        sources = (
            *convert_options.with_sources,
            channel,
            *built.host_prefixes,
            *_local_channels(options.channels),
        )
        convert_options = replace(convert_options, with_sources=sources, overwrite=True)
        known = KnownPackages.load(sources)
        conversions = tuple(
            convert(package, out_dir, convert_options, known=known) for package in packages
        )
    return BuildResult(recipe=recipe, channel=channel, packages=packages, conversions=conversions)


def _local_channels(channels: tuple[str, ...]) -> tuple[Path, ...]:
    """The ``file://`` channels that exist here: their packages describe dependencies."""
    paths = (local_path(url) for url in channels if url.startswith("file:"))
    return tuple(path for path in paths if path.is_dir())
