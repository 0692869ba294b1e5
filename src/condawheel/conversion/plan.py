"""Everything decided from `info/` alone, before a byte of the payload is read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from condawheel.conda.known import KnownPackages
from condawheel.conda.package import CondaPackage, NoarchType
from condawheel.conversion.dependencies import Dependencies, classify
from condawheel.conversion.layout import Layout, metadata_dir_name_version
from condawheel.conversion.mapping import load_mapping
from condawheel.conversion.metadata import DistributionId
from condawheel.conversion.names import NameResolver, load_name_map, valid_distribution_name
from condawheel.exceptions import BadInputError


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertOptions:
    """How to convert; the defaults are what a maintainer would want."""

    #: Conda prefixes, channels, folders or package files that describe dependencies.
    with_sources: tuple[Path, ...] = ()
    #: JSON file mapping conda names to PyPI names (null for native packages).
    name_map: Path | None = None
    #: A published mapping cached by `condawheel mapping update`, used after ``name_map``.
    mapping: Path | None = None
    #: Standard platform tags (`linux_x86_64`) instead of condawheel's conda tags.
    plain_tags: bool = False
    #: Wheel version to use when the conda version is not valid PEP 440.
    version: str | None = None
    #: Replace a wheel of the same name in the output directory.
    overwrite: bool = False
    #: A library that nothing provides is an error instead of a warning.
    strict: bool = False
    #: Threads deflating the wheel's members (None: the machine's cores). The wheel's
    #: bytes are the same for any number.
    threads: int | None = None
    #: Bundle the libraries the binaries need (from ``with_sources``) and tag the wheel
    #: for Pythons that are not conda's (manylinux, macOS, Windows).
    standalone: bool = False
    #: Warn when the bundled libraries add more bytes than this.
    max_size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    package: CondaPackage
    layout: Layout
    dist: DistributionId
    dependencies: Dependencies
    #: `{build_number}_{build_string}`: variants of one version do not collide.
    build_tag: str
    notes: tuple[str, ...] = ()
    #: What the user should know: a name or version the wheel could not keep as it is.
    warnings: tuple[str, ...] = ()


def make_plan(package: CondaPackage, options: ConvertOptions, known: KnownPackages) -> Plan:
    paths = list(package.paths or ())
    layout = Layout.for_package(package, paths)
    notes: list[str] = []
    warnings: list[str] = []
    name, version_text = _name_and_version(package, layout, notes, warnings)
    if options.version is not None:
        version_text = options.version
    version = _pep440(package, version_text, overridden=options.version is not None)
    if options.version is None:
        warnings.extend(_reinterpreted(version_text, version))
    python_package = (
        layout.metadata_dir is not None
        or package.noarch is NoarchType.PYTHON
        or any(layout.site_packages_relative(p) is not None for p in paths)
    )
    resolver = NameResolver(
        from_packages=known.names(),
        name_map=load_name_map(options.name_map) if options.name_map else {},
        downloaded=load_mapping(options.mapping) if options.mapping else {},
    )
    warnings.extend(_name_clashes(resolver, package.name, name))
    try:
        dependencies = classify(package.depends, resolver, python_package=python_package)
    except BadInputError as exc:
        raise BadInputError(
            f"{package.filename}: index.json depends: {exc}; the package is malformed"
        ) from None
    return Plan(
        package=package,
        layout=layout,
        dist=DistributionId(name=name, version=str(version)),
        dependencies=dependencies,
        build_tag=f"{package.build_number}_{package.build}".replace("-", "_"),
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def _name_and_version(
    package: CondaPackage, layout: Layout, notes: list[str], warnings: list[str]
) -> tuple[str, str]:
    if layout.metadata_dir:
        name, version = metadata_dir_name_version(layout.metadata_dir)
        notes.append(f"name and version from the package's {layout.metadata_dir}")
        return name, version or package.version
    name = valid_distribution_name(package.name)
    if name != package.name:
        # `_libgcc_mutex` and `libgcc_mutex` would be one project to pip.
        warnings.append(
            f"conda name {package.name!r} is not a valid Python distribution name; the "
            f"wheel is named {name!r}"
        )
    return name, package.version


def _name_clashes(resolver: NameResolver, conda_name: str, name: str) -> list[str]:
    return [
        f"the wheel is named {name!r}, the PyPI project that conda calls {other!r} "
        f"(according to {source.value}): installed, it would satisfy requirements on "
        f"{name!r} without providing that project"
        for other, source in resolver.claimed_by(name, conda_name)
    ]


def _reinterpreted(text: str, version: Version) -> list[str]:
    """A warning when PEP 440 reads the version as another kind of release than it
    looks: `2025b` is the pre-release 2025b0, `1.0_beta` is 1.0b0, `1.0-1` is 1.0.post1."""
    if str(version) == text.strip() or not (version.is_prerelease or version.is_postrelease):
        return []
    kind = (
        "a pre-release, which pip skips unless asked for (--pre)"
        if version.is_prerelease
        else "a post-release"
    )
    return [
        f"version {text!r} reads as {str(version)!r} in PEP 440, {kind}; pass --version "
        "to give the wheel another version"
    ]


def _pep440(package: CondaPackage, text: str, *, overridden: bool) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        if overridden:
            raise BadInputError(f"--version {text!r} is not a valid PEP 440 version") from None
        raise BadInputError(
            f"{package.filename}: version {text!r} is not a valid PEP 440 version, so no "
            "wheel can carry it; pass --version with the version the wheel should have"
        ) from None
