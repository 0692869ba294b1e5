"""Bundling (design section 5b): what a standalone wheel copies in, and how it is wired.

De-vendoring run backwards. Every library the wheel's binaries need, apart from what
the target platform guarantees, is copied from its conda provider into the wheel,
transitively (a copy's own needs are bundled too), under a name that cannot clash
with a system copy; the binaries are rewired to load the copies. On Linux the target
is the most portable manylinux policy the result satisfies, copies included: where
the binaries need symbol versions of a whitelisted runtime (conda-forge's newer
``libstdc++``, ``libgcc_s``) newer than a policy allows, the runtime is bundled too,
and only glibc's own libraries, which cannot be bundled, can rule a policy out.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from condawheel.binaries.model import BinaryFormat, BinaryInfo
from condawheel.binaries.patcher import BinaryEdits
from condawheel.exceptions import BadInputError
from condawheel.libraries.copies import (
    FetchedLibrary,
    LibraryFetcher,
    PackageLicence,
    package_licence,
)
from condawheel.libraries.devendor import installed_path
from condawheel.libraries.layout import BundleLayout
from condawheel.libraries.manylinux import GLIBC_LIBRARIES, ManylinuxPolicy, policies, version_key
from condawheel.libraries.platform import is_interpreter_library, standalone_provides
from condawheel.libraries.providers import LibraryIndex, library_key

# Licences whose terms follow the code into a wheel that bundles it.
_COPYLEFT = re.compile(r"(?<![A-Za-z])(?:A|L)?GPL|MPL|EPL|EUPL|CDDL|OSL|CC-BY-SA", re.IGNORECASE)
#: How a search-path entry says "the folder of this binary", by the formats that have one.
_ORIGINS = {
    BinaryFormat.ELF: ("$ORIGIN", "${ORIGIN}"),
    BinaryFormat.MACHO: ("@loader_path",),
}
#: Where the wheel root installs, relative to the data root (its depth is what counts).
_SITE = "lib/python3/site-packages"


@dataclass(frozen=True, slots=True, kw_only=True)
class BundledLibrary:
    """One library copied into the wheel."""

    #: The name binaries link it by (``libz.so.1``).
    name: str
    #: Where the copy goes in the wheel (``foo.libs/libz-1a2b3c4d.so.1``).
    wheel_path: str
    copy: FetchedLibrary
    #: Why it is bundled: the binary that needs it, or the symbol versions that
    #: rule out the system's copy.
    reason: str

    @property
    def package(self) -> str:
        return self.copy.provider.package.name


@dataclass(frozen=True, slots=True, kw_only=True)
class BundlePlan:
    """What to copy in and edit; ``edits`` are keyed by wheel path (copies included)."""

    libraries: tuple[BundledLibrary, ...]
    edits: BinaryEdits
    #: The manylinux policy the result satisfies (Linux only).
    policy: ManylinuxPolicy | None = None
    #: Why the policy is that one, for ``inspect``.
    why: str = ""
    warnings: tuple[str, ...] = ()
    #: Wheel binaries that install outside site-packages and so keep their needs as
    #: they are.
    unwired: tuple[str, ...] = field(default=())

    @property
    def packages(self) -> tuple[str, ...]:
        """The conda packages whose libraries (or links to them) are bundled, sorted."""
        return tuple(sorted({name for lib in self.libraries for name in lib.copy.packages}))

    @property
    def size(self) -> int:
        return sum(library.copy.size for library in self.libraries)


class _Unsatisfiable(Exception):
    """A policy the binaries cannot meet, and why (one line)."""


@dataclass(slots=True)
class _Closure:
    """The libraries bundled for one target, by linked name, and what stays the system's."""

    bundled: dict[str, BundledLibrary] = field(default_factory=dict)
    system: dict[str, set[str]] = field(default_factory=dict)


def plan_bundle(
    binaries: Mapping[str, BinaryInfo],
    *,
    index: LibraryIndex,
    fetcher: LibraryFetcher,
    layout: BundleLayout,
    dist: str,
    arch: str = "",
    max_size: int | None = None,
) -> BundlePlan:
    """Decide what to bundle into the wheel whose binaries are ``binaries`` (wheel
    path -> facts), for ``layout``'s platform; ``dist`` is the normalised distribution
    name, ``arch`` the wheel architecture (Linux: which policies apply). Raises
    BadInputError when a needed library has no provider, or no policy fits."""
    folder = layout.folder(dist)
    if layout.platform == "linux":
        policy, closure, why = _choose_policy(binaries, index, fetcher, layout, folder, arch)
    else:
        platform = layout.platform
        closure = _close(binaries, index, fetcher, layout, folder, _system_on(platform))
        policy, why = None, f"only {platform} system libraries are left to the system"
    libraries = tuple(sorted(closure.bundled.values(), key=lambda lib: lib.wheel_path))
    edits, unwired = _wire(binaries, libraries, layout)
    return BundlePlan(
        libraries=libraries,
        edits=edits,
        policy=policy,
        why=why,
        warnings=_warnings(libraries, max_size, unwired),
        unwired=unwired,
    )


