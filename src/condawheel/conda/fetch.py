"""Conda packages by match spec: solved from channels with py-rattler, downloaded into a cache.

`solve` asks py-rattler which packages satisfy the specs for one subdir (and noarch);
`ArchiveCache.fetch` (in ``archive_cache``) puts each package archive in the cache and
returns the files, which `convert` reads like any other package. The packages the specs
name are the ones to convert; the rest of the solution are their dependencies, which the
conversion needs to know about (like ``--with``). py-rattler's repodata cache is
``CACHE/repodata/``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rattler import (
    BuildString,
    Channel,
    ChannelConfig,
    Gateway,
    GenericVirtualPackage,
    MatchSpec,
    PackageName,
    Subdir,
    Version,
    VirtualPackage,
    VirtualPackageOverrides,
)
from rattler import solve as rattler_solve
from rattler.exceptions import (
    DetectVirtualPackageError,
    FetchRepoDataError,
    GatewayError,
    InvalidChannelError,
    InvalidMatchSpecError,
    InvalidVersionError,
    ParseSubdirError,
    SolverError,
    VirtualPackageOverrideError,
)

from condawheel.conda import coroutines as rattler_run
from condawheel.conda.cache import (
    ArchiveCache,
    ChannelPackage,
    Fetched,
    Solution,
    local_path,
)
from condawheel.defaults import DEFAULT_GLIBC, DEFAULT_LINUX, DEFAULT_MACOS
from condawheel.exceptions import BadInputError, ConfigurationError

log = logging.getLogger(__name__)


_CONCURRENT_DOWNLOADS = 8
_CHUNK = 1 << 20
_TREE = re.compile(r"^[\s│├└─]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchRequest:
    """What to solve, from where, for which subdir (None: this machine's)."""

    specs: tuple[str, ...]
    channels: tuple[str, ...]
    subdir: str | None = None
    cache_dir: Path


def fetch(request: FetchRequest, on_progress: Callable[[int], None] | None = None) -> Fetched:
    """Solve ``request`` and put every package of the solution in the cache."""
    solution = solve(request)
    return ArchiveCache(request.cache_dir).fetch(solution, on_progress=on_progress)


def channel_url(channel: str) -> str:
    """The base URL of a channel given as a name (``conda-forge``), a URL or a path.

    A bare name is a channel on anaconda.org, as in conda, unless it is a folder here
    that holds a channel (``noarch/repodata.json``).
    """

    if "://" not in channel and (Path(channel) / "noarch" / "repodata.json").is_file():
        return Path(channel).resolve().as_uri() + "/"
    try:
        url = str(Channel(channel, ChannelConfig(root_dir=str(Path.cwd()))).base_url)
    except InvalidChannelError as exc:
        raise ConfigurationError(f"--channel {channel}: {rattler_line(str(exc))}") from None
    if url.startswith("file:") and not local_path(url).is_dir():
        raise ConfigurationError(f"--channel {channel}: no such directory {local_path(url)}")
    return url


def solve(request: FetchRequest) -> Solution:
    """The packages that satisfy ``request.specs`` from ``request.channels``."""

    try:
        subdir = Subdir(request.subdir) if request.subdir else Subdir.current()
    except ParseSubdirError:
        raise ConfigurationError(
            f"--subdir {request.subdir}: not a conda subdir (linux-64, osx-arm64, win-64, ...)"
        ) from None
    if str(subdir) == "noarch":
        raise ConfigurationError("--subdir noarch: give a platform; noarch is always included")
    names: list[str] = []
    for spec in request.specs:
        try:
            matcher = MatchSpec(spec).name
        except InvalidMatchSpecError as exc:
            raise BadInputError(f"--spec {spec!r}: {rattler_line(str(exc))}") from None
        name = matcher.as_package_name() if matcher is not None else None
        if name is None:
            raise BadInputError(f"--spec {spec!r}: name the package to convert exactly")
        names.append(name.normalized)
    urls = [channel_url(channel) for channel in request.channels]
    where = f"{', '.join(urls)} ({subdir} and noarch)"
    try:
        records = rattler_run.run(
            rattler_solve(
                sources=[Channel(url) for url in urls],
                specs=list(request.specs),
                gateway=Gateway(cache_dir=request.cache_dir / "repodata"),
                platforms=[subdir, Subdir("noarch")],
                virtual_packages=virtual_packages(str(subdir)),
            )
        )
    except SolverError as exc:
        specs = ", ".join(repr(spec) for spec in request.specs)
        raise BadInputError(
            f"cannot solve {specs} from {where}: {rattler_line(str(exc))}"
        ) from None
    except (GatewayError, FetchRepoDataError) as exc:
        raise BadInputError(
            f"cannot read the channel index from {where}: {rattler_line(str(exc))}; "
            "check --channel and the network connection"
        ) from None
    packages = sorted((_package(record) for record in records), key=lambda p: p.name)
    by_name = {package.name: package for package in packages}
    for spec, wanted in zip(request.specs, names, strict=True):
        if wanted not in by_name:
            reason = (
                f"{wanted} is a virtual package, there is nothing to convert"
                if wanted.startswith("__")
                else f"the solution has no package named {wanted}"
            )
            raise BadInputError(f"--spec {spec!r}: {reason}")
    return Solution(
        subdir=str(subdir),
        requested=tuple(p for p in packages if p.name in names),
        dependencies=tuple(p for p in packages if p.name not in names),
    )


def virtual_packages(subdir: str) -> list[Any]:
    """This machine's virtual packages for its own subdir, else those of a typical one.

    Both honour conda's ``CONDA_OVERRIDE_GLIBC``, ``CONDA_OVERRIDE_OSX`` and
    ``CONDA_OVERRIDE_CUDA``.
    """

    if subdir == str(Subdir.current()):
        try:
            return list(VirtualPackage.detect(VirtualPackageOverrides.from_env()))
        except (DetectVirtualPackageError, VirtualPackageOverrideError) as exc:
            raise ConfigurationError(f"this machine's virtual packages: {exc}") from None
    found: list[Any] = []
    for name, version, build in assumed_virtual_packages(subdir, os.environ):
        try:
            parsed = Version(version)
        except InvalidVersionError:
            raise ConfigurationError(
                f"{name} {version!r} is not a version: check the CONDA_OVERRIDE_* variables"
            ) from None
        found.append(GenericVirtualPackage(PackageName(name), parsed, BuildString(build)))
    return found


def assumed_virtual_packages(
    subdir: str, environ: Mapping[str, str]
) -> tuple[tuple[str, str, str], ...]:
    """``(name, version, build)`` of the virtual packages assumed for a machine of ``subdir``.

    A Linux machine has kernel 4.18 and glibc 2.28, a Mac macOS 13.0 (pixi's defaults),
    replaced by ``CONDA_OVERRIDE_LINUX``, ``CONDA_OVERRIDE_GLIBC``, ``CONDA_OVERRIDE_OSX``;
    there is a GPU only when ``CONDA_OVERRIDE_CUDA`` says so. ``__archspec`` is the
    subdir's generic architecture (x86_64, arm64...), not a particular CPU.
    """

    platform = Subdir(subdir)
    system = subdir.partition("-")[0]
    found: list[tuple[str, str, str]] = []
    if platform.is_unix:
        found.append(("__unix", "0", "0"))
    if system == "linux":
        found.append(("__linux", environ.get("CONDA_OVERRIDE_LINUX") or DEFAULT_LINUX, "0"))
        found.append(("__glibc", environ.get("CONDA_OVERRIDE_GLIBC") or DEFAULT_GLIBC, "0"))
    elif system == "osx":
        found.append(("__osx", environ.get("CONDA_OVERRIDE_OSX") or DEFAULT_MACOS, "0"))
    elif system == "win":
        found.append(("__win", "0", "0"))
    if environ.get("CONDA_OVERRIDE_CUDA"):
        found.append(("__cuda", environ["CONDA_OVERRIDE_CUDA"], "0"))
    if platform.arch is not None:
        found.append(("__archspec", "1", str(platform.arch)))
    return tuple(found)


def _package(record: Any) -> ChannelPackage:
    return ChannelPackage(
        name=record.name.normalized,
        version=str(record.version),
        build=str(record.build),
        subdir=record.subdir,
        url=record.url,
        file_name=record.file_name,
        sha256=record.sha256.hex() if record.sha256 else None,
        md5=record.md5.hex() if record.md5 else None,
        size=record.size,
    )


def rattler_line(message: str, limit: int = 400) -> str:
    """rattler's multi-line explanations (solver trees, error chains) on one line."""
    message = message.replace("\nCaused by: ", ": ")
    message = message.removeprefix("Cannot solve the request because of: ")
    text = " ".join(_TREE.sub("", line).strip() for line in message.splitlines()).strip()
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
