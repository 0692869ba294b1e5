"""A channel's builds, read from its index and checked, one at a time in a stable order.

The index of each subdir (``repodata.json``) is fetched by py-rattler into the cache
(``CACHE/repodata``; a second run asks the server whether it changed) and read as
``SparseRepoData``: the file is mapped, and the records of one package name are parsed
at a time, so memory does not grow with the number of builds. A build offered both as
``.conda`` and ``.tar.bz2`` is taken once, as ``.conda``.

A server's answers are hostile: a record with wrong types, an invalid name or a file
name that is not a plain ``.conda``/``.tar.bz2`` name (``../x.conda``) makes the whole
index an error before anything is converted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rattler import Channel, PackageFormatSelection, PackageName, Subdir
from rattler import fetch_repo_data as rattler_fetch_repo_data
from rattler.exceptions import (
    FetchRepoDataError,
    InvalidPackageNameError,
    InvalidVersionError,
    ParseSubdirError,
)

from condawheel.conda import coroutines as rattler_run
from condawheel.conda.cache import ChannelPackage
from condawheel.conda.fetch import rattler_line
from condawheel.exceptions import BadInputError, ConfigurationError

#: A package file name as channels name them: no folder, no leading dot.
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!-]*\.(?:conda|tar\.bz2)\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_FORMATS = PackageFormatSelection.PREFER_CONDA


def build_key(build: ChannelPackage) -> str:
    """``subdir/file name``: how a build is named in reports and in the mirror's state."""
    return f"{build.subdir}/{build.file_name}"


def default_subdirs() -> tuple[str, ...]:
    """This machine's subdir and noarch."""
    return (str(Subdir.current()), "noarch")


def check_subdirs(subdirs: Sequence[str]) -> tuple[str, ...]:
    """The subdirs given, checked and without repeats, in a stable order."""
    for subdir in subdirs:
        try:
            Subdir(subdir)
        except ParseSubdirError:
            raise ConfigurationError(
                f"--subdir {subdir}: not a conda subdir (linux-64, osx-arm64, noarch, ...)"
            ) from None
    return tuple(sorted(set(subdirs)))


class ChannelIndex:
    """The indexes of a channel's subdirs, fetched into the cache; a context manager
    that releases the mapped files."""

    def __init__(
        self, base_url: str, subdirs: Sequence[str], cache_dir: Path, *, optional: bool = False
    ) -> None:
        """``optional``: a subdir the channel does not have is left out rather than an
        error (for the default subdirs: a channel may hold noarch alone)."""
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self._stack = ExitStack()
        self._indexes: list[tuple[str, Any]] = []
        fetched = _fetch_all(self.base_url, subdirs, cache_dir)
        for subdir in subdirs:
            sparse = fetched.get(subdir) or _fetch(
                self.base_url, subdir, cache_dir, optional=optional
            )
            if sparse is not None:
                self._stack.callback(sparse.close)
                self._indexes.append((subdir, sparse))

    def __enter__(self) -> ChannelIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def subdirs(self) -> tuple[str, ...]:
        return tuple(subdir for subdir, _ in self._indexes)

    def file_names(self, subdir: str, name: str) -> set[str]:
        """The file names the channel lists for package ``name`` in ``subdir`` (as
        `builds` gives them; an invalid name has none)."""
        for mine, sparse in self._indexes:
            if mine == subdir:
                try:
                    return {
                        str(r.file_name) for r in sparse.load_records(PackageName(name), _FORMATS)
                    }
                except (OSError, ValueError, InvalidPackageNameError, InvalidVersionError):
                    return set()
        return set()

    def builds(self) -> Iterator[ChannelPackage]:
        """Every build, by subdir, package name and file name; raises BadInputError at
        the first record that is not valid."""
        for subdir, sparse in self._indexes:
            where = f"{self.base_url}{subdir}/repodata.json"
            try:
                names = sorted(sparse.package_names(_FORMATS))
            except (OSError, ValueError) as exc:
                raise _broken(where, rattler_line(str(exc))) from None
            for name in names:
                yield from self._records(where, subdir, sparse, name)

    def _records(self, where: str, subdir: str, sparse: Any, name: str) -> Iterator[ChannelPackage]:
        try:
            records = sparse.load_records(PackageName(name), _FORMATS)
            builds = [_build(record, self.base_url, subdir) for record in records]
        except (OSError, ValueError, InvalidPackageNameError, InvalidVersionError) as exc:
            raise _broken(where, rattler_line(str(exc))) from None
        except _BadRecord as exc:
            raise _broken(where, str(exc)) from None
        yield from sorted(builds, key=lambda build: build.file_name)


class _BadRecord(Exception):
    pass


def _build(record: Any, base_url: str, subdir: str) -> ChannelPackage:
    file_name = str(record.file_name)
    if not _FILE_NAME.match(file_name):
        raise _BadRecord(f"{file_name!r} is not the file name of a conda package")
    sha256 = record.sha256.hex() if record.sha256 else None
    if sha256 is not None and not _SHA256.match(sha256):
        raise _BadRecord(f"{file_name}: sha256 {sha256!r} is not a sha256")
    size = record.size
    if size is not None and (not isinstance(size, int) or size < 0):
        raise _BadRecord(f"{file_name}: size {size!r} is not a size")
    return ChannelPackage(
        name=record.name.normalized,
        version=str(record.version),
        build=str(record.build),
        subdir=subdir,
        # The URL is made here from the channel and the checked name, whatever the
        # record says, so a download never leaves the channel's subdir.
        url=f"{base_url}{subdir}/{file_name}",
        file_name=file_name,
        sha256=sha256,
        md5=record.md5.hex() if record.md5 else None,
        size=size,
    )


def _fetch_all(base_url: str, subdirs: Sequence[str], cache_dir: Path) -> dict[str, Any]:
    """Every subdir's index in one call (each call of py-rattler costs a pause), or none
    when any of them fails: `_fetch` then tells which, and why."""
    try:
        found = rattler_run.run(
            rattler_fetch_repo_data(
                channels=[Channel(base_url)],
                platforms=[Subdir(subdir) for subdir in subdirs],
                cache_path=cache_dir / "repodata",
                callback=None,
            )
        )
    except (FetchRepoDataError, OSError, ValueError):
        return {}
    return {str(sparse.subdir): sparse for sparse in found}


def _fetch(base_url: str, subdir: str, cache_dir: Path, *, optional: bool) -> Any:
    where = f"{base_url}{subdir}/repodata.json"
    try:
        (sparse,) = rattler_run.run(
            rattler_fetch_repo_data(
                channels=[Channel(base_url)],
                platforms=[Subdir(subdir)],
                cache_path=cache_dir / "repodata",
                callback=None,
            )
        )
    except FetchRepoDataError as exc:
        message = rattler_line(str(exc))
        if optional and message.startswith("repodata not found"):
            return None
        raise BadInputError(
            f"cannot read {where}: {message}; check the channel's URL, --subdir and the "
            "network connection"
        ) from None
    except (OSError, ValueError) as exc:
        raise _broken(where, rattler_line(str(exc))) from None
    return sparse


def _broken(where: str, detail: str) -> BadInputError:
    return BadInputError(
        f"{where}: {detail}; the channel's index is not valid: re-index the channel, or "
        "tell whoever serves it"
    )
