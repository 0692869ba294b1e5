"""Build a ``recipe.yaml`` with rattler-build, through its Python package py-rattler-build.

rattler-build writes its work directories (``bld/``, ``src_cache/``) next to the packages
it produces, so it builds into a scratch directory; only the packages are published to
the output channel. The scratch directory, with the host environments that the
conversion reads, lives as long as the ``build_with_rattler`` context.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from condawheel.building.rattler_errors import explain
from condawheel.building.recipes import BuildFailedError, BuildOptions, BuiltPackages, Recipe

LogCallback = Callable[[str], None]

DEFAULT_CHANNELS = ("conda-forge",)  # rattler-build's own default
LOG_TAIL = 25


class _Relay:
    """py-rattler-build's progress callback: every log line to ``on_log``, the tail kept."""

    def __init__(self, on_log: LogCallback) -> None:
        self._on_log = on_log
        self.tail: deque[str] = deque(maxlen=LOG_TAIL)

    def _line(self, line: str) -> None:
        self.tail.append(line)
        self._on_log(line)

    def on_download_start(self, event: Any) -> None:
        self._line(f"downloading {event.url}")

    def on_download_progress(self, event: Any) -> None:
        pass

    def on_download_complete(self, event: Any) -> None:
        pass

    def on_build_step(self, event: Any) -> None:
        self._line(f"[{event.step_name}] {event.message}")

    def on_log(self, event: Any) -> None:
        for line in str(event.message).splitlines():
            self._line(line if event.level == "info" else f"{event.level}: {line}")


@contextmanager
def build_with_rattler(
    recipe: Recipe,
    channel: Path,
    options: BuildOptions,
    *,
    on_log: LogCallback,
    run_tests: bool = True,
) -> Iterator[BuiltPackages]:
    """Build ``recipe`` and yield its packages, still in the scratch directory.

    ``channel`` (the output channel, when it has been indexed) comes first among the
    channels, so a recipe finds what earlier builds published there.
    """
    from rattler_build import (
        PlatformConfig,
        RattlerBuildError,
        RenderConfig,
        Stage0Recipe,
        ToolConfiguration,
    )

    own = [channel.resolve().as_uri()] if _indexed(channel) else []
    channels = list(dict.fromkeys([*own, *(options.channels or DEFAULT_CHANNELS)]))
    scratch = Path(tempfile.mkdtemp(prefix="condawheel-build-"))
    relay = _Relay(on_log)
    try:
        try:
            results = Stage0Recipe.from_file(recipe.path).run_build(
                variant_config=_variant_config(recipe, options),
                tool_config=ToolConfiguration(
                    keep_build=True, test_strategy="native" if run_tests else "skip"
                ),
                render_config=RenderConfig(
                    platform=PlatformConfig(target_platform=options.target_platform)
                ),
                output_dir=scratch,
                channels=channels,
                progress_callback=relay,
                no_build_id=True,
            )
        except RattlerBuildError as exc:
            line = explain(
                str(exc) or type(exc).__name__,
                recipe=recipe.path,
                channels=channels,
                variant_keys=options.variants,
                log=[*getattr(exc, "log", ()), *relay.tail],
            )
            raise BuildFailedError(line, relay.tail) from None
        packages = tuple(path for result in results for path in result.packages)
        yield BuiltPackages(packages=packages, host_prefixes=_host_prefixes(scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _indexed(channel: Path) -> bool:
    return (channel / "noarch" / "repodata.json").is_file()


def _variant_config(recipe: Recipe, options: BuildOptions) -> Any:
    """``variants.yaml`` beside the recipe (as the rattler-build CLI reads it), then the
    given variant files, then the ``KEY=VALUE`` overrides."""
    from rattler_build import VariantConfig, VariantError

    beside = recipe.directory / "variants.yaml"
    files: list[str | Path] = [*([beside] if beside.is_file() else []), *options.variant_files]
    try:
        config = VariantConfig.from_files(files) if files else VariantConfig()
    except VariantError as exc:
        names = ", ".join(map(str, files))
        raise BuildFailedError(f"cannot read the variant configuration ({names}): {exc}") from None
    if options.variants:
        config = config.merge(VariantConfig({k: list(v) for k, v in options.variants.items()}))
    return config


def _host_prefixes(scratch: Path) -> tuple[Path, ...]:
    bld = scratch / "bld"
    return tuple(sorted(p for p in bld.glob("*/host_env*") if (p / "conda-meta").is_dir()))
