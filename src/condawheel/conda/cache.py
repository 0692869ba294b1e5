"""Conda package archives in a local cache, each checked against its channel's index.

The cache is ``CACHE/pkgs/<sha256>/<file name>``: the archive as the channel serves it,
under its own name, so that ``.conda`` and ``.tar.bz2`` are read as such. An archive is
written to a temporary file and renamed only once its hash matched, so a file in the
cache is one that was verified. http(s) downloads go through py-rattler's client
(retries, stored logins, proxies); ``file://`` packages are copied.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlparse
from urllib.request import url2pathname

from rattler.networking.client import Client
from rattler.package_streaming import download_to_writer

from condawheel.conda import coroutines as rattler_run
from condawheel.exceptions import BadInputError, ConfigurationError

log = logging.getLogger(__name__)

_CONCURRENT_DOWNLOADS = 8
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPackage:
    """One package of a solution, as the channel's index describes it."""

    name: str
    version: str
    build: str
    subdir: str
    url: str
    file_name: str
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Solution:
    """The solved packages: those the specs name, and their dependencies."""

    subdir: str
    requested: tuple[ChannelPackage, ...]
    dependencies: tuple[ChannelPackage, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """Package files in the cache: to convert, and the dependencies they were solved with."""

    requested: tuple[Path, ...]
    dependencies: tuple[Path, ...]
    downloaded: tuple[str, ...]  # the URLs this call downloaded; the rest came from the cache


@dataclass(frozen=True, slots=True)
class ArchiveCache:
    """Package archives, verified, under ``root/pkgs``."""

    root: Path

    def path(self, package: ChannelPackage) -> Path:
        key = package.sha256 or package.md5 or hashlib.sha256(package.url.encode()).hexdigest()
        return self.root / "pkgs" / key / package.file_name

    def holds(self, package: ChannelPackage) -> bool:
        path = self.path(package)
        # Only verified archives are renamed into place; the size guards against a
        # file someone else truncated.
        return path.is_file() and package.size in (None, path.stat().st_size)

    def missing(self, solution: Solution) -> tuple[ChannelPackage, ...]:
        """The packages of ``solution`` that `fetch` would download."""
        return tuple(p for p in (*solution.requested, *solution.dependencies) if not self.holds(p))

    def fetch(
        self, solution: Solution, *, on_progress: Callable[[int], None] | None = None
    ) -> Fetched:
        """Every package of ``solution`` as a file in the cache, downloading what is missing.

        ``on_progress`` is called with the number of bytes downloaded so far.
        """
        missing = self.missing(solution)
        if missing:
            rattler_run.run(self._download_all(missing, _Meter(on_progress)))
        return Fetched(
            requested=tuple(self.path(p) for p in solution.requested),
            dependencies=tuple(self.path(p) for p in solution.dependencies),
            downloaded=tuple(p.url for p in missing),
        )

    async def _download_all(self, packages: Sequence[ChannelPackage], meter: _Meter) -> None:

        client = Client.default_client()
        limit = asyncio.Semaphore(_CONCURRENT_DOWNLOADS)
        try:
            async with asyncio.TaskGroup() as group:
                for package in packages:
                    group.create_task(self._download(package, client, limit, meter))
        except ExceptionGroup as errors:
            raise errors.exceptions[0] from None

    async def _download(
        self, package: ChannelPackage, client: Client, limit: asyncio.Semaphore, meter: _Meter
    ) -> None:

        target = self.path(package)
        async with limit:
            log.info("downloading %s", package.url)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(prefix=f".{package.file_name}.", dir=target.parent)
            except OSError as exc:
                raise ConfigurationError(f"cannot write to the cache {self.root}: {exc}") from None
            temporary = Path(name)
            try:
                with os.fdopen(fd, "wb") as out:
                    sink = _Sink(out, meter, package)
                    if package.url.startswith("file:"):
                        try:
                            await asyncio.to_thread(_copy, local_path(package.url), sink)
                        except OSError as exc:
                            raise BadInputError(
                                f"cannot read {package.url}: {exc.strerror}; "
                                "is the channel's index up to date?"
                            ) from None
                    else:
                        try:
                            await download_to_writer(client, package.url, sink)
                        except (OSError, RuntimeError) as exc:
                            raise BadInputError(
                                f"cannot download {package.url}: {_first_line(exc)}; "
                                "check the network connection and retry"
                            ) from None
                sink.verify(package)
                temporary.replace(target)
            finally:
                temporary.unlink(missing_ok=True)


class _Meter:
    """Bytes downloaded so far, from several downloads (on rattler's threads too)."""

    def __init__(self, on_progress: Callable[[int], None] | None) -> None:
        self._on_progress = on_progress
        self._done = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self._done += n
            if self._on_progress is not None:
                self._on_progress(self._done)


class _Sink:
    """A writer that hashes what it writes, for `download_to_writer` and local copies."""

    def __init__(self, out: IO[bytes], meter: _Meter, package: ChannelPackage) -> None:
        self._out, self._meter, self._package = out, meter, package
        self._sha256, self._md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        self._size = 0

    def write(self, data: bytes) -> None:
        limit = self._package.size
        if limit is not None and self._size + len(data) > limit:
            # A server that sends more than the index says is not to fill the disk.
            raise BadInputError(
                f"{self._package.url}: more than the {limit} bytes the channel's index "
                "gives; the index is stale or the server is wrong: re-index the channel"
            )
        self._out.write(data)
        self._sha256.update(data)
        self._md5.update(data)  # for an old index without sha256; cheap beside the I/O
        self._size += len(data)
        self._meter.add(len(data))

    def verify(self, package: ChannelPackage) -> None:
        """Raise unless what was written is what the channel's index describes."""
        if package.sha256:
            kind, expected, actual = "sha256", package.sha256, self._sha256.hexdigest()
        elif package.md5:
            kind, expected, actual = "md5", package.md5, self._md5.hexdigest()
        else:
            kind, expected, actual = "size", str(package.size), str(self._size)
        if package.size is None and kind == "size":
            return
        if actual != expected:
            raise BadInputError(
                f"{package.url}: {kind} {actual} does not match the channel's index "
                f"({expected}); the download was corrupted or the index is stale: retry, "
                "or re-index the channel"
            )


def _copy(source: Path, sink: _Sink) -> None:
    with source.open("rb") as file:
        while chunk := file.read(_CHUNK):
            sink.write(chunk)


def local_path(url: str) -> Path:
    """The local path of a ``file://`` URL."""
    return Path(url2pathname(urlparse(url).path))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
