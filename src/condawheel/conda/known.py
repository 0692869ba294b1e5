"""Conda packages the user points at with ``--with``: what they hold and provide.

A source is a conda prefix (its `conda-meta/*.json` records), a local channel or a
folder of `.conda`/`.tar.bz2` files, or a single package file. Only `info/` is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from condawheel.conda.package import CondaPackage
from condawheel.conda.source import PackageSource, is_conda_package
from condawheel.exceptions import BadInputError, ConfigurationError

_DIST_INFO = re.compile(r"(?:^|/)site-packages/([^/]+)\.(dist-info|egg-info)(?:/|$)")


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownPackage:
    """One conda package record: enough to name it and to find what it provides."""

    name: str
    version: str
    build: str
    files: tuple[str, ...]
    run_exports: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""

    @property
    def pypi_name(self) -> str | None:
        """The Python distribution the package installs, from its dist-info's name."""
        for path in self.files:
            found = _DIST_INFO.search(path)
            if found:
                return _dist_name(found.group(1), found.group(2))
        return None


@dataclass(frozen=True, slots=True)
class KnownPackages:
    packages: tuple[KnownPackage, ...] = ()

    @classmethod
    def load(cls, sources: Iterable[Path]) -> KnownPackages:
        found: list[KnownPackage] = []
        for source in sources:
            found.extend(_load_source(source))
        return cls(tuple(found))

    def names(self) -> dict[str, str | None]:
        """conda name -> PyPI name (None for a package without Python metadata)."""
        return {p.name: p.pypi_name for p in self.packages}


def _load_source(source: Path) -> Iterator[KnownPackage]:
    if not source.exists():
        raise ConfigurationError(f"--with {source}: no such file or directory")
    if source.is_file():
        yield _from_archive(source)
    elif (source / "conda-meta").is_dir():
        yield from _from_prefix(source)
    else:
        archives = sorted(p for p in source.rglob("*") if p.is_file() and is_conda_package(p))
        if not archives and not _is_channel(source):
            raise ConfigurationError(
                f"--with {source}: neither a conda prefix (no conda-meta/) nor a folder "
                "or channel of .conda/.tar.bz2 packages"
            )
        for archive in archives:
            yield _from_archive(archive)


def _is_channel(folder: Path) -> bool:
    """An indexed channel, maybe still empty: a subdir with its ``repodata.json``."""
    return any(folder.glob("*/repodata.json"))


def _from_prefix(prefix: Path) -> Iterator[KnownPackage]:
    for record_path in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            yield KnownPackage(
                name=str(record["name"]),
                version=str(record["version"]),
                build=str(record.get("build", "")),
                files=tuple(str(f) for f in record.get("files", ())),
                run_exports=record.get("run_exports") or {},
                origin=str(record_path),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise BadInputError(
                f"--with {prefix}: {record_path.name} is not a valid conda-meta record"
            ) from None


def _from_archive(path: Path) -> KnownPackage:
    package = CondaPackage.from_info(path.name, PackageSource(path).read_info())
    return KnownPackage(
        name=package.name,
        version=package.version,
        build=package.build,
        files=tuple(package.paths or ()),
        run_exports=package.run_exports,
        origin=str(path),
    )


def _dist_name(stem: str, kind: str) -> str:
    if kind == "egg-info":
        stem = re.sub(r"-py\d+(\.\d+)?$", "", stem)
    return stem.rpartition("-")[0] or stem