def _choose_policy(
    binaries: Mapping[str, BinaryInfo],
    index: LibraryIndex,
    fetcher: LibraryFetcher,
    layout: BundleLayout,
    folder: str,
    arch: str,
) -> tuple[ManylinuxPolicy, _Closure, str]:
    """The most portable policy that bundling can meet, and what it takes."""
    reasons: list[str] = []
    for policy in policies(arch):
        try:
            closure = _close_for(policy, binaries, index, fetcher, layout, folder)
        except _Unsatisfiable as exc:
            reasons.append(str(exc))
            continue
        why = "every library it loads from the system is in the policy, at versions it allows"
        if reasons:
            why = f"the first policy it satisfies (not older ones: {reasons[-1]})"
        return policy, closure, why
    raise BadInputError(
        f"no manylinux policy fits: {reasons[-1]}; build against an older glibc, or leave "
        "out --standalone"
    )


def _close_for(
    policy: ManylinuxPolicy,
    binaries: Mapping[str, BinaryInfo],
    index: LibraryIndex,
    fetcher: LibraryFetcher,
    layout: BundleLayout,
    folder: str,
) -> _Closure:
    """The closure for ``policy``: whitelisted runtimes whose needed versions it lacks
    are bundled as well, until every library left to the system is within it."""
    forced: set[str] = set()
    while True:

        def system(name: str, forced: frozenset[str] = frozenset(forced)) -> bool:
            return name in GLIBC_LIBRARIES or (name in policy.whitelist and name not in forced)

        closure = _close(binaries, index, fetcher, layout, folder, system)
        newly: set[str] = set()
        for name, versions in sorted(closure.system.items()):
            too_new = policy.too_new(versions)
            if not too_new:
                continue
            if name in GLIBC_LIBRARIES or not index.providers_of(name):
                raise _Unsatisfiable(
                    f"{policy.name} lacks {too_new[-1]} of {name}"
                    + ("" if name in GLIBC_LIBRARIES else ", and no --with source provides it")
                )
            newly.add(name)
        if not newly:
            for name in forced:
                library = closure.bundled[name]
                needs = sorted(policy.too_new(_needs_of(binaries, closure, name)), key=version_key)
                reason = f"{policy.name} lacks {', '.join(needs)}" if needs else library.reason
                closure.bundled[name] = BundledLibrary(
                    name=name, wheel_path=library.wheel_path, copy=library.copy, reason=reason
                )
            return closure
        forced |= newly


def _needs_of(binaries: Mapping[str, BinaryInfo], closure: _Closure, name: str) -> set[str]:
    """Every symbol version of library ``name`` that a wheel binary or a copy needs."""
    infos = [*binaries.values(), *(lib.copy.info for lib in closure.bundled.values())]
    return {version for info in infos for lib, version in info.version_needs if lib == name}


def _system_on(platform: str) -> Callable[[str], bool]:
    return lambda name: standalone_provides(name, platform) is not None


def _close(
    binaries: Mapping[str, BinaryInfo],
    index: LibraryIndex,
    fetcher: LibraryFetcher,
    layout: BundleLayout,
    folder: str,
    system: Callable[[str], bool],
) -> _Closure:
    """Bundle what each binary needs that neither the wheel nor the system has, then
    what the copies need, and so on."""
    closure = _Closure()
    inside = _names_inside(binaries)
    todo: list[tuple[str, BinaryInfo]] = sorted(binaries.items())
    while todo:
        path, info = todo.pop(0)
        versions: dict[str, set[str]] = {}
        for library, version in info.version_needs:
            versions.setdefault(library, set()).add(version)
        for needed in info.needed:
            key = library_key(needed)
            bundled = _bundled_key(needed, info)
            if key in inside or bundled in closure.bundled or is_interpreter_library(needed):
                continue
            if system(needed):
                closure.system.setdefault(needed, set()).update(versions.get(needed, ()))
                continue
            provider = index.find(needed)
            if provider is None:
                raise BadInputError(
                    f"{path} needs {needed}, which no package given with --with provides "
                    f"and the {layout.platform} target does not guarantee; pass --with the "
                    "environment or channel that has it"
                )
            copy = fetcher.fetch(provider)
            wheel_path = f"{folder}/{layout.copy_name(posixpath.basename(needed), copy.sha256)}"
            closure.bundled[bundled] = BundledLibrary(
                name=needed, wheel_path=wheel_path, copy=copy, reason=f"needed by {path}"
            )
            todo.append((wheel_path, copy.info))
    return closure


