"""Where each file of a conda package goes in the wheel (design section 1)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from packaging.utils import canonicalize_name

from condawheel.conda.package import CondaPackage, NoarchType

_UNIX_SITE = re.compile(r"^lib/python\d+\.\d+t?/site-packages/")
_METADATA_DIR = re.compile(r"^([^/]+)\.(dist-info|egg-info)(?:/|$)")
_WHEEL_DATA_DIR = re.compile(r"[^/]+-[^/]+\.data/")


class Scheme(enum.Enum):
    ROOT = "root"
    SCRIPTS = "scripts"
    DATA = "data"
    #: A file of the package's own `.dist-info` / `.egg-info`: the basis of the wheel's.
    METADATA = "metadata"
    #: Another distribution's `.dist-info` (a wheel holds exactly one), or bytecode.
    DROP = "drop"


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    scheme: Scheme
    #: Path inside the scheme (for METADATA: inside the metadata directory).
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """Maps package paths to wheel destinations for one package."""

    noarch: NoarchType
    windows: bool
    #: Name of the metadata directory that is the basis (inside site-packages), if any.
    metadata_dir: str | None

    @classmethod
    def for_package(cls, package: CondaPackage, paths: Iterable[str]) -> Layout:
        layout = cls(noarch=package.noarch, windows=package.is_windows, metadata_dir=None)
        return cls(
            noarch=layout.noarch,
            windows=layout.windows,
            metadata_dir=choose_metadata_dir(package.name, layout.metadata_dirs(paths)),
        )

    def site_packages_relative(self, path: str) -> str | None:
        """The path relative to site-packages, or None if the file is not under it."""
        if self.noarch is NoarchType.PYTHON:
            prefix = "site-packages/"
            return path.removeprefix(prefix) if path.startswith(prefix) else None
        if self.windows:
            prefix = "Lib/site-packages/"
            return path[len(prefix) :] if path.lower().startswith(prefix.lower()) else None
        found = _UNIX_SITE.match(path)
        return path[found.end() :] if found else None

    def metadata_dirs(self, paths: Iterable[str]) -> list[str]:
        dirs = set()
        for path in paths:
            rel = self.site_packages_relative(path)
            found = _METADATA_DIR.match(rel) if rel else None
            if found:
                dirs.add(f"{found.group(1)}.{found.group(2)}")
        return sorted(dirs)

    def destination(self, path: str) -> Destination:
        rel = self.site_packages_relative(path)
        if rel is not None:
            found = _METADATA_DIR.match(rel)
            if found and self.metadata_dir == f"{found.group(1)}.{found.group(2)}":
                return Destination(scheme=Scheme.METADATA, path=rel[found.end() :])
            if found and (found.group(2) == "dist-info" or self._same_distribution(found.group(0))):
                return Destination(scheme=Scheme.DROP, path=rel)
            if "__pycache__/" in rel:  # installers compile their own bytecode
                return Destination(scheme=Scheme.DROP, path=rel)
            if is_wheel_data_path(rel):
                return Destination(scheme=Scheme.DROP, path=rel)
            return Destination(scheme=Scheme.ROOT, path=rel)
        scripts_dir = self._scripts_dir()
        parent = str(PurePosixPath(path).parent)
        if parent == scripts_dir or (self.windows and parent.lower() == scripts_dir.lower()):
            return Destination(scheme=Scheme.SCRIPTS, path=PurePosixPath(path).name)
        return Destination(scheme=Scheme.DATA, path=path)

    def _same_distribution(self, directory: str) -> bool:
        """An egg-info left beside the dist-info of the same distribution."""
        if not self.metadata_dir:
            return False
        kept, _ = metadata_dir_name_version(self.metadata_dir)
        other, _ = metadata_dir_name_version(directory.rstrip("/"))
        return canonicalize_name(kept) == canonicalize_name(other)

    def _scripts_dir(self) -> str:
        if self.noarch is NoarchType.PYTHON:
            return "python-scripts"
        return "Scripts" if self.windows else "bin"


def is_wheel_data_path(rel: str) -> bool:
    """Whether a site-packages path lies in a `<dist>-<version>.data` folder: at the
    wheel root it would be the wheel's own data, its scripts installed as scripts."""
    return _WHEEL_DATA_DIR.match(rel) is not None


def choose_metadata_dir(conda_name: str, dirs: list[str]) -> str | None:
    """The package's own metadata directory: a `.dist-info` before an `.egg-info`,
    and the one named like the conda package when there are several."""
    if not dirs:
        return None
    wanted = canonicalize_name(conda_name)

    def rank(directory: str) -> tuple[int, int, str]:
        stem, _, kind = directory.rpartition(".")
        name = re.sub(r"-py\d+(\.\d+)?$", "", stem).rpartition("-")[0] or stem
        return (kind != "dist-info", canonicalize_name(name) != wanted, directory)

    return min(dirs, key=rank)


def metadata_dir_name_version(directory: str) -> tuple[str, str]:
    """(name, version) from `name-version.dist-info` or `Name-version-py3.9.egg-info`."""
    stem, _, kind = directory.rpartition(".")
    if kind == "egg-info":
        stem = re.sub(r"-py\d+(\.\d+)?$", "", stem)
    name, dash, version = stem.rpartition("-")
    return (name, version) if dash else (stem, "")
