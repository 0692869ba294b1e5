"""`build()`: a conda recipe in, its conda packages and their wheels out."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from condawheel.building.conda_build import build_with_conda_build
from condawheel.building.rattler_build import build_with_rattler
from condawheel.building.recipes import BuildOptions, Recipe, publish_to_channel
from condawheel.conda.cache import local_path
from condawheel.conda.known import KnownPackages
from condawheel.conversion.core import ConvertResult, convert
from condawheel.conversion.plan import ConvertOptions
from condawheel.defaults import CHANNEL_DIR
from condawheel.wheel.writer import ensure_output_dir

LogCallback = Callable[[str], None]


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

    All or nothing: the wheels are written to a scratch folder inside ``out_dir`` and
    moved in, with the packages, only once every package has converted.
    """
    options = options or BuildOptions()
    convert_options = convert_options or ConvertOptions()
    recipe = Recipe.find(recipe_path)
    channel = out_dir / CHANNEL_DIR
    runner = build_with_rattler if recipe.tool == "rattler-build" else build_with_conda_build
    with (
        runner(
            recipe, channel, options, on_log=on_log or (lambda _line: None), run_tests=run_tests
        ) as built,
        _scratch(out_dir) as scratch,
    ):
        sources = (
            *convert_options.with_sources,
            *built.packages,
            *([channel] if (channel / "noarch" / "repodata.json").is_file() else []),
            *built.host_prefixes,
            *_local_channels(options.channels),
        )
        convert_options = replace(convert_options, with_sources=sources, overwrite=True)
        known = KnownPackages.load(sources)
        staged = [
            convert(package, scratch, convert_options, known=known) for package in built.packages
        ]
        packages = publish_to_channel(built.packages, channel)
        conversions = tuple(
            _move_in(result, package, out_dir)
            for result, package in zip(staged, packages, strict=True)
        )
    return BuildResult(recipe=recipe, channel=channel, packages=packages, conversions=conversions)


@contextlib.contextmanager
def _scratch(out_dir: Path) -> Iterator[Path]:
    """A folder inside ``out_dir`` (so that moving out of it is a rename), removed at the
    end, with ``out_dir`` itself when this made it and nothing was moved in."""
    made = not out_dir.exists()
    ensure_output_dir(out_dir)
    scratch = Path(tempfile.mkdtemp(prefix=".condawheel-build-", dir=out_dir))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if made:
            with contextlib.suppress(OSError):  # not empty: the build's results are in
                out_dir.rmdir()


def _move_in(result: ConvertResult, package: Path, out_dir: Path) -> ConvertResult:
    wheel = out_dir / result.wheel.name
    result.wheel.replace(wheel)  # a wheel of an earlier build of the recipe is replaced
    return replace(result, input=package, wheel=wheel)


def _local_channels(channels: tuple[str, ...]) -> tuple[Path, ...]:
    """The ``file://`` channels that exist here: their packages describe dependencies."""
    paths = (local_path(url) for url in channels if url.startswith("file:"))
    return tuple(path for path in paths if path.is_dir())
