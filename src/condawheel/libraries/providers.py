"""Which conda package provides a shared library (design section 5).

A :class:`LibraryIndex` is built from the conda records given with ``--with`` and
answers "who ships ``libz.so.1``?" by file name, the way the dynamic loader finds a
library in the environment: unix libraries directly under ``lib/`` (where the search
path we write points), Windows DLLs in ``Library/bin/``, ``DLLs/`` and the prefix root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.conda.specs import ParsedSpec, external_requirement, parse_spec
from condawheel.exceptions import BadInputError

# libz.so, libz.so.1, libz.so.1.3.1, libz.1.dylib; not libz.a, not libz.so.1.3.1-gdb.py.
_UNIX_LIBRARY = re.compile(r"\.so(?:\.[0-9A-Za-z_]+)*$|\.dylib$")
_WINDOWS_DIRS = ("library/bin", "dlls", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    """A library file that a known conda package installs."""

    package: KnownPackage
    #: The file's path in the prefix: ``lib/libz.so.1``, ``Library/bin/zlib.dll``.
    path: str

    @property
    def basename(self) -> str:
        return self.path.rpartition("/")[2]


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryIndex:
    """Library file names of known conda packages, each with every package that ships it."""

    #: :func:`library_key` -> providers, preferred first.
    libraries: Mapping[str, tuple[Provider, ...]] = field(default_factory=dict)

    @classmethod
    def from_known(cls, known: KnownPackages) -> LibraryIndex:
        return cls.from_packages(known.packages)

    @classmethod
    def from_packages(cls, packages: Iterable[KnownPackage]) -> LibraryIndex:
        found: dict[str, list[Provider]] = {}
        seen: set[tuple[str, str]] = set()
        for package in packages:
            for path in library_files(package.files):
                key = library_key(path)
                # The same package from two sources (a prefix and its channel) once.
                if (key, package.name) in seen:
                    continue
                seen.add((key, package.name))
                found.setdefault(key, []).append(Provider(package=package, path=path))
        # A stable sort: among packages of one name, the first source given wins.
        return cls(
            libraries={
                key: tuple(sorted(providers, key=lambda p: _preference(p.package.name)))
                for key, providers in found.items()
            }
        )

    def find(self, name: str) -> Provider | None:
        """The preferred provider of ``name``: a DT_NEEDED entry (``libz.so.1``), a
        Mach-O install name (``@rpath/libz.1.dylib``, ``/abs/libz.1.dylib``) or a DLL
        name (any case). Packages whose name does not start with ``_`` come first,
        then by name."""
        providers = self.providers_of(name)
        return providers[0] if providers else None

    def providers_of(self, name: str) -> tuple[Provider, ...]:
        """Every known package that ships ``name``, preferred first."""
        return self.libraries.get(library_key(name), ())

    def linked_name(self, name: str) -> str:
        """The name binaries should link a library by, for a copy named ``name``.

        Vendoring tools name a copy after the file a SONAME points to
        (``libz.so.1.3.1``, ``libz.1.3.1.dylib``); binaries should name the shortest
        versioned alias that a known package ships (``libz.so.1``, ``libz.1.dylib``),
        which is the SONAME / install name, so a newer patch release still satisfies
        them. The alias may come from another package: conda-forge's
        ``libgomp.so.1`` is ``_openmp_mutex``'s link to ``libgomp``'s file.
        """
        base = name.replace("\\", "/").rpartition("/")[2]
        for candidate in _versioned_prefixes(base):
            if candidate in self.libraries:
                return candidate
        found = self.find(base)  # a DLL as the package spells it
        return found.basename if found else base

    def __len__(self) -> int:
        return len(self.libraries)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.libraries))


def library_files(files: Iterable[str]) -> Iterator[str]:
    """The files of a conda package that the dynamic loader would find in a prefix."""
    for raw in files:
        path = raw.replace("\\", "/")
        folder, _, base = path.rpartition("/")
        if base.lower().endswith(".dll"):
            if folder.lower() in _WINDOWS_DIRS:
                yield path
        elif folder == "lib" and _UNIX_LIBRARY.search(base):
            yield path


def library_key(name: str) -> str:
    """How a library is looked up: its base name, case-folded for DLLs."""
    base = name.replace("\\", "/").rpartition("/")[2]
    return base.lower() if base.lower().endswith(".dll") else base


def _versioned_prefixes(name: str) -> list[str]:
    """``libz.so.1.3.1`` -> ``libz.so.1``, ``libz.so.1.3``, ``libz.so.1.3.1``, and
    ``libz.1.3.1.dylib`` likewise; nothing for a name without a version."""
    if ".so." in name:
        stem, _, version = name.partition(".so.")
        parts = version.split(".")
        return [f"{stem}.so.{'.'.join(parts[:end])}" for end in range(1, len(parts) + 1)]
    if name.endswith(".dylib"):
        parts = name.removesuffix(".dylib").split(".")
        digits = [all(p.isdigit() for p in parts[i:]) for i in range(len(parts))]
        first = next((i for i in range(1, len(parts)) if digits[i]), None)
        if first is not None:
            stem = ".".join(parts[:first])
            ends = range(first + 1, len(parts) + 1)
            return [f"{stem}.{'.'.join(parts[first:end])}.dylib" for end in ends]
    return []


def _preference(name: str) -> tuple[bool, str]:
    # `_openmp_mutex` and friends are metapackages that also ship a copy.
    return (name.startswith("_"), name)


def requirement_for(package: KnownPackage) -> str:
    """The ``Requires-External`` line that makes ``package`` a dependency.

    The package's own ``run_exports`` pin when it has one, else
    ``>=installed,<next major``, spelled exactly as convert spells a translated
    conda dependency.
    """
    spec = _run_export(package)
    if spec is None:
        try:
            spec = parse_spec(f"{package.name} {_default_pin(package.version)}")
        except BadInputError:
            return package.name
    return external_requirement(spec)


def _run_export(package: KnownPackage) -> ParsedSpec | None:
    for entry in _run_export_entries(package.run_exports):
        try:
            spec = parse_spec(entry)
        except BadInputError:
            continue
        if spec.name == package.name:
            return spec
    return None


def _run_export_entries(run_exports: Mapping[str, Any] | Iterable[Any]) -> Iterator[str]:
    if isinstance(run_exports, Mapping):
        # weak is what a dependent normally gets; strong is the same pin, stronger.
        # (noarch and the *_constrains lists pin something else.)
        for key in ("weak", "strong"):
            yield from _run_export_entries(run_exports.get(key) or ())
    elif not isinstance(run_exports, str | bytes):
        yield from (entry for entry in run_exports if isinstance(entry, str))


def _default_pin(version: str) -> str:
    try:
        parsed = Version(version)
    except InvalidVersion:
        # PEP 440 cannot bound it; `==` is dropped by the translation if it cannot
        # be expressed either, leaving the bare name.
        return f"=={version}"
    epoch = f"{parsed.epoch}!" if parsed.epoch else ""
    return f">={version},<{epoch}{parsed.release[0] + 1}.0a0"
