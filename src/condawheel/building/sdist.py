"""A source distribution of a project built from a conda recipe: the project as it is,
recipe included, plus PKG-INFO from its ``[project]`` table (PEP 621, via
pyproject-metadata), in a reproducible ``{name}-{version}.tar.gz`` (PEP 625)."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from condawheel.atomic import atomic_output
from condawheel.exceptions import ConfigurationError

#: Folders and files that are never sources: VCS data, environments, build outputs.
EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
     "output", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
)  # fmt: skip
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".whl", ".conda", ".tar.bz2", ".egg-info")


def write_sdist(project: Path, pyproject: Mapping[str, Any], out_dir: Path) -> Path:
    """Write the sdist of ``project`` into ``out_dir`` and return its path.

    Timestamps are SOURCE_DATE_EPOCH when set, else the newest file's, so the same tree
    gives the same bytes. The archive is written to a temporary name and renamed.
    """
    from pyproject_metadata import ConfigurationError as MetadataError
    from pyproject_metadata import StandardMetadata

    try:
        metadata = StandardMetadata.from_pyproject(pyproject, project, metadata_version="2.4")
    except MetadataError as exc:
        raise ConfigurationError(f"{project / 'pyproject.toml'}: {exc}") from None
    if metadata.version is None:
        raise ConfigurationError(
            f"{project / 'pyproject.toml'}: [project] needs a static version for the sdist"
        )
    stem = f"{metadata.canonical_name.replace('-', '_')}-{metadata.version}"
    files = sorted(_sources(project))
    mtime = _timestamp(project, files)
    target = out_dir / f"{stem}.tar.gz"
    with (
        atomic_output(target) as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        _add(tar, f"{stem}/PKG-INFO", bytes(metadata.as_rfc822()), 0o644, mtime)
        for relative in files:
            path = project / relative
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            _add(tar, f"{stem}/{relative}", path.read_bytes(), mode, mtime)
    return target


def _sources(project: Path) -> Iterator[str]:
    for root, dirs, names in os.walk(project):
        dirs[:] = [d for d in dirs if d not in EXCLUDED_DIRS and not d.endswith(".egg-info")]
        for name in names:
            path = Path(root) / name
            if name.endswith(EXCLUDED_SUFFIXES) or path.is_symlink() or name == "PKG-INFO":
                continue
            yield path.relative_to(project).as_posix()


def _timestamp(project: Path, files: list[str]) -> int:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    return max((int((project / f).stat().st_mtime) for f in files), default=0)


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))