def _bundled_key(name: str, info: BinaryInfo) -> str:
    """What a needed name is bundled under: Windows matches DLL names whatever their
    case, so ``MID.DLL`` and ``mid.dll`` are one copy."""
    return name.lower() if info.format is BinaryFormat.PE else name


def _names_inside(binaries: Mapping[str, BinaryInfo]) -> frozenset[str]:
    """The names under which the wheel's own libraries are loaded."""
    names = set()
    for path, info in binaries.items():
        names.add(library_key(path))
        if info.soname:
            names.add(library_key(info.soname))
    return frozenset(names)


def _wire(
    binaries: Mapping[str, BinaryInfo], libraries: tuple[BundledLibrary, ...], layout: BundleLayout
) -> tuple[BinaryEdits, tuple[str, ...]]:
    """The edits that name each copy and make every binary load the copies it needs."""
    edits = BinaryEdits()
    by_key = {
        _bundled_key(library.name, library.copy.info): library.wheel_path for library in libraries
    }
    unwired: list[str] = []
    targets = [*sorted(binaries.items()), *((lib.wheel_path, lib.copy.info) for lib in libraries)]
    copies = {library.wheel_path for library in libraries}
    for library in libraries:
        layout.name_copy(edits, library.wheel_path)
    for path, info in targets:
        keys = {needed: _bundled_key(needed, info) for needed in info.needed}
        needs = {needed: by_key[key] for needed, key in keys.items() if key in by_key}
        if needs and path.partition("/")[0].endswith(".data") and path not in copies:
            unwired.append(path)  # installs outside site-packages: no fixed way to the copies
            needs = {}
        if info.format in _ORIGINS:
            # A copy searches only its own folder; a wheel binary keeps the entries
            # that stay inside the wheel, and the layout adds the way to the copies
            # (on macOS by @loader_path names, so no LC_RPATH is needed for them).
            kept = () if path in copies else _kept_search_path(path, info, binaries)
            if needs or kept != (*info.rpath, *info.runpath):
                edits.set_search_path(path, kept)
        if needs:
            layout.wire(edits, path, needs)
    return edits, tuple(unwired)


def _kept_search_path(
    path: str, info: BinaryInfo, binaries: Mapping[str, BinaryInfo]
) -> tuple[str, ...]:
    """The relative entries of ``path``'s search path that reach a folder of the wheel
    holding a binary, where the wheel installs (``{dist}.data/data/lib/`` lands in the
    environment's ``lib/``, three levels above site-packages on every POSIX scheme):
    the rest is the conda environment's, absent from a standalone install, or the build
    machine's."""
    place = {p: installed_path(p, _SITE) for p in binaries}
    folders = {posixpath.dirname(installed) for installed in place.values()}
    kept = []
    for entry in (*info.rpath, *info.runpath):
        for origin in _ORIGINS[info.format]:
            if entry == origin or entry.startswith(f"{origin}/"):
                rest = entry[len(origin) + 1 :]
                target = posixpath.normpath(posixpath.join(posixpath.dirname(place[path]), rest))
                if target in folders:
                    kept.append(entry)
    return tuple(dict.fromkeys(kept))


def _warnings(
    libraries: tuple[BundledLibrary, ...], max_size: int | None, unwired: tuple[str, ...]
) -> tuple[str, ...]:
    found: list[str] = []
    for path in unwired:
        found.append(
            f"{path} installs outside site-packages, so it cannot be pointed at the bundled "
            "libraries; it keeps loading them by their own names"
        )
    size = sum(library.copy.size for library in libraries)
    if max_size is not None and size > max_size:
        found.append(
            f"the bundled libraries add {size} bytes to the wheel, more than --max-size {max_size}"
        )
    return tuple(found)


def copyleft_warning(package: str, expression: str | None) -> str | None:
    """The warning for a bundled package under a copyleft licence, or None."""
    if not expression or not _COPYLEFT.search(expression):
        return None
    linking = " WITH " in expression
    exception = " (with an exception for linking, which may apply)" if linking else ""
    return (
        f"bundles {package}, licensed {expression}{exception}: copyleft terms may bind "
        "whoever distributes this wheel"
    )


def bundle_licences(plan: BundlePlan) -> tuple[tuple[PackageLicence, ...], tuple[str, ...]]:
    """The licence of each bundled package, and a warning for each copyleft one."""
    packages = {
        provider.package.name: provider.package
        for lib in plan.libraries
        for provider in (lib.copy.provider, *lib.copy.via)
    }
    licences = tuple(package_licence(packages[name]) for name in sorted(packages))
    warnings = (copyleft_warning(licence.name, licence.expression) for licence in licences)
    return licences, tuple(warning for warning in warnings if warning)
