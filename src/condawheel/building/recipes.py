"""Conda recipes and the local channel that builds publish into.

A recipe directory holds ``recipe.yaml`` (rattler-build) or ``meta.yaml`` (conda-build).
What a build produced is copied into ``OUTDIR/conda/<subdir>/`` and the channel is
indexed again, so that a later build can use it with ``--channel file://OUTDIR/conda``.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from condawheel.atomic import atomic_output
from condawheel.conda import coroutines as rattler_run
from condawheel.exceptions import BadInputError, ConfigurationError

Tool = Literal["rattler-build", "conda-build"]

_RECIPE_FILES: tuple[tuple[str, Tool], ...] = (
    ("recipe.yaml", "rattler-build"),
    ("meta.yaml", "conda-build"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """A recipe file and the tool that builds it."""

    path: Path
    tool: Tool

    @property
    def directory(self) -> Path:
        return self.path.parent

    @classmethod
    def find(cls, path: Path) -> Recipe:
        """The recipe at ``path``: a recipe file, or a directory holding one.

        A directory with both files is built by rattler-build, the default tool.
        """
        path = path.resolve()
        if path.is_file():
            for name, tool in _RECIPE_FILES:
                if path.name == name:
                    return cls(path=path, tool=tool)
            raise BadInputError(f"{path}: not a recipe; name recipe.yaml or meta.yaml")
        if path.is_dir():
            for name, tool in _RECIPE_FILES:
                if (path / name).is_file():
                    return cls(path=path / name, tool=tool)
            raise BadInputError(
                f"{path}: no recipe.yaml (rattler-build) or meta.yaml (conda-build) in it"
            )
        raise BadInputError(f"{path}: no such recipe directory")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOptions:
    """How to build: channels to solve from, variant overrides, the target subdir."""

    channels: tuple[str, ...] = ()
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    variant_files: tuple[Path, ...] = ()
    target_platform: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltPackages:
    """What one recipe build produced, in the output channel.

    ``host_prefixes`` are the build's host environments (with their ``conda-meta``
    records): they say who provides each library the packages link. They live in a
    scratch directory that is removed once the build's context ends.
    """

    packages: tuple[Path, ...]
    host_prefixes: tuple[Path, ...] = ()


class BuildFailedError(BadInputError):
    """The recipe did not build; ``log_tail`` holds the last lines of its log."""

    def __init__(self, message: str, log_tail: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.log_tail = tuple(log_tail)


def build_options(
    config: Mapping[str, Any],
    *,
    channels: Sequence[str] = (),
    variants: Iterable[str] = (),
    variant_files: Sequence[Path] = (),
    target_platform: str | None = None,
    base_variants: Mapping[str, tuple[str, ...]] | None = None,
) -> BuildOptions:
    """The options of one build: what was given (flags, PEP 517 config settings) over
    ``[tool.condawheel]`` (``config``), over ``base_variants``. ``variants`` are
    ``KEY=VALUE`` items; channels become URLs as rattler takes them."""
    from condawheel.conda.fetch import channel_url  # py-rattler, only when a build is set up

    merged = dict(base_variants or {})
    for key, value in config["variants"].items():
        merged[key] = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
    merged.update(parse_variants(variants))
    return BuildOptions(
        channels=tuple(channel_url(c) for c in (channels or config["channels"])),
        variants=merged,
        variant_files=tuple(variant_files),
        target_platform=target_platform or config["target-platform"] or None,
    )


def parse_variants(items: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``KEY=VALUE`` pairs; a key given twice builds both values, as a variant list."""
    variants: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"--variant {item!r}: write KEY=VALUE, e.g. python=3.12")
        variants.setdefault(key.strip(), []).append(value.strip())
    return {key: tuple(values) for key, values in variants.items()}


def publish_to_channel(packages: Iterable[Path], channel: Path) -> tuple[Path, ...]:
    """Copy ``packages`` (each in a ``<subdir>/`` folder) into ``channel`` and index it.

    Each copy is written to a temporary name and renamed, so the channel never holds a
    partial package. Returns the packages' paths in the channel.
    """
    published = []
    for package in packages:
        target_dir = channel / package.parent.name
        with atomic_output(target_dir / package.name) as out, package.open("rb") as source:
            shutil.copyfileobj(source, out)
        published.append(target_dir / package.name)
    index_channel(channel)
    return tuple(published)


def index_channel(channel: Path) -> None:
    """Write ``repodata.json`` for every subdir of the local ``channel``, as conda-index does."""
    from rattler.index import index_fs

    (channel / "noarch").mkdir(parents=True, exist_ok=True)  # a channel always has noarch/
    rattler_run.run(index_fs(channel, write_zst=False, write_shards=False, force=True))
    with contextlib.suppress(OSError):  # the indexer's scratch folder, when left empty
        (channel / ".tmp").rmdir()
