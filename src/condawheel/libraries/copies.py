"""Copies of conda-provided libraries, taken out of their providers for bundling.

A provider is a file in a conda prefix (a ``conda-meta`` record's package) or a member
of a package archive in a channel, cache or folder. The copy is streamed into a scratch
folder, hashed as it goes, and read as a binary there; a symlink (``libz.so.1`` ->
``libz.so.1.3.1``, or ``_openmp_mutex``'s ``libgomp.so.1`` into ``libgomp``) is
followed to the file, in its package or in another known one, never out of the prefix.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from condawheel.binaries.model import BinaryInfo, BinaryReadError
from condawheel.binaries.read import read_binary
from condawheel.conda.known import KnownPackage
from condawheel.conda.package import CondaPackage
from condawheel.conda.source import MemberKind, PackageSource
from condawheel.exceptions import BadInputError
from condawheel.libraries.providers import LibraryIndex, Provider
from condawheel.streams import Readable, spool

_MAX_LINKS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedLibrary:
    """A library file copied out of its provider into the scratch folder."""

    #: The provider of the file itself, its symlinks followed.
    provider: Provider
    path: Path
    sha256: str
    size: int
    info: BinaryInfo
    #: Other packages whose links led to the file (``_openmp_mutex``'s ``libgomp.so.1``).
    via: tuple[Provider, ...] = ()

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package the copy stands for: the file's, then the links'."""
        names = (self.provider.package.name, *(p.package.name for p in self.via))
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageLicence:
    """What a bundled package's licence is, and its licence files."""

    name: str
    #: The package's ``license`` (SPDX where the recipe says so), if any.
    expression: str | None
    #: Licence files by path relative to the package's ``info/licenses/``.
    files: dict[str, bytes] = field(default_factory=dict)


class LibraryFetcher:
    """Copies libraries out of their providers into ``scratch``, each once."""

    def __init__(self, scratch: Path, index: LibraryIndex) -> None:
        self._scratch = scratch
        self._index = index
        self._fetched: dict[tuple[str, str], FetchedLibrary] = {}
        self._spooled = 0

    def fetch(self, provider: Provider) -> FetchedLibrary:
        """The copy of ``provider``'s file, its symlinks followed."""
        key = (provider.package.origin, provider.path)
        if key not in self._fetched:
            self._fetched[key] = self._fetch(provider, provider, ())
        return self._fetched[key]

    def _fetch(
        self, wanted: Provider, provider: Provider, via: tuple[Provider, ...]
    ) -> FetchedLibrary:
        if len(via) > _MAX_LINKS:
            raise BadInputError(
                f"{_label(wanted)}: {wanted.path} is a chain of more than {_MAX_LINKS} "
                "symlinks; the package is malformed"
            )
        origin = Path(provider.package.origin)
        target = (
            self._from_prefix(provider, origin)
            if origin.suffix == ".json"
            else self._from_archive(provider, origin)
        )
        if isinstance(target, str):
            target_provider = self._link_target(wanted, provider, target)
            return self._fetch(wanted, target_provider, (*via, provider))
        path, digest, size = target
        with path.open("rb") as stream:
            try:
                info = read_binary(stream)
            except BinaryReadError as exc:
                raise BadInputError(f"{_label(provider)}: {provider.path}: {exc}") from None
        others = tuple(p for p in via if p.package is not provider.package)
        return FetchedLibrary(
            provider=provider, path=path, sha256=digest, size=size, info=info, via=others
        )

    def _link_target(self, wanted: Provider, provider: Provider, target: str) -> Provider:
        """The provider of a symlink's target: the same package, else any known one."""
        folder = posixpath.dirname(provider.path)
        resolved = posixpath.normpath(posixpath.join(folder, target))
        if resolved.startswith("../") or posixpath.isabs(resolved):
            raise BadInputError(
                f"{_label(provider)}: {provider.path} links to {target}, out of the prefix; "
                "the package is malformed"
            )
        if resolved in provider.package.files:
            return Provider(package=provider.package, path=resolved)
        for other in self._index.providers_of(resolved):
            if other.path == resolved:
                return other
        raise BadInputError(
            f"{wanted.path} ({_label(wanted)}) is a link to {resolved}, which no package "
            "given with --with holds; pass --with the environment or channel that has it"
        )

    def _from_archive(self, provider: Provider, archive: Path) -> tuple[Path, str, int] | str:
        for member in PackageSource(archive).members():
            if member.path != provider.path:
                continue
            if member.kind is MemberKind.SYMLINK:
                return member.link_target or ""
            if member.kind is MemberKind.HARDLINK:
                return posixpath.relpath(member.link_target or "", posixpath.dirname(member.path))
            if member.stream is None:
                break
            return self._spool(member.stream)
        raise BadInputError(
            f"{archive.name}: lists {provider.path} but does not hold it; the package is damaged"
        )

    def _from_prefix(self, provider: Provider, record: Path) -> tuple[Path, str, int] | str:
        prefix = record.parent.parent
        path = prefix / provider.path
        if path.is_symlink():
            return str(path.readlink())
        if not path.is_file():
            raise BadInputError(
                f"{prefix}: {record.name} lists {provider.path}, which is missing; repair "
                "the environment (reinstall the package)"
            )
        with path.open("rb") as stream:
            return self._spool(stream)

    def _spool(self, stream: Readable) -> tuple[Path, str, int]:
        # The copy keeps a neutral name: the layout gives it its own when it is placed.
        self._scratch.mkdir(parents=True, exist_ok=True)
        self._spooled += 1
        path = self._scratch / f"copy-{self._spooled}"
        digest, size = spool(stream, path)
        return path, digest, size


def package_licence(package: KnownPackage) -> PackageLicence:
    """The licence of a known package: from its archive's ``info/``, or from a prefix's
    record and the extracted package it was installed from."""
    origin = Path(package.origin)
    if origin.suffix != ".json":
        model = CondaPackage.from_info(origin.name, PackageSource(origin).read_info())
        own = dict(model.licenses)
        return PackageLicence(name=package.name, expression=model.license, files=own)
    try:
        record = json.loads(origin.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BadInputError(f"{origin}: not a valid conda-meta record") from None
    licence = record.get("license")
    files: dict[str, bytes] = {}
    extracted = record.get("extracted_package_dir")
    folder = Path(str(extracted)) / "info" / "licenses" if extracted else None
    if folder is not None and folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return PackageLicence(
        name=package.name, expression=str(licence) if licence else None, files=files
    )


def _label(provider: Provider) -> str:
    return Path(provider.package.origin).name
